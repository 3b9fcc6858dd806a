// Env: the single interface through which dedupdb touches the file system
// (LevelDB's Env is the model). Everything above storage/ does its I/O here,
// so tests can swap in FaultInjectionEnv (storage/fault_injection_env.h) and
// see short reads, ENOSPC and EIO turn into clean errors.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/status.h"

namespace dedupdb {

// Sequential writer with its own buffer. Append() may buffer; Sync() makes the
// bytes durable. WriteAt() patches bytes already written (file headers are
// written last, after the body and its checksum are known).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  virtual Status Flush() = 0;
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  // Bytes appended so far (buffered or not).
  virtual uint64_t Size() const = 0;
  virtual const std::string& path() const = 0;
};

// Positional reads. Read() returns fewer than n bytes only at end of file.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  virtual Status Read(uint64_t offset, size_t n, char* dst, size_t* bytes_read) const = 0;
  virtual uint64_t Size() const = 0;
  virtual const std::string& path() const = 0;
  // OS file descriptor for io_uring submission, or -1 if the file has none.
  virtual int fd() const { return -1; }
  // The caller will read small scattered pieces (binary searches): turn off
  // the kernel's read-ahead, which would fetch 16 KiB+ around every cold
  // probe and spend device bandwidth on bytes nobody reads.
  virtual void HintRandomAccess() const {}
};

// Read-only memory map of a whole file. Hints tell the kernel how the
// mapping will be used (random binary search vs. one sequential scan).
class MappedFile {
 public:
  enum class Access { kNormal, kRandom, kSequential, kWillNeed };
  virtual ~MappedFile() = default;
  virtual const char* data() const = 0;
  virtual uint64_t size() const = 0;
  virtual const std::string& path() const = 0;
  virtual void Advise(Access access, uint64_t offset = 0, uint64_t length = UINT64_MAX) const = 0;
  std::string_view view() const { return std::string_view(data(), size()); }
};

// Sequential reader for streaming input files and stdin.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to n bytes; *bytes_read == 0 means end of file.
  virtual Status Read(size_t n, char* dst, size_t* bytes_read) = 0;
  virtual const std::string& path() const = 0;
};

// One positional read in a batch. `result` holds the bytes actually read
// (short only at end of file) and `status` its outcome.
struct ReadRequest {
  const RandomAccessFile* file = nullptr;
  uint64_t offset = 0;
  uint32_t length = 0;
  char* dst = nullptr;
  uint32_t result = 0;
  Status status;
  uint64_t tag = 0;  // the caller's, untouched by readers (e.g. which probe this is)
};

// Issues many independent reads at once: io_uring where the kernel offers it
// (cold index lookups are then bounded by device IOPS, not latency), a pread
// loop otherwise. Env::NewBatchReader picks the implementation.
//
// Two ways to use it. ReadBatch: a barrier, every request done on return.
// Submit/Reap: a pipeline, for engines whose next reads depend on earlier
// ones (a binary search per query): submit reads as they become known, reap
// whichever finished, submit the follow-ups; the device queue never drains
// while the CPU works. Do not mix the two on one reader at the same time.
class BatchReader {
 public:
  virtual ~BatchReader() = default;
  // Queues one read. The request must stay alive (and unmoved) until Reap
  // hands it back. Reads may start before the next Reap.
  virtual void Submit(ReadRequest* request) = 0;
  // Waits until at least one submitted read has finished (returns at once if
  // some already have), then appends every finished request to *done. Each
  // carries its own status; the return value is only for failures of the
  // reader itself. With nothing outstanding it returns OK and adds nothing.
  virtual Status Reap(std::vector<ReadRequest*>* done) = 0;
  // Reads submitted and not yet handed back by Reap.
  virtual size_t outstanding() const = 0;
  virtual const char* name() const = 0;  // "io_uring" or "pread"

  // Completes every request; returns the first failure (each request also
  // carries its own status).
  Status ReadBatch(ReadRequest* requests, size_t n);
};

// An exclusive advisory lock on a file (flock); released on destruction.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

struct FileInfo {
  std::string name;  // entry name within the directory
  bool is_directory = false;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  // The process-wide POSIX environment.
  static Env* Default();

  virtual Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) = 0;
  virtual Status NewRandomAccessFile(const std::string& path, std::unique_ptr<RandomAccessFile>* out) = 0;
  virtual Status NewSequentialFile(const std::string& path, std::unique_ptr<SequentialFile>* out) = 0;
  // Standard input as a SequentialFile named "<stdin>".
  virtual Status NewStdinFile(std::unique_ptr<SequentialFile>* out) = 0;
  virtual Status MapReadOnly(const std::string& path, std::unique_ptr<MappedFile>* out) = 0;
  // queue_depth: reads in flight at once. prefer_io_uring=false forces pread.
  virtual Status NewBatchReader(unsigned queue_depth, bool prefer_io_uring, std::unique_ptr<BatchReader>* out) = 0;

  virtual bool FileExists(const std::string& path) = 0;
  virtual Status GetFileInfo(const std::string& path, FileInfo* info) = 0;
  virtual Status ListDir(const std::string& dir, std::vector<FileInfo>* entries) = 0;
  virtual Status CreateDirs(const std::string& dir) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status RemoveTree(const std::string& path) = 0;
  // Atomic within one file system (rename(2)).
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // fsync a directory so a rename in it is durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Free bytes on the file system holding path.
  virtual Status FreeSpace(const std::string& path, uint64_t* bytes) = 0;
  // Takes an exclusive lock on path (created if missing) without waiting;
  // fails with a clear message if another process holds it.
  virtual Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) = 0;
};

// Forwards every call to another Env; subclasses override what they change.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }
  Status NewWritableFile(const std::string& p, std::unique_ptr<WritableFile>* o) override { return target_->NewWritableFile(p, o); }
  Status NewRandomAccessFile(const std::string& p, std::unique_ptr<RandomAccessFile>* o) override { return target_->NewRandomAccessFile(p, o); }
  Status NewSequentialFile(const std::string& p, std::unique_ptr<SequentialFile>* o) override { return target_->NewSequentialFile(p, o); }
  Status NewStdinFile(std::unique_ptr<SequentialFile>* o) override { return target_->NewStdinFile(o); }
  Status MapReadOnly(const std::string& p, std::unique_ptr<MappedFile>* o) override { return target_->MapReadOnly(p, o); }
  Status NewBatchReader(unsigned q, bool u, std::unique_ptr<BatchReader>* o) override { return target_->NewBatchReader(q, u, o); }
  bool FileExists(const std::string& p) override { return target_->FileExists(p); }
  Status GetFileInfo(const std::string& p, FileInfo* i) override { return target_->GetFileInfo(p, i); }
  Status ListDir(const std::string& d, std::vector<FileInfo>* e) override { return target_->ListDir(d, e); }
  Status CreateDirs(const std::string& d) override { return target_->CreateDirs(d); }
  Status RemoveFile(const std::string& p) override { return target_->RemoveFile(p); }
  Status RemoveTree(const std::string& p) override { return target_->RemoveTree(p); }
  Status RenameFile(const std::string& f, const std::string& t) override { return target_->RenameFile(f, t); }
  Status SyncDir(const std::string& d) override { return target_->SyncDir(d); }
  Status FreeSpace(const std::string& p, uint64_t* b) override { return target_->FreeSpace(p, b); }
  Status LockFile(const std::string& p, std::unique_ptr<FileLock>* l) override { return target_->LockFile(p, l); }

 private:
  Env* target_;
};

// Convenience: read a whole (small) file into a string.
Status ReadFileToString(Env* env, const std::string& path, std::string* out);
// Write data to path atomically: tmp file, fsync, rename, fsync dir.
Status WriteFileAtomic(Env* env, const std::string& path, std::string_view data);

// Path helpers.
std::string JoinPath(std::string_view a, std::string_view b);
std::string DirName(const std::string& path);
std::string BaseName(const std::string& path);

}  // namespace dedupdb
