// SuffixArrayIndex: read access to a published suffix-array index of a store
// (docs/format.md, "Suffix-array index"). The index is a list of shards; each
// shard is a symbol stream (FileKind::kSuffixText: the text of a contiguous
// run of documents, each followed by a separator symbol, plus the table of
// document starts) and its suffix array (FileKind::kSuffixArray: positions of
// every non-separator suffix in lexicographic order, packed as little-endian
// integers of pointer_width() bytes). Both files are memory-mapped.
//
// Symbols are 1 byte (UTF-8 text of the store's documents; separator 0xFF,
// which valid UTF-8 never contains) or 2/4 bytes (token ids from a flat token
// file; separator = the id given at build time). Token symbols are stored
// BIG-endian in the text so byte-wise comparison orders them as integers.
// Queries are therefore byte strings of whole symbols in the same encoding;
// EncodeTokens() builds one from token ids.
//
// Positions (SuffixAt, DocPosition::offset) are counted in symbols, not bytes.
// A query that contains the separator symbol can never match (matches never
// cross a document boundary). Thread-safe for concurrent readers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/catalog.h"
#include "storage/env.h"
#include "storage/file_format.h"
#include "storage/status.h"

namespace dedupdb {

class DocStore;

constexpr uint32_t kSuffixTextVersion = 1;
constexpr uint32_t kSuffixArrayVersion = 2;  // 2 adds the page sample (1 still opens)
constexpr uint32_t kSaManifestVersion = 1;
constexpr uint8_t kByteSeparator = 0xFF;

// Catalog key (Table::kIndexes) of the manifest of SA index `name`: "sa/<name>".
std::string SaCatalogKey(std::string_view name);

// One shard as the manifest lists it (paths relative to the store root).
struct SaShardInfo {
  std::string text_path;
  std::string sa_path;
  uint64_t first_doc = 0;    // doc id of the shard's first document
  uint64_t num_docs = 0;
  uint64_t num_symbols = 0;  // text length in symbols, separators included
  uint64_t num_suffixes = 0; // SA entries (= num_symbols - separators)
  uint32_t pointer_width = 0;
};

// The catalog record of one SA index (encoding in docs/format.md).
struct SaManifest {
  uint32_t version = kSaManifestVersion;
  uint32_t symbol_bytes = 1;   // 1 = bytes of UTF-8 text, 2 = u16 tokens, 4 = u32 tokens
  uint64_t separator = kByteSeparator;
  bool token_mode = false;     // true: docs are the separator-delimited runs of token_source
  std::string token_source;    // token file the index was built from (token mode)
  uint64_t generation = 0;
  uint64_t num_docs = 0;
  uint64_t input_symbols = 0;  // symbols of document content (separators excluded)
  uint64_t index_bytes = 0;    // bytes of all shard files (text + SA, envelopes included)
  std::vector<SaShardInfo> shards;

  std::string Encode() const;
  static Status Decode(std::string_view in, SaManifest* out);
};

// [lo, hi) in one shard's suffix array.
struct SaRange {
  uint64_t lo = 0;
  uint64_t hi = 0;
  uint64_t size() const { return hi - lo; }
  bool empty() const { return hi <= lo; }
};

// Where a symbol position of a shard falls.
struct DocPosition {
  uint64_t doc_id = 0;  // global doc id (store doc id in byte mode, token-doc ordinal in token mode)
  uint64_t offset = 0;  // symbols from the start of that document
};

class SaShard {
 public:
  // Opens and validates one shard's two files (envelope, kinds, versions,
  // params consistent with each other and with `info`).
  static Status Open(Env* env, const std::string& text_abs_path, const std::string& sa_abs_path,
                     const SaShardInfo& info, uint32_t symbol_bytes, std::unique_ptr<SaShard>* out);

  uint32_t symbol_bytes() const { return symbol_bytes_; }
  uint32_t pointer_width() const { return pointer_width_; }
  uint64_t num_symbols() const { return num_symbols_; }
  uint64_t num_suffixes() const { return num_suffixes_; }
  uint64_t first_doc() const { return first_doc_; }
  uint64_t num_docs() const { return num_docs_; }

  // The whole symbol stream (num_symbols() * symbol_bytes() bytes).
  const uint8_t* text() const { return text_; }
  uint64_t text_bytes() const { return num_symbols_ * symbol_bytes_; }
  // Symbol value at a position (token ids decoded from big-endian).
  uint64_t SymbolAt(uint64_t pos) const;

  // Symbol position of the i-th smallest suffix (i < num_suffixes()). The SA
  // body carries 8 bytes of zero padding, so the 8-byte load is always in bounds.
  uint64_t SuffixAt(uint64_t i) const {
    uint64_t v = 0;
    __builtin_memcpy(&v, sa_ + i * pointer_width_, 8 < pointer_width_ ? 8 : pointer_width_);
    return pointer_width_ >= 8 ? v : (v & ((uint64_t{1} << (8 * pointer_width_)) - 1));
  }
  // Raw SA bytes (num_suffixes() * pointer_width()), for batched readers.
  const uint8_t* sa_bytes() const { return sa_; }
  // Body offset of the SA entries inside the SA file (for pread/io_uring: file
  // offset of entry i = kFileHeaderSize + sa_body_offset() + i * pointer_width()).
  uint64_t sa_body_offset() const { return 0; }

  // The page sample (SA file version 2): SampleEntry(j) = SuffixAt(j *
  // sample_stride()) for j < sample_count(), one entry per 4 KiB of suffix
  // array, stored after the entries as u64s so that a batch whose text is
  // in memory can find each query's SA page without reading the pages
  // above it. sample_count() is 0 for a version-1 file.
  uint64_t sample_stride() const { return sample_stride_; }
  uint64_t sample_count() const { return sample_count_; }
  uint64_t SampleEntry(uint64_t j) const {
    uint64_t v;
    __builtin_memcpy(&v, sample_ + 8 * j, 8);
    return v;
  }

  // Suffixes that start with `query` (a byte string of whole symbols):
  // binary search with the SIMD compare (index/sa_compare.h). An empty query
  // matches every suffix; a query containing the separator matches nothing.
  SaRange FindRange(std::string_view query) const;
  // Same, restricted to suffixes in `within` (refining a previous range when
  // a query is extended symbol by symbol).
  SaRange FindRange(std::string_view query, SaRange within) const;

  // Longest common prefix, in symbols, of suffixes SuffixAt(i-1) and
  // SuffixAt(i) (0 < i < num_suffixes()). Never crosses a separator.
  uint64_t LcpAdjacent(uint64_t i) const;
  // Symbols of `query` that match the suffix at position pos (common prefix length).
  uint64_t MatchLength(uint64_t pos, std::string_view query) const;

  // Local document index (0-based within this shard) holding symbol position pos.
  uint64_t LocalDocOf(uint64_t pos) const;
  DocPosition Locate(uint64_t pos) const;
  // Symbol offsets of local document d: [DocBegin(d), DocEnd(d)); DocEnd is
  // the position of its separator.
  uint64_t DocBegin(uint64_t local_doc) const { return doc_starts_[local_doc]; }
  uint64_t DocEnd(uint64_t local_doc) const { return doc_starts_[local_doc + 1] - 1; }
  // The table behind them: num_docs() + 1 starts (the last is num_symbols()).
  const uint64_t* doc_starts() const { return doc_starts_; }

  const EnvelopedFile& text_file() const { return *text_file_; }
  const EnvelopedFile& sa_file() const { return *sa_file_; }

 private:
  SaShard() = default;
  std::unique_ptr<EnvelopedFile> text_file_, sa_file_;
  const uint8_t* text_ = nullptr;
  const uint8_t* sa_ = nullptr;
  const uint8_t* sample_ = nullptr;
  uint64_t sample_stride_ = 0, sample_count_ = 0;
  const uint64_t* doc_starts_ = nullptr;  // num_docs + 1 entries
  uint32_t symbol_bytes_ = 1, pointer_width_ = 4;
  uint64_t num_symbols_ = 0, num_suffixes_ = 0, first_doc_ = 0, num_docs_ = 0;
  uint64_t separator_ = kByteSeparator;
};

class SuffixArrayIndex {
 public:
  // Opens index `name` as listed in the store's catalog (a snapshot taken at
  // open). NotFound with a hint to run `dedupdb index-sa` if there is none;
  // Corruption naming the file for a bad or truncated shard file.
  static Status Open(const DocStore* store, std::string_view name, std::unique_ptr<SuffixArrayIndex>* out);
  // Same without a DocStore (e.g. a token-only store).
  static Status Open(Env* env, const std::string& store_dir, Catalog* catalog, std::string_view name,
                     std::unique_ptr<SuffixArrayIndex>* out);

  const SaManifest& manifest() const { return manifest_; }
  uint32_t symbol_bytes() const { return manifest_.symbol_bytes; }
  uint64_t separator() const { return manifest_.separator; }
  bool token_mode() const { return manifest_.token_mode; }
  uint64_t num_docs() const { return manifest_.num_docs; }
  size_t num_shards() const { return shards_.size(); }
  const SaShard& shard(size_t i) const { return *shards_[i]; }
  // Shard holding a global doc id (shards cover consecutive doc id ranges).
  size_t ShardOfDoc(uint64_t doc_id) const;

  // Checks that `query` is a valid symbol string for this index: a whole
  // number of symbols. (A separator inside is valid but matches nothing.)
  Status ValidateQuery(std::string_view query) const;
  // True if the query contains the separator symbol (at a symbol boundary).
  bool ContainsSeparator(std::string_view query) const;

 private:
  SuffixArrayIndex() = default;
  SaManifest manifest_;
  std::vector<std::unique_ptr<SaShard>> shards_;
};

// Token ids -> query bytes (big-endian, symbol_bytes each). Fails if an id
// does not fit the width.
Status EncodeTokens(const std::vector<uint64_t>& tokens, uint32_t symbol_bytes, std::string* out);
// Query bytes -> token ids (inverse of EncodeTokens).
std::vector<uint64_t> DecodeTokens(std::string_view bytes, uint32_t symbol_bytes);

}  // namespace dedupdb
