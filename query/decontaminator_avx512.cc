// AVX-512 filter stage of Check() (query/decon_probe.h): prefix hashes by a
// vector scan, 8 windows mixed and tested per instruction, the gram filter
// (megabytes, an L2 miss per window) prefetched kAhead windows ahead.
#include <simde/x86/avx512.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "query/decon_probe.h"

namespace dedupdb::decon_internal {
namespace {

constexpr size_t kAhead = 64;  // gram-filter prefetch distance, in windows

uint64_t PowB(size_t k) {
  uint64_t r = 1;
  for (size_t i = 0; i < k; ++i) r *= kRollingBase;
  return r;
}

inline simde__m512i Mix(simde__m512i r) {  // RollingFilterMix, 8 lanes
  r = simde_mm512_xor_si512(r, simde_mm512_srli_epi64(r, 31));
  r = simde_mm512_mullo_epi64(r, simde_mm512_set1_epi64(static_cast<int64_t>(0xBF58476D1CE4E5B9ull)));
  return simde_mm512_xor_si512(r, simde_mm512_srli_epi64(r, 29));
}

// Eight 64-bit loads base[idx[k]] (this SIMDe version has no 512-bit gather).
inline simde__m512i Gather(const uint64_t* base, simde__m512i idx) {
#if defined(SIMDE_X86_AVX512F_NATIVE)
  return _mm512_i64gather_epi64(idx, reinterpret_cast<const long long*>(base), 8);
#else
  alignas(64) uint64_t i[8], o[8];
  simde_mm512_store_si512(reinterpret_cast<simde__m512i*>(i), idx);
  for (int k = 0; k < 8; ++k) o[k] = base[i[k]];
  return simde_mm512_load_si512(reinterpret_cast<const simde__m512i*>(o));
#endif
}

// Lanes of 8 mixed keys that pass filter f (Filter::MayContainMixed).
inline uint32_t Test8(simde__m512i m, const uint64_t* words, simde__m512i shift) {
  const simde__m512i w = Gather(words, simde_mm512_srlv_epi64(m, shift));
  const simde__m512i ones = simde_mm512_set1_epi64(1), low6 = simde_mm512_set1_epi64(63);
  simde__m512i bits = simde_mm512_sllv_epi64(ones, simde_mm512_and_si512(m, low6));
  bits = simde_mm512_or_si512(bits, simde_mm512_sllv_epi64(ones, simde_mm512_and_si512(simde_mm512_srli_epi64(m, 6), low6)));
  bits = simde_mm512_or_si512(bits, simde_mm512_sllv_epi64(ones, simde_mm512_and_si512(simde_mm512_srli_epi64(m, 12), low6)));
  const simde__m512i missing = simde_mm512_andnot_si512(w, bits);
  return simde_mm512_testn_epi64_mask(missing, missing);
}

inline uint32_t Valid(size_t left) { return left >= 8 ? 0xFF : (1u << left) - 1; }

inline void Emit(uint32_t mask, size_t i, std::vector<uint32_t>* out) {
  for (; mask; mask &= mask - 1) out->push_back(static_cast<uint32_t>(i + std::countr_zero(mask)));
}

}  // namespace

void ProbeAvx512(const uint64_t* h, size_t w, size_t n, size_t p, const EvalIndex::Filter& gram,
                 const EvalIndex::Filter& prefix, ProbeScratch* s) {
  s->gram_cand.clear();
  s->prefix_cand.clear();
  const size_t grams = w >= n ? w - n + 1 : 0;
  const size_t prefixes = p > 0 && w >= p ? w - p + 1 : 0;
  if (grams == 0 && prefixes == 0) return;
  // P[0..w]: P[j+1] = P[j] * B + h[j]. Per 8 words a log-step scan
  // (v_k += v_{k-d} * B^d for d = 1, 2, 4) plus the carried P[j] * B^(k+1).
  const size_t plen = w + n + 24;
  if (s->prefix.size() < plen) s->prefix.resize(std::max(plen, 2 * s->prefix.size()));
  uint64_t* P = s->prefix.data();
  P[0] = 0;
  {
    const simde__m512i b1 = simde_mm512_set1_epi64(static_cast<int64_t>(PowB(1)));
    const simde__m512i b2 = simde_mm512_set1_epi64(static_cast<int64_t>(PowB(2)));
    const simde__m512i b4 = simde_mm512_set1_epi64(static_cast<int64_t>(PowB(4)));
    const simde__m512i bk = simde_mm512_setr_epi64(
        static_cast<int64_t>(PowB(1)), static_cast<int64_t>(PowB(2)), static_cast<int64_t>(PowB(3)), static_cast<int64_t>(PowB(4)),
        static_cast<int64_t>(PowB(5)), static_cast<int64_t>(PowB(6)), static_cast<int64_t>(PowB(7)), static_cast<int64_t>(PowB(8)));
    const simde__m512i sh1 = simde_mm512_setr_epi64(0, 0, 1, 2, 3, 4, 5, 6);
    const simde__m512i sh2 = simde_mm512_setr_epi64(0, 0, 0, 1, 2, 3, 4, 5);
    const simde__m512i sh4 = simde_mm512_setr_epi64(0, 0, 0, 0, 0, 1, 2, 3);
    const simde__m512i last = simde_mm512_set1_epi64(7);
    simde__m512i carry = simde_mm512_setzero_si512();
    for (size_t j = 0; j < w; j += 8) {
      simde__m512i v;
      if (j + 8 <= w) {
        v = simde_mm512_loadu_si512(h + j);
      } else {
        alignas(64) uint64_t tail[8] = {0};
        std::memcpy(tail, h + j, (w - j) * 8);
        v = simde_mm512_load_si512(reinterpret_cast<const simde__m512i*>(tail));
      }
      v = simde_mm512_add_epi64(v, simde_mm512_mullo_epi64(simde_mm512_maskz_permutexvar_epi64(0xFE, sh1, v), b1));
      v = simde_mm512_add_epi64(v, simde_mm512_mullo_epi64(simde_mm512_maskz_permutexvar_epi64(0xFC, sh2, v), b2));
      v = simde_mm512_add_epi64(v, simde_mm512_mullo_epi64(simde_mm512_maskz_permutexvar_epi64(0xF0, sh4, v), b4));
      const simde__m512i out = simde_mm512_add_epi64(simde_mm512_mullo_epi64(carry, bk), v);
      simde_mm512_storeu_si512(P + j + 1, out);
      carry = simde_mm512_permutexvar_epi64(last, out);
    }
    // Windows read up to 8 + n entries past the last one: defined values.
    std::fill(P + w + 1, P + plen, 0);
  }
  // Windows: R_i = P[i + len] - P[i] * B^len. Prefix windows are tested at
  // once (their filter is small); gram keys are stored for the probe loop.
  const size_t mlen = grams + kAhead + 8;
  if (s->mixed.size() < mlen) s->mixed.resize(std::max(mlen, 2 * s->mixed.size()));
  uint64_t* mixed = s->mixed.data();
  const simde__m512i bn = simde_mm512_set1_epi64(static_cast<int64_t>(PowB(n)));
  const simde__m512i bp = simde_mm512_set1_epi64(static_cast<int64_t>(PowB(p)));
  const simde__m512i prefix_shift = simde_mm512_set1_epi64(prefix.shift);
  const size_t windows = std::max(grams, prefixes);
  for (size_t i = 0; i < windows; i += 8) {
    const simde__m512i p0 = simde_mm512_loadu_si512(P + i);
    if (i < grams) {
      const simde__m512i r = simde_mm512_sub_epi64(simde_mm512_loadu_si512(P + i + n), simde_mm512_mullo_epi64(p0, bn));
      simde_mm512_storeu_si512(mixed + i, Mix(r));
    }
    if (i < prefixes) {
      const simde__m512i r = simde_mm512_sub_epi64(simde_mm512_loadu_si512(P + i + p), simde_mm512_mullo_epi64(p0, bp));
      Emit(Test8(Mix(r), prefix.words, prefix_shift) & Valid(prefixes - i), i, &s->prefix_cand);
    }
  }
  if (grams == 0) return;
  // Gram filter: prefetched kAhead windows ahead (keys past the end are 0:
  // harmless prefetches of word 0).
  std::fill(mixed + grams, mixed + mlen, 0);
  const uint64_t* fw = gram.words;
  const unsigned fs = gram.shift;
  for (size_t i = 0; i < kAhead; ++i) __builtin_prefetch(&fw[mixed[i] >> fs]);
  const simde__m512i gram_shift = simde_mm512_set1_epi64(fs);
  for (size_t i = 0; i < grams; i += 8) {
    for (size_t k = 0; k < 8; ++k) __builtin_prefetch(&fw[mixed[i + kAhead + k] >> fs]);
    Emit(Test8(simde_mm512_loadu_si512(mixed + i), fw, gram_shift) & Valid(grams - i), i, &s->gram_cand);
  }
}

}  // namespace dedupdb::decon_internal
