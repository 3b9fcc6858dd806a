// Matching statistics against a suffix-array index: for every position i of
// an input text, the length of the longest prefix of text[i..] that occurs
// somewhere in the corpus, and the maximal matching spans at least min_len
// long with where they occur. This is the memorisation / attribution view:
// which parts of a model output appear verbatim in the training data.
//
// Algorithm (per shard, answers are the max over shards): a witness suffix w
// carries the match from i to i+1 (if text[i..i+L) occurs at w, then
// text[i+1..i+L) occurs at w+1, so ms[i+1] >= ms[i] - 1); the witness is
// extended directly with one SIMD compare, and only when it stops short of
// the end is one binary search done for text[i..]: the suffix sharing the
// longest prefix with a pattern is one of the two neighbours of its
// insertion point in the suffix array. So each position costs at most one
// O(log n) search, and a long verbatim passage costs a compare per position.
//
// Units are symbols (bytes in byte mode, tokens in token mode). Matches never
// cross a document boundary; a separator symbol inside the input ends every
// match that reaches it (it matches nothing).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "index/suffix_array.h"
#include "storage/status.h"

namespace dedupdb {

struct LongestMatchOptions {
  uint64_t min_len = 20;         // report maximal spans of at least this many symbols
  uint64_t max_locations = 10;   // occurrences listed per span (smallest (doc, offset) first)
  // Occurrences examined per span when choosing the smallest ones; a span
  // with more occurrences lists the smallest among the first this many (in
  // suffix-array order) and sets locations_truncated.
  uint64_t max_scan = 1u << 20;
  // Called now and then with (positions done, total) summed over shards,
  // for a progress meter on long inputs.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct SpanLocation {
  uint64_t doc_id = 0;
  uint64_t offset = 0;  // symbols from the start of the document
  bool operator==(const SpanLocation&) const = default;
  bool operator<(const SpanLocation& o) const { return doc_id != o.doc_id ? doc_id < o.doc_id : offset < o.offset; }
};

// A maximal span: text[begin, begin+length) occurs in the corpus and can be
// extended neither to the right (by definition of matching statistics) nor
// to the left (text[begin-1, begin+length) does not occur).
struct MatchSpan {
  uint64_t begin = 0;   // symbols into the input
  uint64_t length = 0;
  uint64_t count = 0;   // occurrences in the corpus
  std::vector<SpanLocation> locations;
  bool locations_truncated = false;
};

struct LongestMatchResult {
  std::vector<uint64_t> match_length;  // per input symbol
  std::vector<MatchSpan> spans;        // ordered by begin
  uint64_t covered = 0;                // input symbols inside at least one reported span
  uint64_t searches = 0;               // binary searches done (cost counter)
};

// text must be a whole number of symbols (index.ValidateQuery).
Status LongestMatches(const SuffixArrayIndex& index, std::string_view text, const LongestMatchOptions& options,
                      LongestMatchResult* out);

// Matching statistics of one shard, max-merged into *ms (which must have
// text.size()/symbol_bytes entries). Returns the number of binary searches.
uint64_t ShardMatchingStatistics(const SaShard& shard, uint64_t separator, std::string_view text,
                                 std::vector<uint64_t>* ms,
                                 const std::function<void(uint64_t done)>& progress = nullptr);

// Maximal spans of a matching-statistics array with length >= min_len.
std::vector<MatchSpan> MaximalSpans(const std::vector<uint64_t>& ms, uint64_t min_len);

// First suffix (rank) whose first |pattern| bytes are >= pattern, i.e. the
// insertion point of pattern (byte string of whole symbols) in the shard.
uint64_t SuffixLowerBound(const SaShard& shard, std::string_view pattern);

}  // namespace dedupdb
