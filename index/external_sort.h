// ExternalSorter<T>: sorts more records than fit in a memory budget.
// Records accumulate in a buffer of at most `memory_bytes`; a full buffer is
// sorted and written to a spill file (through Env) in `tmp_dir`; Finish()
// then k-way merges the spill files (64 KiB read buffer each) with the
// in-memory remainder. T must be trivially copyable with operator<;
// `unique` drops records equal to the previous one. Spill files are raw
// arrays of T (process-private scratch, deleted by the destructor).
// SortFn sorts a buffer in place (default std::sort; callers with uniformly
// distributed keys plug in a radix sort, whose scratch copy the caller counts
// in the budget it passes).
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <queue>
#include <string>
#include <type_traits>
#include <vector>

#include "storage/env.h"
#include "storage/status.h"

namespace dedupdb {

template <class T>
struct StdSort {
  void operator()(std::vector<T>* v) const { std::sort(v->begin(), v->end()); }
};

template <class T, class SortFn = StdSort<T>>
class ExternalSorter {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  ExternalSorter(Env* env, std::string tmp_dir, std::string prefix, uint64_t memory_bytes, bool unique = false)
      : env_(env), tmp_dir_(std::move(tmp_dir)), prefix_(std::move(prefix)), unique_(unique) {
    capacity_ = std::max<uint64_t>(memory_bytes / sizeof(T), 64);
  }
  ~ExternalSorter() {
    readers_.clear();
    for (const auto& p : spill_paths_) env_->RemoveFile(p);
  }
  ExternalSorter(const ExternalSorter&) = delete;
  ExternalSorter& operator=(const ExternalSorter&) = delete;

  // Optional: the caller knows about how many records come; reserves that
  // much of the buffer at once (never more than the budget) instead of
  // growing by doubling.
  void Reserve(uint64_t records) { buffer_.reserve(std::min<uint64_t>(records, capacity_)); }

  Status Add(const T& record) {
    // Grow by doubling but never past the budget (plain push_back growth
    // could overshoot it by up to 2x).
    if (buffer_.size() == buffer_.capacity()) {
      buffer_.reserve(std::min<uint64_t>(capacity_, std::max<uint64_t>(2 * buffer_.capacity(), 4096)));
    }
    buffer_.push_back(record);
    ++added_;
    if (buffer_.size() >= capacity_) return Spill();
    return Status::OK();
  }

  // Ends the input phase; records then come out of Next() in order.
  Status Finish() {
    SortBuffer();
    if (!spill_paths_.empty() && !buffer_.empty()) DEDUPDB_RETURN_IF_ERROR(Spill());
    // Everything is on disk: give the buffer back (callers reuse the budget).
    if (!spill_paths_.empty()) std::vector<T>().swap(buffer_);
    for (size_t i = 0; i < spill_paths_.size(); ++i) {
      auto r = std::make_unique<Reader>();
      DEDUPDB_RETURN_IF_ERROR(env_->NewSequentialFile(spill_paths_[i], &r->file));
      bool has = false;
      DEDUPDB_RETURN_IF_ERROR(r->Next(&r->head, &has));
      if (has) heap_.push(HeapItem{r->head, i});
      readers_.push_back(std::move(r));
    }
    return Status::OK();
  }

  // Next record in sorted order; *done = true at the end.
  Status Next(T* out, bool* done) {
    for (;;) {
      bool have = false;
      T rec{};
      if (spill_paths_.empty()) {
        if (pos_ < buffer_.size()) rec = buffer_[pos_++], have = true;
      } else if (!heap_.empty()) {
        HeapItem top = heap_.top();
        heap_.pop();
        rec = top.rec;
        have = true;
        Reader* r = readers_[top.reader].get();
        bool has = false;
        DEDUPDB_RETURN_IF_ERROR(r->Next(&r->head, &has));
        if (has) heap_.push(HeapItem{r->head, top.reader});
      }
      if (!have) {
        *done = true;
        return Status::OK();
      }
      if (unique_ && emitted_any_ && !(last_ < rec) && !(rec < last_)) continue;
      last_ = rec;
      emitted_any_ = true;
      *out = rec;
      *done = false;
      return Status::OK();
    }
  }

  // After Finish(): if nothing was spilled, the whole sorted output as one
  // array (a fast path for callers that copy it out in bulk).
  bool InMemory(const T** data, size_t* n) const {
    if (!spill_paths_.empty()) return false;
    *data = buffer_.data();
    *n = buffer_.size();
    return true;
  }

  uint64_t added() const { return added_; }
  // Heap bytes held now: the buffer and, while merging, the read buffers.
  uint64_t memory_bytes() const {
    uint64_t b = buffer_.capacity() * sizeof(T);
    for (const auto& r : readers_) b += r->buf.size();
    return b;
  }
  size_t spill_files() const { return spill_paths_.size(); }
  uint64_t spilled_bytes() const { return spilled_bytes_; }

 private:
  struct Reader {
    std::unique_ptr<SequentialFile> file;
    std::vector<char> buf = std::vector<char>(64 << 10);
    size_t pos = 0, len = 0;
    T head;
    Status Next(T* out, bool* has) {
      if (len - pos < sizeof(T)) {
        std::memmove(buf.data(), buf.data() + pos, len - pos);
        len -= pos;
        pos = 0;
        while (len < sizeof(T)) {
          size_t n = 0;
          DEDUPDB_RETURN_IF_ERROR(file->Read(buf.size() - len, buf.data() + len, &n));
          if (n == 0) break;
          len += n;
        }
        if (len == 0) {
          *has = false;
          return Status::OK();
        }
        if (len < sizeof(T)) return Status::Corruption(file->path() + ": spill file ends inside a record");
      }
      std::memcpy(out, buf.data() + pos, sizeof(T));
      pos += sizeof(T);
      *has = true;
      return Status::OK();
    }
  };
  struct HeapItem {
    T rec;
    size_t reader;
    bool operator<(const HeapItem& o) const { return o.rec < rec; }  // min-heap
  };

  void SortBuffer() {
    SortFn()(&buffer_);
    if (unique_) {
      buffer_.erase(std::unique(buffer_.begin(), buffer_.end(),
                                [](const T& a, const T& b) { return !(a < b) && !(b < a); }),
                    buffer_.end());
    }
  }

  Status Spill() {
    SortBuffer();
    std::string path = JoinPath(tmp_dir_, prefix_ + "-" + std::to_string(spill_paths_.size()) + ".spill");
    std::unique_ptr<WritableFile> f;
    DEDUPDB_RETURN_IF_ERROR(env_->NewWritableFile(path, &f));
    spill_paths_.push_back(path);
    const size_t bytes = buffer_.size() * sizeof(T);
    DEDUPDB_RETURN_IF_ERROR(f->Append(std::string_view(reinterpret_cast<const char*>(buffer_.data()), bytes)));
    DEDUPDB_RETURN_IF_ERROR(f->Close());
    spilled_bytes_ += bytes;
    buffer_.clear();
    return Status::OK();
  }

  Env* env_;
  std::string tmp_dir_, prefix_;
  bool unique_;
  uint64_t capacity_;
  std::vector<T> buffer_;
  size_t pos_ = 0;
  uint64_t added_ = 0, spilled_bytes_ = 0;
  std::vector<std::string> spill_paths_;
  std::vector<std::unique_ptr<Reader>> readers_;
  std::priority_queue<HeapItem> heap_;
  T last_{};
  bool emitted_any_ = false;
};

}  // namespace dedupdb
