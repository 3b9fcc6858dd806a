// DocumentReader: the one reader of input corpora, used by every command.
//
// Inputs: files, directories (recursed, sorted), glob patterns and "-" for
// stdin. Compression is detected from magic bytes (zstd, gzip), the format
// from the name: *.jsonl, *.json, *.ndjson (optionally .gz/.zst) and stdin are
// JSONL with one object per line, parsed with simdjson; any other file (e.g.
// *.txt, or a license file with no extension) is one plain-text document whose
// id is its path. Directories are read recursively (hidden entries skipped).
//
// Bad input is reported with file, line and byte offset: malformed JSON, a
// missing or non-string text field, non-UTF-8 bytes, NUL bytes, a truncated
// compressed stream, an empty file. BadInputPolicy::kFail stops at the first
// problem; kSkip records it in skipped() and carries on.
//
// Compressed inputs are decompressed on a second thread, ahead of parsing.
// zstd and gzip check their checksums at the end of a frame/member: records
// decoded before a corrupt region is detected there may already have been
// returned (and, by `build`, committed). Test suspicious archives first
// (`zstd -t`, `gzip -t`).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/env.h"
#include "storage/status.h"

namespace dedupdb {

enum class BadInputPolicy { kFail, kSkip };

struct ReaderOptions {
  std::string text_field = "text";
  std::string id_field = "id";
  BadInputPolicy policy = BadInputPolicy::kFail;
  // The text field holds an array of token ids (integers 0..2^32-1) instead
  // of a string (pre-tokenized eval sets); record.text is then the ids as
  // little-endian u32s.
  bool token_array = false;
  // Records to skip at the start of a given source (resume support): the
  // builder sets this per file through DocumentReader::SkipRecords.
};

struct InputRecord {
  std::string_view external_id;  // id field (numbers as their JSON text); "<file>:<line>" if absent
  std::string_view text;
  const std::string* source = nullptr;  // path of the input ("<stdin>" for stdin)
  uint64_t line = 0;                    // 1-based line number (record number for .txt: 1)
  uint64_t byte_offset = 0;             // offset of the line in the uncompressed stream
};

struct SkippedRecord {
  std::string source;
  uint64_t line = 0;
  uint64_t byte_offset = 0;
  std::string reason;
};

class DocumentReader {
 public:
  // Expands inputs (dirs, globs) eagerly; fails if an input does not exist or
  // a glob matches nothing.
  static Status Open(Env* env, const std::vector<std::string>& inputs, const ReaderOptions& options,
                     std::unique_ptr<DocumentReader>* out);
  virtual ~DocumentReader() = default;

  // Next record; *done = true at the end of all inputs. Views in *record stay
  // valid until the next call.
  virtual Status Next(InputRecord* record, bool* done) = 0;

  // The expanded list of input files, in reading order.
  virtual const std::vector<std::string>& files() const = 0;
  // Index into files() of the file being read.
  virtual size_t current_file() const = 0;
  // Skip the current file's remaining records (resume: already ingested).
  virtual void SkipRestOfFile() = 0;
  virtual const std::vector<SkippedRecord>& skipped() const = 0;
  virtual uint64_t blank_lines() const = 0;
  // Bytes read from disk so far (compressed size for compressed inputs) and
  // the total over all files (0 for stdin), for progress and ETA.
  virtual uint64_t input_bytes_read() const = 0;
  virtual uint64_t input_bytes_total() const = 0;
  // Uncompressed bytes consumed so far.
  virtual uint64_t decoded_bytes() const = 0;
};

// Expands directories and globs into a sorted file list ("-" kept as is).
Status ExpandInputs(Env* env, const std::vector<std::string>& inputs, std::vector<std::string>* files);

}  // namespace dedupdb
