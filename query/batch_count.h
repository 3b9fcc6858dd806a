// Batch `count`: thousands of queries answered with the binary searches of
// all queries across all shards in flight at once. Every search's probes (a
// suffix-array entry, then the text it points at) are submitted to one
// pipelined BatchReader (io_uring, pread fallback) as soon as they are known,
// and each completion immediately advances the searches waiting on it, so on
// a cold index the time is bounded by device IOPS instead of one read
// latency after another, with no barrier per search level. Identical probes
// (the top of every binary search is shared by all queries; a query's lower-
// and upper-bound searches coincide until they split) are read once.
//
// Reads go through RandomAccessFile on the index's published files, never the
// memory maps, so the page cache state is what a cold reader sees.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "index/suffix_array.h"
#include "storage/env.h"
#include "storage/status.h"

namespace dedupdb {

struct BatchCountOptions {
  Env* env = nullptr;              // nullptr = Env::Default()
  unsigned queue_depth = 256;      // reads in flight (io_uring ring size)
  bool prefer_io_uring = true;     // false: the pread BatchReader
  size_t queries_per_wave = 16384; // queries searched together (bounds buffer memory)
  bool no_readahead = true;        // probes are scattered: read only the pages they touch
  // Planner: a shard's text is read front to back into memory, and its text
  // probes answered from there, when the wave's probes are expected to touch
  // more than text_scan_fraction of its pages (a random 4 KiB read costs
  // about as much device time as 4 pages of sequential reading: 67k IOPS vs
  // 1.2 GB/s measured on the development disk) and the texts so read fit in
  // text_scan_memory bytes. 0 disables. At 10^12 scale (GB-sized shards)
  // batches of thousands touch a few percent of the pages and stay random.
  uint64_t text_scan_memory = 2ull << 30;
  double text_scan_fraction = 0.25;
  uint64_t text_scan_chunk = 4u << 20;  // bytes per scan read (4 in flight)
  // Called after each wave with the number of queries answered so far.
  std::function<void(size_t)> progress;
};

struct BatchCountStats {
  std::string reader;       // "io_uring" or "pread"
  uint64_t reads = 0;       // reads issued (after de-duplication)
  uint64_t probes = 0;      // probes requested (before de-duplication)
  uint64_t batches = 0;     // ReadBatch calls
  uint64_t bytes_read = 0;
  uint64_t text_scanned_bytes = 0;  // shard texts read front to back by the planner
};

// counts[i] = occurrences of queries[i] summed over shards (same answer as
// SaShard::FindRange). Each query must be valid for the index
// (ValidateQuery); an invalid one fails the call naming its index.
Status BatchCount(const SuffixArrayIndex& index, const std::vector<std::string>& queries,
                  const BatchCountOptions& options, std::vector<uint64_t>* counts, BatchCountStats* stats);

// Baseline: the same searches one query at a time, one pread per probe;
// no_readahead as in BatchCountOptions (the kernel's read-ahead can help a
// lone search: the neighbours it fetches are often its next probes).
Status SequentialPreadCount(const SuffixArrayIndex& index, const std::vector<std::string>& queries, Env* env,
                            bool no_readahead, std::vector<uint64_t>* counts, BatchCountStats* stats);

}  // namespace dedupdb
