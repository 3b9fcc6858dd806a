#include "storage/store_records.h"

#include "storage/coding.h"

namespace dedupdb {

std::string U64Key(uint64_t v) {
  char b[8];
  EncodeBigEndian64(b, v);
  return std::string(b, 8);
}

uint64_t U64FromKey(std::string_view key) { return key.size() == 8 ? DecodeBigEndian64(key.data()) : UINT64_MAX; }

std::string DocRecord::Encode() const {
  std::string r;
  PutVarint64(&r, source_id);
  PutVarint64(&r, line);
  PutVarint64(&r, length);
  PutFixed64(&r, hash.lo);
  PutFixed64(&r, hash.hi);
  PutVarint64(&r, duplicate_of == UINT64_MAX ? 0 : duplicate_of + 1);
  PutLengthPrefixed(&r, external_id);
  return r;
}

bool DocRecord::Decode(std::string_view in, DocRecord* out) {
  uint64_t dup;
  if (!GetVarint64(&in, &out->source_id) || !GetVarint64(&in, &out->line) || !GetVarint64(&in, &out->length) ||
      !GetFixed64(&in, &out->hash.lo) || !GetFixed64(&in, &out->hash.hi) || !GetVarint64(&in, &dup) ||
      !GetLengthPrefixed(&in, &out->external_id)) {
    return false;
  }
  out->duplicate_of = dup == 0 ? UINT64_MAX : dup - 1;
  return in.empty();
}

std::string SegmentRecord::Encode() const {
  std::string r;
  PutVarint64(&r, first_doc);
  PutVarint64(&r, doc_count);
  PutVarint64(&r, text_bytes);
  PutLengthPrefixed(&r, relative_path);
  return r;
}

bool SegmentRecord::Decode(std::string_view in, SegmentRecord* out) {
  std::string_view path;
  if (!GetVarint64(&in, &out->first_doc) || !GetVarint64(&in, &out->doc_count) ||
      !GetVarint64(&in, &out->text_bytes) || !GetLengthPrefixed(&in, &path)) {
    return false;
  }
  out->relative_path.assign(path);
  return in.empty();
}

std::string SourceRecord::Encode() const {
  std::string r;
  PutLengthPrefixed(&r, path);
  PutVarint64(&r, size);
  PutFixed64(&r, static_cast<uint64_t>(mtime_ns));
  PutVarint64(&r, records_done);
  r.push_back(complete ? 1 : 0);
  return r;
}

bool SourceRecord::Decode(std::string_view in, SourceRecord* out) {
  std::string_view path;
  uint64_t mtime;
  if (!GetLengthPrefixed(&in, &path) || !GetVarint64(&in, &out->size) || !GetFixed64(&in, &mtime) ||
      !GetVarint64(&in, &out->records_done) || in.size() != 1) {
    return false;
  }
  out->path.assign(path);
  out->mtime_ns = static_cast<int64_t>(mtime);
  out->complete = in[0] != 0;
  return true;
}

std::string DroppedRecord::Encode() const {
  std::string r;
  PutVarint64(&r, source_id);
  PutVarint64(&r, line);
  PutVarint64(&r, duplicate_of);
  PutLengthPrefixed(&r, external_id);
  return r;
}

bool DroppedRecord::Decode(std::string_view in, DroppedRecord* out) {
  return GetVarint64(&in, &out->source_id) && GetVarint64(&in, &out->line) && GetVarint64(&in, &out->duplicate_of) &&
         GetLengthPrefixed(&in, &out->external_id) && in.empty();
}

}  // namespace dedupdb
