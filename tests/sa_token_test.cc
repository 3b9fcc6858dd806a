// Token mode (u16 / u32 ids from flat .bin and .npy files): count and locate
// must equal a naive scan over the token documents, with one shard and many,
// for empty, 1-token, absent, document-spanning and very long queries; tokens
// whose little-endian and big-endian byte orders disagree check that the
// index orders symbols as integers.
#include <gtest/gtest.h>

#include <random>

#include "index/sa_builder.h"
#include "index/suffix_array.h"
#include "query/substring_count.h"
#include "query/substring_locate.h"
#include "storage/doc_store.h"
#include "tests/sa_fixture.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

using Tokens = std::vector<uint64_t>;

std::string Le(const Tokens& t, uint32_t sb) {
  std::string out;
  for (uint64_t v : t)
    for (uint32_t k = 0; k < sb; ++k) out.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
  return out;
}

std::string Be(const Tokens& t, uint32_t sb) {
  std::string out;
  EXPECT_TRUE(EncodeTokens(t, sb, &out).ok());
  return out;
}

std::string NpyFile(const std::string& data, uint32_t sb) {
  std::string dict = "{'descr': '<u" + std::to_string(sb) + "', 'fortran_order': False, 'shape': (" +
                     std::to_string(data.size() / sb) + ",), }";
  while ((10 + dict.size() + 1) % 64 != 0) dict += ' ';
  dict += '\n';
  std::string f("\x93NUMPY\x01\x00", 8);
  f.push_back(static_cast<char>(dict.size() & 0xFF));
  f.push_back(static_cast<char>(dict.size() >> 8));
  return f + dict + data;
}

struct Case {
  uint32_t sb;
  uint64_t sep;
  Tokens alphabet;
  bool trailing_separator;
  bool npy;
};

void RunCase(const Case& c) {
  std::mt19937_64 rng(c.sb * 131 + c.sep);
  test::TempDir dir;
  std::vector<Tokens> docs(test::Scaled(150, 50));
  for (auto& d : docs) {
    size_t len = rng() % 40;
    for (size_t i = 0; i < len; ++i) d.push_back(c.alphabet[rng() % c.alphabet.size()]);
  }
  docs[2].clear();  // an empty document between two separators
  if (!c.trailing_separator && docs.back().empty()) docs.back().push_back(c.alphabet[0]);
  Tokens stream;
  for (size_t i = 0; i < docs.size(); ++i) {
    stream.insert(stream.end(), docs[i].begin(), docs[i].end());
    if (c.trailing_separator || i + 1 < docs.size()) stream.push_back(c.sep);
  }
  const std::string path = dir.Sub(c.npy ? "tokens.npy" : "tokens.bin");
  test::WriteFile(path, c.npy ? NpyFile(Le(stream, c.sb), c.sb) : Le(stream, c.sb));
  const std::string store_dir = dir.Sub("store");

  std::vector<std::string> be_docs;
  for (const Tokens& d : docs) be_docs.push_back(Be(d, c.sb));
  std::vector<Tokens> qs = {{}, {c.alphabet[0]}, {c.alphabet.back()}, {c.sep}, docs[0], Tokens(200, c.alphabet[0])};
  for (uint64_t i = 0; i < test::Scaled(200, 60); ++i) {
    const Tokens& d = docs[rng() % docs.size()];
    Tokens q;
    switch (rng() % 4) {
      case 0:
      case 1:
        if (!d.empty()) {
          size_t b = rng() % d.size();
          q.assign(d.begin() + b, d.begin() + std::min(d.size(), b + 1 + rng() % 8));
        }
        break;
      case 2:
        for (size_t k = 0, n = 1 + rng() % 5; k < n; ++k) q.push_back(c.alphabet[rng() % c.alphabet.size()]);
        break;
      default: {  // end of one doc + start of the next
        size_t k = rng() % (docs.size() - 1);
        q.assign(docs[k].end() - std::min<size_t>(docs[k].size(), 2), docs[k].end());
        q.insert(q.end(), docs[k + 1].begin(), docs[k + 1].begin() + std::min<size_t>(docs[k + 1].size(), 2));
      }
    }
    qs.push_back(q);
  }

  for (uint64_t max_shard : {uint64_t{0}, uint64_t{150}}) {
    SCOPED_TRACE("max_shard_symbols=" + std::to_string(max_shard));
    SaBuildOptions o;
    o.name = "t" + std::to_string(max_shard);
    o.memory_budget = 256ull << 20;
    o.threads = max_shard ? 2 : 1;
    o.max_shard_symbols = max_shard;
    o.token_file = path;
    o.token_bytes = c.sb;
    o.separator = c.sep;
    SaBuildReport rep;
    Status st = BuildSuffixArrayIndex(store_dir, o, &rep);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(rep.num_docs, docs.size());
    std::unique_ptr<DocStore> store;
    ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
    std::unique_ptr<SuffixArrayIndex> index;
    st = SuffixArrayIndex::Open(store.get(), o.name, &index);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_TRUE(index->token_mode());
    EXPECT_EQ(index->symbol_bytes(), c.sb);
    if (max_shard) {
      EXPECT_GE(index->num_shards(), 5u);
    }
    for (const Tokens& q : qs) {
      std::string qb = Be(q, c.sb);
      auto want = sa_test::OracleLocate(be_docs, qb, c.sb);
      bool has_sep = std::find(q.begin(), q.end(), c.sep) != q.end();
      if (has_sep) want.clear();
      CountResult cr;
      ASSERT_TRUE(CountOccurrences(*index, qb, &cr).ok());
      ASSERT_EQ(cr.count, want.size()) << testing::PrintToString(q);
      LocateOptions lo;
      lo.limit = want.size() + 1;
      lo.context = 2;
      LocateResult lr;
      ASSERT_TRUE(LocateOccurrences(*index, store.get(), qb, lo, &lr).ok());
      ASSERT_EQ(lr.hits.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_EQ(std::make_pair(lr.hits[i].doc_id, lr.hits[i].offset), want[i]);
        ASSERT_EQ(DecodeTokens(lr.hits[i].match, c.sb), q);
        // Context: up to 2 tokens each side, within the document.
        const Tokens& d = docs[want[i].first];
        uint64_t off = want[i].second;
        Tokens before(d.begin() + (off - std::min<uint64_t>(off, 2)), d.begin() + off);
        EXPECT_EQ(DecodeTokens(lr.hits[i].before, c.sb), before);
        EXPECT_TRUE(lr.hits[i].external_id.empty());
      }
    }
    EXPECT_TRUE(index->ValidateQuery(std::string(c.sb + 1, 'a')).IsInvalidArgument());
  }
}

TEST(SaToken, U16BinWithTrailingSeparator) {
  RunCase({2, 50256, {1, 0x0100, 0x0101, 0xFFFF, 0x00FF, 0xFF00}, true, false});
}

TEST(SaToken, U16NpyWithoutTrailingSeparatorSeparatorZero) {
  RunCase({2, 0, {1, 0x0100, 0x0101, 0xFFFF, 2}, false, true});
}

TEST(SaToken, U32Bin) {
  RunCase({4, 100000, {1, 256, 65536, 0x01000000, 0xFFFFFFFF, 0x000000FF}, true, false});
}

TEST(SaToken, BadTokenFilesFailCleanly) {
  test::TempDir dir;
  test::WriteFile(dir.Sub("odd.bin"), std::string(7, '\x01'));
  SaBuildOptions o;
  o.token_file = dir.Sub("odd.bin");
  o.token_bytes = 2;
  o.separator = 0;
  o.memory_budget = 64ull << 20;
  SaBuildReport r;
  Status st = BuildSuffixArrayIndex(dir.Sub("store"), o, &r);
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_NE(st.message().find("odd.bin"), std::string::npos);
  EXPECT_NE(st.message().find("byte offset 6"), std::string::npos) << st.ToString();
  o.separator = 70000;  // does not fit u16
  test::WriteFile(dir.Sub("odd.bin"), std::string(8, '\x01'));
  EXPECT_TRUE(BuildSuffixArrayIndex(dir.Sub("store"), o, &r).IsInvalidArgument());
  o.separator = 0;
  o.token_file = dir.Sub("missing.bin");
  EXPECT_FALSE(BuildSuffixArrayIndex(dir.Sub("store"), o, &r).ok());
}

}  // namespace
}  // namespace dedupdb
