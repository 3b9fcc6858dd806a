// POSIX implementation of Env: buffered writes, pread, mmap, and the batch
// reader (io_uring_batch_reader.cc / pread fallback).
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "storage/batch_reader.h"
#include "storage/env.h"

namespace dedupdb {
namespace {

constexpr size_t kWriteBufferSize = 1 << 20;

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) { buf_.reserve(kWriteBufferSize); }
  ~PosixWritableFile() override {
    if (fd_ >= 0) Close();
  }

  Status Append(std::string_view data) override {
    size_ += data.size();
    if (buf_.size() + data.size() <= kWriteBufferSize) {
      buf_.append(data.data(), data.size());
      return Status::OK();
    }
    DEDUPDB_RETURN_IF_ERROR(Flush());
    if (data.size() >= kWriteBufferSize) return WriteRaw(data.data(), data.size());
    buf_.append(data.data(), data.size());
    return Status::OK();
  }

  Status WriteAt(uint64_t offset, std::string_view data) override {
    DEDUPDB_RETURN_IF_ERROR(Flush());
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::pwrite(fd_, p, left, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(path_, errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
      offset += static_cast<uint64_t>(n);
    }
    return Status::OK();
  }

  Status Flush() override {
    if (buf_.empty()) return Status::OK();
    Status s = WriteRaw(buf_.data(), buf_.size());
    buf_.clear();
    return s;
  }

  Status Sync() override {
    DEDUPDB_RETURN_IF_ERROR(Flush());
    if (::fdatasync(fd_) != 0) return Status::FromErrno(path_ + ": fdatasync", errno);
    return Status::OK();
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    Status s = Flush();
    if (::close(fd_) != 0 && s.ok()) s = Status::FromErrno(path_ + ": close", errno);
    fd_ = -1;
    return s;
  }

  uint64_t Size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  Status WriteRaw(const char* p, size_t left) {
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(path_, errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    return Status::OK();
  }

  std::string path_;
  int fd_;
  std::string buf_;
  uint64_t size_ = 0;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }
  Status Read(uint64_t offset, size_t n, char* dst, size_t* bytes_read) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, dst + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(path_ + " at byte " + std::to_string(offset + done), errno);
      }
      if (r == 0) break;  // end of file
      done += static_cast<size_t>(r);
    }
    *bytes_read = done;
    return Status::OK();
  }
  uint64_t Size() const override { return size_; }
  const std::string& path() const override { return path_; }
  int fd() const override { return fd_; }
  void HintRandomAccess() const override { ::posix_fadvise(fd_, 0, 0, POSIX_FADV_RANDOM); }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd, bool owned) : path_(std::move(path)), fd_(fd), owned_(owned) {}
  ~PosixSequentialFile() override {
    if (owned_) ::close(fd_);
  }
  Status Read(size_t n, char* dst, size_t* bytes_read) override {
    while (true) {
      ssize_t r = ::read(fd_, dst, n);
      if (r < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(path_, errno);
      }
      *bytes_read = static_cast<size_t>(r);
      return Status::OK();
    }
  }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  int fd_;
  bool owned_;
};

class PosixMappedFile final : public MappedFile {
 public:
  PosixMappedFile(std::string path, void* base, uint64_t size) : path_(std::move(path)), base_(base), size_(size) {}
  ~PosixMappedFile() override {
    if (base_ != nullptr) ::munmap(base_, size_);
  }
  const char* data() const override { return base_ ? static_cast<const char*>(base_) : ""; }
  uint64_t size() const override { return size_; }
  const std::string& path() const override { return path_; }
  void Advise(Access access, uint64_t offset, uint64_t length) const override {
    if (base_ == nullptr || offset >= size_) return;
    int advice = MADV_NORMAL;
    switch (access) {
      case Access::kNormal: advice = MADV_NORMAL; break;
      case Access::kRandom: advice = MADV_RANDOM; break;
      case Access::kSequential: advice = MADV_SEQUENTIAL; break;
      case Access::kWillNeed: advice = MADV_WILLNEED; break;
    }
    uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    uint64_t start = offset / page * page;
    uint64_t end = std::min<uint64_t>(size_, length > size_ - offset ? size_ : offset + length);
    ::madvise(static_cast<char*>(base_) + start, end - start, advice);
  }

 private:
  std::string path_;
  void* base_;
  uint64_t size_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

// open(O_RDONLY) + fstat: the descriptor and the file's size.
Status OpenForReading(const std::string& path, int* fd, uint64_t* size) {
  *fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (*fd < 0) return Status::FromErrno(path, errno);
  struct stat st;
  if (::fstat(*fd, &st) != 0) {
    int e = errno;
    ::close(*fd);
    return Status::FromErrno(path, e);
  }
  *size = static_cast<uint64_t>(st.st_size);
  return Status::OK();
}

class PosixEnv final : public Env {
 public:
  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Status::FromErrno(path, errno);
    *out = std::make_unique<PosixWritableFile>(path, fd);
    return Status::OK();
  }

  Status NewRandomAccessFile(const std::string& path, std::unique_ptr<RandomAccessFile>* out) override {
    int fd;
    uint64_t size;
    DEDUPDB_RETURN_IF_ERROR(OpenForReading(path, &fd, &size));
    *out = std::make_unique<PosixRandomAccessFile>(path, fd, size);
    return Status::OK();
  }

  Status NewSequentialFile(const std::string& path, std::unique_ptr<SequentialFile>* out) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(path, errno);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    *out = std::make_unique<PosixSequentialFile>(path, fd, true);
    return Status::OK();
  }

  Status NewStdinFile(std::unique_ptr<SequentialFile>* out) override {
    *out = std::make_unique<PosixSequentialFile>("<stdin>", 0, false);
    return Status::OK();
  }

  Status MapReadOnly(const std::string& path, std::unique_ptr<MappedFile>* out) override {
    int fd;
    uint64_t size;
    DEDUPDB_RETURN_IF_ERROR(OpenForReading(path, &fd, &size));
    void* base = nullptr;
    if (size > 0) {
      base = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
      if (base == MAP_FAILED) {
        int e = errno;
        ::close(fd);
        return Status::FromErrno(path + ": mmap", e);
      }
    }
    ::close(fd);  // the mapping keeps the file alive
    *out = std::make_unique<PosixMappedFile>(path, base, size);
    return Status::OK();
  }

  Status NewBatchReader(unsigned queue_depth, bool prefer_io_uring, std::unique_ptr<BatchReader>* out) override {
    if (prefer_io_uring) {
      Status s = NewIoUringBatchReader(queue_depth, out);
      if (s.ok()) return s;
      // io_uring refused (old kernel, seccomp, RLIMIT_MEMLOCK): fall back.
    }
    *out = NewPreadBatchReader();
    return Status::OK();
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Status GetFileInfo(const std::string& path, FileInfo* info) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return Status::FromErrno(path, errno);
    info->name = BaseName(path);
    info->is_directory = S_ISDIR(st.st_mode);
    info->size = static_cast<uint64_t>(st.st_size);
    info->mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    return Status::OK();
  }

  Status ListDir(const std::string& dir, std::vector<FileInfo>* entries) override {
    entries->clear();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return Status::FromErrno(dir, errno);
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      FileInfo fi;
      Status s = GetFileInfo(JoinPath(dir, name), &fi);
      if (!s.ok()) continue;  // vanished while listing
      entries->push_back(std::move(fi));
    }
    ::closedir(d);
    std::sort(entries->begin(), entries->end(), [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
    return Status::OK();
  }

  Status CreateDirs(const std::string& dir) override {
    if (dir.empty()) return Status::OK();
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) return Status::OK();
      return Status::IOError(dir + ": exists and is not a directory");
    }
    std::string parent = DirName(dir);
    if (parent != dir) DEDUPDB_RETURN_IF_ERROR(CreateDirs(parent));
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Status::FromErrno(dir, errno);
    return Status::OK();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return Status::FromErrno(path, errno);
    return Status::OK();
  }

  Status RemoveTree(const std::string& path) override {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return Status::OK();
      return Status::FromErrno(path, errno);
    }
    if (S_ISDIR(st.st_mode)) {
      std::vector<FileInfo> entries;
      DEDUPDB_RETURN_IF_ERROR(ListDir(path, &entries));
      for (const auto& e : entries) DEDUPDB_RETURN_IF_ERROR(RemoveTree(JoinPath(path, e.name)));
      if (::rmdir(path.c_str()) != 0) return Status::FromErrno(path, errno);
      return Status::OK();
    }
    return RemoveFile(path);
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return Status::FromErrno("rename " + from + " -> " + to, errno);
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(dir, errno);
    int r = ::fsync(fd);
    int e = errno;
    ::close(fd);
    if (r != 0) return Status::FromErrno(dir + ": fsync", e);
    return Status::OK();
  }

  Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::FromErrno(path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      ::close(fd);
      if (e == EWOULDBLOCK) return Status::IOError(path + ": locked by another dedupdb process (one writer at a time)");
      return Status::FromErrno(path + ": flock", e);
    }
    *lock = std::make_unique<PosixFileLock>(fd);
    return Status::OK();
  }

  Status FreeSpace(const std::string& path, uint64_t* bytes) override {
    struct statvfs vfs;
    if (::statvfs(path.c_str(), &vfs) != 0) return Status::FromErrno(path, errno);
    *bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    return Status::OK();
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();
  return env;
}

}  // namespace dedupdb
