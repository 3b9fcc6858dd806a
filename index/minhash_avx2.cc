// AVX2 MinHash kernel: the arithmetic of index/minhash_avx512.cc on 4 lanes,
// the same fast loop (11 ops per 4 permutations per shingle) for blocks
// without a may-wrap permutation and the same exact loop for the others. AVX2 has no unsigned 64-bit min/compare; every value
// compared in the exact loop is < 2^62, so the signed compare is exact.
#include <simde/x86/avx2.h>

#include "index/minhash.h"

namespace dedupdb::internal {

namespace {
// a*h + b with a*h's upper part already folded mod p (< 2^64; see above):
// the 6 ops both loops share before their final reduction.
inline simde__m256i SumBeforeFold(simde__m256i alo, simde__m256i ahi, simde__m256i b, simde__m256i h, simde__m256i P) {
  const simde__m256i t1 = simde_mm256_mul_epu32(alo, h);
  simde__m256i t2 = simde_mm256_mul_epu32(ahi, h);
  t2 = simde_mm256_add_epi64(simde_mm256_and_si256(simde_mm256_slli_epi64(t2, 31), P), simde_mm256_srli_epi64(t2, 30));
  return simde_mm256_add_epi64(simde_mm256_add_epi64(t1, t2), b);
}

template <int V>
void BlockExact(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, const uint32_t* h32, size_t n,
           uint32_t* sig) {
  const simde__m256i P = simde_mm256_set1_epi64x(static_cast<long long>(kMersenne61));
  const simde__m256i Pm1 = simde_mm256_set1_epi64x(static_cast<long long>(kMersenne61 - 1));
  const simde__m256i M32 = simde_mm256_set1_epi64x(0xFFFFFFFFll);
  simde__m256i alo[V], ahi[V], bb[V], acc[V];
  for (int v = 0; v < V; ++v) {
    alo[v] = simde_mm256_loadu_si256(reinterpret_cast<const simde__m256i*>(a_lo + 4 * v));
    ahi[v] = simde_mm256_loadu_si256(reinterpret_cast<const simde__m256i*>(a_hi + 4 * v));
    bb[v] = simde_mm256_loadu_si256(reinterpret_cast<const simde__m256i*>(b + 4 * v));
    acc[v] = M32;
  }
  for (size_t i = 0; i < n; ++i) {
    const simde__m256i h = simde_mm256_set1_epi64x(static_cast<long long>(h32[i]));
    for (int v = 0; v < V; ++v) {
      const simde__m256i s = SumBeforeFold(alo[v], ahi[v], bb[v], h, P);
      simde__m256i r = simde_mm256_add_epi64(simde_mm256_and_si256(s, P), simde_mm256_srli_epi64(s, 61));
      // r >= p  <=>  r > p - 1: subtract p there.
      r = simde_mm256_sub_epi64(r, simde_mm256_and_si256(simde_mm256_cmpgt_epi64(r, Pm1), P));
      // Only the low 32 bits count: an unsigned 32-bit min keeps them in the
      // even lanes (the odd lanes collect junk that is never read).
      acc[v] = simde_mm256_min_epu32(acc[v], r);
    }
  }
  for (int v = 0; v < V; ++v) {
    alignas(32) uint64_t tmp[4];
    simde_mm256_store_si256(reinterpret_cast<simde__m256i*>(tmp), acc[v]);
    for (int j = 0; j < 4; ++j) sig[4 * v + j] = static_cast<uint32_t>(tmp[j]);
  }
}
template <int V>
void BlockFast(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, const uint32_t* h32, size_t n,
               uint32_t* sig) {
  const simde__m256i P = simde_mm256_set1_epi64x(static_cast<long long>(kMersenne61));
  simde__m256i alo[V], ahi[V], bb[V], acc[V];
  for (int v = 0; v < V; ++v) {
    alo[v] = simde_mm256_loadu_si256(reinterpret_cast<const simde__m256i*>(a_lo + 4 * v));
    ahi[v] = simde_mm256_loadu_si256(reinterpret_cast<const simde__m256i*>(a_hi + 4 * v));
    bb[v] = simde_mm256_loadu_si256(reinterpret_cast<const simde__m256i*>(b + 4 * v));
    acc[v] = simde_mm256_set1_epi64x(-1);
  }
  for (size_t i = 0; i < n; ++i) {
    const simde__m256i h = simde_mm256_set1_epi64x(static_cast<long long>(h32[i]));
    for (int v = 0; v < V; ++v) {
      const simde__m256i s = SumBeforeFold(alo[v], ahi[v], bb[v], h, P);
      acc[v] = simde_mm256_min_epu32(acc[v], simde_mm256_add_epi64(s, simde_mm256_srli_epi64(s, 61)));
    }
  }
  for (int v = 0; v < V; ++v) {
    alignas(32) uint64_t tmp[4];
    simde_mm256_store_si256(reinterpret_cast<simde__m256i*>(tmp), acc[v]);
    for (int j = 0; j < 4; ++j) sig[4 * v + j] = static_cast<uint32_t>(tmp[j]);
  }
}

template <int V, bool kFast>
void Block(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, const uint8_t* may_wrap,
           const uint32_t* h32, size_t n, uint32_t* sig) {
  if (kFast && !AnyMayWrap(may_wrap, 4 * V)) {
    BlockFast<V>(a_lo, a_hi, b, h32, n, sig);
  } else {
    BlockExact<V>(a_lo, a_hi, b, h32, n, sig);
  }
}

template <bool kFast>
void Kernel(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, const uint8_t* may_wrap, size_t padded,
            const uint32_t* h32, size_t n, uint32_t* sig) {
  size_t k = 0;
  for (; k + 16 <= padded; k += 16) Block<4, kFast>(a_lo + k, a_hi + k, b + k, may_wrap + k, h32, n, sig + k);
  if (padded - k == 8) Block<2, kFast>(a_lo + k, a_hi + k, b + k, may_wrap + k, h32, n, sig + k);
}

}  // namespace

void MinHashAvx2(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, const uint8_t* may_wrap,
                 size_t padded, const uint32_t* h32, size_t n, uint32_t* sig) {
  Kernel<true>(a_lo, a_hi, b, may_wrap, padded, h32, n, sig);
}

void MinHashAvx2Exact(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, size_t padded,
                      const uint32_t* h32, size_t n, uint32_t* sig) {
  Kernel<false>(a_lo, a_hi, b, nullptr, padded, h32, n, sig);
}

}  // namespace dedupdb::internal
