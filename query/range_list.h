// RangeList: per-document byte ranges to remove - the output of exact-substring
// dedup (query/exact_dedup.h). A plain value type: a sorted vector of
// (doc, begin, end) triples, normalised so that the ranges of a document are
// sorted, disjoint and non-adjacent. Stored on disk as a FileKind::kRangeList
// file (docs/format.md, "Exact-substring dedup outputs") and as JSONL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/env.h"
#include "storage/status.h"

namespace dedupdb {

class DocStore;

struct DocRange {
  uint64_t doc_id = 0;
  uint64_t begin = 0;  // byte offset in the document, inclusive
  uint64_t end = 0;    // exclusive
  bool operator==(const DocRange&) const = default;
};

class RangeList {
 public:
  // Adds [begin, end) of doc_id in any order; call Normalize() before reading.
  void Add(uint64_t doc_id, uint64_t begin, uint64_t end) {
    if (end > begin) ranges_.push_back(DocRange{doc_id, begin, end});
  }
  // Sorts by (doc, begin) and merges overlapping or touching ranges.
  void Normalize();
  // True if ranges are sorted, disjoint and non-adjacent (what Normalize makes).
  bool IsNormalized() const;

  const std::vector<DocRange>& ranges() const { return ranges_; }
  size_t size() const { return ranges_.size(); }
  bool empty() const { return ranges_.empty(); }
  void clear() { ranges_.clear(); }

  // Ranges of one document (a sub-span of ranges()); empty if untouched.
  // Requires a normalised list (binary search).
  std::pair<const DocRange*, const DocRange*> ForDoc(uint64_t doc_id) const;
  uint64_t BytesRemoved() const;
  uint64_t DocsTouched() const;

  bool operator==(const RangeList& o) const { return ranges_ == o.ranges_; }

 private:
  std::vector<DocRange> ranges_;
};

// What produced a range list; stored in the file's params.
struct RangeListInfo {
  uint64_t min_len = 0;        // k, in units
  uint32_t unit = 0;           // 0 = bytes, 1 = tokens
  uint32_t mode = 0;           // 0 = self keep-first, 1 = self keep-none, 2 = across
  uint32_t granularity = 0;    // 0 = span, 1 = line, 2 = paragraph
  double threshold = 0;        // line/paragraph coverage threshold (0..1)
  uint64_t store_docs = 0;     // documents in the deduplicated store
};

constexpr uint32_t kRangeListFormatVersion = 1;

// Writes a normalised list as an enveloped kRangeList file (written under
// path + ".tmp" then renamed, so a crash never leaves a half file at path).
Status WriteRangeListFile(Env* env, const std::string& path, const RangeList& list, const RangeListInfo& info);
// Reads and validates (envelope, body checksum, structure) a kRangeList file.
Status ReadRangeListFile(Env* env, const std::string& path, RangeList* list, RangeListInfo* info);

// One JSON object per touched document:
//   {"doc_id":N,"id":"<external id>","length":L,"removed":R,"ranges":[[b,e],...]}
// store may be null (then "id" and "length" are omitted).
Status WriteRangeListJsonl(Env* env, const std::string& path, const RangeList& list, const DocStore* store);

// The text of `doc` with the list's ranges [first, last) removed.
std::string ApplyRanges(std::string_view doc, const DocRange* first, const DocRange* last);

}  // namespace dedupdb
