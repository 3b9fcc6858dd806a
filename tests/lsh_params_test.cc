// LSH band selection against the Python reference (the oracle for the
// datasketch-style optimisation) and hand-checked S-curve values.
#include <cmath>

#include <gtest/gtest.h>

#include "index/lsh_params.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

TEST(LshParams, CandidateProbabilityHandChecked) {
  EXPECT_DOUBLE_EQ(CandidateProbability(0.5, 1, 1), 0.5);
  EXPECT_DOUBLE_EQ(CandidateProbability(0.5, 2, 1), 0.75);
  EXPECT_NEAR(CandidateProbability(0.8, 9, 13), 1 - std::pow(1 - std::pow(0.8, 13), 9), 1e-15);
  EXPECT_DOUBLE_EQ(CandidateProbability(1.0, 9, 13), 1.0);
  EXPECT_DOUBLE_EQ(CandidateProbability(0.0, 9, 13), 0.0);
}

TEST(LshParams, MatchesPythonReference) {
  const std::string tool = test::SharedToolsDir() + "/minhash_reference.py";
  std::string probe;
  if (test::RunCommand({"/usr/bin/python3", "-c", "import numpy"}, &probe) != 0 ||
      test::RunCommand({"/usr/bin/test", "-f", tool}, &probe) != 0) {
    GTEST_SKIP() << "python3 with numpy or " << tool << " not available: no oracle";
  }
  struct Case {
    double t;
    unsigned k;
  };
  for (Case c : {Case{0.5, 128}, Case{0.8, 128}, Case{0.8, 112}}) {
    std::string out;
    ASSERT_EQ(test::RunCommand({"/usr/bin/python3", tool, "params", "--threshold", std::to_string(c.t),
                                "--num-perm", std::to_string(c.k)},
                               &out),
              0);
    LshBands b = OptimalBands(c.t, c.k);
    std::string expect = "{\"bands\": " + std::to_string(b.bands) + ", \"rows\": " + std::to_string(b.rows) + "}";
    EXPECT_EQ(out.substr(0, out.find('\n')), expect) << "threshold " << c.t << " K " << c.k;
  }
}

TEST(LshParams, CheckBandsRejectsOversized) {
  EXPECT_TRUE(CheckBands({9, 13}, 128).ok());
  EXPECT_FALSE(CheckBands({10, 13}, 128).ok());
  EXPECT_FALSE(CheckBands({0, 13}, 128).ok());
  EXPECT_NE(SCurveTable({9, 13}).find("0.80"), std::string::npos);
}


TEST(LshParams, FalseNegativeWeightFavoursRecall) {
  // Weighting false negatives moves the S-curve left: more recall at and
  // above the threshold, more candidates below it.
  for (double t : {0.7, 0.8, 0.9}) {
    LshBands even = OptimalBands(t, 128), recall = OptimalBands(t, 128, 0.1, 0.9);
    EXPECT_GT(CandidateProbability(t, recall.bands, recall.rows), CandidateProbability(t, even.bands, even.rows)) << t;
    EXPECT_GE(CandidateProbability(t - 0.2, recall.bands, recall.rows),
              CandidateProbability(t - 0.2, even.bands, even.rows)) << t;
    EXPECT_TRUE(CheckBands(recall, 128).ok());
  }
}

}  // namespace
}  // namespace dedupdb
