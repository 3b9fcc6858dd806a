// Decontaminator: checks documents against an eval n-gram index
// (index/eval_index.h). The library entry point training pipelines link:
//
//   dedupdb::Decontaminator d;
//   dedupdb::Status s = dedupdb::Decontaminator::Open("evals.ddx", &d);
//   dedupdb::DeconResult r = d.Check(doc_text);
//   if (r.contaminated()) { for (auto& e : r.examples) ...; for (auto& sp : r.spans) ... }
//
// Token mode (an index built from token-id examples, index().token_mode()):
// CheckTokens / ContainsTokens take a document as token ids, and spans and
// hit offsets are token positions. Check(text) on a token-mode index (and
// CheckTokens on a text index) finds nothing.
//
// Check() is const and keeps no shared mutable state, so any number of
// threads may call it concurrently on one Decontaminator.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "index/eval_index.h"
#include "storage/env.h"
#include "storage/status.h"

namespace dedupdb {

// One eval example found in a document.
struct DeconExampleHit {
  uint32_t example = 0;        // index into the eval index's examples
  uint32_t grams_matched = 0;  // distinct grams of the example found in this doc
  uint32_t grams_total = 0;    // distinct grams of the example
  double coverage() const { return grams_total ? double(grams_matched) / grams_total : 0.0; }
};

// A byte range of the document covered by matched grams (merged, sorted);
// token mode: a range of token positions.
struct DeconSpan {
  uint64_t begin = 0;
  uint64_t end = 0;
};

// One matched gram occurrence: `words` words starting at word `word_pos`.
struct DeconGramHit {
  uint32_t gram = 0;      // gram id in the eval index
  uint32_t word_pos = 0;
  uint32_t words = 0;
  uint64_t begin = 0, end = 0;  // byte span in the document (token mode: token positions)
};

struct DeconResult {
  std::vector<DeconExampleHit> examples;  // sorted by example id
  std::vector<DeconSpan> spans;
  std::vector<DeconGramHit> hits;         // in document order
  uint64_t num_words = 0;
  bool contaminated() const { return !examples.empty(); }
};

class Decontaminator {
 public:
  Decontaminator() = default;
  Decontaminator(Decontaminator&&) = default;
  Decontaminator& operator=(Decontaminator&&) = default;

  static Status Open(const std::string& eval_index_path, Decontaminator* out, Env* env = nullptr);
  bool is_open() const { return index_ != nullptr; }
  const EvalIndex& index() const { return *index_; }

  DeconResult Check(std::string_view doc) const;
  // Same, reusing *result's buffers (no allocation in steady state).
  void Check(std::string_view doc, DeconResult* result) const;
  // Only the yes/no answer (no spans, no per-example stats): the fast path.
  bool Contains(std::string_view doc) const;
  // Token mode: the same over a document of token ids.
  void CheckTokens(const uint32_t* tokens, size_t count, DeconResult* result) const;
  bool ContainsTokens(const uint32_t* tokens, size_t count) const;

  // "set/example_id" of an example, as the reports print it.
  std::string ExampleName(uint32_t example) const;

 private:
  std::shared_ptr<const EvalIndex> index_;
};

}  // namespace dedupdb
