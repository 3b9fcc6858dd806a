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
        // What the fast loop keeps: low32(s + (s >> 61)) == low32(y), which
        // is pi(h) unless y >= p, i.e. pi(h) <= 3 (the may-wrap flags'
        // premise, checked there for <= 7).
        ASSERT_EQ(static_cast<uint32_t>(s + (s >> 61)), static_cast<uint32_t>(y));
        if (y >= kMersenne61) ASSERT_LE(static_cast<uint64_t>(want), 3u);
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
          // MinHashSignature ran the IFMA kernel; the 11-op kernel and the
          // IFMA exact loop alone too.
          std::vector<uint32_t> other(perms.padded());
          internal::MinHashAvx512(perms.a_lo(), perms.a_hi(), perms.b_data(), perms.may_wrap(), perms.padded(),
                                  h.data(), n, other.data());
          ASSERT_TRUE(std::equal(scalar.begin(), scalar.end(), other.begin())) << "11-op loop, K=" << k;
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

// Hand-built permutations (not from a seed) in every kernel's layout, with
// their may-wrap flags.
struct HandPerms {
  std::vector<uint64_t> a, b, a_lo, a_hi, a_top, a_bot;
  std::vector<uint8_t> wrap, no_wrap;
  HandPerms(const std::vector<uint64_t>& as, const std::vector<uint64_t>& bs) : a(as), b(bs) {
    for (uint64_t x : as) {
      a_lo.push_back(x & 0x7FFFFFFFu), a_hi.push_back(x >> 31);
      a_top.push_back(x >> 9), a_bot.push_back(x & 511);
    }
    for (size_t i = 0; i < as.size(); ++i) wrap.push_back(internal::PermutationMayWrap(as[i], bs[i]));
    no_wrap.assign(as.size(), 0);
  }
};

// Every SIMD kernel against the scalar one on hand-built permutations: with
// the real flags all lanes must be equal; with the flags forced off (the
// fast loop everywhere) the lanes whose permutation is not flagged must
// still be equal. Returns the number of kernels compared.
int CompareKernels(const HandPerms& p, const std::vector<uint32_t>& h, std::vector<uint32_t>* forced_ifma = nullptr) {
  const size_t k = p.a.size();
  std::vector<uint32_t> s(k), v(k);
  internal::MinHashScalar(p.a_lo.data(), p.a_hi.data(), p.b.data(), k, h.data(), h.size(), s.data());
  for (size_t i = 0; i < k; ++i) {
    uint64_t best = 0xFFFFFFFFu;
    for (uint32_t x : h) {
      unsigned __int128 r = (static_cast<unsigned __int128>(p.a[i]) * x + p.b[i]) % kMersenne61;
      best = std::min<uint64_t>(best, static_cast<uint64_t>(r) & 0xFFFFFFFFu);
    }
    EXPECT_EQ(s[i], best) << "scalar lane " << i;
  }
  int compared = 0;
  auto check = [&](const char* name, const std::vector<uint8_t>& flags) {
    for (size_t i = 0; i < k; ++i) {
      if (&flags == &p.wrap || !p.wrap[i]) EXPECT_EQ(v[i], s[i]) << name << " lane " << i << (&flags == &p.wrap ? "" : " (fast loop forced)");
    }
  };
  for (const auto* flags : {&p.wrap, &p.no_wrap}) {
    if (DetectSimdLevel() >= SimdLevel::kAvx2) {
      internal::MinHashAvx2(p.a_lo.data(), p.a_hi.data(), p.b.data(), flags->data(), k, h.data(), h.size(), v.data());
      check("avx2", *flags);
      ++compared;
    }
    if (DetectSimdLevel() >= SimdLevel::kAvx512) {
      internal::MinHashAvx512(p.a_lo.data(), p.a_hi.data(), p.b.data(), flags->data(), k, h.data(), h.size(),
                              v.data());
      check("avx512", *flags);
      ++compared;
    }
    if (MinHashIfmaSupported()) {
      internal::MinHashAvx512Ifma(p.a_top.data(), p.a_bot.data(), p.b.data(), flags->data(), k, h.data(), h.size(),
                                  v.data());
      check("ifma", *flags);
      if (flags == &p.no_wrap && forced_ifma != nullptr) *forced_ifma = v;
      internal::MinHashAvx512IfmaExact(p.a_top.data(), p.a_bot.data(), p.b.data(), k, h.data(), h.size(), v.data());
      check("ifma exact", p.wrap);
      ++compared;
    }
  }
  return compared;
}

TEST(MinHashKernel, ExtremePermutationConstants) {
  // Hand-built permutations hitting the largest a, b (< p) and h = 2^32-1,
  // where every reduction step carries.
  const std::vector<uint64_t> as = {kMersenne61 - 1, kMersenne61 - 2, 1, (1ull << 32) - 1, 1ull << 32,
                                    (1ull << 60) + 12345, kMersenne61 - (1ull << 32), 3,
                                    kMersenne61 - 511, (1ull << 52) - 1, 511, 512, kMersenne61 - 512,
                                    (1ull << 61) - (1ull << 9) - 2, 0x1555555555555555ull, 5};
  const std::vector<uint64_t> bs = {kMersenne61 - 1, 0, kMersenne61 - 1, 7, kMersenne61 - 5, 1ull << 60, 99,
                                    kMersenne61 - 2, kMersenne61 - 1, kMersenne61 - 1, 0, 1, kMersenne61 - 3,
                                    12345, kMersenne61 - 8, 1ull << 40};
  HandPerms p(as, bs);
  for (uint32_t h : {0xFFFFFFFFu, 0xFFFFFFFEu, 0x80000000u, 1u, 0u}) CompareKernels(p, {h});
  CompareKernels(p, {0xFFFFFFFFu, 0xFFFFFFFEu, 0x80000000u, 1u, 0u, 12345u});
}

TEST(MinHashKernel, PermutationMayWrapMatchesDivisibilityOracle) {
  // For a < 2^28, a*h + b < 2p for every h < 2^32, so pi(h) <= 7 iff
  // a*h + b = r or p + r for some r <= 7: a divisibility question, answered
  // without the modular inverse PermutationMayWrap uses.
  std::mt19937_64 rng(41);
  int flagged = 0;
  for (int t = 0; t < 4000; ++t) {
    const uint64_t a = 1 + rng() % (t % 2 ? (1u << 28) - 1 : 1000);
    uint64_t b;
    if (t % 4 < 2) {  // planted: some h0 < 2^32 lands on p + r (or r)
      const uint64_t h0 = rng() % (uint64_t{1} << 32), r = rng() % 8;
      const uint64_t ah0 = a * h0;
      b = ah0 <= r ? r - ah0 : (kMersenne61 + r - ah0 % kMersenne61) % kMersenne61;
      if (t % 16 == 0) b = (b + 1 + rng() % 3) % kMersenne61;  // near miss
    } else {
      b = (rng() >> 3) % kMersenne61;
    }
    bool oracle = false;
    for (uint64_t r = 0; r <= 7; ++r) {
      for (uint64_t target : {r, kMersenne61 + r}) {
        if (target >= b && (target - b) % a == 0 && (target - b) / a <= 0xFFFFFFFFu) oracle = true;
      }
    }
    ASSERT_EQ(internal::PermutationMayWrap(a, b), oracle) << "a=" << a << " b=" << b;
    flagged += oracle;
  }
  EXPECT_GT(flagged, 1000);
  EXPECT_LT(flagged, 3000);
  // Seeded permutations are almost never flagged (~2^-26 each): the fast
  // loops run.
  MinHashPermutations perms(256, 1);
  int any = 0;
  for (size_t k = 0; k < perms.padded(); ++k) any += perms.may_wrap()[k];
  EXPECT_EQ(any, 0);
}

// The modular-range solver against brute force (solutions repeat with
// period m / gcd(a, m) <= m, so [0, m) decides).
TEST(MinHashKernel, FirstInModRangeMatchesBruteForce) {
  std::mt19937_64 rng(57);
  for (int t = 0; t < 3000; ++t) {
    const uint64_t m = t % 10 == 0 ? uint64_t{1} << (1 + rng() % 11) : 2 + rng() % 2000;
    const uint64_t a = rng() % m, b = rng() % m;
    uint64_t lo = rng() % m, hi = rng() % m;
    if (t % 3 == 0) hi = std::min(m - 1, lo + rng() % 4);  // narrow ranges: few solutions
    if (lo > hi) std::swap(lo, hi);
    int64_t want = -1;
    for (uint64_t x = 0; x < m; ++x) {
      const uint64_t v = (a * x + b) % m;
      if (v >= lo && v <= hi) {
        want = static_cast<int64_t>(x);
        break;
      }
    }
    ASSERT_EQ(internal::FirstInModRange(a, b, m, lo, hi), want) << "a=" << a << " b=" << b << " m=" << m << " [" << lo
                                                                 << ", " << hi << "]";
  }
}

// SevenOpUnsafeHashes: exactly the h < 2^32 with (a h + b) mod 2^61 >=
// 2^61 - 2^32 - 1. For a < 2^20, a h + b < 2^62, so those h form at most two
// intervals computed by division (an independent oracle); for large a, a
// planted h0 must be found and every reported h must qualify.
TEST(MinHashKernel, SevenOpUnsafeHashesOracle) {
  const uint64_t M = uint64_t{1} << 61, lo = M - (uint64_t{1} << 32) - 1;
  std::mt19937_64 rng(61);
  size_t found = 0;
  for (int t = 0; t < 300; ++t) {
    const uint64_t a = 1 + rng() % ((uint64_t{1} << 20) - 1);
    // Bias b towards the edge so that the intervals are hit.
    const uint64_t b = t % 2 ? (rng() >> 3) % kMersenne61 : M - 1 - a * (rng() % (uint64_t{1} << 32)) - rng() % (uint64_t{1} << 33);
    if (b >= kMersenne61) continue;
    std::vector<uint32_t> want;
    for (uint64_t base : {uint64_t{0}, M}) {  // a h + b in [base + lo, base + M)
      const uint64_t x0 = base + lo, x1 = base + M - 1;
      if (x1 < b) continue;
      const uint64_t h_lo = x0 <= b ? 0 : (x0 - b + a - 1) / a, h_hi = (x1 - b) / a;
      for (uint64_t h = h_lo; h <= h_hi && h <= 0xFFFFFFFFu; ++h) want.push_back(static_cast<uint32_t>(h));
    }
    std::vector<uint32_t> got;
    internal::SevenOpUnsafeHashes(a, b, &got);
    ASSERT_EQ(got, want) << "a=" << a << " b=" << b;
    found += got.size();
  }
  EXPECT_GT(found, 100u);
  size_t planted = 0, reported = 0;
  for (int t = 0; t < 2000; ++t) {
    const uint64_t a = 1 + (rng() >> 3) % (kMersenne61 - 1);
    const uint64_t h0 = rng() % (uint64_t{1} << 32), r0 = lo + rng() % (M - lo);
    const uint64_t b = static_cast<uint64_t>((static_cast<unsigned __int128>(M) * 2 + r0 -
                                              (static_cast<unsigned __int128>(a) * h0) % M) % M);
    if (b >= kMersenne61) continue;
    std::vector<uint32_t> got;
    internal::SevenOpUnsafeHashes(a, b, &got);
    ASSERT_TRUE(std::binary_search(got.begin(), got.end(), static_cast<uint32_t>(h0))) << "a=" << a << " h0=" << h0;
    for (uint32_t h : got) {
      ASSERT_GE(static_cast<uint64_t>((static_cast<unsigned __int128>(a) * h + b) % M), lo) << h;
    }
    ++planted;
    reported += got.size();
  }
  // ~8 per permutation on average (2^32 * 2^32 / 2^61), more for a with
  // small multiples near 2^61 (runs of consecutive h).
  EXPECT_GT(reported, 4 * planted);
  EXPECT_LT(reported, 20 * planted);
}

// The 7-op IFMA loop: equal to the scalar path when the permutations' unsafe
// hashes are absent; a planted unsafe hash (x mod 2^61 = 2^61 - 1 with
// floor(x / 2^61) >= 1) makes the forced 7-op loop wrong, and
// MinHashSignature must notice it and stay exact.
TEST(MinHashKernel, SevenOpLoopAndItsCheck) {
  if (!MinHashIfmaSupported()) GTEST_SKIP() << "no AVX-512 IFMA on this CPU";
  std::mt19937_64 rng(67);
  MinHashPermutations seeded(128, 5);
  std::vector<uint32_t> scalar(128), simd(128);
  for (int t = 0; t < 200; ++t) {
    std::vector<uint32_t> h(1 + rng() % 500);
    for (auto& x : h) x = static_cast<uint32_t>(rng());
    if (t % 7 == 0) h[0] = 0xFFFFFFFFu, h[h.size() / 2] = 0;
    ASSERT_FALSE(seeded.NeedsEightOpLoop(h.data(), h.size()));
    MinHashSignature(seeded, h.data(), h.size(), scalar.data(), SimdLevel::kScalar);
    internal::MinHashAvx512Ifma7Unchecked(seeded.a_top(), seeded.a_top43(), seeded.a_bot(), seeded.b_data(), 128,
                                          h.data(), h.size(), simd.data());
    ASSERT_EQ(simd, scalar) << t;
  }
  const uint64_t M = uint64_t{1} << 61;
  int wrong = 0;
  for (int t = 0; t < 50; ++t) {
    std::vector<uint64_t> as(16), bs(16);
    const uint32_t h0 = 4 + static_cast<uint32_t>(rng() % 0xFFFFFF00u);
    for (int k = 0; k < 16; ++k) {
      do {
        as[k] = (uint64_t{1} << 59) + (rng() >> 4) % (kMersenne61 - (uint64_t{1} << 59));
        // x = a h0 + b with x mod 2^61 = 2^61 - 1 and floor(x / 2^61) >= 1.
        bs[k] = static_cast<uint64_t>((static_cast<unsigned __int128>(M) + M - 1 -
                                       (static_cast<unsigned __int128>(as[k]) * h0) % M) % M);
      } while (bs[k] >= kMersenne61);
    }
    MinHashPermutations perms(as, bs);
    ASSERT_TRUE(perms.NeedsEightOpLoop(&h0, 1));
    std::vector<uint32_t> hs = {static_cast<uint32_t>(rng()), h0, static_cast<uint32_t>(rng())};
    std::vector<uint32_t> s16(16), v16(16), forced(16);
    MinHashSignature(perms, hs.data() + 1, 1, s16.data(), SimdLevel::kScalar);
    MinHashSignature(perms, hs.data() + 1, 1, v16.data(), SimdLevel::kAvx512);
    ASSERT_EQ(v16, s16);
    MinHashSignature(perms, hs.data(), 3, s16.data(), SimdLevel::kScalar);
    MinHashSignature(perms, hs.data(), 3, v16.data(), SimdLevel::kAvx512);
    ASSERT_EQ(v16, s16);
    internal::MinHashAvx512Ifma7Unchecked(perms.a_top(), perms.a_top43(), perms.a_bot(), perms.b_data(), 16,
                                          hs.data() + 1, 1, forced.data());
    MinHashSignature(perms, hs.data() + 1, 1, s16.data(), SimdLevel::kScalar);
    for (int k = 0; k < 16; ++k) wrong += forced[k] != s16[k];
  }
  EXPECT_EQ(wrong, 50 * 16) << "the 7-op loop alone should get every planted lane wrong";
}

TEST(MinHashKernel, FastLoopFallbackAtFieldEdges) {
  // The SIMD fast loops skip the "y >= p -> y - p" step; permutations that
  // could need it are flagged and run the exact loop. Permutations a = 1
  // (and a = p - 1, i.e. -h) with b placed so that a*h + b lands on p - 4 ..
  // p + 11 for one shingle h0 among random others: all are flagged, every
  // kernel must equal the scalar path, and the fast loop forced onto them
  // must get the a = 1, pi(h0) = 0 lane wrong (so the flags matter).
  std::mt19937_64 rng(23);
  int checked = 0;
  for (int round = 0; round < 40; ++round) {
    std::vector<uint32_t> h(1 + rng() % 60);
    for (auto& x : h) x = static_cast<uint32_t>(rng());
    const uint32_t h0 = h[rng() % h.size()];
    std::vector<uint64_t> as(32), bs(32);
    for (int i = 0; i < 32; ++i) {
      const int delta = i % 16 - 4;  // a*h0 + b = p + delta
      as[i] = i < 16 ? 1 : kMersenne61 - 1;
      const uint64_t ah0 = i < 16 ? h0 : (h0 == 0 ? 0 : kMersenne61 - h0);  // a*h0 mod p
      bs[i] = (kMersenne61 + kMersenne61 + delta - ah0) % kMersenne61;
    }
    HandPerms p(as, bs);
    for (int i = 0; i < 32; ++i) {
      const int delta = i % 16 - 4;
      if (delta >= 0 && delta <= 7) EXPECT_TRUE(p.wrap[i]) << i;  // pi(h0) = delta
    }
    std::vector<uint32_t> forced;
    checked += CompareKernels(p, h, &forced);
    // delta = 0: pi(h0) = 0, the minimum; the fast loop alone gives
    // low32(p) = 0xFFFFFFFF for h0 there.
    std::vector<uint32_t> s(32);
    internal::MinHashScalar(p.a_lo.data(), p.a_hi.data(), p.b.data(), 32, h.data(), h.size(), s.data());
    EXPECT_EQ(s[4], 0u);
    if (!forced.empty()) EXPECT_NE(forced[4], 0u) << "fast loop forced onto a flagged permutation";
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
