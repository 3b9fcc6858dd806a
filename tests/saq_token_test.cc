// The query engines on a u16 token index: longest (in token units), CNF
// search (documents = token runs, no store docs) and batch count, against
// oracles over a one-char-per-token rendering of the same documents. Token
// values are chosen so that a query's bytes also occur straddling two
// tokens (0x0101 0x0201 contains bytes 01 02 = token 0x0102 at an odd
// offset), which a correct engine must not count.
#include <gtest/gtest.h>

#include "query/batch_count.h"
#include "query/doc_search.h"
#include "query/longest_match.h"
#include "tests/saq_fixture.h"

namespace dedupdb {
namespace {

constexpr uint16_t kTokens[] = {0x0101, 0x0102, 0x0201};  // 'a', 'b', 'c'
constexpr uint16_t kSep = 0x0202;

std::string Encode(const std::string& chars) {
  std::string out;
  for (char ch : chars) {
    uint16_t t = ch == '|' ? kSep : kTokens[ch - 'a'];
    out.push_back(static_cast<char>(t >> 8));  // queries are big-endian symbols
    out.push_back(static_cast<char>(t & 0xff));
  }
  return out;
}

TEST(SaqToken, EnginesMatchOracleOnU16) {
  std::mt19937_64 rng(21);
  std::vector<std::string> docs = saq_test::RandomDocs(rng, 40, 50, "abc");
  test::TempDir dir;
  // Raw little-endian u16 token file, documents ended by the separator.
  std::string bin;
  for (const std::string& d : docs) {
    for (char ch : d + "|") {
      uint16_t t = ch == '|' ? kSep : kTokens[ch - 'a'];
      bin.push_back(static_cast<char>(t & 0xff));
      bin.push_back(static_cast<char>(t >> 8));
    }
  }
  test::WriteFile(dir.Sub("tokens.bin"), bin);
  SaBuildOptions o;
  o.memory_budget = 64ull << 20;
  o.threads = 1;
  o.max_shard_symbols = 300;
  o.token_file = dir.Sub("tokens.bin");
  o.token_bytes = 2;
  o.separator = kSep;
  SaBuildReport rep;
  const std::string store_dir = dir.Sub("store");
  Status st = BuildSuffixArrayIndex(store_dir, o, &rep);
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
  std::unique_ptr<SuffixArrayIndex> index;
  ASSERT_TRUE(SuffixArrayIndex::Open(store.get(), "default", &index).ok());
  ASSERT_TRUE(index->token_mode());
  ASSERT_GT(index->num_shards(), 2u);

  // longest: per-token matching statistics.
  for (int i = 0; i < 8; ++i) {
    std::string t = i == 0 ? docs[0] + docs[1] : "";
    size_t len = 1 + rng() % 60;
    for (size_t k = 0; i > 0 && k < len; ++k) t += "abc|"[rng() % (i < 4 ? 3 : 4)];
    LongestMatchOptions lo;
    lo.min_len = 3;
    LongestMatchResult lr;
    ASSERT_TRUE(LongestMatches(*index, Encode(t), lo, &lr).ok());
    EXPECT_EQ(lr.match_length, saq_test::OracleMatchingStatistics(docs, t)) << t;
    for (const MatchSpan& s : lr.spans)
      EXPECT_EQ(s.count, saq_test::OracleCount(docs, t.substr(s.begin, s.length)));
  }
  // An odd-length byte string is not a whole number of tokens.
  LongestMatchResult lr;
  EXPECT_FALSE(LongestMatches(*index, std::string("\x01\x01\x01", 3), LongestMatchOptions(), &lr).ok());

  // count-batch and search.
  std::vector<std::string> qs_chars = {"a", "b", "ab", "ba", "cab", "abcabc", "bb", "c"};
  for (int i = 0; i < 40; ++i) {
    const std::string& d = docs[rng() % docs.size()];
    qs_chars.push_back(d.substr(rng() % d.size(), 1 + rng() % 4));
  }
  std::vector<std::string> qs;
  std::vector<uint64_t> oracle;
  for (const std::string& q : qs_chars) {
    qs.push_back(Encode(q));
    oracle.push_back(saq_test::OracleCount(docs, q));
  }
  for (bool uring : {true, false}) {
    BatchCountOptions bo;
    bo.prefer_io_uring = uring;
    std::vector<uint64_t> counts;
    ASSERT_TRUE(BatchCount(*index, qs, bo, &counts, nullptr).ok());
    EXPECT_EQ(counts, oracle);
  }
  for (int i = 0; i < 10; ++i) {
    CnfQuery q;
    q.clauses = {{qs_chars[rng() % qs_chars.size()], qs_chars[rng() % qs_chars.size()]},
                 {qs_chars[rng() % qs_chars.size()]}};
    std::vector<uint64_t> want;
    for (size_t d = 0; d < docs.size(); ++d) {
      bool c0 = docs[d].find(q.clauses[0][0]) != std::string::npos || docs[d].find(q.clauses[0][1]) != std::string::npos;
      bool c1 = docs[d].find(q.clauses[1][0]) != std::string::npos;
      if (c0 && c1) want.push_back(d);
    }
    CnfQuery enc = q;
    for (auto& c : enc.clauses)
      for (auto& t : c) t = Encode(t);
    for (auto method : {DocSearchOptions::Method::kEnumerate, DocSearchOptions::Method::kScan}) {
      DocSearchOptions so;
      so.method = method;
      DocSearchResult sr;
      ASSERT_TRUE(SearchDocs(*index, nullptr, enc, so, &sr).ok());
      std::vector<uint64_t> got;
      for (uint64_t d : sr.docs) got.push_back(d);
      EXPECT_EQ(got, want) << q.ToString();
      for (const DocSearchHit& h : sr.hits) {
        size_t first = std::min(docs[h.doc_id].find(q.clauses[0][0]), docs[h.doc_id].find(q.clauses[0][1]));
        EXPECT_EQ(h.match_offset, first);
      }
    }
  }
}

}  // namespace
}  // namespace dedupdb
