// AVX-512 MinHash kernel (compiled with -mavx512*; called only after the
// run-time check in index/minhash.cc). Exact arithmetic mod p = 2^61 - 1 on
// 8 permutations per vector, h < 2^32, a = a_hi * 2^31 + a_lo (a_lo < 2^31,
// a_hi < 2^30):
//   t1 = a_lo*h            (< 2^63)
//   t2 = a_hi*h            (< 2^62)   -> t2 * 2^31 = ((t2 << 31) & p) + (t2 >> 30) mod p  (< 2^61 + 2^32)
//   s  = t1 + t2' + b      (< 2^64)   -> y = (s & p) + (s >> 61) <= p + 7,  y = pi(h) or pi(h) + p
// Only low32(pi(h)) is kept, and y >= p (then pi(h) = y - p <= 7) can only
// happen for a permutation flagged may-wrap (index/minhash.h; ~10^-6 of
// seeds have one), so the fast loop (11 vector ops per 8 permutations per
// shingle) skips the final "y >= p ? y - p" step and the & p (low32(y) =
// low32(s + (s >> 61))); blocks with a may-wrap permutation run the exact
// loop (14 ops: the y - p correction as min_u64(y, y - p)).
// Blocks of up to 4 vectors (32 permutations) keep constants and minima in
// registers while the shingle loop streams h from L1.
#include <simde/x86/avx512.h>

#include "index/minhash.h"

namespace dedupdb::internal {

namespace {
// a*h + b with a*h's upper part already folded mod p (< 2^64; see above):
// the 6 ops both loops share before their final reduction.
inline simde__m512i SumBeforeFold(simde__m512i alo, simde__m512i ahi, simde__m512i b, simde__m512i h, simde__m512i P) {
  const simde__m512i t1 = simde_mm512_mul_epu32(alo, h);
  simde__m512i t2 = simde_mm512_mul_epu32(ahi, h);
  t2 = simde_mm512_add_epi64(simde_mm512_and_si512(simde_mm512_slli_epi64(t2, 31), P), simde_mm512_srli_epi64(t2, 30));
  return simde_mm512_add_epi64(simde_mm512_add_epi64(t1, t2), b);
}

template <int V>
void BlockExact(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, const uint32_t* h32, size_t n,
           uint32_t* sig) {
  const simde__m512i P = simde_mm512_set1_epi64(static_cast<long long>(kMersenne61));
  const simde__m512i M32 = simde_mm512_set1_epi64(0xFFFFFFFFll);
  simde__m512i alo[V], ahi[V], bb[V], acc[V];
  for (int v = 0; v < V; ++v) {
    alo[v] = simde_mm512_loadu_si512(a_lo + 8 * v);
    ahi[v] = simde_mm512_loadu_si512(a_hi + 8 * v);
    bb[v] = simde_mm512_loadu_si512(b + 8 * v);
    acc[v] = M32;
  }
  for (size_t i = 0; i < n; ++i) {
    const simde__m512i h = simde_mm512_set1_epi64(static_cast<long long>(h32[i]));
    for (int v = 0; v < V; ++v) {
      const simde__m512i s = SumBeforeFold(alo[v], ahi[v], bb[v], h, P);
      simde__m512i r = simde_mm512_add_epi64(simde_mm512_and_si512(s, P), simde_mm512_srli_epi64(s, 61));
      r = simde_mm512_min_epu64(r, simde_mm512_sub_epi64(r, P));
      // Only the low 32 bits count: an unsigned 32-bit min keeps them in the
      // even lanes (the odd lanes collect junk that is never read).
      acc[v] = simde_mm512_min_epu32(acc[v], r);
    }
  }
  for (int v = 0; v < V; ++v) {
    simde_mm256_storeu_si256(reinterpret_cast<simde__m256i*>(sig + 8 * v), simde_mm512_cvtepi64_epi32(acc[v]));
  }
}
// The fast loop: low32(y) = low32(s + (s >> 61)) (the & p only clears bits
// 61-63), exact because the caller ruled out y >= p for the block.
template <int V>
void BlockFast(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, const uint32_t* h32, size_t n,
               uint32_t* sig) {
  const simde__m512i P = simde_mm512_set1_epi64(static_cast<long long>(kMersenne61));
  simde__m512i alo[V], ahi[V], bb[V], acc[V];
  for (int v = 0; v < V; ++v) {
    alo[v] = simde_mm512_loadu_si512(a_lo + 8 * v);
    ahi[v] = simde_mm512_loadu_si512(a_hi + 8 * v);
    bb[v] = simde_mm512_loadu_si512(b + 8 * v);
    acc[v] = simde_mm512_set1_epi64(-1);
  }
  for (size_t i = 0; i < n; ++i) {
    const simde__m512i h = simde_mm512_set1_epi64(static_cast<long long>(h32[i]));
    for (int v = 0; v < V; ++v) {
      const simde__m512i s = SumBeforeFold(alo[v], ahi[v], bb[v], h, P);
      acc[v] = simde_mm512_min_epu32(acc[v], simde_mm512_add_epi64(s, simde_mm512_srli_epi64(s, 61)));
    }
  }
  for (int v = 0; v < V; ++v) {
    simde_mm256_storeu_si256(reinterpret_cast<simde__m256i*>(sig + 8 * v), simde_mm512_cvtepi64_epi32(acc[v]));
  }
}

template <int V, bool kFast>
void Block(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, const uint8_t* may_wrap,
           const uint32_t* h32, size_t n, uint32_t* sig) {
  if (kFast && !AnyMayWrap(may_wrap, 8 * V)) {
    BlockFast<V>(a_lo, a_hi, b, h32, n, sig);
  } else {
    BlockExact<V>(a_lo, a_hi, b, h32, n, sig);
  }
}

template <bool kFast>
void Kernel(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, const uint8_t* may_wrap, size_t padded,
            const uint32_t* h32, size_t n, uint32_t* sig) {
  size_t k = 0;
  for (; k + 32 <= padded; k += 32) Block<4, kFast>(a_lo + k, a_hi + k, b + k, may_wrap + k, h32, n, sig + k);
  switch ((padded - k) / 8) {
    case 3: Block<3, kFast>(a_lo + k, a_hi + k, b + k, may_wrap + k, h32, n, sig + k); break;
    case 2: Block<2, kFast>(a_lo + k, a_hi + k, b + k, may_wrap + k, h32, n, sig + k); break;
    case 1: Block<1, kFast>(a_lo + k, a_hi + k, b + k, may_wrap + k, h32, n, sig + k); break;
    default: break;
  }
}

}  // namespace

void MinHashAvx512(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, const uint8_t* may_wrap,
                   size_t padded, const uint32_t* h32, size_t n, uint32_t* sig) {
  Kernel<true>(a_lo, a_hi, b, may_wrap, padded, h32, n, sig);
}

void MinHashAvx512Exact(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, size_t padded,
                        const uint32_t* h32, size_t n, uint32_t* sig) {
  Kernel<false>(a_lo, a_hi, b, nullptr, padded, h32, n, sig);
}

}  // namespace dedupdb::internal
