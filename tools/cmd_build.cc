// dedupdb build STORE INPUT...: ingest corpora into a store.
#include <cstdio>

#include "storage/json_writer.h"
#include "storage/store_builder.h"
#include "tools/cli_util.h"
#include "tools/command_registry.h"

namespace dedupdb::cli {
namespace {

struct BuildArgs {
  std::string store;
  std::vector<std::string> inputs;
  std::string text_field = "text", id_field = "id", on_bad = "fail", segment_size = "256M";
  bool dedup_exact = false;
};

int RunBuild(const BuildArgs& a) {
  BuildOptions opt;
  opt.reader.text_field = a.text_field;
  opt.reader.id_field = a.id_field;
  opt.reader.policy = a.on_bad == "skip" ? BadInputPolicy::kSkip : BadInputPolicy::kFail;
  opt.dedup_exact = a.dedup_exact;
  opt.show_progress = !Globals().quiet;
  Status s = ParseSize(a.segment_size, &opt.segment_bytes);
  if (!s.ok()) return ReportError("build", s);
  if (opt.segment_bytes == 0) return ReportError("build", Status::InvalidArgument("--segment-size must be > 0"));
  BuildReport r;
  s = BuildStore(a.store, a.inputs, opt, &r);
  if (!s.ok()) return ReportError("build", s);
  double mbps = r.seconds > 0 ? r.decoded_bytes / 1e6 / r.seconds : 0;
  if (Globals().json) {
    JsonWriter w;
    w.BeginObject().Field("ok", true).Field("store", a.store);
    w.Field("docs_read", r.docs_read).Field("docs_added", r.docs_added).Field("bytes_added", r.bytes_added);
    w.Field("segments_added", r.segments_added).Field("exact_duplicates", r.exact_duplicates);
    w.Field("dropped_duplicates", r.dropped_duplicates).Field("resumed_records", r.resumed_records);
    w.Field("sources_already_done", r.sources_already_done).Field("blank_lines", r.blank_lines);
    w.Field("input_bytes", r.input_bytes).Field("decoded_bytes", r.decoded_bytes);
    w.Field("seconds", r.seconds).Field("decoded_mb_per_s", mbps);
    w.Key("skipped").BeginArray();
    for (const auto& k : r.skipped) {
      w.BeginObject().Field("source", k.source).Field("line", k.line).Field("byte_offset", k.byte_offset);
      w.Field("reason", k.reason).EndObject();
    }
    w.EndArray().EndObject();
    std::printf("%s\n", w.str().c_str());
    return kExitOk;
  }
  std::printf("store %s: +%llu docs (%s) in %.2f s, %.1f MB/s of input text, %llu new segment(s)\n", a.store.c_str(),
              static_cast<unsigned long long>(r.docs_added), HumanBytes(static_cast<double>(r.bytes_added)).c_str(),
              r.seconds, mbps, static_cast<unsigned long long>(r.segments_added));
  std::printf("exact duplicates: %llu%s\n", static_cast<unsigned long long>(r.exact_duplicates),
              a.dedup_exact ? (" (" + std::to_string(r.dropped_duplicates) + " dropped, first copy kept)").c_str()
                            : " (kept; use --dedup-exact to drop)");
  if (r.resumed_records > 0 || r.sources_already_done > 0) {
    std::printf("resumed: %llu records already committed, %llu input file(s) already complete\n",
                static_cast<unsigned long long>(r.resumed_records), static_cast<unsigned long long>(r.sources_already_done));
  }
  if (r.blank_lines > 0) std::printf("blank lines ignored: %llu\n", static_cast<unsigned long long>(r.blank_lines));
  if (!r.skipped.empty()) {
    std::printf("skipped %zu bad record(s):\n", r.skipped.size());
    for (const auto& k : r.skipped) {
      std::printf("  %s:%llu (byte %llu): %s\n", k.source.c_str(), static_cast<unsigned long long>(k.line),
                  static_cast<unsigned long long>(k.byte_offset), k.reason.c_str());
    }
  }
  return kExitOk;
}

CommandRegistrar reg("build", "Ingest JSONL/.gz/.zst/.txt files, directories, globs or - (stdin) into a store",
                     [](CLI::App* app) -> Runner {
                       auto a = std::make_shared<BuildArgs>();
                       app->add_option("store", a->store, "Store directory (created if missing)")->required();
                       app->add_option("inputs", a->inputs, "Input files, directories, globs, or - for stdin")->required();
                       app->add_option("--text-field", a->text_field, "JSON field holding the text")->capture_default_str();
                       app->add_option("--id-field", a->id_field, "JSON field holding the external id")->capture_default_str();
                       app->add_option("--on-bad-input", a->on_bad, "fail: stop at the first bad record; skip: list and continue")
                           ->check(CLI::IsMember({"fail", "skip"}))->capture_default_str();
                       app->add_flag("--dedup-exact", a->dedup_exact, "Store only the first of byte-identical documents");
                       app->add_option("--segment-size", a->segment_size, "Target text bytes per segment")->capture_default_str();
                       return [a] { return RunBuild(*a); };
                     });

}  // namespace
}  // namespace dedupdb::cli
