// Internal to index/text_normalize.cc: byte classification into bitmasks for
// the lm-eval tokeniser's fast path. For every byte of a 64-byte block, bit i
// of `space` is set if byte i is ASCII whitespace as Python's str.split()
// sees it (\t \n \v \f \r, 0x1c-0x1f, space) and bit i of `special` if it is
// A-Z, ASCII punctuation (string.punctuation) or >= 0x80. The AVX2 kernel is
// tested equal to the scalar one (tests/text_normalize_test.cc).
#pragma once

#include <cstddef>
#include <cstdint>

namespace dedupdb::text_internal {

// Classifies nblocks full 64-byte blocks starting at p.
void ClassifyLmEvalScalar(const uint8_t* p, size_t nblocks, uint64_t* space, uint64_t* special);
void ClassifyLmEvalAvx2(const uint8_t* p, size_t nblocks, uint64_t* space, uint64_t* special);

// Tokenisers used by WordTokenizer, exposed so tests can compare paths:
// the byte-at-a-time reference and the bitmask fast path (which uses the
// best classifier the CPU allows). Both emit (begin, end, normalised word).
using EmitFn = void (*)(void* ctx, size_t begin, size_t end, const char* word, size_t len);
void TokenizeLmEvalBytewise(const char* text, size_t size, EmitFn emit, void* ctx);
void TokenizeLmEvalBitmask(const char* text, size_t size, EmitFn emit, void* ctx, bool allow_avx2);

// Block normalisation (lm-eval mode), the form the block tokeniser walks.
// For a text of nb = ceil(size / 64) blocks, arrays of nb + 1 entries:
//   space[b]  bit i: byte 64b+i is ASCII whitespace (str.split's set), or
//             past the end of the text (space[nb] is all ones);
//   keep[b]   bit i: byte 64b+i survives normalisation (not ASCII
//             punctuation, inside the text);
//   lead[b]   bit i: byte 64b+i is 0xC2, 0xE1, 0xE2 or 0xE3 (the lead bytes
//             of the multi-byte Unicode spaces; the caller checks the rest);
//   cbase[b]  kept bytes before block b (cbase[nb] = all kept bytes);
//   text      the kept bytes with A-Z lowered, contiguous (size + 64 bytes
//             of room: the kernels store whole blocks).
// A word [s, e) of the original text is then text[c(s), c(e)) with
// c(x) = cbase[x / 64] + popcount(keep[x / 64] below bit x % 64).
struct LmEvalBlocks {
  uint8_t* text;
  uint64_t* space;
  uint64_t* keep;
  uint64_t* lead;
  uint32_t* cbase;
};
void NormalizeBlocksLmEvalScalar(const uint8_t* text, size_t size, LmEvalBlocks* out);
void NormalizeBlocksLmEvalAvx512(const uint8_t* text, size_t size, LmEvalBlocks* out);
// The CPU has what NormalizeBlocksLmEvalAvx512 needs (AVX-512 BW/VL/VBMI/VBMI2).
bool LmEvalAvx512Supported();
// The block tokeniser: normalises with the AVX-512 kernel if allowed and
// supported (else the scalar one), marks Unicode spaces, walks the words.
void TokenizeLmEvalBlocks(const char* text, size_t size, EmitFn emit, void* ctx, bool allow_avx512);

// kWords mode (MinHash) blocks, arrays of nb + 1 entries:
//   sep[b]   bit i: byte 64b+i is an ASCII byte that is not a word byte
//            ([0-9A-Za-z_]), or past the end (sep[nb] is all ones);
//   high[b]  bit i: byte 64b+i is >= 0x80 (inside the text);
//   text     the text with A-Z lowered, same positions (size + 64 bytes of
//            room).
// Runs of non-sep bytes without high bytes are whole words; runs with high
// bytes go through the scalar Unicode tokeniser (they end at ASCII bytes,
// so UTF-8 sequences are never cut).
struct WordsBlocks {
  uint8_t* text;
  uint64_t* sep;
  uint64_t* high;
};
void NormalizeBlocksWordsScalar(const uint8_t* text, size_t size, WordsBlocks* out);
void NormalizeBlocksWordsAvx512(const uint8_t* text, size_t size, WordsBlocks* out);
// The scalar kWords tokeniser (the oracle) and the block tokeniser.
void TokenizeWordsScalar(const char* text, size_t size, EmitFn emit, void* ctx);
void TokenizeWordsBlocks(const char* text, size_t size, EmitFn emit, void* ctx, bool allow_avx512);

// N-gram hashes (ShingleHashes' bulk loop), 8 windows per instruction:
// out[i] = XXH3-64 of h[i .. i+n) as little-endian bytes (= HashNgram) for
// 3 <= n <= 16, computed for the first count / 8 * 8 windows; returns how
// many were done (0 for other n). secret = XXH3's default secret as 16
// little-endian u64s. Call only if DetectSimdLevel() >= kAvx512.
size_t NgramHashesAvx512(const uint64_t* h, size_t count, size_t n, const uint64_t* secret, uint64_t* out);
// XXH3's default secret as 16 little-endian u64s (the `secret` above).
const uint64_t* Xxh3SecretWords();

}  // namespace dedupdb::text_internal
