// DocStore: read access to a store's documents. Opening takes a consistent
// snapshot of the catalog (the segments committed at that moment) and maps
// the segment files; a document's bytes are then a pointer into the map.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/catalog.h"
#include "storage/checksum.h"
#include "storage/env.h"
#include "storage/layout.h"
#include "storage/segment.h"
#include "storage/store_records.h"

namespace dedupdb {

constexpr uint64_t kNoDoc = UINT64_MAX;

// Per-document metadata kept in the catalog's docs table.
struct DocMeta {
  uint64_t doc_id = 0;
  std::string external_id;
  std::string source;     // input file path
  uint64_t line = 0;      // 1-based line (record number) in the source
  uint64_t length = 0;    // bytes of text
  Hash128 hash;           // XXH3-128 of the text
  uint64_t duplicate_of = kNoDoc;  // first doc with identical bytes, if any
};

struct StoreStats {
  uint64_t docs = 0;
  uint64_t text_bytes = 0;
  uint64_t segments = 0;
  uint64_t exact_duplicate_docs = 0;   // stored docs whose bytes equal an earlier doc
  uint64_t exact_duplicate_bytes = 0;
  uint64_t dropped_docs = 0;           // not stored because of --dedup-exact
  uint64_t sources = 0;
  uint64_t segment_file_bytes = 0;
  uint64_t index_file_bytes = 0;       // every other published data file
  uint64_t catalog_bytes = 0;
};

struct VerifyProblem {
  std::string path;
  std::string message;
};

class DocStore {
 public:
  struct Options {
    Env* env = nullptr;  // nullptr = Env::Default()
  };
  static Status Open(const std::string& dir, const Options& options, std::unique_ptr<DocStore>* out);
  static Status Open(const std::string& dir, std::unique_ptr<DocStore>* out) { return Open(dir, Options(), out); }

  uint64_t num_docs() const { return num_docs_; }
  uint64_t text_bytes() const { return text_bytes_; }
  size_t num_segments() const { return segments_.size(); }
  const SegmentReader& segment(size_t i) const { return *segments_[i]; }

  // Zero-copy text of a document; NotFound for an id past the end.
  Status GetText(uint64_t doc_id, std::string_view* text) const;
  // Unchecked fast path: requires doc_id < num_docs().
  std::string_view Text(uint64_t doc_id) const;
  Status GetMeta(uint64_t doc_id, DocMeta* meta) const;
  Status FindByExternalId(std::string_view external_id, std::vector<uint64_t>* doc_ids) const;
  Status Stats(StoreStats* stats) const;
  // Recomputes every checksum of every file the catalog lists (segments and
  // index files) and cross-checks segment params against the catalog.
  Status Verify(std::vector<VerifyProblem>* problems, bool show_progress = false) const;

  Env* env() const { return env_; }
  const StoreLayout& layout() const { return layout_; }
  Catalog* catalog() const { return catalog_.get(); }

 private:
  DocStore(Env* env, std::string dir) : env_(env), layout_(std::move(dir)) {}
  size_t SegmentFor(uint64_t doc_id) const;

  Env* env_;
  StoreLayout layout_;
  std::unique_ptr<Catalog> catalog_;
  std::vector<std::unique_ptr<SegmentReader>> segments_;
  std::vector<uint64_t> segment_first_doc_;
  uint64_t num_docs_ = 0;
  uint64_t text_bytes_ = 0;
};

}  // namespace dedupdb
