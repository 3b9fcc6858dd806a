// Index-backed decontamination report: instead of scanning the corpus, every
// eval example's n-grams are looked up in the store's suffix-array index
// (query/batch_count.h: all lookups of a wave advance in lockstep, each step
// one io_uring batch). A suffix array indexes raw bytes, so the lookups are
// VERBATIM: the gram's original bytes in the example text (words with the
// punctuation and spacing the example has), not the normalised words a scan
// compares. For examples with any gram found, the longest verbatim match
// (query/longest_match.h) gives the document id and a snippet.
#pragma once

#include <cstdint>
#include <string>

#include "index/eval_index.h"
#include "query/decon_report.h"
#include "storage/env.h"
#include "storage/status.h"

namespace dedupdb {

struct DeconSaReportOptions {
  std::string store;
  std::string sa_name = "default";
  size_t batch = 65536;          // grams per BatchCount call
  // Look grams up with binary searches on the memory-mapped index instead of
  // batched reads (faster when the index is in the page cache).
  bool use_mmap = false;
  bool longest_match = true;     // longest verbatim match for examples with hits
  uint64_t min_match_bytes = 50; // shortest span reported as a longest match
  bool progress = false;
};

struct DeconSaReportStats {
  uint64_t grams_looked_up = 0;  // distinct gram strings
  uint64_t grams_found = 0;
  uint64_t examples_matched = 0;
  uint64_t corpus_docs = 0;
  uint64_t corpus_bytes = 0;
  std::string reader;            // io_uring or pread
  double seconds = 0;
};

Status RunDeconSaReport(Env* env, const EvalIndex& index, const DeconSaReportOptions& options, DeconAccumulator* acc,
                        DeconSaReportStats* stats);

}  // namespace dedupdb
