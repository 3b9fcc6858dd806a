#include "query/exact_dedup_parts.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include <sys/mman.h>

namespace dedupdb {
namespace exact_dedup_internal {

TopSpans::TopSpans(size_t n) : n_(n), cap_(std::max<size_t>(256, 64 * n)) {}

void TopSpans::Insert(const Cand& c) {
  // std heap functions keep the largest under the comparator in front: make
  // that the worst candidate.
  auto worse_first = [](const Cand& a, const Cand& b) { return Better(a.count, a.pos, b); };
  pool_.push_back(c);
  std::push_heap(pool_.begin(), pool_.end(), worse_first);
  if (pool_.size() > cap_) {
    std::pop_heap(pool_.begin(), pool_.end(), worse_first);
    pool_.pop_back();
  }
}

void TopSpans::Absorb(const TopSpans& o) {
  for (const Cand& c : o.pool_) Offer(c.count, c.other, c.pos, c.ptr, c.avail);
}

std::vector<RepeatedSpan> TopSpans::Take(uint64_t k, unsigned sb) {
  std::sort(pool_.begin(), pool_.end(), [](const Cand& a, const Cand& b) {
    return a.count != b.count ? a.count > b.count : a.pos < b.pos;
  });
  std::vector<RepeatedSpan> spans;
  std::vector<const Cand*> heads;
  for (const Cand& c : pool_) {
    if (!spans.empty() && c.count == spans.back().count && c.other == spans.back().other_count &&
        c.pos <= spans.back().position + spans.back().length && c.pos >= spans.back().position) {
      spans.back().length = std::max(spans.back().length, c.pos + k - spans.back().position);
      continue;
    }
    spans.push_back(RepeatedSpan{c.count, c.other, c.pos, k, {}});
    heads.push_back(&c);
  }
  for (size_t i = 0; i < spans.size(); ++i) {
    if (sb != 1) continue;
    uint64_t n = std::min<uint64_t>({spans[i].length, heads[i]->avail, 200});
    spans[i].text.assign(reinterpret_cast<const char*>(heads[i]->ptr), n);
  }
  std::stable_sort(spans.begin(), spans.end(), [](const RepeatedSpan& a, const RepeatedSpan& b) {
    return a.count != b.count ? a.count > b.count : a.length > b.length;
  });
  if (spans.size() > n_) spans.resize(n_);
  return spans;
}

std::vector<Worker> MakeWorkers(size_t n, const ExactDedupOptions& o, Env* env) {
  std::vector<Worker> workers(n);
  for (size_t t = 0; t < n; ++t) {
    workers[t].spiller =
        std::make_unique<PositionSpiller>(env, o.tmp_dir, "spill-t" + std::to_string(t) + "-", o.memory_bytes / n);
    workers[t].top = std::make_unique<TopSpans>(o.top_n);
  }
  return workers;
}

size_t ThreadCount(const ExactDedupOptions& o, uint64_t positions) {
  if (positions == 0) return 1;
  if (o.threads != 0) return o.threads;
  if (positions < (uint64_t{1} << 22)) return 1;
  return std::max(1u, std::thread::hardware_concurrency());
}

TextCopy::~TextCopy() {
  if (p_ != nullptr) ::munmap(p_, n_);
}

bool TextCopy::Make(const uint8_t* src, uint64_t bytes) {
  constexpr uint64_t kHuge = 2ull << 20;
  n_ = (bytes + kHuge - 1) / kHuge * kHuge;
  if (n_ == 0) return false;
  void* p = ::mmap(nullptr, n_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  p_ = p;
#ifdef MADV_HUGEPAGE
  ::madvise(p_, n_, MADV_HUGEPAGE);
#endif
  std::memcpy(p_, src, bytes);
  return true;
}

void CopyTexts(std::vector<SuffixRun*> runs, unsigned symbol_bytes, uint64_t budget, uint64_t* cached,
               std::vector<std::unique_ptr<TextCopy>>* copies) {
  for (SuffixRun* r : runs) {
    const uint64_t bytes = r->text_size * symbol_bytes;
    if (*cached + bytes > budget) break;
    auto copy = std::make_unique<TextCopy>();
    const MappedFile* map = r->text_map;
    const uint64_t at = map != nullptr ? static_cast<uint64_t>(reinterpret_cast<const char*>(r->text) - map->data()) : 0;
    if (map != nullptr) map->Advise(MappedFile::Access::kSequential, at, bytes);  // copied front to back
    const bool made = copy->Make(r->text, bytes);
    if (map != nullptr) map->Advise(MappedFile::Access::kRandom, at, bytes);
    if (!made) break;  // no memory: keep reading the mmap
    r->text = copy->data();
    *cached += bytes;
    copies->push_back(std::move(copy));
  }
}

Status FinishWorkers(const SuffixCorpus& corpus, uint64_t k, std::vector<Worker>* workers, RangeList* ranges,
                     ExactDedupStats* stats, std::vector<std::unique_ptr<TextCopy>>* copies) {
  std::vector<PositionSpiller*> spillers;
  for (Worker& w : *workers) {
    DEDUPDB_RETURN_IF_ERROR(w.status);
    stats->repeated_groups += w.stats.repeated_groups;
    stats->repeated_windows += w.stats.repeated_windows;
    stats->removed_windows += w.stats.removed_windows;
    stats->anchor_groups += w.stats.anchor_groups;
    if (&w != &(*workers)[0]) (*workers)[0].top->Absorb(*w.top);
    spillers.push_back(w.spiller.get());
  }
  // Top-span samples point into the texts: take them, then free the copies
  // before the sort needs its scratch memory.
  stats->top = (*workers)[0].top->Take(k, corpus.symbol_bytes);
  copies->clear();

  // Removed windows in position order -> unions of [p, p + k) -> doc ranges.
  const auto t1 = std::chrono::steady_clock::now();
  bool have = false;
  uint64_t cur_s = 0, cur_e = 0;
  auto flush = [&]() -> Status {
    uint64_t doc, start, len;
    if (!corpus.map->Locate(cur_s, &doc, &start, &len) || cur_e > start + len) {
      return Status::Corruption("exact dedup: removal interval [" + std::to_string(cur_s) + ", " +
                                std::to_string(cur_e) + ") does not lie inside one document");
    }
    ranges->Add(doc, cur_s - start, cur_e - start);
    return Status::OK();
  };
  // Bytes [a, b) covered by windows that overlap one another. Overlapping
  // windows are in the same document (each lies inside one); merely touching
  // ones may not be, so those start a new interval and Normalize() joins
  // them when they share a document.
  auto add_span = [&](uint64_t a, uint64_t b) -> Status {
    if (have && a < cur_e) {
      cur_e = std::max(cur_e, b);
      return Status::OK();
    }
    if (have) DEDUPDB_RETURN_IF_ERROR(flush());
    have = true;
    cur_s = a;
    cur_e = b;
    return Status::OK();
  };
  DEDUPDB_RETURN_IF_ERROR(PositionSpiller::MergeIntervals(spillers, [&](uint64_t s, uint64_t e) -> Status {
    // Windows at consecutive starts overlap when k >= 2; 1-symbol windows
    // only touch, so they go one by one.
    if (k >= 2) return add_span(s, e - 1 + k);
    for (uint64_t p = s; p < e; ++p) DEDUPDB_RETURN_IF_ERROR(add_span(p, p + 1));
    return Status::OK();
  }));
  if (have) DEDUPDB_RETURN_IF_ERROR(flush());
  ranges->Normalize();
  for (PositionSpiller* sp : spillers) {
    stats->spill_runs += sp->runs();
    stats->spilled_positions += sp->spilled();
  }
  stats->collect_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  return Status::OK();
}

}  // namespace exact_dedup_internal
}  // namespace dedupdb
