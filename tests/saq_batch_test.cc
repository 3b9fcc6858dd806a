// Batch count (query/batch_count.h): lockstep searches through io_uring and
// through the pread BatchReader, and the one-by-one pread baseline, must all
// equal SaShard::FindRange and a brute-force count over the documents.
#include <gtest/gtest.h>

#include "query/batch_count.h"
#include "storage/fault_injection_env.h"
#include "tests/saq_fixture.h"

namespace dedupdb {
namespace {

using saq_test::Corpus;

std::vector<std::string> MixedQueries(std::mt19937_64& rng, const std::vector<std::string>& docs, size_t n) {
  std::vector<std::string> qs = {"", "a", "b", "zzz", docs[0] + docs[1], std::string(300, 'a'),
                                 std::string("a\xff" "a"), docs[2]};
  while (qs.size() < n) {
    const std::string& d = docs[rng() % docs.size()];
    switch (rng() % 3) {
      case 0: {  // present substring
        size_t b = rng() % d.size();
        qs.push_back(d.substr(b, 1 + rng() % 12));
        break;
      }
      case 1: {  // random, often absent
        std::string q;
        size_t len = 1 + rng() % 10;
        for (size_t k = 0; k < len; ++k) q += "abcx"[rng() % 4];
        qs.push_back(q);
        break;
      }
      default:  // spans a document end
        qs.push_back(d.substr(d.size() / 2) + docs[rng() % docs.size()].substr(0, 3));
    }
  }
  return qs;
}

std::vector<uint64_t> FindRangeCounts(const SuffixArrayIndex& index, const std::vector<std::string>& qs) {
  std::vector<uint64_t> out;
  for (const std::string& q : qs) {
    uint64_t n = 0;
    if (!index.ContainsSeparator(q))
      for (size_t s = 0; s < index.num_shards(); ++s) n += index.shard(s).FindRange(q).size();
    out.push_back(n);
  }
  return out;
}

TEST(SaqBatch, AllPathsEqualOracle) {
  std::mt19937_64 rng(5);
  Corpus c;
  std::vector<std::string> docs = saq_test::RandomDocs(rng, test::Scaled(150, 60), 70, "abc");
  ASSERT_NO_FATAL_FAILURE(saq_test::BuildCorpus(docs, 700, &c));
  ASSERT_GT(c.index->num_shards(), 3u);
  std::vector<std::string> qs = MixedQueries(rng, docs, test::Scaled(600, 200));
  std::vector<uint64_t> oracle;
  for (const std::string& q : qs) oracle.push_back(saq_test::OracleCount(docs, q));
  EXPECT_EQ(FindRangeCounts(*c.index, qs), oracle);

  uint64_t text_bytes = 0;
  for (size_t s = 0; s < c.index->num_shards(); ++s) text_bytes += c.index->shard(s).text_bytes();
  // Text scan planner: every shard's text read into memory (the default on
  // these small shards), none (every probe read), or the first half of them.
  for (uint64_t scan_memory : {uint64_t{2} << 30, uint64_t{0}, text_bytes / 2}) {
    for (bool uring : {true, false}) {
      for (size_t wave : {size_t{7}, size_t{100000}}) {
        BatchCountOptions opt;
        opt.prefer_io_uring = uring;
        opt.queue_depth = 8;
        opt.queries_per_wave = wave;
        opt.text_scan_memory = scan_memory;
        // Small scan reads: probes find their text scanned, not yet
        // scanned, or straddling a chunk boundary that is half there.
        opt.text_scan_chunk = wave == 7 ? 64 : 4u << 20;
        std::vector<uint64_t> counts;
        BatchCountStats stats;
        Status st = BatchCount(*c.index, qs, opt, &counts, &stats);
        ASSERT_TRUE(st.ok()) << st.ToString();
        EXPECT_EQ(counts, oracle) << "reader " << stats.reader << " wave " << wave << " scan " << scan_memory;
        if (!uring) {
          EXPECT_EQ(stats.reader, "pread");
        }
        EXPECT_LT(stats.reads, stats.probes) << "shared probes are read once";
        if (scan_memory == 0) {
          EXPECT_EQ(stats.text_scanned_bytes, 0u);
        } else if (scan_memory < text_bytes) {
          EXPECT_GT(stats.text_scanned_bytes, 0u);
          EXPECT_LE(stats.text_scanned_bytes, scan_memory);
        } else {
          EXPECT_EQ(stats.text_scanned_bytes, text_bytes);
        }
      }
    }
  }
  std::vector<uint64_t> seq;
  BatchCountStats stats;
  ASSERT_TRUE(SequentialPreadCount(*c.index, qs, nullptr, true, &seq, &stats).ok());
  EXPECT_EQ(seq, oracle);
}

TEST(SaqBatch, WidePointersAndOneShard) {
  std::mt19937_64 rng(9);
  std::vector<std::string> docs = saq_test::RandomDocs(rng, 40, 50, "ab");
  Corpus c;
  c.dir = std::make_unique<test::TempDir>();
  // Build with 6-byte pointers to exercise the pointer decoding.
  std::string jsonl;
  for (size_t i = 0; i < docs.size(); ++i) jsonl += "{\"id\":\"d" + std::to_string(i) + "\",\"text\":\"" + docs[i] + "\"}\n";
  test::WriteFile(c.dir->Sub("in.jsonl"), jsonl);
  BuildReport br;
  ASSERT_TRUE(BuildStore(c.store_dir(), {c.dir->Sub("in.jsonl")}, BuildOptions(), &br).ok());
  SaBuildOptions so;
  so.threads = 1;
  so.memory_budget = 64ull << 20;
  so.force_pointer_width = 6;
  SaBuildReport sr;
  ASSERT_TRUE(BuildSuffixArrayIndex(c.store_dir(), so, &sr).ok());
  ASSERT_TRUE(DocStore::Open(c.store_dir(), &c.store).ok());
  ASSERT_TRUE(SuffixArrayIndex::Open(c.store.get(), "default", &c.index).ok());
  ASSERT_EQ(c.index->shard(0).pointer_width(), 6u);
  // The page sample (SA file version 2): every (4096 / width)-th entry.
  const SaShard& sh = c.index->shard(0);
  ASSERT_EQ(sh.sample_stride(), 4096u / 6);
  ASSERT_EQ(sh.sample_count(), (sh.num_suffixes() + sh.sample_stride() - 1) / sh.sample_stride());
  for (uint64_t j = 0; j < sh.sample_count(); ++j) EXPECT_EQ(sh.SampleEntry(j), sh.SuffixAt(j * sh.sample_stride()));
  std::vector<std::string> qs = MixedQueries(rng, docs, 150);
  std::vector<uint64_t> counts, oracle;
  for (const std::string& q : qs) oracle.push_back(saq_test::OracleCount(docs, q));
  ASSERT_TRUE(BatchCount(*c.index, qs, BatchCountOptions(), &counts, nullptr).ok());
  EXPECT_EQ(counts, oracle);
}

TEST(SaqBatch, ReadErrorsBecomeStatus) {
  std::mt19937_64 rng(2);
  std::vector<std::string> docs = saq_test::RandomDocs(rng, 30, 40, "ab");
  Corpus c;
  ASSERT_NO_FATAL_FAILURE(saq_test::BuildCorpus(docs, 0, &c));
  std::vector<std::string> qs = MixedQueries(rng, docs, 50);
  for (bool uring : {true, false}) {
    FaultInjectionEnv env(Env::Default());
    env.InjectFault(FaultOp::kRead, 5);
    BatchCountOptions opt;
    opt.env = &env;
    opt.prefer_io_uring = uring;
    std::vector<uint64_t> counts;
    Status st = BatchCount(*c.index, qs, opt, &counts, nullptr);
    EXPECT_TRUE(st.IsIOError()) << st.ToString();
    EXPECT_GT(env.faults_injected(), 0u);
  }
  FaultInjectionEnv env(Env::Default());
  env.SetTruncation(".", 200);  // every index file reads back short
  std::vector<uint64_t> counts;
  BatchCountOptions opt;
  opt.env = &env;
  Status st = BatchCount(*c.index, qs, opt, &counts, nullptr);
  EXPECT_FALSE(st.ok());
  st = SequentialPreadCount(*c.index, qs, &env, false, &counts, nullptr);
  EXPECT_FALSE(st.ok());
}

TEST(SaqBatch, EmptyBatch) {
  std::mt19937_64 rng(4);
  Corpus c;
  ASSERT_NO_FATAL_FAILURE(saq_test::BuildCorpus(saq_test::RandomDocs(rng, 10, 20, "ab"), 0, &c));
  std::vector<uint64_t> counts = {42};
  ASSERT_TRUE(BatchCount(*c.index, {}, BatchCountOptions(), &counts, nullptr).ok());
  EXPECT_TRUE(counts.empty());
}

}  // namespace
}  // namespace dedupdb
