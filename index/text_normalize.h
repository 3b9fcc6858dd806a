// Text normalisation, word tokenisation and shingle hashing: the ONE module
// shared by MinHash (near-duplicates) and decontamination, so both agree on
// what a "word" and an "n-gram" are.
//
// Modes:
//   kWords   (MinHash default) Unicode-aware lowercasing of ASCII, Latin-1,
//            Latin Extended-A, Greek and Cyrillic; a word is a maximal run of
//            letters, digits, '_' and any other non-ASCII code point that is
//            not Unicode punctuation/space (like Python's \w+ on lowered
//            text); everything else separates words.
//   kLmEval  (decontamination default) exactly GPT-3 / lm-eval-harness:
//            lowercase ASCII letters, delete ASCII punctuation, split on
//            whitespace (the characters Python's str.split() splits on).
//
// Hashes (word hash version 2, since eval index v3 / MinHash signatures v2):
// a normalised word of len <= 16 bytes, zero-padded to 16 bytes and read as
// two little-endian u64 halves lo, hi, hashes as XXH3's 9-16-byte kernel on
// those halves: a = lo ^ K1, b = hi ^ K2 (K1, K2 = XXH3's default secret
// words at offsets 8 and 16), acc = len + bswap64(a) + b + (low64 ^ high64 of
// the 128-bit a * b), then XXH3's avalanche (acc ^= acc >> 37; acc *=
// 0x165667919E3779F9; acc ^= acc >> 32). Longer words: XXH3-64 of their
// bytes. (Branch-free for the short words that are nearly all of them.)
// An n-gram's hash is XXH3-64 over its n word hashes (little-endian u64s), so
// n-grams are hashed without building strings; character shingles are
// XXH3-64 of their bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dedupdb {

enum class NormalizationMode { kWords, kLmEval };

const char* NormalizationModeName(NormalizationMode mode);
bool ParseNormalizationMode(std::string_view name, NormalizationMode* mode);

// One word of a document: hash of the normalised word and its byte span in
// the ORIGINAL text (for reporting matched spans).
struct Word {
  uint64_t hash;
  uint32_t begin;
  uint32_t end;
};

// The words of a text as parallel arrays (hash, begin, end): the form the
// decontamination scan consumes, filled without per-word bounds checks.
// Reuse one object to avoid allocation.
class WordHashes {
 public:
  size_t size() const { return size_; }
  const uint64_t* hashes() const { return hashes_.get(); }
  const uint32_t* begins() const { return begins_.get(); }
  const uint32_t* ends() const { return ends_.get(); }
  uint64_t* hashes() { return hashes_.get(); }
  uint32_t* begins() { return begins_.get(); }
  uint32_t* ends() { return ends_.get(); }
  void Clear() { size_ = 0; }
  // Capacity for at least n words, keeping the first size() (the rest is
  // undefined until written).
  void Reserve(size_t n);
  size_t capacity() const { return capacity_; }
  void SetSize(size_t n) { size_ = n; }
  // Token mode: one word per token ({HashTokenId, i, i + 1}, as TokenWords).
  void AssignTokens(const uint32_t* tokens, size_t count);

 private:
  std::unique_ptr<uint64_t[]> hashes_;
  std::unique_ptr<uint32_t[]> begins_, ends_;
  size_t size_ = 0, capacity_ = 0;
};

class WordTokenizer {
 public:
  explicit WordTokenizer(NormalizationMode mode = NormalizationMode::kWords) : mode_(mode) {}
  NormalizationMode mode() const { return mode_; }
  // Replaces *out with the words of text. Thread-safe (no shared state).
  void Tokenize(std::string_view text, std::vector<Word>* out) const;
  // The same words as parallel arrays (the scan's fast path).
  void TokenizeHashes(std::string_view text, WordHashes* out) const;
  // The normalised words as strings (tests, exact Jaccard, debugging).
  void NormalizedWords(std::string_view text, std::vector<std::string>* out) const;
  // Whole-text normalisation: normalised words joined by single spaces.
  std::string Normalize(std::string_view text) const;

 private:
  NormalizationMode mode_;
};

// The word hash defined above.
uint64_t HashWord(std::string_view normalized_word);
// Order-sensitive hash of n consecutive word hashes.
uint64_t HashWordNgram(const Word* words, size_t n);
uint64_t HashNgram(const uint64_t* word_hashes, size_t n);

enum class ShingleKind { kWord, kChar, kToken };

struct ShingleOptions {
  ShingleKind kind = ShingleKind::kWord;
  unsigned n = 5;
  NormalizationMode mode = NormalizationMode::kWords;
};

// Shingle hashes of a text (duplicates kept; callers dedupe if they need a
// set). Word mode: every n consecutive words; a text with 1..n-1 words gives
// one shingle of all its words; no words gives none. Char mode: every n
// consecutive bytes of Normalize(text) (whole text if shorter).
void ShingleHashes(std::string_view text, const ShingleOptions& options, std::vector<uint64_t>* out);
// Token mode: every n consecutive token ids.
void TokenShingleHashes(const uint32_t* tokens, size_t count, unsigned n, std::vector<uint64_t>* out);

// Pre-tokenized text (decontamination token mode): a token id plays the
// role of a word; its "word hash" is XXH3-64 of the id's 4 little-endian
// bytes, so token n-grams hash with HashNgram like word n-grams.
uint64_t HashTokenId(uint32_t token);
// Replaces *out with one Word per token: {HashTokenId, i, i + 1} (spans are
// token positions).
void TokenWords(const uint32_t* tokens, size_t count, std::vector<Word>* out);

}  // namespace dedupdb
