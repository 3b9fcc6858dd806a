// dedupdb longest STORE (--text T | --file F) [--min-len 20 --max-locations 10 --name default]
// Which parts of a text appear verbatim in the corpus (query/longest_match.h).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "index/suffix_array.h"
#include "query/longest_match.h"
#include "query/sa_query_arg.h"
#include "storage/doc_store.h"
#include "storage/env.h"
#include "storage/json_writer.h"
#include "storage/progress.h"
#include "tools/command_registry.h"

namespace {

using namespace dedupdb;

constexpr const char* kHelp = R"(For every position of the input text, the longest prefix starting there that
occurs in the corpus (matching statistics), and the maximal matching spans of
at least --min-len symbols with their occurrence count and first locations
(doc id, external id, offset; smallest doc id first). Matches never cross a
document boundary. Symbols are bytes (token ids for a token index: the input
is then token ids separated by spaces, commas or newlines).

--per-position adds the whole per-position array to the --json output.
Exit code 0 whether or not anything matched.)";

struct Opts {
  std::string store, text, file, name = "default";
  uint64_t min_len = 20, max_locations = 10;
  bool per_position = false;
};

Status ReadInput(const std::string& path, std::string* out) {
  Env* env = Env::Default();
  if (path != "-") return ReadFileToString(env, path, out);
  std::unique_ptr<SequentialFile> in;
  DEDUPDB_RETURN_IF_ERROR(env->NewStdinFile(&in));
  char buf[1 << 16];
  for (;;) {
    size_t got = 0;
    DEDUPDB_RETURN_IF_ERROR(in->Read(sizeof(buf), buf, &got));
    if (got == 0) return Status::OK();
    out->append(buf, got);
  }
}

std::string Display(const SuffixArrayIndex& index, std::string_view bytes, size_t max_chars) {
  std::string s = FormatSymbols(index, bytes);
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > max_chars) s = s.substr(0, max_chars) + "...";
  return s;
}

int Run(const Opts& o) {
  if (o.text.empty() == o.file.empty())
    return cli::ReportUsageError("longest", Status::InvalidArgument("give exactly one of --text or --file"));
  std::string raw = o.text;
  if (!o.file.empty()) {
    Status st = ReadInput(o.file, &raw);
    if (!st.ok()) return cli::ReportError("longest", st);
  }
  std::unique_ptr<DocStore> store;
  Status st = DocStore::Open(o.store, &store);
  if (!st.ok()) return cli::ReportError("longest", st);
  std::unique_ptr<SuffixArrayIndex> index;
  st = SuffixArrayIndex::Open(store.get(), o.name, &index);
  if (!st.ok()) return cli::ReportError("longest", st);
  if (index->token_mode()) std::replace(raw.begin(), raw.end(), '\n', ' ');
  std::string text;
  st = ParseSaQueryArg(*index, raw, &text);
  if (!st.ok()) return cli::ReportError("longest", st.WithContext(o.file.empty() ? "--text" : o.file));

  LongestMatchOptions opt;
  opt.min_len = o.min_len;
  opt.max_locations = o.max_locations;
  // Progress only for inputs long enough to take a while.
  ProgressMeter meter("longest", 0, ProgressMeter::Unit::kItems,
                      !cli::Globals().quiet && text.size() / index->symbol_bytes() >= (1u << 16));
  opt.progress = [&meter](uint64_t done, uint64_t total) {
    meter.SetTotal(total);
    meter.Update(done);
  };
  auto t0 = std::chrono::steady_clock::now();
  LongestMatchResult r;
  st = LongestMatches(*index, text, opt, &r);
  if (!st.ok()) return cli::ReportError("longest", st);
  meter.Finish();
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const uint32_t sb = index->symbol_bytes();
  const uint64_t n = r.match_length.size();
  uint64_t longest = n ? *std::max_element(r.match_length.begin(), r.match_length.end()) : 0;

  auto ext_id = [&](uint64_t doc) -> std::string {
    if (index->token_mode()) return "";
    DocMeta meta;
    return store->GetMeta(doc, &meta).ok() ? meta.external_id : "";
  };
  if (cli::Globals().json) {
    JsonWriter j;
    j.BeginObject().Field("symbols", n).Field("min_len", o.min_len).Field("longest", longest)
        .Field("covered", r.covered).Field("covered_fraction", n ? double(r.covered) / double(n) : 0.0)
        .Field("searches", r.searches).Field("millis", ms);
    if (o.per_position) {
      j.Key("match_length").BeginArray();
      for (uint64_t v : r.match_length) j.Uint(v);
      j.EndArray();
    }
    j.Key("spans").BeginArray();
    for (const MatchSpan& s : r.spans) {
      j.BeginObject().Field("begin", s.begin).Field("length", s.length)
          .Field("text", FormatSymbols(*index, std::string_view(text).substr(s.begin * sb, s.length * sb)))
          .Field("count", s.count).Field("locations_truncated", s.locations_truncated).Key("locations").BeginArray();
      for (const SpanLocation& l : s.locations)
        j.BeginObject().Field("doc_id", l.doc_id).Field("external_id", ext_id(l.doc_id)).Field("offset", l.offset)
            .EndObject();
      j.EndArray().EndObject();
    }
    j.EndArray().EndObject();
    std::printf("%s\n", j.str().c_str());
  } else {
    std::printf("%llu symbols; longest match %llu; %llu span(s) >= %llu cover %llu symbols (%.1f%%)\n",
                (unsigned long long)n, (unsigned long long)longest, (unsigned long long)r.spans.size(),
                (unsigned long long)o.min_len, (unsigned long long)r.covered, n ? 100.0 * r.covered / n : 0.0);
    for (const MatchSpan& s : r.spans) {
      std::printf("[%llu, %llu) len %llu, %llu occurrence(s): %s\n", (unsigned long long)s.begin,
                  (unsigned long long)(s.begin + s.length), (unsigned long long)s.length, (unsigned long long)s.count,
                  Display(*index, std::string_view(text).substr(s.begin * sb, s.length * sb), 80).c_str());
      for (const SpanLocation& l : s.locations)
        std::printf("    doc %llu [%s] @%llu\n", (unsigned long long)l.doc_id, ext_id(l.doc_id).c_str(),
                    (unsigned long long)l.offset);
    }
  }
  return cli::kExitOk;
}

cli::CommandRegistrar reg("longest", "Longest corpus matches at every position of a text (attribution)",
                          [](CLI::App* app) {
  auto o = std::make_shared<Opts>();
  app->footer(kHelp);
  app->add_option("STORE", o->store, "Store directory")->required();
  app->add_option("--text", o->text, "Input text");
  app->add_option("--file", o->file, "Read the input text from a file ('-' = stdin)");
  app->add_option("--min-len", o->min_len, "Report maximal spans at least this many symbols long");
  app->add_option("--max-locations", o->max_locations, "Locations listed per span");
  app->add_flag("--per-position", o->per_position, "Include the per-position lengths in --json output");
  app->add_option("--name", o->name, "Index name");
  return [o]() { return Run(*o); };
});

}  // namespace
