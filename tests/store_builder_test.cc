// Commit cadence of ingest: a commit every N records bounds each LMDB write
// transaction; the store must read back exactly the same either way.
#include <gtest/gtest.h>

#include "storage/doc_store.h"
#include "storage/store_builder.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

std::string MakeJsonl(int n, int distinct) {
  std::string data;
  for (int i = 0; i < n; ++i) {
    data += "{\"id\": \"d" + std::to_string(i) + "\", \"text\": \"document body " + std::to_string(i % distinct) + "\"}\n";
  }
  return data;
}

TEST(StoreBuilderTest, RecordsPerCommitClosesSegmentsEarly) {
  test::TempDir dir;
  test::WriteFile(dir.Sub("in.jsonl"), MakeJsonl(50, 50));
  BuildOptions opt;
  opt.records_per_commit = 7;
  BuildReport report;
  ASSERT_TRUE(BuildStore(dir.Sub("s"), {dir.Sub("in.jsonl")}, opt, &report).ok());
  // Seven records per commit: 7 * 7 = 49, and the 50th in the final commit.
  EXPECT_EQ(report.segments_added, 8u);
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(dir.Sub("s"), &store).ok());
  ASSERT_EQ(store->num_docs(), 50u);
  EXPECT_EQ(store->num_segments(), report.segments_added);
  for (uint64_t i = 0; i < 50; ++i) {
    EXPECT_EQ(store->Text(i), "document body " + std::to_string(i));
    DocMeta m;
    ASSERT_TRUE(store->GetMeta(i, &m).ok());
    EXPECT_EQ(m.external_id, "d" + std::to_string(i));
    EXPECT_EQ(m.line, i + 1);
  }
  std::vector<VerifyProblem> problems;
  ASSERT_TRUE(store->Verify(&problems).ok());
  EXPECT_TRUE(problems.empty());
}

TEST(StoreBuilderTest, CommitsWithOnlyDroppedDuplicatesKeepCounts) {
  test::TempDir dir;
  // 3 distinct texts repeated: after the first three, every record is dropped,
  // so most commits carry no segment at all.
  test::WriteFile(dir.Sub("in.jsonl"), MakeJsonl(40, 3));
  BuildOptions opt;
  opt.records_per_commit = 5;
  opt.dedup_exact = true;
  BuildReport report;
  ASSERT_TRUE(BuildStore(dir.Sub("s"), {dir.Sub("in.jsonl")}, opt, &report).ok());
  EXPECT_EQ(report.docs_added, 3u);
  EXPECT_EQ(report.dropped_duplicates, 37u);
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(dir.Sub("s"), &store).ok());
  StoreStats st;
  ASSERT_TRUE(store->Stats(&st).ok());
  EXPECT_EQ(st.docs, 3u);
  EXPECT_EQ(st.dropped_docs, 37u);
  // Running the same build again finds the source complete and adds nothing.
  BuildReport again;
  ASSERT_TRUE(BuildStore(dir.Sub("s"), {dir.Sub("in.jsonl")}, opt, &again).ok());
  EXPECT_EQ(again.docs_added, 0u);
  EXPECT_EQ(again.sources_already_done, 1u);
}

}  // namespace
}  // namespace dedupdb
