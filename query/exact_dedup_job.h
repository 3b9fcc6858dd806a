// The whole `dedupdb dedup-exact` job on stores: open the store's suffix-array
// index (and the other store's, in across mode), find the repeated windows
// (query/exact_dedup.h), widen them to whole lines or paragraphs if asked,
// then in one pass over the documents gather per-source statistics and write
// the outputs (binary range list, JSONL range list, deduplicated corpus).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "query/exact_dedup.h"
#include "query/range_list.h"

namespace dedupdb {

class DocStore;
class SuffixArrayIndex;

enum class Granularity { kSpan = 0, kLine = 1, kParagraph = 2 };
const char* GranularityName(Granularity g);
bool ParseGranularity(std::string_view name, Granularity* g);

// Line / paragraph level: a unit is a line (up to and including its '\n') or
// a paragraph (a run of non-blank lines plus the blank lines that follow it).
// A unit whose fraction of removed bytes is > threshold is removed whole;
// every other unit is kept whole. kSpan leaves the ranges as they are.
void WidenToUnits(std::string_view text, const DocRange* first, const DocRange* last, Granularity g,
                  double threshold, uint64_t doc_id, RangeList* out);

// The text of a store's segments as a SuffixCorpus without suffix arrays
// (for the anchors method; runs point into the segment mmaps, `map` must
// outlive the corpus).
void StoreCorpusFromSegments(const DocStore& store, SuffixCorpus* corpus, std::unique_ptr<CorpusMap>* map);

// Builds the SuffixCorpus of an opened SA index (runs point into its mmaps;
// `map` must outlive the corpus).
void SuffixCorpusFromIndex(const SuffixArrayIndex& index, SuffixCorpus* corpus, std::unique_ptr<CorpusMap>* map);

struct ExactDedupJobOptions {
  std::string store_dir;
  std::string index_name = "default";
  std::string across_store;              // empty = self mode
  std::string across_index = "default";
  // tmp_dir empty = a fresh dir under $TMPDIR. dedup.memory_bytes is the
  // whole budget here: up to half of it holds huge-page copies of the shard
  // texts (text_cache_bytes is set by the job), the rest buffers positions.
  ExactDedupOptions dedup;
  Granularity granularity = Granularity::kSpan;
  double threshold = 0.5;
  std::string ranges_path;               // binary kRangeList file (optional)
  std::string ranges_jsonl_path;         // JSONL range list (optional, .zst compresses)
  std::string write_path;                // deduplicated corpus JSONL (optional, .zst compresses)
  bool keep_empty = false;               // --write: keep documents that lost all their text
};

struct SourceStats {
  std::string source;
  uint64_t docs = 0, bytes = 0;
  uint64_t docs_touched = 0, docs_emptied = 0, bytes_removed = 0;
};

struct ExactDedupJobReport {
  ExactDedupStats stats;
  bool token_mode = false;
  uint64_t shards = 0, other_shards = 0;
  uint64_t docs = 0, symbols = 0;
  uint64_t span_ranges = 0, span_symbols_removed = 0;  // before line/paragraph widening
  uint64_t ranges = 0, symbols_removed = 0, docs_touched = 0, docs_emptied = 0;
  uint64_t docs_written = 0, bytes_written = 0;
  std::vector<SourceStats> per_source;  // byte mode only, in order of first appearance
  double find_seconds = 0, output_seconds = 0, seconds = 0;
};

Status RunExactDedupJob(const ExactDedupJobOptions& options, ExactDedupJobReport* report);

}  // namespace dedupdb
