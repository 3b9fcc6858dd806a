#include "storage/status.h"

#include <cerrno>
#include <cstring>

namespace dedupdb {

Status Status::FromErrno(const std::string& context, int err) {
  std::string msg = context + ": " + std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return NoSpace(std::move(msg));
    case ENOENT:
      return NotFound(std::move(msg));
    default:
      return IOError(std::move(msg));
  }
}

const char* Status::CodeName() const {
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kNotFound: return "NotFound";
    case Code::kCorruption: return "Corruption";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kIOError: return "IOError";
    case Code::kNoSpace: return "NoSpace";
    case Code::kNotSupported: return "NotSupported";
    case Code::kAborted: return "Aborted";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName()) + ": " + msg_;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, std::string(context) + ": " + msg_);
}

}  // namespace dedupdb
