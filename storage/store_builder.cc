// Ingest (see store_builder.h for the commit/resume protocol).
#include "storage/store_builder.h"

#include <chrono>
#include <cstring>
#include <map>

#include "storage/checksum.h"
#include "storage/progress.h"
#include "storage/segment.h"
#include "storage/store_records.h"
#include "storage/store_writer.h"

namespace dedupdb {
namespace {

constexpr const char* kStdinName = "<stdin>";

class Ingest {
 public:
  Ingest(const BuildOptions& options, BuildReport* report) : options_(options), report_(report) {}

  Status Run(const std::string& dir, const std::vector<std::string>& inputs) {
    env_ = options_.env ? options_.env : Env::Default();
    DEDUPDB_RETURN_IF_ERROR(DocumentReader::Open(env_, inputs, options_.reader, &reader_));
    DEDUPDB_RETURN_IF_ERROR(StoreWriter::Open(env_, dir, true, &writer_));
    DEDUPDB_RETURN_IF_ERROR(writer_->NewStagingDir("ingest", &staging_));
    DEDUPDB_RETURN_IF_ERROR(LoadState());
    DEDUPDB_RETURN_IF_ERROR(writer_->catalog()->BeginWrite(&txn_));

    ProgressMeter progress("build", reader_->input_bytes_total(), ProgressMeter::Unit::kBytes, options_.show_progress);
    Status s = Loop(&progress);
    if (s.ok()) s = Commit(/*all_done=*/true);
    progress.Finish();
    if (!s.ok()) {
      if (segment_) segment_->Abandon();
      if (txn_) txn_->Abort();
      return s;
    }
    report_->skipped = reader_->skipped();
    report_->blank_lines = reader_->blank_lines();
    report_->input_bytes = reader_->input_bytes_read();
    report_->decoded_bytes = reader_->decoded_bytes();
    return Status::OK();
  }

 private:
  struct Source {
    uint64_t id;
    SourceRecord rec;
    bool dirty = false;
  };

  Status LoadState() {
    std::unique_ptr<CatalogReadTxn> txn;
    DEDUPDB_RETURN_IF_ERROR(writer_->catalog()->BeginRead(&txn));
    auto get = [&](const char* key, uint64_t* v) {
      Status s = txn->GetU64(Table::kMeta, key, v);
      if (s.IsNotFound()) {
        *v = 0;
        return Status::OK();
      }
      return s;
    };
    DEDUPDB_RETURN_IF_ERROR(get(meta::kNextDocId, &next_doc_));
    DEDUPDB_RETURN_IF_ERROR(get(meta::kNextSegmentId, &next_segment_));
    DEDUPDB_RETURN_IF_ERROR(get(meta::kNextSourceId, &next_source_));
    DEDUPDB_RETURN_IF_ERROR(get(meta::kExactDupDocs, &dup_docs_));
    DEDUPDB_RETURN_IF_ERROR(get(meta::kExactDupBytes, &dup_bytes_));
    DEDUPDB_RETURN_IF_ERROR(get(meta::kDroppedDocs, &dropped_));
    DEDUPDB_RETURN_IF_ERROR(get(meta::kTextBytes, &text_bytes_));
    Status bad;
    DEDUPDB_RETURN_IF_ERROR(txn->Scan(Table::kSources, "", [&](std::string_view k, std::string_view v) {
      Source src;
      src.id = U64FromKey(k);
      if (!SourceRecord::Decode(v, &src.rec)) {
        bad = Status::Corruption("catalog source record " + std::to_string(src.id) + " is malformed");
        return false;
      }
      if (src.rec.path != kStdinName) sources_by_path_[src.rec.path] = sources_.size();
      sources_.push_back(std::move(src));
      return true;
    }));
    return bad;
  }

  // Called when the reader moves to a new file: find or create its source.
  Status EnterFile(size_t file_index) {
    if (have_file_) sources_[cur_source_].rec.complete = true, sources_[cur_source_].dirty = true;
    have_file_ = true;
    cur_file_ = file_index;
    resume_after_ = 0;
    const std::string& path = reader_->files()[file_index];
    FileInfo fi;
    if (path != "-") DEDUPDB_RETURN_IF_ERROR(env_->GetFileInfo(path, &fi));
    auto it = path == "-" ? sources_by_path_.end() : sources_by_path_.find(path);
    if (it != sources_by_path_.end()) {
      Source& src = sources_[it->second];
      if (src.rec.size != fi.size || src.rec.mtime_ns != fi.mtime_ns) {
        return Status::InvalidArgument(path + ": was ingested into this store before (" +
                                       std::to_string(src.rec.records_done) +
                                       " records) and has changed since; give the new version another name");
      }
      cur_source_ = it->second;
      if (src.rec.complete) {
        ++report_->sources_already_done;
        have_file_ = false;  // nothing to mark
        reader_->SkipRestOfFile();
        return Status::OK();
      }
      resume_after_ = src.rec.records_done;
      return Status::OK();
    }
    Source src;
    src.id = next_source_++;
    src.rec.path = path == "-" ? kStdinName : path;  // stdin is never resumed
    src.rec.size = fi.size;
    src.rec.mtime_ns = fi.mtime_ns;
    src.dirty = true;
    cur_source_ = sources_.size();
    if (path != "-") sources_by_path_[path] = sources_.size();
    sources_.push_back(std::move(src));
    return Status::OK();
  }

  Status Loop(ProgressMeter* progress) {
    InputRecord rec;
    size_t last_file = SIZE_MAX;
    while (true) {
      bool done = false;
      DEDUPDB_RETURN_IF_ERROR(reader_->Next(&rec, &done));
      if (done) return Status::OK();
      if (reader_->current_file() != last_file) {
        last_file = reader_->current_file();
        DEDUPDB_RETURN_IF_ERROR(EnterFile(last_file));
        if (!have_file_) continue;  // already ingested completely
      }
      if (rec.line <= resume_after_) {
        ++report_->resumed_records;
        continue;
      }
      DEDUPDB_RETURN_IF_ERROR(AddRecord(rec));
      progress->Update(reader_->input_bytes_read(), report_->docs_read, "docs");
    }
  }

  Status AddRecord(const InputRecord& rec) {
    ++report_->docs_read;
    if (records_in_txn_ >= options_.records_per_commit) DEDUPDB_RETURN_IF_ERROR(Commit(false));
    ++records_in_txn_;
    Source& src = sources_[cur_source_];
    src.rec.records_done = rec.line;
    src.dirty = true;
    Hash128 hash = ContentHash128(rec.text);
    char hkey[16];
    std::memcpy(hkey, &hash.lo, 8);
    std::memcpy(hkey + 8, &hash.hi, 8);
    std::string_view first;
    uint64_t duplicate_of = UINT64_MAX;
    Status s = txn_->Get(Table::kHashes, std::string_view(hkey, 16), &first);
    if (s.ok()) {
      duplicate_of = U64FromKey(first);
    } else if (!s.IsNotFound()) {
      return s;
    }
    if (duplicate_of != UINT64_MAX) {
      ++report_->exact_duplicates;
      if (options_.dedup_exact) {
        DroppedRecord d{src.id, rec.line, duplicate_of, rec.external_id};
        DEDUPDB_RETURN_IF_ERROR(txn_->Put(Table::kDropped, U64Key(dropped_), d.Encode()));
        ++dropped_;
        ++report_->dropped_duplicates;
        return Status::OK();
      }
      ++dup_docs_;
      dup_bytes_ += rec.text.size();
    }
    if (!segment_) {
      seg_staged_ = JoinPath(staging_, "seg-" + std::to_string(next_segment_) + ".tmp");
      DEDUPDB_RETURN_IF_ERROR(SegmentWriter::Create(env_, seg_staged_, next_segment_, next_doc_, &segment_));
      seg_first_doc_ = next_doc_;
    }
    uint64_t doc_id = next_doc_++;
    DEDUPDB_RETURN_IF_ERROR(segment_->Add(rec.text));
    DocRecord d;
    d.source_id = src.id;
    d.line = rec.line;
    d.length = rec.text.size();
    d.hash = hash;
    d.duplicate_of = duplicate_of;
    d.external_id = rec.external_id;
    std::string key = U64Key(doc_id);
    DEDUPDB_RETURN_IF_ERROR(txn_->Put(Table::kDocs, key, d.Encode()));
    DEDUPDB_RETURN_IF_ERROR(txn_->Put(Table::kExtIds, rec.external_id.empty() ? std::string_view("\0", 1) : rec.external_id, key));
    if (duplicate_of == UINT64_MAX) DEDUPDB_RETURN_IF_ERROR(txn_->Put(Table::kHashes, std::string_view(hkey, 16), key));
    ++report_->docs_added;
    report_->bytes_added += rec.text.size();
    text_bytes_ += rec.text.size();
    if (segment_->text_bytes() >= options_.segment_bytes) return Commit(false);
    return Status::OK();
  }

  // Publishes the open segment (if any) with everything else in the txn.
  Status Commit(bool all_done) {
    if (all_done && have_file_) {
      sources_[cur_source_].rec.complete = true;
      sources_[cur_source_].dirty = true;
    }
    std::vector<StagedFile> files;
    if (segment_) {
      DEDUPDB_RETURN_IF_ERROR(segment_->Finish());
      SegmentRecord r;
      r.first_doc = seg_first_doc_;
      r.doc_count = segment_->doc_count();
      r.text_bytes = segment_->text_bytes();
      r.relative_path = StoreLayout::SegmentFile(next_segment_);
      DEDUPDB_RETURN_IF_ERROR(txn_->Put(Table::kSegments, U64Key(next_segment_), r.Encode()));
      files.push_back(StagedFile{seg_staged_, r.relative_path, FileKind::kSegment});
      ++next_segment_;
      ++report_->segments_added;
    }
    for (Source& src : sources_) {
      if (!src.dirty) continue;
      DEDUPDB_RETURN_IF_ERROR(txn_->Put(Table::kSources, U64Key(src.id), src.rec.Encode()));
      src.dirty = false;
    }
    DEDUPDB_RETURN_IF_ERROR(txn_->PutU64(Table::kMeta, meta::kNextDocId, next_doc_));
    DEDUPDB_RETURN_IF_ERROR(txn_->PutU64(Table::kMeta, meta::kNextSegmentId, next_segment_));
    DEDUPDB_RETURN_IF_ERROR(txn_->PutU64(Table::kMeta, meta::kNextSourceId, next_source_));
    DEDUPDB_RETURN_IF_ERROR(txn_->PutU64(Table::kMeta, meta::kExactDupDocs, dup_docs_));
    DEDUPDB_RETURN_IF_ERROR(txn_->PutU64(Table::kMeta, meta::kExactDupBytes, dup_bytes_));
    DEDUPDB_RETURN_IF_ERROR(txn_->PutU64(Table::kMeta, meta::kDroppedDocs, dropped_));
    DEDUPDB_RETURN_IF_ERROR(txn_->PutU64(Table::kMeta, meta::kTextBytes, text_bytes_));
    segment_.reset();
    records_in_txn_ = 0;
    DEDUPDB_RETURN_IF_ERROR(writer_->PublishInTxn(std::move(txn_), files));
    if (!all_done) DEDUPDB_RETURN_IF_ERROR(writer_->catalog()->BeginWrite(&txn_));
    return Status::OK();
  }

  const BuildOptions& options_;
  BuildReport* report_;
  Env* env_ = nullptr;
  std::unique_ptr<DocumentReader> reader_;
  std::unique_ptr<StoreWriter> writer_;
  std::unique_ptr<CatalogWriteTxn> txn_;
  std::string staging_;
  std::unique_ptr<SegmentWriter> segment_;
  std::string seg_staged_;
  uint64_t seg_first_doc_ = 0;
  uint64_t next_doc_ = 0, next_segment_ = 0, next_source_ = 0;
  uint64_t dup_docs_ = 0, dup_bytes_ = 0, dropped_ = 0, text_bytes_ = 0;
  std::vector<Source> sources_;
  std::map<std::string, size_t> sources_by_path_;
  bool have_file_ = false;
  size_t cur_file_ = 0, cur_source_ = 0;
  uint64_t resume_after_ = 0;
  uint64_t records_in_txn_ = 0;
};

}  // namespace

Status BuildStore(const std::string& store_dir, const std::vector<std::string>& inputs, const BuildOptions& options,
                  BuildReport* report) {
  *report = BuildReport();
  auto start = std::chrono::steady_clock::now();
  Ingest ingest(options, report);
  Status s = ingest.Run(store_dir, inputs);
  report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

}  // namespace dedupdb
