// dedupdb lsh-compact STORE [--name default]
// Merges all runs of an LSH index (one per incremental index-lsh) into one,
// published atomically; queries see the same candidates before and after.
#include <cstdio>
#include <memory>
#include <string>

#include "index/lsh_index.h"
#include "storage/json_writer.h"
#include "tools/command_registry.h"

namespace {

using namespace dedupdb;

struct Opts {
  std::string store;
  std::string name = "default";
};

int Run(const Opts& o) {
  LshCompactReport r;
  Status s = CompactLshIndex(o.store, o.name, !cli::Globals().quiet, nullptr, &r);
  if (!s.ok()) return cli::ReportError("lsh-compact", s);
  if (cli::Globals().json) {
    JsonWriter w;
    w.BeginObject().Field("ok", true).Field("command", "lsh-compact").Field("name", o.name);
    w.Field("runs_before", static_cast<uint64_t>(r.runs_before)).Field("runs_after", r.runs_before ? 1 : 0);
    w.Field("docs", r.docs).Field("seconds", r.seconds).EndObject();
    std::printf("%s\n", w.str().c_str());
  } else if (r.runs_before < 2) {
    std::printf("LSH index '%s' has %zu run(s): nothing to compact\n", o.name.c_str(), r.runs_before);
  } else {
    std::printf("LSH index '%s': merged %zu runs into 1 (%llu docs) in %.1f s\n", o.name.c_str(), r.runs_before,
                (unsigned long long)r.docs, r.seconds);
  }
  return cli::kExitOk;
}

dedupdb::cli::CommandRegistrar reg("lsh-compact", "Merge the runs of an LSH index into one", [](CLI::App* app) {
  auto o = std::make_shared<Opts>();
  app->add_option("STORE", o->store, "Store directory")->required();
  app->add_option("--name", o->name, "LSH index name")->capture_default_str();
  return [o]() { return Run(*o); };
});

}  // namespace
