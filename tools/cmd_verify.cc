// dedupdb verify STORE: recompute every checksum; exit 3 on any mismatch.
#include <cstdio>

#include "storage/doc_store.h"
#include "storage/json_writer.h"
#include "tools/command_registry.h"

namespace dedupdb::cli {
namespace {

int RunVerify(const std::string& dir) {
  std::unique_ptr<DocStore> store;
  Status s = DocStore::Open(dir, &store);
  if (!s.ok()) return ReportError("verify", s);
  std::vector<VerifyProblem> problems;
  s = store->Verify(&problems, !Globals().quiet);
  if (!s.ok()) return ReportError("verify", s);
  if (Globals().json) {
    JsonWriter w;
    w.BeginObject().Field("ok", problems.empty()).Field("store", dir).Field("docs", store->num_docs());
    w.Field("text_bytes", store->text_bytes()).Key("problems").BeginArray();
    for (const auto& p : problems) w.BeginObject().Field("path", p.path).Field("message", p.message).EndObject();
    w.EndArray().EndObject();
    std::printf("%s\n", w.str().c_str());
  } else if (problems.empty()) {
    std::printf("ok: %llu docs, %llu bytes of text, all checksums match\n",
                static_cast<unsigned long long>(store->num_docs()), static_cast<unsigned long long>(store->text_bytes()));
  }
  for (const auto& p : problems) std::fprintf(stderr, "dedupdb verify: %s\n", p.message.c_str());
  if (!problems.empty()) {
    std::fprintf(stderr, "dedupdb verify: %zu problem(s) found in %s\n", problems.size(), dir.c_str());
    return kExitCorrupt;
  }
  return kExitOk;
}

CommandRegistrar reg("verify", "Recompute every checksum of a store and its indexes (exit 3 on mismatch)",
                     [](CLI::App* app) -> Runner {
                       auto dir = std::make_shared<std::string>();
                       app->add_option("store", *dir, "Store directory")->required();
                       return [dir] { return RunVerify(*dir); };
                     });

}  // namespace
}  // namespace dedupdb::cli
