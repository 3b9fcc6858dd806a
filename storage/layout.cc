#include "storage/layout.h"

#include <cstdio>

#include "storage/env.h"

namespace dedupdb {

StoreLayout::StoreLayout(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string StoreLayout::Absolute(std::string_view relative) const { return JoinPath(root_, relative); }
std::string StoreLayout::lock_file() const { return JoinPath(root_, "LOCK"); }
std::string StoreLayout::catalog_dir() const { return JoinPath(root_, "catalog"); }
std::string StoreLayout::staging_root() const { return JoinPath(root_, "staging"); }
std::string StoreLayout::StagingDir(std::string_view build_name) const {
  return JoinPath("staging", build_name);
}

std::string StoreLayout::SegmentFile(uint64_t segment_id) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "segments/seg-%08llu.dds", static_cast<unsigned long long>(segment_id));
  return buf;
}

std::string StoreLayout::IndexDir(std::string_view family, std::string_view name, uint64_t generation) {
  return std::string(family) + "/" + std::string(name) + "/g" + std::to_string(generation);
}

const char* const* StoreLayout::DataDirs() {
  static const char* const kDirs[] = {"segments", "sa", "lsh", "decon", "dedup", nullptr};
  return kDirs;
}

}  // namespace dedupdb
