// Overlap reports: which eval grams were found in a corpus (by a scan or by
// suffix-array lookups), per example and per benchmark set, as JSON, CSV and
// a self-contained HTML page (tables, an inline-SVG bar chart per set, and
// contaminated examples with their matched words highlighted).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "index/eval_index.h"
#include "query/decontaminator.h"

namespace dedupdb {

// Where an example was seen: the first matching document (scan order) or, in
// an index-backed report, the document of the longest verbatim match.
struct DeconExampleEvidence {
  uint64_t doc_order = UINT64_MAX;  // scan order / doc id; UINT64_MAX = none
  std::string doc;                  // document id (external id)
  std::string source;               // file it came from
  std::string snippet;              // matched text around the hit
  uint64_t longest_match_bytes = 0; // index-backed report: longest verbatim match
};

// Accumulates found grams and per-example document counts. One per worker
// thread; Merge() combines them.
class DeconAccumulator {
 public:
  explicit DeconAccumulator(const EvalIndex& index);
  // Records one checked document (doc_order ascends within one scan).
  void Add(const DeconResult& r, uint64_t doc_order, std::string_view doc_id, std::string_view source,
           std::string_view text);
  void MarkGramFound(uint32_t gram) { found_[gram >> 6] |= uint64_t{1} << (gram & 63); }
  bool gram_found(uint32_t gram) const { return (found_[gram >> 6] >> (gram & 63)) & 1; }
  void Merge(const DeconAccumulator& other);
  const EvalIndex& index() const { return *index_; }
  uint64_t docs_for(uint32_t example) const { return docs_[example]; }
  const DeconExampleEvidence& evidence(uint32_t example) const { return evidence_[example]; }
  DeconExampleEvidence& mutable_evidence(uint32_t example) { return evidence_[example]; }
  void AddDocs(uint32_t example, uint64_t n) { docs_[example] += n; }

 private:
  const EvalIndex* index_;
  std::vector<uint64_t> found_;
  std::vector<uint64_t> docs_;
  std::vector<DeconExampleEvidence> evidence_;
};

struct DeconReportOptions {
  // An example counts as contaminated when at least this fraction of its
  // grams was found (0 = any gram, the reference's definition).
  double threshold = 0.0;
  std::string title = "dedupdb decontamination report";
  std::string corpus;             // description of what was scanned
  uint64_t corpus_docs = 0;
  uint64_t corpus_bytes = 0;
  uint64_t flagged_docs = 0;
  double seconds = 0;
  std::string method = "scan";    // "scan" or "suffix-array"
  size_t html_examples_per_set = 20;
};

struct DeconExampleRow {
  uint32_t example;
  uint32_t grams_found;
  uint32_t grams_total;
  double fraction;
  uint64_t docs;
};

struct DeconSetRow {
  std::string name;
  uint32_t set = 0;
  uint64_t examples = 0;
  uint64_t contaminated_any = 0;        // any gram found
  uint64_t contaminated_threshold = 0;  // fraction >= threshold
  double rate_any = 0, rate_threshold = 0;
  double mean_fraction = 0;
};

// The computed report (plain data).
struct DeconReport {
  DeconReportOptions options;
  std::vector<DeconSetRow> sets;
  std::vector<DeconExampleRow> examples;  // every example with >= 1 gram found
};

DeconReport ComputeDeconReport(const DeconAccumulator& acc, const DeconReportOptions& options);

std::string DeconReportJson(const DeconReport& report, const DeconAccumulator& acc);
// CSV: one row per example with any gram found, plus one summary row per set
// (kind column "set" / "example").
std::string DeconReportCsv(const DeconReport& report, const DeconAccumulator& acc);
std::string DeconReportHtml(const DeconReport& report, const DeconAccumulator& acc);

// Words of an example covered by found grams, as byte spans of its text.
std::vector<DeconSpan> ExampleMatchedSpans(const DeconAccumulator& acc, uint32_t example);

}  // namespace dedupdb
