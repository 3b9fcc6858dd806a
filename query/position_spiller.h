// Sorted positions under a memory budget, for the exact-dedup merge.
#ifndef DEDUPDB_QUERY_POSITION_SPILLER_H_
#define DEDUPDB_QUERY_POSITION_SPILLER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "storage/env.h"
#include "storage/status.h"

namespace dedupdb {

// Positions (removed window starts) arrive in key order, i.e. at random;
// the output needs them in position order. A buffer of at most
// memory_bytes / 16 positions, or half as many intervals (the other half of
// the budget is radix-sort scratch), is sorted and written to a run file
// when full. A run stores the
// maximal intervals of consecutive positions as varint pairs (gap from the
// previous interval's end, length): repeated passages emit a window at every
// byte, so a run is a small fraction of 8 bytes per position. The runs live
// under dir (removed with the spiller) in the common file envelope, kind
// generic, version 2 (docs/format.md).
class PositionSpiller {
 public:
  PositionSpiller(Env* env, std::string dir, std::string prefix, uint64_t memory_bytes);
  ~PositionSpiller();
  PositionSpiller(const PositionSpiller&) = delete;
  PositionSpiller& operator=(const PositionSpiller&) = delete;

  Status Add(uint64_t p) {
    // The whole buffer at once (address space only until touched): growing
    // by doubling would copy it log2(cap) times.
    if (buf_.capacity() < cap_) buf_.reserve(cap_);
    buf_.push_back(p);
    if (Full()) return Spill();
    return Status::OK();
  }
  // Positions [s, e) at once (e > s): 16 bytes of the budget for the whole
  // interval, for engines that find a window's copies passage by passage.
  Status AddRange(uint64_t s, uint64_t e) {
    if (e == s + 1) return Add(s);
    if (ranges_.capacity() < cap_ / 2) ranges_.reserve(cap_ / 2);
    ranges_.push_back(Range{s, e});
    if (Full()) return Spill();
    return Status::OK();
  }
  uint64_t runs() const { return paths_.size(); }
  uint64_t spilled() const { return spilled_; }

  // Streams the union of the positions added to any of the spillers as
  // maximal intervals [s, e), in increasing order, to fn; the spillers'
  // buffers are released. A run that ends mid-interval is Corruption.
  static Status MergeIntervals(const std::vector<PositionSpiller*>& spillers,
                               const std::function<Status(uint64_t s, uint64_t e)>& fn);

 private:
  static constexpr uint32_t kRunVersion = 2;  // 1 was raw u64 positions

  struct Range {
    uint64_t s, e;
  };
  bool Full() const { return buf_.size() + 2 * ranges_.size() >= cap_; }
  void SortUnique();
  void SortRanges();
  // Encodes the union of buf_ (sorted, unique) and ranges_ (sorted by start).
  template <typename Flush>
  Status EncodeUnion(std::string* out, Flush&& flush);
  Status Spill();

  Env* env_;
  std::string dir_, prefix_;
  uint64_t cap_;
  std::vector<uint64_t> buf_, tmp_;
  std::vector<Range> ranges_, rtmp_;
  std::vector<std::string> paths_;
  uint64_t spilled_ = 0;
};

}  // namespace dedupdb

#endif  // DEDUPDB_QUERY_POSITION_SPILLER_H_
