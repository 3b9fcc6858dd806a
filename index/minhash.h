// MinHash signatures (docs/format.md, "MinHash signatures and LSH buckets").
//
// A document's shingles (index/text_normalize.h, 64-bit XXH3 hashes) are
// folded to 32 bits, h = lo32(x) ^ hi32(x), and pushed through K independent
// permutations
//
//     pi_k(h) = ((a_k * h + b_k) mod (2^61 - 1)) & (2^32 - 1)
//
// computed EXACTLY in the field mod p = 2^61 - 1 (no 64-bit wrap-around as in
// numpy/datasketch). sig[k] = min over shingles of pi_k(h); an empty shingle
// set gives sig[k] = 0xFFFFFFFF for every k.
//
// (a_k, b_k) come from MinHashPermutations(seed): splitmix64 seeded with the
// seed, each draw shifted right by 3 (61 bits) and rejected if >= p (and a
// draw of 0 is rejected for a); pairs are drawn in order a_0, b_0, a_1, b_1...
// so the first K permutations of a larger K are the same (deterministic
// across runs and machines).
//
// The kernel runs at the best SIMD level (storage/cpu_features.h): AVX-512
// with IFMA when the CPU has it (index/minhash_ifma_avx512.cc, 8 ops per 8
// permutations per shingle), else AVX-512 (index/minhash_avx512.cc, 11 ops),
// AVX2 (index/minhash_avx2.cc, 11 ops per 4) or scalar (unsigned __int128
// arithmetic); all give bit-identical signatures (the SIMD fast loops rely on
// MinHashPermutations::may_wrap(), see internal::PermutationMayWrap).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "index/text_normalize.h"
#include "storage/cpu_features.h"

namespace dedupdb {

constexpr uint64_t kMersenne61 = (uint64_t{1} << 61) - 1;
constexpr uint32_t kEmptyMinHash = 0xFFFFFFFFu;

inline uint32_t FoldShingleHash(uint64_t h) { return static_cast<uint32_t>(h) ^ static_cast<uint32_t>(h >> 32); }

// The K permutations, stored split for the SIMD kernels and padded to a
// multiple of 8 (padding permutations are computed and discarded).
class MinHashPermutations {
 public:
  MinHashPermutations(unsigned num_perm, uint64_t seed);
  // Explicit permutations (0 < a[k] < p, b[k] < p; tests), seed() = 0.
  MinHashPermutations(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b);
  unsigned num_perm() const { return num_perm_; }
  uint64_t seed() const { return seed_; }
  size_t padded() const { return a_lo_.size(); }
  uint64_t a(unsigned k) const { return (a_hi_[k] << 31) | a_lo_[k]; }
  uint64_t b(unsigned k) const { return b_[k]; }
  const uint64_t* a_lo() const { return a_lo_.data(); }  // a & (2^31 - 1)
  const uint64_t* a_hi() const { return a_hi_.data(); }  // a >> 31 (< 2^30)
  const uint64_t* b_data() const { return b_.data(); }
  const uint64_t* a_top() const { return a_top_.data(); }  // a >> 9 (< 2^52), the IFMA split
  const uint64_t* a_bot() const { return a_bot_.data(); }  // a & (2^9 - 1)
  // 1 where internal::PermutationMayWrap(a, b): the SIMD kernels' fast
  // loops skip the final "y >= p ? y - p" step, which only such a
  // permutation can need; a block containing one runs the exact loop.
  const uint8_t* may_wrap() const { return may_wrap_.data(); }
  // The 7-op IFMA loop (index/minhash_ifma_avx512.cc): (a_top mod 2^43) << 9.
  const uint64_t* a_top43() const { return a_top43_.data(); }
  // True if some h32[i] is one of the hashes for which the 7-op IFMA loop's
  // single fold can be wrong for some permutation (internal::
  // SevenOpUnsafeHashes; ~8 per permutation, found at construction when the
  // CPU has IFMA): such a text takes the 8-op loop. A 2^20-bit filter first.
  bool NeedsEightOpLoop(const uint32_t* h32, size_t n) const;
  // The 2^20-bit filter of those hashes (bit h >> 12; empty without IFMA).
  const uint64_t* unsafe_filter() const { return unsafe_filter_.data(); }

 private:
  unsigned num_perm_;
  uint64_t seed_;
  std::vector<uint64_t> a_lo_, a_hi_, b_, a_top_, a_bot_, a_top43_;
  std::vector<uint8_t> may_wrap_;
  std::vector<uint32_t> unsafe_;        // sorted distinct
  std::vector<uint64_t> unsafe_filter_;  // bit h >> 12

  void Init(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b);
};

// True if the CPU has AVX-512 IFMA (and F/BW/VL/DQ): MinHashSignature at
// SimdLevel::kAvx512 then runs the IFMA kernel.
bool MinHashIfmaSupported();

// The single permutation, exactly (scalar reference arithmetic).
inline uint32_t ApplyPermutation(uint64_t a, uint64_t b, uint32_t h) {
  unsigned __int128 v = static_cast<unsigned __int128>(a) * h + b;
  return static_cast<uint32_t>(static_cast<uint64_t>(v % kMersenne61));
}

// sig[0..K) = minima over the n folded shingle hashes h32 at SIMD level
// `level` (clamped to what the CPU supports).
void MinHashSignature(const MinHashPermutations& perms, const uint32_t* h32, size_t n, uint32_t* sig,
                      SimdLevel level);
inline void MinHashSignature(const MinHashPermutations& perms, const uint32_t* h32, size_t n, uint32_t* sig) {
  MinHashSignature(perms, h32, n, sig, DetectSimdLevel());
}

// Fraction of equal positions: the MinHash estimate of Jaccard similarity.
double EstimatedJaccard(const uint32_t* a, const uint32_t* b, unsigned k);

// Text -> signature, reusing its buffers between calls (one per thread).
class MinHasher {
 public:
  MinHasher(const MinHashPermutations* perms, const ShingleOptions& shingles)
      : perms_(perms), shingles_(shingles) {}
  // Returns the number of shingles (0 = empty set, signature all 0xFFFFFFFF).
  size_t Sign(std::string_view text, uint32_t* sig);
  const ShingleOptions& shingle_options() const { return shingles_; }

 private:
  const MinHashPermutations* perms_;
  ShingleOptions shingles_;
  std::vector<uint64_t> hashes_;
  std::vector<uint32_t> folded_;
};

// Sorted distinct 64-bit shingle hashes of a text (exact Jaccard).
void ShingleSet(std::string_view text, const ShingleOptions& options, std::vector<uint64_t>* out);
// |A n B| / |A u B| of two sorted distinct sets; 1.0 if both are empty.
double ExactJaccard(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b);

namespace internal {
// The SIMD fast loops compute, per permutation and shingle, some y == a*h + b
// (mod p) with 0 <= y <= p + 7 and keep low32(y) without the final
// "y >= p ? y - p" step. y >= p means pi(h) = y - p <= 7, and for each
// r <= 7 exactly one h in [0, p) has pi(h) = r: h_r = (r - b) / a mod p.
// True if any h_r < 2^32, i.e. some 32-bit shingle hash could need the
// step (probability ~2^-26 per permutation); such permutations run the
// exact loop.
bool PermutationMayWrap(uint64_t a, uint64_t b);
// Smallest x >= 0 with (a*x + b) mod m in [lo, hi] (a, b < m <= 2^62,
// lo <= hi < m), or -1 if there is none: a Euclid-like recursion, O(log m).
int64_t FirstInModRange(uint64_t a, uint64_t b, uint64_t m, uint64_t lo, uint64_t hi);
// The 7-op IFMA loop computes low32(x) + floor(x / 2^61) for x = a*h + b,
// which is low32(pi(h)) unless (x mod 2^61) + floor(x / 2^61) >= p; as
// floor(x / 2^61) <= 2^32 that needs x mod 2^61 >= 2^61 - 2^32 - 1. Appends
// every h < 2^32 with that property (about 8 per permutation), ascending.
void SevenOpUnsafeHashes(uint64_t a, uint64_t b, std::vector<uint32_t>* out);
inline bool AnyMayWrap(const uint8_t* may_wrap, size_t n) {
  uint8_t any = 0;
  for (size_t i = 0; i < n; ++i) any |= may_wrap[i];
  return any != 0;
}

// Kernels; `padded` is a multiple of 8, sig has `padded` entries, may_wrap
// has `padded` flags (MinHashPermutations::may_wrap()).
void MinHashScalar(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, size_t padded,
                   const uint32_t* h32, size_t n, uint32_t* sig);
void MinHashAvx2(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, const uint8_t* may_wrap,
                 size_t padded, const uint32_t* h32, size_t n, uint32_t* sig);
void MinHashAvx512(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, const uint8_t* may_wrap,
                   size_t padded, const uint32_t* h32, size_t n, uint32_t* sig);
// The exact loops alone (the loops for may-wrap blocks; tests and the
// benchmark's side-by-side baseline).
void MinHashAvx2Exact(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, size_t padded,
                      const uint32_t* h32, size_t n, uint32_t* sig);
void MinHashAvx512Exact(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, size_t padded,
                        const uint32_t* h32, size_t n, uint32_t* sig);
// IFMA kernels (only if MinHashIfmaSupported()): the fast loop and the exact
// loop alone.
void MinHashAvx512Ifma(const uint64_t* a_top, const uint64_t* a_bot, const uint64_t* b, const uint8_t* may_wrap,
                       size_t padded, const uint32_t* h32, size_t n, uint32_t* sig);
void MinHashAvx512IfmaExact(const uint64_t* a_top, const uint64_t* a_bot, const uint64_t* b, size_t padded,
                            const uint32_t* h32, size_t n, uint32_t* sig);
// The 7-op IFMA loop: exact only if no h32[i] is in SevenOpUnsafeHashes of
// any of the permutations. With `filter` (MinHashPermutations::
// unsafe_filter()) its first block also tests every hash against that
// superset on the scalar ports and returns false if one may be unsafe (the
// caller then asks NeedsEightOpLoop); the Unchecked form does not look.
bool MinHashAvx512Ifma7(const uint64_t* a_top, const uint64_t* a_top43, const uint64_t* a_bot, const uint64_t* b,
                        size_t padded, const uint32_t* h32, size_t n, uint32_t* sig, const uint64_t* filter);
void MinHashAvx512Ifma7Unchecked(const uint64_t* a_top, const uint64_t* a_top43, const uint64_t* a_bot,
                                 const uint64_t* b, size_t padded, const uint32_t* h32, size_t n, uint32_t* sig);

// Scalar model of the IFMA kernel's per-lane arithmetic before its final
// fold (index/minhash_ifma_avx512.cc): s == a*h + b (mod p), s < 2^63, from
// the 52-bit multiply-adds vpmadd52luq / vpmadd52huq do.
inline uint64_t IfmaPermutationSum(uint64_t a, uint64_t b, uint32_t h) {
  const uint64_t m52 = (uint64_t{1} << 52) - 1;
  const uint64_t a_top = a >> 9, a_bot = a & 511;
  const unsigned __int128 prod = static_cast<unsigned __int128>(a_top & m52) * h;
  uint64_t t = b + ((a_bot & m52) * h & m52);     // vpmadd52luq(b, a_bot, h)
  t += static_cast<uint64_t>(prod >> 52);         // vpmadd52huq(t, a_top, h)
  const uint64_t l = static_cast<uint64_t>(prod) & m52;  // vpmadd52luq(0, a_top, h)
  return t + (l << 9);
}
}  // namespace internal

}  // namespace dedupdb
