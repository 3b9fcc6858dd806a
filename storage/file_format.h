// The common envelope of every dedupdb data file (docs/format.md, "File
// envelope"): a 128-byte header followed by the body.
//
//   off  size  field
//     0     8  magic "DEDUPDB\x1a"
//     8     2  kind (FileKind)
//    10     2  reserved, 0
//    12     4  format version of this kind
//    16     8  body size in bytes (file size = 128 + body size)
//    24     8  XXH3-64 of the body
//    32    80  params[10], u64 each, meaning defined per kind
//   112     8  reserved, 0
//   120     8  XXH3-64 of header bytes 0..119
//
// The header is written last (after the body is on disk and its checksum is
// known), so a file cut short by a crash has a zero/invalid header and never
// opens. Files are additionally only visible once the catalog lists them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/checksum.h"
#include "storage/env.h"
#include "storage/status.h"

namespace dedupdb {

enum class FileKind : uint16_t {
  kSegment = 1,        // document segment (storage/segment.h)
  kSuffixText = 2,     // symbol stream of a suffix-array shard (index/)
  kSuffixArray = 3,    // suffix array of a shard (index/)
  kLshBuckets = 4,     // MinHash LSH bucket run (index/)
  kMinHashSigs = 5,    // MinHash signatures (index/)
  kEvalIndex = 6,      // decontamination n-gram index (index/)
  kRangeList = 7,      // per-document byte ranges (dedup output)
  kGeneric = 15,       // anything else
};

const char* FileKindName(FileKind kind);

constexpr size_t kFileHeaderSize = 128;
constexpr size_t kFileParamCount = 10;
constexpr char kFileMagic[8] = {'D', 'E', 'D', 'U', 'P', 'D', 'B', '\x1a'};

struct FileHeader {
  FileKind kind = FileKind::kGeneric;
  uint32_t version = 0;
  uint64_t body_size = 0;
  uint64_t body_checksum = 0;
  uint64_t params[kFileParamCount] = {};

  void EncodeTo(char dst[kFileHeaderSize]) const;
  // Validates magic and header checksum; `path` is used in the error message.
  static Status DecodeFrom(const char* src, size_t n, const std::string& path, FileHeader* out);
};

// Writes one enveloped file: body streamed through Append() (checksummed on
// the way), header patched in by Finish(), then fsync. Abandon() deletes it.
class FileBuilder {
 public:
  static Status Create(Env* env, const std::string& path, FileKind kind, uint32_t version,
                       std::unique_ptr<FileBuilder>* out);
  ~FileBuilder();
  Status Append(std::string_view data);
  // Pads the body with zero bytes up to a multiple of `alignment`.
  Status AlignTo(size_t alignment);
  uint64_t body_size() const { return body_size_; }
  void SetParam(size_t i, uint64_t v) { header_.params[i] = v; }
  // Writes the header, syncs and closes. The file is complete after this.
  Status Finish();
  void Abandon();
  const std::string& path() const { return path_; }
  const FileHeader& header() const { return header_; }

 private:
  FileBuilder() = default;
  Env* env_ = nullptr;
  std::string path_;
  std::unique_ptr<WritableFile> file_;
  StreamingChecksum checksum_;
  FileHeader header_;
  uint64_t body_size_ = 0;
  bool finished_ = false;
};

// A memory-mapped enveloped file whose header has been validated (magic,
// header checksum, kind, version, and file size == 128 + body size).
// The body checksum is only recomputed by VerifyBody() (`dedupdb verify`).
class EnvelopedFile {
 public:
  static Status Open(Env* env, const std::string& path, FileKind expected_kind, uint32_t max_version,
                     std::unique_ptr<EnvelopedFile>* out);
  const FileHeader& header() const { return header_; }
  uint64_t param(size_t i) const { return header_.params[i]; }
  std::string_view body() const;
  const std::string& path() const { return map_->path(); }
  const MappedFile& map() const { return *map_; }
  Status VerifyBody() const;

 private:
  std::unique_ptr<MappedFile> map_;
  FileHeader header_;
};

}  // namespace dedupdb
