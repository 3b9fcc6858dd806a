// `dedupdb decon ...` end to end: --json outputs, exit codes, purified .zst
// output, and a store scan that agrees with the file scan.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "storage/json_writer.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

using test::JsonLine;

using test::CliPath;
using test::RunCommand;

TEST(DeconCli, IndexScanCheckEndToEnd) {
  test::TempDir dir;
  std::string q = "In which year did the first human land on the surface of the Moon during the Apollo program";
  test::WriteFile(dir.Sub("trivia.jsonl"), JsonLine("t1", q) + JsonLine("t2", "What colour is the sky on a clear day"));
  test::WriteFile(dir.Sub("corpus.jsonl"), JsonLine("a", "History: " + q + "? It was 1969.") +
                                               JsonLine("b", "Unrelated text about cooking pasta.") +
                                               JsonLine("c", "Kids ask: what colour is the sky on a clear day?"));
  std::string out, err;
  ASSERT_EQ(RunCommand({CliPath(), "--json", "decon", "index", "--out", dir.Sub("e.ddx"), dir.Sub("trivia.jsonl")}, &out, &err), 0) << err;
  simdjson::dom::parser p;
  simdjson::dom::element j = p.parse(out);
  EXPECT_EQ(uint64_t(j["examples"]), 2u);
  EXPECT_EQ(uint64_t(j["short_examples"]), 1u);

  // Scan with purify to .zst and the flagged list.
  int rc = RunCommand({CliPath(), "--json", "decon", "scan", "--index", dir.Sub("e.ddx"), dir.Sub("corpus.jsonl"),
                       "--flagged", dir.Sub("flagged.jsonl"), "--purify", dir.Sub("clean.jsonl.zst"), "--fail-on-hit"},
                      &out, &err);
  EXPECT_EQ(rc, 4) << err;  // --fail-on-hit and two flagged docs
  j = p.parse(out);
  EXPECT_EQ(uint64_t(j["docs"]), 3u);
  EXPECT_EQ(uint64_t(j["flagged_docs"]), 2u);
  std::string clean;
  ASSERT_EQ(test::RunShell("zstd -dc " + dir.Sub("clean.jsonl.zst"), &clean), 0);
  EXPECT_EQ(clean, JsonLine("b", "Unrelated text about cooking pasta."));
  std::string flagged = test::ReadFile(dir.Sub("flagged.jsonl"));
  EXPECT_EQ(std::count(flagged.begin(), flagged.end(), '\n'), 2);
  EXPECT_NE(flagged.find("\"trivia/t1\""), std::string::npos);
  EXPECT_NE(flagged.find("\"trivia/t2\""), std::string::npos);

  // check: exit 4 only with --fail-on-hit.
  EXPECT_EQ(RunCommand({CliPath(), "--json", "decon", "check", "--index", dir.Sub("e.ddx"), "what colour is the sky on a clear day"}, &out, &err), 0);
  j = p.parse(out);
  EXPECT_TRUE(bool(j["contaminated"]));
  EXPECT_EQ(RunCommand({CliPath(), "decon", "check", "--index", dir.Sub("e.ddx"), "--fail-on-hit", "blue sky"}, &out, &err), 0);
  EXPECT_EQ(RunCommand({CliPath(), "decon", "check", "--index", dir.Sub("e.ddx"), "--fail-on-hit"}, &out, &err,
                       "WHAT colour is the sky, on a clear day!"), 4);
  // Errors: missing index (1), bad usage (2), bad policy (1, names the value).
  EXPECT_EQ(RunCommand({CliPath(), "decon", "check", "--index", dir.Sub("nope.ddx"), "x"}, &out, &err), 1);
  EXPECT_NE(err.find("nope.ddx"), std::string::npos) << err;
  EXPECT_EQ(RunCommand({CliPath(), "decon", "scan", dir.Sub("corpus.jsonl")}, &out, &err), 2);
  EXPECT_EQ(RunCommand({CliPath(), "decon", "scan", "--index", dir.Sub("e.ddx"), "--policy", "zap", dir.Sub("corpus.jsonl")}, &out, &err), 1);
  EXPECT_NE(err.find("zap"), std::string::npos) << err;

  // A store scan flags the same documents (by doc id here).
  ASSERT_EQ(RunCommand({CliPath(), "-q", "build", dir.Sub("store"), dir.Sub("corpus.jsonl")}, &out, &err), 0) << err;
  ASSERT_EQ(RunCommand({CliPath(), "--json", "decon", "scan", "--index", dir.Sub("e.ddx"), "--store", dir.Sub("store"),
                        "--flagged", dir.Sub("flagged_store.jsonl")}, &out, &err), 0) << err;
  j = p.parse(out);
  EXPECT_EQ(uint64_t(j["flagged_docs"]), 2u);
  std::string fs = test::ReadFile(dir.Sub("flagged_store.jsonl"));
  EXPECT_NE(fs.find("{\"doc\":\"a\",\"doc_id\":0"), std::string::npos) << fs;
  EXPECT_NE(fs.find("{\"doc\":\"c\",\"doc_id\":2"), std::string::npos) << fs;
}

}  // namespace
}  // namespace dedupdb

namespace dedupdb {
namespace {

// Bad corpus lines: the fail policy names file and line; the skip policy
// scans the rest and lists every skipped line (JSON and stderr).
TEST(DeconCli, BadInputPolicyFailsOrListsSkippedLines) {
  test::TempDir dir;
  test::WriteFile(dir.Sub("evals.jsonl"), test::JsonLine("e1", "what colour is the sky on a clear day"));
  test::WriteFile(dir.Sub("corpus.jsonl"),
                  test::JsonLine("a", "what colour is the sky on a clear day") + "{broken\n" + test::JsonLine("c", "fine"));
  std::string out, err;
  ASSERT_EQ(test::RunCommand({test::CliPath(), "-q", "decon", "index", "--out", dir.Sub("e.ddx"), dir.Sub("evals.jsonl")},
                             &out, &err), 0) << err;
  EXPECT_EQ(test::RunCommand({test::CliPath(), "-q", "decon", "scan", "--index", dir.Sub("e.ddx"), dir.Sub("corpus.jsonl")},
                             &out, &err), 1);
  EXPECT_NE(err.find(dir.Sub("corpus.jsonl") + ":2"), std::string::npos) << err;
  ASSERT_EQ(test::RunCommand({test::CliPath(), "-q", "--json", "decon", "scan", "--index", dir.Sub("e.ddx"),
                              "--on-bad-input", "skip", dir.Sub("corpus.jsonl")}, &out, &err), 0) << err;
  simdjson::dom::parser p;
  simdjson::dom::element j = p.parse(out);
  EXPECT_EQ(uint64_t(j["docs"]), 2u);
  EXPECT_EQ(uint64_t(j["flagged_docs"]), 1u);
  simdjson::dom::array skipped = j["skipped"];
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(uint64_t(skipped.at(0)["line"]), 2u);
  EXPECT_NE(err.find("corpus.jsonl:2"), std::string::npos) << err;
}

}  // namespace
}  // namespace dedupdb
