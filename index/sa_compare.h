// The hot comparison of suffix-array queries: the first position where two
// byte strings differ. Binary search (suffix vs. query) and the LCP of
// adjacent suffixes are both built on it. Vector versions (SIMDe) are picked
// at run time from storage/cpu_features.h; MismatchScalar is the reference
// they are tested equal to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "storage/cpu_features.h"

namespace dedupdb {

// Index of the first i < n with a[i] != b[i], or n if the ranges are equal.
// Never reads a[n] or b[n] or beyond.
using MismatchFn = size_t (*)(const uint8_t* a, const uint8_t* b, size_t n);

size_t MismatchScalar(const uint8_t* a, const uint8_t* b, size_t n);
size_t MismatchSse42(const uint8_t* a, const uint8_t* b, size_t n);   // 16 bytes a step
size_t MismatchAvx2(const uint8_t* a, const uint8_t* b, size_t n);    // 32 bytes, sa_compare_avx2.cc
size_t MismatchAvx512(const uint8_t* a, const uint8_t* b, size_t n);  // 64 bytes + masked tail, sa_compare_avx512.cc

// Word-at-a-time tail shared by the vector versions: 8 bytes per step, then
// bytes, from position i. `static` on purpose: each TU (compiled with its own
// -m flags) keeps its own copy, so the linker can never hand the baseline
// code a copy built for a wider ISA.
static inline size_t MismatchTail(const uint8_t* a, const uint8_t* b, size_t i, size_t n) {
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    if (x != y) return i + (__builtin_ctzll(x ^ y) >> 3);  // little-endian: lowest byte first
  }
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

// The implementation for a level (never one the level does not allow).
MismatchFn MismatchFor(SimdLevel level);

// Dispatched to the best level of DetectSimdLevel() (chosen once).
size_t Mismatch(const uint8_t* a, const uint8_t* b, size_t n);

// Three-way compare of a suffix prefix against a query: `avail` bytes of the
// suffix are readable. Returns <0 / >0 if the suffix orders before / after
// every string starting with the query, 0 if the query is a prefix of it.
// *lcp receives the common prefix length in bytes. Bytes [0, skip) are known
// equal and are not compared.
inline int CompareSuffixToQuery(const uint8_t* suffix, size_t avail, const uint8_t* query, size_t qlen, size_t skip,
                                size_t* lcp) {
  size_t n = avail < qlen ? avail : qlen;
  size_t m = skip >= n ? n : skip + Mismatch(suffix + skip, query + skip, n - skip);
  *lcp = m;
  if (m == qlen) return 0;
  if (m == avail) return -1;  // suffix is a proper prefix of the query: smaller
  return suffix[m] < query[m] ? -1 : 1;
}

}  // namespace dedupdb
