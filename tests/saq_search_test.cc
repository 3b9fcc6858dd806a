// Boolean CNF document search (query/doc_search.h) against a brute-force
// scan of every document, with both clause methods (enumerate occurrences,
// scan candidate docs) and the cost-based choice.
#include <gtest/gtest.h>

#include <algorithm>

#include "query/doc_search.h"
#include "tests/saq_fixture.h"

namespace dedupdb {
namespace {

using saq_test::Corpus;

std::vector<uint64_t> OracleSearch(const std::vector<std::string>& docs, const CnfQuery& q) {
  std::vector<uint64_t> out;
  for (size_t d = 0; d < docs.size(); ++d) {
    bool all = true;
    for (const auto& clause : q.clauses) {
      bool any = false;
      for (const auto& t : clause) any = any || docs[d].find(t) != std::string::npos;
      all = all && any;
    }
    if (all) out.push_back(d);
  }
  return out;
}

void CheckQuery(const Corpus& c, const CnfQuery& q, DocSearchOptions::Method method) {
  DocSearchOptions opt;
  opt.max_docs = 4;
  opt.snippet_context = 5;
  opt.method = method;
  DocSearchResult res;
  Status st = SearchDocs(*c.index, c.store.get(), q, opt, &res);
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::vector<uint64_t> want = OracleSearch(c.docs, q);
  std::vector<uint64_t> got;
  for (uint64_t d : res.docs) got.push_back(d);
  ASSERT_EQ(got, want) << q.ToString();
  EXPECT_EQ(res.num_docs, want.size());
  ASSERT_EQ(res.hits.size(), std::min<size_t>(4, want.size()));
  for (size_t k = 0; k < res.hits.size(); ++k) {
    const DocSearchHit& h = res.hits[k];
    EXPECT_EQ(h.doc_id, want[k]);
    EXPECT_EQ(h.external_id, "d" + std::to_string(want[k]));
    // The earliest occurrence of any first-clause term.
    const std::string& doc = c.docs[h.doc_id];
    size_t first = std::string::npos;
    for (const auto& t : q.clauses[0]) first = std::min(first, doc.find(t));
    EXPECT_EQ(h.match_offset, first);
    EXPECT_EQ(doc.compare(h.match_offset, h.term.size(), h.term), 0);
    size_t b = first > 5 ? first - 5 : 0;
    EXPECT_EQ(h.snippet, doc.substr(b, std::min(doc.size(), first + h.term.size() + 5) - b));
  }
  // Per-term counts are occurrence counts.
  for (const ClauseReport& rep : res.clauses)
    for (size_t t = 0; t < rep.terms.size(); ++t)
      EXPECT_EQ(rep.term_counts[t], saq_test::OracleCount(c.docs, rep.terms[t])) << rep.terms[t];
}

TEST(SaqSearch, RandomCnfAgainstScan) {
  std::mt19937_64 rng(3);
  Corpus c;
  std::vector<std::string> docs = saq_test::RandomDocs(rng, test::Scaled(120, 50), 60, "abcd");
  ASSERT_NO_FATAL_FAILURE(saq_test::BuildCorpus(docs, 500, &c));
  ASSERT_GT(c.index->num_shards(), 3u);
  for (uint64_t i = 0; i < test::Scaled(60, 25); ++i) {
    CnfQuery q;
    size_t nclauses = 1 + rng() % 3;
    for (size_t k = 0; k < nclauses; ++k) {
      std::vector<std::string> clause;
      size_t nterms = 1 + rng() % 3;
      for (size_t t = 0; t < nterms; ++t) {
        std::string term;
        size_t len = 1 + rng() % 6;
        for (size_t j = 0; j < len; ++j) term += "abcde"[rng() % 5];
        clause.push_back(term);
      }
      q.clauses.push_back(clause);
    }
    SCOPED_TRACE(q.ToString());
    CheckQuery(c, q, DocSearchOptions::Method::kEnumerate);
    CheckQuery(c, q, DocSearchOptions::Method::kScan);
    CheckQuery(c, q, DocSearchOptions::Method::kAuto);
  }
}

TEST(SaqSearch, AbsentSeparatorAndInvalidTerms) {
  Corpus c;
  ASSERT_NO_FATAL_FAILURE(saq_test::BuildCorpus({"hello world", "world peace", "hello there"}, 0, &c));
  CnfQuery q;
  ASSERT_TRUE(ParseCnf("hello AND world OR nothing", &q).ok());
  CheckQuery(c, q, DocSearchOptions::Method::kAuto);
  q.clauses = {{"absent"}};
  CheckQuery(c, q, DocSearchOptions::Method::kAuto);
  // A term spanning two documents' boundary never matches.
  q.clauses = {{"worldworld"}, {"world"}};
  CheckQuery(c, q, DocSearchOptions::Method::kAuto);
  q.clauses = {{std::string("world\xff") + "world"}};
  DocSearchResult res;
  ASSERT_TRUE(SearchDocs(*c.index, c.store.get(), q, DocSearchOptions(), &res).ok());
  EXPECT_EQ(res.num_docs, 0u);
  q.clauses = {{""}};
  EXPECT_TRUE(SearchDocs(*c.index, c.store.get(), q, DocSearchOptions(), &res).IsInvalidArgument());
  q.clauses = {};
  EXPECT_TRUE(SearchDocs(*c.index, c.store.get(), q, DocSearchOptions(), &res).IsInvalidArgument());
}

TEST(SaqSearch, FindInDocAlignsToSymbols) {
  uint64_t off = 99;
  // Two-byte symbols: "\x01\x02" occurs at byte 1 (straddling) and byte 4.
  std::string doc("\x00\x01\x02\x00\x01\x02", 6);
  EXPECT_TRUE(FindInDoc(doc, std::string("\x01\x02", 2), 2, &off));
  EXPECT_EQ(off, 2u);
  EXPECT_TRUE(FindInDoc(doc, std::string("\x01\x02", 2), 1, &off));
  EXPECT_EQ(off, 1u);
  std::string straddle("\x00\x01\x02\x03", 4);
  EXPECT_FALSE(FindInDoc(straddle, std::string("\x01\x02", 2), 2, &off));
}

}  // namespace
}  // namespace dedupdb
