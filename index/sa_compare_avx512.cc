// AVX-512BW mismatch (compiled with -mavx512bw; called only when the CPU has
// it): 64 bytes a step, then 8-byte words and bytes for the tail (the SIMDe
// release in Debian has no masked byte loads).
#include <cstring>

#include <simde/x86/avx512.h>

#include "index/sa_compare.h"

namespace dedupdb {

size_t MismatchAvx512(const uint8_t* a, const uint8_t* b, size_t n) {
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    simde__m512i x = simde_mm512_loadu_si512(a + i);
    simde__m512i y = simde_mm512_loadu_si512(b + i);
    uint64_t eq = simde_mm512_cmpeq_epi8_mask(x, y);
    if (eq != ~uint64_t{0}) return i + __builtin_ctzll(~eq);
  }
  return MismatchTail(a, b, i, n);
}

}  // namespace dedupdb
