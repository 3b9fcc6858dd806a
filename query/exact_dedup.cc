#include "query/exact_dedup.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <atomic>
#include <memory>
#include <thread>

#include "query/exact_dedup_parts.h"
#include "query/position_spiller.h"
#include "storage/coding.h"
#include "storage/progress.h"

namespace dedupdb {

using namespace exact_dedup_internal;

bool TableCorpusMap::Locate(uint64_t pos, uint64_t* doc_id, uint64_t* doc_start, uint64_t* doc_len) const {
  auto it = std::upper_bound(starts_.begin(), starts_.end(), pos);
  if (it == starts_.begin()) return false;
  size_t i = static_cast<size_t>(it - starts_.begin()) - 1;
  if (pos >= starts_[i] + lens_[i]) return false;
  *doc_id = ids_[i];
  *doc_start = starts_[i];
  *doc_len = lens_[i];
  return true;
}

bool TableCorpusMap::NextDoc(uint64_t pos, uint64_t* doc_start, uint64_t* doc_len) const {
  // Documents are disjoint and sorted, so ends are sorted too: the first
  // document ending after pos is the one containing pos or the next.
  auto it = std::upper_bound(starts_.begin(), starts_.end(), pos);
  size_t i = static_cast<size_t>(it - starts_.begin());
  if (i > 0 && starts_[i - 1] + lens_[i - 1] > pos) --i;
  if (i >= starts_.size()) return false;
  *doc_start = starts_[i];
  *doc_len = lens_[i];
  return true;
}

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Lexicographic order of suffixes cut at k bytes; a suffix shorter than k
// (end of a shard) sorts before its extensions, as in the suffix array.
inline int CompareKey(const uint8_t* a, uint64_t la, const uint8_t* b, uint64_t lb) {
  int c = std::memcmp(a, b, std::min(la, lb));
  if (c != 0) return c;
  return la < lb ? -1 : (la > lb ? 1 : 0);
}

// Per-corpus facts the scanner needs for each member.
struct CorpusCtx {
  const CorpusMap* map = nullptr;
  unsigned sb = 1;  // symbol bytes
  bool has_sep = false;
  uint64_t sep = 0;
  int tag = 0;      // 1 = the other corpus (across mode)
};

// Entry j of a suffix array: one unaligned 8-byte load and a mask while 8
// bytes are in bounds (all but the last few entries).
inline uint64_t SaEntry(const SuffixRun& run, uint64_t j) {
  const unsigned w = run.sa_width;
  if (w < 8 && j + 8 < run.sa_size) {
    uint64_t v;
    std::memcpy(&v, run.sa + j * w, 8);
    return v & ((uint64_t{1} << (8 * w)) - 1);
  }
  return DecodeUnsigned(run.sa + j * w, w);
}

// The first 8 bytes of a key as a big-endian integer, zero-padded: integer
// order of heads is memcmp order, so most comparisons need no memcmp (equal
// heads fall back to CompareKey, which also settles the zero-padding case).
inline uint64_t KeyHead(const uint8_t* p, uint64_t len) {
  uint64_t v = 0;
  std::memcpy(&v, p, std::min<uint64_t>(len, 8));
  return __builtin_bswap64(v);
}

// Read position in one shard's suffix array, over the SA entries of one
// key-range partition [i, end).
struct Cursor {
  SuffixRun run;
  const CorpusCtx* ctx = nullptr;
  uint64_t i = 0;
  uint64_t end = 0;
  uint64_t off = 0;  // symbol offset in the shard
  const uint8_t* ptr = nullptr;
  uint64_t len = 0;  // bytes of min(k, symbols to the end of the shard)
  uint64_t head = 0;  // KeyHead(ptr, len)

  // Two-stage prefetch. Far ahead, only the first cache line of a suffix
  // (most suffixes differ from their neighbour within it). Near ahead, once
  // that line has arrived: if the suffix agrees with its SA predecessor on
  // the first kProbe bytes it is probably in a repeated group, whose member
  // comparisons read all k bytes, so fetch the rest of its k-prefix then.
  // Fetching every line of every k-prefix up front made large k memory-bound
  // (the miss buffers filled with lines nobody compared).
  // The distances are in this cursor's steps; with m cursors merged it moves
  // about every m-th step, so they shrink with m to keep the lines in flight
  // near 24 + 8 (measured on 3 shards: 8/3 merges in 26 s, 24/8 in 34 s).
  static constexpr uint64_t kProbe = 16;
  uint64_t far = 24, near = 8;
  void SetMergeWidth(size_t m) {
    far = std::max<uint64_t>(3, (24 + m - 1) / m);
    near = std::max<uint64_t>(1, (far + 2) / 3);
  }
  static const uint8_t* Line(const uint8_t* p) {
    return reinterpret_cast<const uint8_t*>(reinterpret_cast<uintptr_t>(p) & ~uintptr_t{63});
  }
  uint64_t Entry(uint64_t j) const { return SaEntry(run, j); }
  // Read-ahead of the suffix array: page faults of a stream over a map are
  // served 4 KiB at a time under random-access advice, so keep the next
  // kReadAhead bytes requested (asynchronously) ahead of the cursor.
  static constexpr uint64_t kReadAhead = 8u << 20;
  uint64_t ra_next = 0;  // SA index at which to request the next window
  void ReadAhead() {
    const unsigned w = run.sa_width;
    const uint64_t from = static_cast<uint64_t>(run.sa - run.sa_map->data()) + i * w;
    const uint64_t to = static_cast<uint64_t>(run.sa - run.sa_map->data()) + end * w;
    run.sa_map->Advise(MappedFile::Access::kWillNeed, from, std::min(kReadAhead, to - from));
    ra_next = i + kReadAhead / 2 / w;
  }
  bool Load(uint64_t k) {
    if (i >= end) return false;
    if (i >= ra_next && run.sa_map != nullptr) ReadAhead();
    const unsigned sb = ctx->sb;
    off = Entry(i);
    if (i + far < run.sa_size) __builtin_prefetch(run.text + sb * Entry(i + far));
    const uint64_t key_bytes = k * sb;
    if (key_bytes > kProbe && i + near < run.sa_size) {
      const uint64_t a = Entry(i + near), b = Entry(i + near - 1);
      const uint64_t limit = run.text_size * sb;
      const uint8_t* pa = run.text + sb * a;
      if (sb * std::max(a, b) + kProbe <= limit && std::memcmp(pa, run.text + sb * b, kProbe) == 0) {
        const uint8_t* stop = pa + std::min(key_bytes, limit - sb * a);
        for (const uint8_t* line = Line(pa) + 64; line < stop; line += 64) __builtin_prefetch(line);
      }
    }
    ptr = run.text + off * sb;
    len = std::min<uint64_t>(k, run.text_size - off) * sb;
    head = KeyHead(ptr, len);
    return true;
  }
  uint64_t pos() const { return run.global_base + off; }
  int tag() const { return ctx->tag; }
};

// True if the k symbols at p contain the separator.
bool HasSeparator(const uint8_t* p, uint64_t bytes, const CorpusCtx& c) {
  return FindSymbol(p, bytes, c.sb, c.sep) < bytes;
}

// The group state machine: O(1) memory however many copies a window has.
class GroupScanner {
 public:
  GroupScanner(const ExactDedupOptions& o, bool across, PositionSpiller* out, TopSpans* top, ExactDedupStats* st)
      : k_(o.min_len), keep_(o.keep), across_(across), out_(out), top_(top), st_(st) {}
  void set_key_bytes(uint64_t b) { key_bytes_ = b; }

  // Members arrive in merged order (non-decreasing k-prefix).
  Status Add(const Cursor& c) {
    if (!open_ || c.head != key_head_ || CompareKey(c.ptr, c.len, key_, key_len_) != 0) {
      DEDUPDB_RETURN_IF_ERROR(Close());
      open_ = true;
      key_ = c.ptr;
      key_len_ = c.len;
      key_head_ = c.head;
      members_ = 0;
      valid_self_ = valid_other_ = 0;
      sep_checked_[0] = sep_checked_[1] = false;
    }
    if (key_len_ < key_bytes_) return Status::OK();  // runs into the end of a shard: never a whole window
    if (++members_ == 1) {
      // Most groups have one member: defer the document check until a second arrives.
      pending_ = Member{c.pos(), c.ctx, c.ptr, (c.run.text_size - c.off) * c.ctx->sb};
      return Status::OK();
    }
    if (members_ == 2) DEDUPDB_RETURN_IF_ERROR(Visit(pending_));
    return Visit(Member{c.pos(), c.ctx, c.ptr, (c.run.text_size - c.off) * c.ctx->sb});
  }

  Status Close() {
    if (!open_) return Status::OK();
    open_ = false;
    if (!across_ && valid_self_ >= 2) {
      ++st_->repeated_groups;
      st_->repeated_windows += valid_self_;
      top_->Offer(valid_self_, 0, min_pos_, min_ptr_, min_avail_);
    } else if (across_ && valid_self_ > 0 && valid_other_ > 0) {
      ++st_->repeated_groups;
      st_->repeated_windows += valid_self_;
      top_->Offer(valid_self_, valid_other_, min_pos_, min_ptr_, min_avail_);
    }
    return Status::OK();
  }

 private:
  struct Member {
    uint64_t pos;
    const CorpusCtx* ctx;
    const uint8_t* ptr;
    uint64_t avail;  // bytes to the end of the shard
  };

  // Is the member's window inside one document?
  bool InsideDoc(const Member& m) {
    const CorpusCtx& c = *m.ctx;
    if (c.has_sep) {
      // Same k-prefix for every member: one check per group and corpus.
      if (!sep_checked_[c.tag]) {
        sep_checked_[c.tag] = true;
        sep_ok_[c.tag] = !HasSeparator(key_, key_bytes_, c);
      }
      return sep_ok_[c.tag];
    }
    uint64_t doc, start, len;
    return c.map->Locate(m.pos, &doc, &start, &len) && m.pos + k_ <= start + len;
  }

  Status Emit(uint64_t pos) {
    ++st_->removed_windows;
    return out_->Add(pos);
  }

  void SetMin(const Member& m) {
    min_pos_ = m.pos;
    min_ptr_ = m.ptr;
    min_avail_ = m.avail;
  }

  // One member whose group has >= 2 members. Self/keep-first emits every
  // valid member but the smallest position seen so far (a smaller one
  // displaces and emits the old minimum); keep-none emits all once there are
  // two; across emits self members after an other-corpus member (the merge
  // orders the other corpus first within a group).
  Status Visit(const Member& m) {
    if (!InsideDoc(m)) return Status::OK();
    if (m.ctx->tag == 1) {
      ++valid_other_;
      return Status::OK();
    }
    ++valid_self_;
    if (valid_self_ == 1) {
      SetMin(m);
      return across_ && valid_other_ > 0 ? Emit(m.pos) : Status::OK();
    }
    if (across_) {
      if (m.pos < min_pos_) SetMin(m);
      return valid_other_ > 0 ? Emit(m.pos) : Status::OK();
    }
    if (keep_ == KeepPolicy::kNone) {
      if (valid_self_ == 2) DEDUPDB_RETURN_IF_ERROR(Emit(min_pos_));
      if (m.pos < min_pos_) SetMin(m);
      return Emit(m.pos);
    }
    if (m.pos < min_pos_) {
      uint64_t old = min_pos_;
      SetMin(m);
      return Emit(old);
    }
    return Emit(m.pos);
  }

  uint64_t k_;
  uint64_t key_bytes_ = 0;  // k * symbol bytes
  bool sep_checked_[2] = {false, false}, sep_ok_[2] = {false, false};
  KeepPolicy keep_;
  bool across_;
  PositionSpiller* out_;
  TopSpans* top_;
  ExactDedupStats* st_;
  bool open_ = false;
  const uint8_t* key_ = nullptr;
  uint64_t key_len_ = 0, key_head_ = 0;
  uint64_t members_ = 0, valid_self_ = 0, valid_other_ = 0;
  Member pending_{};
  uint64_t min_pos_ = 0;
  const uint8_t* min_ptr_ = nullptr;
  uint64_t min_avail_ = 0;
};

// Merge order of two loaded cursors: k-prefix, then the other corpus first,
// then shard order (deterministic output).
inline bool Before(const Cursor& a, size_t ia, const Cursor& b, size_t ib) {
  if (a.head != b.head) return a.head < b.head;
  int c = CompareKey(a.ptr, a.len, b.ptr, b.len);
  if (c != 0) return c < 0;
  if (a.tag() != b.tag()) return a.tag() > b.tag();
  return ia < ib;
}

// Binary min-heap of cursor indices with in-place replacement of the top.
class CursorHeap {
 public:
  explicit CursorHeap(std::vector<Cursor>* cs) : cs_(*cs) {}
  void Push(size_t i) {
    h_.push_back(i);
    size_t j = h_.size() - 1;
    while (j > 0) {
      size_t p = (j - 1) / 2;
      if (!Less(h_[j], h_[p])) break;
      std::swap(h_[j], h_[p]);
      j = p;
    }
  }
  bool empty() const { return h_.empty(); }
  size_t top() const { return h_[0]; }
  void PopTop() {
    h_[0] = h_.back();
    h_.pop_back();
    SiftDown();
  }
  // The top cursor advanced in place: restore heap order.
  void SiftDown() {
    size_t j = 0, n = h_.size();
    for (;;) {
      size_t l = 2 * j + 1, r = l + 1, m = j;
      if (l < n && Less(h_[l], h_[m])) m = l;
      if (r < n && Less(h_[r], h_[m])) m = r;
      if (m == j) return;
      std::swap(h_[j], h_[m]);
      j = m;
    }
  }

 private:
  bool Less(size_t a, size_t b) const { return Before(cs_[a], a, cs_[b], b); }
  std::vector<Cursor>& cs_;
  std::vector<size_t> h_;
};

// Partitions per thread: the cost per suffix varies along the key order
// (repeated passages cost k-byte comparisons and emit positions), so equal
// suffix counts are not equal work; threads take the next partition when
// they finish one, which evens the load out.
constexpr size_t kPartitionsPerThread = 8;

// First SA index of c's run whose suffix, cut at k symbols, is >= key.
uint64_t LowerBound(const Cursor& c, const uint8_t* key, uint64_t key_len, uint64_t k) {
  const unsigned sb = c.ctx->sb;
  uint64_t lo = 0, hi = c.run.sa_size;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    const uint64_t off = SaEntry(c.run, mid);
    const uint64_t len = std::min<uint64_t>(k, c.run.text_size - off) * sb;
    if (CompareKey(c.run.text + off * sb, len, key, key_len) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// Merges one partition's cursors in k-prefix order through a GroupScanner
// writing into the worker's spiller, pool and counters. done counts merged
// suffixes (all threads); meter is drawn by a caller that merges alone.
Status MergePartition(const ExactDedupOptions& options, bool across, uint64_t key_bytes, std::vector<Cursor> cursors,
                      Worker* w, std::atomic<uint64_t>* done, ProgressMeter* meter) {
  const uint64_t k = options.min_len;
  GroupScanner scanner(options, across, w->spiller.get(), w->top.get(), &w->stats);
  scanner.set_key_bytes(key_bytes);
  uint64_t local = 0;
  auto tick = [&] {
    if ((++local & 0xffff) == 0) {
      const uint64_t d = done->fetch_add(0x10000) + 0x10000;
      if (meter != nullptr) meter->Update(d);
    }
  };
  if (cursors.size() == 1) {
    // One shard: its suffix array already is the global order.
    Cursor& c = cursors[0];
    for (; c.Load(k); ++c.i) {
      DEDUPDB_RETURN_IF_ERROR(scanner.Add(c));
      tick();
    }
  } else {
    CursorHeap heap(&cursors);
    for (size_t i = 0; i < cursors.size(); ++i)
      if (cursors[i].Load(k)) heap.Push(i);
    while (!heap.empty()) {
      Cursor& c = cursors[heap.top()];
      DEDUPDB_RETURN_IF_ERROR(scanner.Add(c));
      ++c.i;
      if (c.Load(k)) {
        heap.SiftDown();
      } else {
        heap.PopTop();
      }
      tick();
    }
  }
  done->fetch_add(local & 0xffff);
  return scanner.Close();
}

}  // namespace

namespace exact_dedup_internal {

Status FindByMerge(const SuffixCorpus& corpus, const SuffixCorpus* other, const ExactDedupOptions& options,
                   RangeList* ranges, ExactDedupStats* stats) {
  Env* env = options.env != nullptr ? options.env : Env::Default();
  const uint64_t k = options.min_len;
  CorpusCtx ctx[2];
  auto set_ctx = [&](const SuffixCorpus& c, int tag) {
    ctx[tag] = CorpusCtx{c.map, c.symbol_bytes, c.has_separator, c.separator, tag};
  };
  set_ctx(corpus, 0);
  if (other != nullptr) set_ctx(*other, 1);

  std::vector<Cursor> cursors;
  auto add_runs = [&](const SuffixCorpus& c, int tag) {
    for (const SuffixRun& r : c.runs) {
      Cursor cur;
      cur.run = r;
      cur.end = r.sa_size;
      cur.ctx = &ctx[tag];
      cursors.push_back(cur);
      stats->suffixes += r.sa_size;
      ++stats->runs;
    }
  };
  add_runs(corpus, 0);
  if (other != nullptr) add_runs(*other, 1);

  std::vector<std::unique_ptr<TextCopy>> copies;
  {
    std::vector<SuffixRun*> runs;
    for (Cursor& c : cursors) runs.push_back(&c.run);
    CopyTexts(runs, corpus.symbol_bytes, options.text_cache_bytes, &stats->text_cached_bytes, &copies);
  }

  // Key-range partitions, merged in parallel: pivots are k-prefixes taken at
  // quantiles of the largest shard, and each shard is cut at the first
  // suffix whose k-prefix is >= the pivot, so every group of equal
  // k-prefixes falls into exactly one partition.
  const size_t nthreads = ThreadCount(options, stats->suffixes);
  const size_t nparts = nthreads == 1 ? 1 : nthreads * kPartitionsPerThread;
  stats->threads = nthreads;
  stats->partitions = nparts;
  std::vector<std::vector<Cursor>> parts(nparts);
  {
    size_t big = 0;
    for (size_t c = 1; c < cursors.size(); ++c)
      if (cursors[c].run.sa_size > cursors[big].run.sa_size) big = c;
    std::vector<uint64_t> lo(cursors.size(), 0);
    for (size_t p = 0; p < nparts; ++p) {
      std::vector<uint64_t> hi(cursors.size());
      for (size_t c = 0; c < cursors.size(); ++c) hi[c] = cursors[c].run.sa_size;
      if (p + 1 < nparts) {
        const Cursor& bc = cursors[big];
        const uint64_t off = SaEntry(bc.run, bc.run.sa_size * (p + 1) / nparts);
        const uint8_t* key = bc.run.text + off * bc.ctx->sb;
        const uint64_t key_len = std::min<uint64_t>(k, bc.run.text_size - off) * bc.ctx->sb;
        for (size_t c = 0; c < cursors.size(); ++c) hi[c] = std::max(lo[c], LowerBound(cursors[c], key, key_len, k));
      }
      parts[p] = cursors;
      for (size_t c = 0; c < cursors.size(); ++c) {
        parts[p][c].i = lo[c];
        parts[p][c].end = hi[c];
        parts[p][c].SetMergeWidth(cursors.size());
      }
      lo = hi;
    }
  }
  std::vector<Worker> workers = MakeWorkers(nthreads, options, env);
  ProgressMeter meter("dedup-exact merge", stats->suffixes, ProgressMeter::Unit::kItems, options.show_progress);
  std::atomic<uint64_t> done{0};
  const uint64_t key_bytes = k * corpus.symbol_bytes;
  auto t0 = Clock::now();
  if (nthreads == 1) {
    workers[0].status = MergePartition(options, other != nullptr, key_bytes, std::move(parts[0]), &workers[0], &done,
                                       &meter);
  } else {
    std::atomic<size_t> next{0}, finished{0};
    std::vector<std::thread> threads;
    for (Worker& w : workers) {
      threads.emplace_back([&, wp = &w] {
        for (size_t p; wp->status.ok() && (p = next.fetch_add(1)) < nparts;)
          wp->status = MergePartition(options, other != nullptr, key_bytes, std::move(parts[p]), wp, &done, nullptr);
        finished.fetch_add(1);
      });
    }
    while (finished.load() < nthreads) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      meter.Update(done.load());
    }
    for (std::thread& t : threads) t.join();
  }
  meter.Update(done.load());
  meter.Finish();
  stats->merge_seconds = Since(t0);
  return FinishWorkers(corpus, k, &workers, ranges, stats, &copies);
}

}  // namespace exact_dedup_internal

Status FindExactDuplicates(const SuffixCorpus& corpus, const SuffixCorpus* other, const ExactDedupOptions& options,
                           RangeList* ranges, ExactDedupStats* stats) {
  if (corpus.symbol_bytes != 1 && corpus.symbol_bytes != 2 && corpus.symbol_bytes != 4) {
    return Status::InvalidArgument("exact dedup: symbol width must be 1, 2 or 4 bytes");
  }
  if (options.min_len == 0) return Status::InvalidArgument("exact dedup: --min-len must be at least 1");
  if (corpus.map == nullptr || (other != nullptr && other->map == nullptr)) {
    return Status::InvalidArgument("exact dedup: corpus without a position map");
  }
  *stats = ExactDedupStats();
  ranges->clear();
  if (other != nullptr && other->symbol_bytes != corpus.symbol_bytes) {
    return Status::InvalidArgument("exact dedup: the two corpora have different symbol widths (" +
                                   std::to_string(corpus.symbol_bytes) + " vs " +
                                   std::to_string(other->symbol_bytes) + " bytes)");
  }
  if (options.method == DedupMethod::kMerge) return FindByMerge(corpus, other, options, ranges, stats);
  Status st = FindByAnchors(corpus, other, options, ranges, stats);
  if (!st.IsNotSupported()) return st;
  // The anchors method could not fit a group in memory: the merge can, if
  // every shard has its suffix array.
  for (const SuffixCorpus* c : {&corpus, other}) {
    if (c == nullptr) continue;
    for (const SuffixRun& r : c->runs)
      if (r.sa == nullptr && r.sa_size != 0) return st;
  }
  *stats = ExactDedupStats();
  ranges->clear();
  stats->fallback = st.message();
  return FindByMerge(corpus, other, options, ranges, stats);
}

}  // namespace dedupdb
