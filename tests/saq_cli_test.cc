// `dedupdb search`, `longest` and `count-batch` end to end: --json output
// checked against brute-force scans, exit codes for bad command lines and
// missing stores.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/saq_fixture.h"

namespace dedupdb {
namespace {

using saq_test::Corpus;

class SaqCli : public ::testing::Test {
 protected:
  void SetUp() override {
    docs_ = {"the cat sat on the mat", "a dog and a cat", "the dog barked", "New York is big",
             "cats and dogs in New York", "nothing here"};
    ASSERT_NO_FATAL_FAILURE(saq_test::BuildCorpus(docs_, 40, &c_));
  }
  int Run(std::vector<std::string> args, std::string* out, std::string* err = nullptr, const std::string& in = "") {
    args.insert(args.begin(), test::CliPath());
    return test::RunCommand(args, out, err, in);
  }
  std::vector<std::string> docs_;
  Corpus c_;
  simdjson::dom::parser parser_;
};

TEST_F(SaqCli, SearchJson) {
  std::string out, err;
  ASSERT_EQ(Run({"--json", "search", c_.store_dir(), "--cnf", "cat OR dog AND \"New York\" OR the", "--limit", "2"},
                &out, &err),
            0)
      << err;
  simdjson::dom::element doc = parser_.parse(out);
  // Oracle: (cat|dog) & (New York|the).
  std::vector<uint64_t> want;
  for (size_t d = 0; d < docs_.size(); ++d) {
    auto has = [&](const char* t) { return docs_[d].find(t) != std::string::npos; };
    if ((has("cat") || has("dog")) && (has("New York") || has("the"))) want.push_back(d);
  }
  EXPECT_EQ(uint64_t(doc["num_docs"]), want.size());
  simdjson::dom::array hits = doc["docs"];
  ASSERT_EQ(hits.size(), 2u);
  size_t k = 0;
  for (simdjson::dom::element h : hits) {
    EXPECT_EQ(uint64_t(h["doc_id"]), want[k]);
    EXPECT_EQ(std::string(std::string_view(h["external_id"])), "d" + std::to_string(want[k]));
    ++k;
  }
  // Repeated --clause gives the same answer.
  std::string out2;
  ASSERT_EQ(Run({"--json", "search", c_.store_dir(), "--clause", "cat | dog", "--clause", "\"New York\" OR the"}, &out2),
            0);
  EXPECT_EQ(uint64_t(parser_.parse(out2)["num_docs"]), want.size());
}

TEST_F(SaqCli, SearchErrors) {
  std::string out, err;
  EXPECT_EQ(Run({"search", c_.store_dir(), "--cnf", "cat AND"}, &out, &err), 2);
  EXPECT_NE(err.find("ends with an operator"), std::string::npos) << err;
  EXPECT_EQ(Run({"search", c_.store_dir()}, &out, &err), 2);
  EXPECT_EQ(Run({"search", c_.dir->Sub("nope"), "--cnf", "x"}, &out, &err), 1);
  EXPECT_EQ(Run({"search", c_.store_dir(), "--cnf", "x", "--name", "missing"}, &out, &err), 1);
  EXPECT_EQ(Run({"--json", "search", c_.store_dir(), "--cnf", "\"open"}, &out, &err), 2);
  simdjson::dom::element e = parser_.parse(out);
  EXPECT_FALSE(bool(e["ok"]));
}

TEST_F(SaqCli, LongestJson) {
  std::string text = "xx the dog barked at the mat!";
  std::string out, err;
  ASSERT_EQ(Run({"--json", "longest", c_.store_dir(), "--text", text, "--min-len", "5", "--per-position"}, &out, &err),
            0)
      << err;
  simdjson::dom::element doc = parser_.parse(out);
  std::vector<uint64_t> ms = saq_test::OracleMatchingStatistics(docs_, text);
  simdjson::dom::array arr = doc["match_length"];
  ASSERT_EQ(arr.size(), text.size());
  size_t i = 0;
  for (simdjson::dom::element v : arr) EXPECT_EQ(uint64_t(v), ms[i++]) << i;
  // "the dog barked" is the whole of doc 2.
  bool found = false;
  for (simdjson::dom::element s : simdjson::dom::array(doc["spans"])) {
    if (std::string_view(s["text"]).find("the dog barked") != std::string_view::npos) {
      found = true;
      simdjson::dom::array locs = s["locations"];
      ASSERT_GE(locs.size(), 1u);
      EXPECT_EQ(uint64_t((*locs.begin())["doc_id"]), 2u);
      EXPECT_EQ(std::string(std::string_view((*locs.begin())["external_id"])), "d2");
    }
  }
  EXPECT_TRUE(found) << out;
  // --file - reads stdin and gives the same spans.
  std::string out2;
  ASSERT_EQ(Run({"--json", "longest", c_.store_dir(), "--file", "-", "--min-len", "5"}, &out2, &err, text), 0) << err;
  EXPECT_EQ(simdjson::dom::array(parser_.parse(out2)["spans"]).size(),
            simdjson::dom::array(parser_.parse(out)["spans"]).size());
  EXPECT_EQ(Run({"longest", c_.store_dir()}, &out, &err), 2);
  EXPECT_EQ(Run({"longest", c_.store_dir(), "--file", c_.dir->Sub("missing.txt")}, &out, &err), 1);
  EXPECT_NE(err.find("missing.txt"), std::string::npos) << err;
}

TEST_F(SaqCli, CountBatchLinesAndJsonl) {
  std::vector<std::string> qs = {"the", "cat", "New York", "zebra", "t", "dog", "e d"};
  std::string lines, jsonl;
  for (const auto& q : qs) {
    lines += q + "\r\n\n";  // CRLF and blank lines are tolerated
    jsonl += "{\"text\":\"" + q + "\",\"id\":1}\n";
  }
  test::WriteFile(c_.dir->Sub("q.txt"), lines);
  test::WriteFile(c_.dir->Sub("q.jsonl"), jsonl);
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"q.txt"}, {"q.jsonl"}, {"q.txt", "--no-io-uring"}, {"q.txt", "--one-by-one"}}) {
    std::vector<std::string> args = {"--json", "-q", "count-batch", c_.store_dir(), c_.dir->Sub(extra[0])};
    args.insert(args.end(), extra.begin() + 1, extra.end());
    std::string out, err;
    ASSERT_EQ(Run(args, &out, &err), 0) << err;
    simdjson::dom::element doc = parser_.parse(out);
    simdjson::dom::array res = doc["results"];
    ASSERT_EQ(res.size(), qs.size()) << out;
    size_t i = 0;
    for (simdjson::dom::element r : res) {
      EXPECT_EQ(std::string(std::string_view(r["query"])), qs[i]);
      EXPECT_EQ(uint64_t(r["count"]), saq_test::OracleCount(docs_, qs[i])) << qs[i] << " " << extra.back();
      ++i;
    }
  }
  // Text output, from stdin.
  std::string out, err;
  ASSERT_EQ(Run({"-q", "count-batch", c_.store_dir(), "-"}, &out, &err, "cat\nzebra\n"), 0) << err;
  EXPECT_EQ(out, std::to_string(saq_test::OracleCount(docs_, "cat")) + "\tcat\n0\tzebra\n");
  // Malformed JSONL names the file and line.
  test::WriteFile(c_.dir->Sub("bad.jsonl"), "{\"text\":\"ok\"}\n{\"text\": 5}\n");
  EXPECT_EQ(Run({"count-batch", c_.store_dir(), c_.dir->Sub("bad.jsonl")}, &out, &err), 1);
  EXPECT_NE(err.find("bad.jsonl"), std::string::npos) << err;
  EXPECT_EQ(Run({"count-batch", c_.store_dir(), c_.dir->Sub("q.txt"), "--format", "xml"}, &out, &err), 2);
}

}  // namespace
}  // namespace dedupdb
