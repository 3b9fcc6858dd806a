// Suffix-array query benchmark (docs/benchmarks.md, "Suffix-array build and
// queries" / "queries"; command in bench/saq.sh):
//   1. count latency p50/p99, warm and cold, for present substrings of the
//      corpus and for absent strings, with `grep -F -c` on the same text
//      timed side by side;
//   2. a batch of cold queries: lockstep io_uring batches (query/batch_count.h)
//      vs. the same searches one query at a time with a pread per probe.
//
// "Cold" = the index's pages evicted from the page cache before the
// measurement: posix_fadvise(DONTNEED) on every shard file after the maps
// are closed (--evict fadvise, the default: only this index's pages, so the
// other users of the machine keep theirs), or `echo 3 >
// /proc/sys/vm/drop_caches` (--evict drop, needs root).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "index/suffix_array.h"
#include "query/batch_count.h"
#include "query/cnf.h"
#include "query/doc_search.h"
#include "query/longest_match.h"
#include "query/substring_count.h"
#include "storage/doc_store.h"
#include "storage/env.h"

using namespace dedupdb;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string store, name = "default", evict = "fadvise", grep_text;
  size_t queries = 1000, cold_singles = 200, batch = 10000, grep_samples = 20;
  unsigned queue_depth = 256;
  uint64_t seed = 1;
  bool skip_batch = false, skip_singles = false;
  int rounds = 1;
};

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "saq_query_bench: %s\n", msg.c_str());
  std::exit(1);
}

void Check(const Status& st, const char* what) {
  if (!st.ok()) Die(std::string(what) + ": " + st.ToString());
}

struct Index {
  std::unique_ptr<DocStore> store;
  std::unique_ptr<SuffixArrayIndex> sa;
  std::vector<std::string> files;
};

void OpenIndex(const Args& a, Index* ix) {
  ix->sa.reset();
  ix->store.reset();
  Check(DocStore::Open(a.store, &ix->store), "open store");
  Check(SuffixArrayIndex::Open(ix->store.get(), a.name, &ix->sa), "open index");
  ix->files.clear();
  for (size_t s = 0; s < ix->sa->num_shards(); ++s) {
    ix->files.push_back(ix->sa->shard(s).text_file().path());
    ix->files.push_back(ix->sa->shard(s).sa_file().path());
  }
}

// Drops the index's pages from the page cache and reopens it.
void EvictAndReopen(const Args& a, Index* ix) {
  std::vector<std::string> files = ix->files;
  ix->sa.reset();
  ix->store.reset();  // unmapped, so the pages are no longer pinned by our maps
  if (a.evict == "drop") {
    sync();
    FILE* f = std::fopen("/proc/sys/vm/drop_caches", "w");
    if (f == nullptr) Die("cannot open /proc/sys/vm/drop_caches (need root)");
    std::fputs("3\n", f);
    std::fclose(f);
  } else {
    for (const std::string& p : files) {
      int fd = ::open(p.c_str(), O_RDONLY);
      if (fd < 0) Die("open " + p);
      ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
      ::close(fd);
    }
  }
  OpenIndex(a, ix);
}

// A random substring of the corpus text without separators or newlines.
std::string PresentQuery(const SuffixArrayIndex& sa, std::mt19937_64& rng) {
  uint64_t total = 0;
  for (size_t s = 0; s < sa.num_shards(); ++s) total += sa.shard(s).text_bytes();
  for (;;) {
    uint64_t r = rng() % total;
    size_t s = 0;
    while (r >= sa.shard(s).text_bytes()) r -= sa.shard(s).text_bytes(), ++s;
    size_t len = 8 + rng() % 33;
    const SaShard& sh = sa.shard(s);
    if (r + len > sh.text_bytes()) continue;
    std::string q(reinterpret_cast<const char*>(sh.text()) + r, len);
    if (q.find('\xff') != std::string::npos || q.find('\n') != std::string::npos) continue;
    return q;
  }
}

// A present query with one byte in the middle changed until it no longer occurs.
std::string AbsentQuery(const SuffixArrayIndex& sa, std::mt19937_64& rng) {
  for (;;) {
    std::string q = PresentQuery(sa, rng);
    q[q.size() / 2] = "qxzjkvQXZJ#@~^"[rng() % 14];
    CountResult r;
    Check(CountOccurrences(sa, q, &r), "count");
    if (r.count == 0) return q;
  }
}

struct Dist {
  double p50, p99, mean;
};
Dist Summarize(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double v : us) sum += v;
  auto at = [&](double q) { return us[std::min(us.size() - 1, size_t(q * (us.size() - 1) + 0.5))]; };
  return Dist{at(0.5), at(0.99), sum / us.size()};
}

double TimeCount(const SuffixArrayIndex& sa, const std::string& q, uint64_t* count) {
  auto t0 = Clock::now();
  CountResult r;
  Check(CountOccurrences(sa, q, &r), "count");
  auto t1 = Clock::now();
  *count = r.count;
  return std::chrono::duration<double, std::micro>(t1 - t0).count();
}

void PrintDist(const char* label, const Dist& d, size_t n) {
  std::printf("%-34s n=%-5zu p50 %10.1f us   p99 %10.1f us   mean %10.1f us\n", label, n, d.p50, d.p99, d.mean);
}

// Writes every document (newlines -> spaces, one doc per line) for grep.
void WriteGrepText(const DocStore& store, const std::string& path) {
  std::unique_ptr<WritableFile> f;
  Check(Env::Default()->NewWritableFile(path, &f), "grep text");
  std::string buf;
  for (uint64_t d = 0; d < store.num_docs(); ++d) {
    std::string_view t = store.Text(d);
    size_t o = buf.size();
    buf.append(t);
    std::replace(buf.begin() + o, buf.end(), '\n', ' ');
    buf.push_back('\n');
    if (buf.size() > (8u << 20)) {
      Check(f->Append(buf), "grep text");
      buf.clear();
    }
  }
  Check(f->Append(buf), "grep text");
  Check(f->Close(), "grep text");
}

double TimeGrep(const std::string& q, const std::string& file) {
  auto t0 = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    setenv("LC_ALL", "C", 1);
    execlp("grep", "grep", "-a", "-F", "-c", "--", q.c_str(), file.c_str(), (char*)nullptr);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  // grep exits 0 (found) or 1 (not found); anything else is a failed run.
  if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) Die("grep failed for query '" + q + "'");
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

void Usage() {
  std::fprintf(stderr,
               "usage: saq_query_bench --store DIR [--name default] [--queries 1000] [--cold-singles 200]\n"
               "       [--batch 10000] [--queue-depth 256] [--evict fadvise|drop] [--grep-text FILE]\n"
               "       [--grep-samples 20] [--seed 1] [--skip-batch] [--skip-singles] [--rounds 1]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (k == "--store") a.store = val();
    else if (k == "--name") a.name = val();
    else if (k == "--queries") a.queries = std::stoull(val());
    else if (k == "--cold-singles") a.cold_singles = std::stoull(val());
    else if (k == "--batch") a.batch = std::stoull(val());
    else if (k == "--queue-depth") a.queue_depth = std::stoul(val());
    else if (k == "--evict") a.evict = val();
    else if (k == "--grep-text") a.grep_text = val();
    else if (k == "--grep-samples") a.grep_samples = std::stoull(val());
    else if (k == "--seed") a.seed = std::stoull(val());
    else if (k == "--skip-batch") a.skip_batch = true;
    else if (k == "--skip-singles") a.skip_singles = true;
    else if (k == "--rounds") a.rounds = std::stoi(val());
    else Usage();
  }
  if (a.store.empty()) Usage();
  Index ix;
  OpenIndex(a, &ix);
  uint64_t text_bytes = 0;
  for (size_t s = 0; s < ix.sa->num_shards(); ++s) text_bytes += ix.sa->shard(s).text_bytes();
  std::printf("index: %zu shard(s), %.1f MB of symbols, %llu docs, pointer width %u, evict=%s\n", ix.sa->num_shards(),
              text_bytes / 1e6, (unsigned long long)ix.sa->num_docs(), ix.sa->shard(0).pointer_width(),
              a.evict.c_str());
  std::mt19937_64 rng(a.seed);

  if (!a.skip_singles) {
    std::vector<std::string> present, absent;
    for (size_t i = 0; i < a.queries; ++i) present.push_back(PresentQuery(*ix.sa, rng));
    for (size_t i = 0; i < a.queries; ++i) absent.push_back(AbsentQuery(*ix.sa, rng));
    // Warm: one pass to fault everything in, then timed.
    for (const auto* set : {&present, &absent}) {
      uint64_t c;
      for (const auto& q : *set) TimeCount(*ix.sa, q, &c);
    }
    for (int which = 0; which < 2; ++which) {
      const auto& set = which == 0 ? present : absent;
      std::vector<double> us;
      uint64_t c, total = 0;
      for (const auto& q : set) {
        us.push_back(TimeCount(*ix.sa, q, &c));
        total += c;
      }
      PrintDist(which == 0 ? "count warm, present" : "count warm, absent", Summarize(us), us.size());
      if (which == 1 && total != 0) Die("absent queries found");
    }
    // Cold: evict before every query.
    for (int which = 0; which < 2; ++which) {
      const auto& set = which == 0 ? present : absent;
      std::vector<double> us;
      for (size_t i = 0; i < std::min(a.cold_singles, set.size()); ++i) {
        EvictAndReopen(a, &ix);
        uint64_t c;
        us.push_back(TimeCount(*ix.sa, set[i], &c));
      }
      PrintDist(which == 0 ? "count cold, present" : "count cold, absent", Summarize(us), us.size());
    }
    if (!a.grep_text.empty()) {
      if (!Env::Default()->FileExists(a.grep_text)) WriteGrepText(*ix.store, a.grep_text);
      for (int which = 0; which < 2; ++which) {
        const auto& set = which == 0 ? present : absent;
        TimeGrep(set[0], a.grep_text);  // warm the text file
        std::vector<double> us;
        for (size_t i = 0; i < std::min(a.grep_samples, set.size()); ++i) us.push_back(TimeGrep(set[i], a.grep_text));
        PrintDist(which == 0 ? "grep -F -c warm, present" : "grep -F -c warm, absent", Summarize(us), us.size());
      }
    }
  }

  if (!a.skip_singles) {
    // longest(): a 6 KB "model output" mixing 40 verbatim 100-byte corpus
    // passages with 50-byte runs of changed text, warm.
    std::string text;
    for (int i = 0; i < 40; ++i) {
      std::string p;
      while (p.size() < 100) p += PresentQuery(*ix.sa, rng);
      text += p.substr(0, 100);
      std::string noise = PresentQuery(*ix.sa, rng) + PresentQuery(*ix.sa, rng);
      for (size_t k = 0; k < noise.size(); k += 3) noise[k] = "qxzjk"[rng() % 5];
      text += noise.substr(0, 50);
    }
    LongestMatchOptions lo;
    lo.min_len = 30;
    LongestMatchResult lr;
    Check(LongestMatches(*ix.sa, text, lo, &lr), "longest");  // warm-up
    auto t0 = Clock::now();
    Check(LongestMatches(*ix.sa, text, lo, &lr), "longest");
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::printf("longest warm: %zu bytes in %.2f ms (%.1f us/byte), %zu spans >= 30, %llu binary searches\n",
                text.size(), ms, 1e3 * ms / text.size(), lr.spans.size(), (unsigned long long)lr.searches);
    // search: CNF over common and rare words, warm.
    for (const char* cnf : {"\"the\" AND \"of\"", "\"film\" OR \"movie\" AND \"terrible\" AND \"actor\"",
                            "\"Wikipedia\" AND \"Einstein\" OR \"Newton\"", "\"quantum\" AND \"zebra\""}) {
      CnfQuery q;
      Check(ParseCnf(cnf, &q), "cnf");
      DocSearchResult sr;
      Check(SearchDocs(*ix.sa, ix.store.get(), q, DocSearchOptions(), &sr), "search");
      auto s0 = Clock::now();
      Check(SearchDocs(*ix.sa, ix.store.get(), q, DocSearchOptions(), &sr), "search");
      double sms = std::chrono::duration<double, std::milli>(Clock::now() - s0).count();
      uint64_t occ = 0;
      std::string methods;
      for (const ClauseReport& c : sr.clauses) {
        occ += c.occurrences;
        methods += c.scanned ? "s" : "e";
      }
      std::printf("search warm: %-50s %8llu docs, %10llu term occurrences, %8.2f ms (clauses %s)\n", cnf,
                  (unsigned long long)sr.num_docs, (unsigned long long)occ, sms, methods.c_str());
    }
  }

  if (!a.skip_batch) {
    std::vector<std::string> qs;
    for (size_t i = 0; i < a.batch; ++i) qs.push_back(i % 2 ? AbsentQuery(*ix.sa, rng) : PresentQuery(*ix.sa, rng));
    std::vector<uint64_t> want;
    for (const auto& q : qs) {
      CountResult r;
      Check(CountOccurrences(*ix.sa, q, &r), "count");
      want.push_back(r.count);
    }
    struct Mode {
      const char* label;
      // 0 batch io_uring, 1 batch pread reader, 2 one-by-one pread, 3 one-by-one
      // mmap, 4 one-by-one pread without read-ahead, 5 batch io_uring with
      // the kernel's read-ahead left on, 6 batch io_uring with the planner's
      // text scan off (every probe a random read)
      int kind;
    };
    const Mode modes[] = {{"batch io_uring", 0},        {"batch io_uring no-scan", 6}, {"batch io_uring readahead", 5},
                          {"batch pread-reader", 1},    {"one-by-one pread", 2},
                          {"one-by-one pread no-ra", 4}, {"one-by-one mmap (count)", 3}};
    double base_cold = 0, base_warm = 0;
    for (int round = 0; round < a.rounds; ++round)
    for (const Mode& m : modes) {
      for (int warm = 0; warm < 2; ++warm) {
        if (!warm) EvictAndReopen(a, &ix);
        std::vector<uint64_t> got;
        BatchCountStats st;
        auto t0 = Clock::now();
        if (m.kind <= 1 || m.kind == 5 || m.kind == 6) {
          BatchCountOptions bo;
          bo.queue_depth = a.queue_depth;
          bo.prefer_io_uring = m.kind != 1;
          bo.no_readahead = m.kind != 5;
          if (m.kind == 6) bo.text_scan_memory = 0;
          Check(BatchCount(*ix.sa, qs, bo, &got, &st), "batch");
        } else if (m.kind == 2 || m.kind == 4) {
          Check(SequentialPreadCount(*ix.sa, qs, nullptr, m.kind == 4, &got, &st), "pread");
        } else {
          for (const auto& q : qs) {
            CountResult r;
            Check(CountOccurrences(*ix.sa, q, &r), "count");
            got.push_back(r.count);
          }
          st.reader = "mmap";
        }
        double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        if (got != want) Die(std::string("wrong counts from ") + m.label);
        if (m.kind == 0) (warm ? base_warm : base_cold) = secs;
        double base = warm ? base_warm : base_cold;
        std::printf("%-26s %s %6zu queries %9.3f s  %9.1f us/query  reads %9llu  batches %6llu  scanned %5.0f MB  (%s)  "
                    "%.2fx batch\n",
                    m.label, warm ? "warm" : "cold", qs.size(), secs, 1e6 * secs / qs.size(),
                    (unsigned long long)st.reads, (unsigned long long)st.batches, st.text_scanned_bytes / 1e6,
                    st.reader.c_str(), secs / base);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
