// StoreWriter: exclusive write access to a store and the one publish protocol
// every builder uses (document ingest, suffix arrays, LSH runs, ...):
//
//   1. build files under a staging directory (FileBuilder);
//   2. Publish(): fsync them, rename each into its final place (fresh names,
//      never overwriting a listed file), fsync the directories, then record
//      them - and whatever else the builder changes - in ONE catalog write
//      transaction.
//
// A crash before the commit leaves only unlisted files, which the next
// StoreWriter::Open removes (CollectGarbage). Readers open only listed files,
// so a half-built index never looks valid.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "storage/catalog.h"
#include "storage/env.h"
#include "storage/file_format.h"
#include "storage/layout.h"

namespace dedupdb {

struct StagedFile {
  std::string staged_path;    // absolute path inside the staging dir
  std::string relative_path;  // final path relative to the store root
  FileKind kind = FileKind::kGeneric;
};

class StoreWriter {
 public:
  // Creates the store if create_if_missing. Fails with a clear message if
  // another process holds the store's write lock.
  static Status Open(Env* env, const std::string& dir, bool create_if_missing, std::unique_ptr<StoreWriter>* out);
  ~StoreWriter();

  Env* env() const { return env_; }
  const StoreLayout& layout() const { return layout_; }
  Catalog* catalog() const { return catalog_.get(); }

  // A new empty staging directory (absolute path), removed on destruction.
  Status NewStagingDir(const std::string& build_name, std::string* abs_dir);

  // Moves staged files into place and commits them together with `update`
  // (which may Put/Delete anything else in the same transaction). Files
  // listed in `retire` (relative paths) are unlisted in the same commit and
  // deleted after it.
  Status Publish(const std::vector<StagedFile>& files,
                 const std::function<Status(CatalogWriteTxn*)>& update,
                 const std::vector<std::string>& retire = {});

  // Same protocol with a write transaction the caller has already filled
  // (the ingest writer keeps one open while it fills a segment). Commits or,
  // on failure, aborts txn and removes the moved files.
  Status PublishInTxn(std::unique_ptr<CatalogWriteTxn> txn, const std::vector<StagedFile>& files,
                      const std::vector<std::string>& retire = {});

  // Removes staging leftovers and data files the catalog does not list.
  Status CollectGarbage(uint64_t* files_removed);

 private:
  StoreWriter(Env* env, std::string dir) : env_(env), layout_(std::move(dir)) {}
  Env* env_;
  StoreLayout layout_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<FileLock> lock_;
  std::vector<std::string> staging_dirs_;
};

}  // namespace dedupdb
