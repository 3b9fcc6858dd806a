// Word tokenisation for both normalisation modes. The hot loop of MinHash and
// decontamination scans. On CPUs with AVX-512 VBMI2 both modes run block
// tokenisers: a kernel normalises whole 64-byte blocks (lowering, and in
// lm-eval mode deleting punctuation) into a padded buffer and marks the word
// boundaries in bitmasks, and words are hashed in place from that buffer
// (text_normalize_simd.h). Elsewhere, and as the tested oracles: the
// byte-at-a-time tokenisers below, where ASCII bytes are classified by one
// 256-entry table, words that need no rewriting are hashed straight from the
// input, and only words with upper case / punctuation / non-ASCII letters are
// copied into a small scratch buffer first.
#include "index/text_normalize.h"

#include "index/text_normalize_simd.h"
#include "storage/cpu_features.h"

// Inline XXH3: word hashes are short and called per word.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

namespace dedupdb {
namespace {

#include "index/text_normalize_tables.inc"

// ---- byte classes ---------------------------------------------------------
enum ByteClass : uint8_t {
  kKeep = 0,    // ASCII byte copied unchanged (lower case, digits, ...)
  kUpper = 1,   // A-Z
  kPunct = 2,   // string.punctuation (deleted in lm-eval mode, a separator in words mode)
  kSpace = 3,   // ASCII whitespace per Python str.split()
  kHigh = 4,    // >= 0x80: part of a multi-byte UTF-8 sequence
  kCtrl = 5,    // other ASCII controls: kept in lm-eval mode, separators in words mode
};

constexpr std::array<uint8_t, 256> MakeClassTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t k = kKeep;
    if (c >= 0x80) k = kHigh;
    else if (c >= 'A' && c <= 'Z') k = kUpper;
    else if ((c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20)) k = kSpace;
    else if (c < 0x20 || c == 0x7f) k = kCtrl;
    else if ((c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
             (c >= '{' && c <= '~')) k = kPunct;
    t[c] = k;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kClass = MakeClassTable();

// lm-eval rewriting: A-Z lowered, every other byte unchanged; punctuation
// (the only ASCII bytes it deletes) not kept.
constexpr std::array<uint8_t, 256> MakeLowerAscii() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = static_cast<uint8_t>(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
  return t;
}
constexpr std::array<uint8_t, 256> kLowerAscii = MakeLowerAscii();
constexpr std::array<uint8_t, 256> MakeKeptLmEval() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = kClass[c] == kPunct ? 0 : 1;
  return t;
}
constexpr std::array<uint8_t, 256> kKeptLmEval = MakeKeptLmEval();

// Length of the Unicode whitespace character (per Python str.isspace) that
// starts at p (p[0] >= 0x80), or 0 if there is none.
inline size_t UnicodeSpaceLen(const unsigned char* p, const unsigned char* end) {
  size_t left = end - p;
  switch (p[0]) {
    case 0xC2:  // U+0085, U+00A0
      return (left >= 2 && (p[1] == 0x85 || p[1] == 0xA0)) ? 2 : 0;
    case 0xE1:  // U+1680
      return (left >= 3 && p[1] == 0x9A && p[2] == 0x80) ? 3 : 0;
    case 0xE2:  // U+2000..U+200A, U+2028, U+2029, U+202F, U+205F
      if (left < 3) return 0;
      if (p[1] == 0x80 && (p[2] <= 0x8A || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF)) return 3;
      if (p[1] == 0x81 && p[2] == 0x9F) return 3;
      return 0;
    case 0xE3:  // U+3000
      return (left >= 3 && p[1] == 0x80 && p[2] == 0x80) ? 3 : 0;
    default:
      return 0;
  }
}

// Decodes one UTF-8 code point; returns its length, or 0 for an invalid
// sequence (the caller then treats the single byte as a separator).
inline size_t DecodeUtf8(const unsigned char* p, const unsigned char* end, uint32_t* cp) {
  size_t left = end - p;
  unsigned char c = p[0];
  if (c < 0x80) { *cp = c; return 1; }
  if (c >= 0xC2 && c <= 0xDF && left >= 2 && (p[1] & 0xC0) == 0x80) {
    *cp = ((c & 0x1F) << 6) | (p[1] & 0x3F);
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF && left >= 3 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
    uint32_t v = ((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4 && left >= 4 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 &&
      (p[3] & 0xC0) == 0x80) {
    uint32_t v = ((c & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    if (v < 0x10000 || v > 0x10FFFF) return 0;
    *cp = v;
    return 4;
  }
  return 0;
}

inline void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// ---- Unicode tables (kWords mode) -----------------------------------------
// Direct tables below U+0800 (Latin, Greek, Cyrillic, ...: every 2-byte code
// point), binary search in the generated tables above.
constexpr uint32_t kDirect = 0x800;

struct UnicodeTables {
  uint16_t lower[kDirect];
  uint8_t word[kDirect];
  UnicodeTables() {
    for (uint32_t c = 0; c < kDirect; ++c) {
      lower[c] = static_cast<uint16_t>(c);
      word[c] = 0;
    }
    for (const auto& p : kLowerPairs) {
      if (p[0] < kDirect) lower[p[0]] = static_cast<uint16_t>(p[1]);
    }
    for (const auto& r : kWordRanges) {
      for (uint32_t c = r[0]; c <= r[1] && c < kDirect; ++c) word[c] = 1;
    }
  }
};
const UnicodeTables& Tables() {
  static const UnicodeTables tables;
  return tables;
}

uint32_t LowerCodePoint(uint32_t cp) {
  if (cp < kDirect) return Tables().lower[cp];
  size_t lo = 0, hi = sizeof(kLowerPairs) / sizeof(kLowerPairs[0]);
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (kLowerPairs[mid][0] < cp) lo = mid + 1;
    else hi = mid;
  }
  if (lo < sizeof(kLowerPairs) / sizeof(kLowerPairs[0]) && kLowerPairs[lo][0] == cp) return kLowerPairs[lo][1];
  return cp;
}

template <size_t N>
bool InRanges(const uint32_t (&ranges)[N][2], uint32_t cp) {
  size_t lo = 0, hi = N;
  while (lo < hi) {  // first range whose end >= cp
    size_t mid = (lo + hi) / 2;
    if (ranges[mid][1] < cp) lo = mid + 1;
    else hi = mid;
  }
  return lo < N && ranges[lo][0] <= cp;
}

bool IsWordCodePoint(uint32_t cp) {
  if (cp < kDirect) return Tables().word[cp] != 0;
  return InRanges(kWordRanges, cp);
}

// Python's Final_Sigma rule (unicodeobject.c handle_capital_sigma): the
// capital sigma at text[pos] lowers to final sigma iff, skipping
// case-ignorable characters, a cased character precedes it and none follows.
bool IsFinalSigma(const unsigned char* base, const unsigned char* end, const unsigned char* pos) {
  uint32_t cp = 0;
  bool before = false;
  const unsigned char* q = pos;
  while (q > base) {
    const unsigned char* s = q - 1;
    while (s > base && (*s & 0xC0) == 0x80 && q - s < 4) --s;
    if (DecodeUtf8(s, q, &cp) != static_cast<size_t>(q - s)) break;  // invalid: not cased
    q = s;
    if (InRanges(kCaseIgnorableRanges, cp)) continue;
    before = InRanges(kCasedRanges, cp);
    break;
  }
  if (!before) return false;
  q = pos + 2;  // U+03A3 is two bytes
  while (q < end) {
    size_t len = DecodeUtf8(q, end, &cp);
    if (len == 0) return true;
    q += len;
    if (InRanges(kCaseIgnorableRanges, cp)) continue;
    return !InRanges(kCasedRanges, cp);
  }
  return true;
}

// ---- the two tokenizers ----------------------------------------------------
// Both call emit(begin, end, normalized) for every word, where normalized is
// the normalised bytes (may alias the input when nothing changed).
template <typename Emit>
void TokenizeLmEval(std::string_view text, Emit&& emit) {
  const unsigned char* base = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* end = base + text.size();
  const unsigned char* p = base;
  std::string scratch;
  while (p < end) {
    // Skip whitespace.
    for (;;) {
      if (p >= end) return;
      uint8_t k = kClass[*p];
      if (k == kSpace) { ++p; continue; }
      if (k == kHigh) {
        size_t s = UnicodeSpaceLen(p, end);
        if (s) { p += s; continue; }
      }
      break;
    }
    const unsigned char* begin = p;
    bool rewrite = false;
    for (; p < end; ++p) {
      uint8_t k = kClass[*p];
      if (k == kKeep || k == kCtrl) continue;
      if (k == kSpace) break;
      if (k == kHigh) {
        if (UnicodeSpaceLen(p, end)) break;
        continue;
      }
      rewrite = true;  // upper or punctuation
    }
    if (!rewrite) {
      emit(begin - base, p - base, std::string_view(reinterpret_cast<const char*>(begin), p - begin));
      continue;
    }
    scratch.clear();
    for (const unsigned char* q = begin; q < p; ++q) {
      uint8_t k = kClass[*q];
      if (k == kPunct) continue;
      scratch.push_back(static_cast<char>(k == kUpper ? (*q | 0x20) : *q));
    }
    if (!scratch.empty()) emit(begin - base, p - base, std::string_view(scratch));
  }
}

// Emit callbacks take (begin, end, word) and, when at least 16 bytes are
// readable at word.data() (inside the same buffer), a Padded16 tag as well:
// the hashing callbacks (`auto... padded`) then load the word without a copy.
struct Padded16 {};
template <typename Emit>
__attribute__((always_inline)) inline void EmitWord(Emit& emit, size_t b, size_t e, std::string_view w, bool readable16) {
  if constexpr (std::is_invocable_v<Emit&, size_t, size_t, std::string_view, Padded16>) {
    if (readable16) emit(b, e, w, Padded16{});
    else emit(b, e, w);
  } else {
    emit(b, e, w);
  }
}

// ---- lm-eval fast path: bitmasks of whitespace and "special" bytes -------
// Any bit set in [from, to) (to > from)?
inline bool AnySet(const uint64_t* m, size_t from, size_t to) {
  size_t b = from >> 6, last = (to - 1) >> 6;
  uint64_t w = m[b] & (~uint64_t{0} << (from & 63));
  while (b < last) {
    if (w) return true;
    w = m[++b];
  }
  size_t top = to & 63;
  if (top) w &= (uint64_t{1} << top) - 1;
  return w != 0;
}

// AnySet for the common case of a range inside one 64-bit word.
inline bool AnySetInRange(const uint64_t* m, size_t from, size_t to) {
  const size_t b = from >> 6;
  const size_t len = to - from;
  if (b == ((to - 1) >> 6) && len < 64) return ((m[b] >> (from & 63)) & ((uint64_t{1} << len) - 1)) != 0;
  return AnySet(m, from, to);
}

// Word starts are non-space bytes after a space, word ends spaces after a
// non-space: two masks per block, walked with countr_zero, so a word costs
// O(1) work however long it is. Starts and ends alternate. space[] has nb
// blocks; bits past `size` must be set.
template <typename WordFn>
inline void WalkWords(const uint64_t* space, size_t nb, size_t size, WordFn&& word) {
  size_t open = SIZE_MAX;    // start of a word running on from an earlier block
  uint64_t prev_space = 1;   // the byte before the text counts as a space
  for (size_t b = 0; b < nb; ++b) {
    const uint64_t sp = space[b];
    const uint64_t after_space = (sp << 1) | prev_space;
    uint64_t starts = ~sp & after_space;
    uint64_t ends = sp & ~after_space;
    prev_space = sp >> 63;
    const size_t at = b * 64;
    if (open != SIZE_MAX) {
      if (!ends) continue;
      word(open, at + std::countr_zero(ends));
      ends &= ends - 1;
      open = SIZE_MAX;
    }
    while (starts) {
      const size_t s = at + std::countr_zero(starts);
      starts &= starts - 1;
      if (!ends) {
        open = s;
        break;
      }
      word(s, at + std::countr_zero(ends));
      ends &= ends - 1;
    }
  }
  if (open != SIZE_MAX) word(open, size);  // text length a multiple of 64
}

bool UseAvx2() {
  static const bool avx2 = DetectSimdLevel() >= SimdLevel::kAvx2;
  return avx2;
}

template <typename Emit>
void TokenizeLmEvalFast(std::string_view text, Emit&& emit, bool allow_avx2) {
  const uint8_t* base = reinterpret_cast<const uint8_t*>(text.data());
  const size_t size = text.size();
  const size_t nb = (size + 63) / 64;
  thread_local std::vector<uint64_t> space_bits, special_bits;
  if (space_bits.size() < nb) {
    space_bits.resize(nb);
    special_bits.resize(nb);
  }
  uint64_t* space = space_bits.data();
  uint64_t* special = special_bits.data();
  const size_t full = size / 64;
  if (allow_avx2 && UseAvx2()) text_internal::ClassifyLmEvalAvx2(base, full, space, special);
  else text_internal::ClassifyLmEvalScalar(base, full, space, special);
  if (size % 64) {
    uint8_t tail[64] = {0};
    std::memcpy(tail, base + full * 64, size % 64);
    text_internal::ClassifyLmEvalScalar(tail, 1, space + full, special + full);
    space[full] |= ~uint64_t{0} << (size % 64);  // words end at the text's end
  }
  std::string scratch;
  char short_word[128] = {0};  // zeroed: bytes past a word are read (and masked) by the hash
  // One word [pos, end): emitted straight from the input unless it has upper
  // case, punctuation or non-ASCII bytes.
  auto word = [&](size_t pos, size_t end) {
    if (!AnySetInRange(special, pos, end)) {
      EmitWord(emit, pos, end, std::string_view(text.data() + pos, end - pos), pos + 16 <= size);
      return;
    }
    bool high = false;
    if (end - pos <= sizeof(short_word)) {
      // Branch-free rewrite: every byte is stored lowered, the output
      // advances only past kept bytes; non-ASCII is checked once at the end.
      size_t len = 0;
      uint8_t any = 0;
      for (size_t q = pos; q < end; ++q) {
        const uint8_t c = base[q];
        any |= c;
        short_word[len] = static_cast<char>(kLowerAscii[c]);
        len += kKeptLmEval[c];
      }
      high = any >= 0x80;
      if (!high) {
        if (len) EmitWord(emit, pos, end, std::string_view(short_word, len), len + 16 <= sizeof(short_word));
        return;
      }
    } else {
      scratch.clear();
      for (size_t q = pos; q < end; ++q) {
        uint8_t c = base[q];
        if (c >= 0x80) {
          high = true;
          break;
        }
        uint8_t k = kClass[c];
        if (k == kPunct) continue;
        scratch.push_back(static_cast<char>(k == kUpper ? (c | 0x20) : c));
      }
    }
    if (!high) {
      if (!scratch.empty()) emit(pos, end, std::string_view(scratch));
    } else {
      // Non-ASCII bytes: Unicode whitespace may split this run; the bytewise
      // tokeniser handles it (the run has no ASCII whitespace, so the
      // boundaries agree).
      const size_t off = pos;
      TokenizeLmEval(text.substr(pos, end - pos),
                     [&](size_t b, size_t e, std::string_view w) { emit(b + off, e + off, w); });
    }
  };
  WalkWords(space, nb, size, word);
}

// ---- word hash (text_normalize.h: HashWord) -------------------------------
// Words of up to 16 bytes (99.9% of English words) go through one branch-free
// kernel on the word zero-padded to 16 bytes, so the word length (1-3, 4-8,
// 9-16 bytes: unpredictable) costs no branch as in XXH3's own dispatch.
// Constants: XXH3's default secret words at byte offsets 8 and 16.
constexpr uint64_t kWordK1 = 0x1CAD21F72C81017Cull, kWordK2 = 0xDB979083E96DD4DEull;
__attribute__((always_inline)) inline uint64_t ShortWordHash(uint64_t lo, uint64_t hi, uint64_t len) {
  const uint64_t a = lo ^ kWordK1, b = hi ^ kWordK2;
  const unsigned __int128 m = static_cast<unsigned __int128>(a) * b;
  uint64_t acc = len + __builtin_bswap64(a) + b + (static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64));
  acc ^= acc >> 37;  // XXH3_avalanche
  acc *= 0x165667919E3779F9ull;
  return acc ^ (acc >> 32);
}
// XXH3-64 (seed 0, default secret) of N little-endian u64s, 3 <= N <= 16
// (17..128 bytes): XXH3_len_17to128_64b written out for whole words so that
// an n-gram hash inlines without XXH3's length dispatch (same values; tested
// against XXH3_64bits for every N).
struct SecretWords {
  uint64_t w[16];
};
const SecretWords kSecretWords = [] {
  static_assert(std::endian::native == std::endian::little, "XXH3 reads its secret little-endian");
  SecretWords s;
  std::memcpy(s.w, XXH3_kSecret, sizeof s.w);
  return s;
}();
__attribute__((always_inline)) inline uint64_t Mix16(uint64_t lo, uint64_t hi, size_t secret_word) {
  const unsigned __int128 m = static_cast<unsigned __int128>(lo ^ kSecretWords.w[secret_word]) *
                              (hi ^ kSecretWords.w[secret_word + 1]);
  return static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
}
template <size_t N>
__attribute__((always_inline)) inline uint64_t HashWords17to128(const uint64_t* w) {
  static_assert(N >= 3 && N <= 16);
  uint64_t acc = N * 8 * 0x9E3779B185EBCA87ull;  // len * XXH_PRIME64_1
  if constexpr (N > 4) {                          // len > 32
    if constexpr (N > 8) {                        // len > 64
      if constexpr (N > 12) {                     // len > 96
        acc += Mix16(w[6], w[7], 12);             // input + 48, secret + 96
        acc += Mix16(w[N - 8], w[N - 7], 14);     // input + len - 64, secret + 112
      }
      acc += Mix16(w[4], w[5], 8);
      acc += Mix16(w[N - 6], w[N - 5], 10);
    }
    acc += Mix16(w[2], w[3], 4);
    acc += Mix16(w[N - 4], w[N - 3], 6);
  }
  acc += Mix16(w[0], w[1], 0);
  acc += Mix16(w[N - 2], w[N - 1], 2);
  acc ^= acc >> 37;  // XXH3_avalanche
  acc *= 0x165667919E3779F9ull;
  return acc ^ (acc >> 32);
}
bool UseAvx512Ngrams() {
  static const bool ok = DetectSimdLevel() >= SimdLevel::kAvx512;
  return ok;
}
// out[i] = HashNgram(h + i, N) for i < count.
template <size_t N>
void NgramHashesN(const uint64_t* h, size_t count, uint64_t* out) {
  for (size_t i = 0; i < count; ++i) out[i] = HashWords17to128<N>(h + i);
}
void NgramHashes(const uint64_t* h, size_t count, size_t n, uint64_t* out) {
  switch (n) {
#define DEDUPDB_NGRAM_CASE(N) \
  case N: return NgramHashesN<N>(h, count, out);
    DEDUPDB_NGRAM_CASE(3) DEDUPDB_NGRAM_CASE(4) DEDUPDB_NGRAM_CASE(5) DEDUPDB_NGRAM_CASE(6)
    DEDUPDB_NGRAM_CASE(7) DEDUPDB_NGRAM_CASE(8) DEDUPDB_NGRAM_CASE(9) DEDUPDB_NGRAM_CASE(10)
    DEDUPDB_NGRAM_CASE(11) DEDUPDB_NGRAM_CASE(12) DEDUPDB_NGRAM_CASE(13) DEDUPDB_NGRAM_CASE(14)
    DEDUPDB_NGRAM_CASE(15) DEDUPDB_NGRAM_CASE(16)
#undef DEDUPDB_NGRAM_CASE
    default:
      for (size_t i = 0; i < count; ++i) out[i] = XXH3_64bits(h + i, n * sizeof(uint64_t));
  }
}

// Byte masks keeping the first len bytes of the low / high 8-byte half.
struct ShortMasks {
  uint64_t lo[17], hi[17];
  constexpr ShortMasks() : lo{}, hi{} {
    for (int l = 0; l <= 16; ++l) {
      lo[l] = l >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * l)) - 1;
      hi[l] = l <= 8 ? 0 : l >= 16 ? ~uint64_t{0} : (uint64_t{1} << (8 * (l - 8))) - 1;
    }
  }
};
constexpr ShortMasks kShortMasks;

// Any word: short ones copied into a zeroed 16-byte buffer (no over-read).
inline uint64_t HashWordSafe(std::string_view s) {
  if (s.size() > 16) return XXH3_64bits(s.data(), s.size());
  uint8_t buf[16] = {0};
  std::memcpy(buf, s.data(), s.size());
  uint64_t lo, hi;
  std::memcpy(&lo, buf, 8);
  std::memcpy(&hi, buf + 8, 8);
  return ShortWordHash(lo, hi, s.size());
}

// A word with at least 16 readable bytes at s.data() (the block tokeniser's
// normalised buffer has 64 bytes of room past its end): two plain loads and
// two masks. Same value as HashWordSafe.
__attribute__((always_inline)) inline uint64_t HashWordPadded(std::string_view s) {
  if (s.size() > 16) [[unlikely]] return XXH3_64bits(s.data(), s.size());
  uint64_t lo, hi;
  std::memcpy(&lo, s.data(), 8);
  std::memcpy(&hi, s.data() + 8, 8);
  return ShortWordHash(lo & kShortMasks.lo[s.size()], hi & kShortMasks.hi[s.size()], s.size());
}

template <typename... Tag>
__attribute__((always_inline)) inline uint64_t HashEmitted(std::string_view w, Tag...) {
  if constexpr (sizeof...(Tag) > 0) return HashWordPadded(w);
  else return HashWordSafe(w);
}

// ---- lm-eval block tokeniser: normalise whole blocks, then walk words ----
// The normalised text is built block by block (text_normalize_simd.h,
// LmEvalBlocks) with no per-word branches; a word is then a slice of it
// located by two popcounts, whatever its case or punctuation.
struct BlockScratch {
  std::unique_ptr<uint8_t[]> text;
  size_t text_cap = 0;
  std::vector<uint64_t> masks;  // space, keep, lead: 3 x (nb + 1)
  std::vector<uint32_t> cbase;
};

bool UseAvx512Blocks() {
  static const bool ok = DetectSimdLevel() >= SimdLevel::kAvx512 && text_internal::LmEvalAvx512Supported();
  return ok;
}

template <typename Emit>
void TokenizeLmEvalBlocksT(std::string_view text, Emit&& emit, bool avx512) {
  const uint8_t* base = reinterpret_cast<const uint8_t*>(text.data());
  const size_t size = text.size();
  const size_t nb = (size + 63) / 64;
  thread_local BlockScratch bs;
  if (bs.text_cap < size + 64) {
    bs.text_cap = std::max(size + 64, 2 * bs.text_cap);
    bs.text.reset(new uint8_t[bs.text_cap]);
  }
  if (bs.cbase.size() < nb + 1) {
    bs.cbase.resize(std::max(nb + 1, 2 * bs.cbase.size()));
    bs.masks.resize(3 * bs.cbase.size());
  }
  const size_t stride = bs.cbase.size();
  text_internal::LmEvalBlocks blk{bs.text.get(), bs.masks.data(), bs.masks.data() + stride,
                                  bs.masks.data() + 2 * stride, bs.cbase.data()};
  if (avx512) text_internal::NormalizeBlocksLmEvalAvx512(base, size, &blk);
  else text_internal::NormalizeBlocksLmEvalScalar(base, size, &blk);
  // Multi-byte Unicode spaces: rare, checked at their lead bytes only.
  for (size_t b = 0; b < nb; ++b) {
    for (uint64_t ld = blk.lead[b]; ld; ld &= ld - 1) {
      const size_t pos = b * 64 + std::countr_zero(ld);
      const size_t len = UnicodeSpaceLen(base + pos, base + size);
      for (size_t q = pos; q < pos + len; ++q) blk.space[q >> 6] |= uint64_t{1} << (q & 63);
    }
  }
  const uint64_t* keep = blk.keep;
  const uint32_t* cbase = blk.cbase;
  const char* norm = reinterpret_cast<const char*>(blk.text);
  WalkWords(blk.space, nb, size, [&](size_t s, size_t e) __attribute__((always_inline)) {
    const size_t cs = cbase[s >> 6] + std::popcount(keep[s >> 6] & ((uint64_t{1} << (s & 63)) - 1));
    const size_t ce = cbase[e >> 6] + std::popcount(keep[e >> 6] & ((uint64_t{1} << (e & 63)) - 1));
    if (ce <= cs) return;  // all-punctuation words vanish
    EmitWord(emit, s, e, std::string_view(norm + cs, ce - cs), true);  // the buffer has 64 bytes of room
  });
}

// The kWords tokeniser over [from, to) of the text [base, end): `to` must be
// the text's end or an ASCII non-word byte (so no word or UTF-8 sequence
// crosses it); base/end give Final_Sigma its context.
template <typename Emit>
void TokenizeWordsRange(const unsigned char* base, const unsigned char* end, const unsigned char* from,
                        const unsigned char* to, std::string& scratch, Emit&& emit) {
  const unsigned char* p = from;
  while (p < to) {
    // A word: a run of code points that are \w after lowering. Words that
    // lowering leaves unchanged are hashed from the input bytes directly.
    const unsigned char* begin = p;
    bool copying = false;
    const unsigned char* q = p;
    while (q < end) {
      unsigned char c = *q;
      if (c < 0x80) {
        uint8_t k = kClass[c];
        if (!(k == kKeep || k == kUpper || c == '_')) break;
        if (k == kUpper && !copying) {
          scratch.assign(reinterpret_cast<const char*>(begin), q - begin);
          copying = true;
        }
        if (copying) scratch.push_back(static_cast<char>(k == kUpper ? (c | 0x20) : c));
        ++q;
        continue;
      }
      uint32_t cp;
      size_t len = DecodeUtf8(q, end, &cp);
      if (len == 0) break;
      uint32_t low = LowerCodePoint(cp);
      if (!IsWordCodePoint(low)) break;
      if (cp == 0x3A3 && IsFinalSigma(base, end, q)) low = 0x3C2;
      if (low != cp && !copying) {
        scratch.assign(reinterpret_cast<const char*>(begin), q - begin);
        copying = true;
      }
      if (copying) AppendUtf8(low, &scratch);
      q += len;
      if (cp == 0x130) break;  // lowers to "i" + U+0307, which is not \w
    }
    if (q > begin) {
      if (!copying)
        EmitWord(emit, begin - base, q - base, std::string_view(reinterpret_cast<const char*>(begin), q - begin), end - begin >= 16);
      else emit(begin - base, q - base, std::string_view(scratch));
      p = q;
      continue;
    }
    // p is a separator: skip one character.
    uint32_t cp;
    size_t len = *p < 0x80 ? 1 : DecodeUtf8(p, end, &cp);
    p += len ? len : 1;
  }
}

template <typename Emit>
void TokenizeWords(std::string_view text, Emit&& emit) {
  const unsigned char* base = reinterpret_cast<const unsigned char*>(text.data());
  std::string scratch;
  TokenizeWordsRange(base, base + text.size(), base, base + text.size(), scratch, emit);
}

// kWords block tokeniser: ASCII-only runs of word bytes are words, lowered
// block-wise (text_normalize_simd.h, WordsBlocks); runs with non-ASCII bytes
// go through TokenizeWordsRange.
struct WordsScratch {
  std::unique_ptr<uint8_t[]> text;
  size_t text_cap = 0;
  std::vector<uint64_t> masks;  // sep, high: 2 x (nb + 1)
};

template <typename Emit>
void TokenizeWordsBlocksT(std::string_view text, Emit&& emit, bool avx512) {
  const unsigned char* base = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  const size_t nb = (size + 63) / 64;
  thread_local WordsScratch ws;
  if (ws.text_cap < size + 64) {
    ws.text_cap = std::max(size + 64, 2 * ws.text_cap);
    ws.text.reset(new uint8_t[ws.text_cap]);
  }
  if (ws.masks.size() < 2 * (nb + 1)) ws.masks.resize(std::max(2 * (nb + 1), 2 * ws.masks.size()));
  const size_t stride = ws.masks.size() / 2;
  text_internal::WordsBlocks blk{ws.text.get(), ws.masks.data(), ws.masks.data() + stride};
  if (avx512) text_internal::NormalizeBlocksWordsAvx512(base, size, &blk);
  else text_internal::NormalizeBlocksWordsScalar(base, size, &blk);
  const uint64_t* high = blk.high;
  const char* lowered = reinterpret_cast<const char*>(blk.text);
  std::string scratch;
  WalkWords(blk.sep, nb, size, [&](size_t s, size_t e) __attribute__((always_inline)) {
    // Most blocks hold no byte >= 0x80: a word of <= 64 bytes spans at most
    // two, so two loads usually settle it.
    if ((e - s <= 64 && (high[s >> 6] | high[(e - 1) >> 6]) == 0) || !AnySetInRange(high, s, e)) {
      EmitWord(emit, s, e, std::string_view(lowered + s, e - s), true);  // the buffer has 64 bytes of room
    } else {
      TokenizeWordsRange(base, base + size, base + s, base + e, scratch, emit);
    }
  });
}


template <typename Emit>
void TokenizeAny(NormalizationMode mode, std::string_view text, Emit&& emit) {
  if (mode == NormalizationMode::kLmEval) {
    if (UseAvx512Blocks()) TokenizeLmEvalBlocksT(text, emit, true);
    else TokenizeLmEvalFast(text, emit, true);
  }
  else if (UseAvx512Blocks()) TokenizeWordsBlocksT(text, emit, true);
  else TokenizeWords(text, emit);
}

}  // namespace

const char* NormalizationModeName(NormalizationMode mode) {
  return mode == NormalizationMode::kLmEval ? "lm-eval" : "words";
}

bool ParseNormalizationMode(std::string_view name, NormalizationMode* mode) {
  if (name == "words") { *mode = NormalizationMode::kWords; return true; }
  if (name == "lm-eval" || name == "lm_eval" || name == "lmeval") { *mode = NormalizationMode::kLmEval; return true; }
  return false;
}

void WordTokenizer::Tokenize(std::string_view text, std::vector<Word>* out) const {
  out->clear();
  TokenizeAny(mode_, text, [out](size_t b, size_t e, std::string_view w, auto... padded) {
    out->push_back(Word{HashEmitted(w, padded...), static_cast<uint32_t>(b), static_cast<uint32_t>(e)});
  });
}

void WordTokenizer::TokenizeHashes(std::string_view text, WordHashes* out) const {
  out->Clear();
  out->Reserve(text.size() / 5 + 16);  // typical text: ~6 bytes per word
  size_t cap = out->capacity();
  uint64_t* h = out->hashes();
  uint32_t* b = out->begins();
  uint32_t* e = out->ends();
  size_t k = 0;
  TokenizeAny(mode_, text, [&](size_t wb, size_t we, std::string_view w, auto... padded) __attribute__((always_inline)) {
    if (k == cap) {
      out->SetSize(k);
      out->Reserve(k + 1);  // grows geometrically, keeping the contents
      cap = out->capacity();
      h = out->hashes();
      b = out->begins();
      e = out->ends();
    }
    h[k] = HashEmitted(w, padded...);
    b[k] = static_cast<uint32_t>(wb);
    e[k] = static_cast<uint32_t>(we);
    ++k;
  });
  out->SetSize(k);
}

void WordHashes::Reserve(size_t n) {
  if (n <= capacity_) return;
  capacity_ = std::max(n, 2 * capacity_);
  // Uninitialised (filled before read); the first size() entries are kept.
  std::unique_ptr<uint64_t[]> h(new uint64_t[capacity_]);
  std::unique_ptr<uint32_t[]> b(new uint32_t[capacity_]), e(new uint32_t[capacity_]);
  if (size_) {
    std::memcpy(h.get(), hashes_.get(), size_ * sizeof(uint64_t));
    std::memcpy(b.get(), begins_.get(), size_ * sizeof(uint32_t));
    std::memcpy(e.get(), ends_.get(), size_ * sizeof(uint32_t));
  }
  hashes_ = std::move(h);
  begins_ = std::move(b);
  ends_ = std::move(e);
}

void WordHashes::AssignTokens(const uint32_t* tokens, size_t count) {
  Clear();
  Reserve(count);
  for (size_t i = 0; i < count; ++i) {
    hashes_[i] = HashTokenId(tokens[i]);
    begins_[i] = static_cast<uint32_t>(i);
    ends_[i] = static_cast<uint32_t>(i + 1);
  }
  size_ = count;
}

void WordTokenizer::NormalizedWords(std::string_view text, std::vector<std::string>* out) const {
  out->clear();
  TokenizeAny(mode_, text, [out](size_t, size_t, std::string_view w) { out->emplace_back(w); });
}

std::string WordTokenizer::Normalize(std::string_view text) const {
  std::string out;
  TokenizeAny(mode_, text, [&out](size_t, size_t, std::string_view w) {
    if (!out.empty()) out.push_back(' ');
    out.append(w);
  });
  return out;
}

uint64_t HashWord(std::string_view normalized_word) { return HashWordSafe(normalized_word); }

uint64_t HashNgram(const uint64_t* word_hashes, size_t n) {
  static_assert(std::endian::native == std::endian::little, "hashes are little-endian u64s");
  uint64_t h;
  NgramHashes(word_hashes, 1, n, &h);
  return h;
}

uint64_t HashWordNgram(const Word* words, size_t n) {
  uint64_t buf[64];
  if (n <= 64) {
    for (size_t i = 0; i < n; ++i) buf[i] = words[i].hash;
    return HashNgram(buf, n);
  }
  std::vector<uint64_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = words[i].hash;
  return HashNgram(v.data(), n);
}

void ShingleHashes(std::string_view text, const ShingleOptions& options, std::vector<uint64_t>* out) {
  const size_t n = std::max(1u, options.n);
  if (options.kind != ShingleKind::kWord) {
    out->clear();
    if (options.kind != ShingleKind::kChar) return;  // token shingles: TokenShingleHashes
    std::string norm = WordTokenizer(options.mode).Normalize(text);
    if (norm.empty()) return;
    if (norm.size() <= n) {
      out->push_back(XXH3_64bits(norm.data(), norm.size()));  // char shingles: XXH3 of their bytes
      return;
    }
    out->reserve(norm.size() - n + 1);
    for (size_t i = 0; i + n <= norm.size(); ++i) out->push_back(XXH3_64bits(norm.data() + i, n));
    return;
  }
  // Word hashes into a per-thread buffer (no allocation per text), then the
  // n-gram hashes in one tight loop.
  thread_local std::vector<uint64_t> hashes;
  hashes.clear();
  TokenizeAny(options.mode, text,
              [](size_t, size_t, std::string_view w, auto... padded) { hashes.push_back(HashEmitted(w, padded...)); });
  if (hashes.empty()) {
    out->clear();
    return;
  }
  if (hashes.size() < n) {
    out->assign(1, HashNgram(hashes.data(), hashes.size()));
    return;
  }
  // Not cleared first: a reused vector zero-fills only its growth.
  out->resize(hashes.size() - n + 1);
  size_t done = 0;
  if (UseAvx512Ngrams()) {
    done = text_internal::NgramHashesAvx512(hashes.data(), out->size(), n, kSecretWords.w, out->data());
  }
  NgramHashes(hashes.data() + done, out->size() - done, n, out->data() + done);
  // A book-sized text does not pin its word buffer (> 1 MiB) to the thread.
  if (hashes.capacity() > (size_t{1} << 17)) std::vector<uint64_t>().swap(hashes);
}

void TokenShingleHashes(const uint32_t* tokens, size_t count, unsigned n, std::vector<uint64_t>* out) {
  out->clear();
  n = std::max(1u, n);
  if (count == 0) return;
  if (count < n) {
    out->push_back(XXH3_64bits(tokens, count * sizeof(uint32_t)));
    return;
  }
  out->reserve(count - n + 1);
  for (size_t i = 0; i + n <= count; ++i) out->push_back(XXH3_64bits(tokens + i, n * sizeof(uint32_t)));
}

uint64_t HashTokenId(uint32_t token) {
  static_assert(std::endian::native == std::endian::little, "token ids are hashed as little-endian u32s");
  return XXH3_64bits(&token, sizeof(token));
}

void TokenWords(const uint32_t* tokens, size_t count, std::vector<Word>* out) {
  out->resize(count);
  Word* w = out->data();
  for (size_t i = 0; i < count; ++i) w[i] = Word{HashTokenId(tokens[i]), static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1)};
}

namespace text_internal {

void ClassifyLmEvalScalar(const uint8_t* p, size_t nblocks, uint64_t* space, uint64_t* special) {
  for (size_t b = 0; b < nblocks; ++b, p += 64) {
    uint64_t sp = 0, x = 0;
    for (int i = 0; i < 64; ++i) {
      uint8_t k = kClass[p[i]];
      sp |= uint64_t{k == kSpace} << i;
      x |= uint64_t{k == kUpper || k == kPunct || k == kHigh} << i;
    }
    space[b] = sp;
    special[b] = x;
  }
}

void NormalizeBlocksLmEvalScalar(const uint8_t* text, size_t size, LmEvalBlocks* out) {
  const size_t nb = (size + 63) / 64;
  uint32_t c = 0;
  for (size_t b = 0; b < nb; ++b) {
    uint64_t sp = 0, kept = 0, ld = 0;
    out->cbase[b] = c;
    for (size_t i = 0; i < 64; ++i) {
      const size_t q = b * 64 + i;
      if (q >= size) {
        sp |= uint64_t{1} << i;
        continue;
      }
      const uint8_t ch = text[q];
      const uint8_t k = kClass[ch];
      sp |= uint64_t{k == kSpace} << i;
      ld |= uint64_t{ch == 0xC2 || ch == 0xE1 || ch == 0xE2 || ch == 0xE3} << i;
      if (k == kPunct) continue;
      kept |= uint64_t{1} << i;
      out->text[c++] = kLowerAscii[ch];
    }
    out->space[b] = sp;
    out->keep[b] = kept;
    out->lead[b] = ld;
  }
  out->space[nb] = ~uint64_t{0};
  out->keep[nb] = 0;
  out->lead[nb] = 0;
  out->cbase[nb] = c;
}

void TokenizeLmEvalBlocks(const char* text, size_t size, EmitFn emit, void* ctx, bool allow_avx512) {
  TokenizeLmEvalBlocksT(std::string_view(text, size),
                       [&](size_t b, size_t e, std::string_view w) { emit(ctx, b, e, w.data(), w.size()); },
                       allow_avx512 && UseAvx512Blocks());
}

const uint64_t* Xxh3SecretWords() { return kSecretWords.w; }

void NormalizeBlocksWordsScalar(const uint8_t* text, size_t size, WordsBlocks* out) {
  const size_t nb = (size + 63) / 64;
  for (size_t b = 0; b < nb; ++b) {
    uint64_t sep = 0, high = 0;
    for (size_t i = 0; i < 64; ++i) {
      const size_t q = b * 64 + i;
      if (q >= size) {
        sep |= uint64_t{1} << i;
        continue;
      }
      const uint8_t c = text[q];
      const uint8_t k = kClass[c];
      out->text[q] = kLowerAscii[c];
      high |= uint64_t{k == kHigh} << i;
      sep |= uint64_t{k != kHigh && k != kKeep && k != kUpper && c != '_'} << i;
    }
    out->sep[b] = sep;
    out->high[b] = high;
  }
  out->sep[nb] = ~uint64_t{0};
  out->high[nb] = 0;
}

void TokenizeWordsScalar(const char* text, size_t size, EmitFn emit, void* ctx) {
  TokenizeWords(std::string_view(text, size),
                [&](size_t b, size_t e, std::string_view w) { emit(ctx, b, e, w.data(), w.size()); });
}

void TokenizeWordsBlocks(const char* text, size_t size, EmitFn emit, void* ctx, bool allow_avx512) {
  TokenizeWordsBlocksT(std::string_view(text, size),
                       [&](size_t b, size_t e, std::string_view w) { emit(ctx, b, e, w.data(), w.size()); },
                       allow_avx512 && UseAvx512Blocks());
}

void TokenizeLmEvalBytewise(const char* text, size_t size, EmitFn emit, void* ctx) {
  TokenizeLmEval(std::string_view(text, size),
                 [&](size_t b, size_t e, std::string_view w) { emit(ctx, b, e, w.data(), w.size()); });
}

void TokenizeLmEvalBitmask(const char* text, size_t size, EmitFn emit, void* ctx, bool allow_avx2) {
  TokenizeLmEvalFast(std::string_view(text, size),
                     [&](size_t b, size_t e, std::string_view w) { emit(ctx, b, e, w.data(), w.size()); }, allow_avx2);
}

}  // namespace text_internal
}  // namespace dedupdb
