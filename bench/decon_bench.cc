// Decontamination benchmark (bench/decon.sh runs it):
//   decon_bench EVAL_INDEX CORPUS... [--max-mb N] [--reps R] [--check-only]
//   decon_bench TOKEN_EVAL_INDEX TOKENS.npy --separator ID [--reps R]
// Loads up to N MB of corpus text into memory (warm: no I/O or JSON parsing
// in the timed part), then measures on ONE core:
//   - scan throughput: Decontaminator::Check over every document (MB/s);
//   - the tokeniser alone and tokeniser + n-gram hashing (the floor);
//   - Check latency per 2 KB document (p50 / p99, microseconds);
//   - report generation time (JSON + CSV + HTML) from the scan's results.
// Prints one JSON object.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "index/token_file.h"
#include "query/decon_report.h"
#include "query/decontaminator.h"
#include "storage/input_reader.h"

using namespace dedupdb;

namespace {
// Thread CPU time: the machine is shared, so per-core throughput is measured
// in CPU seconds of this thread (wall-clock figures are printed too).
double Now() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}
double Wall() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
// Token mode: CORPUS is one flat token file (.npy, or .bin of u32), documents
// ended by --separator; measures CheckTokens over all of it, in memory.
int TokenBench(const Decontaminator& d, const std::vector<std::string>& inputs, uint64_t separator, int reps) {
  if (inputs.size() != 1) {
    std::fprintf(stderr, "token mode: give one token file\n");
    return 2;
  }
  TokenFile tf;
  Status s = TokenFile::Open(Env::Default(), inputs[0], inputs[0].ends_with(".npy") ? 0 : 4, &tf);
  std::vector<uint32_t> ids;
  std::string raw;
  if (s.ok()) s = ReadTokenIds(*tf.file, tf.data_offset, tf.token_bytes, 0, tf.count, &ids, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::vector<std::pair<size_t, size_t>> docs;
  size_t start = 0;
  for (size_t i = 0; i <= ids.size(); ++i) {
    if (i == ids.size() || ids[i] == separator) {
      if (i > start) docs.push_back({start, i - start});
      start = i + 1;
    }
  }
  DeconResult res;
  uint64_t flagged = 0;
  double best = 1e9;
  for (int r = 0; r < reps; ++r) {
    double t0 = Now();
    flagged = 0;
    for (const auto& [off, len] : docs) {
      d.CheckTokens(ids.data() + off, len, &res);
      flagged += res.contaminated();
    }
    best = std::min(best, Now() - t0);
  }
  std::printf("{\"docs\":%zu,\"tokens\":%zu,\"eval_grams\":%llu,\"n\":%u,\"flagged\":%llu,"
              "\"check_tokens_m_per_s\":%.1f,\"check_mb_s_of_u%u\":%.1f}\n",
              docs.size(), ids.size(), (unsigned long long)d.index().num_grams(), d.index().n(),
              (unsigned long long)flagged, ids.size() / 1e6 / best, 8 * tf.token_bytes,
              ids.size() * double(tf.token_bytes) / 1e6 / best);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: decon_bench EVAL_INDEX CORPUS... [--max-mb N] [--reps R]\n");
    return 2;
  }
  std::string index_path = argv[1];
  std::vector<std::string> inputs;
  uint64_t max_bytes = 200ull << 20;
  int reps = 1;
  uint64_t separator = 0;
  bool check_only = false;  // skip the tokeniser floors (for perf profiles of Check alone)
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--check-only")) {
      check_only = true;
      continue;
    }
    if (!std::strcmp(argv[i], "--max-mb") && i + 1 < argc) max_bytes = std::strtoull(argv[++i], nullptr, 10) << 20;
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--separator") && i + 1 < argc) separator = std::strtoull(argv[++i], nullptr, 10);
    else inputs.push_back(argv[i]);
  }
  Decontaminator d;
  Status s = Decontaminator::Open(index_path, &d);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  if (d.index().token_mode()) return TokenBench(d, inputs, separator, reps);
  // Load the corpus.
  std::unique_ptr<DocumentReader> reader;
  s = DocumentReader::Open(Env::Default(), inputs, ReaderOptions(), &reader);
  std::string arena;
  std::vector<std::pair<size_t, size_t>> docs;
  while (s.ok() && arena.size() < max_bytes) {
    InputRecord rec;
    bool done = false;
    s = reader->Next(&rec, &done);
    if (!s.ok() || done) break;
    docs.push_back({arena.size(), rec.text.size()});
    arena.append(rec.text);
  }
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  auto doc = [&](size_t i) { return std::string_view(arena).substr(docs[i].first, docs[i].second); };
  const double mb = arena.size() / 1e6;

  // Tokeniser alone, and tokeniser + n-gram hashes (what any scan must do).
  WordTokenizer tok(d.index().mode());
  std::vector<Word> words;
  std::vector<uint64_t> h;
  uint64_t sink = 0;
  double best_tok = 1e9, best_hash = 1e9, best_scan = 1e9, best_scan_wall = 1e9;
  for (int r = 0; r < reps && !check_only; ++r) {
    double t0 = Now();
    for (size_t i = 0; i < docs.size(); ++i) {
      tok.Tokenize(doc(i), &words);
      sink += words.size();
    }
    best_tok = std::min(best_tok, Now() - t0);
    t0 = Now();
    const unsigned n = d.index().n();
    for (size_t i = 0; i < docs.size(); ++i) {
      tok.Tokenize(doc(i), &words);
      h.resize(words.size());
      for (size_t k = 0; k < words.size(); ++k) h[k] = words[k].hash;
      for (size_t k = 0; k + n <= h.size(); ++k) sink ^= HashNgram(h.data() + k, n);
    }
    best_hash = std::min(best_hash, Now() - t0);
  }
  // Full check (what `decon scan` workers run per document).
  DeconAccumulator acc(d.index());
  DeconResult res;
  uint64_t flagged = 0;
  for (int r = 0; r < reps; ++r) {
    double t0 = Now(), w0 = Wall();
    flagged = 0;
    for (size_t i = 0; i < docs.size(); ++i) {
      d.Check(doc(i), &res);
      if (res.contaminated()) {
        ++flagged;
        if (r == 0) acc.Add(res, i, "doc", "bench", doc(i));
      }
    }
    best_scan = std::min(best_scan, Now() - t0);
    best_scan_wall = std::min(best_scan_wall, Wall() - w0);
  }
  // Latency per 2 KB piece.
  std::vector<double> lat;
  for (size_t off = 0; off + 2048 <= arena.size() && lat.size() < 20000; off += arena.size() / 20000 + 2048) {
    std::string_view piece = std::string_view(arena).substr(off, 2048);
    double t0 = Now();
    d.Check(piece, &res);
    lat.push_back((Now() - t0) * 1e6);
  }
  std::sort(lat.begin(), lat.end());
  // Report generation.
  double t0 = Now();
  DeconReportOptions ro;
  ro.corpus_docs = docs.size();
  ro.corpus_bytes = arena.size();
  DeconReport rep = ComputeDeconReport(acc, ro);
  size_t report_bytes = DeconReportJson(rep, acc).size() + DeconReportCsv(rep, acc).size() + DeconReportHtml(rep, acc).size();
  double report_s = Now() - t0;
  std::printf("{\"docs\":%zu,\"mb\":%.1f,\"eval_grams\":%llu,\"n\":%u,\"flagged\":%llu,"
              "\"tokenize_mb_s\":%.1f,\"tokenize_hash_mb_s\":%.1f,\"check_mb_s\":%.1f,\"check_wall_mb_s\":%.1f,"
              "\"check_2kb_p50_us\":%.2f,\"check_2kb_p99_us\":%.2f,\"report_ms\":%.1f,\"report_bytes\":%zu,\"sink\":%llu}\n",
              docs.size(), mb, (unsigned long long)d.index().num_grams(), d.index().n(), (unsigned long long)flagged,
              mb / best_tok, mb / best_hash, mb / best_scan, mb / best_scan_wall, lat.empty() ? 0.0 : lat[lat.size() / 2],
              lat.empty() ? 0.0 : lat[lat.size() * 99 / 100], report_s * 1e3, report_bytes, (unsigned long long)(sink & 1));
  return 0;
}
