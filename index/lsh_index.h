// On-disk MinHash LSH index of a store (docs/format.md, "MinHash signatures
// and LSH buckets").
//
// An index is a list of RUNS, each covering a contiguous doc-id range
// [first_doc, first_doc + doc_count) and made of two enveloped files in
// StoreLayout::IndexDir("lsh", name, generation):
//   sigs-<first_doc>.mhs     (kMinHashSigs)  u32 signature[doc_count][K]
//   buckets-<first_doc>.lsb  (kLshBuckets)   per band, (key u64, doc u40)
//                                            entries sorted by key then doc
// The manifest (catalog table indexes, key "lsh/<name>") holds the
// parameters and the run list; building publishes the new run's files and the
// new manifest in one catalog commit (StoreWriter::Publish). Documents added
// to the store later become a new run (incremental); CompactLshIndex merges
// all runs into one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "index/lsh_params.h"
#include "index/minhash.h"
#include "storage/doc_store.h"
#include "storage/file_format.h"

namespace dedupdb {

// Signatures version 2 / buckets version 3 / manifest version 3: the word
// hash changed (text_normalize.h, HashWord), so older signatures and buckets
// are rejected (`index-lsh` rebuilds such an index).
constexpr uint32_t kMinHashSigsVersion = 2;
// Buckets version 2: 40-bit doc ids in bucket entries (version 1 had 32-bit
// ones).
constexpr uint32_t kLshBucketsVersion = 3;
constexpr uint32_t kLshManifestVersion = 3;
// A run holds at most 2^40 docs (10^12: one run can cover any store).
constexpr uint64_t kMaxLshRunDocs = uint64_t{1} << 40;

// One bucket entry as stored: 13 bytes, packed; the doc id relative to the
// run's first_doc is 40 bits (low 32 + high 8) so that billions of docs fit
// at 1 byte more than a 32-bit id.
#pragma pack(push, 1)
struct LshEntry {
  uint64_t key;
  uint32_t doc_lo;
  uint8_t doc_hi;
  static LshEntry Make(uint64_t key, uint64_t doc) {
    return LshEntry{key, static_cast<uint32_t>(doc), static_cast<uint8_t>(doc >> 32)};
  }
  uint64_t doc() const { return doc_lo | (uint64_t{doc_hi} << 32); }
  bool operator<(const LshEntry& o) const { return key != o.key ? key < o.key : doc() < o.doc(); }
};
#pragma pack(pop)
static_assert(sizeof(LshEntry) == 13);

// Sorts bucket entries by (key, doc): the build's in-memory sort (a radix
// sort on the keys' top bits; exposed for tests).
void SortLshEntries(std::vector<LshEntry>* entries);

// K-way merge of one band over runs: yields (key, absolute doc id) in key
// order, docs ascending within a key (runs are disjoint doc ranges). Used by
// compaction and by batch near-dedup.
class LshBandMerger {
 public:
  struct Source {
    const LshEntry* begin;
    const LshEntry* end;
    uint64_t first_doc;  // added to the entries' relative doc ids
  };
  explicit LshBandMerger(std::vector<Source> sources);
  // False at the end.
  bool Next(uint64_t* key, uint64_t* doc) {
    if (heap_.size() != 1) return NextFromHeap(key, doc);
    // One run left (the common compacted case): no heap work, inlined.
    Head& h = heap_[0];
    *key = h.key;
    *doc = h.doc;
    Source& s = src_[h.src];
    if (s.begin == s.end) {
      heap_.clear();
    } else {
      h.key = s.begin->key;
      h.doc = s.first_doc + s.begin->doc();
      ++s.begin;
    }
    return true;
  }

 private:
  struct Head {
    uint64_t key, doc;
    size_t src;
    bool operator<(const Head& o) const { return key != o.key ? key > o.key : doc > o.doc; }  // min-heap
  };
  void Push(size_t src);
  bool NextFromHeap(uint64_t* key, uint64_t* doc);
  std::vector<Source> src_;
  std::vector<Head> heap_;
};

// Band key of band j: XXH3-64 of the band's r u32 values (little-endian),
// seeded with j.
uint64_t LshBandKey(const uint32_t* sig, unsigned band, unsigned rows);

struct LshRunInfo {
  uint64_t first_doc = 0;
  uint64_t doc_count = 0;
  std::string sig_path;     // relative to the store root
  std::string bucket_path;  // relative to the store root
};

struct LshManifest {
  unsigned num_perm = 128;
  uint64_t seed = 1;
  ShingleOptions shingles;
  LshBands bands;
  double threshold = 0.8;
  uint64_t generation = 0;
  std::vector<LshRunInfo> runs;
  // Format version the index was written with (Decode accepts 1 so that
  // index-lsh can rebuild an old index; LshIndex::Open requires the current).
  uint32_t format_version = kLshManifestVersion;

  uint64_t indexed_docs() const { return runs.empty() ? 0 : runs.back().first_doc + runs.back().doc_count; }
  std::string Encode() const;
  static Status Decode(std::string_view in, LshManifest* out);
  static std::string CatalogKey(std::string_view name) { return "lsh/" + std::string(name); }
};

// An opened index: every run's files memory-mapped and header-checked.
class LshIndex {
 public:
  struct Run {
    LshRunInfo info;
    std::unique_ptr<EnvelopedFile> sigs;
    std::unique_ptr<EnvelopedFile> buckets;
    uint64_t entries_per_band = 0;
    const uint32_t* sig_data = nullptr;
    const char* bucket_data = nullptr;
    const LshEntry* Band(unsigned j) const {
      return reinterpret_cast<const LshEntry*>(bucket_data + j * entries_per_band * sizeof(LshEntry));
    }
  };

  static Status Open(const DocStore& store, const std::string& name, std::unique_ptr<LshIndex>* out);
  const LshManifest& manifest() const { return manifest_; }
  unsigned num_perm() const { return manifest_.num_perm; }
  const MinHashPermutations& permutations() const { return *perms_; }
  size_t num_runs() const { return runs_.size(); }
  const Run& run(size_t i) const { return *runs_[i]; }
  uint64_t indexed_docs() const { return manifest_.indexed_docs(); }
  // Stored signature of an indexed doc (nullptr if not indexed).
  const uint32_t* Signature(uint64_t doc_id) const;
  // Calls fn(doc_id) for every doc whose band j key equals key, all runs.
  void Lookup(unsigned band, uint64_t key, const std::function<void(uint64_t)>& fn) const;
  // The merge of band j over all runs.
  LshBandMerger MergeBand(unsigned band) const;

 private:
  LshManifest manifest_;
  std::unique_ptr<MinHashPermutations> perms_;
  std::vector<std::unique_ptr<Run>> runs_;
};

// Reads the manifest of index `name` (NotFound if there is none).
Status ReadLshManifest(Catalog* catalog, const std::string& name, LshManifest* out);

struct LshBuildOptions {
  std::string name = "default";
  double threshold = 0.8;
  unsigned num_perm = 128;
  uint64_t seed = 1;
  ShingleOptions shingles;
  LshBands bands;                     // 0 x 0 = choose from threshold
  double fn_weight = 0.5;             // band choice: weight of false negatives (false positives: 1 - it)
  uint64_t memory_bytes = 2ull << 30; // budget for the bucket sort buffers
  unsigned threads = 1;
  bool show_progress = false;
  Env* env = nullptr;
};

struct LshBuildReport {
  bool created = false;       // a new index (vs. a run appended to an existing one)
  bool upgraded = false;      // an old-format index was rebuilt
  LshManifest manifest;       // as published
  uint64_t docs_indexed = 0;  // docs of the new run
  uint64_t empty_docs = 0;    // docs with no shingles (not put in buckets)
  uint64_t text_bytes = 0;
  uint64_t spill_files = 0;
  double signature_seconds = 0;  // shingling + MinHash + signature file writes (wall)
  double bucket_seconds = 0;     // band keys, external sort and bucket file body
  double sync_seconds = 0;       // file Finish (fsync) + catalog publish
  // Process CPU time (all threads) of the signature and bucket phases: the
  // per-core cost, insensitive to other load on the machine.
  double signature_cpu_seconds = 0;
  double bucket_cpu_seconds = 0;
  double seconds = 0;
  uint64_t sig_file_bytes = 0, bucket_file_bytes = 0;
};

// Indexes the store's documents not yet covered by index `name` as one new
// run (creating the index with `options`' parameters if it does not exist;
// an existing index keeps its parameters - InvalidArgument if `options`
// explicitly asks for different ones is the caller's business). An index in
// the old format (version 1, 32-bit doc ids) is rebuilt from scratch with
// its parameters, its old files retired in the same commit.
Status BuildLshIndex(const std::string& store_dir, const LshBuildOptions& options, LshBuildReport* report);

struct LshCompactReport {
  size_t runs_before = 0;
  uint64_t docs = 0;
  double seconds = 0;
};
// Merges all runs of index `name` into one (no-op with fewer than two runs).
Status CompactLshIndex(const std::string& store_dir, const std::string& name, bool show_progress, Env* env,
                       LshCompactReport* report);

}  // namespace dedupdb
