// Status: the result of an operation that can fail (LevelDB style).
// Functions return Status and write results through out-parameters; an error
// carries a code and a human-readable message that names the file and, where
// known, the line or byte offset.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace dedupdb {

class Status {
 public:
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound,
    kCorruption,       // checksum mismatch, bad magic, truncated file
    kInvalidArgument,  // bad input data or bad parameters
    kIOError,
    kNoSpace,          // ENOSPC
    kNotSupported,
    kAborted,          // interrupted on purpose (e.g. a user limit)
  };

  Status() = default;
  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status NoSpace(std::string msg) { return Status(Code::kNoSpace, std::move(msg)); }
  static Status NotSupported(std::string msg) { return Status(Code::kNotSupported, std::move(msg)); }
  static Status Aborted(std::string msg) { return Status(Code::kAborted, std::move(msg)); }
  // Maps an errno value to IOError / NoSpace / NotFound with "context: strerror".
  static Status FromErrno(const std::string& context, int err);

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsNoSpace() const { return code_ == Code::kNoSpace; }
  bool IsNotSupported() const { return code_ == Code::kNotSupported; }
  Code code() const { return code_; }
  const std::string& message() const { return msg_; }
  // "Corruption: seg-000001.dds: body checksum mismatch".
  std::string ToString() const;
  const char* CodeName() const;

  // Returns a copy whose message is prefixed with "context: ".
  Status WithContext(std::string_view context) const;

 private:
  Status(Code c, std::string msg) : code_(c), msg_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string msg_;
};

}  // namespace dedupdb

// Propagate a non-OK status to the caller.
#define DEDUPDB_RETURN_IF_ERROR(expr)            \
  do {                                           \
    ::dedupdb::Status _st = (expr);              \
    if (!_st.ok()) return _st;                   \
  } while (0)
