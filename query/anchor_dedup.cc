// The anchors method of exact dedup (query/exact_dedup.h; the proof and the
// parameters are in docs/exact_dedup.md).
//
// Every window [p, p + k) inside a document gets an anchor A(p): the
// leftmost position of the smallest gram hash among the grams starting at
// p .. p + w - 1 (a gram is m symbols, hashed from one 8-byte load). A(p)
// depends only on symbols [p, p + w + m - 1), which lie inside the window,
// so two equal windows have anchors at the same offset d = A(p) - p < w,
// and the c = k - w + 1 symbols from the anchor on (its "core") lie inside
// both windows and are equal. Hence:
//   1. one pass over the text lists anchors (~2 / (w + 1) of the positions)
//      with the offsets of the windows they serve and a 48-bit core hash;
//   2. anchors are bucketed and sorted by core hash; an anchor alone in its
//      hash group serves only windows that occur once, and is dropped;
//   3. in each group of two or more, members with identical surroundings
//      (the union of their windows, compared byte for byte) form a class
//      whose windows are equal offset by offset; windows of different classes
//      are compared through a rolling hash and memcmp. Every decision is made
//      on compared bytes, never on a hash alone.
// Memory is bounded: a pass keeps only anchors whose core hash falls in its
// range, as many passes as the budget needs; removed positions go to the
// same spillers as the merge method's, as whole intervals where a class
// member's windows all go.
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <unordered_map>

#include "query/exact_dedup_parts.h"
#include "storage/progress.h"

namespace dedupdb {
namespace exact_dedup_internal {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Window geometry, in symbols.
struct Geometry {
  uint64_t k = 0;  // window
  uint64_t m = 0;  // gram: m * sb <= 8 bytes, one load
  uint64_t w = 0;  // grams per selection window
  uint64_t c = 0;  // core length: k - w + 1
  unsigned sb = 1;
  // An anchor's surroundings: the union of the windows it serves at
  // offsets dmin..dmax, [anchor - dmax, anchor - dmin + k).
  uint64_t ContextBytes(uint64_t dmin, uint64_t dmax) const { return (dmax - dmin + k) * sb; }
  const uint8_t* ContextStart(const uint8_t* anchor, uint64_t dmax) const { return anchor - dmax * sb; }
};

Geometry ChooseGeometry(uint64_t k, unsigned sb) {
  Geometry g;
  g.k = k;
  g.sb = sb;
  g.m = std::min<uint64_t>(8 / sb, k);
  // Density of anchors ~2 / (w + 1) against cores of k - w + 1 symbols:
  // two thirds of the window for w measured best on the 4 GB corpus (k = 50:
  // 81 s against 91-101 s for a half and 79 s for three quarters, which was
  // slower at k = 200: 32 s against 25 s). Offsets are kept in 16 bits.
  g.w = std::min<uint64_t>(std::max<uint64_t>(1, (k - g.m + 1) * 2 / 3), 65535);
  g.c = k - g.w + 1;
  return g;
}

constexpr uint64_t kHashSpace = uint64_t{1} << 48;
constexpr unsigned kPosBits = 47;  // corpus positions < 2^47 symbols
constexpr uint64_t kPosMask = (uint64_t{1} << kPosBits) - 1;

// 16 bytes per anchor: key = core hash (48 bits) | smallest window offset
// served; where = corpus tag (1 bit) | anchor position (47) | offsets served - 1.
struct Anchor {
  uint64_t key;
  uint64_t where;
  uint64_t hash() const { return key >> 16; }
  uint64_t dmin() const { return key & 0xffff; }
  uint64_t dmax() const { return dmin() + (where & 0xffff); }
  uint64_t pos() const { return (where >> 16) & kPosMask; }
  int tag() const { return static_cast<int>(where >> 63); }
};

inline uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// A corpus being scanned: its runs and how documents are delimited.
struct Source {
  const SuffixCorpus* corpus = nullptr;
  std::vector<SuffixRun> runs;  // texts possibly pointing at copies
  int tag = 0;
  // The run holding corpus position pos (runs are in position order).
  const SuffixRun& RunOf(uint64_t pos) const {
    size_t lo = 0, hi = runs.size();
    while (hi - lo > 1) {
      size_t mid = (lo + hi) / 2;
      if (runs[mid].global_base <= pos) lo = mid; else hi = mid;
    }
    return runs[lo];
  }
};

// Calls fn(s, e) for each maximal stretch [s, e) of run symbols inside one
// document that starts in [lo, hi); a stretch starting before lo belongs to
// the chunk before.
template <typename Fn>
void ForEachSegment(const Source& src, const SuffixRun& run, uint64_t lo, uint64_t hi, Fn&& fn) {
  const SuffixCorpus& c = *src.corpus;
  const unsigned sb = c.symbol_bytes;
  if (c.has_separator) {
    auto next_sep = [&](uint64_t i) -> uint64_t {  // first separator at >= i, or text_size
      return i + FindSymbol(run.text + i * sb, (run.text_size - i) * sb, sb, c.separator) / sb;
    };
    uint64_t p = lo;
    if (p > 0 && p < run.text_size && ReadSymbol(run.text + (p - 1) * sb, sb) != c.separator) {
      p = next_sep(p) + 1;  // inside the previous chunk's stretch
    }
    while (p < hi && p < run.text_size) {
      const uint64_t e = next_sep(p);
      if (e > p) fn(p, e);
      p = e + 1;
    }
    return;
  }
  const uint64_t base = run.global_base, end = base + run.text_size;
  uint64_t pos = base + lo;
  uint64_t ds, dl;
  while (pos < end && c.map->NextDoc(pos, &ds, &dl)) {
    const uint64_t s = std::max(ds, base), e = std::min(ds + dl, end);
    if (s >= base + hi || s >= end) return;
    if (s >= base + lo && e > s) fn(s - base, e - base);
    pos = ds + dl;
  }
}

// A pass's anchors: one fixed array, filled by the scanning threads through
// local buffers. When it is full, the pass's hash range is halved and the
// anchors above it are dropped (a later pass finds them again), so a pass
// never rescans for lack of memory and never exceeds it. If the range is
// down to one hash value and still does not fit, that value is a *giant*
// group: the table drops it (empty range) and the caller streams it.
class AnchorTable {
 public:
  explicit AnchorTable(uint64_t cap) : cap_(cap), a_(new (std::nothrow) Anchor[cap]) {}
  bool ok() const { return a_ != nullptr; }
  uint64_t capacity() const { return cap_; }
  void Begin(uint64_t lo, uint64_t hi) {
    lo_ = lo;
    hi_.store(hi);
    n_ = 0;
    giant_ = false;
  }
  uint64_t lo() const { return lo_; }
  uint64_t hi() const { return hi_.load(std::memory_order_relaxed); }
  bool giant() const { return giant_; }
  Anchor* data() { return a_.get(); }
  uint64_t size() const { return n_; }

  // Moves buf's anchors that are still in range into the table.
  void Append(std::vector<Anchor>* buf) {
    std::lock_guard<std::mutex> lock(mu_);
    for (;;) {
      const uint64_t h = hi_.load();
      size_t keep = 0;
      for (const Anchor& x : *buf)
        if (x.hash() < h) (*buf)[keep++] = x;
      buf->resize(keep);
      if (n_ + keep <= cap_) break;
      if (h - lo_ <= 1) {  // hash value lo_ alone overflows
        giant_ = true;
        hi_.store(lo_);
        n_ = 0;
        buf->clear();
        return;
      }
      const uint64_t mid = lo_ + (h - lo_) / 2;
      hi_.store(mid);
      uint64_t m = 0;
      for (uint64_t i = 0; i < n_; ++i)
        if (a_[i].hash() < mid) a_[m++] = a_[i];
      n_ = m;
    }
    std::copy(buf->begin(), buf->end(), a_.get() + n_);
    n_ += buf->size();
    buf->clear();
  }

 private:
  const uint64_t cap_;
  std::unique_ptr<Anchor[]> a_;  // uninitialised: pages are touched as filled
  std::mutex mu_;
  uint64_t lo_ = 0, n_ = 0;
  std::atomic<uint64_t> hi_{0};
  bool giant_ = false;  // written under mu_, read after the scan
};

// Where a scanner's anchors go: the pass's table, through a local buffer.
class TableSink {
 public:
  static constexpr size_t kFlush = 4096;
  explicit TableSink(AnchorTable* t) : t_(t) { buf_.reserve(kFlush); }
  bool Wants(uint64_t h) const { return h >= t_->lo() && h < t_->hi(); }
  void Push(const Anchor& a, const uint8_t* /*text at the anchor*/) {
    buf_.push_back(a);
    if (buf_.size() >= kFlush) t_->Append(&buf_);
  }
  void Flush() {
    if (!buf_.empty()) t_->Append(&buf_);
  }

 private:
  AnchorTable* t_;
  std::vector<Anchor> buf_;
};

// Hands the anchors of the windows inside [s, e) whose core hash the sink
// wants to the sink.
template <unsigned SB, typename Sink>
class AnchorScanner {
 public:
  AnchorScanner(const Geometry& g, const SuffixRun& run, int tag, Sink* sink)
      : g_(g), run_(run), tag_(tag), sink_(sink) {
    text_bytes_ = run.text_size * SB;
    mask_ = g.m * SB >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * g.m * SB)) - 1;
  }

  void Segment(uint64_t s, uint64_t e) {
    if (e - s < g_.k) return;
    const uint64_t last = e - g_.k;  // windows p in [s, last]
    const uint64_t w = g_.w;
    uint64_t cur = 0, plo = s;
    bool open = false;
    for (uint64_t b0 = s; b0 <= last; b0 += kBlock) {
      const uint64_t b1 = std::min(last + 1, b0 + kBlock);  // windows [b0, b1)
      // Gram hashes for positions [b0, b1 + w - 1).
      const uint64_t n = b1 - b0 + w - 1;
      if (grams_.size() < n) grams_.resize(n);
      for (uint64_t i = 0; i < n; ++i) grams_[i] = Gram(b0 + i);
      auto g = [&](uint64_t i) { return grams_[i - b0]; };
      for (uint64_t p = b0; p < b1; ++p) {
        uint64_t a;
        if (!open || cur < p) {
          a = p;  // rescan [p, p + w): the leftmost smallest
          uint64_t best = g(p);
          for (uint64_t i = p + 1; i < p + w; ++i) {
            const uint64_t v = g(i);
            if (v < best) best = v, a = i;
          }
        } else {
          a = g(p + w - 1) < g(cur) ? p + w - 1 : cur;
        }
        if (!open) {
          open = true;
          cur = a;
          plo = p;
        } else if (a != cur) {
          Emit(cur, plo, p - 1);
          cur = a;
          plo = p;
        }
      }
    }
    if (open) Emit(cur, plo, last);
  }

 private:
  static constexpr uint64_t kBlock = 1 << 14;

  uint64_t Gram(uint64_t i) const {
    const uint64_t at = i * SB;
    uint64_t v = 0;
    if (at + 8 <= text_bytes_) {
      std::memcpy(&v, run_.text + at, 8);
    } else {
      std::memcpy(&v, run_.text + at, text_bytes_ - at);
    }
    return Mix(v & mask_);
  }

  // Anchor a serves windows p in [p_lo, p_hi].
  void Emit(uint64_t a, uint64_t p_lo, uint64_t p_hi) {
    const uint8_t* at = run_.text + a * SB;
    const uint64_t h = XXH3_64bits(at, g_.c * SB) >> 16;
    if (!sink_->Wants(h)) return;
    const uint64_t dmin = a - p_hi, span = p_hi - p_lo;
    sink_->Push(Anchor{(h << 16) | dmin, (uint64_t(tag_) << 63) | ((run_.global_base + a) << 16) | span}, at);
  }

  const Geometry& g_;
  const SuffixRun& run_;
  int tag_;
  Sink* sink_;
  uint64_t text_bytes_ = 0, mask_ = 0;
  std::vector<uint64_t> grams_;
};

// Anchors of one group with equal offsets and surroundings (the union of
// their windows), compared byte for byte: their windows are equal offset by
// offset.
struct AnchorClass {
  uint32_t first = 0, size = 0;  // members_[first, first + size) (in-memory groups)
  uint32_t dmin = 0, dmax = 0;
  uint64_t ch = 0;                // hash of the surroundings
  const uint8_t* rep = nullptr;   // text at one member's anchor
  uint64_t self = 0, other = 0;
  uint64_t x0 = 0;                // smallest self position (anchor)
  const uint8_t* x0_ptr = nullptr;
  uint32_t flags_at = 0;          // per-offset flags, index d - dmin
};

// Resolves the groups of one hash bucket at a time into removed positions,
// stats and top spans.
class GroupResolver {
 public:
  using Class = AnchorClass;

  GroupResolver(const Geometry& g, const ExactDedupOptions& o, bool across, const Source* srcs, Worker* w)
      : g_(g), keep_(o.keep), across_(across), srcs_(srcs), w_(w) {
    pow_ = 1;
    for (uint64_t i = 1; i < g.k; ++i) pow_ *= kBase;  // kBase^(k-1)
  }

  // anchors[0, n) sorted by key.
  Status Bucket(const Anchor* a, size_t n) {
    if (n > UINT32_MAX) return Status::NotSupported("exact dedup: more than 2^32 anchors in one hash bucket");
    // Members of groups of >= 2, for prefetching.
    grouped_.clear();
    for (size_t i = 0; i < n;) {
      size_t j = i + 1;
      while (j < n && a[j].hash() == a[i].hash()) ++j;
      if (j - i >= 2) {
        for (size_t t = i; t < j; ++t) grouped_.push_back(static_cast<uint32_t>(t));
      }
      i = j;
    }
    size_t pf = 0;
    auto prefetch_to = [&](size_t upto) {
      for (; pf < upto && pf < grouped_.size(); ++pf) {
        const Anchor& x = a[grouped_[pf]];
        const uint8_t* lo = g_.ContextStart(Ptr(x.tag(), x.pos()), x.dmax());
        const uint8_t* hi = lo + g_.ContextBytes(x.dmin(), x.dmax());
        for (uintptr_t l = reinterpret_cast<uintptr_t>(lo) & ~uintptr_t{63}; l < reinterpret_cast<uintptr_t>(hi);
             l += 64)
          __builtin_prefetch(reinterpret_cast<const void*>(l));
      }
    };
    for (size_t gi = 0; gi < grouped_.size();) {
      size_t gj = gi + 1;
      while (gj < grouped_.size() && a[grouped_[gj]].hash() == a[grouped_[gi]].hash()) ++gj;
      prefetch_to(gj + kPrefetchAhead);
      ++w_->stats.anchor_groups;
      DEDUPDB_RETURN_IF_ERROR(Group(a + grouped_[gi], gj - gi));
      gi = gj;
    }
    return Status::OK();
  }

 private:
  static constexpr uint64_t kBase = 0x9e3779b97f4a7c55ULL;  // odd: the rolling hash base
  static constexpr size_t kPrefetchAhead = 12;

  struct Member {
    uint64_t ch;  // hash of the member's surroundings [pos - dmax, pos - dmin + k)
    uint32_t dmin, dmax;
    uint64_t pos;
    const uint8_t* ptr;  // text at pos
    int tag;
  };
  struct WindowEntry {
    uint64_t h;
    uint32_t d, cls;
  };
  struct WindowSet {  // one distinct window: entries with equal text
    uint32_t first;   // entries_[first] is its first entry
    uint32_t classes;
    uint64_t self, other;
    const Class* min;  // class holding the earliest self copy
  };

  const SuffixRun& RunOf(int tag, uint64_t pos) const { return srcs_[tag].RunOf(pos); }
  const uint8_t* Ptr(int tag, uint64_t pos) const {
    const SuffixRun& r = RunOf(tag, pos);
    return r.text + (pos - r.global_base) * g_.sb;
  }
  uint64_t Avail(int tag, uint64_t pos) const {
    const SuffixRun& r = RunOf(tag, pos);
    return (r.global_base + r.text_size - pos) * g_.sb;
  }
  uint64_t ContextBytes(const Member& m) const { return g_.ContextBytes(m.dmin, m.dmax); }
  const uint8_t* ContextStart(const Member& m) const { return g_.ContextStart(m.ptr, m.dmax); }
  uint64_t Symbol(const uint8_t* p) const { return g_.sb == 1 ? p[0] : ReadSymbol(p, g_.sb); }

  Status Group(const Anchor* a, size_t n) {
    if (n > UINT32_MAX) return Status::NotSupported("exact dedup: more than 2^32 anchors with one core");
    members_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      Member& m = members_[i];
      m.tag = a[i].tag();
      m.pos = a[i].pos();
      m.dmin = static_cast<uint32_t>(a[i].dmin());
      m.dmax = static_cast<uint32_t>(a[i].dmax());
      m.ptr = Ptr(m.tag, m.pos);
      m.ch = XXH3_64bits(ContextStart(m), ContextBytes(m));
    }
    // Classes: equal offsets and surroundings, compared byte for byte.
    auto same_kind = [&](const Member& x, const Member& y) {
      return x.dmin == y.dmin && x.dmax == y.dmax && x.ch == y.ch &&
             std::memcmp(ContextStart(x), ContextStart(y), ContextBytes(x)) == 0;
    };
    std::sort(members_.begin(), members_.end(), [&](const Member& x, const Member& y) {
      if (x.dmin != y.dmin) return x.dmin < y.dmin;
      if (x.dmax != y.dmax) return x.dmax < y.dmax;
      if (x.ch != y.ch) return x.ch < y.ch;
      int c = std::memcmp(ContextStart(x), ContextStart(y), ContextBytes(x));
      if (c != 0) return c < 0;
      if (x.tag != y.tag) return x.tag < y.tag;
      return x.pos < y.pos;
    });
    classes_.clear();
    for (uint32_t i = 0; i < n;) {
      uint32_t j = i + 1;
      while (j < n && same_kind(members_[i], members_[j])) ++j;
      Class c;
      c.first = i;
      c.size = j - i;
      c.dmin = members_[i].dmin;
      c.dmax = members_[i].dmax;
      c.ch = members_[i].ch;
      c.rep = members_[i].ptr;
      for (uint32_t t = i; t < j; ++t) {
        const Member& m = members_[t];
        if (m.tag == 0) {
          if (c.self == 0) c.x0 = m.pos, c.x0_ptr = m.ptr;  // self members sort first, by position
          ++c.self;
        } else {
          ++c.other;
        }
      }
      classes_.push_back(c);
      i = j;
    }
    bool many = false;
    DEDUPDB_RETURN_IF_ERROR(ResolveClasses(&classes_, &flags_, &many));
    for (const Class& c : classes_) {
      for (uint32_t t = c.first; t < c.first + c.size; ++t) {
        DEDUPDB_RETURN_IF_ERROR(
            EmitMember(c, many ? flags_.data() + c.flags_at : nullptr, members_[t].tag, members_[t].pos));
      }
    }
    return Status::OK();
  }

 public:
  // Counts the distinct windows of a group's classes (stats, top spans) and,
  // with more than one class (*many), flags per class and offset what the
  // other classes' copies decide. Classes need rep, offsets, counts and x0.
  Status ResolveClasses(std::vector<Class>* classes, std::vector<uint8_t>* flags, bool* many) {
    *many = classes->size() > 1;
    if (!*many) {
      // Every window of the group is this class's alone: dmax - dmin + 1
      // distinct windows with the same counts, the earliest at x0 - dmax.
      const Class& c = (*classes)[0];
      const uint64_t nd = c.dmax - c.dmin + 1;
      if (Repeated(c.self, c.other)) {
        w_->stats.repeated_groups += nd;
        w_->stats.repeated_windows += c.self * nd;
        for (uint64_t d = c.dmax; d + 1 > c.dmin && w_->top->Wants(c.self, c.x0 - d); --d)
          w_->top->Offer(c.self, c.other, c.x0 - d, c.x0_ptr - d * g_.sb, Avail(0, c.x0 - d));
      }
      return Status::OK();
    }
    return ManyClasses(classes, flags);
  }

  // Removes the windows of one member (tag, anchor at pos) of class c: all
  // of them where the class decides alone (keep first: every member but x0;
  // keep none: all once the class has two; across: all if the class has an
  // other-corpus member), else those at offsets flagged (flags != nullptr):
  // x0's (keep first / none) or every self member's (across).
  Status EmitMember(const Class& c, const uint8_t* flags, int tag, uint64_t pos) {
    if (tag != 0) return Status::OK();
    const bool all = across_ ? c.other > 0 : (keep_ == KeepPolicy::kNone ? c.self >= 2 : false);
    const bool whole = all || (!across_ && keep_ == KeepPolicy::kFirst && pos != c.x0);
    if (whole) return Remove(pos - c.dmax, pos - c.dmin + 1);
    if (flags == nullptr || (!across_ && pos != c.x0)) return Status::OK();
    // Runs of flagged offsets d in [d1, d2] -> window starts [pos - d2, pos - d1].
    const uint32_t nd = c.dmax - c.dmin + 1;
    for (uint32_t i = 0; i < nd;) {
      if (!flags[i]) {
        ++i;
        continue;
      }
      uint32_t j = i;
      while (j + 1 < nd && flags[j + 1]) ++j;
      DEDUPDB_RETURN_IF_ERROR(Remove(pos - (c.dmin + j), pos - (c.dmin + i) + 1));
      i = j + 1;
    }
    return Status::OK();
  }

 private:
  bool Repeated(uint64_t self, uint64_t other) const { return across_ ? self > 0 && other > 0 : self >= 2; }

  // A distinct window with self / other copies, the earliest self copy at pos.
  void Window(uint64_t self, uint64_t other, uint64_t pos, const uint8_t* ptr) {
    if (!Repeated(self, other)) return;
    ++w_->stats.repeated_groups;
    w_->stats.repeated_windows += self;
    if (w_->top->Wants(self, pos)) w_->top->Offer(self, other, pos, ptr, Avail(0, pos));
  }

  Status Remove(uint64_t s, uint64_t e) {  // window starts [s, e)
    w_->stats.removed_windows += e - s;
    return w_->spiller->AddRange(s, e);
  }

  // Windows of different classes may still be equal at some offsets: hash
  // every class's windows, group equal ones (compared byte for byte) and
  // flag, per class and offset, what the other classes' copies decide.
  Status ManyClasses(std::vector<Class>* classes_ptr, std::vector<uint8_t>* flags_ptr) {
    std::vector<Class>& classes = *classes_ptr;
    std::vector<uint8_t>& flags = *flags_ptr;
    const uint64_t sb = g_.sb, k = g_.k;
    entries_.clear();
    uint64_t windows = 0;
    for (const Class& c : classes) windows += c.dmax - c.dmin + 1;
    if (windows >= UINT32_MAX) return Status::NotSupported("exact dedup: more than 2^32 windows in one anchor group");
    uint32_t nflags = 0;
    for (uint32_t ci = 0; ci < classes.size(); ++ci) {
      Class& c = classes[ci];
      c.flags_at = nflags;
      nflags += c.dmax - c.dmin + 1;
      // Windows start at rep - d for d = dmax down to dmin: roll rightwards.
      const uint8_t* rep = c.rep;
      const uint8_t* p = rep - c.dmax * sb;
      uint64_t h = 0;
      for (uint64_t i = 0; i < k; ++i) h = h * kBase + Symbol(p + i * sb) + 1;
      for (uint64_t d = c.dmax;; --d) {
        entries_.push_back(WindowEntry{h, static_cast<uint32_t>(d), ci});
        if (d == c.dmin) break;
        h = (h - (Symbol(p) + 1) * pow_) * kBase + Symbol(p + k * sb) + 1;
        p += sb;
      }
    }
    flags.assign(nflags, 0);
    // Distinct windows: an open-addressing table on (hash, offset), each hit
    // confirmed by memcmp against the set's first window (a false hit probes
    // on). Equal windows always have equal offsets.
    auto window = [&](const WindowEntry& e) { return classes[e.cls].rep - uint64_t(e.d) * sb; };
    size_t slots = 16;
    while (slots < 2 * entries_.size()) slots *= 2;
    if (table_.size() < slots) table_.resize(slots);
    std::fill(table_.begin(), table_.begin() + slots, UINT32_MAX);
    sets_.clear();
    set_of_.resize(entries_.size());
    for (uint32_t i = 0; i < entries_.size(); ++i) {
      const WindowEntry& e = entries_[i];
      size_t at = Mix(e.h ^ (uint64_t(e.d) << 40)) & (slots - 1);
      for (;; at = (at + 1) & (slots - 1)) {
        const uint32_t sid = table_[at];
        if (sid == UINT32_MAX) {
          table_[at] = static_cast<uint32_t>(sets_.size());
          set_of_[i] = static_cast<uint32_t>(sets_.size());
          sets_.push_back(WindowSet{i, 0, 0, 0, nullptr});
          break;
        }
        const WindowEntry& f = entries_[sets_[sid].first];
        if (f.h == e.h && f.d == e.d && std::memcmp(window(f), window(e), k * sb) == 0) {
          set_of_[i] = sid;
          break;
        }
      }
      WindowSet& ws = sets_[set_of_[i]];
      const Class& c = classes[e.cls];
      ++ws.classes;
      ws.self += c.self;
      ws.other += c.other;
      if (c.self > 0 && (ws.min == nullptr || c.x0 < ws.min->x0)) ws.min = &c;
    }
    for (const WindowSet& ws : sets_) {
      if (ws.min != nullptr) {
        const uint64_t d = entries_[ws.first].d;
        Window(ws.self, ws.other, ws.min->x0 - d, ws.min->x0_ptr - d * sb);
      }
    }
    for (uint32_t i = 0; i < entries_.size(); ++i) {
      const WindowSet& ws = sets_[set_of_[i]];
      if (ws.classes < 2) continue;  // the class alone decides (EmitMember)
      const WindowEntry& e = entries_[i];
      const Class& c = classes[e.cls];
      bool flag;
      if (across_) {
        flag = ws.other > 0;
      } else if (keep_ == KeepPolicy::kNone) {
        flag = ws.self >= 2;
      } else {
        flag = c.self > 0 && &c != ws.min;
      }
      flags[c.flags_at + (e.d - c.dmin)] = flag;
    }
    return Status::OK();
  }

  const Geometry& g_;
  KeepPolicy keep_;
  bool across_;
  const Source* srcs_;
  Worker* w_;
  uint64_t pow_ = 1;
  std::vector<uint32_t> grouped_;
  std::vector<Member> members_;
  std::vector<Class> classes_;
  std::vector<WindowEntry> entries_;
  std::vector<uint8_t> flags_;
  std::vector<uint32_t> table_, set_of_;
  std::vector<WindowSet> sets_;
};

// One pass over the texts: nthreads = sinks->size() threads take chunks of
// the runs in turn, each handing its anchors to its own sink.
template <typename Sink>
void ScanAll(const Geometry& g, const std::vector<Source>& srcs, std::vector<Sink>* sinks,
             std::atomic<uint64_t>* scanned) {
  struct Chunk {
    int src;
    size_t run;
    uint64_t lo, hi;
  };
  constexpr uint64_t kChunk = 32ull << 20;  // symbols
  std::vector<Chunk> chunks;
  for (const Source& s : srcs)
    for (size_t r = 0; r < s.runs.size(); ++r)
      for (uint64_t x = 0; x < s.runs[r].text_size; x += kChunk)
        chunks.push_back(Chunk{s.tag, r, x, std::min(x + kChunk, s.runs[r].text_size)});
  std::atomic<size_t> next{0};
  auto work = [&](size_t t) {
    Sink& sink = (*sinks)[t];
    for (size_t ci; (ci = next.fetch_add(1)) < chunks.size();) {
      const Chunk& ch = chunks[ci];
      const Source& src = srcs[ch.src];
      const SuffixRun& run = src.runs[ch.run];
      auto scan = [&](auto scanner) {
        ForEachSegment(src, run, ch.lo, ch.hi, [&](uint64_t s, uint64_t e) { scanner.Segment(s, e); });
      };
      switch (g.sb) {
        case 1: scan(AnchorScanner<1, Sink>(g, run, src.tag, &sink)); break;
        case 2: scan(AnchorScanner<2, Sink>(g, run, src.tag, &sink)); break;
        default: scan(AnchorScanner<4, Sink>(g, run, src.tag, &sink)); break;
      }
      scanned->fetch_add(ch.hi - ch.lo);
    }
    sink.Flush();
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < sinks->size(); ++t) threads.emplace_back(work, t);
  work(0);
  for (std::thread& th : threads) th.join();
}

// A giant group (one core hash with more anchors than the table holds; in
// practice long runs of a short period, whose anchors mostly share their
// surroundings): its classes are aggregated while streaming the anchors of
// that hash, resolved from one representative each, and a second stream
// then removes each member's windows. Memory: one entry per class.
class GiantGroup {
 public:
  // At most max_classes classes per collector (else it reports overflow).
  GiantGroup(const Geometry& g, uint64_t hash, uint64_t max_classes) : g_(g), hash_(hash), max_classes_(max_classes) {}

  // Sink of the first stream (one per thread; Absorb merges them).
  class Collector {
   public:
    explicit Collector(GiantGroup* gg) : gg_(gg) {}
    bool Wants(uint64_t h) const { return h == gg_->hash_; }
    void Push(const Anchor& a, const uint8_t* at) {
      ++members_;
      const uint64_t pos = a.pos();
      if (classes_.size() >= gg_->max_classes_) {
        overflow_ = true;
        return;
      }
      AnchorClass* c = gg_->FindOrAdd(&classes_, &index_, a.dmin(), a.dmax(), at);
      if (a.tag() == 0) {
        if (c->self == 0 || pos < c->x0) c->x0 = pos, c->x0_ptr = at;
        ++c->self;
      } else {
        ++c->other;
      }
    }
    void Flush() {}

    bool overflow() const { return overflow_; }

   private:
    friend class GiantGroup;
    GiantGroup* gg_;
    bool overflow_ = false;
    uint64_t members_ = 0;
    std::vector<AnchorClass> classes_;
    std::unordered_multimap<uint64_t, uint32_t> index_;
  };

  // Sink of the second stream: each member's removals, by its worker.
  class Remover {
   public:
    Remover(const GiantGroup* gg, GroupResolver* res) : gg_(gg), res_(res) {}
    bool Wants(uint64_t h) const { return h == gg_->hash_; }
    void Push(const Anchor& a, const uint8_t* at) {
      if (!status_.ok()) return;
      const AnchorClass* c = gg_->Find(a.dmin(), a.dmax(), at);
      if (c == nullptr) {
        status_ = Status::Corruption("exact dedup: an anchor of a giant group changed between two reads of the text");
        return;
      }
      status_ = res_->EmitMember(*c, gg_->many_ ? gg_->flags_.data() + c->flags_at : nullptr, a.tag(), a.pos());
    }
    void Flush() {}
    const Status& status() const { return status_; }

   private:
    const GiantGroup* gg_;
    GroupResolver* res_;
    Status status_;
  };

  // Merges the collectors into the group's classes; the count of members.
  uint64_t Absorb(std::vector<Collector>* cs) {
    uint64_t members = 0;
    for (Collector& c : *cs) {
      members += c.members_;
      for (const AnchorClass& x : c.classes_) {
        AnchorClass* m = FindOrAdd(&classes_, &index_, x.dmin, x.dmax, x.rep);
        if (x.self > 0 && (m->self == 0 || x.x0 < m->x0)) m->x0 = x.x0, m->x0_ptr = x.x0_ptr;
        m->self += x.self;
        m->other += x.other;
      }
      c.classes_.clear();
      c.index_.clear();
    }
    return members;
  }
  std::vector<AnchorClass>* classes() { return &classes_; }
  std::vector<uint8_t>* flags() { return &flags_; }
  void set_many(bool many) { many_ = many; }

 private:
  static uint64_t Key(uint64_t ch, uint64_t dmin, uint64_t dmax) { return Mix(ch ^ (dmin << 40) ^ (dmax << 20)); }

  // Index in classes of the class of the anchor at `at` with offsets
  // dmin..dmax (surroundings compared byte for byte), or -1; *key and *ch
  // get its index key and surroundings hash.
  int64_t Lookup(const std::vector<AnchorClass>& classes, const std::unordered_multimap<uint64_t, uint32_t>& index,
                 uint64_t dmin, uint64_t dmax, const uint8_t* at, uint64_t* key, uint64_t* ch) const {
    const uint64_t bytes = g_.ContextBytes(dmin, dmax);
    const uint8_t* ctx = g_.ContextStart(at, dmax);
    *ch = XXH3_64bits(ctx, bytes);
    *key = Key(*ch, dmin, dmax);
    auto [lo, hi] = index.equal_range(*key);
    for (auto it = lo; it != hi; ++it) {
      const AnchorClass& c = classes[it->second];
      if (c.dmin == dmin && c.dmax == dmax && c.ch == *ch &&
          std::memcmp(g_.ContextStart(c.rep, dmax), ctx, bytes) == 0)
        return it->second;
    }
    return -1;
  }
  // The class, added (with zero counts) if new.
  AnchorClass* FindOrAdd(std::vector<AnchorClass>* classes, std::unordered_multimap<uint64_t, uint32_t>* index,
                         uint64_t dmin, uint64_t dmax, const uint8_t* at) const {
    uint64_t key, ch;
    const int64_t i = Lookup(*classes, *index, dmin, dmax, at, &key, &ch);
    if (i >= 0) return &(*classes)[static_cast<size_t>(i)];
    AnchorClass c;
    c.dmin = static_cast<uint32_t>(dmin);
    c.dmax = static_cast<uint32_t>(dmax);
    c.ch = ch;
    c.rep = at;
    index->emplace(key, static_cast<uint32_t>(classes->size()));
    classes->push_back(c);
    return &classes->back();
  }
  const AnchorClass* Find(uint64_t dmin, uint64_t dmax, const uint8_t* at) const {
    uint64_t key, ch;
    const int64_t i = Lookup(classes_, index_, dmin, dmax, at, &key, &ch);
    return i >= 0 ? &classes_[static_cast<size_t>(i)] : nullptr;
  }

  const Geometry& g_;
  const uint64_t hash_, max_classes_;
  std::vector<AnchorClass> classes_;
  std::unordered_multimap<uint64_t, uint32_t> index_;
  std::vector<uint8_t> flags_;
  bool many_ = false;
};

// Sorts a[0, n) in place into 256 buckets by 8 bits of the hash, from bit
// `shift` up (MSD radix, American flag: every swap writes to one of 256
// sequential streams, so it runs at memory speed even on gigabytes).
// start[b] .. start[b + 1] is bucket b afterwards.
void RadixPass(Anchor* a, uint64_t n, unsigned shift, uint64_t base, uint64_t start[257]) {
  auto bucket = [&](const Anchor& x) { return static_cast<size_t>(((x.hash() - base) >> shift) & 0xff); };
  std::fill(start, start + 257, 0);
  for (uint64_t i = 0; i < n; ++i) ++start[bucket(a[i]) + 1];
  for (size_t b = 0; b < 256; ++b) start[b + 1] += start[b];
  uint64_t next[256];
  std::copy(start, start + 256, next);
  for (size_t b = 0; b < 256; ++b) {
    while (next[b] < start[b + 1]) {
      Anchor x = a[next[b]];
      size_t c = bucket(x);
      while (c != b) {
        std::swap(x, a[next[c]++]);
        c = bucket(x);
      }
      a[next[b]++] = x;
    }
  }
}

// Bits to shift (hash - lo) right by so that the top radix digit of the
// range [lo, hi) is 8 bits wide.
unsigned TopShift(uint64_t lo, uint64_t hi) {
  unsigned shift = 0;
  while (((hi - lo - 1) >> shift) >= 256) ++shift;
  return shift;
}

}  // namespace

Status FindByAnchors(const SuffixCorpus& corpus, const SuffixCorpus* other, const ExactDedupOptions& options,
                     RangeList* ranges, ExactDedupStats* stats) {
  Env* env = options.env != nullptr ? options.env : Env::Default();
  const uint64_t k = options.min_len;
  const Geometry g = ChooseGeometry(k, corpus.symbol_bytes);
  const bool across = other != nullptr;

  std::vector<Source> srcs(across ? 2 : 1);
  uint64_t symbols = 0;
  for (size_t t = 0; t < srcs.size(); ++t) {
    srcs[t].corpus = t == 0 ? &corpus : other;
    srcs[t].runs = srcs[t].corpus->runs;
    srcs[t].tag = static_cast<int>(t);
    for (const SuffixRun& r : srcs[t].runs) {
      if (r.global_base + r.text_size > kPosMask) {
        return Status::InvalidArgument("exact dedup: corpus positions beyond 2^47 symbols");
      }
      symbols += r.text_size;
      ++stats->runs;
    }
  }
  stats->suffixes = symbols;

  // Scanning reads each text front to back; the groups then read around
  // their anchors at random, which is where copies on huge pages pay.
  std::vector<std::unique_ptr<TextCopy>> copies;
  {
    std::vector<SuffixRun*> runs;
    for (Source& s : srcs)
      for (SuffixRun& r : s.runs) runs.push_back(&r);
    CopyTexts(runs, corpus.symbol_bytes, options.text_cache_bytes, &stats->text_cached_bytes, &copies);
  }

  const size_t nthreads = ThreadCount(options, symbols);
  stats->threads = nthreads;
  // A quarter of the budget for the spillers (they buffer whole intervals,
  // a few per repeated passage), three quarters for a pass's anchors (16
  // bytes each): fewer passes over the text.
  ExactDedupOptions spill_opts = options;
  spill_opts.memory_bytes = std::max<uint64_t>(options.memory_bytes / 4, 1);
  std::vector<Worker> workers = MakeWorkers(nthreads, spill_opts, env);
  // No bigger than 3x the anchors random text would give (more only in
  // low-complexity text, which then takes another pass).
  const double expected = 2.0 / double(g.w + 1) * double(symbols);
  const uint64_t cap = std::max<uint64_t>(
      std::min<uint64_t>(options.memory_bytes / 4 * 3 / sizeof(Anchor), static_cast<uint64_t>(3 * expected) + (1 << 20)),
      2 * TableSink::kFlush);
  AnchorTable table(cap);
  if (!table.ok()) {
    return Status::InvalidArgument("exact dedup: cannot allocate the anchor table (" +
                                   std::to_string(cap * sizeof(Anchor)) + " bytes); lower --memory");
  }

  // Progress in symbols: each pass counts its scan once and its resolve once
  // (in 256 steps, one per top bucket); the total is re-estimated after
  // every pass from the share of the hash space it covered.
  ProgressMeter meter("dedup-exact anchors", 2 * symbols, ProgressMeter::Unit::kItems, options.show_progress);
  std::atomic<uint64_t> progress{0}, total{2 * symbols}, pass{1};
  std::atomic<bool> finished{false};
  std::thread watcher;
  if (options.show_progress) {
    watcher = std::thread([&] {  // the only thread that touches the meter until the end
      while (!finished.load()) {
        meter.SetTotal(total.load());
        meter.Update(progress.load(), pass.load(), "pass");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  struct StopWatcher {
    std::atomic<bool>* finished;
    std::thread* t;
    ~StopWatcher() {
      finished->store(true);
      if (t->joinable()) t->join();
    }
  } stop_watcher{&finished, &watcher};
  std::vector<GroupResolver> resolvers;
  for (Worker& w : workers) resolvers.emplace_back(g, options, across, srcs.data(), &w);
  // A core hash with more anchors than the table holds: two more streams.
  auto StreamGiantGroup = [&](uint64_t hash) -> Status {
    const auto ts = Clock::now();
    GiantGroup giant(g, hash, std::max<uint64_t>(table.capacity() / 8 / nthreads, 1024));
    std::vector<GiantGroup::Collector> collectors(nthreads, GiantGroup::Collector(&giant));
    ScanAll(g, srcs, &collectors, &progress);
    for (const auto& c : collectors) {
      if (c.overflow()) {
        // Not a run of a short period: too many distinct surroundings to
        // keep. FindExactDuplicates falls back to the merge if it can.
        return Status::NotSupported("exact dedup: more distinct anchor surroundings share one core hash than "
                                    "--memory holds; raise --memory, or use --method merge (needs index-sa)");
      }
    }
    stats->anchors += giant.Absorb(&collectors);
    ++stats->anchor_passes;
    ++workers[0].stats.anchor_groups;
    ++stats->giant_groups;
    bool many = false;
    DEDUPDB_RETURN_IF_ERROR(resolvers[0].ResolveClasses(giant.classes(), giant.flags(), &many));
    giant.set_many(many);
    std::vector<GiantGroup::Remover> removers;
    for (GroupResolver& r : resolvers) removers.emplace_back(&giant, &r);
    ScanAll(g, srcs, &removers, &progress);
    ++stats->anchor_passes;
    for (const auto& r : removers) DEDUPDB_RETURN_IF_ERROR(r.status());
    stats->resolve_seconds += Since(ts);
    return Status::OK();
  };
  const auto t0 = Clock::now();
  for (uint64_t lo = 0; lo < kHashSpace;) {
    table.Begin(lo, kHashSpace);
    progress.store(2 * symbols * stats->anchor_passes);
    auto ts = Clock::now();
    {
      std::vector<TableSink> sinks(nthreads, TableSink(&table));
      ScanAll(g, srcs, &sinks, &progress);
    }
    stats->scan_seconds += Since(ts);
    ++stats->anchor_passes;
    if (table.giant()) {
      DEDUPDB_RETURN_IF_ERROR(StreamGiantGroup(lo));
      lo += 1;
      continue;
    }
    const uint64_t hi = table.hi(), n = table.size();
    stats->anchors += n;
    ts = Clock::now();
    // Two in-place radix digits (the second inside each worker's top bucket)
    // then std::sort on a few thousand anchors: groups are equal hashes.
    const unsigned shift = TopShift(lo, hi);
    uint64_t top[257];
    RadixPass(table.data(), n, shift, lo, top);
    std::atomic<size_t> next{0};
    auto resolve = [&](Worker* w) {
      GroupResolver& res = resolvers[static_cast<size_t>(w - workers.data())];
      uint64_t sub[257];
      for (size_t b; w->status.ok() && (b = next.fetch_add(1)) < 256;) {
        Anchor* first = table.data() + top[b];
        const uint64_t cnt = top[b + 1] - top[b];
        auto by_key = [](const Anchor& x, const Anchor& y) { return x.key < y.key; };
        if (shift < 8) {  // a narrow range (a small pass): sort the bucket whole
          std::sort(first, first + cnt, by_key);
          w->status = res.Bucket(first, cnt);
          continue;
        }
        RadixPass(first, cnt, shift - 8, lo, sub);
        for (size_t c = 0; c < 256 && w->status.ok(); ++c) {
          Anchor* f = first + sub[c];
          const uint64_t m = sub[c + 1] - sub[c];
          std::sort(f, f + m, by_key);
          w->status = res.Bucket(f, m);
        }
        progress.fetch_add(symbols / 256);
      }
    };
    std::vector<std::thread> threads;
    for (size_t t = 1; t < nthreads; ++t) threads.emplace_back(resolve, &workers[t]);
    resolve(&workers[0]);
    for (std::thread& th : threads) th.join();
    for (Worker& w : workers) DEDUPDB_RETURN_IF_ERROR(w.status);
    stats->resolve_seconds += Since(ts);
    // Passes still to come, if they cover as much of the hash space as this one.
    const uint64_t left = (kHashSpace - hi + (hi - lo) - 1) / (hi - lo);
    total.store(2 * symbols * (stats->anchor_passes + left));
    pass.store(stats->anchor_passes + 1);
    lo = hi;
  }
  finished.store(true);
  if (watcher.joinable()) watcher.join();
  meter.SetTotal(2 * symbols * stats->anchor_passes);
  meter.Update(2 * symbols * stats->anchor_passes, stats->anchor_passes, "passes");
  meter.Finish();
  stats->merge_seconds = Since(t0);
  return FinishWorkers(corpus, k, &workers, ranges, stats, &copies);
}

}  // namespace exact_dedup_internal
}  // namespace dedupdb
