// AVX2 mismatch (compiled with -mavx2; called only when the CPU has it).
#include <cstring>

#include <simde/x86/avx2.h>

#include "index/sa_compare.h"

namespace dedupdb {

size_t MismatchAvx2(const uint8_t* a, const uint8_t* b, size_t n) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    simde__m256i x = simde_mm256_loadu_si256(reinterpret_cast<const simde__m256i*>(a + i));
    simde__m256i y = simde_mm256_loadu_si256(reinterpret_cast<const simde__m256i*>(b + i));
    uint32_t eq = static_cast<uint32_t>(simde_mm256_movemask_epi8(simde_mm256_cmpeq_epi8(x, y)));
    if (eq != 0xFFFFFFFFu) return i + __builtin_ctz(~eq);
  }
  return MismatchTail(a, b, i, n);
}

}  // namespace dedupdb
