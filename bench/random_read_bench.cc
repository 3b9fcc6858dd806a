// What one random read of a large in-memory text costs on this machine: the
// cost model behind the exact-dedup merge (query/exact_dedup.cc), which reads
// each suffix's k-prefix at a random text position. Reads N random offsets
// of an anonymous buffer (transparent huge pages unless --no-thp), with a
// software prefetch D reads ahead as the merge does, and reports ns per read
// for: the first 8 bytes (one line), 8 bytes at +0 and +64 (two lines), a
// 128-byte copy, and the same after sorting the offsets in blocks (the
// "gather in address order" idea). Single thread; run two at once to see
// the shared-memory cost.
//
//   random_read_bench [--mib 4096] [--reads 40000000] [--ahead 16] [--no-thp]
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

enum class Read { kOneLine, kTwoLines, kCopy128 };

const char* Name(Read r) {
  switch (r) {
    case Read::kOneLine: return "8 B (1 line)";
    case Read::kTwoLines: return "8 B at +0, +64 (2 lines)";
    case Read::kCopy128: return "128 B copy";
  }
  return "?";
}

double Run(const uint8_t* text, const std::vector<uint64_t>& offs, uint64_t ahead, Read r, uint64_t* sink) {
  alignas(64) uint8_t slot[128];
  const uint64_t n = offs.size();
  uint64_t sum = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    if (i + ahead < n) {
      const uint8_t* p = text + offs[i + ahead];
      __builtin_prefetch(p);
      if (r != Read::kOneLine) __builtin_prefetch(p + 64);
      if (r == Read::kCopy128) __builtin_prefetch(p + 127);
    }
    const uint8_t* p = text + offs[i];
    uint64_t v;
    switch (r) {
      case Read::kOneLine:
        std::memcpy(&v, p, 8);
        sum += v;
        break;
      case Read::kTwoLines:
        std::memcpy(&v, p, 8);
        sum += v;
        std::memcpy(&v, p + 64, 8);
        sum += v;
        break;
      case Read::kCopy128:
        std::memcpy(slot, p, 128);
        sum += slot[i & 127];
        break;
    }
  }
  *sink += sum;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * 1e9 / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t mib = 4096, reads = 40'000'000, ahead = 16;
  bool thp = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> uint64_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "random_read_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::strtoull(argv[++i], nullptr, 10);
    };
    if (a == "--mib") {
      mib = next();
    } else if (a == "--reads") {
      reads = next();
    } else if (a == "--ahead") {
      ahead = next();
    } else if (a == "--no-thp") {
      thp = false;
    } else {
      std::fprintf(stderr, "usage: random_read_bench [--mib N] [--reads N] [--ahead N] [--no-thp]\n");
      return 2;
    }
  }
  const uint64_t bytes = mib << 20;
  if (bytes < 4096 || reads == 0) {
    std::fprintf(stderr, "random_read_bench: --mib must be >= 1 and --reads >= 1\n");
    return 2;
  }
  void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    std::perror("random_read_bench: mmap");
    return 1;
  }
  if (thp) ::madvise(mem, bytes, MADV_HUGEPAGE);
  std::memset(mem, 1, bytes);
  const uint8_t* text = static_cast<const uint8_t*>(mem);

  std::mt19937_64 rng(1);
  std::vector<uint64_t> offs(reads);
  for (uint64_t& o : offs) o = rng() % (bytes - 128);
  uint64_t sink = 0;
  std::printf("buffer %llu MiB (%s), %llu reads, prefetch %llu ahead; ns per read:\n",
              static_cast<unsigned long long>(mib), thp ? "huge pages requested" : "4 KiB pages",
              static_cast<unsigned long long>(reads), static_cast<unsigned long long>(ahead));
  std::printf("%-28s %10s %14s %14s\n", "read", "random", "sorted by 32K", "sorted by 1M");
  for (Read r : {Read::kOneLine, Read::kTwoLines, Read::kCopy128}) {
    double ns[3];
    for (int mode = 0; mode < 3; ++mode) {
      std::vector<uint64_t> q = offs;
      const uint64_t block = mode == 1 ? 32768 : uint64_t{1} << 20;
      if (mode > 0) {
        for (uint64_t i = 0; i < reads; i += block) std::sort(q.begin() + i, q.begin() + std::min(reads, i + block));
      }
      ns[mode] = Run(text, q, ahead, r, &sink);
    }
    std::printf("%-28s %10.1f %14.1f %14.1f\n", Name(r), ns[0], ns[1], ns[2]);
  }
  std::fprintf(stderr, "(checksum %llu)\n", static_cast<unsigned long long>(sink & 1));
  ::munmap(mem, bytes);
  return 0;
}
