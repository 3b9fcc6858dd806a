#include "storage/fault_injection_env.h"

#include <algorithm>
#include <cerrno>
#include <unordered_map>
#include <vector>

namespace dedupdb {

const char* FaultOpName(FaultOp op) {
  switch (op) {
    case FaultOp::kOpenWrite: return "open-write";
    case FaultOp::kWrite: return "write";
    case FaultOp::kSync: return "sync";
    case FaultOp::kOpenRead: return "open-read";
    case FaultOp::kRead: return "read";
    case FaultOp::kMap: return "map";
    case FaultOp::kRename: return "rename";
    case FaultOp::kRemove: return "remove";
    case FaultOp::kCreateDirs: return "create-dirs";
    case FaultOp::kCount: break;
  }
  return "?";
}

namespace {

bool Matches(const std::string& filter, const std::string& path) {
  return filter.empty() || path.find(filter) != std::string::npos;
}

// The errno a real system call would report for each kind of failure.
int ErrnoFor(FaultOp op) { return op == FaultOp::kOpenWrite ? EACCES : EIO; }

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionEnv* env, std::unique_ptr<WritableFile> base)
      : env_(env), base_(std::move(base)) {}
  Status Append(std::string_view data) override {
    DEDUPDB_RETURN_IF_ERROR(env_->Check(FaultOp::kWrite, path()));
    uint64_t fit = env_->ReserveWrite(path(), data.size());
    if (fit > 0) DEDUPDB_RETURN_IF_ERROR(base_->Append(data.substr(0, fit)));
    if (fit < data.size()) return Status::FromErrno("injected write " + path(), ENOSPC);
    return Status::OK();
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    DEDUPDB_RETURN_IF_ERROR(env_->Check(FaultOp::kWrite, path()));
    return base_->WriteAt(offset, data);
  }
  Status Flush() override { return base_->Flush(); }
  Status Sync() override {
    DEDUPDB_RETURN_IF_ERROR(env_->Check(FaultOp::kSync, path()));
    return base_->Sync();
  }
  Status Close() override { return base_->Close(); }
  uint64_t Size() const override { return base_->Size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultInjectionEnv* env_;
  std::unique_ptr<WritableFile> base_;
};

class FaultRandomAccessFile final : public RandomAccessFile {
 public:
  FaultRandomAccessFile(FaultInjectionEnv* env, std::unique_ptr<RandomAccessFile> base)
      : env_(env), base_(std::move(base)) {}
  Status Read(uint64_t offset, size_t n, char* dst, size_t* bytes_read) const override {
    *bytes_read = 0;
    DEDUPDB_RETURN_IF_ERROR(env_->Check(FaultOp::kRead, path()));
    uint64_t size = Size();
    if (offset >= size) return Status::OK();
    n = static_cast<size_t>(std::min<uint64_t>(n, size - offset));
    DEDUPDB_RETURN_IF_ERROR(base_->Read(offset, n, dst, bytes_read));
    env_->AddBytesRead(*bytes_read);
    return Status::OK();
  }
  uint64_t Size() const override { return std::min(base_->Size(), env_->TruncatedSize(path())); }
  const std::string& path() const override { return base_->path(); }
  // Exposed so io_uring batches still work; FaultBatchReader applies the
  // faults itself and hands the base file to the real reader.
  int fd() const override { return base_->fd(); }
  void HintRandomAccess() const override { base_->HintRandomAccess(); }
  const RandomAccessFile* base() const { return base_.get(); }

 private:
  FaultInjectionEnv* env_;
  std::unique_ptr<RandomAccessFile> base_;
};

class FaultSequentialFile final : public SequentialFile {
 public:
  FaultSequentialFile(FaultInjectionEnv* env, std::unique_ptr<SequentialFile> base)
      : env_(env), base_(std::move(base)) {}
  Status Read(size_t n, char* dst, size_t* bytes_read) override {
    *bytes_read = 0;
    DEDUPDB_RETURN_IF_ERROR(env_->Check(FaultOp::kRead, path()));
    uint64_t limit = env_->TruncatedSize(path());
    if (pos_ >= limit) return Status::OK();  // looks like end of file
    n = static_cast<size_t>(std::min<uint64_t>(n, limit - pos_));
    DEDUPDB_RETURN_IF_ERROR(base_->Read(n, dst, bytes_read));
    pos_ += *bytes_read;
    env_->AddBytesRead(*bytes_read);
    return Status::OK();
  }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultInjectionEnv* env_;
  std::unique_ptr<SequentialFile> base_;
  uint64_t pos_ = 0;
};

class TruncatedMappedFile final : public MappedFile {
 public:
  TruncatedMappedFile(std::unique_ptr<MappedFile> base, uint64_t size) : base_(std::move(base)), size_(size) {}
  const char* data() const override { return base_->data(); }
  uint64_t size() const override { return size_; }
  const std::string& path() const override { return base_->path(); }
  void Advise(Access access, uint64_t offset, uint64_t length) const override {
    if (offset >= size_) return;
    base_->Advise(access, offset, std::min(length, size_ - offset));
  }

 private:
  std::unique_ptr<MappedFile> base_;
  uint64_t size_;
};

class FaultBatchReader final : public BatchReader {
 public:
  FaultBatchReader(FaultInjectionEnv* env, std::unique_ptr<BatchReader> base) : env_(env), base_(std::move(base)) {}

  // A request that gets an injected error is answered here; the others go to
  // the real reader as a copy on the unwrapped file (so io_uring stays in
  // use), and come back with the injected truncation applied.
  void Submit(ReadRequest* r) override {
    r->result = 0;
    r->status = env_->Check(FaultOp::kRead, r->file->path());
    if (!r->status.ok()) {
      done_.push_back(r);
      return;
    }
    auto copy = std::make_unique<Pass>();
    copy->req = *r;
    copy->orig = r;
    if (auto* f = dynamic_cast<const FaultRandomAccessFile*>(r->file)) copy->req.file = f->base();
    ReadRequest* key = &copy->req;
    passed_.emplace(key, std::move(copy));
    base_->Submit(key);
  }

  Status Reap(std::vector<ReadRequest*>* done) override {
    if (done_.empty() && base_->outstanding() > 0) {
      std::vector<ReadRequest*> got;
      DEDUPDB_RETURN_IF_ERROR(base_->Reap(&got));
      for (ReadRequest* g : got) {
        auto it = passed_.find(g);
        ReadRequest& r = *it->second->orig;
        r.status = g->status;
        r.result = g->result;
        uint64_t limit = env_->TruncatedSize(r.file->path());
        if (r.offset >= limit) {
          r.result = 0;
        } else if (r.result > limit - r.offset) {
          r.result = static_cast<uint32_t>(limit - r.offset);
        }
        env_->AddBytesRead(r.result);
        done_.push_back(&r);
        passed_.erase(it);
      }
    }
    done->insert(done->end(), done_.begin(), done_.end());
    done_.clear();
    return Status::OK();
  }
  size_t outstanding() const override { return done_.size() + passed_.size(); }
  const char* name() const override { return base_->name(); }

 private:
  struct Pass {
    ReadRequest req;
    ReadRequest* orig;
  };
  FaultInjectionEnv* env_;
  std::unique_ptr<BatchReader> base_;
  std::unordered_map<ReadRequest*, std::unique_ptr<Pass>> passed_;
  std::vector<ReadRequest*> done_;
};

}  // namespace

FaultInjectionEnv::FaultInjectionEnv(Env* target) : EnvWrapper(target) {
  for (auto& c : calls_) c.store(0);
}

FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::InjectFault(FaultOp op, uint64_t skip, std::string path_filter, bool sticky) {
  std::lock_guard<std::mutex> l(mu_);
  Fault& f = faults_[static_cast<int>(op)];
  f.armed = true;
  f.sticky = sticky;
  f.skip = skip;
  f.seen = 0;
  f.filter = std::move(path_filter);
}

void FaultInjectionEnv::SetWriteLimit(uint64_t bytes, std::string path_filter) {
  std::lock_guard<std::mutex> l(mu_);
  write_limit_ = bytes;
  write_used_ = 0;
  write_filter_ = std::move(path_filter);
}

void FaultInjectionEnv::SetTruncation(std::string path_filter, uint64_t bytes) {
  std::lock_guard<std::mutex> l(mu_);
  truncate_armed_ = true;
  truncate_filter_ = std::move(path_filter);
  truncate_bytes_ = bytes;
}

void FaultInjectionEnv::ClearFaults() {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& f : faults_) f = Fault();
  write_limit_ = UINT64_MAX;
  write_used_ = 0;
  write_filter_.clear();
  truncate_armed_ = false;
  truncate_filter_.clear();
}

void FaultInjectionEnv::ResetCounters() {
  for (auto& c : calls_) c.store(0);
  faults_injected_ = 0;
  bytes_written_ = 0;
  bytes_read_ = 0;
}

Status FaultInjectionEnv::Check(FaultOp op, const std::string& path) {
  calls_[static_cast<int>(op)]++;
  std::lock_guard<std::mutex> l(mu_);
  Fault& f = faults_[static_cast<int>(op)];
  if (!f.armed || !Matches(f.filter, path)) return Status::OK();
  if (f.seen++ < f.skip) return Status::OK();
  if (!f.sticky) f.armed = false;
  faults_injected_++;
  return Status::FromErrno(std::string("injected ") + FaultOpName(op) + " fault on " + path, ErrnoFor(op));
}

uint64_t FaultInjectionEnv::ReserveWrite(const std::string& path, uint64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t fit = n;
  if (write_limit_ != UINT64_MAX && Matches(write_filter_, path)) {
    fit = std::min(n, write_limit_ - std::min(write_limit_, write_used_));
    write_used_ += fit;
    if (fit < n) faults_injected_++;
  }
  bytes_written_ += fit;
  return fit;
}

uint64_t FaultInjectionEnv::TruncatedSize(const std::string& path) const {
  std::lock_guard<std::mutex> l(mu_);
  if (truncate_armed_ && Matches(truncate_filter_, path)) return truncate_bytes_;
  return UINT64_MAX;
}

Status FaultInjectionEnv::NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) {
  DEDUPDB_RETURN_IF_ERROR(Check(FaultOp::kOpenWrite, path));
  std::unique_ptr<WritableFile> base;
  DEDUPDB_RETURN_IF_ERROR(target()->NewWritableFile(path, &base));
  *out = std::make_unique<FaultWritableFile>(this, std::move(base));
  return Status::OK();
}

Status FaultInjectionEnv::NewRandomAccessFile(const std::string& path, std::unique_ptr<RandomAccessFile>* out) {
  DEDUPDB_RETURN_IF_ERROR(Check(FaultOp::kOpenRead, path));
  std::unique_ptr<RandomAccessFile> base;
  DEDUPDB_RETURN_IF_ERROR(target()->NewRandomAccessFile(path, &base));
  *out = std::make_unique<FaultRandomAccessFile>(this, std::move(base));
  return Status::OK();
}

Status FaultInjectionEnv::NewSequentialFile(const std::string& path, std::unique_ptr<SequentialFile>* out) {
  DEDUPDB_RETURN_IF_ERROR(Check(FaultOp::kOpenRead, path));
  std::unique_ptr<SequentialFile> base;
  DEDUPDB_RETURN_IF_ERROR(target()->NewSequentialFile(path, &base));
  *out = std::make_unique<FaultSequentialFile>(this, std::move(base));
  return Status::OK();
}

Status FaultInjectionEnv::MapReadOnly(const std::string& path, std::unique_ptr<MappedFile>* out) {
  DEDUPDB_RETURN_IF_ERROR(Check(FaultOp::kMap, path));
  std::unique_ptr<MappedFile> base;
  DEDUPDB_RETURN_IF_ERROR(target()->MapReadOnly(path, &base));
  uint64_t limit = TruncatedSize(path);
  if (limit < base->size()) {
    *out = std::make_unique<TruncatedMappedFile>(std::move(base), limit);
  } else {
    *out = std::move(base);
  }
  return Status::OK();
}

Status FaultInjectionEnv::NewBatchReader(unsigned queue_depth, bool prefer_io_uring,
                                         std::unique_ptr<BatchReader>* out) {
  std::unique_ptr<BatchReader> base;
  DEDUPDB_RETURN_IF_ERROR(target()->NewBatchReader(queue_depth, prefer_io_uring, &base));
  *out = std::make_unique<FaultBatchReader>(this, std::move(base));
  return Status::OK();
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  DEDUPDB_RETURN_IF_ERROR(Check(FaultOp::kRemove, path));
  return target()->RemoveFile(path);
}

Status FaultInjectionEnv::RemoveTree(const std::string& path) {
  DEDUPDB_RETURN_IF_ERROR(Check(FaultOp::kRemove, path));
  return target()->RemoveTree(path);
}

Status FaultInjectionEnv::CreateDirs(const std::string& dir) {
  DEDUPDB_RETURN_IF_ERROR(Check(FaultOp::kCreateDirs, dir));
  return target()->CreateDirs(dir);
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  // The filter may name either end of the rename.
  Status s = Check(FaultOp::kRename, from + " -> " + to);
  if (!s.ok()) return s;
  return target()->RenameFile(from, to);
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  DEDUPDB_RETURN_IF_ERROR(Check(FaultOp::kSync, dir));
  return target()->SyncDir(dir);
}

}  // namespace dedupdb
