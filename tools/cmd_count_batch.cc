// dedupdb count-batch STORE FILE [--format auto|lines|jsonl --field text --queue-depth 256 --no-io-uring --one-by-one]
// Counts thousands of queries at once with lockstep binary searches whose
// probes are batched reads (io_uring; query/batch_count.h).
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "index/suffix_array.h"
#include "query/batch_count.h"
#include "query/sa_query_arg.h"
#include "storage/doc_store.h"
#include "storage/env.h"
#include "storage/input_reader.h"
#include "storage/json_writer.h"
#include "storage/progress.h"
#include "tools/cli_util.h"
#include "tools/command_registry.h"

namespace {

using namespace dedupdb;

constexpr const char* kHelp = R"(FILE holds one query per line (format "lines": the bytes of the line without
its "\n" and a trailing "\r"; blank lines are skipped) or JSONL records
whose --field string is the query (format "jsonl"; also .zst/.gz). "auto"
picks jsonl for names containing ".jsonl" or ".json", lines otherwise. "-"
reads lines from stdin. For a token index each query is token ids separated
by spaces or commas.

All queries' binary searches over all shards advance in lockstep; each step's
suffix-array probes and then its text probes are issued as one batch of reads
(io_uring, or a pread loop with --no-io-uring / where io_uring is refused).
--one-by-one answers the queries one at a time with a pread per probe (the
baseline the batch mode is measured against).

Output: "COUNT<TAB>QUERY" per query in input order (--json: one object with a
results array of {line, query, count}).)";

struct Opts {
  std::string store, file, format = "auto", field = "text", name = "default";
  unsigned queue_depth = 256;
  std::string scan_memory = "2G";
  bool no_io_uring = false, one_by_one = false;
};

struct Query {
  uint64_t line;
  std::string text;  // as written in the file
};

Status ReadLines(const std::string& path, std::vector<Query>* out) {
  Env* env = Env::Default();
  std::string data;
  if (path == "-") {
    std::unique_ptr<SequentialFile> in;
    DEDUPDB_RETURN_IF_ERROR(env->NewStdinFile(&in));
    char buf[1 << 16];
    for (;;) {
      size_t got = 0;
      DEDUPDB_RETURN_IF_ERROR(in->Read(sizeof(buf), buf, &got));
      if (got == 0) break;
      data.append(buf, got);
    }
  } else {
    DEDUPDB_RETURN_IF_ERROR(ReadFileToString(env, path, &data));
  }
  uint64_t line = 0;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) nl = data.size();
    ++line;
    std::string_view l(data.data() + pos, nl - pos);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (!l.empty()) out->push_back(Query{line, std::string(l)});
    pos = nl + 1;
  }
  return Status::OK();
}

Status ReadJsonl(const std::string& path, const std::string& field, std::vector<Query>* out) {
  ReaderOptions ro;
  ro.text_field = field;
  std::unique_ptr<DocumentReader> reader;
  DEDUPDB_RETURN_IF_ERROR(DocumentReader::Open(Env::Default(), {path}, ro, &reader));
  for (;;) {
    InputRecord rec;
    bool done = false;
    DEDUPDB_RETURN_IF_ERROR(reader->Next(&rec, &done));
    if (done) return Status::OK();
    out->push_back(Query{rec.line, std::string(rec.text)});
  }
}


int Run(const Opts& o) {
  std::string format = o.format;
  if (format == "auto")
    format = (o.file.find(".jsonl") != std::string::npos || o.file.find(".json") != std::string::npos) ? "jsonl"
                                                                                                      : "lines";
  if (format != "lines" && format != "jsonl")
    return cli::ReportUsageError("count-batch", Status::InvalidArgument("--format must be auto, lines or jsonl"));
  if (format == "jsonl" && o.file == "-")
    return cli::ReportUsageError("count-batch", Status::InvalidArgument("jsonl queries must come from a file, not stdin"));
  std::unique_ptr<DocStore> store;
  Status st = DocStore::Open(o.store, &store);
  if (!st.ok()) return cli::ReportError("count-batch", st);
  std::unique_ptr<SuffixArrayIndex> index;
  st = SuffixArrayIndex::Open(store.get(), o.name, &index);
  if (!st.ok()) return cli::ReportError("count-batch", st);

  std::vector<Query> input;
  st = format == "jsonl" ? ReadJsonl(o.file, o.field, &input) : ReadLines(o.file, &input);
  if (!st.ok()) return cli::ReportError("count-batch", st);
  std::vector<std::string> queries(input.size());
  for (size_t i = 0; i < input.size(); ++i) {
    st = ParseSaQueryArg(*index, input[i].text, &queries[i]);
    if (!st.ok())
      return cli::ReportError("count-batch", st.WithContext(o.file + ":" + std::to_string(input[i].line)));
  }

  uint64_t scan_memory = 0;
  st = cli::ParseSize(o.scan_memory, &scan_memory);
  if (!st.ok()) return cli::ReportUsageError("count-batch", st.WithContext("--scan-memory"));
  const bool quiet = cli::Globals().quiet;
  ProgressMeter meter("count-batch", queries.size(), ProgressMeter::Unit::kItems, !quiet);
  auto t0 = std::chrono::steady_clock::now();
  std::vector<uint64_t> counts;
  BatchCountStats total;
  if (o.one_by_one) {
    st = SequentialPreadCount(*index, queries, nullptr, false, &counts, &total);
  } else {
    // Waves of queries so that progress shows and buffers stay bounded.
    BatchCountOptions bo;
    bo.queue_depth = o.queue_depth;
    bo.prefer_io_uring = !o.no_io_uring;
    bo.queries_per_wave = 16384;
    bo.text_scan_memory = scan_memory;
    bo.progress = [&](size_t done) { meter.Update(done); };
    st = BatchCount(*index, queries, bo, &counts, &total);
  }
  if (!st.ok()) return cli::ReportError("count-batch", st);
  meter.Finish();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (total.reader.empty()) total.reader = o.no_io_uring ? "pread" : "io_uring";

  if (cli::Globals().json) {
    JsonWriter j;
    j.BeginObject().Field("queries", uint64_t(queries.size())).Field("shards", uint64_t(index->num_shards()))
        .Field("mode", o.one_by_one ? "one-by-one" : "batch").Field("reader", total.reader)
        .Field("reads", total.reads).Field("probes", total.probes).Field("batches", total.batches)
        .Field("bytes_read", total.bytes_read).Field("text_scanned_bytes", total.text_scanned_bytes)
        .Field("seconds", secs).Key("results").BeginArray();
    for (size_t i = 0; i < queries.size(); ++i)
      j.BeginObject().Field("line", input[i].line).Field("query", input[i].text).Field("count", counts[i]).EndObject();
    j.EndArray().EndObject();
    std::printf("%s\n", j.str().c_str());
  } else {
    for (size_t i = 0; i < queries.size(); ++i)
      std::printf("%llu\t%s\n", (unsigned long long)counts[i], cli::OneLine(input[i].text).c_str());
    if (!quiet)
      std::fprintf(stderr, "count-batch: %zu queries in %.3f s (%s, %llu reads in %llu batches)\n", queries.size(),
                   secs, o.one_by_one ? "one-by-one pread" : total.reader.c_str(), (unsigned long long)total.reads,
                   (unsigned long long)total.batches);
  }
  return cli::kExitOk;
}

cli::CommandRegistrar reg("count-batch", "Count many queries at once with batched (io_uring) index reads",
                          [](CLI::App* app) {
  auto o = std::make_shared<Opts>();
  app->footer(kHelp);
  app->add_option("STORE", o->store, "Store directory")->required();
  app->add_option("FILE", o->file, "Query file ('-' = stdin, lines format)")->required();
  app->add_option("--format", o->format, "auto, lines or jsonl");
  app->add_option("--field", o->field, "JSONL field holding the query");
  app->add_option("--name", o->name, "Index name");
  app->add_option("--queue-depth", o->queue_depth, "Reads in flight");
  app->add_flag("--no-io-uring", o->no_io_uring, "Batch through the pread reader instead of io_uring");
  app->add_option("--scan-memory", o->scan_memory,
                  "Memory for shard texts the planner reads front to back when a batch would touch most of "
                  "their pages (0 = always probe)");
  app->add_flag("--one-by-one", o->one_by_one, "Baseline: one query at a time, one pread per probe");
  return [o]() { return Run(*o); };
});

}  // namespace
