// MinHash / LSH benchmark (run by bench/minhash.sh next to the Python
// reference). Single-threaded unless --threads is given.
//
//   minhash_bench sig FILE [--limit N] [--num-perm K] [--ngram 5]
//       shingling and signature throughput per SIMD level (one core)
//   minhash_bench lsh FILE [--limit N] [--threshold 0.8] [--memory 256M] [--exact]
//       store + index-lsh + batch near-dedup on the first N docs: times of
//       each phase, peak RSS, on-disk index bytes, candidate/removed counts
//   minhash_bench planted FILE [--limit N] [--keep DIR]
//       precision / recall of batch near-dedup against an exact oracle on
//       FILE's docs plus planted edited copies, thresholds 0.7 / 0.8 / 0.9
// Prints one JSON object per run on stdout.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "index/lsh_index.h"
#include "index/minhash.h"
#include "index/union_find.h"
#include "query/near_duplicates.h"
#include "storage/input_reader.h"
#include "storage/json_writer.h"
#include "storage/store_builder.h"

using namespace dedupdb;

namespace {

// Process CPU time: the benchmark is single-threaded and the machine is
// shared, so CPU seconds (not wall time) give the per-core cost. The Python
// reference is run with time.perf_counter patched to time.process_time for
// the same reason (bench/minhash.sh).
double Now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double PeakRssMb() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

struct Args {
  std::string mode, file;
  size_t limit = SIZE_MAX;
  unsigned num_perm = 128, ngram = 5, threads = 1;
  double threshold = 0.8;
  std::string memory = "256M";
  bool exact = false;
  std::string tmp = "/tmp";
  std::string keep;  // planted: keep the input and the truth in this dir
};

int Fail(const Status& s) {
  std::fprintf(stderr, "minhash_bench: %s\n", s.ToString().c_str());
  return 1;
}

Status ReadDocs(const Args& a, std::vector<std::string>* docs, uint64_t* bytes) {
  std::unique_ptr<DocumentReader> reader;
  DEDUPDB_RETURN_IF_ERROR(DocumentReader::Open(Env::Default(), {a.file}, ReaderOptions(), &reader));
  *bytes = 0;
  while (docs->size() < a.limit) {
    InputRecord r;
    bool done = false;
    DEDUPDB_RETURN_IF_ERROR(reader->Next(&r, &done));
    if (done) break;
    docs->emplace_back(r.text);
    *bytes += r.text.size();
  }
  return Status::OK();
}

int Sig(const Args& a) {
  std::vector<std::string> docs;
  uint64_t bytes = 0;
  Status s = ReadDocs(a, &docs, &bytes);
  if (!s.ok()) return Fail(s);
  ShingleOptions opt;
  opt.n = a.ngram;
  MinHashPermutations perms(a.num_perm, 1);
  // Phase 1: shingling alone (into one reused vector, as MinHasher does;
  // best of 3), then the folded hashes of every doc for the kernel phases
  // (not timed: allocating them is the benchmark's cost, not the library's).
  std::vector<std::vector<uint32_t>> folded(docs.size());
  std::vector<uint64_t> hashes;
  uint64_t shingles = 0, hsink = 0;
  double t_shingle = 1e30, t0 = 0;
  for (int round = 0; round < 3; ++round) {
    t0 = Now();
    for (size_t i = 0; i < docs.size(); ++i) {
      ShingleHashes(docs[i], opt, &hashes);
      hsink += hashes.empty() ? 0 : hashes.back();
    }
    t_shingle = std::min(t_shingle, Now() - t0);
  }
  for (size_t i = 0; i < docs.size(); ++i) {
    ShingleHashes(docs[i], opt, &hashes);
    folded[i].resize(hashes.size());
    for (size_t k = 0; k < hashes.size(); ++k) folded[i][k] = FoldShingleHash(hashes[k]);
    shingles += hashes.size();
  }
  JsonWriter w;
  w.BeginObject().Field("mode", "sig").Field("docs", static_cast<uint64_t>(docs.size()));
  w.Field("mb", bytes / 1e6).Field("shingles", shingles).Field("num_perm", a.num_perm);
  w.Field("shingle_mb_per_s", bytes / 1e6 / t_shingle);
  std::vector<uint32_t> sig(a.num_perm);
  uint32_t sink = static_cast<uint32_t>(hsink);
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
    if (level > DetectSimdLevel()) continue;
    // The scalar path is slow: time it on a prefix.
    const size_t n = level == SimdLevel::kScalar ? std::min<size_t>(docs.size(), 300) : docs.size();
    uint64_t b = 0;
    t0 = Now();
    for (size_t i = 0; i < n; ++i) {
      MinHashSignature(perms, folded[i].data(), folded[i].size(), sig.data(), level);
      sink += sig[0];
      b += docs[i].size();
    }
    double t = Now() - t0;
    // SIMD levels: the kernel MinHashSignature runs (with IFMA: the 7-op loop
    // and its unsafe-hash check), side by side with the exact loop (the
    // 14/15-op kernel before the may-wrap flags) and, on AVX-512 with IFMA,
    // the 11-op AVX-512 and the 8-op IFMA fast loops; alternated three times,
    // best of each.
    using KernelFn = void (*)(const MinHashPermutations&, const uint32_t*, size_t, uint32_t*);
    std::vector<std::pair<const char*, KernelFn>> others;
    if (level == SimdLevel::kAvx2) {
      others.push_back({"exact_loop_kernel_mb_per_s", [](const MinHashPermutations& p, const uint32_t* h, size_t m,
                                                        uint32_t* out) {
                          internal::MinHashAvx2Exact(p.a_lo(), p.a_hi(), p.b_data(), p.padded(), h, m, out);
                        }});
    } else if (level == SimdLevel::kAvx512) {
      others.push_back({"exact_loop_kernel_mb_per_s", [](const MinHashPermutations& p, const uint32_t* h, size_t m,
                                                        uint32_t* out) {
                          internal::MinHashAvx512Exact(p.a_lo(), p.a_hi(), p.b_data(), p.padded(), h, m, out);
                        }});
      if (MinHashIfmaSupported()) {
        others.push_back({"avx512_11op_kernel_mb_per_s", [](const MinHashPermutations& p, const uint32_t* h,
                                                           size_t m, uint32_t* out) {
                            internal::MinHashAvx512(p.a_lo(), p.a_hi(), p.b_data(), p.may_wrap(), p.padded(), h, m,
                                                    out);
                          }});
        others.push_back({"ifma_8op_kernel_mb_per_s", [](const MinHashPermutations& p, const uint32_t* h, size_t m,
                                                        uint32_t* out) {
                            internal::MinHashAvx512Ifma(p.a_top(), p.a_bot(), p.b_data(), p.may_wrap(), p.padded(), h,
                                                        m, out);
                          }});
      }
    }
    std::vector<double> t_other(others.size(), 1e30);
    std::vector<uint32_t> padded_sig(perms.padded());
    for (int round = 0; round < (others.empty() ? 0 : 3); ++round) {
      for (size_t o = 0; o < others.size(); ++o) {
        double te = Now();
        for (size_t i = 0; i < n; ++i) {
          others[o].second(perms, folded[i].data(), folded[i].size(), padded_sig.data());
          sink += padded_sig[0];
        }
        t_other[o] = std::min(t_other[o], Now() - te);
      }
      double tf = Now();
      for (size_t i = 0; i < n; ++i) {
        MinHashSignature(perms, folded[i].data(), folded[i].size(), sig.data(), level);
        sink += sig[0];
      }
      t = std::min(t, Now() - tf);
    }
    // End to end (shingling + signature) at this level, projected.
    const double per_byte = t / b + t_shingle / bytes;
    w.Key(SimdLevelName(level)).BeginObject();
    if (level == SimdLevel::kAvx512) w.Field("ifma", MinHashIfmaSupported());
    w.Field("kernel_mb_per_s", b / 1e6 / t).Field("end_to_end_mb_per_s", 1e-6 / per_byte);
    for (size_t o = 0; o < others.size(); ++o) w.Field(others[o].first, b / 1e6 / t_other[o]);
    w.Field("ns_per_shingle_per_8_perms", t * 1e9 / (static_cast<double>(shingles) * n / docs.size()) / (perms.padded() / 8.0));
    w.Field("end_to_end_docs_per_s", docs.size() / (per_byte * bytes)).EndObject();
  }
  // The library's MinHasher end to end at the dispatched level (what index-lsh runs).
  MinHasher hasher(&perms, opt);
  t0 = Now();
  for (const auto& d : docs) sink += hasher.Sign(d, sig.data());
  const double t_all = Now() - t0;
  w.Field("minhasher_level", SimdLevelName(DetectSimdLevel()));
  w.Field("minhasher_mb_per_s", bytes / 1e6 / t_all).Field("minhasher_docs_per_s", docs.size() / t_all);
  w.Field("sink", static_cast<uint64_t>(sink & 1)).EndObject();
  std::printf("%s\n", w.str().c_str());
  return 0;
}

uint64_t ParseMem(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  switch (*end) {
    case 'G': case 'g': return static_cast<uint64_t>(v * (1ull << 30));
    case 'M': case 'm': return static_cast<uint64_t>(v * (1ull << 20));
    case 'K': case 'k': return static_cast<uint64_t>(v * (1ull << 10));
    default: return static_cast<uint64_t>(v);
  }
}

int Lsh(const Args& a) {
  // Input: the first N docs as a JSONL file (not timed), then a store.
  std::vector<std::string> docs;
  uint64_t bytes = 0;
  Status s = ReadDocs(a, &docs, &bytes);
  if (!s.ok()) return Fail(s);
  const std::string dir = a.tmp + "/minhash_bench." + std::to_string(getpid());
  Env* env = Env::Default();
  env->RemoveTree(dir);
  s = env->CreateDirs(dir);
  if (!s.ok()) return Fail(s);
  {
    std::unique_ptr<WritableFile> f;
    s = env->NewWritableFile(dir + "/in.jsonl", &f);
    if (!s.ok()) return Fail(s);
    for (size_t i = 0; i < docs.size(); ++i) {
      JsonWriter w;
      w.BeginObject().Field("id", std::to_string(i)).Field("text", docs[i]).EndObject();
      std::string line = w.Take() + "\n";
      s = f->Append(line);
      if (!s.ok()) return Fail(s);
    }
    s = f->Close();
    if (!s.ok()) return Fail(s);
  }
  const size_t ndocs = docs.size();
  docs.clear();
  docs.shrink_to_fit();
  BuildOptions bo;
  BuildReport br;
  s = BuildStore(dir + "/store", {dir + "/in.jsonl"}, bo, &br);
  if (!s.ok()) return Fail(s);
  const double rss_before = PeakRssMb();

  LshBuildOptions lo;
  lo.threshold = a.threshold;
  lo.num_perm = a.num_perm;
  lo.shingles.n = a.ngram;
  lo.memory_bytes = ParseMem(a.memory);
  lo.threads = a.threads;
  LshBuildReport lr;
  double t0 = Now();
  s = BuildLshIndex(dir + "/store", lo, &lr);
  if (!s.ok()) return Fail(s);
  const double t_build = Now() - t0;
  const double rss_build = PeakRssMb();

  std::unique_ptr<DocStore> store;
  s = DocStore::Open(dir + "/store", &store);
  if (!s.ok()) return Fail(s);
  std::unique_ptr<LshIndex> index;
  s = LshIndex::Open(*store, "default", &index);
  if (!s.ok()) return Fail(s);
  NearDedupOptions no;
  no.threshold = a.threshold;
  no.exact = a.exact;
  no.memory_bytes = ParseMem(a.memory);
  no.tmp_dir = dir;
  NearDedupResult nr;
  t0 = Now();
  s = NearDedup(*store, *index, no, &nr);
  if (!s.ok()) return Fail(s);
  const double t_dedup = Now() - t0;

  // Point queries against the on-disk index: by stored doc (signature read
  // from the index) and by text (shingling + signature + lookups).
  const size_t nq = std::min<size_t>(ndocs, 2000);
  NearQueryOptions q;
  q.threshold = a.threshold;
  std::vector<NearMatch> matches;
  uint64_t found = 0;
  t0 = Now();
  for (size_t i = 0; i < nq; ++i) {
    s = FindNearDuplicatesOfDoc(*store, *index, (i * 7919) % ndocs, q, &matches);
    if (!s.ok()) return Fail(s);
    found += matches.size();
  }
  const double t_qdoc = Now() - t0;
  t0 = Now();
  for (size_t i = 0; i < nq; ++i) {
    s = FindNearDuplicates(*store, *index, store->Text((i * 7919) % ndocs), q, &matches);
    if (!s.ok()) return Fail(s);
    found += matches.size();
  }
  const double t_qtext = Now() - t0;

  JsonWriter w;
  w.BeginObject().Field("mode", "lsh").Field("docs", static_cast<uint64_t>(ndocs)).Field("mb", bytes / 1e6);
  w.Field("query_by_doc_us", t_qdoc / nq * 1e6).Field("query_by_text_us", t_qtext / nq * 1e6);
  w.Field("query_matches", found);
  w.Field("bands", lr.manifest.bands.bands).Field("rows", lr.manifest.bands.rows);
  w.Field("threads", a.threads).Field("memory_budget", lo.memory_bytes);
  w.Field("signature_cpu_seconds", lr.signature_cpu_seconds).Field("build_cpu_seconds", t_build);
  w.Field("bucket_cpu_seconds", lr.bucket_cpu_seconds).Field("sync_publish_wall_seconds", lr.sync_seconds);
  w.Field("dedup_cpu_seconds", t_dedup);
  // The reference's "insert + query" = in-RAM LSH table inserts + candidate
  // lookup, signatures excluded; ours = band keys + external sort + bucket
  // file + candidate pairs + verification, without / with the fsyncs and
  // catalog commit that make the index durable (the reference has none).
  w.Field("lsh_insert_query_docs_per_s", ndocs / (lr.bucket_cpu_seconds + t_dedup));
  w.Field("lsh_insert_query_durable_docs_per_s",
          ndocs / (lr.bucket_cpu_seconds + lr.sync_seconds + t_dedup));
  w.Field("signature_mb_per_s", bytes / 1e6 / lr.signature_cpu_seconds);
  w.Field("index_disk_bytes", lr.sig_file_bytes + lr.bucket_file_bytes);
  w.Field("index_disk_bytes_per_doc", static_cast<double>(lr.sig_file_bytes + lr.bucket_file_bytes) / ndocs);
  w.Field("peak_rss_mb_before_index", rss_before).Field("peak_rss_mb_after_build", rss_build);
  w.Field("peak_rss_mb_after_dedup", PeakRssMb());
  w.Field("spill_files_build", lr.spill_files).Field("spill_files_pairs", static_cast<uint64_t>(nr.spill_files));
  w.Field("candidate_pairs", nr.candidate_pairs).Field("verified_pairs", nr.verified_pairs);
  w.Field("clusters", nr.clusters).Field("removed_docs", nr.removed_docs);
  w.Field("verification", a.exact ? "exact" : "estimated").EndObject();
  std::printf("%s\n", w.str().c_str());
  store.reset();
  index.reset();
  env->RemoveTree(dir);
  return 0;
}

// Planted near-duplicates: docs of FILE plus edited copies (fractions of
// words replaced: close copies, chains, distant copies); the truth is the
// brute-force all-pairs exact-Jaccard clustering at each threshold.
// Reports precision / recall of the removed set for estimated and exact
// verification at thresholds 0.7, 0.8, 0.9 with the optimal bands.
int Planted(const Args& a) {
  std::vector<std::string> docs;
  uint64_t bytes = 0;
  Status s = ReadDocs(a, &docs, &bytes);
  if (!s.ok()) return Fail(s);
  std::mt19937 rng(2026);
  std::uniform_real_distribution<double> u(0, 1);
  uint64_t fresh = 0;
  auto edit = [&](const std::string& text, double f) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
      size_t j = text.find(' ', i);
      if (j == std::string::npos) j = text.size();
      if (!out.empty()) out += ' ';
      if (u(rng) < f) out += "qzx" + std::to_string(fresh++) + "vv";
      else out.append(text, i, j - i);
      i = j + 1;
    }
    return out;
  };
  const size_t real = docs.size();
  for (size_t i = 0; i < real / 2; ++i) {
    const std::string& base = docs[(i * 7919) % real];
    const double f = 0.002 + 0.08 * u(rng);  // J from ~0.99 down to ~0.4
    docs.push_back(edit(base, f));
    if (i % 4 == 0) docs.push_back(edit(docs.back(), 0.01));
  }
  const std::string dir = a.tmp + "/minhash_planted." + std::to_string(getpid());
  Env* env = Env::Default();
  env->RemoveTree(dir);
  s = env->CreateDirs(dir);
  if (!s.ok()) return Fail(s);
  {
    std::unique_ptr<WritableFile> f;
    s = env->NewWritableFile(dir + "/in.jsonl", &f);
    if (!s.ok()) return Fail(s);
    for (size_t i = 0; i < docs.size(); ++i) {
      JsonWriter w;
      w.BeginObject().Field("id", std::to_string(i)).Field("text", docs[i]).EndObject();
      s = f->Append(w.Take() + "\n");
      if (!s.ok()) return Fail(s);
    }
    s = f->Close();
    if (!s.ok()) return Fail(s);
  }
  // Oracle: exact Jaccard of every pair sharing a shingle.
  ShingleOptions opt;
  opt.n = a.ngram;
  std::vector<std::vector<uint64_t>> sets(docs.size());
  std::vector<std::pair<uint64_t, uint32_t>> post;
  for (size_t d = 0; d < docs.size(); ++d) {
    ShingleSet(docs[d], opt, &sets[d]);
    for (uint64_t h : sets[d]) post.push_back({h, static_cast<uint32_t>(d)});
  }
  std::sort(post.begin(), post.end());
  std::vector<uint64_t> pairs;
  for (size_t i = 0; i < post.size();) {
    size_t j = i;
    while (j < post.size() && post[j].first == post[i].first) ++j;
    if (j - i <= 200) {  // shingles shared by > 200 docs are boilerplate; their pairs come via other shingles
      for (size_t x = i; x < j; ++x)
        for (size_t y = x + 1; y < j; ++y) pairs.push_back((uint64_t{post[x].second} << 32) | post[y].second);
    }
    i = j;
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  std::vector<std::pair<uint64_t, double>> sims;
  for (uint64_t p : pairs) {
    double j = ExactJaccard(sets[p >> 32], sets[static_cast<uint32_t>(p)]);
    if (j >= 0.6) sims.push_back({p, j});
  }
  std::string truth_out;
  JsonWriter w;
  w.BeginObject().Field("mode", "planted").Field("real_docs", static_cast<uint64_t>(real));
  w.Field("docs", static_cast<uint64_t>(docs.size())).Key("results").BeginArray();
  BuildOptions bo;
  BuildReport br;
  s = BuildStore(dir + "/store", {dir + "/in.jsonl"}, bo, &br);
  if (!s.ok()) return Fail(s);
  for (double t : {0.7, 0.8, 0.9}) {
    UnionFind uf(static_cast<uint32_t>(docs.size()));
    for (auto& [p, j] : sims) {
      if (j >= t) uf.Union(p >> 32, static_cast<uint32_t>(p));
    }
    std::vector<uint64_t> truth;
    for (uint32_t d = 0; d < docs.size(); ++d) {
      if (uf.Find(d) != d) truth.push_back(d);
    }
    if (!a.keep.empty()) {  // the truth, for scoring the Python reference (bench/minhash.sh)
      std::string line = "{\"threshold\": " + std::to_string(t) + ", \"removed\": [";
      for (size_t i = 0; i < truth.size(); ++i) line += (i ? "," : "") + std::to_string(truth[i]);
      line += "]}\n";
      truth_out += line;
    }
    // Bands: the datasketch optimum (equal FP/FN weights), then a
    // recall-leaning choice (FN weighted 0.9) with exact verification.
    for (int variant = 0; variant < 2; ++variant) {
    LshBuildOptions lo;
    lo.name = "t" + std::to_string(static_cast<int>(t * 100)) + "v" + std::to_string(variant);
    lo.threshold = t;
    lo.num_perm = a.num_perm;
    lo.shingles = opt;
    if (variant == 1) lo.fn_weight = 0.9;  // index-lsh --fn-weight 0.9
    LshBuildReport lr;
    s = BuildLshIndex(dir + "/store", lo, &lr);
    if (!s.ok()) return Fail(s);
    std::unique_ptr<DocStore> store;
    std::unique_ptr<LshIndex> index;
    s = DocStore::Open(dir + "/store", &store);
    if (s.ok()) s = LshIndex::Open(*store, lo.name, &index);
    if (!s.ok()) return Fail(s);
    for (bool exact : {false, true}) {
      if (variant == 1 && !exact) continue;
      NearDedupOptions no;
      no.threshold = t;
      no.exact = exact;
      no.tmp_dir = dir;
      NearDedupResult nr;
      std::vector<uint64_t> got, inter;
      no.on_removed = [&got](const RemovedDoc& r) {
        got.push_back(r.doc_id);
        return Status::OK();
      };
      s = NearDedup(*store, *index, no, &nr);
      if (!s.ok()) return Fail(s);
      std::set_intersection(got.begin(), got.end(), truth.begin(), truth.end(), std::back_inserter(inter));
      w.BeginObject().Field("threshold", t).Field("bands", lr.manifest.bands.bands).Field("rows", lr.manifest.bands.rows);
      w.Field("verification", exact ? "exact" : "estimated");
      w.Field("true_removed", static_cast<uint64_t>(truth.size())).Field("removed", static_cast<uint64_t>(got.size()));
      w.Field("precision", got.empty() ? 1.0 : static_cast<double>(inter.size()) / got.size());
      w.Field("recall", truth.empty() ? 1.0 : static_cast<double>(inter.size()) / truth.size());
      w.Field("candidate_pairs", nr.candidate_pairs).EndObject();
    }
    }
  }
  w.EndArray().EndObject();
  std::printf("%s\n", w.str().c_str());
  if (!a.keep.empty()) {
    s = env->RenameFile(dir + "/in.jsonl", a.keep + "/planted.jsonl");
    if (s.ok()) s = WriteFileAtomic(env, a.keep + "/planted_truth.jsonl", truth_out);
    if (!s.ok()) return Fail(s);
  }
  env->RemoveTree(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (argc < 3) {
    std::fprintf(stderr, "usage: minhash_bench sig|lsh FILE [--limit N] [--num-perm K] [--ngram N] [--threshold T] "
                         "[--memory 256M] [--threads N] [--exact] [--tmp DIR]\n");
    return 2;
  }
  a.mode = argv[1];
  a.file = argv[2];
  for (int i = 3; i < argc; ++i) {
    std::string f = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (f == "--limit") a.limit = std::stoull(next());
    else if (f == "--num-perm") a.num_perm = std::stoul(next());
    else if (f == "--ngram") a.ngram = std::stoul(next());
    else if (f == "--threads") a.threads = std::stoul(next());
    else if (f == "--threshold") a.threshold = std::stod(next());
    else if (f == "--memory") a.memory = next();
    else if (f == "--tmp") a.tmp = next();
    else if (f == "--exact") a.exact = true;
    else if (f == "--keep") a.keep = next();
    else {
      std::fprintf(stderr, "unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  if (a.mode == "sig") return Sig(a);
  if (a.mode == "lsh") return Lsh(a);
  if (a.mode == "planted") return Planted(a);
  std::fprintf(stderr, "unknown mode %s\n", a.mode.c_str());
  return 2;
}
