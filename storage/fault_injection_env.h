// FaultInjectionEnv: an Env for tests that forwards to a real Env but can make
// chosen operations fail the way a sick disk does - ENOSPC once a byte budget
// is used up, EIO on reads/syncs/renames, files that read back shorter than
// they are (a truncated file) - and counts every call, so tests can show that
// injected faults become clean Status errors and never corrupt what is
// already stored.
//
//   FaultInjectionEnv env(Env::Default());
//   env.SetWriteLimit(1 << 20);                   // ENOSPC after 1 MiB
//   env.InjectFault(FaultOp::kSync, 2, "seg-");   // 3rd fsync of a segment fails
//   env.SetTruncation(".dds", 100);               // segments read as 100 bytes
//
// Faults apply only to paths containing the given filter ("" = every path).
// Thread-safe: the builder may write from several threads.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "storage/env.h"

namespace dedupdb {

enum class FaultOp : int {
  kOpenWrite = 0,  // NewWritableFile                          -> EACCES
  kWrite,          // WritableFile::Append / WriteAt           -> EIO
  kSync,           // WritableFile::Sync, Env::SyncDir         -> EIO
  kOpenRead,       // NewRandomAccessFile / NewSequentialFile  -> EIO
  kRead,           // every read: random, sequential, batch    -> EIO
  kMap,            // MapReadOnly                              -> EIO
  kRename,         // RenameFile                               -> EIO
  kRemove,         // RemoveFile / RemoveTree                  -> EIO
  kCreateDirs,     // CreateDirs                               -> EIO
  kCount
};

const char* FaultOpName(FaultOp op);

class FaultInjectionEnv : public EnvWrapper {
 public:
  explicit FaultInjectionEnv(Env* target);
  ~FaultInjectionEnv() override;

  // Arms a fault: the first `skip` matching calls succeed, then calls fail
  // (every later one if sticky, else only the next one).
  void InjectFault(FaultOp op, uint64_t skip = 0, std::string path_filter = "", bool sticky = true);
  // Total bytes Append()ed through this Env's writable files after which
  // writes fail with ENOSPC (the write that crosses the limit stores the part
  // that fits, like a real full disk). UINT64_MAX = unlimited.
  void SetWriteLimit(uint64_t bytes, std::string path_filter = "");
  // Files matching the filter look truncated to `bytes`: Size() is clamped,
  // reads past it come back short / at EOF, maps are shorter.
  void SetTruncation(std::string path_filter, uint64_t bytes);
  // Disarms every fault (counters are kept).
  void ClearFaults();
  void ResetCounters();

  // Calls seen per operation (whether they failed or not).
  uint64_t calls(FaultOp op) const { return calls_[static_cast<int>(op)].load(); }
  // Calls that were made to fail.
  uint64_t faults_injected() const { return faults_injected_.load(); }
  uint64_t bytes_written() const { return bytes_written_.load(); }
  uint64_t bytes_read() const { return bytes_read_.load(); }

  // Env overrides.
  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override;
  Status NewRandomAccessFile(const std::string& path, std::unique_ptr<RandomAccessFile>* out) override;
  Status NewSequentialFile(const std::string& path, std::unique_ptr<SequentialFile>* out) override;
  Status MapReadOnly(const std::string& path, std::unique_ptr<MappedFile>* out) override;
  Status NewBatchReader(unsigned queue_depth, bool prefer_io_uring, std::unique_ptr<BatchReader>* out) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveTree(const std::string& path) override;
  Status CreateDirs(const std::string& dir) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;

  // Used by the file wrappers (fault_injection_env.cc).
  // Counts a call of `op` on `path`; returns the error to inject, or OK.
  Status Check(FaultOp op, const std::string& path);
  // How many of `n` bytes about to be appended to `path` still fit in the
  // write budget; consumes them.
  uint64_t ReserveWrite(const std::string& path, uint64_t n);
  // The truncated size of `path` (UINT64_MAX = not truncated).
  uint64_t TruncatedSize(const std::string& path) const;
  void AddBytesRead(uint64_t n) { bytes_read_ += n; }

 private:
  struct Fault {
    bool armed = false;
    bool sticky = true;
    uint64_t skip = 0;
    uint64_t seen = 0;
    std::string filter;
  };

  mutable std::mutex mu_;
  std::array<Fault, static_cast<int>(FaultOp::kCount)> faults_;
  uint64_t write_limit_ = UINT64_MAX;
  uint64_t write_used_ = 0;
  std::string write_filter_;
  bool truncate_armed_ = false;
  std::string truncate_filter_;
  uint64_t truncate_bytes_ = 0;

  std::array<std::atomic<uint64_t>, static_cast<int>(FaultOp::kCount)> calls_{};
  std::atomic<uint64_t> faults_injected_{0};
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> bytes_read_{0};
};

}  // namespace dedupdb
