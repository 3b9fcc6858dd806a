// Batched random reads: io_uring (many reads in flight, one syscall per
// batch) with a plain pread loop as fallback. Both implement the Submit/Reap
// pipeline of BatchReader; ReadBatch is built on it once, in env.cc.
#include "storage/batch_reader.h"

#include <liburing.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <vector>

namespace dedupdb {
namespace {

// Reads a request in the caller's thread (pread loop, or a file that has no
// fd to hand to the kernel).
void ReadNow(ReadRequest* r) {
  size_t got = 0;
  r->status = r->file->Read(r->offset, r->length, r->dst, &got);
  r->result = static_cast<uint32_t>(got);
}

class PreadBatchReader final : public BatchReader {
 public:
  void Submit(ReadRequest* r) override {
    ReadNow(r);
    done_.push_back(r);
  }
  Status Reap(std::vector<ReadRequest*>* done) override {
    done->insert(done->end(), done_.begin(), done_.end());
    done_.clear();
    return Status::OK();
  }
  size_t outstanding() const override { return done_.size(); }
  const char* name() const override { return "pread"; }

 private:
  std::vector<ReadRequest*> done_;
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

  void Submit(ReadRequest* r) override {
    r->result = 0;
    r->status = Status::OK();
    if (r->file->fd() < 0 || r->length == 0) {  // a file without an fd (wrapped Env): read it here
      ReadNow(r);
      done_.push_back(r);
    } else {
      waiting_.push_back(r);
      FillRing();
    }
  }

  Status Reap(std::vector<ReadRequest*>* done) override {
    if (done_.empty() && in_ring_ > 0) {
      int sub = io_uring_submit_and_wait(&ring_, 1);
      if (sub < 0 && sub != -EINTR) return Status::IOError(std::string("io_uring_submit: ") + std::strerror(-sub));
      Harvest();
      FillRing();
    }
    done->insert(done->end(), done_.begin(), done_.end());
    done_.clear();
    // Prepared SQEs reach the kernel now, so reads proceed while the caller
    // works on what it just got back.
    if (unsubmitted_ > 0) {
      int sub = io_uring_submit(&ring_);
      if (sub < 0 && sub != -EINTR) return Status::IOError(std::string("io_uring_submit: ") + std::strerror(-sub));
      if (sub > 0) unsubmitted_ -= std::min<unsigned>(unsubmitted_, static_cast<unsigned>(sub));
    }
    return Status::OK();
  }

  size_t outstanding() const override { return done_.size() + waiting_.size() + in_ring_; }
  const char* name() const override { return "io_uring"; }

 private:
  // Moves waiting requests into free ring slots (prepared, not yet submitted:
  // the next Reap submits them all with one syscall).
  void FillRing() {
    while (!waiting_.empty() && in_ring_ < depth_) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      if (sqe == nullptr) {
        int sub = io_uring_submit(&ring_);
        if (sub > 0) unsubmitted_ -= std::min<unsigned>(unsubmitted_, static_cast<unsigned>(sub));
        sqe = io_uring_get_sqe(&ring_);
        if (sqe == nullptr) return;
      }
      ReadRequest* r = waiting_.front();
      waiting_.pop_front();
      io_uring_prep_read(sqe, r->file->fd(), r->dst + r->result, r->length - r->result, r->offset + r->result);
      io_uring_sqe_set_data(sqe, r);
      ++in_ring_;
      ++unsubmitted_;
    }
  }

  void Harvest() {
    io_uring_cqe* cqe;
    unsigned head, seen = 0;
    unsubmitted_ = 0;  // submit_and_wait handed every prepared SQE to the kernel
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      --in_ring_;
      auto* r = static_cast<ReadRequest*>(io_uring_cqe_get_data(cqe));
      if (cqe->res < 0) {
        if (cqe->res == -EAGAIN || cqe->res == -EINTR) {
          waiting_.push_back(r);
        } else {
          r->status = Status::FromErrno(r->file->path() + " at byte " + std::to_string(r->offset + r->result), -cqe->res);
          done_.push_back(r);
        }
      } else if (cqe->res > 0 && r->result + static_cast<uint32_t>(cqe->res) < r->length &&
                 r->offset + r->result + static_cast<uint32_t>(cqe->res) < r->file->Size()) {
        r->result += static_cast<uint32_t>(cqe->res);
        waiting_.push_back(r);  // short read before the end of the file: ask for the rest
      } else {
        r->result += static_cast<uint32_t>(cqe->res);  // res == 0: end of file, result stays short
        done_.push_back(r);
      }
    }
    io_uring_cq_advance(&ring_, seen);
  }

  unsigned depth_;
  io_uring ring_{};
  unsigned in_ring_ = 0;      // prepared or submitted, completion not yet seen
  unsigned unsubmitted_ = 0;  // prepared SQEs the kernel has not been told about
  std::deque<ReadRequest*> waiting_;   // no ring slot yet (FIFO)
  std::vector<ReadRequest*> done_;     // finished, not yet reaped
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
