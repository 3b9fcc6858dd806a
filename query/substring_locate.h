// locate(q, limit, offset): where a symbol string occurs - document id,
// external id, offset in the document and a snippet with context - in a
// deterministic order (doc id, then offset in the doc), one page at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "index/suffix_array.h"
#include "storage/status.h"

namespace dedupdb {

class DocStore;

struct LocateOptions {
  uint64_t limit = 10;    // hits per page
  uint64_t offset = 0;    // hits to skip (paging)
  uint64_t context = 40;  // symbols of context each side, clipped to the document
};

struct LocateHit {
  uint64_t doc_id = 0;
  std::string external_id;  // from the store (byte mode); empty in token mode
  uint64_t offset = 0;      // symbols from the start of the document
  // Snippet, raw symbol bytes (token ids big-endian in token mode). In byte
  // mode `before`/`after` are trimmed so no UTF-8 character is cut.
  std::string before, match, after;
};

struct LocateResult {
  uint64_t total = 0;  // all occurrences (== count)
  std::vector<LocateHit> hits;
};

// Hits ranked [offset, offset + limit) of all occurrences in (doc id, offset)
// order. Shards hold consecutive doc ranges, so whole shards before the page
// are skipped by their counts; inside a shard the k = offset + limit smallest
// positions are selected with a bounded heap (O(occurrences) time, O(k) memory).
// `store` (may be null) supplies external ids in byte mode.
Status LocateOccurrences(const SuffixArrayIndex& index, const DocStore* store, std::string_view query,
                         const LocateOptions& options, LocateResult* result);

}  // namespace dedupdb
