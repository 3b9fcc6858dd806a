// On-disk LSH index: stored signatures equal a recomputation, bucket lookups
// equal a brute-force scan of band keys (also with external-sort spills),
// incremental runs and compaction keep lookups identical, the external
// sorter matches std::sort.
#include <algorithm>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "index/external_sort.h"
#include "index/lsh_index.h"
#include "query/near_duplicates.h"
#include "storage/doc_store.h"
#include "tests/lsh_fixture.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

using lshtest::BuildFrom;
using lshtest::WriteJsonl;

TEST(ExternalSorter, MatchesStdSortWithSpillsAndUnique) {
  test::TempDir tmp;
  std::mt19937_64 rng(3);
  for (bool unique : {false, true}) {
    ExternalSorter<uint64_t> sorter(Env::Default(), tmp.path(), "t", 8 * 1000, unique);
    std::vector<uint64_t> ref;
    for (int i = 0; i < 20000; ++i) {
      uint64_t v = rng() % 5000;  // many repeats
      ref.push_back(v);
      ASSERT_TRUE(sorter.Add(v).ok());
    }
    ASSERT_TRUE(sorter.Finish().ok());
    EXPECT_GE(sorter.spill_files(), 10u);
    // Spilled: the buffer is given back, only the merge read buffers stay.
    EXPECT_EQ(sorter.memory_bytes(), sorter.spill_files() * (64u << 10));
    std::sort(ref.begin(), ref.end());
    if (unique) ref.erase(std::unique(ref.begin(), ref.end()), ref.end());
    std::vector<uint64_t> got;
    for (;;) {
      uint64_t v = 0;
      bool done = false;
      ASSERT_TRUE(sorter.Next(&v, &done).ok());
      if (done) break;
      got.push_back(v);
    }
    EXPECT_EQ(got, ref) << "unique=" << unique;
  }
}

// Brute force: docs whose band-j key equals doc d's, from recomputed sigs.
std::set<uint64_t> BruteBand(const std::vector<std::vector<uint32_t>>& sigs, const std::vector<bool>& empty,
                             uint64_t d, unsigned j, unsigned rows) {
  std::set<uint64_t> out;
  const uint64_t key = LshBandKey(sigs[d].data(), j, rows);
  for (uint64_t e = 0; e < sigs.size(); ++e) {
    if (!empty[e] && LshBandKey(sigs[e].data(), j, rows) == key) out.insert(e);
  }
  return out;
}

void CheckIndex(const std::string& store_dir, size_t expect_runs) {
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
  std::unique_ptr<LshIndex> index;
  Status s = LshIndex::Open(*store, "default", &index);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(index->num_runs(), expect_runs);
  ASSERT_EQ(index->indexed_docs(), store->num_docs());
  const LshManifest& m = index->manifest();
  MinHashPermutations perms(m.num_perm, m.seed);
  MinHasher hasher(&perms, m.shingles);
  std::vector<std::vector<uint32_t>> sigs(store->num_docs(), std::vector<uint32_t>(m.num_perm));
  std::vector<bool> empty(store->num_docs());
  for (uint64_t d = 0; d < store->num_docs(); ++d) {
    empty[d] = hasher.Sign(store->Text(d), sigs[d].data()) == 0;
    const uint32_t* stored = index->Signature(d);
    ASSERT_NE(stored, nullptr);
    ASSERT_TRUE(std::equal(sigs[d].begin(), sigs[d].end(), stored)) << "doc " << d;
  }
  EXPECT_EQ(index->Signature(store->num_docs()), nullptr);
  for (uint64_t d = 0; d < store->num_docs(); d += 3) {
    for (unsigned j = 0; j < m.bands.bands; ++j) {
      std::set<uint64_t> got;
      index->Lookup(j, LshBandKey(sigs[d].data(), j, m.bands.rows), [&](uint64_t e) { got.insert(e); });
      std::set<uint64_t> want = BruteBand(sigs, empty, d, j, m.bands.rows);
      if (empty[d]) want.clear();
      ASSERT_EQ(got, want) << "doc " << d << " band " << j;
    }
  }
}

// The build's bucket sort against std::sort (a total order, so one right
// answer): uniform keys in doc order (the build's input), equal keys, a few
// distinct keys, keys sharing their top 40 bits (the radix passes see them
// all as one bucket: the insertion pass, then its std::sort fallback), and
// docs out of order.
TEST(LshIndex, SortLshEntriesMatchesStdSort) {
  std::mt19937_64 rng(9);
  const size_t big = test::Scaled(100000, 20000);
  for (int shape = 0; shape < 5; ++shape) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{511}, size_t{512}, size_t{513}, size_t{3000}, big}) {
      std::vector<LshEntry> v(n);
      for (size_t i = 0; i < n; ++i) {
        uint64_t key = rng();
        uint64_t doc = i;
        if (shape == 1) key = 42;
        if (shape == 2) key = (rng() % 7) << 61 | 5;
        if (shape == 3) key = 0xABCDEF0123ull << 24 | (rng() & 0xFFFFFF);
        if (shape == 4) doc = rng() % (uint64_t{1} << 40);
        v[i] = LshEntry::Make(key, doc);
      }
      std::vector<LshEntry> want = v;
      std::sort(want.begin(), want.end());
      SortLshEntries(&v);
      ASSERT_EQ(v.size(), want.size());
      for (size_t i = 0; i < n; ++i) {
        ASSERT_TRUE(v[i].key == want[i].key && v[i].doc() == want[i].doc()) << "shape " << shape << " n " << n << " i " << i;
      }
    }
  }
}

TEST(LshIndex, BuildIncrementalCompact) {
  if (!test::HaveSharedData("corpus/bbc_news.jsonl.zst")) GTEST_SKIP() << "../shared/data/corpus/bbc_news missing";
  test::TempDir tmp;
  const size_t n = test::Scaled(600, 150);
  auto docs = test::ReadJsonlZstOracle(test::SharedDataDir() + "/corpus/bbc_news.jsonl.zst", n + n / 2);
  ASSERT_EQ(docs.size(), n + n / 2);
  // Planted near-copies so buckets hold more than one doc, plus an empty doc.
  std::mt19937 rng(1);
  uint64_t fresh = 0;
  std::vector<test::JsonlDoc> first(docs.begin(), docs.begin() + n), second(docs.begin() + n, docs.end());
  for (size_t i = 0; i < n / 10; ++i) first.push_back({"copy" + std::to_string(i), lshtest::EditWords(docs[i].text, 0.02, rng, &fresh)});
  first.push_back({"empty", "... !!! ..."});
  for (size_t i = 0; i < n / 10; ++i) second.push_back({"copy2-" + std::to_string(i), lshtest::EditWords(docs[i].text, 0.01, rng, &fresh)});
  WriteJsonl(tmp.Sub("a.jsonl"), first);
  WriteJsonl(tmp.Sub("b.jsonl"), second);
  const std::string store = tmp.Sub("store");
  BuildFrom(store, {tmp.Sub("a.jsonl")});

  LshBuildOptions o;
  o.threshold = 0.5;
  o.num_perm = 64;
  o.memory_bytes = 1;  // the minimum buffers: forces external-sort spills
  LshBuildReport r;
  Status s = BuildLshIndex(store, o, &r);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(r.created);
  EXPECT_EQ(r.empty_docs, 1u);
  EXPECT_GT(r.spill_files, 0u);
  EXPECT_EQ(r.manifest.bands.bands, OptimalBands(0.5, 64).bands);
  CheckIndex(store, 1);

  // Nothing new: no new run.
  s = BuildLshIndex(store, o, &r);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(r.docs_indexed, 0u);
  EXPECT_EQ(r.manifest.runs.size(), 1u);

  // New documents become a second run; queries see both.
  BuildFrom(store, {tmp.Sub("a.jsonl"), tmp.Sub("b.jsonl")});
  o.num_perm = 999;  // ignored: an existing index keeps its parameters
  s = BuildLshIndex(store, o, &r);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(r.created);
  EXPECT_EQ(r.manifest.num_perm, 64u);
  EXPECT_EQ(r.docs_indexed, second.size());
  CheckIndex(store, 2);
  const std::string old_bucket = tmp.Sub("store") + "/" + r.manifest.runs[0].bucket_path;
  ASSERT_TRUE(Env::Default()->FileExists(old_bucket));

  // Batch near-dedup over the runs (band merger) and, after compaction, over
  // the one run (sorted-array scan): the same pairs and removed docs.
  auto dedup = [&](std::vector<std::pair<uint64_t, uint64_t>>* removed) -> NearDedupResult {
    std::unique_ptr<DocStore> st;
    std::unique_ptr<LshIndex> idx;
    EXPECT_TRUE(DocStore::Open(store, &st).ok());
    EXPECT_TRUE(LshIndex::Open(*st, "default", &idx).ok());
    NearDedupOptions no;
    no.threshold = 0.5;
    no.tmp_dir = tmp.path();
    no.on_removed = [removed](const RemovedDoc& d) {
      removed->push_back({d.doc_id, d.kept});
      return Status::OK();
    };
    NearDedupResult nr;
    Status ds = NearDedup(*st, *idx, no, &nr);
    EXPECT_TRUE(ds.ok()) << ds.ToString();
    return nr;
  };
  std::vector<std::pair<uint64_t, uint64_t>> removed_runs, removed_one;
  const NearDedupResult two_runs = dedup(&removed_runs);
  EXPECT_GT(two_runs.candidate_pairs, n / 10);

  LshCompactReport cr;
  s = CompactLshIndex(store, "default", false, nullptr, &cr);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(cr.runs_before, 2u);
  CheckIndex(store, 1);
  const NearDedupResult one_run = dedup(&removed_one);
  EXPECT_EQ(one_run.candidate_pairs, two_runs.candidate_pairs);
  EXPECT_EQ(one_run.pair_records, two_runs.pair_records);
  EXPECT_EQ(removed_one, removed_runs);
  EXPECT_GT(removed_one.size(), n / 20);
  EXPECT_FALSE(Env::Default()->FileExists(old_bucket)) << "retired run file still on disk";
}

TEST(LshIndex, ManifestRoundTripAndCorruption) {
  LshManifest m;
  m.num_perm = 112;
  m.seed = 42;
  m.shingles.n = 3;
  m.bands = {14, 8};
  m.threshold = 0.75;
  m.generation = 7;
  m.runs.push_back({0, 10, "lsh/x/g1/sigs", "lsh/x/g1/buckets"});
  m.runs.push_back({10, 5, "lsh/x/g2/sigs", "lsh/x/g2/buckets"});
  LshManifest d;
  ASSERT_TRUE(LshManifest::Decode(m.Encode(), &d).ok());
  EXPECT_EQ(d.Encode(), m.Encode());
  EXPECT_EQ(d.indexed_docs(), 15u);
  EXPECT_EQ(d.threshold, 0.75);
  std::string enc = m.Encode();
  for (size_t cut = 0; cut < enc.size(); ++cut) {
    EXPECT_FALSE(LshManifest::Decode(enc.substr(0, cut), &d).ok()) << cut;
  }
}

}  // namespace
}  // namespace dedupdb
