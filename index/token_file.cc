// Opening and reading flat token files (index/token_file.h).
#include "index/token_file.h"

#include <algorithm>
#include <cstring>

#include "index/sa_builder.h"

namespace dedupdb {

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
