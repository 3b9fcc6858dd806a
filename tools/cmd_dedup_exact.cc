// dedupdb dedup-exact STORE [--min-len 100] [--keep first|none] [--across OTHER]
//                   [--method anchors|merge] [--granularity span|line|paragraph --threshold 0.5]
//                   [--ranges OUT.ddr] [--ranges-jsonl OUT.jsonl] [--write OUT.jsonl.zst]
// Exact-substring dedup: every window of --min-len bytes (tokens for a token
// index) that occurs more than once, or that occurs in OTHER, becomes a
// removal range. The default anchors method reads the store's text directly;
// --method merge needs the suffix-array index (`dedupdb index-sa STORE`), as
// does a token-mode dedup. Methods and output formats: docs/exact_dedup.md.
#include <cstdio>
#include <memory>
#include <string>

#include "query/exact_dedup_job.h"
#include "storage/json_writer.h"
#include "tools/cli_util.h"
#include "tools/command_registry.h"

namespace {

using namespace dedupdb;

struct Opts {
  std::string store;
  uint64_t min_len = 100;
  std::string index = "default";
  std::string across;
  std::string across_index = "default";
  std::string keep = "first";
  std::string method = "anchors";
  std::string memory = "2G";
  std::string tmp_dir;
  std::string granularity = "span";
  double threshold = 0.5;
  std::string ranges, ranges_jsonl, write;
  bool keep_empty = false;
  size_t top = 10;
  unsigned threads = 0;
};

int Usage(const std::string& msg) { return cli::ReportUsageError("dedup-exact", Status::InvalidArgument(msg)); }

void PrintJson(const Opts& o, const ExactDedupJobOptions& jo, const ExactDedupJobReport& r) {
  const ExactDedupStats& s = r.stats;
  JsonWriter j;
  j.BeginObject()
      .Field("store", o.store)
      .Field("mode", o.across.empty() ? "self" : "across")
      .Field("unit", r.token_mode ? "tokens" : "bytes")
      .Field("min_len", o.min_len)
      .Field("keep", o.across.empty() ? o.keep : std::string("none"))
      .Field("method", s.fallback.empty() ? o.method : std::string("merge"))
      .Field("fallback", s.fallback)
      .Field("granularity", GranularityName(jo.granularity))
      .Field("threshold", jo.granularity == Granularity::kSpan ? 0.0 : jo.threshold)
      .Field("docs", r.docs)
      .Field("symbols", r.symbols)
      .Field("shards", r.shards);
  if (!o.across.empty()) j.Field("across", o.across).Field("across_shards", r.other_shards);
  j.Field("suffixes_merged", s.suffixes)
      .Field("repeated_groups", s.repeated_groups)
      .Field("repeated_windows", s.repeated_windows)
      .Field("removed_windows", s.removed_windows)
      .Field("span_ranges", r.span_ranges)
      .Field("span_removed", r.span_symbols_removed)
      .Field("ranges", r.ranges)
      .Field("removed", r.symbols_removed)
      .Field("removed_fraction", r.symbols ? double(r.symbols_removed) / r.symbols : 0.0)
      .Field("docs_touched", r.docs_touched)
      .Field("docs_emptied", r.docs_emptied)
      .Field("docs_written", r.docs_written)
      .Field("bytes_written", r.bytes_written)
      .Field("text_cached_bytes", s.text_cached_bytes)
      .Field("spill_runs", s.spill_runs)
      .Field("spilled_positions", s.spilled_positions)
      .Field("threads", s.threads)
      .Field("partitions", s.partitions)
      .Field("anchors", s.anchors)
      .Field("anchor_groups", s.anchor_groups)
      .Field("anchor_passes", s.anchor_passes)
      .Field("giant_groups", s.giant_groups)
      .Field("merge_seconds", s.merge_seconds)
      .Field("collect_seconds", s.collect_seconds)
      .Field("scan_seconds", s.scan_seconds)
      .Field("resolve_seconds", s.resolve_seconds)
      .Field("find_seconds", r.find_seconds)
      .Field("output_seconds", r.output_seconds)
      .Field("seconds", r.seconds);
  j.Key("per_source").BeginArray();
  for (const SourceStats& p : r.per_source) {
    j.BeginObject()
        .Field("source", p.source)
        .Field("docs", p.docs)
        .Field("bytes", p.bytes)
        .Field("docs_touched", p.docs_touched)
        .Field("docs_emptied", p.docs_emptied)
        .Field("bytes_removed", p.bytes_removed)
        .Field("removed_fraction", p.bytes ? double(p.bytes_removed) / p.bytes : 0.0)
        .EndObject();
  }
  j.EndArray();
  j.Key("top").BeginArray();
  for (const RepeatedSpan& t : s.top) {
    j.BeginObject().Field("count", t.count);
    if (!o.across.empty()) j.Field("other_count", t.other_count);
    j.Field("length", t.length).Field("position", t.position).Field("text", t.text).EndObject();
  }
  j.EndArray().EndObject();
  std::printf("%s\n", j.str().c_str());
}

void PrintText(const Opts& o, const ExactDedupJobReport& r) {
  const char* unit = r.token_mode ? "tokens" : "bytes";
  std::printf("dedup-exact %s (%s, k=%llu %s): removed %llu of %llu %s (%.3f%%) in %llu ranges; "
              "%llu docs touched, %llu emptied; %.1f s\n",
              o.store.c_str(), o.across.empty() ? "self" : ("across " + o.across).c_str(),
              (unsigned long long)o.min_len, unit, (unsigned long long)r.symbols_removed,
              (unsigned long long)r.symbols, unit, r.symbols ? 100.0 * r.symbols_removed / r.symbols : 0.0,
              (unsigned long long)r.ranges, (unsigned long long)r.docs_touched, (unsigned long long)r.docs_emptied,
              r.seconds);
  if (!r.stats.fallback.empty()) std::printf("  (merge method used: %s)\n", r.stats.fallback.c_str());
  for (const SourceStats& p : r.per_source) {
    std::printf("  %-40s %8llu docs  %12llu bytes  removed %12llu (%.3f%%)  touched %llu  emptied %llu\n",
                p.source.c_str(), (unsigned long long)p.docs, (unsigned long long)p.bytes,
                (unsigned long long)p.bytes_removed, p.bytes ? 100.0 * p.bytes_removed / p.bytes : 0.0,
                (unsigned long long)p.docs_touched, (unsigned long long)p.docs_emptied);
  }
  if (!r.stats.top.empty()) std::printf("top repeated spans:\n");
  for (const RepeatedSpan& t : r.stats.top) {
    std::string snippet = t.text.substr(0, 80);
    for (char& c : snippet)
      if (c == '\n' || c == '\t' || c == '\r') c = ' ';
    std::printf("  x%-8llu len>=%-6llu \"%s\"\n", (unsigned long long)t.count, (unsigned long long)t.length,
                snippet.c_str());
  }
}

int Run(const Opts& o) {
  ExactDedupJobOptions jo;
  jo.store_dir = o.store;
  jo.index_name = o.index;
  jo.across_store = o.across;
  jo.across_index = o.across_index;
  if (o.min_len == 0) return Usage("--min-len must be at least 1");
  jo.dedup.min_len = o.min_len;
  if (o.keep == "first") {
    jo.dedup.keep = KeepPolicy::kFirst;
  } else if (o.keep == "none") {
    jo.dedup.keep = KeepPolicy::kNone;
  } else {
    return Usage("--keep must be 'first' or 'none'");
  }
  if (o.method == "anchors") {
    jo.dedup.method = DedupMethod::kAnchors;
  } else if (o.method == "merge") {
    jo.dedup.method = DedupMethod::kMerge;
  } else {
    return Usage("--method must be 'anchors' or 'merge'");
  }
  Status st = cli::ParseSize(o.memory, &jo.dedup.memory_bytes);
  if (!st.ok()) return Usage("--memory: " + st.message());
  jo.dedup.tmp_dir = o.tmp_dir;
  jo.dedup.top_n = o.top;
  jo.dedup.threads = o.threads;
  jo.dedup.show_progress = !cli::Globals().quiet;
  if (!ParseGranularity(o.granularity, &jo.granularity)) return Usage("--granularity must be span, line or paragraph");
  if (!(o.threshold >= 0 && o.threshold <= 1)) return Usage("--threshold must be a fraction between 0 and 1");
  jo.threshold = o.threshold;
  jo.ranges_path = o.ranges;
  jo.ranges_jsonl_path = o.ranges_jsonl;
  jo.write_path = o.write;
  jo.keep_empty = o.keep_empty;

  ExactDedupJobReport r;
  st = RunExactDedupJob(jo, &r);
  if (!st.ok()) return cli::ReportError("dedup-exact", st);
  if (cli::Globals().json) {
    PrintJson(o, jo, r);
  } else {
    PrintText(o, r);
  }
  return cli::kExitOk;
}

cli::CommandRegistrar reg(
    "dedup-exact", "Exact-substring dedup: remove repeated spans of >= k bytes (or tokens), within or across stores",
    [](CLI::App* app) {
      auto o = std::make_shared<Opts>();
      app->add_option("STORE", o->store, "Store directory (--method merge and token mode also need its suffix-array index: dedupdb index-sa)")->required();
      app->add_option("--min-len,-k", o->min_len, "Minimum repeated span length k (bytes; tokens for a token index)");
      app->add_option("--index", o->index, "Suffix-array index name (--method merge; token-mode indexes)");
      app->add_option("--across", o->across, "Other store: remove spans of STORE that occur in it");
      app->add_option("--across-index", o->across_index, "Suffix-array index name in the other store");
      app->add_option("--method", o->method,
                      "How repeated windows are found: 'anchors' (default: content-defined anchors grouped by hash) "
                      "or 'merge' (k-way merge of the shards' suffix arrays); the output is the same");
      app->add_option("--keep", o->keep, "Self mode: keep the first occurrence ('first', default) or none ('none')");
      app->add_option("--memory", o->memory,
                      "Memory budget (default 2G): up to half for in-memory copies of the shard texts, the rest "
                      "for buffered positions before spilling to disk");
      app->add_option("--tmp-dir", o->tmp_dir, "Directory for spill files (default: a fresh dir under $TMPDIR)");
      app->add_option("--granularity", o->granularity,
                      "span (default), line or paragraph: drop whole lines/paragraphs covered > --threshold");
      app->add_option("--threshold", o->threshold, "Line/paragraph mode: fraction covered to drop the unit (0..1)");
      app->add_option("--ranges", o->ranges, "Write the binary range list (kRangeList file)");
      app->add_option("--ranges-jsonl", o->ranges_jsonl, "Write the range list as JSONL (.zst compresses)");
      app->add_option("--write", o->write, "Write the deduplicated corpus as JSONL {id,text} (.zst compresses)");
      app->add_flag("--keep-empty", o->keep_empty, "--write: keep documents that lost all their text");
      app->add_option("--top", o->top, "Number of top repeated spans to report");
      app->add_option("--threads", o->threads,
                      "Merging threads (0 = cores); the output does not depend on it");
      return [o]() { return Run(*o); };
    });

}  // namespace
