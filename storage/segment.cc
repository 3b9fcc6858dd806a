#include "storage/segment.h"

#include <cstring>

namespace dedupdb {

Status SegmentWriter::Create(Env* env, const std::string& path, uint64_t segment_id, uint64_t first_doc_id,
                             std::unique_ptr<SegmentWriter>* out) {
  auto w = std::unique_ptr<SegmentWriter>(new SegmentWriter());
  DEDUPDB_RETURN_IF_ERROR(FileBuilder::Create(env, path, FileKind::kSegment, kSegmentFormatVersion, &w->builder_));
  w->builder_->SetParam(0, segment_id);
  w->builder_->SetParam(1, first_doc_id);
  *out = std::move(w);
  return Status::OK();
}

Status SegmentWriter::Add(std::string_view text) {
  DEDUPDB_RETURN_IF_ERROR(builder_->Append(text));
  offsets_.push_back(offsets_.back() + text.size());
  return Status::OK();
}

Status SegmentWriter::Finish() {
  DEDUPDB_RETURN_IF_ERROR(builder_->AlignTo(8));
  uint64_t offsets_pos = builder_->body_size();
  DEDUPDB_RETURN_IF_ERROR(builder_->Append(
      std::string_view(reinterpret_cast<const char*>(offsets_.data()), offsets_.size() * sizeof(uint64_t))));
  builder_->SetParam(2, doc_count());
  builder_->SetParam(3, text_bytes());
  builder_->SetParam(4, offsets_pos);
  return builder_->Finish();
}

void SegmentWriter::Abandon() { builder_->Abandon(); }

Status SegmentReader::Open(Env* env, const std::string& path, std::unique_ptr<SegmentReader>* out) {
  auto r = std::unique_ptr<SegmentReader>(new SegmentReader());
  DEDUPDB_RETURN_IF_ERROR(EnvelopedFile::Open(env, path, FileKind::kSegment, kSegmentFormatVersion, &r->file_));
  std::string_view body = r->file_->body();
  uint64_t count = r->doc_count(), text = r->text_bytes(), pos = r->file_->param(4);
  if (pos % 8 != 0 || pos < text || pos > body.size() || (body.size() - pos) / 8 != count + 1 ||
      (body.size() - pos) % 8 != 0) {
    return Status::Corruption(path + ": segment header fields disagree with the file size (doc count " +
                              std::to_string(count) + ", text bytes " + std::to_string(text) + ")");
  }
  r->text_ = body.data();
  r->offsets_ = reinterpret_cast<const uint64_t*>(body.data() + pos);
  // Offsets must be monotone and end at text_bytes, or Doc() could read outside the map.
  if (r->offsets_[0] != 0 || r->offsets_[count] != text) {
    return Status::Corruption(path + ": segment offsets table does not span the text");
  }
  // The full monotonicity scan is O(docs); it runs in CheckOffsets (verify).
  *out = std::move(r);
  return Status::OK();
}

Status SegmentReader::CheckOffsets() const {
  uint64_t pos = file_->param(4);
  for (uint64_t i = 0; i < doc_count(); ++i) {
    if (offsets_[i] > offsets_[i + 1]) {
      return Status::Corruption(file_->path() + ": segment offsets table not monotone at doc " + std::to_string(i) +
                                " (byte " + std::to_string(kFileHeaderSize + pos + 8 * i) + ")");
    }
  }
  return Status::OK();
}

}  // namespace dedupdb
