// dedupdb decon index|scan|check|report: benchmark decontamination.
//
//   decon index --out evals.ddx SETS...       build the eval n-gram index
//                                             (--tokens: fields hold token-id arrays)
//   decon scan --index evals.ddx INPUTS...    scan a corpus (or --store STORE, or
//                                             --tokens FILE --separator ID)
//   decon check --index evals.ddx [TEXT]      check one text (or --file / stdin;
//                                             token index: ids "464 2068 ...")
//   decon report --index evals.ddx --store S  index-backed report (suffix array)
#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "index/eval_index.h"
#include "index/eval_set.h"
#include "query/decon_report.h"
#include "query/decon_sa_report.h"
#include "query/decon_scan.h"
#include "query/decontaminator.h"
#include "storage/json_writer.h"
#include "tools/cli_util.h"
#include "tools/command_registry.h"

namespace {

using namespace dedupdb;

struct Opts {
  // index
  std::string out;
  std::vector<std::string> sets;
  unsigned n = 13;
  std::string mode = "lm-eval";
  std::string fields;
  bool token_sets = false;
  // scan / check / report
  std::string index;
  std::vector<std::string> inputs;
  std::string store, sa_name = "default";
  std::string text_field = "text", id_field = "id";
  std::string on_bad = "fail";
  std::string flagged, purify, policy = "drop-doc";
  uint64_t context = 200;
  double threshold = 0;
  std::string report_json, report_csv, report_html;
  unsigned threads = 0;
  uint64_t limit = UINT64_MAX;
  bool fail_on_hit = false;
  bool use_mmap = false;
  std::string text, file;
  // token corpus
  std::string tokens, dtype;
  uint64_t separator = UINT64_MAX;
};

// "464 2068,7586" -> ids; false on anything else.
bool ParseTokenIds(std::string_view s, std::vector<uint32_t>* out, std::string* error) {
  out->clear();
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == ',' || c == '\n' || c == '\t' || c == '\r') {
      ++i;
      continue;
    }
    if (c < '0' || c > '9') {
      *error = "not a token id at byte " + std::to_string(i) + " (want ids separated by spaces or commas)";
      return false;
    }
    uint64_t v = 0;
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + (s[i] - '0');
      if (v > UINT32_MAX) {
        *error = "token id at byte " + std::to_string(start) + " exceeds 4294967295";
        return false;
      }
      ++i;
    }
    out->push_back(static_cast<uint32_t>(v));
  }
  return true;
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t c = s.find(',', pos);
    if (c == std::string::npos) c = s.size();
    if (c > pos) out.push_back(s.substr(pos, c - pos));
    pos = c + 1;
  }
  return out;
}

bool Progress() { return !cli::Globals().quiet && !cli::Globals().json; }

int RunIndex(const Opts& o) {
  EvalIndexOptions io;
  io.n = o.n;
  io.tokens = o.token_sets;
  if (!ParseNormalizationMode(o.mode, &io.mode))
    return cli::ReportError("decon index", Status::InvalidArgument("unknown --mode " + o.mode + " (lm-eval|words)"));
  std::vector<EvalSetSpec> specs;
  std::vector<std::string> fields = SplitComma(o.fields);
  for (const std::string& arg : o.sets) {
    EvalSetSpec spec;
    Status s = ParseEvalSetArg(arg, fields, &spec);
    if (!s.ok()) return cli::ReportError("decon index", s);
    specs.push_back(spec);
  }
  auto t0 = std::chrono::steady_clock::now();
  EvalIndexBuildStats st;
  Status s = BuildEvalIndex(Env::Default(), specs, io, o.out, &st);
  if (!s.ok()) return cli::ReportError("decon index", s);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (cli::Globals().json) {
    JsonWriter w;
    w.BeginObject().Field("out", o.out).Field("n", uint64_t{io.n})
        .Field("normalization", io.tokens ? "tokens" : NormalizationModeName(io.mode))
        .Field("sets", st.sets).Field("examples", st.examples).Field("empty_examples", st.empty_examples)
        .Field("short_examples", st.short_examples).Field("grams", st.grams).Field("postings", st.postings)
        .Field("file_bytes", st.file_bytes).Field("seconds", secs).EndObject();
    std::printf("%s\n", w.str().c_str());
  } else {
    const char* unit = io.tokens ? "tokens" : "words";
    std::printf("%s: %llu sets, %llu examples (%llu shorter than %u %s, %llu empty skipped), %llu distinct %u-grams, %s, %.2f s\n",
                o.out.c_str(), (unsigned long long)st.sets, (unsigned long long)st.examples,
                (unsigned long long)st.short_examples, io.n, unit, (unsigned long long)st.empty_examples,
                (unsigned long long)st.grams, io.n, cli::HumanBytes(double(st.file_bytes)).c_str(), secs);
  }
  return cli::kExitOk;
}

Status WriteReports(const Opts& o, const DeconReport& rep, const DeconAccumulator& acc) {
  Env* env = Env::Default();
  if (!o.report_json.empty()) DEDUPDB_RETURN_IF_ERROR(WriteFileAtomic(env, o.report_json, DeconReportJson(rep, acc)));
  if (!o.report_csv.empty()) DEDUPDB_RETURN_IF_ERROR(WriteFileAtomic(env, o.report_csv, DeconReportCsv(rep, acc)));
  if (!o.report_html.empty()) DEDUPDB_RETURN_IF_ERROR(WriteFileAtomic(env, o.report_html, DeconReportHtml(rep, acc)));
  return Status::OK();
}

void PrintSetSummary(const DeconReport& rep) {
  for (const DeconSetRow& s : rep.sets) {
    std::printf("  %-28s %6llu examples  %6llu any-gram (%6.2f%%)  %6llu at threshold (%6.2f%%)\n", s.name.c_str(),
                (unsigned long long)s.examples, (unsigned long long)s.contaminated_any, s.rate_any * 100,
                (unsigned long long)s.contaminated_threshold, s.rate_threshold * 100);
  }
}

int RunScan(const Opts& o) {
  if (o.threshold < 0 || o.threshold > 1)
    return cli::ReportError("decon scan", Status::InvalidArgument("--threshold must be in [0, 1]"));
  Decontaminator d;
  Status s = Decontaminator::Open(o.index, &d);
  if (!s.ok()) return cli::ReportError("decon scan", s);
  DeconScanOptions so;
  so.inputs = o.inputs;
  so.store = o.store;
  so.token_file = o.tokens;
  if (!o.tokens.empty()) {
    if (o.separator == UINT64_MAX)
      return cli::ReportError("decon scan", Status::InvalidArgument("--tokens needs --separator ID (the document separator token)"));
    so.separator = o.separator;
    so.token_bytes = o.dtype.empty() ? 0 : o.dtype == "u16" ? 2 : 4;
  }
  so.reader.text_field = o.text_field;
  so.reader.id_field = o.id_field;
  so.reader.policy = o.on_bad == "skip" ? BadInputPolicy::kSkip : BadInputPolicy::kFail;
  so.flagged_out = o.flagged;
  so.purify_out = o.purify;
  if (!ParsePurifyPolicy(o.policy, &so.policy))
    return cli::ReportError("decon scan", Status::InvalidArgument("unknown --policy " + o.policy + " (drop-doc|drop-span|mark)"));
  so.context_bytes = o.context;
  so.threads = o.threads;
  so.limit = o.limit;
  so.progress = Progress();
  if (cli::Globals().json && o.flagged == "-")
    return cli::ReportError("decon scan", Status::InvalidArgument("--flagged - conflicts with --json (both use stdout)"));
  DeconAccumulator acc(d.index());
  DeconScanStats st;
  s = RunDeconScan(Env::Default(), d, so, &acc, &st);
  if (!s.ok()) return cli::ReportError("decon scan", s);
  auto t0 = std::chrono::steady_clock::now();
  DeconReportOptions ro;
  ro.threshold = o.threshold;
  ro.corpus = o.store.empty() ? std::to_string(o.inputs.size()) + " input(s)" : "store " + o.store;
  if (o.inputs.size() == 1) ro.corpus = o.inputs[0];
  ro.corpus_docs = st.docs;
  ro.corpus_bytes = st.bytes;
  ro.flagged_docs = st.flagged_docs;
  ro.seconds = st.seconds;
  DeconReport rep = ComputeDeconReport(acc, ro);
  s = WriteReports(o, rep, acc);
  if (!s.ok()) return cli::ReportError("decon scan", s);
  double report_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (cli::Globals().json) {
    JsonWriter w;
    w.BeginObject().Field("docs", st.docs).Field("bytes", st.bytes).Field("flagged_docs", st.flagged_docs)
        .Field("dropped_docs", st.dropped_docs).Field("removed_bytes", st.removed_bytes).Field("seconds", st.seconds)
        .Field("mb_per_s", st.seconds > 0 ? st.bytes / 1e6 / st.seconds : 0.0).Field("threads", uint64_t{st.threads})
        .Field("report_seconds", report_secs);
    w.Key("skipped").BeginArray();
    for (const SkippedRecord& k : st.skipped) {
      w.BeginObject().Field("source", k.source).Field("line", k.line).Field("byte_offset", k.byte_offset);
      w.Field("reason", k.reason).EndObject();
    }
    w.EndArray();
    w.Key("sets").BeginArray();
    for (const DeconSetRow& r : rep.sets) {
      w.BeginObject().Field("name", r.name).Field("examples", r.examples).Field("contaminated_any", r.contaminated_any)
          .Field("contaminated_at_threshold", r.contaminated_threshold).EndObject();
    }
    w.EndArray().EndObject();
    std::printf("%s\n", w.str().c_str());
  } else {
    std::FILE* f = o.flagged == "-" ? stderr : stdout;
    std::fprintf(f, "scanned %llu docs (%s) in %.2f s (%.1f MB/s, %u threads): %llu flagged\n",
                 (unsigned long long)st.docs, cli::HumanBytes(double(st.bytes)).c_str(), st.seconds,
                 st.seconds > 0 ? st.bytes / 1e6 / st.seconds : 0.0, st.threads, (unsigned long long)st.flagged_docs);
    if (f == stdout) PrintSetSummary(rep);
  }
  // Skipped input is always listed, never dropped silently.
  for (const SkippedRecord& k : st.skipped) {
    std::fprintf(stderr, "skipped %s:%llu (byte %llu): %s\n", k.source.c_str(), (unsigned long long)k.line,
                 (unsigned long long)k.byte_offset, k.reason.c_str());
  }
  if (o.fail_on_hit && st.flagged_docs > 0) return cli::kExitFound;
  return cli::kExitOk;
}

int RunCheck(const Opts& o) {
  Decontaminator d;
  Status s = Decontaminator::Open(o.index, &d);
  if (!s.ok()) return cli::ReportError("decon check", s);
  std::string text = o.text;
  if (!o.file.empty()) {
    s = ReadFileToString(Env::Default(), o.file, &text);
    if (!s.ok()) return cli::ReportError("decon check", s);
  } else if (o.text.empty()) {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::vector<uint32_t> ids;
  if (d.index().token_mode()) {
    std::string error;
    if (!ParseTokenIds(text, &ids, &error))
      return cli::ReportError("decon check", Status::InvalidArgument("token-mode index: " + error));
  }
  auto t0 = std::chrono::steady_clock::now();
  DeconResult r;
  if (d.index().token_mode()) d.CheckTokens(ids.data(), ids.size(), &r);
  else d.Check(text, &r);
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  if (cli::Globals().json) {
    JsonWriter w;
    w.BeginObject().Field("contaminated", r.contaminated()).Field("words", r.num_words).Field("micros", us);
    w.Key("examples").BeginArray();
    for (const DeconExampleHit& e : r.examples) {
      w.BeginObject().Field("name", d.ExampleName(e.example)).Field("grams", uint64_t{e.grams_matched})
          .Field("total", uint64_t{e.grams_total}).Field("coverage", e.coverage()).EndObject();
    }
    w.EndArray().Key("spans").BeginArray();
    for (const DeconSpan& sp : r.spans) w.BeginArray().Uint(sp.begin).Uint(sp.end).EndArray();
    w.EndArray().EndObject();
    std::printf("%s\n", w.str().c_str());
  } else {
    std::printf("%s (%llu words, %zu examples, %zu spans)\n", r.contaminated() ? "CONTAMINATED" : "clean",
                (unsigned long long)r.num_words, r.examples.size(), r.spans.size());
    for (const DeconExampleHit& e : r.examples) {
      std::printf("  %s  %u/%u grams (%.1f%%)\n", d.ExampleName(e.example).c_str(), e.grams_matched, e.grams_total,
                  e.coverage() * 100);
    }
    for (const DeconSpan& sp : r.spans) {
      if (d.index().token_mode()) {
        std::printf("  tokens [%llu, %llu)\n", (unsigned long long)sp.begin, (unsigned long long)sp.end);
        continue;
      }
      std::string snippet = text.substr(sp.begin, std::min<uint64_t>(sp.end - sp.begin, 120));
      for (char& c : snippet) if (c == '\n' || c == '\r' || c == '\t') c = ' ';
      std::printf("  [%llu, %llu) %s%s\n", (unsigned long long)sp.begin, (unsigned long long)sp.end, snippet.c_str(),
                  sp.end - sp.begin > 120 ? "..." : "");
    }
  }
  if (o.fail_on_hit && r.contaminated()) return cli::kExitFound;
  return cli::kExitOk;
}

int RunReport(const Opts& o) {
  if (o.threshold < 0 || o.threshold > 1)
    return cli::ReportError("decon report", Status::InvalidArgument("--threshold must be in [0, 1]"));
  Decontaminator d;
  Status s = Decontaminator::Open(o.index, &d);
  if (!s.ok()) return cli::ReportError("decon report", s);
  DeconSaReportOptions so;
  so.store = o.store;
  so.sa_name = o.sa_name;
  so.use_mmap = o.use_mmap;
  so.progress = Progress();
  DeconAccumulator acc(d.index());
  DeconSaReportStats st;
  s = RunDeconSaReport(Env::Default(), d.index(), so, &acc, &st);
  if (!s.ok()) return cli::ReportError("decon report", s);
  DeconReportOptions ro;
  ro.threshold = o.threshold;
  ro.method = "suffix-array";
  ro.corpus = "store " + o.store;
  ro.corpus_docs = st.corpus_docs;
  ro.corpus_bytes = st.corpus_bytes;
  ro.seconds = st.seconds;
  DeconReport rep = ComputeDeconReport(acc, ro);
  s = WriteReports(o, rep, acc);
  if (!s.ok()) return cli::ReportError("decon report", s);
  if (cli::Globals().json) {
    std::printf("%s", DeconReportJson(rep, acc).c_str());
  } else {
    std::printf("looked up %llu grams in %.2f s via %s (%llu found)\n", (unsigned long long)st.grams_looked_up,
                st.seconds, st.reader.c_str(), (unsigned long long)st.grams_found);
    PrintSetSummary(rep);
  }
  return cli::kExitOk;
}

void AddReportOptions(CLI::App* app, Opts* o) {
  app->add_option("--threshold", o->threshold,
                  "Example counts as contaminated when this fraction of its grams is found (0 = any gram)");
  app->add_option("--report-json", o->report_json, "Write the overlap report as JSON");
  app->add_option("--report-csv", o->report_csv, "Write the overlap report as CSV");
  app->add_option("--report-html", o->report_html, "Write the overlap report as a self-contained HTML page");
}

cli::CommandRegistrar reg("decon", "Benchmark decontamination: eval n-gram index, corpus scan, checks, reports",
                          [](CLI::App* app) {
  auto o = std::make_shared<Opts>();
  app->require_subcommand(1);
  CLI::App* idx = app->add_subcommand("index", "Build the eval n-gram index from benchmark JSONL files");
  idx->add_option("--out", o->out, "Output file (e.g. evals.ddx)")->required();
  idx->add_option("SETS", o->sets, "Eval sets: PATH, NAME=PATH or PATH:field1,field2")->required();
  idx->add_option("-n,--ngram", o->n, "Words per n-gram (default 13)");
  idx->add_option("--mode", o->mode, "Normalisation: lm-eval (default) or words");
  idx->add_option("--fields", o->fields, "Comma-separated fields forming the checked text (default per set: text)");
  idx->add_flag("--tokens", o->token_sets, "Token mode: the fields hold arrays of token ids; grams are token n-grams");
  idx->fallthrough();

  CLI::App* scan = app->add_subcommand("scan", "Scan a corpus for eval n-grams; flag, purify and report");
  scan->add_option("--index", o->index, "Eval index file")->required();
  scan->add_option("INPUTS", o->inputs, "Corpus files, directories or globs (JSONL, .gz/.zst)");
  scan->add_option("--store", o->store, "Scan a store's documents instead of input files");
  scan->add_option("--tokens", o->tokens, "Scan a token corpus (.bin raw little-endian or .npy) with a token-mode index");
  scan->add_option("--dtype", o->dtype, "Token width: u16 or u32 (required for .bin; .npy: from its header)")
      ->check(CLI::IsMember({"u16", "u32"}));
  scan->add_option("--separator", o->separator, "Document separator token id (token corpus)");
  scan->add_option("--text-field", o->text_field, "JSON field with the text");
  scan->add_option("--id-field", o->id_field, "JSON field with the document id");
  scan->add_option("--on-bad-input", o->on_bad, "fail: stop at the first bad record; skip: list and continue (as in build)")
      ->check(CLI::IsMember({"fail", "skip"}));
  scan->add_option("--flagged", o->flagged, "Write flagged documents with matched spans as JSONL ('-' = stdout)");
  scan->add_option("--purify", o->purify, "Write the clean corpus (JSONL; .zst compresses)");
  scan->add_option("--policy", o->policy, "Purify policy: drop-doc (default), drop-span, mark");
  scan->add_option("--context", o->context, "drop-span: bytes removed on each side of a match (default 200)");
  scan->add_option("--threads", o->threads, "Worker threads (default: all cores)");
  scan->add_option("--limit", o->limit, "Stop after this many documents");
  scan->add_flag("--fail-on-hit", o->fail_on_hit, "Exit with code 4 if any document is flagged");
  AddReportOptions(scan, o.get());
  scan->fallthrough();

  CLI::App* check = app->add_subcommand("check", "Check one text (argument, --file or stdin)");
  check->add_option("--index", o->index, "Eval index file")->required();
  check->add_option("TEXT", o->text, "Text to check");
  check->add_option("--file", o->file, "Read the text from a file");
  check->add_flag("--fail-on-hit", o->fail_on_hit, "Exit with code 4 if the text is contaminated");
  check->fallthrough();

  CLI::App* report = app->add_subcommand("report", "Index-backed overlap report via the store's suffix-array index");
  report->add_option("--index", o->index, "Eval index file")->required();
  report->add_option("--store", o->store, "Store directory")->required();
  report->add_option("--name", o->sa_name, "Suffix-array index name");
  report->add_flag("--mmap", o->use_mmap, "Binary searches on the mapped index instead of batched io_uring reads");
  AddReportOptions(report, o.get());
  report->fallthrough();

  return [o, idx, scan, check, report]() {
    if (idx->parsed()) return RunIndex(*o);
    if (scan->parsed()) return RunScan(*o);
    if (check->parsed()) return RunCheck(*o);
    if (report->parsed()) return RunReport(*o);
    return cli::kExitUsage;
  };
});

}  // namespace
