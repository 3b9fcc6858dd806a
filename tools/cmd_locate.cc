// dedupdb locate STORE (QUERY | --query-file FILE) [--limit N --offset K --context 40 --name default]
// Where QUERY occurs: doc id, external id, offset and a snippet, in (doc id,
// offset) order, one page at a time.
#include <cstdio>
#include <memory>
#include <string>

#include "index/suffix_array.h"
#include "query/sa_query_arg.h"
#include "query/substring_locate.h"
#include "storage/doc_store.h"
#include "storage/env.h"
#include "storage/json_writer.h"
#include "tools/cli_util.h"
#include "tools/command_registry.h"

namespace {

using namespace dedupdb;

struct Opts {
  std::string store, query, query_file, name = "default";
  uint64_t limit = 10, offset = 0, context = 40;
};

// One-line snippet for the terminal: control characters shown as spaces.

int Run(const Opts& o) {
  if (o.query.empty() == o.query_file.empty()) {
    return cli::ReportUsageError("locate", Status::InvalidArgument("give exactly one of QUERY or --query-file"));
  }
  std::unique_ptr<DocStore> store;
  Status st = DocStore::Open(o.store, &store);
  if (!st.ok()) return cli::ReportError("locate", st);
  std::unique_ptr<SuffixArrayIndex> index;
  st = SuffixArrayIndex::Open(store.get(), o.name, &index);
  if (!st.ok()) return cli::ReportError("locate", st);
  std::string q;
  std::string arg = o.query;
  if (!o.query_file.empty()) {
    st = ReadFileToString(Env::Default(), o.query_file, &arg);  // verbatim, newlines included
    if (!st.ok()) return cli::ReportError("locate", st);
  }
  st = ParseSaQueryArg(*index, arg, &q);
  if (!st.ok()) return cli::ReportError("locate", st);
  LocateOptions lo;
  lo.limit = o.limit;
  lo.offset = o.offset;
  lo.context = o.context;
  LocateResult r;
  st = LocateOccurrences(*index, store.get(), q, lo, &r);
  if (!st.ok()) return cli::ReportError("locate", st);
  if (cli::Globals().json) {
    JsonWriter j;
    j.BeginObject().Field("query", o.query).Field("total", r.total).Field("offset", o.offset)
        .Field("limit", o.limit).Key("hits").BeginArray();
    for (const LocateHit& h : r.hits) {
      j.BeginObject().Field("doc_id", h.doc_id).Field("external_id", h.external_id).Field("offset", h.offset)
          .Field("before", FormatSymbols(*index, h.before)).Field("match", FormatSymbols(*index, h.match))
          .Field("after", FormatSymbols(*index, h.after)).EndObject();
    }
    j.EndArray().EndObject();
    std::printf("%s\n", j.str().c_str());
  } else {
    std::printf("%llu occurrence(s); showing %llu from %llu\n", (unsigned long long)r.total,
                (unsigned long long)r.hits.size(), (unsigned long long)o.offset);
    for (const LocateHit& h : r.hits) {
      std::printf("doc %llu [%s] @%llu: %s[%s]%s\n", (unsigned long long)h.doc_id, h.external_id.c_str(),
                  (unsigned long long)h.offset, cli::OneLine(FormatSymbols(*index, h.before)).c_str(),
                  cli::OneLine(FormatSymbols(*index, h.match)).c_str(), cli::OneLine(FormatSymbols(*index, h.after)).c_str());
    }
  }
  return cli::kExitOk;
}

cli::CommandRegistrar reg("locate", "List occurrences of a string with doc ids and snippets", [](CLI::App* app) {
  auto o = std::make_shared<Opts>();
  app->add_option("STORE", o->store, "Store directory")->required();
  app->add_option("QUERY", o->query, "Text, or token ids for a token index");
  app->add_option("--query-file", o->query_file, "Read the query from a file (bytes verbatim, or token ids)");
  app->add_option("--name", o->name, "Index name");
  app->add_option("--limit", o->limit, "Hits per page");
  app->add_option("--offset", o->offset, "Hits to skip");
  app->add_option("--context", o->context, "Context symbols each side");
  return [o]() { return Run(*o); };
});

}  // namespace
