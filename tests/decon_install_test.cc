// The library as a pipeline uses it: install the project into a temporary
// prefix (cmake --install), build docs/example against it with
// find_package(dedupdb), run the C++ and C examples and compare their output
// with the in-process Decontaminator.
#include <gtest/gtest.h>

#include <cstdio>

#include "index/eval_index.h"
#include "index/eval_set.h"
#include "query/decontaminator.h"
#include "storage/json_writer.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

std::string ExpectedLine(const Decontaminator& d, const std::string& text) {
  DeconResult r = d.Check(text);
  if (!r.contaminated()) return "clean\n";
  std::string s = "contaminated";
  for (const auto& e : r.examples)
    s += " " + d.ExampleName(e.example) + ":" + std::to_string(e.grams_matched) + "/" + std::to_string(e.grams_total);
  for (const auto& sp : r.spans) s += " [" + std::to_string(sp.begin) + "," + std::to_string(sp.end) + ")";
  return s + "\n";
}

TEST(DeconInstall, ExampleBuildsAgainstInstalledLibrary) {
  test::TempDir dir;
  std::string build_dir = DirName(test::CliPath());
  std::string out, err;
  // Install (library, headers, CMake package) into a temp prefix.
  int rc = test::RunCommand({"cmake", "--install", build_dir, "--prefix", dir.Sub("prefix")}, &out, &err);
  ASSERT_EQ(rc, 0) << "cmake --install failed:\n" << out << err;
  // Configure and build the example against it.
  std::vector<std::string> configure = {"cmake", "-S", std::string(DEDUPDB_SOURCE_DIR) + "/docs/example",
                                        "-B", dir.Sub("build"), "-DCMAKE_PREFIX_PATH=" + dir.Sub("prefix"),
                                        "-DCMAKE_BUILD_TYPE=Release"};
#if defined(__SANITIZE_ADDRESS__)
  // The installed library was built with the sanitizers: link their runtimes.
  configure.push_back("-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined");
  configure.push_back("-DCMAKE_C_FLAGS=-fsanitize=address,undefined");
  configure.push_back("-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined");
#endif
  rc = test::RunCommand(configure, &out, &err);
  ASSERT_EQ(rc, 0) << "configuring docs/example failed:\n" << out << err;
  rc = test::RunCommand({"cmake", "--build", dir.Sub("build"), "-j2"}, &out, &err);
  ASSERT_EQ(rc, 0) << "building docs/example failed:\n" << out << err;

  // An eval index and texts to check.
  std::string set = "{\"id\":\"q1\",\"text\":\"Which planet in the solar system has the largest number of known moons today?\"}\n"
                    "{\"id\":\"q2\",\"text\":\"Name two gases.\"}\n";
  test::WriteFile(dir.Sub("quiz.jsonl"), set);
  EvalSetSpec spec;
  ASSERT_TRUE(ParseEvalSetArg(dir.Sub("quiz.jsonl"), {}, &spec).ok());
  EvalIndexOptions o;
  o.n = 8;
  ASSERT_TRUE(BuildEvalIndex(Env::Default(), {spec}, o, dir.Sub("e.ddx"), nullptr).ok());
  Decontaminator d;
  ASSERT_TRUE(Decontaminator::Open(dir.Sub("e.ddx"), &d).ok());
  std::vector<std::string> texts = {"nothing here", "Quiz: which planet in the Solar System has the largest number of moons?",
                                    "Q: which planet in the solar system has the largest number of known moons",
                                    "please name two gases."};
  std::string expected;
  for (const std::string& t : texts) expected += ExpectedLine(d, t);
  EXPECT_NE(expected.find("contaminated quiz/q1"), std::string::npos);
  EXPECT_NE(expected.find("contaminated quiz/q2"), std::string::npos);
  for (const char* exe : {"decon_example", "decon_example_c"}) {
    std::vector<std::string> argv = {dir.Sub("build/") + exe, dir.Sub("e.ddx")};
    argv.insert(argv.end(), texts.begin(), texts.end());
    rc = test::RunCommand(argv, &out, &err);
    EXPECT_EQ(rc, 0) << exe << ": " << err;
    EXPECT_EQ(out, expected) << exe;
  }
}

}  // namespace
}  // namespace dedupdb
