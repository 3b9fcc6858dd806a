// Near-duplicate queries and batch near-dedup over an LSH index
// (index/lsh_index.h).
//
// FindNearDuplicates: one query text (or stored doc) -> the indexed docs that
// share at least one band with it, with their estimated Jaccard (equal
// signature positions / K) and, with verify, the exact Jaccard of the
// shingle sets; those at or above the threshold are returned, most similar
// first.
//
// NearDedup: every candidate pair of the index, band by band (bucket runs
// are sorted by key, so a band is one sequential scan, k-way merged across
// runs), goes through an ExternalSorter that spills to disk when the pairs
// do not fit the memory budget; sorted, distinct pairs are then verified
// (estimated or exact Jaccard) and joined with a sparse union-find (only
// docs of accepted pairs are stored). A pair whose docs are already in one
// component is not verified (it could not change the components). Each
// component keeps one doc (the first, or the longest) and the others are
// reported removed, streamed in doc-id order through an external sort.
// Doc ids are 64-bit throughout.
//
// Memory (--memory M): the pair buffer gets M/2, the removed-record buffer
// M/8; the union-find gets M minus those and what the pair sorter still
// holds after its input phase (nothing but 64 KiB read buffers when it
// spilled; at least min_union_find_bytes, 1 MiB). The union-find grows with
// the docs in near-duplicate clusters (32-64 bytes each); if it would
// exceed its share, NearDedup stops with an Aborted status naming the
// memory it needs instead of exceeding the budget.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "index/lsh_index.h"
#include "storage/doc_store.h"

namespace dedupdb {

struct NearMatch {
  uint64_t doc_id = 0;
  double estimated = 0;  // MinHash estimate
  double exact = -1;     // exact shingle Jaccard, -1 if not verified
  double similarity() const { return exact >= 0 ? exact : estimated; }
};

struct NearQueryOptions {
  double threshold = 0.8;
  bool verify = false;            // filter on exact Jaccard instead of the estimate
  uint64_t exclude_doc = kNoDoc;  // skip this doc (the query itself for --doc-id)
};

// Query by text.
Status FindNearDuplicates(const DocStore& store, const LshIndex& index, std::string_view text,
                          const NearQueryOptions& options, std::vector<NearMatch>* out);
// Query by stored document (its stored signature when indexed).
Status FindNearDuplicatesOfDoc(const DocStore& store, const LshIndex& index, uint64_t doc_id,
                               const NearQueryOptions& options, std::vector<NearMatch>* out);

enum class KeepPolicy { kFirst, kLongest };

struct RemovedDoc {
  uint64_t doc_id = 0;
  uint64_t cluster = 0;  // smallest doc id of the cluster
  uint64_t kept = 0;     // the representative kept
  double similarity = 0; // Jaccard (estimated or exact, as verified) to `kept`
};

struct NearDedupOptions {
  double threshold = 0.8;
  bool exact = false;            // verify by exact shingle Jaccard (default: estimate)
  KeepPolicy keep = KeepPolicy::kFirst;
  uint64_t memory_bytes = 1ull << 30;  // budget for the pair buffer
  std::string tmp_dir;           // where pair spills go (must exist)
  bool show_progress = false;
  Env* env = nullptr;
  // Called once per removed doc, ascending doc id (an error stops the run).
  std::function<Status(const RemovedDoc&)> on_removed;
  // The union-find's share never drops below this (tiny budgets in tests).
  uint64_t min_union_find_bytes = 1ull << 20;
};

struct NearDedupResult {
  uint64_t docs = 0;             // docs covered by the index
  uint64_t candidate_pairs = 0;  // distinct candidate pairs
  uint64_t pair_records = 0;     // pairs emitted before dedup (over all bands)
  uint64_t verified_pairs = 0;   // pairs checked against the threshold
  uint64_t accepted_pairs = 0;   // pairs >= threshold that joined two components
  uint64_t skipped_pairs = 0;    // pairs already in one component
  uint64_t clusters = 0;         // components with >= 2 docs
  uint64_t clustered_docs = 0;   // docs in those components (union-find entries)
  uint64_t removed_docs = 0;
  uint64_t removed_bytes = 0;
  uint64_t union_find_bytes = 0; // final size of the union-find table
  size_t spill_files = 0;        // pair spills
  uint64_t spilled_bytes = 0;
  double seconds = 0;
};

Status NearDedup(const DocStore& store, const LshIndex& index, const NearDedupOptions& options,
                 NearDedupResult* result);

}  // namespace dedupdb
