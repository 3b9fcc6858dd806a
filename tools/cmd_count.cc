// dedupdb count STORE (QUERY | --query-file FILE) [--name default]
// Occurrences of QUERY (text, or token ids "1 2 3" for a token index).
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "index/suffix_array.h"
#include "query/sa_query_arg.h"
#include "query/substring_count.h"
#include "storage/doc_store.h"
#include "storage/env.h"
#include "storage/json_writer.h"
#include "tools/command_registry.h"

namespace {

using namespace dedupdb;

struct Opts {
  std::string store, query, query_file, name = "default";
};

int Run(const Opts& o) {
  if (o.query.empty() == o.query_file.empty()) {
    return cli::ReportUsageError("count", Status::InvalidArgument("give exactly one of QUERY or --query-file"));
  }
  std::unique_ptr<DocStore> store;
  Status st = DocStore::Open(o.store, &store);
  if (!st.ok()) return cli::ReportError("count", st);
  std::unique_ptr<SuffixArrayIndex> index;
  st = SuffixArrayIndex::Open(store.get(), o.name, &index);
  if (!st.ok()) return cli::ReportError("count", st);
  std::string q;
  std::string arg = o.query;
  if (!o.query_file.empty()) {
    st = ReadFileToString(Env::Default(), o.query_file, &arg);  // verbatim, newlines included
    if (!st.ok()) return cli::ReportError("count", st);
  }
  st = ParseSaQueryArg(*index, arg, &q);
  if (!st.ok()) return cli::ReportError("count", st);
  auto t0 = std::chrono::steady_clock::now();
  CountResult r;
  st = CountOccurrences(*index, q, &r);
  if (!st.ok()) return cli::ReportError("count", st);
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  if (cli::Globals().json) {
    JsonWriter j;
    j.BeginObject().Field("query", o.query).Field("count", r.count).Field("shards", uint64_t(index->num_shards()))
        .Field("micros", us).EndObject();
    std::printf("%s\n", j.str().c_str());
  } else {
    std::printf("%llu\n", (unsigned long long)r.count);
  }
  return cli::kExitOk;
}

cli::CommandRegistrar reg("count", "Count exact occurrences of a string (suffix-array index)", [](CLI::App* app) {
  auto o = std::make_shared<Opts>();
  app->add_option("STORE", o->store, "Store directory")->required();
  app->add_option("QUERY", o->query, "Text, or token ids for a token index");
  app->add_option("--query-file", o->query_file, "Read the query from a file (bytes verbatim, or token ids)");
  app->add_option("--name", o->name, "Index name");
  return [o]() { return Run(*o); };
});

}  // namespace
