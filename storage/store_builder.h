// Ingest: reads input corpora with DocumentReader and appends documents to a
// store as new segments. Each finished segment is published with one catalog
// commit (StoreWriter::Publish) together with its documents' metadata and the
// per-source progress, so a killed build leaves the store as of the last
// commit; running the same build again resumes after the last committed
// record of each source (sources already complete are skipped).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/env.h"
#include "storage/input_reader.h"

namespace dedupdb {

struct BuildOptions {
  ReaderOptions reader;
  bool dedup_exact = false;                  // store only the first copy of identical docs
  uint64_t segment_bytes = 256ull << 20;     // target text bytes per segment
  // Records per catalog commit (a segment closes early when reached): bounds
  // the dirty pages one LMDB write transaction holds, whatever the doc sizes.
  uint64_t records_per_commit = 1u << 20;
  bool show_progress = false;                // progress bar on stderr
  Env* env = nullptr;                        // nullptr = Env::Default()
};

struct BuildReport {
  uint64_t docs_read = 0;        // records read in this run (after resume skipping)
  uint64_t docs_added = 0;
  uint64_t bytes_added = 0;
  uint64_t exact_duplicates = 0;  // docs whose bytes equal an earlier doc (stored or dropped)
  uint64_t dropped_duplicates = 0;
  uint64_t segments_added = 0;
  uint64_t resumed_records = 0;   // records skipped because a previous run committed them
  uint64_t sources_already_done = 0;
  uint64_t blank_lines = 0;
  uint64_t input_bytes = 0;       // bytes read from disk
  uint64_t decoded_bytes = 0;     // uncompressed input bytes
  double seconds = 0;
  std::vector<SkippedRecord> skipped;
};

Status BuildStore(const std::string& store_dir, const std::vector<std::string>& inputs, const BuildOptions& options,
                  BuildReport* report);

}  // namespace dedupdb
