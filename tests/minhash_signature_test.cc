// MinHash signatures: SIMD kernels bit-equal to the scalar path, the scalar
// path equal to the textbook formula, estimates within binomial error.
#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "index/minhash.h"
#include "storage/cpu_features.h"

namespace dedupdb {
namespace {

TEST(MinHashPermutations, DeterministicPrefixAndRange) {
  MinHashPermutations p128(128, 7), p112(112, 7), other(128, 8);
  EXPECT_EQ(p128.padded(), 128u);
  EXPECT_EQ(p112.padded(), 112u);
  MinHashPermutations p13(13, 7);
  EXPECT_EQ(p13.padded(), 16u);
  bool differs = false;
  for (unsigned k = 0; k < 112; ++k) {
    EXPECT_EQ(p128.a(k), p112.a(k));
    EXPECT_EQ(p128.b(k), p112.b(k));
    EXPECT_GE(p128.a(k), 1u);
    EXPECT_LT(p128.a(k), kMersenne61);
    EXPECT_LT(p128.b(k), kMersenne61);
    differs |= p128.a(k) != other.a(k);
  }
  EXPECT_TRUE(differs);
  // Hand-checked first draw of splitmix64(seed=0): 0xE220A8397B1DCDAF >> 3.
  MinHashPermutations p0(1, 0);
  EXPECT_EQ(p0.a(0), 0xE220A8397B1DCDAFull >> 3);
}

TEST(MinHashKernel, ScalarMatchesInt128Formula) {
  MinHashPermutations perms(20, 99);
  std::mt19937_64 rng(5);
  std::vector<uint32_t> h(333);
  for (auto& x : h) x = static_cast<uint32_t>(rng());
  h[7] = 0;
  h[8] = 0xFFFFFFFFu;
  std::vector<uint32_t> sig(20);
  MinHashSignature(perms, h.data(), h.size(), sig.data(), SimdLevel::kScalar);
  for (unsigned k = 0; k < 20; ++k) {
    uint64_t best = UINT64_MAX;
    for (uint32_t x : h) {
      // Independent: reduce a*h first, then add b, all in 128 bits.
      unsigned __int128 v = (static_cast<unsigned __int128>(perms.a(k)) * x) % kMersenne61;
      v = (v + perms.b(k)) % kMersenne61;
      best = std::min<uint64_t>(best, static_cast<uint64_t>(v) & 0xFFFFFFFFu);
    }
    EXPECT_EQ(sig[k], best) << k;
  }
}

// The IFMA kernel's lane arithmetic (a = a_top 2^9 + a_bot; a_top*h split
// at bit 52 by vpmadd52huq/luq) against __int128, with a, b near p and 0,
// h near 2^32 and 0, and random values; also the fast loop's bounds.
TEST(MinHashKernel, IfmaModelMatchesInt128) {
  std::mt19937_64 rng(31);
  std::vector<uint64_t> as = {1, 2, 511, 512, 513, (1ull << 52) - 1, 1ull << 52, (1ull << 60) + 511,
                              kMersenne61 - 1, kMersenne61 - 2, kMersenne61 - 511, kMersenne61 - 512,
                              kMersenne61 - (1ull << 9) * 3};
  std::vector<uint64_t> bs = {0, 1, kMersenne61 - 1, kMersenne61 - 2, 1ull << 60};
  std::vector<uint32_t> hs = {0, 1, 2, 511, 0xFFFFFFFFu, 0xFFFFFFFEu, 0x80000000u, 0x7FFFFFFFu};
  for (int i = 0; i < 40; ++i) {
    as.push_back(1 + (rng() >> 3) % (kMersenne61 - 1));
    as.push_back(kMersenne61 - 1 - rng() % 100000);
    bs.push_back((rng() >> 3) % kMersenne61);
    hs.push_back(static_cast<uint32_t>(rng()));
    hs.push_back(0xFFFFFFFFu - static_cast<uint32_t>(rng() % 1000));
  }
  uint64_t checked = 0;
  for (uint64_t a : as) {
    for (uint64_t b : bs) {
      for (uint32_t h : hs) {
        const uint64_t s = internal::IfmaPermutationSum(a, b, h);
        ASSERT_LT(s, 1ull << 63) << a << " " << b << " " << h;
        const unsigned __int128 want = (static_cast<unsigned __int128>(a) * h + b) % kMersenne61;
        ASSERT_EQ(static_cast<uint64_t>(s % kMersenne61), static_cast<uint64_t>(want)) << a << " " << b << " " << h;
        const uint64_t y = (s & kMersenne61) + (s >> 61);
        ASSERT_LE(y, kMersenne61 + 3);
        ASSERT_EQ(y >= kMersenne61 ? y - kMersenne61 : y, static_cast<uint64_t>(want));
        // The fast loop's proof: y >= p only if the odd half it tracks,
        // ~high32(s & p) + carry of the add, is <= 0xE0000001.
        const uint64_t tracked = (((s & kMersenne61) ^ 0xFFFFFFFF00000000ull) + (s >> 61)) >> 32;
        if (y >= kMersenne61) ASSERT_LE(tracked, 0xE0000001u);
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 100000u);
}

TEST(MinHashKernel, SimdEqualsScalar) {
  std::mt19937_64 rng(11);
  for (unsigned k : {1u, 8u, 13u, 64u, 112u, 128u, 200u, 256u, 300u}) {
    MinHashPermutations perms(k, 1);
    for (size_t n : {0ul, 1ul, 2ul, 17ul, 1000ul}) {
      std::vector<uint32_t> h(n);
      for (auto& x : h) x = static_cast<uint32_t>(rng());
      // Values that stress the reductions: near 2^32 and tiny.
      if (n > 3) h[0] = 0xFFFFFFFFu, h[1] = 0, h[2] = 1;
      std::vector<uint32_t> scalar(k), simd(k);
      MinHashSignature(perms, h.data(), n, scalar.data(), SimdLevel::kScalar);
      for (SimdLevel level : {SimdLevel::kAvx2, SimdLevel::kAvx512}) {
        if (level > DetectSimdLevel()) {
          std::printf("note: %s not available on this CPU, not compared\n", SimdLevelName(level));
          continue;
        }
        std::fill(simd.begin(), simd.end(), 0);
        MinHashSignature(perms, h.data(), n, simd.data(), level);
        ASSERT_EQ(simd, scalar) << "K=" << k << " n=" << n << " level=" << SimdLevelName(level);
        // The exact loop alone (normally only the fast loop's fallback).
        std::vector<uint32_t> exact(perms.padded());
        (level == SimdLevel::kAvx2 ? internal::MinHashAvx2Exact : internal::MinHashAvx512Exact)(
            perms.a_lo(), perms.a_hi(), perms.b_data(), perms.padded(), h.data(), n, exact.data());
        ASSERT_TRUE(std::equal(scalar.begin(), scalar.end(), exact.begin())) << "exact loop, K=" << k << " n=" << n;
        if (level == SimdLevel::kAvx512 && MinHashIfmaSupported()) {
          // MinHashSignature ran the IFMA kernel; the 12-op kernel and the
          // IFMA exact loop alone too.
          std::vector<uint32_t> other(perms.padded());
          internal::MinHashAvx512(perms.a_lo(), perms.a_hi(), perms.b_data(), perms.padded(), h.data(), n,
                                  other.data());
          ASSERT_TRUE(std::equal(scalar.begin(), scalar.end(), other.begin())) << "12-op loop, K=" << k;
          internal::MinHashAvx512IfmaExact(perms.a_top(), perms.a_bot(), perms.b_data(), perms.padded(), h.data(),
                                           n, other.data());
          ASSERT_TRUE(std::equal(scalar.begin(), scalar.end(), other.begin())) << "IFMA exact loop, K=" << k;
        }
      }
      if (n == 0) {
        for (uint32_t v : scalar) EXPECT_EQ(v, kEmptyMinHash);
      }
    }
  }
}

TEST(MinHashKernel, ExtremePermutationConstants) {
  // Hand-built permutations hitting the largest a, b (< p) and h = 2^32-1,
  // where every reduction step carries.
  std::vector<uint64_t> a_lo(8), a_hi(8), b(8);
  const uint64_t as[8] = {kMersenne61 - 1, kMersenne61 - 2, 1, (1ull << 32) - 1, 1ull << 32, (1ull << 60) + 12345,
                          kMersenne61 - (1ull << 32), 3};
  const uint64_t bs[8] = {kMersenne61 - 1, 0, kMersenne61 - 1, 7, kMersenne61 - 5, 1ull << 60, 99, kMersenne61 - 2};
  for (int i = 0; i < 8; ++i) a_lo[i] = as[i] & 0x7FFFFFFFu, a_hi[i] = as[i] >> 31, b[i] = bs[i];
  std::vector<uint32_t> hs = {0xFFFFFFFFu, 0xFFFFFFFEu, 0x80000000u, 1, 0};
  for (uint32_t h : hs) {
    uint32_t s[8], v2[8], v5[8];
    internal::MinHashScalar(a_lo.data(), a_hi.data(), b.data(), 8, &h, 1, s);
    for (int i = 0; i < 8; ++i) {
      unsigned __int128 v = (static_cast<unsigned __int128>(as[i]) * h + bs[i]) % kMersenne61;
      EXPECT_EQ(s[i], static_cast<uint32_t>(static_cast<uint64_t>(v)));
    }
    if (DetectSimdLevel() >= SimdLevel::kAvx2) {
      internal::MinHashAvx2(a_lo.data(), a_hi.data(), b.data(), 8, &h, 1, v2);
      EXPECT_TRUE(std::equal(s, s + 8, v2)) << h;
    }
    if (DetectSimdLevel() >= SimdLevel::kAvx512) {
      internal::MinHashAvx512(a_lo.data(), a_hi.data(), b.data(), 8, &h, 1, v5);
      EXPECT_TRUE(std::equal(s, s + 8, v5)) << h;
    }
    if (MinHashIfmaSupported()) {
      uint64_t a_top[8], a_bot[8];
      for (int i = 0; i < 8; ++i) a_top[i] = as[i] >> 9, a_bot[i] = as[i] & 511;
      internal::MinHashAvx512Ifma(a_top, a_bot, b.data(), 8, &h, 1, v5);
      EXPECT_TRUE(std::equal(s, s + 8, v5)) << "ifma " << h;
      internal::MinHashAvx512IfmaExact(a_top, a_bot, b.data(), 8, &h, 1, v5);
      EXPECT_TRUE(std::equal(s, s + 8, v5)) << "ifma exact " << h;
    }
  }
}

TEST(MinHashKernel, FastLoopFallbackAtFieldEdges) {
  // The SIMD fast loops skip the "y >= p -> y - p" step and fall back to the
  // exact loop when a lane may have needed it. Permutations a = 1 (and
  // a = p - 1, i.e. -h) with b placed so that a*h + b lands on p - 1, p,
  // p + 1 ... for one shingle h0 among random others: the fallback must
  // trigger and the minima must equal the scalar path's.
  std::mt19937_64 rng(23);
  int checked = 0;
  for (int round = 0; round < 40; ++round) {
    std::vector<uint32_t> h(1 + rng() % 60);
    for (auto& x : h) x = static_cast<uint32_t>(rng());
    const uint32_t h0 = h[rng() % h.size()];
    std::vector<uint64_t> a_lo(32), a_hi(32), b(32);
    for (int i = 0; i < 32; ++i) {
      const int delta = i % 16 - 4;  // a*h0 + b = p + delta
      const uint64_t a = i < 16 ? 1 : kMersenne61 - 1;
      const uint64_t ah0 = i < 16 ? h0 : (h0 == 0 ? 0 : kMersenne61 - h0);  // a*h0 mod p
      const uint64_t bb = (kMersenne61 + kMersenne61 + delta - ah0) % kMersenne61;
      a_lo[i] = a & 0x7FFFFFFFu, a_hi[i] = a >> 31, b[i] = bb;
    }
    uint32_t s[32], v[32];
    internal::MinHashScalar(a_lo.data(), a_hi.data(), b.data(), 32, h.data(), h.size(), s);
    if (DetectSimdLevel() >= SimdLevel::kAvx2) {
      internal::MinHashAvx2(a_lo.data(), a_hi.data(), b.data(), 32, h.data(), h.size(), v);
      ASSERT_TRUE(std::equal(s, s + 32, v)) << "avx2 round " << round;
      ++checked;
    }
    if (DetectSimdLevel() >= SimdLevel::kAvx512) {
      internal::MinHashAvx512(a_lo.data(), a_hi.data(), b.data(), 32, h.data(), h.size(), v);
      ASSERT_TRUE(std::equal(s, s + 32, v)) << "avx512 round " << round;
    }
    if (MinHashIfmaSupported()) {
      uint64_t a_top[32], a_bot[32];
      for (int i = 0; i < 32; ++i) {
        const uint64_t a = (a_hi[i] << 31) | a_lo[i];
        a_top[i] = a >> 9, a_bot[i] = a & 511;
      }
      internal::MinHashAvx512Ifma(a_top, a_bot, b.data(), 32, h.data(), h.size(), v);
      ASSERT_TRUE(std::equal(s, s + 32, v)) << "ifma round " << round;
    }
    // delta = 0: pi(h0) = 0, the minimum; the fast loop alone would give
    // low32(p) = 0xFFFFFFFF for the a = 1 lanes.
    EXPECT_EQ(s[4], 0u);
  }
  if (checked == 0) std::printf("note: no AVX2 on this CPU, fast loops not compared\n");
}

TEST(MinHashEstimate, WithinBinomialError) {
  // Sets with known Jaccard; the estimate is a mean of K Bernoulli(J) draws
  // (up to tiny 32-bit collision bias), so |est - J| <= 4 sigma.
  const unsigned K = 256;
  MinHashPermutations perms(K, 3);
  std::mt19937 rng(17);
  int outside = 0, trials = 0;
  for (double j : {0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95}) {
    for (int t = 0; t < 10; ++t) {
      // |A n B| = c, |A u B| = u, J = c/u.
      const size_t u = 2000;
      const size_t c = static_cast<size_t>(std::lround(j * u));
      std::vector<uint32_t> all;
      std::set<uint32_t> seen;
      while (all.size() < u) {
        uint32_t x = rng();
        if (seen.insert(x).second) all.push_back(x);
      }
      std::vector<uint32_t> a(all.begin(), all.begin() + c), b = a;
      for (size_t i = c; i < u; ++i) ((i - c) % 2 ? a : b).push_back(all[i]);
      std::vector<uint32_t> sa(K), sb(K);
      MinHashSignature(perms, a.data(), a.size(), sa.data());
      MinHashSignature(perms, b.data(), b.size(), sb.data());
      double est = EstimatedJaccard(sa.data(), sb.data(), K);
      double truth = static_cast<double>(c) / u;
      double sigma = std::sqrt(truth * (1 - truth) / K);
      ++trials;
      if (std::fabs(est - truth) > 4 * sigma + 1e-9) ++outside;
    }
  }
  EXPECT_LE(outside, 1) << "of " << trials;
}

TEST(MinHashText, IdenticalAndEmptyAndJaccard) {
  MinHashPermutations perms(128, 1);
  ShingleOptions opt;
  opt.n = 3;
  MinHasher hasher(&perms, opt);
  std::vector<uint32_t> s1(128), s2(128);
  EXPECT_GT(hasher.Sign("The quick brown fox jumps over the lazy dog", s1.data()), 0u);
  EXPECT_GT(hasher.Sign("the QUICK brown fox, jumps over the lazy dog!", s2.data()), 0u);
  EXPECT_EQ(s1, s2);  // normalisation folds case and punctuation
  EXPECT_EQ(hasher.Sign("  ...  ", s1.data()), 0u);
  for (uint32_t v : s1) EXPECT_EQ(v, kEmptyMinHash);

  std::vector<uint64_t> a, b;
  ShingleSet("a b c d e", opt, &a);  // abc bcd cde
  ShingleSet("a b c d f", opt, &b);  // abc bcd cdf
  EXPECT_EQ(a.size(), 3u);
  EXPECT_DOUBLE_EQ(ExactJaccard(a, b), 2.0 / 4.0);
  EXPECT_DOUBLE_EQ(ExactJaccard({}, {}), 1.0);
}

}  // namespace
}  // namespace dedupdb
