// Batched random reads: io_uring (many reads in flight, one syscall per
// batch) with a plain pread loop as fallback.
#include "storage/batch_reader.h"

#include <liburing.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace dedupdb {
namespace {

class PreadBatchReader final : public BatchReader {
 public:
  Status ReadBatch(ReadRequest* reqs, size_t n) override {
    Status first;
    for (size_t i = 0; i < n; ++i) {
      size_t got = 0;
      reqs[i].status = reqs[i].file->Read(reqs[i].offset, reqs[i].length, reqs[i].dst, &got);
      reqs[i].result = static_cast<uint32_t>(got);
      if (!reqs[i].status.ok() && first.ok()) first = reqs[i].status;
    }
    return first;
  }
  const char* name() const override { return "pread"; }
};

class IoUringBatchReader final : public BatchReader {
 public:
  explicit IoUringBatchReader(unsigned depth) : depth_(depth) {}
  ~IoUringBatchReader() override { io_uring_queue_exit(&ring_); }
  Status Init() {
    int r = io_uring_queue_init(depth_, &ring_, 0);
    if (r < 0) return Status::NotSupported(std::string("io_uring_queue_init: ") + std::strerror(-r));
    return Status::OK();
  }

  Status ReadBatch(ReadRequest* reqs, size_t n) override {
    Status first;
    std::vector<size_t> pending;  // request indices still to submit
    pending.reserve(n);
    for (size_t i = n; i-- > 0;) {
      reqs[i].result = 0;
      reqs[i].status = Status::OK();
      if (reqs[i].file->fd() < 0) {  // a file without an fd (wrapped Env): read it directly
        size_t got = 0;
        reqs[i].status = reqs[i].file->Read(reqs[i].offset, reqs[i].length, reqs[i].dst, &got);
        reqs[i].result = static_cast<uint32_t>(got);
        if (!reqs[i].status.ok() && first.ok()) first = reqs[i].status;
      } else if (reqs[i].length > 0) {
        pending.push_back(i);
      }
    }
    unsigned in_flight = 0;
    while (!pending.empty() || in_flight > 0) {
      while (!pending.empty() && in_flight < depth_) {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        if (sqe == nullptr) break;
        size_t i = pending.back();
        pending.pop_back();
        ReadRequest& r = reqs[i];
        io_uring_prep_read(sqe, r.file->fd(), r.dst + r.result, r.length - r.result, r.offset + r.result);
        io_uring_sqe_set_data64(sqe, i);
        ++in_flight;
      }
      int sub = io_uring_submit_and_wait(&ring_, 1);
      if (sub < 0 && sub != -EINTR) return Status::IOError(std::string("io_uring_submit: ") + std::strerror(-sub));
      io_uring_cqe* cqe;
      unsigned head, seen = 0;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        --in_flight;
        size_t i = static_cast<size_t>(io_uring_cqe_get_data64(cqe));
        ReadRequest& r = reqs[i];
        if (cqe->res < 0) {
          if (cqe->res == -EAGAIN || cqe->res == -EINTR) {
            pending.push_back(i);
          } else {
            r.status = Status::FromErrno(r.file->path() + " at byte " + std::to_string(r.offset + r.result), -cqe->res);
            if (first.ok()) first = r.status;
          }
        } else if (cqe->res > 0) {
          r.result += static_cast<uint32_t>(cqe->res);
          if (r.result < r.length) pending.push_back(i);  // short read: ask for the rest
        }
        // res == 0: end of file; result stays short.
      }
      io_uring_cq_advance(&ring_, seen);
    }
    return first;
  }
  const char* name() const override { return "io_uring"; }

 private:
  unsigned depth_;
  io_uring ring_{};
};

}  // namespace

Status NewIoUringBatchReader(unsigned queue_depth, std::unique_ptr<BatchReader>* out) {
  if (queue_depth == 0) queue_depth = 64;
  if (queue_depth > 4096) queue_depth = 4096;
  auto reader = std::make_unique<IoUringBatchReader>(queue_depth);
  DEDUPDB_RETURN_IF_ERROR(reader->Init());
  *out = std::move(reader);
  return Status::OK();
}

std::unique_ptr<BatchReader> NewPreadBatchReader() { return std::make_unique<PreadBatchReader>(); }

}  // namespace dedupdb
