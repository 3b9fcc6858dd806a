// Union-find over dense ids 0..n-1 (path halving, union by smaller root, so
// a component's root is always its smallest id). 4 bytes per id.
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
