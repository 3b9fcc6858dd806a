// longest(): matching statistics and maximal spans (query/longest_match.h)
// against brute-force scans of the documents.
#include <gtest/gtest.h>

#include <algorithm>

#include "query/longest_match.h"
#include "tests/saq_fixture.h"

namespace dedupdb {
namespace {

using saq_test::Corpus;

// Every (doc, offset) where q occurs, sorted.
std::vector<SpanLocation> OracleLocations(const std::vector<std::string>& docs, const std::string& q) {
  std::vector<SpanLocation> out;
  for (size_t d = 0; d < docs.size(); ++d)
    for (size_t p = docs[d].find(q); p != std::string::npos; p = docs[d].find(q, p + 1)) out.push_back({d, p});
  return out;
}

// Checks LongestMatches on `text` against the oracles: the per-position
// array, and the spans (left-maximality checked by a direct scan, counts and
// smallest locations by enumeration).
void CheckText(const Corpus& c, const std::string& text, uint64_t min_len) {
  LongestMatchOptions opt;
  opt.min_len = min_len;
  opt.max_locations = 3;
  LongestMatchResult res;
  Status st = LongestMatches(*c.index, text, opt, &res);
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::vector<uint64_t> want = saq_test::OracleMatchingStatistics(c.docs, text);
  ASSERT_EQ(res.match_length, want) << "text: " << text;

  std::vector<MatchSpan> oracle_spans;
  for (size_t i = 0; i < text.size(); ++i) {
    uint64_t l = want[i];
    if (l < std::max<uint64_t>(min_len, 1)) continue;
    if (i > 0 && saq_test::OracleContains(c.docs, text.substr(i - 1, l + 1))) continue;  // extends left
    MatchSpan s;
    s.begin = i;
    s.length = l;
    oracle_spans.push_back(s);
  }
  ASSERT_EQ(res.spans.size(), oracle_spans.size()) << text;
  uint64_t covered = 0;
  std::vector<bool> in_span(text.size(), false);
  for (size_t k = 0; k < oracle_spans.size(); ++k) {
    const MatchSpan& got = res.spans[k];
    EXPECT_EQ(got.begin, oracle_spans[k].begin);
    EXPECT_EQ(got.length, oracle_spans[k].length);
    std::string piece = text.substr(got.begin, got.length);
    std::vector<SpanLocation> locs = OracleLocations(c.docs, piece);
    EXPECT_EQ(got.count, locs.size()) << piece;
    locs.resize(std::min<size_t>(locs.size(), 3));
    EXPECT_EQ(got.locations, locs) << piece;
    EXPECT_FALSE(got.locations_truncated);
    for (uint64_t p = got.begin; p < got.begin + got.length; ++p) in_span[p] = true;
  }
  for (bool b : in_span) covered += b;
  EXPECT_EQ(res.covered, covered);
}

TEST(SaqLongest, RandomSmallAlphabetManyShards) {
  std::mt19937_64 rng(7);
  Corpus c;
  std::vector<std::string> docs = saq_test::RandomDocs(rng, test::Scaled(60, 25), 80, "ab");
  for (auto& d : saq_test::RandomDocs(rng, 20, 60, "abc")) docs.push_back(d);
  ASSERT_NO_FATAL_FAILURE(saq_test::BuildCorpus(docs, 300, &c));
  ASSERT_GT(c.index->num_shards(), 3u);

  std::vector<std::string> texts = {
      "",                                  // empty input
      "a",                                 // one symbol
      "zzz",                               // absent everywhere
      docs[0] + docs[1] + docs[2],         // spans document boundaries
      std::string(500, 'a'),               // very long run
      "ab\xff" "ab" "c\xff\xff" "ba",      // separator bytes in the input match nothing
  };
  for (int i = 0; i < 6; ++i) {
    std::string t;
    size_t len = 1 + rng() % 150;
    for (size_t k = 0; k < len; ++k) t += "abcz"[rng() % (i < 3 ? 3 : 4)];
    texts.push_back(t);
  }
  for (const std::string& t : texts) {
    SCOPED_TRACE(t);
    CheckText(c, t, 6);
    CheckText(c, t, 1);
  }
}

TEST(SaqLongest, OneShardEqualsManyShards) {
  std::mt19937_64 rng(11);
  std::vector<std::string> docs = saq_test::RandomDocs(rng, 40, 100, "abcd");
  Corpus one, many;
  ASSERT_NO_FATAL_FAILURE(saq_test::BuildCorpus(docs, 0, &one));
  ASSERT_NO_FATAL_FAILURE(saq_test::BuildCorpus(docs, 200, &many));
  ASSERT_EQ(one.index->num_shards(), 1u);
  ASSERT_GT(many.index->num_shards(), 5u);
  for (int i = 0; i < 10; ++i) {
    std::string t = docs[rng() % docs.size()].substr(3) + "dcba" + docs[rng() % docs.size()];
    LongestMatchOptions opt;
    opt.min_len = 4;
    LongestMatchResult a, b;
    ASSERT_TRUE(LongestMatches(*one.index, t, opt, &a).ok());
    ASSERT_TRUE(LongestMatches(*many.index, t, opt, &b).ok());
    EXPECT_EQ(a.match_length, b.match_length);
    ASSERT_EQ(a.spans.size(), b.spans.size());
    for (size_t k = 0; k < a.spans.size(); ++k) {
      EXPECT_EQ(a.spans[k].count, b.spans[k].count);
      EXPECT_EQ(a.spans[k].locations, b.spans[k].locations);
    }
  }
}

TEST(SaqLongest, MaximalSpansOfHandArray) {
  // ms for a 8-symbol text, hand-derived spans with min_len 2.
  std::vector<uint64_t> ms = {3, 2, 4, 3, 2, 1, 0, 2};
  auto spans = MaximalSpans(ms, 2);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].begin, 0u);  // [0,3)
  EXPECT_EQ(spans[1].begin, 2u);  // [2,6) (position 1 is inside [0,3))
  EXPECT_EQ(spans[1].length, 4u);
  EXPECT_EQ(spans[2].begin, 7u);
  EXPECT_TRUE(MaximalSpans(ms, 5).empty());
}

TEST(SaqLongest, RealTextMemorisedPassage) {
  const std::string rel = "corpus/wikitext103_test_valid.jsonl.zst";
  if (!test::HaveSharedData(rel)) GTEST_SKIP() << "../shared/data/" << rel << " is missing";
  std::vector<test::JsonlDoc> raw = test::ReadJsonlZstOracle(test::SharedDataDir() + "/" + rel, 12);
  std::vector<std::string> docs;
  for (auto& d : raw) docs.push_back(d.text.substr(0, test::Scaled(40000, 8000)));
  Corpus c;
  ASSERT_NO_FATAL_FAILURE(saq_test::BuildCorpus(docs, 60000, &c));
  // A "model output": a verbatim passage of doc 3, an edit, a passage of doc 7.
  std::vector<size_t> longdocs;
  for (size_t i = 0; i < docs.size(); ++i)
    if (docs[i].size() >= 3000) longdocs.push_back(i);
  ASSERT_GE(longdocs.size(), 2u);
  const size_t da = longdocs[0], db = longdocs[1];
  std::string out = "The model said: " + docs[da].substr(1000, 300) + " [EDIT] " + docs[db].substr(2000, 200) + " end.";
  LongestMatchOptions opt;
  opt.min_len = 50;
  LongestMatchResult res;
  ASSERT_TRUE(LongestMatches(*c.index, out, opt, &res).ok());
  // Independent check of the per-position array on a sample of positions.
  for (size_t i = 0; i < out.size(); i += 37) {
    uint64_t l = res.match_length[i];
    EXPECT_TRUE(l == 0 || saq_test::OracleContains(docs, out.substr(i, l))) << i;
    EXPECT_FALSE(i + l < out.size() && saq_test::OracleContains(docs, out.substr(i, l + 1))) << i;
  }
  // Both passages are found with their source location.
  bool found_a = false, found_b = false;
  for (const MatchSpan& s : res.spans) {
    for (const SpanLocation& loc : s.locations) {
      if (loc.doc_id == da && s.length >= 300) found_a = true;
      if (loc.doc_id == db && s.length >= 200) found_b = true;
    }
  }
  EXPECT_TRUE(found_a);
  EXPECT_TRUE(found_b);
}

}  // namespace
}  // namespace dedupdb
