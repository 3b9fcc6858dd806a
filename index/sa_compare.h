// The hot comparison of suffix-array queries: the first position where two
// byte strings differ. Binary search (suffix vs. query) and the LCP of
// adjacent suffixes are both built on it. Vector versions (SIMDe) are picked
// at run time from storage/cpu_features.h; MismatchScalar is the reference
// they are tested equal to.
#pragma once

#include <cstddef>
#include <cstdint>

#include "storage/cpu_features.h"

namespace dedupdb {

// Index of the first i < n with a[i] != b[i], or n if the ranges are equal.
// Never reads a[n] or b[n] or beyond.
using MismatchFn = size_t (*)(const uint8_t* a, const uint8_t* b, size_t n);

size_t MismatchScalar(const uint8_t* a, const uint8_t* b, size_t n);
size_t MismatchSse42(const uint8_t* a, const uint8_t* b, size_t n);   // 16 bytes a step
size_t MismatchAvx2(const uint8_t* a, const uint8_t* b, size_t n);    // 32 bytes, sa_compare_avx2.cc
size_t MismatchAvx512(const uint8_t* a, const uint8_t* b, size_t n);  // 64 bytes + masked tail, sa_compare_avx512.cc

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
