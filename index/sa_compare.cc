#include "index/sa_compare.h"

#include <cstring>

#include <simde/x86/sse2.h>

namespace dedupdb {

size_t MismatchScalar(const uint8_t* a, const uint8_t* b, size_t n) {
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

size_t MismatchSse42(const uint8_t* a, const uint8_t* b, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    simde__m128i x = simde_mm_loadu_si128(reinterpret_cast<const simde__m128i*>(a + i));
    simde__m128i y = simde_mm_loadu_si128(reinterpret_cast<const simde__m128i*>(b + i));
    unsigned eq = static_cast<unsigned>(simde_mm_movemask_epi8(simde_mm_cmpeq_epi8(x, y)));
    if (eq != 0xFFFFu) return i + __builtin_ctz(~eq);
  }
  return MismatchTail(a, b, i, n);
}

MismatchFn MismatchFor(SimdLevel level) {
  switch (level) {
    case SimdLevel::kAvx512: return MismatchAvx512;
    case SimdLevel::kAvx2: return MismatchAvx2;
    case SimdLevel::kSse42: return MismatchSse42;
    case SimdLevel::kScalar: break;
  }
  return MismatchScalar;
}

size_t Mismatch(const uint8_t* a, const uint8_t* b, size_t n) {
  static const MismatchFn fn = MismatchFor(DetectSimdLevel());
  return fn(a, b, n);
}

}  // namespace dedupdb
