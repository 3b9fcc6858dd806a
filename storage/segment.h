// Document segment: an immutable file holding the concatenated UTF-8 text of
// a run of consecutive documents plus their offsets (docs/format.md).
//
// Body:   text bytes | zero padding to 8 | u64 offsets[doc_count + 1]
// Params: [0] segment id  [1] first doc id  [2] doc count  [3] text bytes
//         [4] body offset of the offsets table
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/file_format.h"

namespace dedupdb {

constexpr uint32_t kSegmentFormatVersion = 1;

class SegmentWriter {
 public:
  static Status Create(Env* env, const std::string& path, uint64_t segment_id, uint64_t first_doc_id,
                       std::unique_ptr<SegmentWriter>* out);
  Status Add(std::string_view text);
  uint64_t doc_count() const { return offsets_.size() - 1; }
  uint64_t text_bytes() const { return offsets_.back(); }
  Status Finish();  // writes the offsets table and header, fsyncs
  void Abandon();
  const FileHeader& header() const { return builder_->header(); }
  uint64_t file_size() const { return kFileHeaderSize + builder_->body_size(); }

 private:
  std::unique_ptr<FileBuilder> builder_;
  std::vector<uint64_t> offsets_{0};
};

class SegmentReader {
 public:
  static Status Open(Env* env, const std::string& path, std::unique_ptr<SegmentReader>* out);
  uint64_t segment_id() const { return file_->param(0); }
  uint64_t first_doc_id() const { return file_->param(1); }
  uint64_t doc_count() const { return file_->param(2); }
  uint64_t text_bytes() const { return file_->param(3); }
  // Text of the i-th document of this segment (0 <= i < doc_count()).
  std::string_view Doc(uint64_t i) const {
    return std::string_view(text_ + offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  // All text of the segment, documents back to back.
  std::string_view AllText() const { return std::string_view(text_, text_bytes()); }
  const uint64_t* offsets() const { return offsets_; }
  const EnvelopedFile& file() const { return *file_; }
  // O(docs) structural check of the offsets table (run by verify).
  Status CheckOffsets() const;

 private:
  std::unique_ptr<EnvelopedFile> file_;
  const char* text_ = nullptr;
  const uint64_t* offsets_ = nullptr;
};

}  // namespace dedupdb
