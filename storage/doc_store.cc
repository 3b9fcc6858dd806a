#include "storage/doc_store.h"

#include <algorithm>

#include "storage/progress.h"

namespace dedupdb {

Status DocStore::Open(const std::string& dir, const Options& options, std::unique_ptr<DocStore>* out) {
  Env* env = options.env ? options.env : Env::Default();
  std::unique_ptr<DocStore> store(new DocStore(env, dir));
  DEDUPDB_RETURN_IF_ERROR(Catalog::Open(env, store->layout_.catalog_dir(), false, true, &store->catalog_));
  std::unique_ptr<CatalogReadTxn> txn;
  DEDUPDB_RETURN_IF_ERROR(store->catalog_->BeginRead(&txn));
  uint64_t version = 0;
  Status s = txn->GetU64(Table::kMeta, meta::kFormatVersion, &version);
  if (s.IsNotFound()) {
    // StoreWriter writes the version in the catalog's first transaction, so
    // an empty catalog is a first build killed before it: nothing was ever
    // stored (the next build initialises it). Records without it are not ours.
    bool empty = true;
    for (int t = 0; t < static_cast<int>(Table::kCount) && empty; ++t) {
      DEDUPDB_RETURN_IF_ERROR(txn->Scan(static_cast<Table>(t), "", [&](std::string_view, std::string_view) {
        empty = false;
        return false;
      }));
    }
    if (empty) return Status::NotFound(dir + ": no dedupdb store here yet (its creation was interrupted before the first commit)");
    return Status::Corruption(dir + ": catalog has no format version (not a dedupdb store?)");
  }
  DEDUPDB_RETURN_IF_ERROR(s);
  if (version > kStoreFormatVersion) {
    return Status::NotSupported(dir + ": store format version " + std::to_string(version) + " is newer than this dedupdb");
  }
  std::vector<SegmentRecord> records;
  Status scan_status;
  DEDUPDB_RETURN_IF_ERROR(txn->Scan(Table::kSegments, "", [&](std::string_view k, std::string_view v) {
    SegmentRecord r;
    if (!SegmentRecord::Decode(v, &r)) {
      scan_status = Status::Corruption(dir + ": catalog segment record " + std::to_string(U64FromKey(k)) + " is malformed");
      return false;
    }
    records.push_back(std::move(r));
    return true;
  }));
  DEDUPDB_RETURN_IF_ERROR(scan_status);
  uint64_t next_doc = 0;
  for (const SegmentRecord& r : records) {
    std::unique_ptr<SegmentReader> seg;
    DEDUPDB_RETURN_IF_ERROR(SegmentReader::Open(env, store->layout_.Absolute(r.relative_path), &seg));
    if (seg->first_doc_id() != r.first_doc || seg->doc_count() != r.doc_count || seg->text_bytes() != r.text_bytes ||
        r.first_doc != next_doc) {
      return Status::Corruption(store->layout_.Absolute(r.relative_path) +
                                ": segment header disagrees with the catalog (first doc " +
                                std::to_string(seg->first_doc_id()) + " vs " + std::to_string(r.first_doc) + ")");
    }
    next_doc += r.doc_count;
    store->text_bytes_ += r.text_bytes;
    store->segment_first_doc_.push_back(r.first_doc);
    store->segments_.push_back(std::move(seg));
  }
  store->num_docs_ = next_doc;
  *out = std::move(store);
  return Status::OK();
}

size_t DocStore::SegmentFor(uint64_t doc_id) const {
  auto it = std::upper_bound(segment_first_doc_.begin(), segment_first_doc_.end(), doc_id);
  return static_cast<size_t>(it - segment_first_doc_.begin()) - 1;
}

std::string_view DocStore::Text(uint64_t doc_id) const {
  const SegmentReader& seg = *segments_[SegmentFor(doc_id)];
  return seg.Doc(doc_id - seg.first_doc_id());
}

Status DocStore::GetText(uint64_t doc_id, std::string_view* text) const {
  if (doc_id >= num_docs_) {
    return Status::NotFound("doc " + std::to_string(doc_id) + " does not exist (store has " + std::to_string(num_docs_) + " docs)");
  }
  *text = Text(doc_id);
  return Status::OK();
}

Status DocStore::GetMeta(uint64_t doc_id, DocMeta* meta) const {
  if (doc_id >= num_docs_) {
    return Status::NotFound("doc " + std::to_string(doc_id) + " does not exist (store has " + std::to_string(num_docs_) + " docs)");
  }
  std::unique_ptr<CatalogReadTxn> txn;
  DEDUPDB_RETURN_IF_ERROR(catalog_->BeginRead(&txn));
  std::string_view v;
  Status s = txn->Get(Table::kDocs, U64Key(doc_id), &v);
  if (!s.ok()) return s.WithContext("doc " + std::to_string(doc_id));
  DocRecord r;
  if (!DocRecord::Decode(v, &r)) return Status::Corruption("catalog record of doc " + std::to_string(doc_id) + " is malformed");
  meta->doc_id = doc_id;
  meta->external_id.assign(r.external_id);
  meta->line = r.line;
  meta->length = r.length;
  meta->hash = r.hash;
  meta->duplicate_of = r.duplicate_of;
  SourceRecord src;
  if (txn->Get(Table::kSources, U64Key(r.source_id), &v).ok() && SourceRecord::Decode(v, &src)) {
    meta->source = src.path;
  } else {
    meta->source.clear();
  }
  return Status::OK();
}

Status DocStore::FindByExternalId(std::string_view external_id, std::vector<uint64_t>* doc_ids) const {
  doc_ids->clear();
  std::unique_ptr<CatalogReadTxn> txn;
  DEDUPDB_RETURN_IF_ERROR(catalog_->BeginRead(&txn));
  // Long ids are stored under a shortened key; the docs table has the full id.
  std::vector<uint64_t> candidates;
  std::string first_key;
  DEDUPDB_RETURN_IF_ERROR(txn->Scan(Table::kExtIds, external_id, [&](std::string_view k, std::string_view v) {
    if (first_key.empty()) first_key.assign(k);
    if (k != first_key) return false;
    candidates.push_back(U64FromKey(v));
    return true;
  }));
  for (uint64_t id : candidates) {
    if (id >= num_docs_) continue;  // committed after this snapshot was opened
    DocMeta m;
    if (GetMeta(id, &m).ok() && m.external_id == external_id) doc_ids->push_back(id);
  }
  std::sort(doc_ids->begin(), doc_ids->end());
  return Status::OK();
}

Status DocStore::Stats(StoreStats* st) const {
  *st = StoreStats();
  st->docs = num_docs_;
  st->text_bytes = text_bytes_;
  st->segments = segments_.size();
  std::unique_ptr<CatalogReadTxn> txn;
  DEDUPDB_RETURN_IF_ERROR(catalog_->BeginRead(&txn));
  auto get = [&](const char* key) {
    uint64_t v = 0;
    txn->GetU64(Table::kMeta, key, &v);
    return v;
  };
  st->exact_duplicate_docs = get(meta::kExactDupDocs);
  st->exact_duplicate_bytes = get(meta::kExactDupBytes);
  st->dropped_docs = get(meta::kDroppedDocs);
  DEDUPDB_RETURN_IF_ERROR(txn->Count(Table::kSources, &st->sources));
  DEDUPDB_RETURN_IF_ERROR(txn->Scan(Table::kFiles, "", [&](std::string_view, std::string_view v) {
    FileRecord r;
    if (FileRecord::Decode(v, &r)) {
      if (r.kind == static_cast<uint16_t>(FileKind::kSegment)) st->segment_file_bytes += r.size;
      else st->index_file_bytes += r.size;
    }
    return true;
  }));
  st->catalog_bytes = catalog_->DiskBytes();
  return Status::OK();
}

Status DocStore::Verify(std::vector<VerifyProblem>* problems, bool show_progress) const {
  problems->clear();
  std::unique_ptr<CatalogReadTxn> txn;
  DEDUPDB_RETURN_IF_ERROR(catalog_->BeginRead(&txn));
  std::vector<std::pair<std::string, FileRecord>> files;
  uint64_t total = 0;
  DEDUPDB_RETURN_IF_ERROR(txn->Scan(Table::kFiles, "", [&](std::string_view k, std::string_view v) {
    FileRecord r;
    if (!FileRecord::Decode(v, &r)) {
      problems->push_back({std::string(k), "catalog file record is malformed"});
    } else {
      files.emplace_back(std::string(k), r);
      total += r.size;
    }
    return true;
  }));
  ProgressMeter progress("verify", total + text_bytes_, ProgressMeter::Unit::kBytes, show_progress);
  uint64_t done = 0;
  // 1. Every listed file: present, right size, header and body checksums.
  for (const auto& [rel, rec] : files) {
    std::string path = layout_.Absolute(rel);
    std::unique_ptr<EnvelopedFile> f;
    Status s = EnvelopedFile::Open(env_, path, static_cast<FileKind>(rec.kind), UINT32_MAX, &f);
    if (s.ok() && f->header().body_checksum != rec.body_checksum) {
      s = Status::Corruption(path + ": header checksum field differs from the catalog's record");
    }
    if (s.ok() && kFileHeaderSize + f->header().body_size != rec.size) {
      s = Status::Corruption(path + ": size differs from the catalog's record");
    }
    if (s.ok()) s = f->VerifyBody();
    if (!s.ok()) problems->push_back({path, s.ToString()});
    done += rec.size;
    progress.Update(done);
  }
  // 2. Segment structure and every document's content hash.
  for (const auto& seg : segments_) {
    Status s = seg->CheckOffsets();
    if (!s.ok()) {
      problems->push_back({seg->file().path(), s.ToString()});
      continue;
    }
    for (uint64_t i = 0; i < seg->doc_count(); ++i) {
      uint64_t id = seg->first_doc_id() + i;
      std::string_view v;
      DocRecord r;
      if (!txn->Get(Table::kDocs, U64Key(id), &v).ok() || !DocRecord::Decode(v, &r)) {
        problems->push_back({seg->file().path(), "doc " + std::to_string(id) + " has no valid catalog record"});
        continue;
      }
      std::string_view text = seg->Doc(i);
      if (r.length != text.size() || ContentHash128(text) != r.hash) {
        problems->push_back({seg->file().path(), "doc " + std::to_string(id) + " content hash differs from the catalog"});
      }
      done += text.size();
      progress.Update(done);
    }
  }
  uint64_t doc_records = 0;
  DEDUPDB_RETURN_IF_ERROR(txn->Count(Table::kDocs, &doc_records));
  if (doc_records != num_docs_) {
    problems->push_back({layout_.catalog_dir(), "catalog has " + std::to_string(doc_records) +
                                                    " doc records but segments hold " + std::to_string(num_docs_)});
  }
  progress.Finish();
  return Status::OK();
}

}  // namespace dedupdb
