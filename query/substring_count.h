// count(q): occurrences of a symbol string in the corpus, summed over the
// shards of a suffix-array index (one binary search per shard, mmap reads).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "index/suffix_array.h"
#include "storage/status.h"

namespace dedupdb {

struct CountResult {
  uint64_t count = 0;
  std::vector<SaRange> ranges;  // per shard: the suffixes that start with the query
};

// Occurrences of `query` (whole symbols of the index's width, token ids
// big-endian; see EncodeTokens). Never counts a match that crosses a
// document boundary: a query containing the separator counts 0. The empty
// query occurs at every position of document content (input_symbols).
Status CountOccurrences(const SuffixArrayIndex& index, std::string_view query, CountResult* result);

}  // namespace dedupdb
