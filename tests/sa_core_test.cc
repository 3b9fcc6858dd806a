// Suffix-array building blocks against brute force: the SIMD mismatch kernels
// equal the scalar one, SortSuffixes (divsufsort 32/64, byte and big-endian
// token symbols) equals std::sort of the suffixes, shard planning, pointer
// widths, .npy headers.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "index/sa_builder.h"
#include "index/sa_compare.h"
#include "index/token_file.h"
#include "index/suffix_array.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

TEST(SaCore, MismatchKernelsEqualScalar) {
  std::mt19937_64 rng(1);
  const SimdLevel top = DetectSimdLevel();
  for (int iter = 0; iter < 3000; ++iter) {
    size_t n = rng() % 300;
    // Allocate exactly n bytes so a read past the end trips ASan.
    std::vector<uint8_t> a(n), b(n);
    for (size_t i = 0; i < n; ++i) a[i] = b[i] = static_cast<uint8_t>(rng() % 3);
    if (n > 0 && rng() % 4 != 0) {
      size_t at = rng() % n;
      b[at] = static_cast<uint8_t>(b[at] + 1 + rng() % 200);
      if (rng() % 2 && at + 1 < n) b[at + 1 + rng() % (n - at - 1)] ^= 0x40;
    }
    size_t want = MismatchScalar(a.data(), b.data(), n);
    for (int lvl = 0; lvl <= static_cast<int>(top); ++lvl) {
      MismatchFn f = MismatchFor(static_cast<SimdLevel>(lvl));
      ASSERT_EQ(f(a.data(), b.data(), n), want) << "level " << lvl << " n=" << n;
    }
    ASSERT_EQ(Mismatch(a.data(), b.data(), n), want);
  }
}

TEST(SaCore, CompareSuffixToQuery) {
  auto cmp = [](std::string s, std::string q, size_t skip = 0) {
    size_t lcp;
    int c = CompareSuffixToQuery(reinterpret_cast<const uint8_t*>(s.data()), s.size(),
                                 reinterpret_cast<const uint8_t*>(q.data()), q.size(), skip, &lcp);
    return std::make_pair(c, lcp);
  };
  EXPECT_EQ(cmp("abcd", "abc"), std::make_pair(0, size_t{3}));
  EXPECT_EQ(cmp("ab", "abc"), std::make_pair(-1, size_t{2}));   // proper prefix orders first
  EXPECT_EQ(cmp("abd", "abc"), std::make_pair(1, size_t{2}));
  EXPECT_EQ(cmp("abb", "abc", 2), std::make_pair(-1, size_t{2}));
  EXPECT_EQ(cmp("x", ""), std::make_pair(0, size_t{0}));
  EXPECT_EQ(cmp("\xff", "a"), std::make_pair(1, size_t{0}));     // unsigned bytes
}

// Brute force: aligned, non-separator suffix positions sorted by comparing
// symbol strings as big-endian integers (== bytes).
std::vector<uint64_t> BruteSort(const std::string& text, uint32_t sb, uint64_t sep) {
  std::vector<uint64_t> pos;
  for (uint64_t p = 0; p < text.size() / sb; ++p) {
    uint64_t v = 0;
    for (uint32_t k = 0; k < sb; ++k) v = (v << 8) | static_cast<uint8_t>(text[p * sb + k]);
    if (v != sep) pos.push_back(p);
  }
  std::sort(pos.begin(), pos.end(), [&](uint64_t a, uint64_t b) {
    return std::string_view(text).substr(a * sb) < std::string_view(text).substr(b * sb);
  });
  return pos;
}

TEST(SaCore, SortSuffixesMatchesBruteForce) {
  std::mt19937_64 rng(2);
  for (uint32_t sb : {1u, 2u, 4u}) {
    for (int iter = 0; iter < 40; ++iter) {
      const uint64_t sep = sb == 1 ? 0xFF : (rng() % 2 ? 0 : 3);
      size_t n = 1 + rng() % test::Scaled(600, 150);
      std::string text;
      for (size_t i = 0; i < n; ++i) {
        // Small alphabet of symbols (many repeats); token bytes include 0x00.
        uint64_t v = rng() % 5 == 0 ? sep : rng() % 4;
        if (sb == 1 && v == sep) v = 0xFF;
        for (int k = sb - 1; k >= 0; --k) text.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
        if (sb == 1 && v != 0xFF) text.back() = static_cast<char>('a' + v);
      }
      std::vector<uint64_t> want = BruteSort(text, sb, sep);
      for (bool force64 : {false, true}) {
        SortedSuffixes got;
        ASSERT_TRUE(SortSuffixes(reinterpret_cast<const uint8_t*>(text.data()), text.size(), sb, sep, force64, &got).ok());
        ASSERT_EQ(got.size(), want.size());
        EXPECT_EQ(force64, !got.sa64.empty());
        for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << "sb=" << sb << " i=" << i;
      }
    }
  }
}

TEST(SaCore, ShardPlannerCutsGreedily) {
  // Cost of a doc = length + 3 (separator + doc-table entry).
  ShardPlanner p(20);
  for (uint64_t len : {5u, 5u, 5u, 0u, 17u, 1u}) ASSERT_TRUE(p.Add(len, len + 1).ok());
  const auto& s = p.shards();
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].first_doc, 0u);
  EXPECT_EQ(s[0].num_docs, 2u);  // 8 + 8 = 16; a third (24) would not fit
  EXPECT_EQ(s[1].first_doc, 2u);
  EXPECT_EQ(s[1].num_docs, 2u);  // 8 + 3
  EXPECT_EQ(s[1].num_symbols, 6u + 1u);
  EXPECT_EQ(s[1].input_begin, 12u);
  EXPECT_EQ(s[2].first_doc, 4u);
  EXPECT_EQ(s[2].num_docs, 1u);  // 20, then the 1-symbol doc cannot join
  EXPECT_EQ(s[3].first_doc, 5u);
  EXPECT_EQ(p.docs(), 6u);
  Status st = p.Add(18);
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_NE(st.message().find("--memory"), std::string::npos);
}

TEST(SaCore, ShardCapacityAndPointerWidth) {
  EXPECT_EQ(PointerWidthFor(1), 4u);
  EXPECT_EQ(PointerWidthFor(1ull << 32), 4u);
  EXPECT_EQ(PointerWidthFor((1ull << 32) + 1), 5u);
  EXPECT_EQ(PointerWidthFor(1ull << 40), 5u);
  EXPECT_EQ(PointerWidthFor((1ull << 40) + 1), 6u);
  // 5 bytes per text byte with the 32-bit sort, budget split over threads.
  uint64_t c1 = ShardCapacityBytes(8ull << 30, 1), c2 = ShardCapacityBytes(8ull << 30, 2);
  EXPECT_LE(c1 * 5, 8ull << 30);
  EXPECT_GT(c1 * 5, (8ull << 30) - (64ull << 20));
  EXPECT_LE(2 * c2 * 5, 8ull << 30);
  // Past 2 GiB shards switch to the 64-bit sort (9 bytes per byte).
  uint64_t c64 = ShardCapacityBytes(40ull << 30, 1);
  EXPECT_GT(c64, 1ull << 31);
  EXPECT_LE(c64 * 9, 40ull << 30);
  EXPECT_EQ(ShardCapacityBytes(1 << 20, 1), 0u);
  // Process + per-shard overheads come off the budget: 32 MiB + 8 MiB per shard.
  EXPECT_EQ(ShardCapacityBytes((1ull << 30), 2), (((1ull << 30) - (32ull << 20)) / 2 - (8ull << 20)) / 5);
}

TEST(SaCore, NpyHeader) {
  auto npy = [](const std::string& dict) {
    std::string h = dict;
    while ((10 + h.size() + 1) % 64 != 0) h += ' ';
    h += '\n';
    std::string f = std::string("\x93NUMPY\x01\x00", 8);
    f.push_back(static_cast<char>(h.size() & 0xFF));
    f.push_back(static_cast<char>(h.size() >> 8));
    return f + h;
  };
  uint64_t off = 0, count = 0;
  uint32_t sb = 0;
  std::string f = npy("{'descr': '<u2', 'fortran_order': False, 'shape': (12345,), }");
  ASSERT_TRUE(ParseNpyHeader(f, "x.npy", &off, &sb, &count).ok());
  EXPECT_EQ(off, f.size());
  EXPECT_EQ(off % 64, 0u);
  EXPECT_EQ(sb, 2u);
  EXPECT_EQ(count, 12345u);
  ASSERT_TRUE(ParseNpyHeader(npy("{'descr': '<u4', 'fortran_order': False, 'shape': (7,), }"), "x.npy", &off, &sb,
                             &count).ok());
  EXPECT_EQ(sb, 4u);
  EXPECT_EQ(count, 7u);
  Status st = ParseNpyHeader(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }"), "x.npy", &off, &sb, &count);
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("x.npy"), std::string::npos);
  EXPECT_FALSE(ParseNpyHeader(npy("{'descr': '<u2', 'fortran_order': False, 'shape': (2, 3), }"), "x.npy", &off, &sb,
                              &count).ok());
  EXPECT_FALSE(ParseNpyHeader("garbage", "x.npy", &off, &sb, &count).ok());
}

TEST(SaCore, TokenEncodingRoundTrip) {
  std::string q;
  ASSERT_TRUE(EncodeTokens({1, 258, 65535}, 2, &q).ok());
  EXPECT_EQ(q, std::string("\x00\x01\x01\x02\xff\xff", 6));  // big-endian
  EXPECT_EQ(DecodeTokens(q, 2), (std::vector<uint64_t>{1, 258, 65535}));
  EXPECT_TRUE(EncodeTokens({65536}, 2, &q).IsInvalidArgument());
  ASSERT_TRUE(EncodeTokens({70000, 0}, 4, &q).ok());
  EXPECT_EQ(DecodeTokens(q, 4), (std::vector<uint64_t>{70000, 0}));
}

TEST(SaCore, ManifestRoundTripAndTruncation) {
  SaManifest m;
  m.symbol_bytes = 2;
  m.separator = 50256;
  m.token_mode = true;
  m.token_source = "/x/tokens.bin";
  m.generation = 3;
  m.num_docs = 10;
  m.input_symbols = 1000;
  m.index_bytes = 7000;
  m.shards.push_back(SaShardInfo{"sa/default/g3/shard-00000.text", "sa/default/g3/shard-00000.sa", 0, 10, 1010, 1000, 5});
  std::string e = m.Encode();
  SaManifest d;
  ASSERT_TRUE(SaManifest::Decode(e, &d).ok());
  EXPECT_EQ(d.Encode(), e);
  EXPECT_EQ(d.shards[0].pointer_width, 5u);
  EXPECT_EQ(d.token_source, "/x/tokens.bin");
  for (size_t cut = 0; cut < e.size(); ++cut) {
    EXPECT_FALSE(SaManifest::Decode(std::string_view(e).substr(0, cut), &d).ok()) << cut;
  }
}

}  // namespace
}  // namespace dedupdb
