// Near-duplicate detection end to end on real documents: candidate rates on
// planted near-duplicates follow the S-curve; batch dedup with exact
// verification removes exactly what a brute-force all-pairs Jaccard oracle
// removes (also when the pairs spill to disk); the two Wikipedia extraction
// runs pair up by wiki_id.
#include <cmath>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "index/lsh_index.h"
#include "query/near_duplicates.h"
#include "tests/lsh_fixture.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

using lshtest::BuildFrom;
using lshtest::WriteJsonl;

std::vector<test::JsonlDoc> LongDocs(const std::string& rel, size_t n, size_t min_bytes) {
  std::vector<test::JsonlDoc> out;
  for (auto& d : test::ReadJsonlZstOracle(test::SharedDataDir() + "/" + rel, n * 3)) {
    if (d.text.size() >= min_bytes && out.size() < n) out.push_back(std::move(d));
  }
  return out;
}

std::vector<uint64_t> RemovedIds(const lshtest::DedupRun& r) {
  std::vector<uint64_t> v;
  for (const auto& d : r.removed) v.push_back(d.doc_id);
  return v;
}

TEST(LshDedup, CandidateRateFollowsSCurve) {
  if (!test::HaveSharedData("corpus/bbc_news.jsonl.zst")) GTEST_SKIP() << "../shared/data/corpus/bbc_news missing";
  test::TempDir tmp;
  const size_t n = test::Scaled(800, 250);
  auto docs = LongDocs("corpus/bbc_news.jsonl.zst", n, 1200);
  ASSERT_EQ(docs.size(), n);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> frac(0.0, 0.25);
  uint64_t fresh = 0;
  std::vector<test::JsonlDoc> all = docs;
  for (size_t i = 0; i < n; ++i) all.push_back({"edit" + std::to_string(i), lshtest::EditWords(docs[i].text, frac(rng), rng, &fresh)});
  WriteJsonl(tmp.Sub("in.jsonl"), all);
  const std::string store_dir = tmp.Sub("store");
  BuildFrom(store_dir, {tmp.Sub("in.jsonl")});
  LshBuildOptions o;
  o.num_perm = 64;
  o.bands = {16, 4};  // a gradual S-curve: P(0.3) = 0.12, P(0.5) = 0.64
  LshBuildReport br;
  Status s = BuildLshIndex(store_dir, o, &br);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
  std::unique_ptr<LshIndex> index;
  ASSERT_TRUE(LshIndex::Open(*store, "default", &index).ok());
  ASSERT_EQ(store->num_docs(), 2 * n);

  struct Bin {
    int n = 0, hits = 0;
    double expect = 0, var = 0;
  };
  std::map<int, Bin> bins;
  NearQueryOptions q;
  q.threshold = 0;  // every candidate
  for (size_t i = 0; i < n; ++i) {
    const double j = lshtest::TrueJaccard(docs[i].text, all[n + i].text, index->manifest().shingles);
    std::vector<NearMatch> m;
    ASSERT_TRUE(FindNearDuplicatesOfDoc(*store, *index, i, q, &m).ok());
    bool hit = false;
    for (const auto& x : m) hit |= x.doc_id == n + i;
    Bin& b = bins[static_cast<int>(j * 10)];
    const double p = CandidateProbability(j, 16, 4);
    ++b.n;
    b.hits += hit;
    b.expect += p;
    b.var += p * (1 - p);
  }
  int checked = 0;
  for (auto& [k, b] : bins) {
    if (b.n < 15) continue;
    const double obs = static_cast<double>(b.hits) / b.n, exp = b.expect / b.n;
    const double sigma = std::sqrt(b.var) / b.n;
    std::printf("  jaccard [%.1f, %.1f): %4d pairs, candidate rate %.3f, S-curve %.3f\n", k / 10.0, (k + 1) / 10.0,
                b.n, obs, exp);
    EXPECT_LE(std::fabs(obs - exp), 4 * sigma + 0.03) << "bin " << k;
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

struct PlantedSet {
  std::vector<std::string> texts;
};

// Real docs + planted copies (close edits, chains of edits, distant edits).
PlantedSet MakePlanted(const std::string& path, size_t n_real, size_t n_planted, const std::string& store_dir,
                       const test::TempDir& tmp) {
  auto docs = test::ReadJsonlZstOracle(test::SharedDataDir() + "/corpus/bbc_news.jsonl.zst", n_real);
  std::mt19937 rng(11);
  uint64_t fresh = 0;
  std::vector<test::JsonlDoc> all = docs;
  for (size_t i = 0; i < n_planted; ++i) {
    const std::string& base = docs[(i * 7) % docs.size()].text;
    double f = (i % 4 == 3) ? 0.25 : 0.002 + 0.01 * (i % 3);  // every 4th is far (J ~ 0.2)
    std::string copy = lshtest::EditWords(base, f, rng, &fresh);
    all.push_back({"planted" + std::to_string(i), copy});
    if (i % 5 == 0) all.push_back({"chain" + std::to_string(i), lshtest::EditWords(copy, 0.01, rng, &fresh)});
  }
  WriteJsonl(path, all);
  BuildFrom(store_dir, {path});
  PlantedSet p;
  for (auto& d : all) p.texts.push_back(d.text);
  return p;
}

TEST(LshDedup, ExactVerificationMatchesBruteForceOracle) {
  if (!test::HaveSharedData("corpus/bbc_news.jsonl.zst")) GTEST_SKIP() << "../shared/data/corpus/bbc_news missing";
  test::TempDir tmp;
  const std::string store_dir = tmp.Sub("store");
  PlantedSet set = MakePlanted(tmp.Sub("in.jsonl"), test::Scaled(1000, 300), test::Scaled(250, 60), store_dir, tmp);
  LshBuildOptions o;
  o.num_perm = 128;
  o.threshold = 0.7;
  o.bands = {32, 4};  // P(candidate | J = 0.7) > 0.9998: the oracle's pairs are all found
  LshBuildReport br;
  ASSERT_TRUE(BuildLshIndex(store_dir, o, &br).ok());
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
  std::unique_ptr<LshIndex> index;
  ASSERT_TRUE(LshIndex::Open(*store, "default", &index).ok());

  const auto roots = lshtest::OracleComponents(set.texts, index->manifest().shingles, 0.7);
  const auto want_first = lshtest::RemovedFirst(roots);
  const auto want_longest = lshtest::RemovedLongest(roots, set.texts);
  ASSERT_GT(want_first.size(), test::Scaled(120, 30));

  NearDedupOptions d;
  d.threshold = 0.7;
  d.exact = true;
  d.tmp_dir = tmp.path();
  lshtest::DedupRun r;
  Status s = lshtest::RunNearDedup(*store, *index, d, &r);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(RemovedIds(r), want_first);
  EXPECT_EQ(r.spill_files, 0u);
  for (const auto& x : r.removed) {
    EXPECT_EQ(x.cluster, roots[x.doc_id]);
    EXPECT_EQ(x.kept, roots[x.doc_id]);
  }

  // Same result when the pairs do not fit: 1 KiB of pair buffer (half the
  // budget), removed records spill too.
  d.memory_bytes = 2048;
  d.keep = KeepPolicy::kLongest;
  lshtest::DedupRun spilled;
  s = lshtest::RunNearDedup(*store, *index, d, &spilled);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GT(spilled.spill_files, 1u);
  EXPECT_EQ(spilled.candidate_pairs, r.candidate_pairs);
  EXPECT_EQ(RemovedIds(spilled), want_longest);

  // Estimated verification: a pair is accepted iff its MinHash estimate,
  // Binomial(128, J) / 128, reaches 0.7, so pairs near the threshold go
  // either way. Far from it they may not: 4 standard deviations (sigma <=
  // sqrt(0.25 / 128) = 0.044) miss with probability ~3e-5 per pair. With
  // keep-first, a doc removed in a graph stays removed in any supergraph, so
  // removed(J >= 0.7 + 4 sigma) <= got <= removed(J >= 0.7 - 4 sigma).
  d.exact = false;
  d.keep = KeepPolicy::kFirst;
  lshtest::DedupRun est;
  ASSERT_TRUE(lshtest::RunNearDedup(*store, *index, d, &est).ok());
  const std::vector<uint64_t> got = RemovedIds(est);
  const double four_sigma = 4 * std::sqrt(0.25 / 128);
  const auto must = lshtest::RemovedFirst(lshtest::OracleComponents(set.texts, index->manifest().shingles, 0.7 + four_sigma));
  const auto may = lshtest::RemovedFirst(lshtest::OracleComponents(set.texts, index->manifest().shingles, 0.7 - four_sigma));
  std::printf("  estimated verification: %zu removed; oracle %zu at J >= 0.7, %zu at >= %.3f, %zu at >= %.3f\n",
              got.size(), want_first.size(), must.size(), 0.7 + four_sigma, may.size(), 0.7 - four_sigma);
  ASSERT_FALSE(must.empty());
  EXPECT_TRUE(std::includes(got.begin(), got.end(), must.begin(), must.end())) << "a pair far above 0.7 was missed";
  EXPECT_TRUE(std::includes(may.begin(), may.end(), got.begin(), got.end())) << "a pair far below 0.7 was accepted";
}

TEST(LshDedup, WikipediaRunsPairUpByWikiId) {
  if (!test::HaveSharedData("corpus/enwiki_extract.jsonl.zst")) GTEST_SKIP() << "../shared/data/corpus/enwiki_extract missing";
  test::TempDir tmp;
  // The file holds run AA/ (first 36183 lines) then run Temp/ in the same
  // order; take the first n articles of each run.
  const size_t n = test::Scaled(600, 150);
  const std::string in = tmp.Sub("wiki.jsonl");
  std::string out;
  ASSERT_EQ(test::RunShell("zstd -dc " + test::SharedDataDir() + "/corpus/enwiki_extract.jsonl.zst | awk 'NR<=" +
                               std::to_string(n) + " || (NR>36183 && NR<=" + std::to_string(36183 + n) + ")' > " + in,
                           &out),
            0);
  const std::string store_dir = tmp.Sub("store");
  BuildFrom(store_dir, {in});
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
  ASSERT_EQ(store->num_docs(), 2 * n);
  std::vector<std::string> texts;
  std::map<std::string, std::vector<uint64_t>> by_wiki;
  for (uint64_t d = 0; d < store->num_docs(); ++d) {
    DocMeta m;
    ASSERT_TRUE(store->GetMeta(d, &m).ok());
    by_wiki[m.external_id.substr(m.external_id.find('/') + 1)].push_back(d);
    texts.emplace_back(store->Text(d));
  }
  ASSERT_EQ(by_wiki.size(), n) << "AA/ and Temp/ runs are not aligned";

  LshBuildOptions o;
  o.bands = {32, 4};
  o.threshold = 0.8;
  LshBuildReport br;
  ASSERT_TRUE(BuildLshIndex(store_dir, o, &br).ok());
  std::unique_ptr<LshIndex> index;
  ASSERT_TRUE(LshIndex::Open(*store, "default", &index).ok());
  NearDedupOptions d;
  d.threshold = 0.8;
  d.exact = true;
  d.tmp_dir = tmp.path();
  lshtest::DedupRun r;
  ASSERT_TRUE(lshtest::RunNearDedup(*store, *index, d, &r).ok());
  const auto roots = lshtest::OracleComponents(texts, index->manifest().shingles, 0.8);
  EXPECT_EQ(RemovedIds(r), lshtest::RemovedFirst(roots));

  std::vector<uint64_t> cluster(store->num_docs());
  for (uint64_t i = 0; i < cluster.size(); ++i) cluster[i] = i;
  for (const auto& x : r.removed) cluster[x.doc_id] = x.cluster;
  size_t paired = 0, similar = 0;
  for (auto& [wiki, ids] : by_wiki) {
    ASSERT_EQ(ids.size(), 2u) << wiki;
    const double j = lshtest::TrueJaccard(texts[ids[0]], texts[ids[1]], index->manifest().shingles);
    const bool same = cluster[ids[0]] == cluster[ids[1]];
    similar += j >= 0.8;
    paired += same;
    if (j >= 0.8) {
      EXPECT_TRUE(same) << "wiki_id " << wiki << " J=" << j;
    }
  }
  std::printf("  %zu wiki_id pairs: %zu with Jaccard >= 0.8, %zu joined in one cluster\n", by_wiki.size(), similar,
              paired);
  EXPECT_GE(paired, similar);
  EXPECT_GT(similar, n * 3 / 4);
}

}  // namespace
}  // namespace dedupdb
