// Decontamination scan vs ../shared/tools/ngram_overlap_reference.py (the
// oracle): a corpus of real documents with planted eval examples (whole,
// partially edited, re-cased/re-punctuated, short examples, broken ones) must
// give the identical flagged documents with identical example lists, and the
// identical per-example overlap fractions.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <random>
#include <set>
#include <sstream>

#include "index/eval_index.h"
#include "index/eval_set.h"
#include "query/decon_report.h"
#include "query/decon_scan.h"
#include "query/decontaminator.h"
#include "storage/json_writer.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

using test::JsonLine;

using test::RunCommand;
using test::RunShell;
using test::TempDir;
using test::WriteFile;

// Splits on single spaces (planted text edits work on words).
std::vector<std::string> SplitSpaces(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

std::string Join(const std::vector<std::string>& w) {
  std::string s;
  for (const std::string& x : w) s += (s.empty() ? "" : " ") + x;
  return s;
}

struct Fixture {
  std::vector<std::string> eval_paths;
  std::string corpus_path;
  size_t planted = 0;
};

// Builds eval sets (real benchmark heads + a crafted edge-case set) and a
// corpus (real docs + planted examples) in dir.
Fixture MakeFixture(const TempDir& dir, uint32_t seed) {
  Fixture f;
  const size_t per_set = test::Scaled(150, 40);
  for (const char* name : {"gsm8k_test", "triviaqa_sm_sub", "mmlu_test", "humaneval", "jeopardy_all"}) {
    std::string out = dir.Sub(std::string(name) + ".jsonl");
    std::string cmd = "zstd -dc " + test::SharedDataDir() + "/benchmarks/" + name + ".jsonl.zst | head -n " +
                      std::to_string(per_set) + " > " + out;
    std::string ignored;
    EXPECT_EQ(RunShell(cmd, &ignored), 0);
    f.eval_paths.push_back(out);
  }
  // Crafted: Unicode punctuation / spaces, case, short examples, duplicates.
  std::string crafted;
  crafted += JsonLine("c0", "The QUICK brown fox \xE2\x80\x94 jumps over the lazy dog\xE2\x80\x99s back, again and again until night falls.");
  crafted += JsonLine("c1", "short one here");
  crafted += JsonLine("c2", "Caf\xC3\xA9 au lait, s'il vous pla\xC3\xAEt!\xC2\xA0Merci beaucoup mon ami.");
  crafted += JsonLine("c3", "The QUICK brown fox \xE2\x80\x94 jumps over the lazy dog\xE2\x80\x99s back, again and again until night falls.");
  crafted += JsonLine("c4", "!!! ... ---");  // no words: skipped by both
  crafted += JsonLine("c5", "word");
  crafted += JsonLine("c6", "a\tb\nc  d\xE3\x80\x80" "e f g h i j k l m n o p q r s t u v w x y z");
  WriteFile(dir.Sub("crafted.jsonl"), crafted);
  f.eval_paths.push_back(dir.Sub("crafted.jsonl"));

  // Eval texts to plant (read back with the text field, as the index will).
  std::vector<std::string> examples;
  for (const std::string& p : f.eval_paths) {
    EvalSetSpec spec;
    EXPECT_TRUE(ParseEvalSetArg(p, {}, &spec).ok());
    EXPECT_TRUE(ReadEvalSet(Env::Default(), spec, [&](uint64_t, std::string_view, std::string_view text) {
                  examples.emplace_back(text);
                  return Status::OK();
                }).ok());
  }
  // Real corpus documents.
  std::vector<test::JsonlDoc> docs =
      test::ReadJsonlZstOracle(test::SharedDataDir() + "/corpus/bbc_news.jsonl.zst", test::Scaled(300, 60));
  std::mt19937 rng(seed);
  std::string corpus;
  size_t d = 0;
  auto host = [&]() -> const std::string& { return docs[(d++) % docs.size()].text; };
  for (const test::JsonlDoc& doc : docs) corpus += JsonLine("real/" + doc.id, doc.text);
  for (size_t k = 0; k < test::Scaled(120, 40); ++k) {
    const std::string& ex = examples[rng() % examples.size()];
    std::vector<std::string> w = SplitSpaces(ex);
    std::string planted;
    int kind = static_cast<int>(k % 6);
    switch (kind) {
      case 0:  // whole example inside a real document
        planted = host().substr(0, 300) + "\n" + ex + "\n" + host().substr(0, 200);
        break;
      case 1: {  // partially edited: every 9th word replaced
        for (size_t i = 4; i < w.size(); i += 9) w[i] = "EDITED" + std::to_string(i);
        planted = host().substr(0, 100) + " " + Join(w);
        break;
      }
      case 2: {  // re-cased and re-punctuated (normalisation must absorb it)
        std::string t = ex;
        for (char& c : t) {
          if (c >= 'a' && c <= 'z' && rng() % 3 == 0) c = static_cast<char>(c - 32);
        }
        planted = "\"" + t + "\"!!";
        break;
      }
      case 3: {  // only a middle piece of the example
        size_t from = w.size() / 3, to = std::min(w.size(), from + 15);
        planted = "Intro text. " + Join(std::vector<std::string>(w.begin() + from, w.begin() + to)) + " outro.";
        break;
      }
      case 4: {  // broken: a word changed every 6 words (no 13-gram survives)
        for (size_t i = 0; i < w.size(); i += 6) w[i] = "zz" + std::to_string(i);
        planted = Join(w);
        break;
      }
      default:  // two examples in one doc
        planted = ex + "\n\n" + examples[rng() % examples.size()];
    }
    corpus += JsonLine("planted/" + std::to_string(k), planted);
    ++f.planted;
  }
  // Docs shorter than n that contain a short example, and an empty-ish doc.
  corpus += JsonLine("short/1", "short ONE here.");
  corpus += JsonLine("short/2", "a word");
  corpus += JsonLine("short/3", "...");
  f.corpus_path = dir.Sub("corpus.jsonl");
  WriteFile(f.corpus_path, corpus);
  return f;
}

TEST(DeconReference, ScanMatchesPythonReference) {
  if (!test::HaveSharedData("benchmarks/gsm8k_test.jsonl.zst") || !test::HaveSharedData("corpus/bbc_news.jsonl.zst"))
    GTEST_SKIP() << "../shared/data missing";
  TempDir dir;
  Fixture f = MakeFixture(dir, 42);

  // Oracle.
  std::vector<std::string> argv = {"/usr/bin/python3", test::SharedToolsDir() + "/ngram_overlap_reference.py", "--evals"};
  for (const std::string& p : f.eval_paths) argv.push_back(p);
  argv.insert(argv.end(), {"--corpus", f.corpus_path, "--out", dir.Sub("ref.json")});
  std::string out, err;
  ASSERT_EQ(RunCommand(argv, &out, &err), 0) << err;
  simdjson::dom::parser parser;
  simdjson::dom::element ref = parser.load(dir.Sub("ref.json"));

  // Ours.
  std::vector<EvalSetSpec> specs;
  for (const std::string& p : f.eval_paths) {
    EvalSetSpec s;
    ASSERT_TRUE(ParseEvalSetArg(p, {}, &s).ok());
    specs.push_back(s);
  }
  EvalIndexOptions io;
  ASSERT_TRUE(BuildEvalIndex(Env::Default(), specs, io, dir.Sub("evals.ddx"), nullptr).ok());
  Decontaminator d;
  ASSERT_TRUE(Decontaminator::Open(dir.Sub("evals.ddx"), &d).ok());
  DeconScanOptions so;
  so.inputs = {f.corpus_path};
  so.flagged_out = dir.Sub("flagged.jsonl");
  so.threads = 2;
  DeconAccumulator acc(d.index());
  DeconScanStats st;
  Status s = RunDeconScan(Env::Default(), d, so, &acc, &st);
  ASSERT_TRUE(s.ok()) << s.ToString();

  // Flagged docs and their examples.
  std::map<std::string, std::set<std::string>> expected, actual;
  for (simdjson::dom::element fd : ref["flagged_docs"].get_array()) {
    std::set<std::string>& ex = expected[std::string(std::string_view(fd["doc"]))];
    for (simdjson::dom::element e : fd["examples"].get_array()) ex.insert(std::string(std::string_view(e)));
  }
  simdjson::dom::parser line_parser;
  std::istringstream flagged(test::ReadFile(dir.Sub("flagged.jsonl")));
  std::string line;
  while (std::getline(flagged, line)) {
    simdjson::dom::element fd = line_parser.parse(line);
    std::set<std::string>& ex = actual[std::string(std::string_view(fd["doc"]))];
    for (simdjson::dom::element e : fd["examples"].get_array()) ex.insert(std::string(std::string_view(e["name"])));
  }
  EXPECT_GT(expected.size(), f.planted / 2) << "fixture should flag most planted docs";
  EXPECT_EQ(actual, expected);
  EXPECT_EQ(st.flagged_docs, expected.size());

  // Per-example fractions and per-set contaminated counts.
  DeconReport rep = ComputeDeconReport(acc, DeconReportOptions());
  std::map<std::string, double> ours;
  for (const DeconExampleRow& r : rep.examples) ours[d.ExampleName(r.example)] = r.fraction;
  std::map<std::string, double> theirs;
  for (auto [set_name, set] : ref["sets"].get_object()) {
    uint64_t contaminated = set["contaminated"].get_uint64();
    uint64_t examples = set["examples"].get_uint64();
    bool found = false;
    for (const DeconSetRow& row : rep.sets) {
      if (row.name != set_name) continue;
      found = true;
      EXPECT_EQ(row.contaminated_any, contaminated) << set_name;
      EXPECT_EQ(row.examples, examples) << set_name;
    }
    EXPECT_TRUE(found) << set_name;
    for (auto [ex_id, frac] : set["fractions"].get_object()) {
      theirs[std::string(set_name) + "/" + std::string(ex_id)] = frac.get_double();
    }
  }
  ASSERT_EQ(ours.size(), theirs.size());
  for (const auto& [name, frac] : theirs) {
    ASSERT_TRUE(ours.count(name)) << name;
    EXPECT_NEAR(ours[name], frac, 6e-5) << name;
  }
}

}  // namespace
}  // namespace dedupdb
