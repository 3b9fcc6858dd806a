// Corpus scan: streams documents (input files through DocumentReader, a
// store through DocStore, or a flat token file as index-sa reads it) through a Decontaminator on worker threads and
// writes, in input order, (a) the flagged documents with matched spans as
// JSONL, (b) optionally a purified corpus (JSONL, .zst if so named), and
// accumulates (c) the overlap report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "query/decon_report.h"
#include "query/decontaminator.h"
#include "storage/env.h"
#include "storage/input_reader.h"
#include "storage/status.h"

namespace dedupdb {

enum class PurifyPolicy {
  kDropDoc,   // flagged documents are left out
  kDropSpan,  // matched spans +- context bytes are cut out (GPT-3: 200 chars)
  kMark,      // every document kept; flagged ones get "decon" metadata
};
bool ParsePurifyPolicy(std::string_view name, PurifyPolicy* policy);
const char* PurifyPolicyName(PurifyPolicy policy);

struct DeconScanOptions {
  std::vector<std::string> inputs;  // files / dirs / globs (DocumentReader)
  std::string store;                // or a store directory
  // Or a token corpus (token-mode eval index): flat little-endian u16/u32 ids
  // (.bin, or .npy with its header), documents ended by `separator` (as
  // `index-sa --tokens`; opened by index/token_file.h). Spans are token
  // positions; --purify writes a .bin of the same width (kept documents /
  // pieces, each ended by the separator).
  std::string token_file;
  unsigned token_bytes = 0;         // 2 or 4; 0 = from the .npy header
  uint64_t separator = 0;
  ReaderOptions reader;
  std::string flagged_out;          // JSONL of flagged docs ("" = none, "-" = stdout)
  std::string purify_out;           // purified corpus ("" = none)
  PurifyPolicy policy = PurifyPolicy::kDropDoc;
  uint64_t context_bytes = 200;     // kDropSpan: removed on each side of a span
  // Documents whose removed fraction would exceed this are dropped whole
  // under kDropSpan (a doc that is mostly benchmark text is not worth keeping).
  double max_removed_fraction = 0.5;
  unsigned threads = 0;             // worker threads; 0 = hardware concurrency
  uint64_t limit = UINT64_MAX;      // stop after this many documents
  bool progress = false;
};

struct DeconScanStats {
  uint64_t docs = 0;
  uint64_t bytes = 0;
  uint64_t flagged_docs = 0;
  uint64_t dropped_docs = 0;    // purify: documents left out
  uint64_t removed_bytes = 0;   // purify: bytes cut (spans or whole docs)
  double seconds = 0;
  unsigned threads = 0;
  std::vector<SkippedRecord> skipped;  // bad input lines under the skip policy
};

// acc must be built over d.index(); it receives every document's result.
Status RunDeconScan(Env* env, const Decontaminator& d, const DeconScanOptions& options, DeconAccumulator* acc,
                    DeconScanStats* stats);

// Cuts spans +- context out of text (the kDropSpan rule), joining the kept
// pieces with a single newline; returns the number of bytes removed.
uint64_t RemoveSpans(std::string_view text, const std::vector<DeconSpan>& spans, uint64_t context, std::string* out);

}  // namespace dedupdb
