// Exact-substring dedup (Lee et al. 2022 "deduplicate-text-datasets",
// GneissWeb, datatrove): find every window of k bytes that occurs more than
// once in a corpus (self mode) or that also occurs in another corpus (across
// mode) and turn them into per-document byte ranges to remove.
//
// Two methods give the same output (docs/exact_dedup.md):
//
// Anchors (default, query/anchor_dedup.cc): a content-defined anchor
// (minimizer) is chosen for every window, so equal windows have anchors at
// the same offset with equal text after them. Anchors are grouped by that
// text's hash, and only groups of two or more are resolved, by hashing and
// comparing their members' windows. The text is read front to back once
// per pass plus once around each grouped anchor (~1 in w/2 positions), which
// is what makes it several times faster than the merge on large corpora.
//
// Merge (query/exact_dedup.cc): the corpus is indexed by suffix-array shards,
// each sorted on its own. We k-way merge the shards' suffix arrays, comparing
// suffixes by their first k bytes only. Every shard is sorted by full suffix,
// hence by k-prefix, so the merge emits all suffixes in non-decreasing
// k-prefix order and every set of equal k-prefixes - across all shards - comes
// out as one contiguous group. A window is repeated iff its group has >= 2
// members whose window lies inside one document; that is exactly the
// brute-force definition, so the method is complete by construction.
// Memory is bounded: one cursor per shard, O(1) state per group (see
// FindExactDuplicates), and the positions to remove are spilled to sorted run
// files when they exceed the budget, then merged in position order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "query/range_list.h"
#include "storage/env.h"
#include "storage/status.h"

namespace dedupdb {

// One sorted run of suffixes: the suffix array of one shard of a corpus.
// Positions and lengths are in symbols (1 byte, or 2/4-byte big-endian
// token ids, so that byte order is symbol order).
struct SuffixRun {
  const uint8_t* text = nullptr;  // the shard's symbols (mmapped)
  uint64_t text_size = 0;         // in symbols
  const char* sa = nullptr;       // sa_size little-endian symbol offsets into text, sa_width bytes
  unsigned sa_width = 8;          // each, in lexicographic (unsigned byte) order of the suffixes
  uint64_t sa_size = 0;
  uint64_t global_base = 0;       // corpus position of text[0]
  // The maps holding text and sa, if any: the merge asks them for read-ahead
  // (the index opens its maps for random access, but the merge streams each
  // suffix array and copies the texts front to back).
  const MappedFile* text_map = nullptr;
  const MappedFile* sa_map = nullptr;
};

// Maps corpus positions to documents (docs occupy increasing, disjoint
// position ranges; bytes between them, e.g. separators, belong to none).
class CorpusMap {
 public:
  virtual ~CorpusMap() = default;
  // False if pos lies in no document.
  virtual bool Locate(uint64_t pos, uint64_t* doc_id, uint64_t* doc_start, uint64_t* doc_len) const = 0;
  // The first document that ends after pos (doc_start + doc_len > pos);
  // false if there is none.
  virtual bool NextDoc(uint64_t pos, uint64_t* doc_start, uint64_t* doc_len) const = 0;
};

// A CorpusMap over an explicit table of (doc id, start, length), sorted by start.
class TableCorpusMap : public CorpusMap {
 public:
  void Add(uint64_t doc_id, uint64_t start, uint64_t length) {
    ids_.push_back(doc_id), starts_.push_back(start), lens_.push_back(length);
  }
  bool Locate(uint64_t pos, uint64_t* doc_id, uint64_t* doc_start, uint64_t* doc_len) const override;
  bool NextDoc(uint64_t pos, uint64_t* doc_start, uint64_t* doc_len) const override;
  size_t size() const { return ids_.size(); }

 private:
  std::vector<uint64_t> ids_, starts_, lens_;
};

struct SuffixCorpus {
  std::vector<SuffixRun> runs;  // shards in position order
  const CorpusMap* map = nullptr;
  unsigned symbol_bytes = 1;
  // If every document is followed by a separator symbol that never occurs
  // inside one (the SA index: 0xFF after UTF-8 text), a window is inside one
  // document iff it contains no separator: checked once per group on the
  // shared k-prefix instead of a position lookup per copy.
  bool has_separator = false;
  uint64_t separator = 0;
};

enum class KeepPolicy { kFirst, kNone };

// How repeated windows are found (same output either way).
enum class DedupMethod {
  kAnchors,  // content-defined anchors grouped by hash: no suffix array needed
  kMerge,    // k-way merge of the shards' suffix arrays
};

struct ExactDedupOptions {
  uint64_t min_len = 100;                 // k in symbols (bytes, or tokens in token mode)
  KeepPolicy keep = KeepPolicy::kFirst;   // self mode: keep the earliest copy of each window, or none
  DedupMethod method = DedupMethod::kAnchors;
  uint64_t memory_bytes = 256ull << 20;   // budget for buffered positions before spilling
  // Shard texts are read in suffix order, i.e. at random: copying them into
  // anonymous memory backed by transparent huge pages removes most TLB
  // misses (the dominant cost on a cold or virtualised mmap). Shards are
  // copied, in order, while their total stays within this many bytes.
  uint64_t text_cache_bytes = 0;
  std::string tmp_dir;                    // where spill runs go (required if they are needed)
  size_t top_n = 10;                      // repeated spans to report
  // Merging threads (0 = one per core, or one for corpora under 4 M
  // suffixes); each takes key-range partitions in turn. The output does not
  // depend on it.
  unsigned threads = 0;
  bool show_progress = false;
  Env* env = nullptr;                     // nullptr = Env::Default()
};

// A repeated span for the report: windows with the same occurrence count at
// consecutive positions are merged, so a long repeated passage shows once.
struct RepeatedSpan {
  uint64_t count = 0;        // occurrences in this corpus (self) / in both (across)
  uint64_t other_count = 0;  // across mode: occurrences in the other corpus
  uint64_t position = 0;     // corpus position of the earliest-sorted sample
  uint64_t length = 0;
  std::string text;          // first 200 bytes
};

struct ExactDedupStats {
  uint64_t suffixes = 0;          // suffixes merged / positions scanned (both corpora)
  uint64_t runs = 0;              // shards merged / scanned
  uint64_t threads = 0;           // merging / grouping threads
  uint64_t partitions = 0;        // key-range partitions they took turns at (merge)
  uint64_t anchors = 0;           // anchors method: anchors found (all passes)
  uint64_t anchor_groups = 0;     // ... groups of >= 2 anchors with equal text after them
  uint64_t anchor_passes = 0;     // ... passes over the text (hash ranges that fit the memory budget)
  uint64_t giant_groups = 0;      // ... groups larger than the budget, streamed (2 more passes each)
  uint64_t repeated_groups = 0;   // distinct k-windows that count as repeated / matched
  uint64_t repeated_windows = 0;  // window occurrences in this corpus inside such groups
  uint64_t removed_windows = 0;   // windows marked for removal
  uint64_t text_cached_bytes = 0;  // shard text copied into huge-page memory
  uint64_t spill_runs = 0;
  uint64_t spilled_positions = 0;
  double merge_seconds = 0, collect_seconds = 0;  // finding windows (merge or anchors); ranges
  double scan_seconds = 0, resolve_seconds = 0;    // anchors: scanning passes; bucketing and groups
  std::string fallback;  // why the anchors method gave way to the merge (empty: it did not)
  std::vector<RepeatedSpan> top;
};

// Self mode when other == nullptr, else across mode (every window of corpus
// also present in other is removed; keep policy does not apply). ranges gets
// the normalised span-level result.
Status FindExactDuplicates(const SuffixCorpus& corpus, const SuffixCorpus* other, const ExactDedupOptions& options,
                           RangeList* ranges, ExactDedupStats* stats);

}  // namespace dedupdb
