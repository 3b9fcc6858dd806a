// AVX-512 (BW + VBMI + VBMI2) block normaliser for the lm-eval tokeniser (see
// text_normalize_simd.h): per 64-byte block one vpermi2b classifies every
// byte through a 128-entry class table, A-Z are lowered with one masked add
// and ASCII punctuation is deleted with one vpcompressb, so the normalised
// text is written contiguously without looking at words at all.
//
// CMake gives *_avx512.cc files F/BW/VL/DQ; VBMI/VBMI2 come from the pragma
// below (the caller checks them at run time: LmEvalAvx512Supported()). GCC
// does not define __AVX512VBMI*__ for a pragma, so SIMDe is told directly.
#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi,avx512vbmi2,bmi,bmi2,popcnt")
#define SIMDE_X86_AVX512VBMI_NATIVE
#define SIMDE_X86_AVX512VBMI2_NATIVE
#endif
#include <simde/x86/avx512.h>

#include <bit>
#include <cstring>

#include "index/text_normalize_simd.h"

namespace dedupdb::text_internal {
namespace {

// Class bits of the ASCII bytes (the high bit of the index is ignored by
// vpermi2b; bytes >= 0x80 are masked out separately).
constexpr uint8_t kClsSpace = 1, kClsPunct = 2, kClsUpper = 4;
struct ClassTable {
  alignas(64) uint8_t t[128];
  constexpr ClassTable() : t{} {
    for (int c = 0; c < 128; ++c) {
      uint8_t k = 0;
      if ((c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20)) k = kClsSpace;
      else if (c >= 'A' && c <= 'Z') k = kClsUpper;
      else if ((c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~'))
        k = kClsPunct;
      t[c] = k;
    }
  }
};
constexpr ClassTable kTable;

// The two operations this SIMDe version lacks: a masked (non-faulting)
// byte load for the tail block and byte compression (vpcompressb). Native
// when the ISA is enabled (always, given the pragma above, on x86-64); a
// plain emulation otherwise.
inline simde__m512i LoadTail(const uint8_t* p, size_t n) {
#if defined(SIMDE_X86_AVX512BW_NATIVE)
  return _mm512_maskz_loadu_epi8((uint64_t{1} << n) - 1, p);
#else
  alignas(64) uint8_t buf[64] = {0};
  std::memcpy(buf, p, n);
  return simde_mm512_load_si512(reinterpret_cast<const simde__m512i*>(buf));
#endif
}
inline simde__m512i CompressBytes(uint64_t mask, simde__m512i v) {
#if defined(SIMDE_X86_AVX512VBMI2_NATIVE)
  return _mm512_maskz_compress_epi8(mask, v);
#else
  alignas(64) uint8_t in[64], out[64] = {0};
  simde_mm512_store_si512(reinterpret_cast<simde__m512i*>(in), v);
  size_t k = 0;
  for (int i = 0; i < 64; ++i) {
    if (mask >> i & 1) out[k++] = in[i];
  }
  return simde_mm512_load_si512(reinterpret_cast<const simde__m512i*>(out));
#endif
}

}  // namespace

bool LmEvalAvx512Supported() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vbmi2") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("bmi2");
#else
  return false;
#endif
}

void NormalizeBlocksLmEvalAvx512(const uint8_t* text, size_t size, LmEvalBlocks* out) {
  const size_t nb = (size + 63) / 64;
  const simde__m512i lo = simde_mm512_load_si512(reinterpret_cast<const simde__m512i*>(kTable.t));
  const simde__m512i hi = simde_mm512_load_si512(reinterpret_cast<const simde__m512i*>(kTable.t + 64));
  const simde__m512i k20 = simde_mm512_set1_epi8(0x20);
  const simde__m512i one = simde_mm512_set1_epi8(kClsSpace), two = simde_mm512_set1_epi8(kClsPunct),
                     four = simde_mm512_set1_epi8(kClsUpper);
  uint8_t* dst = out->text;
  uint64_t* space = out->space;
  uint64_t* keep = out->keep;
  uint64_t* lead = out->lead;
  uint32_t* cbase = out->cbase;
  uint32_t c = 0;
  for (size_t b = 0; b < nb; ++b) {
    const size_t at = b * 64;
    const size_t left = size - at;
    const uint64_t valid = left >= 64 ? ~uint64_t{0} : (uint64_t{1} << left) - 1;
    // Masked load for the tail: no read past the text (masked bytes do not fault).
    const simde__m512i v = left >= 64 ? simde_mm512_loadu_si512(text + at) : LoadTail(text + at, left);
    const uint64_t high = simde_mm512_movepi8_mask(v);
    const simde__m512i cls = simde_mm512_permutex2var_epi8(lo, v, hi);
    const uint64_t ascii = ~high;
    const uint64_t sp = simde_mm512_test_epi8_mask(cls, one) & ascii;
    const uint64_t punct = simde_mm512_test_epi8_mask(cls, two) & ascii;
    const uint64_t upper = simde_mm512_test_epi8_mask(cls, four) & ascii;
    const uint64_t kept = ~punct & valid;
    const simde__m512i lowered = simde_mm512_mask_add_epi8(v, upper, v, k20);
    simde_mm512_storeu_si512(dst + c, CompressBytes(kept, lowered));
    space[b] = sp | ~valid;  // words end at the text's end
    keep[b] = kept;
    cbase[b] = c;
    uint64_t ld = 0;
    if (high) {
      // Lead bytes of the Unicode spaces (U+0085/00A0, U+1680, U+2000-205F, U+3000).
      ld = simde_mm512_cmpeq_epi8_mask(v, simde_mm512_set1_epi8(static_cast<char>(0xC2))) |
           simde_mm512_cmpeq_epi8_mask(v, simde_mm512_set1_epi8(static_cast<char>(0xE1))) |
           simde_mm512_cmpeq_epi8_mask(v, simde_mm512_set1_epi8(static_cast<char>(0xE2))) |
           simde_mm512_cmpeq_epi8_mask(v, simde_mm512_set1_epi8(static_cast<char>(0xE3)));
      ld &= valid;
    }
    lead[b] = ld;
    c += static_cast<uint32_t>(std::popcount(kept));
  }
  space[nb] = ~uint64_t{0};
  keep[nb] = 0;
  lead[nb] = 0;
  cbase[nb] = c;
}

}  // namespace dedupdb::text_internal

namespace dedupdb::text_internal {
namespace {

// kWords mode: bit 0 = ASCII word byte ([0-9A-Za-z_]), bit 2 = A-Z.
struct WordsClassTable {
  alignas(64) uint8_t t[128];
  constexpr WordsClassTable() : t{} {
    for (int c = 0; c < 128; ++c) {
      uint8_t k = 0;
      if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '_') k = 1;
      else if (c >= 'A' && c <= 'Z') k = 1 | 4;
      t[c] = k;
    }
  }
};
constexpr WordsClassTable kWordsTable;

}  // namespace

void NormalizeBlocksWordsAvx512(const uint8_t* text, size_t size, WordsBlocks* out) {
  const size_t nb = (size + 63) / 64;
  const simde__m512i lo = simde_mm512_load_si512(reinterpret_cast<const simde__m512i*>(kWordsTable.t));
  const simde__m512i hi = simde_mm512_load_si512(reinterpret_cast<const simde__m512i*>(kWordsTable.t + 64));
  const simde__m512i k20 = simde_mm512_set1_epi8(0x20), one = simde_mm512_set1_epi8(1), four = simde_mm512_set1_epi8(4);
  for (size_t b = 0; b < nb; ++b) {
    const size_t at = b * 64;
    const size_t left = size - at;
    const uint64_t valid = left >= 64 ? ~uint64_t{0} : (uint64_t{1} << left) - 1;
    const simde__m512i v = left >= 64 ? simde_mm512_loadu_si512(text + at) : LoadTail(text + at, left);
    const uint64_t high = simde_mm512_movepi8_mask(v);
    const simde__m512i cls = simde_mm512_permutex2var_epi8(lo, v, hi);
    const uint64_t word = simde_mm512_test_epi8_mask(cls, one) & ~high;
    const uint64_t upper = simde_mm512_test_epi8_mask(cls, four) & ~high;
    simde_mm512_storeu_si512(out->text + at, simde_mm512_mask_add_epi8(v, upper, v, k20));
    out->sep[b] = ~((word | high) & valid);
    out->high[b] = high & valid;
  }
  out->sep[nb] = ~uint64_t{0};
  out->high[nb] = 0;
}

namespace {
// XXH3_mul128_fold64 on 8 lanes: the 128-bit product from four 32 x 32-bit
// products (XXH_mult64to128's portable form) for the high half, vpmullq for
// the low half, folded with XOR.
inline simde__m512i MulFold64(simde__m512i a, simde__m512i b) {
  const simde__m512i m32 = simde_mm512_set1_epi64(0xFFFFFFFFll);
  const simde__m512i a1 = simde_mm512_srli_epi64(a, 32), b1 = simde_mm512_srli_epi64(b, 32);
  const simde__m512i lo_lo = simde_mm512_mul_epu32(a, b), hi_lo = simde_mm512_mul_epu32(a1, b);
  const simde__m512i lo_hi = simde_mm512_mul_epu32(a, b1), hi_hi = simde_mm512_mul_epu32(a1, b1);
  const simde__m512i cross = simde_mm512_add_epi64(
      simde_mm512_add_epi64(simde_mm512_srli_epi64(lo_lo, 32), simde_mm512_and_si512(hi_lo, m32)), lo_hi);
  const simde__m512i upper = simde_mm512_add_epi64(simde_mm512_add_epi64(hi_hi, simde_mm512_srli_epi64(hi_lo, 32)),
                                                   simde_mm512_srli_epi64(cross, 32));
  return simde_mm512_xor_si512(simde_mm512_mullo_epi64(a, b), upper);
}

// XXH3_len_17to128_64b over whole words (see HashWords17to128 in
// text_normalize.cc), lanes = 8 consecutive windows.
template <size_t N>
size_t NgramHashesAvx512T(const uint64_t* h, size_t count, const uint64_t* secret, uint64_t* out) {
  simde__m512i sec[16];
  for (int k = 0; k < 16; ++k) sec[k] = simde_mm512_set1_epi64(static_cast<long long>(secret[k]));
  const simde__m512i len_prime = simde_mm512_set1_epi64(static_cast<long long>(N * 8 * 0x9E3779B185EBCA87ull));
  const simde__m512i prime_mx1 = simde_mm512_set1_epi64(static_cast<long long>(0x165667919E3779F9ull));
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    simde__m512i w[N];
    for (size_t k = 0; k < N; ++k) w[k] = simde_mm512_loadu_si512(h + i + k);
    simde__m512i acc = len_prime;
    auto mix = [&](size_t word, size_t s) __attribute__((always_inline)) {
      acc = simde_mm512_add_epi64(
          acc, MulFold64(simde_mm512_xor_si512(w[word], sec[s]), simde_mm512_xor_si512(w[word + 1], sec[s + 1])));
    };
    if constexpr (N > 4) {
      if constexpr (N > 8) {
        if constexpr (N > 12) {
          mix(6, 12);
          mix(N - 8, 14);
        }
        mix(4, 8);
        mix(N - 6, 10);
      }
      mix(2, 4);
      mix(N - 4, 6);
    }
    mix(0, 0);
    mix(N - 2, 2);
    acc = simde_mm512_xor_si512(acc, simde_mm512_srli_epi64(acc, 37));  // XXH3_avalanche
    acc = simde_mm512_mullo_epi64(acc, prime_mx1);
    acc = simde_mm512_xor_si512(acc, simde_mm512_srli_epi64(acc, 32));
    simde_mm512_storeu_si512(out + i, acc);
  }
  return i;
}
}  // namespace

size_t NgramHashesAvx512(const uint64_t* h, size_t count, size_t n, const uint64_t* secret, uint64_t* out) {
  switch (n) {
    case 3: return NgramHashesAvx512T<3>(h, count, secret, out);
    case 4: return NgramHashesAvx512T<4>(h, count, secret, out);
    case 5: return NgramHashesAvx512T<5>(h, count, secret, out);
    case 6: return NgramHashesAvx512T<6>(h, count, secret, out);
    case 7: return NgramHashesAvx512T<7>(h, count, secret, out);
    case 8: return NgramHashesAvx512T<8>(h, count, secret, out);
    case 9: return NgramHashesAvx512T<9>(h, count, secret, out);
    case 10: return NgramHashesAvx512T<10>(h, count, secret, out);
    case 11: return NgramHashesAvx512T<11>(h, count, secret, out);
    case 12: return NgramHashesAvx512T<12>(h, count, secret, out);
    case 13: return NgramHashesAvx512T<13>(h, count, secret, out);
    case 14: return NgramHashesAvx512T<14>(h, count, secret, out);
    case 15: return NgramHashesAvx512T<15>(h, count, secret, out);
    case 16: return NgramHashesAvx512T<16>(h, count, secret, out);
    default: return 0;
  }
}

}  // namespace dedupdb::text_internal
