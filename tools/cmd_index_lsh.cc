// dedupdb index-lsh STORE [--name default] [--threshold 0.8] [--num-perm 128]
//                  [--ngram 5] [--shingle word|char] [--seed 1]
//                  [--bands B --rows R | --fn-weight 0.5] [--memory 2G]
//                  [--threads N]
// Builds the MinHash LSH index of a store, or appends the documents added
// since the last build as a new run (an existing index keeps its
// parameters). Prints the chosen bands x rows and the S-curve.
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "index/lsh_index.h"
#include "storage/json_writer.h"
#include "tools/cli_util.h"
#include "tools/command_registry.h"

namespace {

using namespace dedupdb;

struct Opts {
  std::string store;
  std::string name = "default";
  double threshold = 0.8;
  unsigned num_perm = 128;
  unsigned ngram = 5;
  std::string shingle = "word";
  uint64_t seed = 1;
  unsigned bands = 0, rows = 0;
  double fn_weight = 0.5;
  std::string memory = "2G";
  unsigned threads = 0;
  CLI::App* app = nullptr;
};

bool Given(const Opts& o, const char* flag) { return o.app->count(flag) > 0; }

int Run(const Opts& o) {
  const char* cmd = "index-lsh";
  LshBuildOptions b;
  b.name = o.name;
  b.threshold = o.threshold;
  b.num_perm = o.num_perm;
  b.seed = o.seed;
  b.shingles.n = o.ngram;
  if (o.shingle == "word") {
    b.shingles.kind = ShingleKind::kWord;
  } else if (o.shingle == "char") {
    b.shingles.kind = ShingleKind::kChar;
  } else {
    return cli::ReportUsageError(cmd, Status::InvalidArgument("--shingle must be word or char"));
  }
  if ((o.bands == 0) != (o.rows == 0)) {
    return cli::ReportUsageError(cmd, Status::InvalidArgument("give both --bands and --rows, or neither"));
  }
  b.bands = LshBands{o.bands, o.rows};
  if (!(o.fn_weight > 0 && o.fn_weight < 1)) {
    return cli::ReportUsageError(cmd, Status::InvalidArgument("--fn-weight must be in (0, 1)"));
  }
  b.fn_weight = o.fn_weight;
  if (o.bands) {
    Status s = CheckBands(b.bands, o.num_perm);
    if (!s.ok()) return cli::ReportUsageError(cmd, s);
  }
  if (!(o.threshold > 0 && o.threshold <= 1) || o.num_perm == 0 || o.ngram == 0) {
    return cli::ReportUsageError(cmd, Status::InvalidArgument("need 0 < --threshold <= 1, --num-perm >= 1, --ngram >= 1"));
  }
  Status s = cli::ParseSize(o.memory, &b.memory_bytes);
  if (!s.ok()) return cli::ReportUsageError(cmd, s.WithContext("--memory"));
  b.threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  b.show_progress = !cli::Globals().quiet;

  // An existing index keeps its parameters: refuse explicit different ones.
  {
    std::unique_ptr<DocStore> store;
    s = DocStore::Open(o.store, &store);
    if (!s.ok()) return cli::ReportError(cmd, s);
    LshManifest m;
    s = ReadLshManifest(store->catalog(), o.name, &m);
    if (s.ok()) {
      std::string clash;
      if (Given(o, "--num-perm") && m.num_perm != o.num_perm) clash = "--num-perm";
      if (Given(o, "--ngram") && m.shingles.n != o.ngram) clash = "--ngram";
      if (Given(o, "--seed") && m.seed != o.seed) clash = "--seed";
      if (Given(o, "--shingle") && m.shingles.kind != b.shingles.kind) clash = "--shingle";
      if (Given(o, "--bands") && (m.bands.bands != o.bands || m.bands.rows != o.rows)) clash = "--bands/--rows";
      if (Given(o, "--fn-weight")) clash = "--fn-weight (bands are fixed when the index is created)";
      if (Given(o, "--threshold") && m.threshold != o.threshold) clash = "--threshold";
      if (!clash.empty()) {
        return cli::ReportUsageError(
            cmd, Status::InvalidArgument("index '" + o.name + "' exists with different " + clash +
                                         "; new documents are indexed with the index's own parameters (use another "
                                         "--name for a different index)"));
      }
    } else if (!s.IsNotFound()) {
      return cli::ReportError(cmd, s);
    }
  }

  LshBuildReport r;
  s = BuildLshIndex(o.store, b, &r);
  if (!s.ok()) return cli::ReportError(cmd, s);
  const LshManifest& m = r.manifest;
  const double mbps = r.signature_seconds > 0 ? r.text_bytes / 1e6 / r.signature_seconds : 0;
  if (cli::Globals().json) {
    JsonWriter w;
    w.BeginObject().Field("ok", true).Field("command", cmd).Field("name", o.name).Field("created", r.created);
    w.Field("upgraded", r.upgraded);
    w.Field("num_perm", m.num_perm).Field("ngram", m.shingles.n).Field("seed", m.seed);
    w.Field("threshold", m.threshold).Field("bands", m.bands.bands).Field("rows", m.bands.rows);
    w.Key("s_curve").BeginArray();
    for (int i = 1; i <= 10; ++i) {
      w.BeginObject().Field("jaccard", i / 10.0);
      w.Field("p_candidate", CandidateProbability(i / 10.0, m.bands.bands, m.bands.rows)).EndObject();
    }
    w.EndArray();
    w.Field("generation", m.generation).Field("runs", static_cast<uint64_t>(m.runs.size()));
    w.Field("docs_indexed", r.docs_indexed).Field("indexed_total", m.indexed_docs());
    w.Field("empty_docs", r.empty_docs).Field("text_bytes", r.text_bytes);
    w.Field("signature_seconds", r.signature_seconds).Field("signature_mb_per_s", mbps);
    w.Field("spill_files", r.spill_files).Field("sig_file_bytes", r.sig_file_bytes);
    w.Field("bucket_file_bytes", r.bucket_file_bytes).Field("seconds", r.seconds).EndObject();
    std::printf("%s\n", w.str().c_str());
  } else {
    std::printf("LSH index '%s': %u permutations, %u-gram %s shingles, threshold %.3g -> %u bands x %u rows\n",
                o.name.c_str(), m.num_perm, m.shingles.n, m.shingles.kind == ShingleKind::kChar ? "char" : "word",
                m.threshold, m.bands.bands, m.bands.rows);
    std::printf("S-curve (probability that a pair becomes a candidate):\n%s", SCurveTable(m.bands).c_str());
    if (r.docs_indexed == 0) {
      std::printf("up to date: %llu docs indexed in %zu run(s)\n", (unsigned long long)m.indexed_docs(),
                  m.runs.size());
    } else {
      std::printf("%s run: %llu docs (%llu without shingles), %s of text, signatures %.1f MB/s, %.1f s total\n",
                  r.created ? "new index, first" : r.upgraded ? "old-format index rebuilt, one" : "appended", (unsigned long long)r.docs_indexed,
                  (unsigned long long)r.empty_docs, cli::HumanBytes(r.text_bytes).c_str(), mbps, r.seconds);
      std::printf("files: signatures %s, buckets %s; index now %zu run(s), %llu docs (generation %llu)\n",
                  cli::HumanBytes(r.sig_file_bytes).c_str(), cli::HumanBytes(r.bucket_file_bytes).c_str(),
                  m.runs.size(), (unsigned long long)m.indexed_docs(), (unsigned long long)m.generation);
    }
  }
  return cli::kExitOk;
}

dedupdb::cli::CommandRegistrar reg("index-lsh", "Build or extend the MinHash LSH near-duplicate index",
                                   [](CLI::App* app) {
  auto o = std::make_shared<Opts>();
  o->app = app;
  app->add_option("STORE", o->store, "Store directory")->required();
  app->add_option("--name", o->name, "Index name")->capture_default_str();
  app->add_option("--threshold", o->threshold, "Jaccard threshold the bands are tuned for")->capture_default_str();
  app->add_option("--num-perm", o->num_perm, "MinHash permutations K")->capture_default_str();
  app->add_option("--ngram", o->ngram, "Shingle length (words or characters)")->capture_default_str();
  app->add_option("--shingle", o->shingle, "Shingle kind: word or char")->capture_default_str();
  app->add_option("--seed", o->seed, "Permutation seed")->capture_default_str();
  app->add_option("--bands", o->bands, "Bands (with --rows; default: optimal for --threshold)");
  app->add_option("--rows", o->rows, "Rows per band");
  app->add_option("--fn-weight", o->fn_weight,
                  "Band choice: weight of false negatives vs false positives (0.5 = datasketch; 0.9 favours recall)")
      ->capture_default_str();
  app->add_option("--memory", o->memory, "Memory budget for bucket sorting (e.g. 2G, 256M)")->capture_default_str();
  app->add_option("--threads", o->threads, "Signature threads (default: all cores)");
  return [o]() { return Run(*o); };
});

}  // namespace
