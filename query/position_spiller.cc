#include "query/position_spiller.h"

#include <algorithm>
#include <memory>
#include <queue>
#include <string_view>

#include "storage/coding.h"
#include "storage/file_format.h"

namespace dedupdb {

namespace {

// LSD radix sort of v by key(x) on 11-bit digits (as many passes as the
// largest key needs: 3 for < 2^33 positions), several times faster than
// std::sort on tens of millions of items; std::sort below 4096. tmp is the
// scratch, kept allocated by the caller between spills (freeing it made
// every spill page-fault and zero it afresh).
template <typename T, typename Key>
void RadixSortBy(std::vector<T>* v, std::vector<T>* tmp, Key key) {
  if (v->size() < 4096) {
    std::sort(v->begin(), v->end(), [&](const T& a, const T& b) { return key(a) < key(b); });
    return;
  }
  uint64_t max = 0;
  for (const T& x : *v) max = std::max(max, key(x));
  tmp->resize(v->size());
  constexpr unsigned kBits = 11;
  constexpr size_t kBuckets = size_t{1} << kBits;
  for (unsigned shift = 0; shift < 64 && (max >> shift) != 0; shift += kBits) {
    std::vector<uint64_t> count(kBuckets + 1, 0);
    for (const T& x : *v) ++count[((key(x) >> shift) & (kBuckets - 1)) + 1];
    for (size_t b = 0; b < kBuckets; ++b) count[b + 1] += count[b];
    for (const T& x : *v) (*tmp)[count[(key(x) >> shift) & (kBuckets - 1)]++] = x;
    v->swap(*tmp);
  }
}

// Unions intervals arriving in order of start into maximal intervals
// (overlapping or adjacent ones join), handing each to fn(s, e).
class IntervalUnion {
 public:
  template <typename Fn>
  Status Add(uint64_t s, uint64_t e, Fn&& fn) {
    if (have_ && s <= ce_) {
      ce_ = std::max(ce_, e);
      return Status::OK();
    }
    if (have_) DEDUPDB_RETURN_IF_ERROR(fn(cs_, ce_));
    have_ = true;
    cs_ = s;
    ce_ = e;
    return Status::OK();
  }
  template <typename Fn>
  Status Finish(Fn&& fn) {
    return have_ ? fn(cs_, ce_) : Status::OK();
  }

 private:
  bool have_ = false;
  uint64_t cs_ = 0, ce_ = 0;
};

// One run (or an in-memory tail) being read: its current interval.
struct IntervalSource {
  std::string_view in;
  uint64_t s = 0, e = 0;
  bool Next() {
    uint64_t gap, n;
    if (in.empty()) return false;
    if (!GetVarint64(&in, &gap) || !GetVarint64(&in, &n)) return false;
    s = e + gap;
    e = s + n;
    return true;
  }
};

}  // namespace

PositionSpiller::PositionSpiller(Env* env, std::string dir, std::string prefix, uint64_t memory_bytes)
    : env_(env), dir_(std::move(dir)), prefix_(std::move(prefix)), cap_(std::max<uint64_t>(memory_bytes / 16, 1024)) {}

PositionSpiller::~PositionSpiller() {
  for (const std::string& p : paths_) env_->RemoveFile(p);
}

Status PositionSpiller::MergeIntervals(const std::vector<PositionSpiller*>& spillers,
                                       const std::function<Status(uint64_t s, uint64_t e)>& fn) {
  std::vector<std::unique_ptr<EnvelopedFile>> files;
  std::vector<std::string> tails;
  std::vector<IntervalSource> srcs;
  for (PositionSpiller* sp : spillers) {
    sp->SortUnique();
    sp->SortRanges();
    tails.emplace_back();
    Status st = sp->EncodeUnion(&tails.back(), [](std::string&) { return Status::OK(); });
    if (!st.ok()) return st;
    for (auto* v : {&sp->buf_, &sp->tmp_}) {
      v->clear();
      v->shrink_to_fit();
    }
    for (auto* v : {&sp->ranges_, &sp->rtmp_}) {
      v->clear();
      v->shrink_to_fit();
    }
    for (const std::string& path : sp->paths_) {
      std::unique_ptr<EnvelopedFile> f;
      DEDUPDB_RETURN_IF_ERROR(EnvelopedFile::Open(sp->env_, path, FileKind::kGeneric, kRunVersion, &f));
      // A run is read whole, once: check its body too (an XXH3 pass over a
      // few bytes per removed passage), so a damaged temp file is an error,
      // not silently wrong ranges.
      DEDUPDB_RETURN_IF_ERROR(f->VerifyBody());
      f->map().Advise(MappedFile::Access::kSequential);
      srcs.push_back(IntervalSource{f->body()});
      files.push_back(std::move(f));
    }
  }
  for (const std::string& t : tails) srcs.push_back(IntervalSource{t});
  auto greater = [&](size_t a, size_t b) { return srcs[a].s > srcs[b].s; };
  std::priority_queue<size_t, std::vector<size_t>, decltype(greater)> heap(greater);
  for (size_t i = 0; i < srcs.size(); ++i)
    if (srcs[i].Next()) heap.push(i);
  IntervalUnion out;
  while (!heap.empty()) {
    size_t i = heap.top();
    heap.pop();
    const uint64_t s = srcs[i].s, e = srcs[i].e;
    if (!srcs[i].in.empty()) {
      if (!srcs[i].Next()) return Status::Corruption("exact dedup: truncated spill run");
      heap.push(i);
    }
    DEDUPDB_RETURN_IF_ERROR(out.Add(s, e, fn));
  }
  return out.Finish(fn);
}

void PositionSpiller::SortUnique() {
  RadixSortBy(&buf_, &tmp_, [](uint64_t v) { return v; });
  buf_.erase(std::unique(buf_.begin(), buf_.end()), buf_.end());
}

void PositionSpiller::SortRanges() {
  RadixSortBy(&ranges_, &rtmp_, [](const Range& r) { return r.s; });
}

// Appends the maximal intervals of the union of the sorted positions and
// intervals to *out as varint pairs (gap from the previous interval's end,
// length), handing it to flush(*out) (which clears it) whenever it passes
// 1 MiB.
template <typename Flush>
Status PositionSpiller::EncodeUnion(std::string* out, Flush&& flush) {
  uint64_t prev_end = 0;
  auto emit = [&](uint64_t s, uint64_t e) -> Status {
    PutVarint64(out, s - prev_end);
    PutVarint64(out, e - s);
    prev_end = e;
    if (out->size() >= (1u << 20)) return flush(*out);
    return Status::OK();
  };
  IntervalUnion u;
  size_t i = 0, j = 0;
  while (i < buf_.size() || j < ranges_.size()) {
    uint64_t s, e;
    if (j == ranges_.size() || (i < buf_.size() && buf_[i] < ranges_[j].s)) {
      s = buf_[i++];
      e = s + 1;
    } else {
      s = ranges_[j].s;
      e = ranges_[j].e;
      ++j;
    }
    DEDUPDB_RETURN_IF_ERROR(u.Add(s, e, emit));
  }
  return u.Finish(emit);
}

Status PositionSpiller::Spill() {
  if (dir_.empty()) {
    return Status::InvalidArgument("exact dedup: more than " + std::to_string(cap_ * 8) +
                                   " bytes of positions to remove and no directory for spill files");
  }
  SortUnique();
  SortRanges();
  std::string path = JoinPath(dir_, prefix_ + std::to_string(paths_.size()) + ".run");
  std::unique_ptr<FileBuilder> b;
  DEDUPDB_RETURN_IF_ERROR(FileBuilder::Create(env_, path, FileKind::kGeneric, kRunVersion, &b));
  paths_.push_back(path);
  std::string body;
  auto append = [&](std::string& chunk) -> Status {
    Status st = b->Append(chunk);
    chunk.clear();
    return st;
  };
  DEDUPDB_RETURN_IF_ERROR(EncodeUnion(&body, append));
  DEDUPDB_RETURN_IF_ERROR(append(body));
  DEDUPDB_RETURN_IF_ERROR(b->Finish());
  spilled_ += buf_.size();
  for (const Range& r : ranges_) spilled_ += r.e - r.s;
  buf_.clear();
  ranges_.clear();
  return Status::OK();
}

}  // namespace dedupdb
