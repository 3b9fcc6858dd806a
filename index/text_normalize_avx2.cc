// AVX2 byte classifier for the lm-eval tokeniser (see text_normalize_simd.h).
// Unsigned range tests use x - lo <= hi - lo via min_epu8.
#include <simde/x86/avx2.h>

#include "index/text_normalize_simd.h"

namespace dedupdb::text_internal {
namespace {

inline simde__m256i InRange(simde__m256i v, uint8_t lo, uint8_t hi) {
  simde__m256i x = simde_mm256_sub_epi8(v, simde_mm256_set1_epi8(static_cast<char>(lo)));
  simde__m256i lim = simde_mm256_set1_epi8(static_cast<char>(hi - lo));
  return simde_mm256_cmpeq_epi8(simde_mm256_min_epu8(x, lim), x);
}

inline void Classify32(const uint8_t* p, uint32_t* space, uint32_t* special) {
  simde__m256i v = simde_mm256_loadu_si256(reinterpret_cast<const simde__m256i*>(p));
  simde__m256i sp = simde_mm256_or_si256(InRange(v, 9, 13), InRange(v, 0x1c, 0x20));
  simde__m256i punct = simde_mm256_or_si256(simde_mm256_or_si256(InRange(v, 0x21, 0x2f), InRange(v, 0x3a, 0x40)),
                                            simde_mm256_or_si256(InRange(v, 0x5b, 0x60), InRange(v, 0x7b, 0x7e)));
  simde__m256i spec = simde_mm256_or_si256(simde_mm256_or_si256(punct, InRange(v, 'A', 'Z')), v);  // v: high bit
  *space = static_cast<uint32_t>(simde_mm256_movemask_epi8(sp));
  // movemask of (punct|upper) is all-ones bytes; v contributes its own sign bit.
  *special = static_cast<uint32_t>(simde_mm256_movemask_epi8(spec));
}

}  // namespace

void ClassifyLmEvalAvx2(const uint8_t* p, size_t nblocks, uint64_t* space, uint64_t* special) {
  for (size_t b = 0; b < nblocks; ++b, p += 64) {
    uint32_t s0, s1, x0, x1;
    Classify32(p, &s0, &x0);
    Classify32(p + 32, &s1, &x1);
    space[b] = s0 | (uint64_t{s1} << 32);
    special[b] = x0 | (uint64_t{x1} << 32);
  }
}

}  // namespace dedupdb::text_internal
