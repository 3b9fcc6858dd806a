// Suffix-array benchmarks (see bench/sa_build.sh for the exact commands and
// docs/benchmarks.md, "Suffix-array build and queries", for results).
//
//   sa_build_bench divsufsort STORE
//       Baseline: the same bytes index-sa sorts (every document followed by
//       0xFF, one array), sorted by bare divsufsort; prints MB/s. Run it and
//       `dedupdb index-sa` under /usr/bin/time -v to compare time and RSS.
//   sa_build_bench count STORE [--name N] [--queries 1000] [--grep-sample 20]
//                  [--dump FILE]
//       Warm `count` latency p50/p99 for present substrings (random spans of
//       random documents, 5..40 bytes) and absent strings (random 20-letter
//       strings, confirmed absent), plus `grep -F -c` on a plain-text dump of
//       the same documents (FILE, written if missing) for a sample of them.
#include <divsufsort.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "index/suffix_array.h"
#include "query/substring_count.h"
#include "query/substring_locate.h"
#include "storage/doc_store.h"

using namespace dedupdb;
using Clock = std::chrono::steady_clock;

namespace {

int Die(const Status& st) {
  std::fprintf(stderr, "sa_build_bench: %s\n", st.ToString().c_str());
  return 1;
}

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

int BareDivsufsort(const std::string& dir) {
  std::unique_ptr<DocStore> store;
  Status st = DocStore::Open(dir, &store);
  if (!st.ok()) return Die(st);
  auto t0 = Clock::now();
  const uint64_t n = store->text_bytes() + store->num_docs();
  if (n >= (1ull << 31)) {
    std::fprintf(stderr, "corpus too large for 32-bit divsufsort baseline\n");
    return 1;
  }
  std::vector<uint8_t> text;
  text.reserve(n);
  for (uint64_t d = 0; d < store->num_docs(); ++d) {
    std::string_view t = store->Text(d);
    text.insert(text.end(), t.begin(), t.end());
    text.push_back(0xFF);
  }
  std::vector<int32_t> sa(n);
  auto t1 = Clock::now();
  if (divsufsort(text.data(), sa.data(), static_cast<int32_t>(n)) != 0) return 1;
  auto t2 = Clock::now();
  std::printf("{\"bench\":\"divsufsort\",\"bytes\":%llu,\"load_s\":%.3f,\"sort_s\":%.3f,\"mb_per_s\":%.2f}\n",
              (unsigned long long)n, Seconds(t0, t1), Seconds(t1, t2), n / 1e6 / Seconds(t1, t2));
  return 0;
}

struct Lat {
  double p50, p99, mean;
};
Lat Percentiles(std::vector<double> v) {
  if (v.empty()) return Lat{0, 0, 0};
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  return Lat{v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)], sum / v.size()};
}

int Count(const std::string& dir, int argc, char** argv) {
  std::string name = "default", dump = "/tmp/sa_bench_corpus.txt";
  size_t nq = 1000, grep_sample = 20;
  for (int i = 0; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--name") name = argv[i + 1];
    else if (k == "--queries") nq = std::stoul(argv[i + 1]);
    else if (k == "--grep-sample") grep_sample = std::stoul(argv[i + 1]);
    else if (k == "--dump") dump = argv[i + 1];
  }
  std::unique_ptr<DocStore> store;
  Status st = DocStore::Open(dir, &store);
  if (!st.ok()) return Die(st);
  std::unique_ptr<SuffixArrayIndex> index;
  st = SuffixArrayIndex::Open(store.get(), name, &index);
  if (!st.ok()) return Die(st);
  std::mt19937_64 rng(42);
  std::vector<std::string> present, absent;
  while (present.size() < nq) {
    std::string_view t = store->Text(rng() % store->num_docs());
    if (t.size() < 64) continue;
    size_t len = 5 + rng() % 36;
    size_t b = rng() % (t.size() - len);
    present.emplace_back(t.substr(b, len));
  }
  while (absent.size() < nq) {
    std::string q;
    for (int k = 0; k < 20; ++k) q.push_back(static_cast<char>('a' + rng() % 26));
    CountResult c;
    if (CountOccurrences(*index, q, &c).ok() && c.count == 0) absent.push_back(q);
  }
  auto run = [&](const std::vector<std::string>& qs, uint64_t* total) {
    std::vector<double> us;
    for (const std::string& q : qs) {  // warm-up pass
      CountResult c;
      (void)CountOccurrences(*index, q, &c);
    }
    *total = 0;
    for (const std::string& q : qs) {
      CountResult c;
      auto a = Clock::now();
      (void)CountOccurrences(*index, q, &c);
      us.push_back(Seconds(a, Clock::now()) * 1e6);
      *total += c.count;
    }
    return Percentiles(us);
  };
  uint64_t tp = 0, ta = 0;
  Lat lp = run(present, &tp), la = run(absent, &ta);
  // locate: first page (10 hits, 40 symbols of context, external ids) of the
  // present queries; O(occurrences) per shard to pick the first positions.
  std::vector<double> loc_us;
  for (int pass = 0; pass < 2; ++pass) {
    for (const std::string& q : present) {
      LocateOptions lo;
      LocateResult r;
      auto a = Clock::now();
      (void)LocateOccurrences(*index, store.get(), q, lo, &r);
      if (pass == 1) loc_us.push_back(Seconds(a, Clock::now()) * 1e6);
    }
  }
  Lat ll = Percentiles(loc_us);
  // grep baseline on the same documents (one line per document).
  {
    std::ifstream probe(dump);
    if (!probe.good()) {
      std::ofstream out(dump, std::ios::binary);
      for (uint64_t d = 0; d < store->num_docs(); ++d) {
        std::string_view t = store->Text(d);
        out.write(t.data(), t.size());
        out.put('\n');
      }
    }
  }
  std::vector<double> grep_us;
  for (size_t i = 0; i < grep_sample && i < present.size(); ++i) {
    const std::string& q = i % 2 ? absent[i] : present[i];
    if (q.find('\n') != std::string::npos || q.find('\'') != std::string::npos) continue;
    std::string cmd = "grep -F -c -- '" + q + "' " + dump + " > /dev/null";
    if (i == 0) (void)std::system(cmd.c_str());  // warm the page cache
    auto a = Clock::now();
    (void)std::system(cmd.c_str());
    grep_us.push_back(Seconds(a, Clock::now()) * 1e6);
  }
  Lat lg = Percentiles(grep_us);
  std::printf(
      "{\"bench\":\"count\",\"shards\":%zu,\"queries\":%zu,"
      "\"present\":{\"p50_us\":%.2f,\"p99_us\":%.2f,\"mean_us\":%.2f,\"occurrences\":%llu},"
      "\"absent\":{\"p50_us\":%.2f,\"p99_us\":%.2f,\"mean_us\":%.2f},"
      "\"locate10\":{\"p50_us\":%.2f,\"p99_us\":%.2f,\"mean_us\":%.2f},"
      "\"grep_F_c\":{\"samples\":%zu,\"p50_us\":%.0f,\"mean_us\":%.0f},"
      "\"speedup_p50_vs_grep\":%.0f}\n",
      index->num_shards(), nq, lp.p50, lp.p99, lp.mean, (unsigned long long)tp, la.p50, la.p99, la.mean,
      ll.p50, ll.p99, ll.mean, grep_us.size(), lg.p50, lg.mean, lp.p50 > 0 ? lg.p50 / lp.p50 : 0.0);
  (void)ta;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: sa_build_bench divsufsort STORE | count STORE [--name N] [--queries N] "
                         "[--grep-sample N] [--dump FILE]\n");
    return 2;
  }
  std::string mode = argv[1], dir = argv[2];
  if (mode == "divsufsort") return BareDivsufsort(dir);
  if (mode == "count") return Count(dir, argc - 3, argv + 3);
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
