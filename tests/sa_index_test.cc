// Suffix-array index end to end (byte mode): build over a store, then count
// and locate must equal a naive scan of the documents for empty, 1-symbol,
// absent, document-spanning and very long queries, with one shard, many
// shards (tiny budgets, parallel builds) and every pointer width; adjacent-LCP
// and snippets are checked by hand/brute force; rebuilds publish a new
// generation; damaged files are refused on open.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
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

using sa_test::OracleLocate;
namespace fs = std::filesystem;

struct Variant {
  std::string name;
  uint64_t max_shard_symbols;
  unsigned threads;
  unsigned pointer_width;
};

Status BuildIndex(const std::string& store, const Variant& v, SaBuildReport* r) {
  SaBuildOptions o;
  o.name = v.name;
  o.memory_budget = 256ull << 20;
  o.threads = v.threads;
  o.max_shard_symbols = v.max_shard_symbols;
  o.force_pointer_width = v.pointer_width;
  return BuildSuffixArrayIndex(store, o, r);
}

std::vector<std::string> StoreDocs(const DocStore& store) {
  std::vector<std::string> docs;
  for (uint64_t i = 0; i < store.num_docs(); ++i) docs.emplace_back(store.Text(i));
  return docs;
}

// count, full locate and random pages against the oracle.
void CheckQueries(const SuffixArrayIndex& index, const DocStore& store, const std::vector<std::string>& docs,
                  const std::vector<std::string>& qs, std::mt19937_64& rng) {
  for (const std::string& q : qs) {
    auto want = OracleLocate(docs, q);
    CountResult c;
    ASSERT_TRUE(CountOccurrences(index, q, &c).ok());
    ASSERT_EQ(c.count, want.size()) << "query '" << q << "'";
    LocateOptions lo;
    lo.limit = want.size() + 1;
    lo.context = 3;
    LocateResult r;
    ASSERT_TRUE(LocateOccurrences(index, &store, q, lo, &r).ok());
    ASSERT_EQ(r.total, want.size());
    ASSERT_EQ(r.hits.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(r.hits[i].doc_id, want[i].first) << q;
      ASSERT_EQ(r.hits[i].offset, want[i].second) << q;
      ASSERT_EQ(r.hits[i].match, q);
      ASSERT_EQ(r.hits[i].external_id, "d" + std::to_string(want[i].first));
    }
    // Refining a range symbol by symbol gives the same range as a fresh search.
    if (!q.empty() && q.size() < 64) {
      for (size_t sh = 0; sh < index.num_shards(); ++sh) {
        SaRange prev = index.shard(sh).FindRange(q.substr(0, q.size() - 1));
        SaRange full = index.shard(sh).FindRange(q);
        SaRange refined = index.shard(sh).FindRange(q, prev);
        if (index.ContainsSeparator(q)) continue;
        ASSERT_EQ(std::make_pair(refined.lo, refined.hi), std::make_pair(full.lo, full.hi)) << q;
      }
    }
    // A random page.
    lo.offset = want.empty() ? 0 : rng() % (want.size() + 2);
    lo.limit = 1 + rng() % 5;
    ASSERT_TRUE(LocateOccurrences(index, &store, q, lo, &r).ok());
    size_t expect_n = lo.offset >= want.size() ? 0 : std::min<size_t>(lo.limit, want.size() - lo.offset);
    ASSERT_EQ(r.hits.size(), expect_n);
    for (size_t i = 0; i < expect_n; ++i) {
      ASSERT_EQ(std::make_pair(r.hits[i].doc_id, r.hits[i].offset), want[lo.offset + i]) << q;
    }
  }
}

// LCP of adjacent suffixes, brute force within a document.
void CheckLcp(const SaShard& sh, const std::vector<std::string>& docs) {
  for (uint64_t i = 1; i < sh.num_suffixes(); ++i) {
    DocPosition a = sh.Locate(sh.SuffixAt(i - 1)), b = sh.Locate(sh.SuffixAt(i));
    std::string_view x = std::string_view(docs[a.doc_id]).substr(a.offset);
    std::string_view y = std::string_view(docs[b.doc_id]).substr(b.offset);
    // Sorted as the index sees them: each document ends with 0xFF, the largest byte.
    ASSERT_LE(std::string(x) + "\xff", std::string(y) + "\xff") << "suffixes out of order at " << i;
    size_t l = 0;
    while (l < x.size() && l < y.size() && x[l] == y[l]) ++l;
    ASSERT_EQ(sh.LcpAdjacent(i), l) << i;
  }
}

TEST(SaIndex, ByteModeMatchesOracleAcrossShardConfigs) {
  test::TempDir dir;
  std::mt19937_64 rng(11);
  std::vector<std::string> src = sa_test::RandomDocs(rng, test::Scaled(220, 80), 60, "abc");
  src[3] = "";  // empty document
  src[5] = std::string(300, 'a');
  const std::string store_dir = dir.Sub("store");
  ASSERT_TRUE(sa_test::MakeStore(store_dir, dir.Sub("in.jsonl"), src).ok());
  const std::vector<Variant> variants = {
      {"one", 0, 1, 0}, {"many", 400, 1, 0}, {"many2", 333, 2, 0}, {"w5", 700, 2, 5}, {"w8", 0, 1, 8}};
  for (const Variant& v : variants) {
    SaBuildReport rep;
    Status st = BuildIndex(store_dir, v, &rep);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(rep.num_docs, src.size());
  }
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
  std::vector<std::string> docs = StoreDocs(*store);
  ASSERT_EQ(docs, src);
  std::vector<std::string> qs = sa_test::MixedQueries(rng, docs, "abc", test::Scaled(250, 80));
  qs.push_back(docs[5] + docs[6]);  // spans a boundary
  qs.push_back(docs[7] + "\xff");
  for (const Variant& v : variants) {
    SCOPED_TRACE(v.name);
    std::unique_ptr<SuffixArrayIndex> index;
    Status st = SuffixArrayIndex::Open(store.get(), v.name, &index);
    ASSERT_TRUE(st.ok()) << st.ToString();
    if (v.max_shard_symbols) EXPECT_GE(index->num_shards(), 4u);
    else EXPECT_EQ(index->num_shards(), 1u);
    uint64_t input = 0;
    for (const auto& d : docs) input += d.size();
    EXPECT_EQ(index->manifest().input_symbols, input);
    for (size_t s = 0; s < index->num_shards(); ++s) {
      const SaShard& sh = index->shard(s);
      EXPECT_EQ(sh.pointer_width(), v.pointer_width ? v.pointer_width : 4u);
      EXPECT_EQ(s == 0 ? 0 : index->shard(s - 1).first_doc() + index->shard(s - 1).num_docs(), sh.first_doc());
      EXPECT_LE(sh.num_symbols() + 2 * sh.num_docs(), v.max_shard_symbols ? v.max_shard_symbols : UINT64_MAX);
      EXPECT_EQ(index->ShardOfDoc(sh.first_doc()), s);
      ASSERT_NO_FATAL_FAILURE(CheckLcp(sh, docs));
    }
    ASSERT_NO_FATAL_FAILURE(CheckQueries(*index, *store, docs, qs, rng));
  }
}

TEST(SaIndex, RealTextMatchesOracle) {
  const std::string rel = "corpus";
  if (!test::HaveSharedData(rel)) GTEST_SKIP() << "../shared/data/corpus missing";
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(test::SharedDataDir() + "/corpus")) {
    if (e.path().string().ends_with(".jsonl.zst")) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  std::vector<std::string> docs;
  for (auto& d : test::ReadJsonlZstOracle(files[0], test::Scaled(400, 60))) docs.push_back(d.text);
  test::TempDir dir;
  const std::string store_dir = dir.Sub("store");
  ASSERT_TRUE(sa_test::MakeStore(store_dir, dir.Sub("in.jsonl"), docs).ok());
  uint64_t total = 0, longest = 0;
  for (auto& d : docs) total += d.size(), longest = std::max<uint64_t>(longest, d.size());
  SaBuildReport rep;
  ASSERT_TRUE(BuildIndex(store_dir, {"default", total / 8 + longest + 3, 2, 0}, &rep).ok());
  EXPECT_GE(rep.num_shards, 4u);
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
  ASSERT_EQ(StoreDocs(*store), docs);
  std::unique_ptr<SuffixArrayIndex> index;
  ASSERT_TRUE(SuffixArrayIndex::Open(store.get(), "default", &index).ok());
  std::mt19937_64 rng(3);
  std::vector<std::string> qs = {"the", " of the ", "\n", "e", "zqxjkv", docs[0].substr(0, 500)};
  for (uint64_t i = 0; i < test::Scaled(150, 40); ++i) {
    const std::string& d = docs[rng() % docs.size()];
    if (d.size() < 2) continue;
    size_t b = rng() % (d.size() - 1);
    qs.push_back(d.substr(b, 1 + rng() % 40));
  }
  for (size_t k = 0; k + 1 < docs.size() && k < 20; ++k) {
    qs.push_back(docs[k].substr(docs[k].size() - std::min<size_t>(docs[k].size(), 6)) + docs[k + 1].substr(0, 6));
  }
  ASSERT_NO_FATAL_FAILURE(CheckQueries(*index, *store, docs, qs, rng));
}

TEST(SaIndex, LocateSnippetsHandChecked) {
  test::TempDir dir;
  const std::string store_dir = dir.Sub("store");
  std::vector<std::string> docs = {"hello world", "say hello", "h\xc3\xa9llo hello"};
  ASSERT_TRUE(sa_test::MakeStore(store_dir, dir.Sub("in.jsonl"), docs).ok());
  SaBuildReport rep;
  ASSERT_TRUE(BuildIndex(store_dir, {"default", 0, 1, 0}, &rep).ok());
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
  std::unique_ptr<SuffixArrayIndex> index;
  ASSERT_TRUE(SuffixArrayIndex::Open(store.get(), "default", &index).ok());
  LocateOptions lo;
  lo.context = 3;
  LocateResult r;
  ASSERT_TRUE(LocateOccurrences(*index, store.get(), "hello", lo, &r).ok());
  ASSERT_EQ(r.total, 3u);
  ASSERT_EQ(r.hits.size(), 3u);
  EXPECT_EQ(r.hits[0].doc_id, 0u);
  EXPECT_EQ(r.hits[0].offset, 0u);
  EXPECT_EQ(r.hits[0].before, "");
  EXPECT_EQ(r.hits[0].after, " wo");
  EXPECT_EQ(r.hits[1].external_id, "d1");
  EXPECT_EQ(r.hits[1].offset, 4u);
  EXPECT_EQ(r.hits[1].before, "ay ");
  EXPECT_EQ(r.hits[1].after, "");  // clipped at the document end
  EXPECT_EQ(r.hits[2].offset, 7u);
  EXPECT_EQ(r.hits[2].before, "lo ");
  // Context that would start inside the 2-byte 'é' is moved to a character boundary.
  lo.context = 1;
  ASSERT_TRUE(LocateOccurrences(*index, store.get(), "llo h", lo, &r).ok());
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.hits[0].before, "");
  lo.context = 2;
  ASSERT_TRUE(LocateOccurrences(*index, store.get(), "llo h", lo, &r).ok());
  EXPECT_EQ(r.hits[0].before, "\xc3\xa9");
  EXPECT_EQ(r.hits[0].after, "el");
  // Document-spanning and separator-containing queries never match.
  CountResult c;
  ASSERT_TRUE(CountOccurrences(*index, "worldsay", &c).ok());
  EXPECT_EQ(c.count, 0u);
  ASSERT_TRUE(CountOccurrences(*index, "world\xffsay", &c).ok());
  EXPECT_EQ(c.count, 0u);
  EXPECT_TRUE(index->shard(0).FindRange("world\xffsay").empty());  // the text does contain these bytes
  EXPECT_TRUE(index->shard(0).FindRange("\xff").empty());
  ASSERT_TRUE(CountOccurrences(*index, "o", &c).ok());
  EXPECT_EQ(c.count, 5u);
}

TEST(SaIndex, RebuildPublishesNewGenerationAndRetiresOld) {
  test::TempDir dir;
  const std::string store_dir = dir.Sub("store");
  std::mt19937_64 rng(4);
  ASSERT_TRUE(sa_test::MakeStore(store_dir, dir.Sub("in.jsonl"), sa_test::RandomDocs(rng, 50, 40, "ab")).ok());
  SaBuildReport r1, r2;
  ASSERT_TRUE(BuildIndex(store_dir, {"default", 300, 1, 0}, &r1).ok());
  ASSERT_TRUE(BuildIndex(store_dir, {"default", 0, 1, 0}, &r2).ok());
  EXPECT_EQ(r1.generation, 1u);
  EXPECT_EQ(r2.generation, 2u);
  EXPECT_FALSE(fs::exists(store_dir + "/" + StoreLayout::IndexDir("sa", "default", 1) + "/shard-00000.sa"));
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
  std::unique_ptr<SuffixArrayIndex> index;
  ASSERT_TRUE(SuffixArrayIndex::Open(store.get(), "default", &index).ok());
  EXPECT_EQ(index->manifest().generation, 2u);
  std::unique_ptr<SuffixArrayIndex> other;
  Status st = SuffixArrayIndex::Open(store.get(), "nope", &other);
  EXPECT_TRUE(st.IsNotFound());
  EXPECT_NE(st.message().find("existing: default"), std::string::npos) << st.ToString();
  EXPECT_EQ(index->num_shards(), 1u);
  // Bytes of index per input byte: 1 (text) + 4 (pointer) + doc table + envelopes.
  EXPECT_GT(r2.index_bytes, 5 * r2.input_bytes);
  std::vector<VerifyProblem> problems;
  ASSERT_TRUE(store->Verify(&problems).ok());
  EXPECT_TRUE(problems.empty());
}

TEST(SaIndex, MissingIndexAndOversizedDocumentFailCleanly) {
  test::TempDir dir;
  const std::string store_dir = dir.Sub("store");
  ASSERT_TRUE(sa_test::MakeStore(store_dir, dir.Sub("in.jsonl"), {"short", std::string(5000, 'x'), "end"}).ok());
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
  std::unique_ptr<SuffixArrayIndex> index;
  Status st = SuffixArrayIndex::Open(store.get(), "default", &index);
  EXPECT_TRUE(st.IsNotFound()) << st.ToString();
  EXPECT_NE(st.message().find("index-sa"), std::string::npos);
  SaBuildReport r;
  st = BuildIndex(store_dir, {"default", 1000, 1, 0}, &r);
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_NE(st.message().find("document 1"), std::string::npos) << st.ToString();
  store.reset();
  ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
  EXPECT_TRUE(SuffixArrayIndex::Open(store.get(), "default", &index).IsNotFound());  // nothing published
}

// Flips/cuts bytes of published files; Open must refuse with the path named.
TEST(SaIndex, CorruptedFilesDetectedOnOpen) {
  test::TempDir dir;
  const std::string store_dir = dir.Sub("store");
  std::mt19937_64 rng(5);
  ASSERT_TRUE(sa_test::MakeStore(store_dir, dir.Sub("in.jsonl"), sa_test::RandomDocs(rng, 40, 40, "ab")).ok());
  SaBuildReport r;
  ASSERT_TRUE(BuildIndex(store_dir, {"default", 0, 1, 0}, &r).ok());
  const std::string gdir = store_dir + "/" + StoreLayout::IndexDir("sa", "default", 1);
  for (const std::string& file : {gdir + "/shard-00000.sa", gdir + "/shard-00000.text"}) {
    SCOPED_TRACE(file);
    const std::string good = test::ReadFile(file);
    auto open = [&]() {
      std::unique_ptr<DocStore> store;
      EXPECT_TRUE(DocStore::Open(store_dir, &store).ok());
      std::unique_ptr<SuffixArrayIndex> index;
      return SuffixArrayIndex::Open(store.get(), "default", &index);
    };
    ASSERT_TRUE(open().ok());
    for (size_t at : {size_t{0}, size_t{9}, size_t{40}, size_t{100}}) {  // magic, kind, params, reserved
      std::string bad = good;
      bad[at] ^= 0x5a;
      test::WriteFile(file, bad);
      Status st = open();
      EXPECT_FALSE(st.ok()) << "flip at " << at;
      EXPECT_NE(st.ToString().find(fs::path(file).filename().string()), std::string::npos) << st.ToString();
    }
    for (size_t len : {size_t{0}, size_t{64}, good.size() - 1, good.size() / 2}) {
      test::WriteFile(file, good.substr(0, len));
      Status st = open();
      EXPECT_FALSE(st.ok()) << "truncated to " << len;
    }
    // A flipped body byte passes open (no full read) but verify catches it.
    std::string bad = good;
    bad[kFileHeaderSize + 3] ^= 0x01;
    test::WriteFile(file, bad);
    std::unique_ptr<DocStore> store;
    ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
    std::vector<VerifyProblem> problems;
    store->Verify(&problems);
    EXPECT_FALSE(problems.empty());
    // Garbage pointers / doc starts in the body: queries must not crash
    // (answers may be wrong until verify flags the file).
    bad = good;
    if (file.ends_with(".sa")) {
      for (size_t k = 0; k < 64; ++k) bad[kFileHeaderSize + k] = '\xff';
    } else {
      for (size_t k = 16; k < 48; ++k) bad[bad.size() - k] = '\xee';
    }
    test::WriteFile(file, bad);
    std::unique_ptr<SuffixArrayIndex> index;
    if (SuffixArrayIndex::Open(store.get(), "default", &index).ok()) {
      for (const char* q : {"a", "b", "ab", "ba", "aab"}) {
        CountResult c;
        EXPECT_TRUE(CountOccurrences(*index, q, &c).ok());
        LocateOptions lo;
        lo.limit = 1000;
        LocateResult r;
        (void)LocateOccurrences(*index, store.get(), q, lo, &r);
      }
      for (uint64_t i = 1; i < index->shard(0).num_suffixes(); ++i) (void)index->shard(0).LcpAdjacent(i);
    }
    test::WriteFile(file, good);
  }
}

}  // namespace
}  // namespace dedupdb
