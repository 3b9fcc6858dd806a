// Pieces shared by the two exact-dedup methods (query/exact_dedup.cc, the
// suffix-array merge, and query/anchor_dedup.cc, the anchor grouping):
// report pools, text copies, threads and the final positions -> ranges step.
// Internal to query/; the public entry point is query/exact_dedup.h.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "query/exact_dedup.h"
#include "query/position_spiller.h"
#include "query/range_list.h"
#include "storage/status.h"

namespace dedupdb {
namespace exact_dedup_internal {

// Top repeated spans: a bounded pool of the highest-count windows, merged at
// the end into spans (consecutive windows with equal counts). The pool keeps
// the best candidates by (count desc, position asc), so what it holds does
// not depend on the order of the offers (threads, methods).
class TopSpans {
 public:
  explicit TopSpans(size_t n);
  // A distinct repeated window: count copies here (other in the other
  // corpus), the earliest at pos, whose text ptr has avail bytes to the end
  // of its shard.
  void Offer(uint64_t count, uint64_t other, uint64_t pos, const uint8_t* ptr, uint64_t avail) {
    if (Wants(count, pos)) Insert(Cand{count, other, pos, ptr, avail});
  }
  // Whether Offer(count, ., pos, ...) would keep the candidate (callers can
  // skip working out the rest).
  bool Wants(uint64_t count, uint64_t pos) const {
    return n_ != 0 && (pool_.size() < cap_ || Better(count, pos, pool_.front()));
  }
  // Adds another pool's candidates (threads' pools are merged this way).
  void Absorb(const TopSpans& o);
  // sb = symbol bytes; sample text is kept for byte corpora only.
  std::vector<RepeatedSpan> Take(uint64_t k, unsigned sb);

 private:
  struct Cand {
    uint64_t count, other, pos;
    const uint8_t* ptr;
    uint64_t avail;
  };
  static bool Better(uint64_t count, uint64_t pos, const Cand& c) {
    return count != c.count ? count > c.count : pos < c.pos;
  }
  void Insert(const Cand& c);
  size_t n_, cap_;
  std::vector<Cand> pool_;  // heap with the worst candidate in front
};

// Symbol at p: sb bytes, big-endian (the order the suffix arrays sort in).
inline uint64_t ReadSymbol(const uint8_t* p, unsigned sb) {
  uint64_t v = 0;
  for (unsigned j = 0; j < sb; ++j) v = (v << 8) | p[j];
  return v;
}

// Byte offset of the first symbol equal to sym in [p, p + bytes) (whole
// symbols of sb bytes), or bytes if there is none.
inline uint64_t FindSymbol(const uint8_t* p, uint64_t bytes, unsigned sb, uint64_t sym) {
  if (sb == 1) {
    const void* q = std::memchr(p, static_cast<int>(sym), bytes);
    return q == nullptr ? bytes : static_cast<uint64_t>(static_cast<const uint8_t*>(q) - p);
  }
  uint64_t i = 0;
  while (i < bytes && ReadSymbol(p + i, sb) != sym) i += sb;
  return i;
}

// The state of one worker thread: its position spiller, top spans and
// counters.
struct Worker {
  std::unique_ptr<PositionSpiller> spiller;
  std::unique_ptr<TopSpans> top;
  ExactDedupStats stats;
  Status status;
};

// Workers with memory_bytes / n each for their spillers.
std::vector<Worker> MakeWorkers(size_t n, const ExactDedupOptions& o, Env* env);

// Threads for a corpus of `positions` symbols (options.threads, else one
// per core, but one for small corpora where start-up dominates).
size_t ThreadCount(const ExactDedupOptions& o, uint64_t positions);

// Anonymous copies of shard texts on transparent huge pages: random reads of
// a large mmapped text are TLB-bound, more so in a VM.
class TextCopy {
 public:
  TextCopy() = default;
  TextCopy(const TextCopy&) = delete;
  TextCopy& operator=(const TextCopy&) = delete;
  ~TextCopy();
  bool Make(const uint8_t* src, uint64_t bytes);
  const uint8_t* data() const { return static_cast<const uint8_t*>(p_); }

 private:
  void* p_ = nullptr;
  uint64_t n_ = 0;
};

// Copies runs' texts, in order, while their total stays within budget,
// pointing the runs at the copies; adds the bytes to *cached.
void CopyTexts(std::vector<SuffixRun*> runs, unsigned symbol_bytes, uint64_t budget, uint64_t* cached,
               std::vector<std::unique_ptr<TextCopy>>* copies);

// Merges the workers' results: counters and top spans into *stats, the
// removed windows [p, p + k) (all inside documents of corpus) into ranges.
Status FinishWorkers(const SuffixCorpus& corpus, uint64_t k, std::vector<Worker>* workers, RangeList* ranges,
                     ExactDedupStats* stats, std::vector<std::unique_ptr<TextCopy>>* copies);

// The two methods; FindExactDuplicates checks the arguments and dispatches.
Status FindByMerge(const SuffixCorpus& corpus, const SuffixCorpus* other, const ExactDedupOptions& options,
                   RangeList* ranges, ExactDedupStats* stats);
Status FindByAnchors(const SuffixCorpus& corpus, const SuffixCorpus* other, const ExactDedupOptions& options,
                     RangeList* ranges, ExactDedupStats* stats);

}  // namespace exact_dedup_internal
}  // namespace dedupdb
