// dedupdb get STORE ID | --external-id X: print a document.
#include <cstdio>

#include "storage/doc_store.h"
#include "storage/json_writer.h"
#include "tools/command_registry.h"

namespace dedupdb::cli {
namespace {

struct GetArgs {
  std::string store;
  std::vector<uint64_t> ids;
  std::string external_id;
  bool meta = false;
};

void PrintDoc(const DocStore& store, const DocMeta& m, bool with_meta, JsonWriter* w) {
  std::string_view text = store.Text(m.doc_id);
  if (w != nullptr) {
    w->BeginObject().Field("doc_id", m.doc_id).Field("external_id", m.external_id).Field("source", m.source);
    w->Field("line", m.line).Field("length", m.length).Field("hash", m.hash.ToHex());
    if (m.duplicate_of != kNoDoc) w->Field("duplicate_of", m.duplicate_of);
    else w->Key("duplicate_of").Null();
    w->Field("text", text).EndObject();
    return;
  }
  if (with_meta) {
    std::printf("# doc %llu  id=%s  source=%s:%llu  bytes=%llu  xxh3=%s%s\n", static_cast<unsigned long long>(m.doc_id),
                m.external_id.c_str(), m.source.c_str(), static_cast<unsigned long long>(m.line),
                static_cast<unsigned long long>(m.length), m.hash.ToHex().c_str(),
                m.duplicate_of != kNoDoc ? ("  duplicate_of=" + std::to_string(m.duplicate_of)).c_str() : "");
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (with_meta) std::printf("\n");
}

int RunGet(const GetArgs& a) {
  std::unique_ptr<DocStore> store;
  Status s = DocStore::Open(a.store, &store);
  if (!s.ok()) return ReportError("get", s);
  std::vector<uint64_t> ids = a.ids;
  if (!a.external_id.empty()) {
    s = store->FindByExternalId(a.external_id, &ids);
    if (!s.ok()) return ReportError("get", s);
    if (ids.empty()) return ReportError("get", Status::NotFound("no document with external id '" + a.external_id + "'"));
  }
  if (ids.empty()) return ReportError("get", Status::InvalidArgument("give a doc id or --external-id"));
  std::unique_ptr<JsonWriter> w;
  if (Globals().json) {
    w = std::make_unique<JsonWriter>();
    w->BeginObject().Field("ok", true).Key("docs").BeginArray();
  }
  for (uint64_t id : ids) {
    DocMeta m;
    s = store->GetMeta(id, &m);
    if (!s.ok()) return ReportError("get", s);
    PrintDoc(*store, m, a.meta || ids.size() > 1, w.get());
  }
  if (w) {
    w->EndArray().EndObject();
    std::printf("%s\n", w->str().c_str());
  }
  return kExitOk;
}

CommandRegistrar reg("get", "Print documents by doc id or external id", [](CLI::App* app) -> Runner {
  auto a = std::make_shared<GetArgs>();
  app->add_option("store", a->store, "Store directory")->required();
  app->add_option("ids", a->ids, "Dense doc ids (0-based)");
  app->add_option("-e,--external-id", a->external_id, "External id from the input's id field");
  app->add_flag("-m,--meta", a->meta, "Print a metadata line before the text");
  return [a] { return RunGet(*a); };
});

}  // namespace
}  // namespace dedupdb::cli
