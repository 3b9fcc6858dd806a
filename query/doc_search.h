// Boolean document search over a suffix-array index: a CNF query (AND of
// clauses, each an OR of substring terms; query/cnf.h) is answered with the
// exact set of matching documents held as a Roaring bitmap, its size, and the
// first N documents (smallest doc ids) with a snippet around a match.
//
// Plan: every term's occurrence count is one range search per shard, so the
// clauses are evaluated from the rarest up. The first clause's documents come
// from enumerating its occurrences (suffix-array entries -> doc ids). For each
// later clause the cheaper of two exact methods is used: enumerate its
// occurrences and intersect, or -- when the surviving candidate documents are
// few and the clause's terms are frequent -- scan just those documents' text
// for the terms (SIMD memmem). Either way the answer is exact.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <roaring/roaring64map.hh>

#include "index/suffix_array.h"
#include "query/cnf.h"
#include "storage/doc_store.h"
#include "storage/status.h"

namespace dedupdb {

struct DocSearchOptions {
  uint64_t max_docs = 10;          // documents listed in the result (smallest ids)
  uint64_t snippet_context = 40;   // symbols of context on each side of the match
  // Force one clause method (tests exercise both); kAuto picks by cost.
  enum class Method { kAuto, kEnumerate, kScan };
  Method method = Method::kAuto;
};

struct DocSearchHit {
  uint64_t doc_id = 0;
  std::string external_id;   // from the store (empty in token mode)
  std::string term;          // the first-clause term found at match_offset
  uint64_t match_offset = 0; // symbols into the document
  std::string snippet;       // raw symbol bytes around the match (byte mode: UTF-8 text, may cut a code point)
};

struct ClauseReport {
  std::vector<std::string> terms;
  std::vector<uint64_t> term_counts;  // occurrences of each term
  uint64_t occurrences = 0;           // sum of term_counts
  bool scanned = false;               // evaluated by scanning candidate docs
  uint64_t docs_after = 0;            // candidate docs left after this clause
};

struct DocSearchResult {
  uint64_t num_docs = 0;             // documents matching the whole query
  Roaring64Map docs;        // all of them
  std::vector<DocSearchHit> hits;    // the first max_docs, by doc id
  std::vector<ClauseReport> clauses; // in evaluation order
};

// store may be null (token-mode indexes have no store documents); then
// external ids are left empty.
Status SearchDocs(const SuffixArrayIndex& index, const DocStore* store, const CnfQuery& query,
                  const DocSearchOptions& options, DocSearchResult* out);

// Documents (global ids) containing `term`, from the suffix array.
void DocsContaining(const SuffixArrayIndex& index, std::string_view term, Roaring64Map* docs);
// Symbol offset of the first occurrence of term in a document's text, aligned
// to symbols; false if absent.
bool FindInDoc(std::string_view doc, std::string_view term, uint32_t symbol_bytes, uint64_t* symbol_offset);

}  // namespace dedupdb
