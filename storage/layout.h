// StoreLayout: the one place that owns where files live inside a store
// directory. Nothing else builds store paths by hand.
//
//   STORE/
//     LOCK                       flock()ed by the single writer
//     catalog/                   LMDB environment (data.mdb, lock.mdb)
//     segments/seg-<id:08>.dds   document segments
//     sa/<name>/<gen>/...        suffix-array shards of index <name>
//     lsh/<name>/<gen>/...       MinHash signatures and LSH bucket runs
//     decon/<name>/<gen>/...     decontamination indexes
//     staging/<build>/           files being built; never read by queries
//
// Catalog entries store paths relative to STORE so a store can be moved.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dedupdb {

class StoreLayout {
 public:
  explicit StoreLayout(std::string root);
  const std::string& root() const { return root_; }

  std::string Absolute(std::string_view relative) const;
  std::string lock_file() const;
  std::string catalog_dir() const;
  std::string staging_root() const;
  // A fresh staging directory name for one build (relative path).
  std::string StagingDir(std::string_view build_name) const;

  // Relative paths of published files.
  static std::string SegmentFile(uint64_t segment_id);
  // Directory of generation `gen` of a derived index: "<family>/<name>/g<gen>".
  // family is "sa", "lsh" or "decon".
  static std::string IndexDir(std::string_view family, std::string_view name, uint64_t generation);
  // Top-level directories that hold published data (garbage collection scans these).
  static const char* const* DataDirs();  // null-terminated list

 private:
  std::string root_;
};

}  // namespace dedupdb
