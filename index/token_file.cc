// Opening and reading flat token files (index/token_file.h).
#include "index/token_file.h"

#include <algorithm>
#include <cstring>

#include "storage/coding.h"

namespace dedupdb {

Status ParseNpyHeader(std::string_view file_start, const std::string& path, uint64_t* data_offset,
                      uint32_t* symbol_bytes, uint64_t* count) {
  auto bad = [&](const std::string& why) { return Status::InvalidArgument(path + ": not a supported .npy file: " + why); };
  if (file_start.size() < 10 || file_start.substr(0, 6) != std::string_view("\x93NUMPY", 6)) return bad("bad magic");
  uint8_t major = static_cast<uint8_t>(file_start[6]);
  uint64_t hlen, hstart;
  if (major == 1) {
    hlen = static_cast<uint8_t>(file_start[8]) | (uint64_t(static_cast<uint8_t>(file_start[9])) << 8);
    hstart = 10;
  } else if (major == 2 || major == 3) {
    if (file_start.size() < 12) return bad("truncated header");
    hlen = DecodeFixed32(file_start.data() + 8);
    hstart = 12;
  } else {
    return bad("unknown version " + std::to_string(major));
  }
  if (file_start.size() < hstart + hlen) return bad("header longer than the first " + std::to_string(file_start.size()) + " bytes");
  std::string h(file_start.substr(hstart, hlen));
  auto value_of = [&](const std::string& key) -> std::string {
    size_t k = h.find("'" + key + "'");
    if (k == std::string::npos) return "";
    size_t c = h.find(':', k);
    if (c == std::string::npos) return "";
    size_t b = h.find_first_not_of(" ", c + 1);
    if (b == std::string::npos) return "";
    size_t e = b;
    if (h[b] == '\'') e = h.find('\'', b + 1) + 1;
    else if (h[b] == '(') e = h.find(')', b) + 1;
    else e = h.find_first_of(",}", b);
    if (e == std::string::npos || e == 0) return "";
    return h.substr(b, e - b);
  };
  std::string descr = value_of("descr"), fortran = value_of("fortran_order"), shape = value_of("shape");
  if (descr == "'<u2'") *symbol_bytes = 2;
  else if (descr == "'<u4'") *symbol_bytes = 4;
  else return bad("dtype " + (descr.empty() ? std::string("?") : descr) + " (want '<u2' or '<u4')");
  if (fortran != "False") return bad("fortran_order must be False");
  // shape "(N,)"
  if (shape.size() < 3 || shape.front() != '(' || shape.back() != ')') return bad("shape must be 1-D");
  std::string inner = shape.substr(1, shape.size() - 2);
  while (!inner.empty() && (inner.back() == ',' || inner.back() == ' ')) inner.pop_back();
  if (inner.empty() || inner.find_first_not_of("0123456789") != std::string::npos) return bad("shape must be 1-D");
  *count = std::stoull(inner);
  *data_offset = hstart + hlen;
  return Status::OK();
}


Status TokenFile::Open(Env* env, const std::string& path, unsigned want_bytes, TokenFile* out) {
  DEDUPDB_RETURN_IF_ERROR(env->NewRandomAccessFile(path, &out->file));
  const uint64_t size = out->file->Size();
  const bool npy = path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
  if (npy) {
    std::string head(static_cast<size_t>(std::min<uint64_t>(size, 65536)), '\0');
    size_t got = 0;
    DEDUPDB_RETURN_IF_ERROR(out->file->Read(0, head.size(), head.data(), &got));
    head.resize(got);
    uint32_t sb = 0;
    DEDUPDB_RETURN_IF_ERROR(ParseNpyHeader(head, path, &out->data_offset, &sb, &out->count));
    if (want_bytes != 0 && want_bytes != sb) {
      return Status::InvalidArgument(path + ": .npy dtype is u" + std::to_string(8 * sb) + " but --dtype says u" +
                                     std::to_string(8 * want_bytes));
    }
    if (out->data_offset + out->count * sb != size) {
      return Status::InvalidArgument(path + ": file size " + std::to_string(size) +
                                     " does not match the .npy shape (truncated?)");
    }
    out->token_bytes = sb;
    return Status::OK();
  }
  if (want_bytes != 2 && want_bytes != 4) {
    return Status::InvalidArgument(path + ": raw token file needs its width: --dtype u16 or u32");
  }
  if (size % want_bytes != 0) {
    return Status::InvalidArgument(path + ": size " + std::to_string(size) + " is not a multiple of " +
                                   std::to_string(want_bytes) + " bytes; trailing partial token at byte offset " +
                                   std::to_string(size - size % want_bytes));
  }
  out->data_offset = 0;
  out->token_bytes = want_bytes;
  out->count = size / want_bytes;
  return Status::OK();
}

Status ReadTokenIds(const RandomAccessFile& f, uint64_t data_offset, unsigned width, uint64_t first, size_t n,
                    std::vector<uint32_t>* out, std::string* raw) {
  const uint64_t offset = data_offset + first * width;
  raw->resize(n * width);
  size_t done = 0;
  while (done < raw->size()) {
    size_t got = 0;
    DEDUPDB_RETURN_IF_ERROR(f.Read(offset + done, raw->size() - done, raw->data() + done, &got));
    if (got == 0) {
      return Status::Corruption(f.path() + ": unexpected end of file at byte offset " + std::to_string(offset + done));
    }
    done += got;
  }
  out->resize(n);
  if (width == 4) {
    std::memcpy(out->data(), raw->data(), n * 4);
  } else {
    for (size_t i = 0; i < n; ++i) {
      uint16_t v;
      std::memcpy(&v, raw->data() + 2 * i, 2);
      (*out)[i] = v;
    }
  }
  return Status::OK();
}

}  // namespace dedupdb
