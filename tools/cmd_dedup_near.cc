// dedupdb dedup-near STORE --out DIR [--threshold T] [--exact]
//                   [--keep first|longest] [--memory 1G] [--name default]
//                   [--write OUT.jsonl.zst] [--tmp-dir D]
// Batch near-dedup over the LSH index (query/near_duplicates.h). Writes
//   DIR/removed.roaring  removed doc ids, a 64-bit CRoaring bitmap
//                        (Roaring64Map, portable serialisation)
//   DIR/removed.jsonl    one line per removed doc: doc, id, cluster, kept,
//                        kept_id, similarity (to the kept doc)
// and with --write the kept documents as JSONL {"id","text"} (.zst compresses).

#include <cstdio>
#include <memory>
#include <string>

#include <roaring/roaring64map.hh>

#include "query/near_duplicates.h"
#include "storage/json_writer.h"
#include "storage/text_output.h"
#include "tools/cli_util.h"
#include "tools/command_registry.h"

namespace {

using namespace dedupdb;

struct Opts {
  std::string store;
  std::string out_dir;
  std::string name = "default";
  double threshold = -1;
  bool exact = false;
  std::string keep = "first";
  std::string memory = "1G";
  std::string write;
  std::string tmp_dir;
};

// removed.jsonl is streamed line by line as NearDedup reports removed docs
// (ascending id); the bitmap collects them (compressed: at most ~2 bytes per
// removed doc, 1 bit per doc id in dense ranges) and is written at the end.
class RemovedSink {
 public:
  explicit RemovedSink(const DocStore& store) : store_(store) {}
  Status Open(const std::string& path) { return TextOutput::Open(store_.env(), path, &jsonl_); }
  Status Add(const RemovedDoc& d) {
    bitmap_.add(d.doc_id);
    DocMeta a, k;
    DEDUPDB_RETURN_IF_ERROR(store_.GetMeta(d.doc_id, &a));
    DEDUPDB_RETURN_IF_ERROR(store_.GetMeta(d.kept, &k));
    JsonWriter w;
    w.BeginObject().Field("doc", d.doc_id).Field("id", a.external_id).Field("cluster", d.cluster);
    w.Field("kept", d.kept).Field("kept_id", k.external_id).Field("similarity", d.similarity).EndObject();
    line_ = w.Take();
    line_ += '\n';
    return jsonl_->Append(line_);
  }
  Status Finish(const std::string& bitmap_path) {
    DEDUPDB_RETURN_IF_ERROR(jsonl_->Finish());
    bitmap_.runOptimize();
    std::string bits(bitmap_.getSizeInBytes(true), '\0');
    bitmap_.write(bits.data(), true);
    return WriteFileAtomic(store_.env(), bitmap_path, bits);
  }
  const Roaring64Map& bitmap() const { return bitmap_; }

 private:
  const DocStore& store_;
  std::unique_ptr<TextOutput> jsonl_;
  Roaring64Map bitmap_;
  std::string line_;
};

Status WriteKept(const Opts& o, const DocStore& store, const Roaring64Map& removed, uint64_t* written_docs) {
  Env* env = store.env();
  std::string line;
  *written_docs = 0;
  if (!o.write.empty()) {
    std::unique_ptr<TextOutput> out;  // zstd-compressed when the name ends in .zst
    DEDUPDB_RETURN_IF_ERROR(TextOutput::Open(env, o.write, &out));
    for (uint64_t d = 0; d < store.num_docs(); ++d) {
      if (removed.contains(d)) continue;
      DocMeta meta;
      DEDUPDB_RETURN_IF_ERROR(store.GetMeta(d, &meta));
      JsonWriter w;
      w.BeginObject().Field("id", meta.external_id).Field("text", store.Text(d)).EndObject();
      line = w.Take();
      line += '\n';
      DEDUPDB_RETURN_IF_ERROR(out->Append(line));
      ++*written_docs;
    }
    DEDUPDB_RETURN_IF_ERROR(out->Finish());
  }
  return Status::OK();
}

int Run(const Opts& o) {
  const char* cmd = "dedup-near";
  NearDedupOptions d;
  d.exact = o.exact;
  if (o.keep == "first") {
    d.keep = KeepPolicy::kFirst;
  } else if (o.keep == "longest") {
    d.keep = KeepPolicy::kLongest;
  } else {
    return cli::ReportUsageError(cmd, Status::InvalidArgument("--keep must be first or longest"));
  }
  Status s = cli::ParseSize(o.memory, &d.memory_bytes);
  if (!s.ok()) return cli::ReportUsageError(cmd, s.WithContext("--memory"));
  if (o.threshold != -1 && !(o.threshold > 0 && o.threshold <= 1)) {
    return cli::ReportUsageError(cmd, Status::InvalidArgument("--threshold must be in (0, 1]"));
  }
  std::unique_ptr<DocStore> store;
  s = DocStore::Open(o.store, &store);
  if (!s.ok()) return cli::ReportError(cmd, s);
  std::unique_ptr<LshIndex> index;
  s = LshIndex::Open(*store, o.name, &index);
  if (!s.ok()) return cli::ReportError(cmd, s);
  d.threshold = o.threshold == -1 ? index->manifest().threshold : o.threshold;
  d.show_progress = !cli::Globals().quiet;
  d.env = store->env();
  s = store->env()->CreateDirs(o.out_dir);
  d.tmp_dir = o.tmp_dir.empty() ? JoinPath(o.out_dir, "tmp") : o.tmp_dir;
  if (s.ok()) s = store->env()->CreateDirs(d.tmp_dir);
  if (!s.ok()) return cli::ReportError(cmd, s);
  if (index->indexed_docs() < store->num_docs() && !cli::Globals().quiet) {
    std::fprintf(stderr, "dedupdb %s: note: index covers %llu of %llu docs (run index-lsh to add the rest); "
                 "unindexed docs are kept\n", cmd, (unsigned long long)index->indexed_docs(),
                 (unsigned long long)store->num_docs());
  }

  RemovedSink sink(*store);
  s = sink.Open(JoinPath(o.out_dir, "removed.jsonl"));
  if (!s.ok()) return cli::ReportError(cmd, s);
  d.on_removed = [&sink](const RemovedDoc& rd) { return sink.Add(rd); };
  NearDedupResult r;
  s = NearDedup(*store, *index, d, &r);
  if (o.tmp_dir.empty()) store->env()->RemoveTree(d.tmp_dir);
  if (s.ok()) s = sink.Finish(JoinPath(o.out_dir, "removed.roaring"));
  if (!s.ok()) return cli::ReportError(cmd, s);
  uint64_t written = 0;
  s = WriteKept(o, *store, sink.bitmap(), &written);
  if (!s.ok()) return cli::ReportError(cmd, s);

  if (cli::Globals().json) {
    JsonWriter w;
    w.BeginObject().Field("ok", true).Field("command", cmd).Field("threshold", d.threshold);
    w.Field("verification", o.exact ? "exact" : "estimated").Field("keep", o.keep);
    w.Field("docs", r.docs).Field("candidate_pairs", r.candidate_pairs).Field("pair_records", r.pair_records);
    w.Field("verified_pairs", r.verified_pairs).Field("accepted_pairs", r.accepted_pairs);
    w.Field("skipped_pairs", r.skipped_pairs).Field("clusters", r.clusters);
    w.Field("clustered_docs", r.clustered_docs).Field("union_find_bytes", r.union_find_bytes);
    w.Field("removed_docs", r.removed_docs).Field("removed_bytes", r.removed_bytes);
    w.Field("memory_budget", d.memory_bytes).Field("spill_files", static_cast<uint64_t>(r.spill_files));
    w.Field("spilled_bytes", r.spilled_bytes).Field("seconds", r.seconds);
    w.Field("removed_bitmap", JoinPath(o.out_dir, "removed.roaring"));
    w.Field("removed_jsonl", JoinPath(o.out_dir, "removed.jsonl"));
    if (!o.write.empty()) w.Field("written", o.write).Field("written_docs", written);
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
  } else {
    std::printf("near-dedup at Jaccard >= %.3g (%s verification, keep %s): %llu docs, %llu candidate pairs "
                "(%llu verified, %llu already joined)\n",
                d.threshold, o.exact ? "exact" : "estimated", o.keep.c_str(), (unsigned long long)r.docs,
                (unsigned long long)r.candidate_pairs, (unsigned long long)r.verified_pairs,
                (unsigned long long)r.skipped_pairs);
    std::printf("%llu clusters, %llu docs removed (%s); spill: %zu file(s), %s under a %s budget; %.1f s\n",
                (unsigned long long)r.clusters, (unsigned long long)r.removed_docs, cli::HumanBytes(r.removed_bytes).c_str(),
                r.spill_files, cli::HumanBytes(r.spilled_bytes).c_str(), cli::HumanBytes(d.memory_bytes).c_str(),
                r.seconds);
    std::printf("wrote %s/removed.roaring and %s/removed.jsonl\n", o.out_dir.c_str(), o.out_dir.c_str());
    if (!o.write.empty()) std::printf("wrote %llu kept docs to %s\n", (unsigned long long)written, o.write.c_str());
  }
  return cli::kExitOk;
}

dedupdb::cli::CommandRegistrar reg("dedup-near", "Batch near-duplicate removal over the LSH index",
                                   [](CLI::App* app) {
  auto o = std::make_shared<Opts>();
  app->add_option("STORE", o->store, "Store directory")->required();
  app->add_option("--out", o->out_dir, "Output directory for removed.roaring and removed.jsonl")->required();
  app->add_option("--threshold", o->threshold, "Jaccard threshold (default: the index's)");
  app->add_flag("--exact", o->exact, "Verify pairs by exact shingle Jaccard (default: MinHash estimate)");
  app->add_option("--keep", o->keep, "Doc kept per cluster: first or longest")->capture_default_str();
  app->add_option("--memory", o->memory, "Memory budget (pairs spill to disk beyond it)")->capture_default_str();
  app->add_option("--name", o->name, "LSH index name")->capture_default_str();
  app->add_option("--write", o->write, "Write the kept documents to this .jsonl.zst");
  app->add_option("--tmp-dir", o->tmp_dir, "Directory for pair spill files (default: OUT/tmp)");
  return [o]() { return Run(*o); };
});

}  // namespace
