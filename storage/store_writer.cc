#include "storage/store_writer.h"

#include <unistd.h>

#include <atomic>
#include <set>

#include "storage/coding.h"
#include "storage/store_records.h"

namespace dedupdb {

Status StoreWriter::Open(Env* env, const std::string& dir, bool create_if_missing, std::unique_ptr<StoreWriter>* out) {
  if (env == nullptr) env = Env::Default();
  std::unique_ptr<StoreWriter> w(new StoreWriter(env, dir));
  const StoreLayout& layout = w->layout_;
  bool exists = env->FileExists(layout.catalog_dir() + "/data.mdb");
  if (!exists && !create_if_missing) return Status::NotFound(dir + ": no dedupdb store here");
  DEDUPDB_RETURN_IF_ERROR(env->CreateDirs(dir));
  DEDUPDB_RETURN_IF_ERROR(env->LockFile(layout.lock_file(), &w->lock_));
  DEDUPDB_RETURN_IF_ERROR(Catalog::Open(env, layout.catalog_dir(), true, false, &w->catalog_));

  std::unique_ptr<CatalogWriteTxn> txn;
  DEDUPDB_RETURN_IF_ERROR(w->catalog_->BeginWrite(&txn));
  uint64_t version;
  Status s = txn->GetU64(Table::kMeta, meta::kFormatVersion, &version);
  if (s.IsNotFound()) {
    DEDUPDB_RETURN_IF_ERROR(txn->PutU64(Table::kMeta, meta::kFormatVersion, kStoreFormatVersion));
    DEDUPDB_RETURN_IF_ERROR(txn->Commit());
  } else {
    txn->Abort();
    DEDUPDB_RETURN_IF_ERROR(s);
    if (version > kStoreFormatVersion) {
      return Status::NotSupported(dir + ": store format version " + std::to_string(version) +
                                  " is newer than this dedupdb (" + std::to_string(kStoreFormatVersion) + ")");
    }
  }
  uint64_t removed = 0;
  DEDUPDB_RETURN_IF_ERROR(w->CollectGarbage(&removed));
  *out = std::move(w);
  return Status::OK();
}

StoreWriter::~StoreWriter() {
  for (const auto& d : staging_dirs_) env_->RemoveTree(d);
}

Status StoreWriter::NewStagingDir(const std::string& build_name, std::string* abs_dir) {
  static std::atomic<uint64_t> counter{0};
  std::string name = build_name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  *abs_dir = layout_.Absolute(layout_.StagingDir(name));
  DEDUPDB_RETURN_IF_ERROR(env_->RemoveTree(*abs_dir));
  DEDUPDB_RETURN_IF_ERROR(env_->CreateDirs(*abs_dir));
  staging_dirs_.push_back(*abs_dir);
  return Status::OK();
}

Status StoreWriter::Publish(const std::vector<StagedFile>& files,
                            const std::function<Status(CatalogWriteTxn*)>& update,
                            const std::vector<std::string>& retire) {
  std::unique_ptr<CatalogWriteTxn> txn;
  DEDUPDB_RETURN_IF_ERROR(catalog_->BeginWrite(&txn));
  if (update) {
    Status s = update(txn.get());
    if (!s.ok()) {
      txn->Abort();
      return s;
    }
  }
  return PublishInTxn(std::move(txn), files, retire);
}

Status StoreWriter::PublishInTxn(std::unique_ptr<CatalogWriteTxn> txn, const std::vector<StagedFile>& files,
                                 const std::vector<std::string>& retire) {
  std::vector<std::string> moved;
  auto fail = [&](const Status& s) {
    txn->Abort();
    for (const auto& p : moved) env_->RemoveFile(p);
    return s;
  };
  std::set<std::string> dirs;
  for (const StagedFile& f : files) {
    // Record what the envelope says, after checking it is complete.
    std::unique_ptr<RandomAccessFile> raf;
    Status s = env_->NewRandomAccessFile(f.staged_path, &raf);
    if (!s.ok()) return fail(s);
    char hdr[kFileHeaderSize];
    size_t got = 0;
    s = raf->Read(0, kFileHeaderSize, hdr, &got);
    FileHeader h;
    if (s.ok()) s = FileHeader::DecodeFrom(hdr, got, f.staged_path, &h);
    if (s.ok() && raf->Size() != kFileHeaderSize + h.body_size) {
      s = Status::Corruption(f.staged_path + ": staged file size does not match its header");
    }
    if (!s.ok()) return fail(s);
    raf.reset();
    std::string final_path = layout_.Absolute(f.relative_path);
    if (env_->FileExists(final_path)) {
      return fail(Status::InvalidArgument(final_path + ": refusing to overwrite a published file"));
    }
    std::string dir = DirName(final_path);
    s = env_->CreateDirs(dir);
    if (s.ok()) s = env_->RenameFile(f.staged_path, final_path);
    if (!s.ok()) return fail(s);
    moved.push_back(final_path);
    dirs.insert(dir);
    FileRecord rec;
    rec.kind = static_cast<uint16_t>(h.kind);
    rec.size = kFileHeaderSize + h.body_size;
    rec.body_checksum = h.body_checksum;
    s = txn->Put(Table::kFiles, f.relative_path, rec.Encode());
    if (!s.ok()) return fail(s);
  }
  for (const auto& d : dirs) {
    Status s = env_->SyncDir(d);
    if (!s.ok()) return fail(s);
  }
  for (const auto& r : retire) {
    Status s = txn->Delete(Table::kFiles, r);
    if (!s.ok()) return fail(s);
  }
  Status s = txn->Commit();
  if (!s.ok()) {
    for (const auto& p : moved) env_->RemoveFile(p);
    return s;
  }
  for (const auto& r : retire) env_->RemoveFile(layout_.Absolute(r));
  return Status::OK();
}

Status StoreWriter::CollectGarbage(uint64_t* files_removed) {
  *files_removed = 0;
  DEDUPDB_RETURN_IF_ERROR(env_->RemoveTree(layout_.staging_root()));
  std::set<std::string> listed;
  {
    std::unique_ptr<CatalogReadTxn> txn;
    DEDUPDB_RETURN_IF_ERROR(catalog_->BeginRead(&txn));
    DEDUPDB_RETURN_IF_ERROR(txn->Scan(Table::kFiles, "", [&](std::string_view k, std::string_view) {
      listed.emplace(k);
      return true;
    }));
  }
  // Walk each data directory; anything not listed was left by a crash.
  std::function<Status(const std::string&)> walk = [&](const std::string& rel) -> Status {
    std::string abs = layout_.Absolute(rel);
    if (!env_->FileExists(abs)) return Status::OK();
    std::vector<FileInfo> entries;
    DEDUPDB_RETURN_IF_ERROR(env_->ListDir(abs, &entries));
    for (const auto& e : entries) {
      std::string child = rel + "/" + e.name;
      if (e.is_directory) {
        DEDUPDB_RETURN_IF_ERROR(walk(child));
      } else if (listed.count(child) == 0) {
        DEDUPDB_RETURN_IF_ERROR(env_->RemoveFile(layout_.Absolute(child)));
        ++*files_removed;
      }
    }
    return Status::OK();
  };
  for (const char* const* d = StoreLayout::DataDirs(); *d != nullptr; ++d) DEDUPDB_RETURN_IF_ERROR(walk(*d));
  return Status::OK();
}

}  // namespace dedupdb
