// CLI of the suffix-array index: index-sa, count and locate, human and
// --json output, exit codes, token queries.
#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace dedupdb {
namespace {

using test::RunCommand;

TEST(SaCli, IndexCountLocate) {
  test::TempDir dir;
  const std::string store = dir.Sub("store"), in = dir.Sub("in.jsonl");
  test::WriteFile(in, "{\"id\":\"a\",\"text\":\"the cat sat\"}\n{\"id\":\"b\",\"text\":\"a cat\"}\n"
                      "{\"id\":\"c\",\"text\":\"dog\"}\n{\"id\":\"d\",\"text\":\"x\\ny\"}\n");
  std::string out, err;
  ASSERT_EQ(RunCommand({test::CliPath(), "--quiet", "build", store, in}, &out, &err), 0) << err;
  // No index yet: clear error, exit 1.
  EXPECT_EQ(RunCommand({test::CliPath(), "count", store, "cat"}, &out, &err), 1);
  EXPECT_NE(err.find("index-sa"), std::string::npos) << err;
  EXPECT_EQ(RunCommand({test::CliPath(), "index-sa", store, "--memory", "lots"}, &out, &err), 2);
  ASSERT_EQ(RunCommand({test::CliPath(), "--json", "--quiet", "index-sa", store, "--memory", "64M"}, &out, &err), 0)
      << err;
  EXPECT_NE(out.find("\"docs\":4"), std::string::npos) << out;
  EXPECT_NE(out.find("\"input_bytes\":22"), std::string::npos) << out;
  ASSERT_EQ(RunCommand({test::CliPath(), "count", store, "cat"}, &out, &err), 0) << err;
  EXPECT_EQ(out, "2\n");
  ASSERT_EQ(RunCommand({test::CliPath(), "count", store, "tdog"}, &out, &err), 0) << err;  // spans docs b|c
  EXPECT_EQ(out, "0\n");
  ASSERT_EQ(RunCommand({test::CliPath(), "--json", "count", store, "at"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("\"count\":3"), std::string::npos) << out;
  ASSERT_EQ(RunCommand({test::CliPath(), "--json", "locate", store, "cat", "--limit", "1", "--offset", "1",
                        "--context", "2"},
                       &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("\"total\":2"), std::string::npos) << out;
  EXPECT_NE(out.find("{\"doc_id\":1,\"external_id\":\"b\",\"offset\":2,\"before\":\"a \",\"match\":\"cat\","
                     "\"after\":\"\"}"),
            std::string::npos)
      << out;
  ASSERT_EQ(RunCommand({test::CliPath(), "locate", store, "cat"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("doc 0 [a] @4: the [cat] sat"), std::string::npos) << out;
  EXPECT_EQ(RunCommand({test::CliPath(), "count", dir.Sub("nostore"), "x"}, &out, &err), 1);
  // Queries with newlines come from a file, verbatim.
  test::WriteFile(dir.Sub("q.txt"), "x\ny");
  ASSERT_EQ(RunCommand({test::CliPath(), "count", store, "--query-file", dir.Sub("q.txt")}, &out, &err), 0) << err;
  EXPECT_EQ(out, "1\n");
  EXPECT_EQ(RunCommand({test::CliPath(), "count", store, "x", "--query-file", dir.Sub("q.txt")}, &out, &err), 2);
  EXPECT_EQ(RunCommand({test::CliPath(), "locate", store}, &out, &err), 2);
  EXPECT_EQ(RunCommand({test::CliPath(), "count", store, "--query-file", dir.Sub("missing.txt")}, &out, &err), 1);
}

TEST(SaCli, TokenIndex) {
  test::TempDir dir;
  // u16 LE: doc0 = 5 6 7, sep 0, doc1 = 6 7, sep 0, doc2 = 300
  const uint16_t toks[] = {5, 6, 7, 0, 6, 7, 0, 300};
  test::WriteFile(dir.Sub("t.bin"), std::string(reinterpret_cast<const char*>(toks), sizeof(toks)));
  const std::string store = dir.Sub("store");
  std::string out, err;
  EXPECT_EQ(RunCommand({test::CliPath(), "index-sa", store, "--tokens", dir.Sub("t.bin")}, &out, &err), 2);  // no --separator
  EXPECT_EQ(RunCommand({test::CliPath(), "index-sa", store, "--tokens", dir.Sub("t.bin"), "--separator", "0"}, &out,
                       &err),
            1);  // raw .bin without --dtype
  EXPECT_NE(err.find("--dtype"), std::string::npos) << err;
  ASSERT_EQ(RunCommand({test::CliPath(), "--quiet", "index-sa", store, "--tokens", dir.Sub("t.bin"), "--dtype", "u16",
                        "--separator", "0", "--name", "tok", "--json"},
                       &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("\"mode\":\"u16\""), std::string::npos) << out;
  ASSERT_EQ(RunCommand({test::CliPath(), "count", store, "6 7", "--name", "tok"}, &out, &err), 0) << err;
  EXPECT_EQ(out, "2\n");
  ASSERT_EQ(RunCommand({test::CliPath(), "count", store, "7,6", "--name", "tok"}, &out, &err), 0) << err;
  EXPECT_EQ(out, "0\n");  // would span doc0|doc1
  ASSERT_EQ(RunCommand({test::CliPath(), "--json", "locate", store, "7", "--name", "tok", "--context", "1"}, &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("{\"doc_id\":1,\"external_id\":\"\",\"offset\":1,\"before\":\"6\",\"match\":\"7\",\"after\":\"\"}"),
            std::string::npos)
      << out;
  EXPECT_EQ(RunCommand({test::CliPath(), "count", store, "6 x", "--name", "tok"}, &out, &err), 1);
  EXPECT_EQ(RunCommand({test::CliPath(), "count", store, "70000", "--name", "tok"}, &out, &err), 1);
}

}  // namespace
}  // namespace dedupdb
