// Encodings of the document store's catalog records (docs/format.md,
// "Catalog"). Used by the ingest writer and DocStore, nothing else.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/checksum.h"

namespace dedupdb {

// Version of the store as a whole (catalog layout + segment format).
constexpr uint32_t kStoreFormatVersion = 1;

// Meta table keys.
namespace meta {
constexpr const char* kFormatVersion = "format_version";
constexpr const char* kNextDocId = "next_doc_id";
constexpr const char* kNextSegmentId = "next_segment_id";
constexpr const char* kNextSourceId = "next_source_id";
constexpr const char* kExactDupDocs = "exact_duplicate_docs";
constexpr const char* kExactDupBytes = "exact_duplicate_bytes";
constexpr const char* kDroppedDocs = "dropped_docs";
constexpr const char* kTextBytes = "text_bytes";
}  // namespace meta

std::string U64Key(uint64_t v);  // 8-byte big-endian: numeric order = key order
uint64_t U64FromKey(std::string_view key);

struct DocRecord {
  uint64_t source_id = 0;
  uint64_t line = 0;
  uint64_t length = 0;
  Hash128 hash;
  uint64_t duplicate_of = UINT64_MAX;
  std::string_view external_id;
  std::string Encode() const;
  static bool Decode(std::string_view in, DocRecord* out);
};

struct SegmentRecord {
  uint64_t first_doc = 0;
  uint64_t doc_count = 0;
  uint64_t text_bytes = 0;
  std::string relative_path;
  std::string Encode() const;
  static bool Decode(std::string_view in, SegmentRecord* out);
};

struct SourceRecord {
  std::string path;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t records_done = 0;  // records (lines) committed so far
  bool complete = false;
  std::string Encode() const;
  static bool Decode(std::string_view in, SourceRecord* out);
};

// A document not stored because --dedup-exact found an earlier copy.
struct DroppedRecord {
  uint64_t source_id = 0;
  uint64_t line = 0;
  uint64_t duplicate_of = 0;
  std::string_view external_id;
  std::string Encode() const;
  static bool Decode(std::string_view in, DroppedRecord* out);
};

}  // namespace dedupdb
