// Suffix-array index build: cuts the corpus into shards that fit a memory
// budget, sorts each shard's suffixes in memory with libdivsufsort (32-bit
// when the shard is < 2 GiB, 64-bit otherwise), writes the shard's text and
// packed suffix array into a staging dir, and publishes every shard plus the
// manifest with one StoreWriter::Publish (the previous generation of the same
// index name is retired in that commit).
//
// Memory: a shard of n bytes needs n (text) + 4n or 8n (SA) bytes while it is
// sorted; shards are sized so that `threads` concurrent builds fit in
// memory_budget after 32 MiB of process overhead, 8 MiB per shard build and 8
// bytes per document (resident segment offsets) are taken off. Corpus size
// is unbounded. Each shard's text file is written on a helper thread while
// its suffixes sort.
//
// Byte mode (default): the documents of the store, in doc id order.
// Token mode (token_file set): a flat array of little-endian u16/u32 token ids
// (raw .bin as written by GPT-NeoX/Megatron/nanoGPT, or .npy with a '<u2',
// '<u4' header); documents are the runs between separator ids, numbered 0, 1,
// ... in file order (not registered in the store's document table).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/env.h"
#include "storage/status.h"

namespace dedupdb {

struct SaBuildOptions {
  std::string name = "default";
  uint64_t memory_budget = 8ull << 30;  // bytes
  unsigned threads = 0;                 // concurrent shard builds; 0 = number of cores
  // Token mode.
  std::string token_file;               // empty = byte mode
  unsigned token_bytes = 2;             // 2 (u16) or 4 (u32); 0 = from the .npy header
  uint64_t separator = 0;               // token id that ends a document (token mode)
  // Testing/benchmark knobs.
  uint64_t max_shard_symbols = 0;       // 0 = derived from the budget only
  unsigned force_pointer_width = 0;     // 0 = narrowest >= 4 bytes; else 4..8
  bool show_progress = false;
  Env* env = nullptr;                   // nullptr = Env::Default()
};

struct SaBuildReport {
  uint64_t generation = 0;
  uint32_t symbol_bytes = 1;    // 1 = bytes, 2 = u16 tokens, 4 = u32 tokens
  uint64_t num_docs = 0;
  uint64_t num_shards = 0;
  uint64_t input_symbols = 0;   // document symbols (separators excluded)
  uint64_t input_bytes = 0;     // input_symbols * symbol bytes
  uint64_t index_bytes = 0;     // all shard files written
  uint64_t max_shard_symbols = 0;
  unsigned threads = 0;
  double seconds = 0;
  double sort_seconds = 0;      // summed over shards (time inside divsufsort)
};

// Builds index options.name of the store at store_dir (created if missing in
// token mode). Fails cleanly (nothing published) on any error, including a
// single document larger than one shard can hold under the budget.
Status BuildSuffixArrayIndex(const std::string& store_dir, const SaBuildOptions& options, SaBuildReport* report);

// ---- building blocks, exposed for tests and benchmarks --------------------

// Largest shard (in bytes of symbol stream) whose sort fits `budget` bytes
// when `threads` shards are built at once.
uint64_t ShardCapacityBytes(uint64_t budget, unsigned threads);

// One shard of the plan: a run of consecutive documents.
struct ShardSpan {
  uint64_t first_doc = 0;
  uint64_t num_docs = 0;
  uint64_t num_symbols = 0;     // shard text: document symbols + one separator per doc
  uint64_t input_begin = 0;     // token mode: first input symbol (index in the token file)
  uint64_t input_symbols = 0;   // token mode: input symbols consumed (separators present in the input included)
};

// Greedy, streaming cut of documents into consecutive shards of at most
// capacity_symbols, where a document of length L costs L + 1 (separator) + 2
// (its 8-byte doc-table entry). Memory O(shards), not O(docs).
class ShardPlanner {
 public:
  explicit ShardPlanner(uint64_t capacity_symbols) : capacity_(capacity_symbols) {}
  // Adds the next document (length in symbols). input_symbols = symbols it
  // occupies in the input stream (token mode: L, or L + 1 with its separator).
  // InvalidArgument if the document alone exceeds one shard.
  Status Add(uint64_t length, uint64_t input_symbols = 0);
  // The shards planned so far (the last one possibly still open).
  const std::vector<ShardSpan>& shards() const { return shards_; }
  uint64_t docs() const { return docs_; }
  static uint64_t Cost(uint64_t length) { return length + 3; }

 private:
  uint64_t capacity_;
  uint64_t docs_ = 0, input_pos_ = 0, open_cost_ = 0;
  std::vector<ShardSpan> shards_;
};

// Suffix positions (in symbols) in the narrowest divsufsort index type.
struct SortedSuffixes {
  std::vector<int32_t> sa32;  // used when the text is < 2 GiB
  std::vector<int64_t> sa64;  // otherwise (or when forced)
  uint64_t size() const { return sa64.empty() ? sa32.size() : sa64.size(); }
  uint64_t operator[](uint64_t i) const { return sa64.empty() ? uint64_t(sa32[i]) : uint64_t(sa64[i]); }
};

// Sorts the suffixes of text (n_bytes = symbols * symbol_bytes) and keeps the
// symbol positions of non-separator suffixes in lexicographic order (symbols
// compared as big-endian integers). divsufsort, or divsufsort64 if the text
// is >= 2 GiB or force_64bit.
Status SortSuffixes(const uint8_t* text, uint64_t n_bytes, uint32_t symbol_bytes, uint64_t separator,
                    bool force_64bit, SortedSuffixes* out);

// Narrowest pointer width (bytes, >= 4) that addresses positions < num_symbols.
unsigned PointerWidthFor(uint64_t num_symbols);

}  // namespace dedupdb
