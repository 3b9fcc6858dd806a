// Index-backed decontamination report against brute force: a gram counts as
// found iff its verbatim bytes occur in some document (std::string::find),
// and the longest verbatim match equals the longest common substring of the
// example and any single document.
#include <gtest/gtest.h>

#include <random>

#include "index/eval_index.h"
#include "index/eval_set.h"
#include "query/decon_report.h"
#include "query/decon_sa_report.h"
#include "storage/json_writer.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

using test::JsonLine;

size_t LongestCommonSubstring(const std::string& a, const std::string& b) {
  std::vector<uint32_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  size_t best = 0;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : 0;
      best = std::max<size_t>(best, cur[j]);
    }
    std::swap(prev, cur);
  }
  return best;
}

TEST(DeconSaReport, MatchesBruteForce) {
  test::TempDir dir;
  std::mt19937 rng(17);
  const char* vocab[] = {"river", "stone", "Light", "dark", "(old)", "new,", "city", "of", "the", "glass", "wind", "sea."};
  auto words = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += (i ? " " : "") + std::string(vocab[rng() % 12]);
    return s;
  };
  std::vector<std::string> examples, docs;
  std::string set, corpus;
  for (int i = 0; i < 30; ++i) {
    examples.push_back(words(6 + rng() % 20));
    set += JsonLine("x" + std::to_string(i), examples.back());
  }
  for (int i = 0; i < 40; ++i) {
    std::string d = words(20 + rng() % 40);
    if (i % 4 == 0) d += " " + examples[rng() % examples.size()] + " " + words(5);
    if (i % 7 == 0) {  // a re-cased copy: the verbatim lookup must not find it
      std::string e = examples[rng() % examples.size()];
      for (char& c : e) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      d += " " + e;
    }
    docs.push_back(d);
    corpus += JsonLine("d" + std::to_string(i), d);
  }
  test::WriteFile(dir.Sub("set.jsonl"), set);
  test::WriteFile(dir.Sub("corpus.jsonl"), corpus);
  std::string out, err;
  ASSERT_EQ(test::RunCommand({test::CliPath(), "-q", "build", dir.Sub("store"), dir.Sub("corpus.jsonl")}, &out, &err), 0) << err;
  ASSERT_EQ(test::RunCommand({test::CliPath(), "-q", "index-sa", dir.Sub("store")}, &out, &err), 0) << err;
  EvalSetSpec spec;
  ASSERT_TRUE(ParseEvalSetArg(dir.Sub("set.jsonl"), {}, &spec).ok());
  EvalIndexOptions io;
  io.n = 8;
  ASSERT_TRUE(BuildEvalIndex(Env::Default(), {spec}, io, dir.Sub("e.ddx"), nullptr).ok());
  std::unique_ptr<EvalIndex> index;
  ASSERT_TRUE(EvalIndex::Open(Env::Default(), dir.Sub("e.ddx"), &index).ok());

  for (bool use_mmap : {false, true}) {
    DeconAccumulator acc(*index);
    DeconSaReportOptions so;
    so.store = dir.Sub("store");
    so.batch = 7;  // many waves
    so.min_match_bytes = 10;
    so.use_mmap = use_mmap;
    DeconSaReportStats st;
    Status s = RunDeconSaReport(Env::Default(), *index, so, &acc, &st);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(st.corpus_docs, docs.size());
    DeconReport rep = ComputeDeconReport(acc, DeconReportOptions());
    std::map<uint32_t, uint32_t> found;
    for (const DeconExampleRow& r : rep.examples) found[r.example] = r.grams_found;
    WordTokenizer tok(NormalizationMode::kLmEval);
    for (uint32_t e = 0; e < examples.size(); ++e) {
      // Oracle: distinct normalised grams one of whose verbatim spellings
      // in the example occurs in a document.
      std::vector<Word> w;
      tok.Tokenize(examples[e], &w);
      size_t n = std::min<size_t>(8, w.size());
      std::set<uint64_t> grams_found;
      for (size_t i = 0; i + n <= w.size(); ++i) {
        std::string q = examples[e].substr(w[i].begin, w[i + n - 1].end - w[i].begin);
        for (const std::string& d : docs) {
          if (d.find(q) != std::string::npos) {
            grams_found.insert(HashWordNgram(&w[i], n));
            break;
          }
        }
      }
      EXPECT_EQ(found.count(e) ? found[e] : 0u, grams_found.size()) << "example " << e << " mmap=" << use_mmap;
      if (!grams_found.empty()) {
        size_t lcs = 0;
        for (const std::string& d : docs) lcs = std::max(lcs, LongestCommonSubstring(examples[e], d));
        EXPECT_EQ(acc.evidence(e).longest_match_bytes, lcs) << "example " << e;
        EXPECT_FALSE(acc.evidence(e).doc.empty());
        EXPECT_NE(acc.evidence(e).snippet.find(examples[e].substr(w[0].begin, 1)), std::string::npos);
      }
    }
    EXPECT_GT(found.size(), 5u);
  }
}

}  // namespace
}  // namespace dedupdb
