// The > 2^32 doc-id paths of the LSH index and batch near-dedup, without
// billions of docs: 40-bit bucket entries round-trip and order like
// (key, doc) pairs, the band merge over runs whose first_doc and relative
// ids exceed 2^32 equals a sort of the absolute (key, doc) pairs, the
// sparse union-find over ids up to 2^40 equals a dense union-find over the
// ranks of those ids, an index in the old 32-bit format is rejected with
// a clear error and rebuilt by index-lsh, and near-dedup stops with a clear
// error instead of growing its union-find past the budget.
#include <algorithm>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "index/lsh_index.h"
#include "index/union_find.h"
#include "query/near_duplicates.h"
#include "storage/coding.h"
#include "storage/store_writer.h"
#include "tests/lsh_fixture.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

constexpr uint64_t k32 = uint64_t{1} << 32;

TEST(LshScale, EntryRoundTripAndOrderAbove32Bits) {
  const uint64_t docs[] = {0, 1, k32 - 1, k32, k32 + 1, 3 * k32 + 7, kMaxLshRunDocs - 1};
  for (uint64_t d : docs) {
    const LshEntry e = LshEntry::Make(0x1234567890ABCDEFull, d);
    const uint64_t key = e.key;
    EXPECT_EQ(e.doc(), d);
    EXPECT_EQ(key, 0x1234567890ABCDEFull);
    // The stored bytes: key LE, then the 40-bit doc LE.
    unsigned char raw[13];
    std::memcpy(raw, &e, 13);
    uint64_t doc_bytes = 0;
    for (int i = 0; i < 5; ++i) doc_bytes |= uint64_t{raw[8 + i]} << (8 * i);
    EXPECT_EQ(doc_bytes, d);
  }
  std::mt19937_64 rng(5);
  std::vector<LshEntry> v;
  std::vector<std::pair<uint64_t, uint64_t>> ref;
  for (int i = 0; i < 5000; ++i) {
    const uint64_t key = rng() % 40;  // many equal keys: order by doc decides
    // Docs that differ only above bit 32 and only below it.
    const uint64_t doc = (rng() % 4) * k32 + rng() % 8 + (i % 2 ? kMaxLshRunDocs - 16 * k32 : 0);
    v.push_back(LshEntry::Make(key, doc));
    ref.push_back({key, doc});
  }
  std::sort(v.begin(), v.end());
  std::sort(ref.begin(), ref.end());
  for (size_t i = 0; i < v.size(); ++i) {
    const uint64_t key = v[i].key;  // a copy: packed members may not be bound to references
    ASSERT_EQ(key, ref[i].first) << i;
    ASSERT_EQ(v[i].doc(), ref[i].second) << i;
  }
}

TEST(LshScale, BandMergeOfRunsAbove32Bits) {
  std::mt19937_64 rng(9);
  // Three runs: below and straddling 2^32, and one far above with relative
  // ids above 2^32 themselves.
  const uint64_t firsts[] = {k32 - 50, k32 + 100, 7 * k32};
  const uint64_t counts[] = {150, 3 * k32, kMaxLshRunDocs - 1};
  std::vector<std::vector<LshEntry>> runs(3);
  std::vector<std::pair<uint64_t, uint64_t>> want;
  for (int r = 0; r < 3; ++r) {
    std::set<uint64_t> used;
    for (int i = 0; i < 400; ++i) {
      uint64_t rel = rng() % counts[r];
      if (i % 3 == 0) rel = counts[r] - 1 - rng() % 4;  // top of the range
      if (!used.insert(rel).second) continue;
      const uint64_t key = rng() % 64;
      runs[r].push_back(LshEntry::Make(key, rel));
      want.push_back({key, firsts[r] + rel});
    }
    std::sort(runs[r].begin(), runs[r].end());
  }
  std::sort(want.begin(), want.end());
  std::vector<LshBandMerger::Source> src;
  for (int r = 0; r < 3; ++r) src.push_back({runs[r].data(), runs[r].data() + runs[r].size(), firsts[r]});
  LshBandMerger merger(src);
  std::vector<std::pair<uint64_t, uint64_t>> got;
  uint64_t key = 0, doc = 0;
  while (merger.Next(&key, &doc)) got.push_back({key, doc});
  EXPECT_EQ(got, want);
  EXPECT_GT(std::count_if(got.begin(), got.end(), [](const auto& p) { return p.second > 8 * k32; }), 0);
}

TEST(LshScale, SparseUnionFindMatchesDenseOracle) {
  std::mt19937_64 rng(11);
  // Ids spread over [0, 2^40): the dense oracle runs on their ranks, which
  // preserves "the root is the smallest id".
  std::set<uint64_t> idset;
  while (idset.size() < 3000) idset.insert(rng() % kMaxLshRunDocs);
  idset.insert(k32 - 1);
  idset.insert(k32);
  const std::vector<uint64_t> ids(idset.begin(), idset.end());
  UnionFind dense(static_cast<uint32_t>(ids.size()));
  SparseUnionFind sparse;
  std::set<size_t> touched;
  for (int i = 0; i < 2500; ++i) {
    // Small clusters plus a few long chains through ids near 2^32.
    const size_t x = rng() % ids.size(), y = (i % 50 == 0) ? (x + 1) % ids.size() : rng() % 600;
    EXPECT_EQ(sparse.Union(ids[x], ids[y]), dense.Union(static_cast<uint32_t>(x), static_cast<uint32_t>(y)));
    touched.insert(x);
    touched.insert(y);
  }
  EXPECT_EQ(sparse.size(), touched.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_EQ(sparse.Find(ids[i]), ids[dense.Find(static_cast<uint32_t>(i))]) << ids[i];
    EXPECT_EQ(sparse.Contains(ids[i]), touched.count(i) > 0);
  }
  // An id never joined is its own root and is not stored.
  EXPECT_EQ(sparse.Find(kMaxLshRunDocs + 5), kMaxLshRunDocs + 5);
  EXPECT_FALSE(sparse.Contains(kMaxLshRunDocs + 5));
  // Aux starts as the id and is per id.
  EXPECT_EQ(sparse.Aux(ids[*touched.begin()]), ids[*touched.begin()]);
  size_t visited = 0;
  sparse.ForEachId([&](uint64_t) { ++visited; });
  EXPECT_EQ(visited, touched.size());
  EXPECT_LE(sparse.memory_bytes(), 4 * touched.size() * 24 + 16 * 24);
}

// tmp/store: n docs of 30 words (prefix + number) in runs of `group`
// identical ones, with an LSH index of 32 permutations.
void BuildIdenticalGroups(const test::TempDir& tmp, const std::string& prefix, int n, int group, LshBuildReport* r) {
  std::vector<test::JsonlDoc> docs;
  for (int i = 0; i < n; ++i) {
    std::string t;
    for (int w = 0; w < 30; ++w) {
      t += prefix;
      t += std::to_string((i / group) * 100 + w) + " ";
    }
    docs.push_back({"d" + std::to_string(i), t});
  }
  lshtest::WriteJsonl(tmp.Sub("a.jsonl"), docs);
  lshtest::BuildFrom(tmp.Sub("store"), {tmp.Sub("a.jsonl")});
  LshBuildOptions o;
  o.num_perm = 32;
  ASSERT_TRUE(BuildLshIndex(tmp.Sub("store"), o, r).ok());
}

TEST(LshScale, OldFormatRejectedThenRebuilt) {
  test::TempDir tmp;
  const std::string store_dir = tmp.Sub("store");
  LshBuildReport r;
  const size_t num_docs = 40;
  ASSERT_NO_FATAL_FAILURE(BuildIdenticalGroups(tmp, "word", num_docs, 2, &r));  // pairs of identical docs
  LshBuildOptions o;
  o.num_perm = 32;
  const std::string old_sig = r.manifest.runs[0].sig_path;

  // Turn the manifest into a version-1 one (the layout is the same; only the
  // version says that bucket entries hold 32-bit ids).
  {
    std::unique_ptr<StoreWriter> w;
    ASSERT_TRUE(StoreWriter::Open(Env::Default(), store_dir, false, &w).ok());
    std::string enc = r.manifest.Encode();
    ASSERT_EQ(enc[0], static_cast<char>(kLshManifestVersion));
    enc[0] = 1;
    ASSERT_TRUE(w->Publish({}, [&](CatalogWriteTxn* txn) {
                   return txn->Put(Table::kIndexes, LshManifest::CatalogKey("default"), enc);
                 }).ok());
  }
  {
    std::unique_ptr<DocStore> store;
    ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
    std::unique_ptr<LshIndex> index;
    Status s = LshIndex::Open(*store, "default", &index);
    EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
    EXPECT_NE(s.message().find("index-lsh"), std::string::npos) << s.ToString();
  }
  // index-lsh rebuilds it with the same parameters.
  ASSERT_TRUE(BuildLshIndex(store_dir, o, &r).ok());
  EXPECT_TRUE(r.upgraded);
  EXPECT_EQ(r.docs_indexed, num_docs);
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
  std::unique_ptr<LshIndex> index;
  ASSERT_TRUE(LshIndex::Open(*store, "default", &index).ok());
  EXPECT_EQ(index->num_runs(), 1u);
  EXPECT_FALSE(Env::Default()->FileExists(store->layout().Absolute(old_sig)));
  // Identical docs 2k, 2k+1 find each other.
  for (uint64_t d = 0; d < num_docs; d += 2) {
    std::set<uint64_t> got;
    index->Lookup(0, LshBandKey(index->Signature(d), 0, index->manifest().bands.rows),
                  [&](uint64_t e) { got.insert(e); });
    EXPECT_EQ(got, (std::set<uint64_t>{d, d + 1})) << d;
  }
}

TEST(LshScale, UnionFindStaysWithinBudget) {
  test::TempDir tmp;
  const std::string store_dir = tmp.Sub("store");
  LshBuildReport r;
  ASSERT_NO_FATAL_FAILURE(BuildIdenticalGroups(tmp, "term", 60, 3, &r));  // 20 triples of identical docs
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
  std::unique_ptr<LshIndex> index;
  ASSERT_TRUE(LshIndex::Open(*store, "default", &index).ok());
  NearDedupOptions d;
  d.tmp_dir = tmp.path();
  lshtest::DedupRun run;
  ASSERT_TRUE(lshtest::RunNearDedup(*store, *index, d, &run).ok());
  EXPECT_EQ(run.clustered_docs, 60u);
  EXPECT_EQ(run.clusters, 20u);
  ASSERT_EQ(run.removed.size(), 40u);
  for (size_t i = 0; i < run.removed.size(); ++i) {
    EXPECT_EQ(run.removed[i].doc_id, (i / 2) * 3 + 1 + i % 2);
    EXPECT_EQ(run.removed[i].kept, (i / 2) * 3);
  }
  // 60 clustered docs need 128 slots of 24 bytes; a 1 KiB share cannot hold
  // them: a clear error naming --memory, nothing removed.
  d.memory_bytes = 1024;
  d.min_union_find_bytes = 1024;
  Status s = lshtest::RunNearDedup(*store, *index, d, &run);
  EXPECT_EQ(s.code(), Status::Code::kAborted) << s.ToString();
  EXPECT_NE(s.message().find("--memory"), std::string::npos) << s.ToString();
  EXPECT_TRUE(run.removed.empty());
  // Enough share (3 KiB of 24-byte slots = 128): same result as before.
  d.min_union_find_bytes = 3072;
  ASSERT_TRUE(lshtest::RunNearDedup(*store, *index, d, &run).ok());
  EXPECT_EQ(run.removed.size(), 40u);
  EXPECT_LE(run.union_find_bytes, 3072u);
}

}  // namespace
}  // namespace dedupdb
