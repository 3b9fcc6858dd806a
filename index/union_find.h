// Union-find over dense ids 0..n-1 (path halving, union by smaller root, so
// a component's root is always its smallest id). 4 bytes per id: for small
// sets (test oracles, benchmarks); batch near-dedup uses SparseUnionFind.
#pragma once

#include <cstdint>
#include <numeric>
#include <vector>

namespace dedupdb {

class UnionFind {
 public:
  explicit UnionFind(uint32_t n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0u); }
  uint32_t size() const { return static_cast<uint32_t>(parent_.size()); }
  uint32_t Find(uint32_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }
  // Returns true if x and y were in different components.
  bool Union(uint32_t x, uint32_t y) {
    uint32_t rx = Find(x), ry = Find(y);
    if (rx == ry) return false;
    if (rx < ry) {
      parent_[ry] = rx;
    } else {
      parent_[rx] = ry;
    }
    return true;
  }

 private:
  std::vector<uint32_t> parent_;
};

}  // namespace dedupdb

namespace dedupdb {

// Union-find over sparse 64-bit ids (doc ids up to 10^12): only ids that
// took part in a Union are stored, in an open-addressing table (linear
// probing, load <= 3/4), so memory grows with the docs in near-duplicate
// clusters, not with the corpus. Same rules as UnionFind: path halving, a
// component's root is its smallest id. Each slot also carries one 64-bit
// `aux` value per id (callers keep per-root data there, e.g. the kept doc).
class SparseUnionFind {
 public:
  static constexpr uint64_t kNone = ~uint64_t{0};  // never a valid id

  SparseUnionFind() : slots_(16) {}
  size_t size() const { return used_; }
  uint64_t memory_bytes() const { return slots_.size() * sizeof(Slot); }
  // Bytes the table would hold after inserting `more` new ids.
  uint64_t memory_after(uint64_t more) const {
    size_t cap = slots_.size();
    while (4 * (used_ + more) > 3 * cap) cap *= 2;
    return cap * sizeof(Slot);
  }

  uint64_t Find(uint64_t x) {
    size_t i = Locate(x);
    if (slots_[i].id == kNone) return x;  // never joined: its own root
    while (slots_[i].parent != slots_[i].id) {
      const size_t p = Locate(slots_[i].parent);
      const uint64_t gp = slots_[p].parent;
      slots_[i].parent = gp;  // path halving
      i = Locate(gp);
    }
    return slots_[i].id;
  }
  bool Contains(uint64_t x) const { return slots_[Locate(x)].id != kNone; }

  // Returns true if x and y were in different components.
  bool Union(uint64_t x, uint64_t y) {
    Insert(x);
    Insert(y);
    const uint64_t rx = Find(x), ry = Find(y);
    if (rx == ry) return false;
    if (rx < ry) {
      slots_[Locate(ry)].parent = rx;
    } else {
      slots_[Locate(rx)].parent = ry;
    }
    return true;
  }

  // aux of a stored id (initially the id itself).
  uint64_t& Aux(uint64_t x) { return slots_[Locate(x)].aux; }
  // fn(id) for every stored id, in table order.
  template <class Fn>
  void ForEachId(Fn fn) const {
    for (const Slot& s : slots_) {
      if (s.id != kNone) fn(s.id);
    }
  }

 private:
  struct Slot {
    uint64_t id = kNone, parent = kNone, aux = kNone;
  };
  static uint64_t Mix(uint64_t x) {  // murmur3 finalizer: ids are dense, slots must not be
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    return x ^ (x >> 33);
  }
  size_t Locate(uint64_t x) const {  // the slot of x, or the empty slot where it would go
    const size_t mask = slots_.size() - 1;
    size_t i = Mix(x) & mask;
    while (slots_[i].id != kNone && slots_[i].id != x) i = (i + 1) & mask;
    return i;
  }
  void Insert(uint64_t x) {
    size_t i = Locate(x);
    if (slots_[i].id == x) return;
    if (4 * (used_ + 1) > 3 * slots_.size()) {
      std::vector<Slot> old(slots_.size() * 2);
      old.swap(slots_);
      for (const Slot& s : old) {
        if (s.id != kNone) slots_[Locate(s.id)] = s;
      }
      i = Locate(x);
    }
    slots_[i] = Slot{x, x, x};
    ++used_;
  }

  std::vector<Slot> slots_;
  size_t used_ = 0;
};

}  // namespace dedupdb
