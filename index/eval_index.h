// Eval n-gram index (FileKind::kEvalIndex): the normalised word n-grams of
// every example of every benchmark set, hashed (index/text_normalize.h), in a
// read-only mmapped file mapping each gram hash to the examples it came from.
// Examples with fewer than n words are one "short gram" of all their words,
// matched wherever that word sequence occurs (as the lm-eval reference does);
// they are found through a table of their first-p-word prefixes, p being the
// shortest short example's length. Token mode: examples are token-id arrays
// and a token plays the role of a word (HashTokenId). Layout: docs/format.md,
// "Decontamination eval index".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "index/eval_set.h"
#include "index/text_normalize.h"
#include "storage/env.h"
#include "storage/file_format.h"
#include "storage/status.h"

namespace dedupdb {

// Version 2 added token mode (mode param 2). Version 3: the word hash
// changed (text_normalize.h, HashWord); text-mode files of versions 1-2 are
// refused (rebuild them with `dedupdb decon index`), token-mode version-2
// files (token ids hash as before) are still read.
constexpr uint32_t kEvalIndexVersion = 3;
constexpr uint32_t kMaxEvalNgram = 63;

struct EvalIndexOptions {
  unsigned n = 13;
  NormalizationMode mode = NormalizationMode::kLmEval;
  // Token mode: the sets' fields hold token-id arrays (EvalSetSpec::tokens is
  // set for every set); `mode` is ignored.
  bool tokens = false;
  bool show_progress = false;
};

struct EvalIndexBuildStats {
  uint64_t sets = 0;
  uint64_t examples = 0;        // examples with at least one word
  uint64_t empty_examples = 0;  // skipped: no words (as the reference does)
  uint64_t short_examples = 0;  // fewer than n words
  uint64_t grams = 0;           // distinct gram hashes
  uint64_t postings = 0;
  uint64_t file_bytes = 0;
};

// Builds the index over all sets and writes it atomically to out_path
// (out_path.tmp, fsync, rename, fsync dir).
Status BuildEvalIndex(Env* env, const std::vector<EvalSetSpec>& sets, const EvalIndexOptions& options,
                      const std::string& out_path, EvalIndexBuildStats* stats);

struct EvalSetInfo {
  std::string_view name;
  std::string_view fields;  // comma-separated
  uint32_t first_example;
  uint32_t num_examples;
};

struct EvalExampleInfo {
  uint32_t set;
  uint32_t num_words;
  uint32_t num_grams;  // distinct grams of this example (1 for a short example)
  std::string_view id;
  std::string_view text;  // the checked text (fields joined by "\n"); token mode: ids joined by " "
};

// The scan's pre-filter key of an n-gram: a polynomial rolling hash of its
// word hashes, R = sum_k h[k] * B^(n-1-k) mod 2^64, updated in O(1) per word
// (RollingNgram). Only positions that pass the filter get the canonical
// HashNgram (XXH3 over the n word hashes) and a key-table lookup.
constexpr uint64_t kRollingBase = 0x9E3779B97F4A7C15ull;
inline uint64_t RollingNgramHash(const uint64_t* word_hashes, size_t n) {
  uint64_t r = 0;
  for (size_t i = 0; i < n; ++i) r = r * kRollingBase + word_hashes[i];
  return r;
}
inline uint64_t RollingFilterMix(uint64_t r) {
  r ^= r >> 31;
  r *= 0xBF58476D1CE4E5B9ull;
  r ^= r >> 29;
  return r;
}
// The three bits (of one 64-bit filter word) an entry sets.
inline uint64_t FilterBits(uint64_t mixed) {
  return (uint64_t{1} << (mixed & 63)) | (uint64_t{1} << ((mixed >> 6) & 63)) | (uint64_t{1} << ((mixed >> 12) & 63));
}
// Slides a window of n word hashes by one: drop `out`, append `in`.
struct RollingNgram {
  explicit RollingNgram(size_t n) {
    top = 1;
    for (size_t i = 1; i < n; ++i) top *= kRollingBase;
  }
  uint64_t Slide(uint64_t r, uint64_t out, uint64_t in) const { return (r - out * top) * kRollingBase + in; }
  uint64_t top;  // B^(n-1)
};

class EvalIndex {
 public:
  static constexpr uint32_t kNotFound = UINT32_MAX;

  static Status Open(Env* env, const std::string& path, std::unique_ptr<EvalIndex>* out);

  unsigned n() const { return n_; }
  NormalizationMode mode() const { return mode_; }
  // Token mode: grams are token-id n-grams (check with CheckTokens).
  bool token_mode() const { return token_mode_; }
  // The words of an example's stored text with byte spans in it (token
  // mode: the ids of the " "-joined text, hashed with HashTokenId).
  void ExampleWords(uint32_t example, std::vector<Word>* out) const;
  uint32_t num_sets() const { return num_sets_; }
  uint32_t num_examples() const { return num_examples_; }
  uint64_t num_grams() const { return num_keys_; }
  const std::string& path() const { return file_->path(); }
  EvalSetInfo set(uint32_t i) const;
  EvalExampleInfo example(uint32_t i) const;
  // Prefix length p of short examples, 0 if there are none.
  unsigned short_prefix_len() const { return prefix_len_; }

  // Pre-filters on RollingNgramHash values (no false negatives): blocked
  // Bloom filters, three bits in one 64-bit word. One over the n-grams (sized
  // to stay cache-resident), a small one over the short-example prefixes.
  struct Filter {
    const uint64_t* words = nullptr;
    unsigned shift = 64;
    bool MayContain(uint64_t rolling) const {
      uint64_t f = RollingFilterMix(rolling);
      uint64_t bits = FilterBits(f);
      return (words[f >> shift] & bits) == bits;
    }
    void Prefetch(uint64_t rolling) const { __builtin_prefetch(&words[RollingFilterMix(rolling) >> shift]); }
    // The same on an already mixed value (RollingFilterMix).
    bool MayContainMixed(uint64_t f) const {
      uint64_t bits = FilterBits(f);
      return (words[f >> shift] & bits) == bits;
    }
    void PrefetchMixed(uint64_t f) const { __builtin_prefetch(&words[f >> shift]); }
  };
  const Filter& gram_filter() const { return gram_filter_; }
  const Filter& prefix_filter() const { return prefix_filter_; }
  // Gram id (index into the sorted key table) of a gram hash, or kNotFound.
  uint32_t FindGram(uint64_t hash) const;
  // Prefetches for FindGram(hash): the directory entry, then (once that is
  // cached) the first key of its bucket.
  void PrefetchDirectory(uint64_t hash) const { __builtin_prefetch(&dir_[hash >> (64 - dir_bits_)]); }
  void PrefetchKeys(uint64_t hash) const { __builtin_prefetch(&keys_[dir_[hash >> (64 - dir_bits_)]]); }
  // Bit L set for every short-example length L that has this p-word prefix
  // (0 if none).
  uint64_t ShortLengthsForPrefix(uint64_t prefix_hash) const;
  // Examples that contain gram `gram`.
  const uint32_t* postings_begin(uint32_t gram) const { return postings_ + post_offsets_[gram]; }
  const uint32_t* postings_end(uint32_t gram) const { return postings_ + post_offsets_[gram + 1]; }
  uint64_t gram_hash(uint32_t gram) const { return keys_[gram]; }

 private:
  std::unique_ptr<EnvelopedFile> file_;
  unsigned n_ = 13;
  NormalizationMode mode_ = NormalizationMode::kLmEval;
  bool token_mode_ = false;
  uint32_t num_sets_ = 0, num_examples_ = 0;
  uint64_t num_keys_ = 0, num_postings_ = 0, num_prefixes_ = 0;
  unsigned prefix_len_ = 0;
  unsigned dir_bits_ = 0;
  const char* sets_ = nullptr;
  const char* examples_ = nullptr;
  const uint64_t* keys_ = nullptr;
  const uint32_t* post_offsets_ = nullptr;
  const uint32_t* postings_ = nullptr;
  const uint32_t* dir_ = nullptr;
  const uint64_t* prefix_keys_ = nullptr;
  const uint64_t* prefix_masks_ = nullptr;
  Filter gram_filter_, prefix_filter_;
  std::string_view strings_;
};

}  // namespace dedupdb
