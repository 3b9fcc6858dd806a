// dedupdb near STORE (--text T | --file F | --doc-id N) [--threshold 0.8]
//            [--verify] [--name default] [--limit 20]
// Near-duplicates of a text or stored document from the LSH index: candidate
// docs with estimated Jaccard (and exact shingle Jaccard with --verify) at
// or above the threshold, most similar first.
#include <cstdio>
#include <memory>
#include <string>

#include "query/near_duplicates.h"
#include "storage/json_writer.h"
#include "tools/command_registry.h"

namespace {

using namespace dedupdb;

struct Opts {
  std::string store;
  std::string name = "default";
  std::string text, file;
  uint64_t doc_id = 0;
  double threshold = 0.8;
  bool verify = false;
  size_t limit = 20;
  CLI::App* app = nullptr;
};

std::string Snippet(std::string_view t, size_t n) {
  std::string s(t.substr(0, n));
  for (char& c : s) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  }
  return s;
}

int Run(const Opts& o) {
  const char* cmd = "near";
  const int sources = (o.app->count("--text") > 0) + (o.app->count("--file") > 0) + (o.app->count("--doc-id") > 0);
  if (sources != 1) {
    return cli::ReportUsageError(cmd, Status::InvalidArgument("give exactly one of --text, --file, --doc-id"));
  }
  if (!(o.threshold >= 0 && o.threshold <= 1)) {
    return cli::ReportUsageError(cmd, Status::InvalidArgument("--threshold must be in [0, 1]"));
  }
  std::unique_ptr<DocStore> store;
  Status s = DocStore::Open(o.store, &store);
  if (!s.ok()) return cli::ReportError(cmd, s);
  std::unique_ptr<LshIndex> index;
  s = LshIndex::Open(*store, o.name, &index);
  if (!s.ok()) return cli::ReportError(cmd, s);

  NearQueryOptions q;
  q.threshold = o.threshold;
  q.verify = o.verify;
  std::vector<NearMatch> matches;
  if (o.app->count("--doc-id")) {
    s = FindNearDuplicatesOfDoc(*store, *index, o.doc_id, q, &matches);
  } else {
    std::string text = o.text;
    if (o.app->count("--file")) s = ReadFileToString(store->env(), o.file, &text);
    if (s.ok()) s = FindNearDuplicates(*store, *index, text, q, &matches);
  }
  if (!s.ok()) return cli::ReportError(cmd, s);
  const size_t shown = std::min(matches.size(), o.limit);
  if (cli::Globals().json) {
    JsonWriter w;
    w.BeginObject().Field("ok", true).Field("command", cmd).Field("threshold", o.threshold);
    w.Field("verified", o.verify).Field("matches_total", static_cast<uint64_t>(matches.size()));
    w.Key("matches").BeginArray();
    for (size_t i = 0; i < shown; ++i) {
      const NearMatch& mt = matches[i];
      DocMeta meta;
      w.BeginObject().Field("doc", mt.doc_id);
      if (store->GetMeta(mt.doc_id, &meta).ok()) w.Field("id", meta.external_id);
      w.Field("estimated_jaccard", mt.estimated);
      if (mt.exact >= 0) w.Field("exact_jaccard", mt.exact);
      w.EndObject();
    }
    w.EndArray().EndObject();
    std::printf("%s\n", w.str().c_str());
  } else {
    std::printf("%zu near-duplicate(s) at Jaccard >= %.3g (%s)%s\n", matches.size(), o.threshold,
                o.verify ? "exact, verified" : "MinHash estimate",
                shown < matches.size() ? (", first " + std::to_string(shown)).c_str() : "");
    for (size_t i = 0; i < shown; ++i) {
      const NearMatch& mt = matches[i];
      DocMeta meta;
      std::string ext = store->GetMeta(mt.doc_id, &meta).ok() ? meta.external_id : "?";
      std::printf("doc %llu  id=%s  estimated=%.3f", (unsigned long long)mt.doc_id, ext.c_str(), mt.estimated);
      if (mt.exact >= 0) std::printf("  exact=%.3f", mt.exact);
      std::printf("  \"%s\"\n", Snippet(store->Text(mt.doc_id), 70).c_str());
    }
  }
  return cli::kExitOk;
}

dedupdb::cli::CommandRegistrar reg("near", "Find near-duplicates of a text or document (MinHash LSH)",
                                   [](CLI::App* app) {
  auto o = std::make_shared<Opts>();
  o->app = app;
  app->add_option("STORE", o->store, "Store directory")->required();
  app->add_option("--text", o->text, "Query text");
  app->add_option("--file", o->file, "Query text from a file");
  app->add_option("--doc-id", o->doc_id, "Query by stored document id");
  app->add_option("--threshold", o->threshold, "Minimum Jaccard similarity")->capture_default_str();
  app->add_flag("--verify", o->verify, "Verify candidates by exact shingle Jaccard");
  app->add_option("--name", o->name, "LSH index name")->capture_default_str();
  app->add_option("--limit", o->limit, "Matches shown")->capture_default_str();
  return [o]() { return Run(*o); };
});

}  // namespace
