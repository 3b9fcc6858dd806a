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

}  // namespace dedupdb::text_internal
