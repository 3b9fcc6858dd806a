#include "storage/file_format.h"

#include <cstring>

#include "storage/coding.h"

namespace dedupdb {

const char* FileKindName(FileKind kind) {
  switch (kind) {
    case FileKind::kSegment: return "segment";
    case FileKind::kSuffixText: return "suffix-text";
    case FileKind::kSuffixArray: return "suffix-array";
    case FileKind::kLshBuckets: return "lsh-buckets";
    case FileKind::kMinHashSigs: return "minhash-signatures";
    case FileKind::kEvalIndex: return "eval-index";
    case FileKind::kRangeList: return "range-list";
    case FileKind::kGeneric: return "generic";
  }
  return "unknown";
}

void FileHeader::EncodeTo(char dst[kFileHeaderSize]) const {
  std::memset(dst, 0, kFileHeaderSize);
  std::memcpy(dst, kFileMagic, 8);
  uint16_t k = static_cast<uint16_t>(kind);
  std::memcpy(dst + 8, &k, 2);
  EncodeFixed32(dst + 12, version);
  EncodeFixed64(dst + 16, body_size);
  EncodeFixed64(dst + 24, body_checksum);
  for (size_t i = 0; i < kFileParamCount; ++i) EncodeFixed64(dst + 32 + 8 * i, params[i]);
  EncodeFixed64(dst + 120, Checksum64(dst, 120));
}

Status FileHeader::DecodeFrom(const char* src, size_t n, const std::string& path, FileHeader* out) {
  if (n < kFileHeaderSize) {
    return Status::Corruption(path + ": file is " + std::to_string(n) + " bytes, shorter than the " +
                              std::to_string(kFileHeaderSize) + "-byte header");
  }
  if (std::memcmp(src, kFileMagic, 8) != 0) return Status::Corruption(path + ": bad magic at byte 0 (not a dedupdb file, or never finished)");
  if (DecodeFixed64(src + 120) != Checksum64(src, 120)) return Status::Corruption(path + ": header checksum mismatch (bytes 0..127)");
  out->kind = static_cast<FileKind>(DecodeFixed16(src + 8));
  out->version = DecodeFixed32(src + 12);
  out->body_size = DecodeFixed64(src + 16);
  out->body_checksum = DecodeFixed64(src + 24);
  for (size_t i = 0; i < kFileParamCount; ++i) out->params[i] = DecodeFixed64(src + 32 + 8 * i);
  return Status::OK();
}

Status FileBuilder::Create(Env* env, const std::string& path, FileKind kind, uint32_t version,
                           std::unique_ptr<FileBuilder>* out) {
  std::unique_ptr<FileBuilder> b(new FileBuilder());
  b->env_ = env;
  b->path_ = path;
  b->header_.kind = kind;
  b->header_.version = version;
  DEDUPDB_RETURN_IF_ERROR(env->NewWritableFile(path, &b->file_));
  // Placeholder header of zeros: an unfinished file has no magic.
  char zeros[kFileHeaderSize] = {};
  Status s = b->file_->Append(std::string_view(zeros, kFileHeaderSize));
  if (!s.ok()) {
    b->Abandon();
    return s;
  }
  *out = std::move(b);
  return Status::OK();
}

FileBuilder::~FileBuilder() {
  if (!finished_) Abandon();
}

Status FileBuilder::Append(std::string_view data) {
  checksum_.Update(data);
  body_size_ += data.size();
  return file_->Append(data);
}

Status FileBuilder::AlignTo(size_t alignment) {
  static const char kZeros[64] = {};
  size_t pad = (alignment - body_size_ % alignment) % alignment;
  while (pad > 0) {
    size_t n = pad < sizeof(kZeros) ? pad : sizeof(kZeros);
    DEDUPDB_RETURN_IF_ERROR(Append(std::string_view(kZeros, n)));
    pad -= n;
  }
  return Status::OK();
}

Status FileBuilder::Finish() {
  header_.body_size = body_size_;
  header_.body_checksum = checksum_.Digest();
  char hdr[kFileHeaderSize];
  header_.EncodeTo(hdr);
  // Body first durable, then the header that makes the file valid.
  Status s = file_->Sync();
  if (s.ok()) s = file_->WriteAt(0, std::string_view(hdr, kFileHeaderSize));
  if (s.ok()) s = file_->Sync();
  if (s.ok()) s = file_->Close();
  if (!s.ok()) {
    Abandon();
    return s.WithContext(path_);
  }
  finished_ = true;
  return Status::OK();
}

void FileBuilder::Abandon() {
  if (finished_) return;
  finished_ = true;
  if (file_) file_->Close();
  file_.reset();
  env_->RemoveFile(path_);
}

Status EnvelopedFile::Open(Env* env, const std::string& path, FileKind expected_kind, uint32_t max_version,
                           std::unique_ptr<EnvelopedFile>* out) {
  auto f = std::unique_ptr<EnvelopedFile>(new EnvelopedFile());
  DEDUPDB_RETURN_IF_ERROR(env->MapReadOnly(path, &f->map_));
  DEDUPDB_RETURN_IF_ERROR(FileHeader::DecodeFrom(f->map_->data(), f->map_->size(), path, &f->header_));
  const FileHeader& h = f->header_;
  if (h.kind != expected_kind) {
    return Status::Corruption(path + ": file kind is " + FileKindName(h.kind) + ", expected " +
                              FileKindName(expected_kind));
  }
  if (h.version == 0 || h.version > max_version) {
    return Status::NotSupported(path + ": format version " + std::to_string(h.version) +
                                " is not supported (this build reads up to " + std::to_string(max_version) + ")");
  }
  if (f->map_->size() != kFileHeaderSize + h.body_size) {
    return Status::Corruption(path + ": file is " + std::to_string(f->map_->size()) + " bytes but its header says " +
                              std::to_string(kFileHeaderSize + h.body_size) + " (truncated or extended)");
  }
  *out = std::move(f);
  return Status::OK();
}

std::string_view EnvelopedFile::body() const {
  return std::string_view(map_->data() + kFileHeaderSize, header_.body_size);
}

Status EnvelopedFile::VerifyBody() const {
  // Stream in chunks so the page cache can drop pages behind us.
  StreamingChecksum sum;
  std::string_view b = body();
  constexpr size_t kChunk = 8 << 20;
  for (size_t off = 0; off < b.size(); off += kChunk) {
    size_t n = std::min(kChunk, b.size() - off);
    map_->Advise(MappedFile::Access::kSequential, kFileHeaderSize + off, n);
    sum.Update(b.data() + off, n);
  }
  uint64_t got = sum.Digest();
  if (got != header_.body_checksum) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "body checksum mismatch (stored %016llx, computed %016llx)",
                  static_cast<unsigned long long>(header_.body_checksum), static_cast<unsigned long long>(got));
    return Status::Corruption(path() + ": " + buf);
  }
  return Status::OK();
}

}  // namespace dedupdb
