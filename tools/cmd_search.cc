// dedupdb search STORE (--cnf EXPR | --clause C ...) [--limit N --context K --name default]
// Boolean document search over the suffix-array index (query/doc_search.h).
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "index/suffix_array.h"
#include "query/cnf.h"
#include "query/doc_search.h"
#include "query/sa_query_arg.h"
#include "storage/doc_store.h"
#include "storage/json_writer.h"
#include "tools/cli_util.h"
#include "tools/command_registry.h"

namespace {

using namespace dedupdb;

constexpr const char* kHelp = R"(Documents matching a boolean query of exact substrings, in CNF: an AND of
clauses, each an OR of terms (like infini-gram's search_docs). A document
matches if every clause has at least one term occurring in it.

Syntax (--cnf): terms separated by the operators OR (or |) and AND (or &);
AND binds loosest, so   cat OR dog AND "New York"   means
(cat OR dog) AND ("New York"). Operators are case-sensitive words separated
by spaces; quote a term that contains spaces or looks like an operator:
"a term", with \" \\ \n \t escapes. Repeated --clause flags give one OR-list
each (same syntax, no AND) and are ANDed with --cnf. For a token index,
terms are token-id lists, e.g. --clause '"464 2068" OR "7586"'.

Prints the number of matching documents and the first --limit of them (by
doc id) with external id and a snippet around the first match of a term of
the first clause. Exit code 0 whether or not anything matched.)";

struct Opts {
  std::string store, cnf, name = "default", method = "auto";
  std::vector<std::string> clauses;
  uint64_t limit = 10, context = 40;
};


int Run(const Opts& o) {
  CnfQuery parsed;
  if (o.cnf.empty() && o.clauses.empty())
    return cli::ReportUsageError("search", Status::InvalidArgument("give a query with --cnf or --clause"));
  if (!o.cnf.empty()) {
    Status st = ParseCnf(o.cnf, &parsed);
    if (!st.ok()) return cli::ReportUsageError("search", st.WithContext("--cnf"));
  }
  for (size_t i = 0; i < o.clauses.size(); ++i) {
    Status st = ParseCnfClause(o.clauses[i], &parsed);
    if (!st.ok()) return cli::ReportUsageError("search", st.WithContext("--clause #" + std::to_string(i + 1)));
  }
  DocSearchOptions opt;
  opt.max_docs = o.limit;
  opt.snippet_context = o.context;
  if (o.method == "enumerate") opt.method = DocSearchOptions::Method::kEnumerate;
  else if (o.method == "scan") opt.method = DocSearchOptions::Method::kScan;
  else if (o.method != "auto")
    return cli::ReportUsageError("search", Status::InvalidArgument("--method must be auto, enumerate or scan"));

  std::unique_ptr<DocStore> store;
  Status st = DocStore::Open(o.store, &store);
  if (!st.ok()) return cli::ReportError("search", st);
  std::unique_ptr<SuffixArrayIndex> index;
  st = SuffixArrayIndex::Open(store.get(), o.name, &index);
  if (!st.ok()) return cli::ReportError("search", st);
  // Terms as symbol bytes (token ids are encoded for a token index).
  CnfQuery q = parsed;
  for (auto& clause : q.clauses)
    for (auto& term : clause) {
      std::string bytes;
      st = ParseSaQueryArg(*index, term, &bytes);
      if (!st.ok()) return cli::ReportError("search", st.WithContext("term '" + term + "'"));
      term = std::move(bytes);
    }

  auto t0 = std::chrono::steady_clock::now();
  DocSearchResult r;
  st = SearchDocs(*index, store.get(), q, opt, &r);
  if (!st.ok()) return cli::ReportError("search", st);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  if (cli::Globals().json) {
    JsonWriter j;
    j.BeginObject().Field("query", parsed.ToString()).Field("num_docs", r.num_docs).Field("millis", ms);
    j.Key("clauses").BeginArray();
    for (const ClauseReport& c : r.clauses) {
      j.BeginObject().Key("terms").BeginArray();
      for (size_t t = 0; t < c.terms.size(); ++t)
        j.BeginObject().Field("term", FormatSymbols(*index, c.terms[t])).Field("count", c.term_counts[t]).EndObject();
      j.EndArray().Field("method", c.scanned ? "scan" : "enumerate").Field("docs_after", c.docs_after).EndObject();
    }
    j.EndArray().Key("docs").BeginArray();
    for (const DocSearchHit& h : r.hits) {
      j.BeginObject().Field("doc_id", h.doc_id).Field("external_id", h.external_id).Field("offset", h.match_offset)
          .Field("term", FormatSymbols(*index, h.term)).Field("snippet", FormatSymbols(*index, h.snippet)).EndObject();
    }
    j.EndArray().EndObject();
    std::printf("%s\n", j.str().c_str());
  } else {
    std::printf("%llu document(s) match %s\n", (unsigned long long)r.num_docs, parsed.ToString().c_str());
    for (const DocSearchHit& h : r.hits)
      std::printf("doc %llu [%s] @%llu: %s\n", (unsigned long long)h.doc_id, h.external_id.c_str(),
                  (unsigned long long)h.match_offset, cli::OneLine(FormatSymbols(*index, h.snippet)).c_str());
  }
  return cli::kExitOk;
}

cli::CommandRegistrar reg("search", "Boolean (CNF) document search over exact substrings", [](CLI::App* app) {
  auto o = std::make_shared<Opts>();
  app->footer(kHelp);
  app->add_option("STORE", o->store, "Store directory")->required();
  app->add_option("--cnf", o->cnf, "Query: clauses joined by AND, terms by OR (see below)");
  app->add_option("--clause", o->clauses, "One OR-clause; repeat to AND several");
  app->add_option("--name", o->name, "Index name");
  app->add_option("--limit", o->limit, "Documents listed (smallest doc ids)");
  app->add_option("--context", o->context, "Snippet context symbols each side");
  app->add_option("--method", o->method, "Clause evaluation: auto, enumerate or scan (testing)");
  return [o]() { return Run(*o); };
});

}  // namespace
