// TextOutput: the one sequential text sink for command outputs (JSONL range lists,
// deduplicated corpora) that zstd-compresses when the path ends in ".zst".
// Writes go through Env, to path + ".tmp", renamed into place by Finish(), so
// an interrupted run never leaves a truncated file under the final name.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "storage/env.h"
#include "storage/status.h"

namespace dedupdb {

class TextOutput {
 public:
  static Status Open(Env* env, const std::string& path, std::unique_ptr<TextOutput>* out);
  ~TextOutput();
  Status Append(std::string_view data);
  // Flushes the compressor, syncs, renames into place.
  Status Finish();
  uint64_t bytes_in() const { return bytes_in_; }

 private:
  TextOutput() = default;
  Status Drain(bool end);
  Env* env_ = nullptr;
  std::string path_, tmp_path_;
  std::unique_ptr<WritableFile> file_;
  void* zctx_ = nullptr;  // ZSTD_CCtx*, or null for plain text
  std::string in_buf_, out_buf_;
  uint64_t bytes_in_ = 0;
  bool finished_ = false;
};

}  // namespace dedupdb
