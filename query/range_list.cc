#include "query/range_list.h"

#include <algorithm>
#include <cmath>

#include "storage/text_output.h"
#include "storage/coding.h"
#include "storage/doc_store.h"
#include "storage/file_format.h"
#include "storage/json_writer.h"

namespace dedupdb {

void RangeList::Normalize() {
  std::sort(ranges_.begin(), ranges_.end(), [](const DocRange& a, const DocRange& b) {
    return a.doc_id != b.doc_id ? a.doc_id < b.doc_id : a.begin < b.begin;
  });
  size_t w = 0;
  for (size_t i = 0; i < ranges_.size(); ++i) {
    const DocRange& r = ranges_[i];
    if (w > 0 && ranges_[w - 1].doc_id == r.doc_id && r.begin <= ranges_[w - 1].end) {
      ranges_[w - 1].end = std::max(ranges_[w - 1].end, r.end);
    } else {
      ranges_[w++] = r;
    }
  }
  ranges_.resize(w);
}

bool RangeList::IsNormalized() const {
  for (size_t i = 0; i < ranges_.size(); ++i) {
    if (ranges_[i].end <= ranges_[i].begin) return false;
    if (i > 0) {
      const DocRange& p = ranges_[i - 1];
      if (p.doc_id > ranges_[i].doc_id) return false;
      if (p.doc_id == ranges_[i].doc_id && p.end >= ranges_[i].begin) return false;
    }
  }
  return true;
}

std::pair<const DocRange*, const DocRange*> RangeList::ForDoc(uint64_t doc_id) const {
  auto lo = std::lower_bound(ranges_.begin(), ranges_.end(), doc_id,
                             [](const DocRange& r, uint64_t d) { return r.doc_id < d; });
  auto hi = lo;
  while (hi != ranges_.end() && hi->doc_id == doc_id) ++hi;
  const DocRange* base = ranges_.data();
  return {base + (lo - ranges_.begin()), base + (hi - ranges_.begin())};
}

uint64_t RangeList::BytesRemoved() const {
  uint64_t n = 0;
  for (const DocRange& r : ranges_) n += r.end - r.begin;
  return n;
}

uint64_t RangeList::DocsTouched() const {
  uint64_t n = 0;
  for (size_t i = 0; i < ranges_.size(); ++i) n += (i == 0 || ranges_[i - 1].doc_id != ranges_[i].doc_id);
  return n;
}

std::string ApplyRanges(std::string_view doc, const DocRange* first, const DocRange* last) {
  std::string out;
  out.reserve(doc.size());
  uint64_t pos = 0;
  for (const DocRange* r = first; r != last; ++r) {
    uint64_t b = std::min<uint64_t>(r->begin, doc.size()), e = std::min<uint64_t>(r->end, doc.size());
    if (b > pos) out.append(doc.substr(pos, b - pos));
    pos = std::max(pos, e);
  }
  if (pos < doc.size()) out.append(doc.substr(pos));
  return out;
}

// Body layout (docs/format.md): doc table of (u64 doc_id, u64 offset into the
// range area) per touched doc plus a sentinel (UINT64_MAX, area size), then
// the range area: per doc, varint pairs (begin - previous end, length).
Status WriteRangeListFile(Env* env, const std::string& path, const RangeList& list, const RangeListInfo& info) {
  if (!list.IsNormalized()) return Status::InvalidArgument(path + ": range list is not normalised");
  std::string table, area;
  const auto& rs = list.ranges();
  uint64_t docs = 0, prev_end = 0;
  for (size_t i = 0; i < rs.size(); ++i) {
    if (i == 0 || rs[i - 1].doc_id != rs[i].doc_id) {
      PutFixed64(&table, rs[i].doc_id);
      PutFixed64(&table, area.size());
      prev_end = 0;
      ++docs;
    }
    PutVarint64(&area, rs[i].begin - prev_end);
    PutVarint64(&area, rs[i].end - rs[i].begin);
    prev_end = rs[i].end;
  }
  PutFixed64(&table, UINT64_MAX);
  PutFixed64(&table, area.size());

  const std::string tmp = path + ".tmp";
  std::unique_ptr<FileBuilder> b;
  DEDUPDB_RETURN_IF_ERROR(FileBuilder::Create(env, tmp, FileKind::kRangeList, kRangeListFormatVersion, &b));
  b->SetParam(0, info.min_len);
  b->SetParam(1, info.unit);
  b->SetParam(2, info.mode);
  b->SetParam(3, info.granularity);
  b->SetParam(4, static_cast<uint64_t>(std::llround(info.threshold * 1e6)));
  b->SetParam(5, docs);
  b->SetParam(6, rs.size());
  b->SetParam(7, list.BytesRemoved());
  b->SetParam(8, table.size());  // body offset of the range area
  b->SetParam(9, info.store_docs);
  DEDUPDB_RETURN_IF_ERROR(b->Append(table));
  DEDUPDB_RETURN_IF_ERROR(b->Append(area));
  DEDUPDB_RETURN_IF_ERROR(b->Finish());
  return env->RenameFile(tmp, path);
}

Status ReadRangeListFile(Env* env, const std::string& path, RangeList* list, RangeListInfo* info) {
  std::unique_ptr<EnvelopedFile> f;
  DEDUPDB_RETURN_IF_ERROR(EnvelopedFile::Open(env, path, FileKind::kRangeList, kRangeListFormatVersion, &f));
  DEDUPDB_RETURN_IF_ERROR(f->VerifyBody());
  std::string_view body = f->body();
  const uint64_t docs = f->param(5), nranges = f->param(6), area_off = f->param(8);
  auto corrupt = [&](const std::string& what, uint64_t off) {
    return Status::Corruption(path + ": " + what + " at body byte " + std::to_string(off));
  };
  if (area_off != (docs + 1) * 16 || area_off > body.size()) return corrupt("bad doc table size", 0);
  RangeListInfo in;
  in.min_len = f->param(0);
  in.unit = static_cast<uint32_t>(f->param(1));
  in.mode = static_cast<uint32_t>(f->param(2));
  in.granularity = static_cast<uint32_t>(f->param(3));
  in.threshold = f->param(4) / 1e6;
  in.store_docs = f->param(9);
  std::string_view area = body.substr(area_off);
  list->clear();
  for (uint64_t d = 0; d < docs; ++d) {
    const char* e = body.data() + d * 16;
    uint64_t doc = DecodeFixed64(e), off = DecodeFixed64(e + 8), next = DecodeFixed64(e + 24);
    if (next < off || next > area.size()) return corrupt("bad range offset", d * 16);
    std::string_view in_doc = area.substr(off, next - off);
    uint64_t prev_end = 0;
    while (!in_doc.empty()) {
      uint64_t gap, len;
      if (!GetVarint64(&in_doc, &gap) || !GetVarint64(&in_doc, &len) || len == 0) {
        return corrupt("bad range varint", area_off + next - in_doc.size());
      }
      list->Add(doc, prev_end + gap, prev_end + gap + len);
      prev_end += gap + len;
    }
  }
  if (list->size() != nranges) return corrupt("range count differs from header param 6", 0);
  if (!list->IsNormalized()) return corrupt("ranges not sorted/disjoint", 0);
  if (info) *info = in;
  return Status::OK();
}

Status WriteRangeListJsonl(Env* env, const std::string& path, const RangeList& list, const DocStore* store) {
  std::unique_ptr<TextOutput> out;
  DEDUPDB_RETURN_IF_ERROR(TextOutput::Open(env, path, &out));
  const auto& rs = list.ranges();
  std::string line;
  for (size_t i = 0; i < rs.size();) {
    size_t j = i;
    uint64_t removed = 0;
    while (j < rs.size() && rs[j].doc_id == rs[i].doc_id) removed += rs[j].end - rs[j].begin, ++j;
    JsonWriter w;
    w.BeginObject().Field("doc_id", rs[i].doc_id);
    if (store != nullptr) {
      DocMeta meta;
      DEDUPDB_RETURN_IF_ERROR(store->GetMeta(rs[i].doc_id, &meta));
      w.Field("id", meta.external_id).Field("length", meta.length);
    }
    w.Field("removed", removed).Key("ranges").BeginArray();
    for (size_t k = i; k < j; ++k) w.BeginArray().Uint(rs[k].begin).Uint(rs[k].end).EndArray();
    w.EndArray().EndObject();
    line = w.Take();
    line.push_back('\n');
    DEDUPDB_RETURN_IF_ERROR(out->Append(line));
    i = j;
  }
  return out->Finish();
}

}  // namespace dedupdb
