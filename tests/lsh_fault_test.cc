// Injected disk faults (storage/fault_injection_env.h) during index-lsh and
// dedup-near become clean errors: the published index is unchanged (same
// runs, same lookups) and the next build succeeds; truncated index files are
// refused at open.
#include <random>

#include <gtest/gtest.h>

#include "index/lsh_index.h"
#include "query/near_duplicates.h"
#include "storage/fault_injection_env.h"
#include "tests/lsh_fixture.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

std::vector<test::JsonlDoc> SyntheticDocs(const std::string& prefix, size_t n, std::mt19937* rng) {
  std::vector<test::JsonlDoc> docs;
  uint64_t fresh = 0;
  for (size_t i = 0; i < n; ++i) {
    std::string t;
    for (int w = 0; w < 120; ++w) t += (w ? " w" : "w") + std::to_string((*rng)() % 20000);
    docs.push_back({prefix + std::to_string(i), t});
    if (i % 3 == 0) docs.push_back({prefix + "c" + std::to_string(i), lshtest::EditWords(t, 0.02, *rng, &fresh)});
  }
  return docs;
}

// Candidates of every doc, through a freshly opened index.
std::vector<std::vector<uint64_t>> AllCandidates(const std::string& store_dir, size_t* runs) {
  std::unique_ptr<DocStore> store;
  EXPECT_TRUE(DocStore::Open(store_dir, &store).ok());
  std::unique_ptr<LshIndex> index;
  Status s = LshIndex::Open(*store, "default", &index);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return {};
  *runs = index->num_runs();
  std::vector<std::vector<uint64_t>> out;
  NearQueryOptions q;
  q.threshold = 0;
  for (uint64_t d = 0; d < index->indexed_docs(); ++d) {
    std::vector<NearMatch> m;
    EXPECT_TRUE(FindNearDuplicatesOfDoc(*store, *index, d, q, &m).ok());
    std::vector<uint64_t> ids;
    for (const auto& x : m) ids.push_back(x.doc_id);
    std::sort(ids.begin(), ids.end());
    out.push_back(ids);
  }
  return out;
}

TEST(LshFault, FailedBuildLeavesIndexUnchanged) {
  test::TempDir tmp;
  std::mt19937 rng(3);
  lshtest::WriteJsonl(tmp.Sub("a.jsonl"), SyntheticDocs("a", test::Scaled(150, 60), &rng));
  lshtest::WriteJsonl(tmp.Sub("b.jsonl"), SyntheticDocs("b", 60, &rng));
  const std::string store = tmp.Sub("store");
  lshtest::BuildFrom(store, {tmp.Sub("a.jsonl")});
  LshBuildOptions o;
  o.num_perm = 64;
  o.threshold = 0.5;
  o.memory_bytes = 1;  // spill files too
  LshBuildReport r;
  ASSERT_TRUE(BuildLshIndex(store, o, &r).ok());
  size_t runs = 0;
  const auto before = AllCandidates(store, &runs);
  ASSERT_EQ(runs, 1u);
  lshtest::BuildFrom(store, {tmp.Sub("a.jsonl"), tmp.Sub("b.jsonl")});

  struct Fault {
    const char* what;
    std::function<void(FaultInjectionEnv*)> arm;
  };
  const std::vector<Fault> faults = {
      {"ENOSPC at once", [](FaultInjectionEnv* e) { e->SetWriteLimit(0); }},
      {"ENOSPC in spills", [](FaultInjectionEnv* e) { e->SetWriteLimit(3000, ".spill"); }},
      {"ENOSPC in the bucket file", [](FaultInjectionEnv* e) { e->SetWriteLimit(5000, ".lsb"); }},
      {"EIO on sync", [](FaultInjectionEnv* e) { e->InjectFault(FaultOp::kSync, 0, "lsh"); }},
      {"EIO on rename", [](FaultInjectionEnv* e) { e->InjectFault(FaultOp::kRename, 0, ""); }},
      {"EIO reading spills", [](FaultInjectionEnv* e) { e->InjectFault(FaultOp::kRead, 1, ".spill"); }},
  };
  for (const auto& f : faults) {
    FaultInjectionEnv env(Env::Default());
    f.arm(&env);
    o.env = &env;
    Status s = BuildLshIndex(store, o, &r);
    EXPECT_FALSE(s.ok()) << f.what;
    EXPECT_GT(env.faults_injected(), 0u) << f.what;
    std::printf("  %s -> %s\n", f.what, s.ToString().c_str());
    size_t runs_after = 0;
    EXPECT_EQ(AllCandidates(store, &runs_after), before) << f.what;
    EXPECT_EQ(runs_after, 1u) << f.what;
  }
  o.env = nullptr;
  Status s = BuildLshIndex(store, o, &r);
  ASSERT_TRUE(s.ok()) << s.ToString();
  size_t runs_after = 0;
  auto after = AllCandidates(store, &runs_after);
  EXPECT_EQ(runs_after, 2u);
  ASSERT_GT(after.size(), before.size());
}

TEST(LshFault, DedupSpillFaultAndTruncatedFiles) {
  test::TempDir tmp;
  std::mt19937 rng(4);
  lshtest::WriteJsonl(tmp.Sub("a.jsonl"), SyntheticDocs("a", test::Scaled(150, 60), &rng));
  const std::string store_dir = tmp.Sub("store");
  lshtest::BuildFrom(store_dir, {tmp.Sub("a.jsonl")});
  LshBuildOptions o;
  o.num_perm = 64;
  o.bands = {32, 2};  // many candidates
  LshBuildReport r;
  ASSERT_TRUE(BuildLshIndex(store_dir, o, &r).ok());

  {
    std::unique_ptr<DocStore> store;
    ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
    std::unique_ptr<LshIndex> index;
    ASSERT_TRUE(LshIndex::Open(*store, "default", &index).ok());
    FaultInjectionEnv env(Env::Default());
    env.SetWriteLimit(100, ".spill");
    NearDedupOptions d;
    d.memory_bytes = 1024;  // pairs spill
    d.tmp_dir = tmp.path();
    d.env = &env;
    NearDedupResult res;
    Status s = NearDedup(*store, *index, d, &res);
    EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
    d.env = nullptr;
    ASSERT_TRUE(NearDedup(*store, *index, d, &res).ok());
    EXPECT_GT(res.spill_files, 0u);
  }
  for (const char* ext : {".lsb", ".mhs"}) {
    FaultInjectionEnv env(Env::Default());
    env.SetTruncation(ext, 1000);
    DocStore::Options so;
    so.env = &env;
    std::unique_ptr<DocStore> store;
    ASSERT_TRUE(DocStore::Open(store_dir, so, &store).ok());
    std::unique_ptr<LshIndex> index;
    Status s = LshIndex::Open(*store, "default", &index);
    EXPECT_TRUE(s.IsCorruption()) << ext << ": " << s.ToString();
  }
}

}  // namespace
}  // namespace dedupdb
