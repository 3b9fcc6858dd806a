// AVX-512 IFMA MinHash kernel: 8 vector ops per 8 permutations per shingle
// (index/minhash_avx512.cc needs 11). Called only when the CPU reports
// avx512ifma (MinHashIfmaSupported(), checked here like the tokeniser checks
// VBMI: CMake gives *_avx512.cc files F/BW/VL/DQ, IFMA comes from the pragma).
//
// Arithmetic (exact mod p = 2^61 - 1; internal::IfmaPermutationSum is the
// scalar model, tested against __int128): a = a_top * 2^9 + a_bot with
// a_top < 2^52, a_bot < 2^9, h < 2^32, and a_top * h = H * 2^52 + L
// (vpmadd52huq gives H < 2^32, vpmadd52luq gives L < 2^52), so
//   a_top * h * 2^9 = H * 2^61 + L * 2^9 == H + L * 2^9  (mod p), L * 2^9 < 2^61
//   t = b + a_bot * h            vpmadd52luq(b, a_bot, h)   (exact: < 2^41 product)
//   t = t + H                    vpmadd52huq(t, a_top, h)
//   L = low52(a_top * h)         vpmadd52luq(0, a_top, h)
//   s = t + (L << 9)             < 2^61 + 2^42 + 2^61 < 2^63
//   y = (s & p) + (s >> 61)      == pi(h) (mod p), y <= p + 3
// y >= p (where pi(h) = y - p) means pi(h) <= 2: only h in the permutation's
// precomputed may-wrap set can do that, and blocks with such a permutation
// (~10^-6 of seeds) run the exact loop (y - p as min_u64(y, y - p)). Else
// low32(y) = low32(s + (s >> 61)) (the & p only clears bits 61-63), so the
// fast loop is 8 ops: 3 multiply-adds, 2 shifts, 2 adds, 1 min.
#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512ifma,avx2,bmi2")
#include <immintrin.h>
#define DEDUPDB_HAVE_IFMA 1
#endif
#include <simde/x86/avx512.h>

#include <algorithm>

#include "index/minhash.h"

namespace dedupdb {

bool MinHashIfmaSupported() {
#if defined(DEDUPDB_HAVE_IFMA)
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512ifma") && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq");
  }();
  return yes;
#else
  return false;
#endif
}

namespace internal {

namespace {

#if defined(DEDUPDB_HAVE_IFMA)
inline simde__m512i Madd52Lo(simde__m512i acc, simde__m512i x, simde__m512i y) {
  return simde__m512i(_mm512_madd52lo_epu64(__m512i(acc), __m512i(x), __m512i(y)));
}
inline simde__m512i Madd52Hi(simde__m512i acc, simde__m512i x, simde__m512i y) {
  return simde__m512i(_mm512_madd52hi_epu64(__m512i(acc), __m512i(x), __m512i(y)));
}
#else
// Not reachable (MinHashIfmaSupported() is false); a plain emulation keeps
// the file portable.
inline simde__m512i Madd52(simde__m512i acc, simde__m512i x, simde__m512i y, bool hi) {
  alignas(64) uint64_t a[8], b[8], c[8];
  simde_mm512_store_si512(a, acc);
  simde_mm512_store_si512(b, x);
  simde_mm512_store_si512(c, y);
  const uint64_t m52 = (uint64_t{1} << 52) - 1;
  for (int i = 0; i < 8; ++i) {
    unsigned __int128 p = static_cast<unsigned __int128>(b[i] & m52) * (c[i] & m52);
    a[i] += hi ? static_cast<uint64_t>(p >> 52) : static_cast<uint64_t>(p) & m52;
  }
  return simde_mm512_load_si512(a);
}
inline simde__m512i Madd52Lo(simde__m512i acc, simde__m512i x, simde__m512i y) { return Madd52(acc, x, y, false); }
inline simde__m512i Madd52Hi(simde__m512i acc, simde__m512i x, simde__m512i y) { return Madd52(acc, x, y, true); }
#endif

// s = a*h + b folded once (< 2^63, == a*h + b mod p): 5 of the 9 ops.
inline simde__m512i Sum(simde__m512i atop, simde__m512i abot, simde__m512i b, simde__m512i h, simde__m512i zero) {
  simde__m512i t = Madd52Lo(b, abot, h);
  t = Madd52Hi(t, atop, h);
  const simde__m512i l = Madd52Lo(zero, atop, h);
  return simde_mm512_add_epi64(t, simde_mm512_slli_epi64(l, 9));
}

template <int V>
void BlockExact(const uint64_t* a_top, const uint64_t* a_bot, const uint64_t* b, const uint32_t* h32, size_t n,
                uint32_t* sig) {
  const simde__m512i P = simde_mm512_set1_epi64(static_cast<long long>(kMersenne61));
  const simde__m512i zero = simde_mm512_setzero_si512();
  simde__m512i at[V], ab[V], bb[V], acc[V];
  for (int v = 0; v < V; ++v) {
    at[v] = simde_mm512_loadu_si512(a_top + 8 * v);
    ab[v] = simde_mm512_loadu_si512(a_bot + 8 * v);
    bb[v] = simde_mm512_loadu_si512(b + 8 * v);
    acc[v] = simde_mm512_set1_epi64(0xFFFFFFFFll);
  }
  for (size_t i = 0; i < n; ++i) {
    const simde__m512i h = simde_mm512_set1_epi64(static_cast<long long>(h32[i]));
    for (int v = 0; v < V; ++v) {
      const simde__m512i s = Sum(at[v], ab[v], bb[v], h, zero);
      simde__m512i y = simde_mm512_add_epi64(simde_mm512_and_si512(s, P), simde_mm512_srli_epi64(s, 61));
      y = simde_mm512_min_epu64(y, simde_mm512_sub_epi64(y, P));
      acc[v] = simde_mm512_min_epu32(acc[v], y);  // low 32 bits in the even halves
    }
  }
  for (int v = 0; v < V; ++v) {
    simde_mm256_storeu_si256(reinterpret_cast<simde__m256i*>(sig + 8 * v), simde_mm512_cvtepi64_epi32(acc[v]));
  }
}

// The fast loop: y = s + (s >> 61) has the low 32 bits of (s & p) + (s >> 61)
// and is exact unless that sum reached p, which the caller has ruled out for
// the block's permutations (MinHashPermutations::may_wrap()). The constants
// are re-read from L1 in the loop rather than copied between registers
// (vpmadd52 overwrites its accumulator): measured ~12% faster on Zen 4.
template <int V>
void BlockFast(const uint64_t* a_top, const uint64_t* a_bot, const uint64_t* b, const uint32_t* h32, size_t n,
               uint32_t* sig) {
  const simde__m512i zero = simde_mm512_setzero_si512();
  simde__m512i acc[V];
  for (int v = 0; v < V; ++v) acc[v] = simde_mm512_set1_epi64(-1);
  for (size_t i = 0; i < n; ++i) {
    const simde__m512i h = simde_mm512_set1_epi64(static_cast<long long>(h32[i]));
    for (int v = 0; v < V; ++v) {
      const simde__m512i at = simde_mm512_loadu_si512(a_top + 8 * v);
      simde__m512i t = Madd52Lo(simde_mm512_loadu_si512(b + 8 * v), simde_mm512_loadu_si512(a_bot + 8 * v), h);
      t = Madd52Hi(t, at, h);
      const simde__m512i s = simde_mm512_add_epi64(t, simde_mm512_slli_epi64(Madd52Lo(zero, at, h), 9));
      acc[v] = simde_mm512_min_epu32(acc[v], simde_mm512_add_epi64(s, simde_mm512_srli_epi64(s, 61)));
    }
  }
  for (int v = 0; v < V; ++v) {
    simde_mm256_storeu_si256(reinterpret_cast<simde__m256i*>(sig + 8 * v), simde_mm512_cvtepi64_epi32(acc[v]));
  }
}

template <int V, bool kFast>
void Block(const uint64_t* a_top, const uint64_t* a_bot, const uint64_t* b, const uint8_t* may_wrap,
           const uint32_t* h32, size_t n, uint32_t* sig) {
  if (kFast && !AnyMayWrap(may_wrap, 8 * V)) {
    BlockFast<V>(a_top, a_bot, b, h32, n, sig);
  } else {
    BlockExact<V>(a_top, a_bot, b, h32, n, sig);
  }
}

template <bool kFast>
void Kernel(const uint64_t* a_top, const uint64_t* a_bot, const uint64_t* b, const uint8_t* may_wrap,
            size_t padded, const uint32_t* h32, size_t n, uint32_t* sig) {
  size_t k = 0;
  for (; k + 32 <= padded; k += 32) Block<4, kFast>(a_top + k, a_bot + k, b + k, may_wrap + k, h32, n, sig + k);
  switch ((padded - k) / 8) {
    case 3: Block<3, kFast>(a_top + k, a_bot + k, b + k, may_wrap + k, h32, n, sig + k); break;
    case 2: Block<2, kFast>(a_top + k, a_bot + k, b + k, may_wrap + k, h32, n, sig + k); break;
    case 1: Block<1, kFast>(a_top + k, a_bot + k, b + k, may_wrap + k, h32, n, sig + k); break;
    default: break;
  }
}

// The 7-op loop: with h9 = h << 9 and a_top43 = (a_top mod 2^43) << 9,
//   T = b + a_bot h + low52(a_top43 h) = b + a_bot h + (a_top h 2^9 mod 2^52)   (< 2^62)
//   G = floor(a_top h9 / 2^52), so x = a h + b = G 2^52 + T and
//   q = floor(x / 2^61) = (G + (T >> 52)) >> 9 = vpmadd52huq(T >> 52, a_top, h9) >> 9
//   y = T + q: low32(y) = low32(x) + q = low32(pi(h)) unless (x mod 2^61) + q >= p
// (the caller ruled that out: MinHashPermutations::NeedsEightOpLoop).
// 2 + 1 + 1 + 1 + 1 + 1 = 7 ops (two vpmadd52luq, a shift, vpmadd52huq, a
// shift, an add, the min) and one shift per shingle for h9.
// With kFilter, also ORs each hash's bit of `filter` (2^20 bits, bit h >> 12)
// into *any on the scalar ports, which the vector loop leaves idle.
template <int V, bool kFilter>
void Block7(const uint64_t* a_top, const uint64_t* a_top43, const uint64_t* a_bot, const uint64_t* b,
            const uint32_t* h32, size_t n, uint32_t* sig, const uint64_t* filter, uint64_t* any) {
  simde__m512i acc[V];
  for (int v = 0; v < V; ++v) acc[v] = simde_mm512_set1_epi64(-1);
  uint64_t seen = 0;
  for (size_t i = 0; i < n; ++i) {
    if constexpr (kFilter) seen |= filter[h32[i] >> 18] >> ((h32[i] >> 12) & 63);
    const simde__m512i h = simde_mm512_set1_epi64(static_cast<long long>(h32[i]));
    const simde__m512i h9 = simde_mm512_slli_epi64(h, 9);
    for (int v = 0; v < V; ++v) {
      simde__m512i t = Madd52Lo(simde_mm512_loadu_si512(b + 8 * v), simde_mm512_loadu_si512(a_bot + 8 * v), h);
      t = Madd52Lo(t, simde_mm512_loadu_si512(a_top43 + 8 * v), h);
      const simde__m512i g = Madd52Hi(simde_mm512_srli_epi64(t, 52), simde_mm512_loadu_si512(a_top + 8 * v), h9);
      acc[v] = simde_mm512_min_epu32(acc[v], simde_mm512_add_epi64(t, simde_mm512_srli_epi64(g, 9)));
    }
  }
  for (int v = 0; v < V; ++v) {
    simde_mm256_storeu_si256(reinterpret_cast<simde__m256i*>(sig + 8 * v), simde_mm512_cvtepi64_epi32(acc[v]));
  }
  if constexpr (kFilter) *any |= seen & 1;
}

}  // namespace

bool MinHashAvx512Ifma7(const uint64_t* a_top, const uint64_t* a_top43, const uint64_t* a_bot, const uint64_t* b,
                        size_t padded, const uint32_t* h32, size_t n, uint32_t* sig, const uint64_t* filter) {
  uint64_t any = 0;
  size_t k = 0;
  if (filter != nullptr) {  // the first block also runs the filter
    switch (std::min<size_t>(padded / 8, 4)) {
      case 4: Block7<4, true>(a_top, a_top43, a_bot, b, h32, n, sig, filter, &any); break;
      case 3: Block7<3, true>(a_top, a_top43, a_bot, b, h32, n, sig, filter, &any); break;
      case 2: Block7<2, true>(a_top, a_top43, a_bot, b, h32, n, sig, filter, &any); break;
      case 1: Block7<1, true>(a_top, a_top43, a_bot, b, h32, n, sig, filter, &any); break;
      default: break;
    }
    k = std::min<size_t>(padded, 32);
  }
  for (; k + 32 <= padded; k += 32) {
    Block7<4, false>(a_top + k, a_top43 + k, a_bot + k, b + k, h32, n, sig + k, nullptr, nullptr);
  }
  switch ((padded - k) / 8) {
    case 3: Block7<3, false>(a_top + k, a_top43 + k, a_bot + k, b + k, h32, n, sig + k, nullptr, nullptr); break;
    case 2: Block7<2, false>(a_top + k, a_top43 + k, a_bot + k, b + k, h32, n, sig + k, nullptr, nullptr); break;
    case 1: Block7<1, false>(a_top + k, a_top43 + k, a_bot + k, b + k, h32, n, sig + k, nullptr, nullptr); break;
    default: break;
  }
  return any == 0;
}

void MinHashAvx512Ifma7Unchecked(const uint64_t* a_top, const uint64_t* a_top43, const uint64_t* a_bot, const uint64_t* b,
                                 size_t padded, const uint32_t* h32, size_t n, uint32_t* sig) {
  MinHashAvx512Ifma7(a_top, a_top43, a_bot, b, padded, h32, n, sig, nullptr);
}

void MinHashAvx512Ifma(const uint64_t* a_top, const uint64_t* a_bot, const uint64_t* b, const uint8_t* may_wrap,
                       size_t padded, const uint32_t* h32, size_t n, uint32_t* sig) {
  Kernel<true>(a_top, a_bot, b, may_wrap, padded, h32, n, sig);
}

void MinHashAvx512IfmaExact(const uint64_t* a_top, const uint64_t* a_bot, const uint64_t* b, size_t padded,
                            const uint32_t* h32, size_t n, uint32_t* sig) {
  Kernel<false>(a_top, a_bot, b, nullptr, padded, h32, n, sig);
}

}  // namespace internal
}  // namespace dedupdb
