// dedupdb info STORE: size, duplicates, disk use and indexes of a store.
#include <cstdio>

#include "storage/cpu_features.h"
#include "storage/doc_store.h"
#include "storage/json_writer.h"
#include "tools/cli_util.h"
#include "tools/command_registry.h"

namespace dedupdb::cli {
namespace {

int RunInfo(const std::string& dir) {
  std::unique_ptr<DocStore> store;
  Status s = DocStore::Open(dir, &store);
  if (!s.ok()) return ReportError("info", s);
  StoreStats st;
  s = store->Stats(&st);
  if (!s.ok()) return ReportError("info", s);
  std::vector<std::pair<std::string, uint64_t>> indexes;
  {
    std::unique_ptr<CatalogReadTxn> txn;
    s = store->catalog()->BeginRead(&txn);
    if (s.ok()) {
      s = txn->Scan(Table::kIndexes, "", [&](std::string_view k, std::string_view v) {
        indexes.emplace_back(std::string(k), v.size());
        return true;
      });
    }
    if (!s.ok()) return ReportError("info", s);
  }
  uint64_t disk = st.segment_file_bytes + st.index_file_bytes + st.catalog_bytes;
  if (Globals().json) {
    JsonWriter w;
    w.BeginObject().Field("ok", true).Field("store", dir).Field("format_version", kStoreFormatVersion);
    w.Field("docs", st.docs).Field("text_bytes", st.text_bytes).Field("segments", st.segments);
    w.Field("exact_duplicate_docs", st.exact_duplicate_docs).Field("exact_duplicate_bytes", st.exact_duplicate_bytes);
    w.Field("unique_docs", st.docs - st.exact_duplicate_docs);
    w.Field("dropped_duplicate_docs", st.dropped_docs).Field("sources", st.sources);
    w.Key("disk").BeginObject().Field("segments", st.segment_file_bytes).Field("indexes", st.index_file_bytes);
    w.Field("catalog", st.catalog_bytes).Field("total", disk).EndObject();
    w.Key("indexes").BeginArray();
    for (const auto& [name, size] : indexes) w.String(name);
    w.EndArray();
    w.Field("simd", SimdLevelName(DetectSimdLevel())).EndObject();
    std::printf("%s\n", w.str().c_str());
    return kExitOk;
  }
  std::printf("store           %s (format v%u)\n", dir.c_str(), kStoreFormatVersion);
  std::printf("documents       %llu (%s of text) in %llu segment(s) from %llu source file(s)\n",
              static_cast<unsigned long long>(st.docs), HumanBytes(static_cast<double>(st.text_bytes)).c_str(),
              static_cast<unsigned long long>(st.segments), static_cast<unsigned long long>(st.sources));
  std::printf("exact dups      %llu docs are byte-identical copies of an earlier doc (%s); %llu unique\n",
              static_cast<unsigned long long>(st.exact_duplicate_docs),
              HumanBytes(static_cast<double>(st.exact_duplicate_bytes)).c_str(),
              static_cast<unsigned long long>(st.docs - st.exact_duplicate_docs));
  if (st.dropped_docs > 0) {
    std::printf("dropped         %llu duplicate docs not stored (build --dedup-exact)\n",
                static_cast<unsigned long long>(st.dropped_docs));
  }
  std::printf("disk            %s total: segments %s, indexes %s, catalog %s\n", HumanBytes(static_cast<double>(disk)).c_str(),
              HumanBytes(static_cast<double>(st.segment_file_bytes)).c_str(),
              HumanBytes(static_cast<double>(st.index_file_bytes)).c_str(),
              HumanBytes(static_cast<double>(st.catalog_bytes)).c_str());
  std::printf("indexes         %s", indexes.empty() ? "none\n" : "");
  for (size_t i = 0; i < indexes.size(); ++i) std::printf("%s%s", i ? ", " : "", indexes[i].first.c_str());
  if (!indexes.empty()) std::printf("\n");
  std::printf("simd            %s\n", SimdLevelName(DetectSimdLevel()));
  return kExitOk;
}

CommandRegistrar reg("info", "Show documents, bytes, segments, duplicates, disk use and indexes of a store",
                     [](CLI::App* app) -> Runner {
                       auto dir = std::make_shared<std::string>();
                       app->add_option("store", *dir, "Store directory")->required();
                       return [dir] { return RunInfo(*dir); };
                     });

}  // namespace
}  // namespace dedupdb::cli
