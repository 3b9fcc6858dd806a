// Decontaminator::Check and the eval index on small hand-made sets, checked
// against a brute-force oracle (normalised word lists compared directly), plus
// concurrency, the C API, file corruption and purify policies.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "index/eval_index.h"
#include "index/eval_set.h"
#include "query/decon_probe.h"
#include "query/decon_report.h"
#include "query/decon_scan.h"
#include "query/decontaminator.h"
#include "query/decontaminator_c.h"
#include "storage/json_writer.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

using test::JsonLine;

using test::TempDir;
using test::WriteFile;

// Random texts over a small vocabulary, so that n-grams recur.
std::string RandomText(std::mt19937& rng, size_t words) {
  static const char* vocab[] = {"the", "The", "cat", "sat,", "on", "a", "mat.", "dog", "ran", "far", "\xC3\xA9t\xC3\xA9",
                                "and", "then", "(it)", "slept", "--", "We", "go"};
  std::string s;
  for (size_t i = 0; i < words; ++i) {
    if (i) s += (rng() % 7 == 0) ? "\n" : " ";
    s += vocab[rng() % (sizeof(vocab) / sizeof(vocab[0]))];
  }
  return s;
}

struct Built {
  std::vector<std::string> examples;  // by example index
  std::string path;
};

Built BuildSets(const TempDir& dir, std::mt19937& rng, unsigned n, size_t examples_per_set) {
  Built b;
  std::vector<EvalSetSpec> specs;
  for (int s = 0; s < 2; ++s) {
    std::string jsonl;
    for (size_t i = 0; i < examples_per_set; ++i) {
      std::string t;
      std::vector<std::string> w;
      while (w.empty()) {  // examples without words are skipped by the index
        t = RandomText(rng, 1 + rng() % (3 * n));
        WordTokenizer(NormalizationMode::kLmEval).NormalizedWords(t, &w);
      }
      jsonl += JsonLine("e" + std::to_string(i), t);
      b.examples.push_back(t);
    }
    std::string p = dir.Sub("set" + std::to_string(s) + ".jsonl");
    WriteFile(p, jsonl);
    EvalSetSpec spec;
    EXPECT_TRUE(ParseEvalSetArg(p, {}, &spec).ok());
    specs.push_back(spec);
  }
  b.path = dir.Sub("e.ddx");
  EvalIndexOptions o;
  o.n = n;
  Status st = BuildEvalIndex(Env::Default(), specs, o, b.path, nullptr);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return b;
}

// Brute force: example e matches doc iff one of its grams (n consecutive
// normalised words, or all words if fewer) occurs as a contiguous word
// sequence of the doc; returns example -> distinct matched grams.
std::map<uint32_t, std::set<std::vector<std::string>>> Oracle(const std::vector<std::string>& examples,
                                                              const std::string& doc, unsigned n) {
  WordTokenizer tok(NormalizationMode::kLmEval);
  std::vector<std::string> dw;
  tok.NormalizedWords(doc, &dw);
  std::map<uint32_t, std::set<std::vector<std::string>>> out;
  for (uint32_t e = 0; e < examples.size(); ++e) {
    std::vector<std::string> ew;
    tok.NormalizedWords(examples[e], &ew);
    size_t len = std::min<size_t>(n, ew.size());
    if (len == 0) continue;
    for (size_t i = 0; i + len <= ew.size(); ++i) {
      std::vector<std::string> g(ew.begin() + i, ew.begin() + i + len);
      for (size_t j = 0; j + len <= dw.size(); ++j) {
        if (len == n && dw.size() < n) break;
        if (std::equal(g.begin(), g.end(), dw.begin() + j)) {
          out[e].insert(g);
          break;
        }
      }
    }
  }
  return out;
}

TEST(DeconCheck, MatchesBruteForceOracle) {
  std::mt19937 rng(5);
  for (unsigned n : {3u, 5u, 8u}) {
    TempDir dir;
    Built b = BuildSets(dir, rng, n, test::Scaled(40, 15));
    Decontaminator d;
    ASSERT_TRUE(Decontaminator::Open(b.path, &d).ok());
    // Example indices in the file follow the input order (no empty examples
    // in this vocabulary).
    ASSERT_EQ(d.index().num_examples(), b.examples.size());
    for (int t = 0; t < 60; ++t) {
      std::string doc = RandomText(rng, rng() % (4 * n));
      if (t % 3 == 0) doc += " " + b.examples[rng() % b.examples.size()] + " " + RandomText(rng, 3);
      auto expected = Oracle(b.examples, doc, n);
      DeconResult r = d.Check(doc);
      std::map<uint32_t, uint32_t> got;
      for (const DeconExampleHit& h : r.examples) got[h.example] = h.grams_matched;
      ASSERT_EQ(got.size(), expected.size()) << "n=" << n << " doc: " << doc;
      for (const auto& [e, grams] : expected) {
        ASSERT_TRUE(got.count(e)) << "n=" << n << " missing example " << e << " in: " << doc;
        EXPECT_EQ(got[e], grams.size()) << "n=" << n << " example " << e;
      }
      EXPECT_EQ(d.Contains(doc), !expected.empty());
      // Spans lie inside the doc, sorted, disjoint, and each covers words.
      uint64_t last = 0;
      for (const DeconSpan& sp : r.spans) {
        EXPECT_LE(last, sp.begin);
        EXPECT_LT(sp.begin, sp.end);
        EXPECT_LE(sp.end, doc.size());
        last = sp.end + 1;
      }
      EXPECT_EQ(r.spans.empty(), expected.empty());
    }
  }
}

TEST(DeconCheck, SpansAndCoverageOnKnownText) {
  TempDir dir;
  std::string ex = "one two three four five six seven eight nine ten";
  WriteFile(dir.Sub("s.jsonl"), JsonLine("x", ex) + JsonLine("y", "Alpha, beta!"));
  EvalSetSpec spec;
  ASSERT_TRUE(ParseEvalSetArg("myset=" + dir.Sub("s.jsonl"), {}, &spec).ok());
  EXPECT_EQ(spec.name, "myset");
  EvalIndexOptions o;
  o.n = 4;
  EvalIndexBuildStats st;
  ASSERT_TRUE(BuildEvalIndex(Env::Default(), {spec}, o, dir.Sub("e.ddx"), &st).ok());
  EXPECT_EQ(st.examples, 2u);
  EXPECT_EQ(st.short_examples, 1u);
  EXPECT_EQ(st.grams, 7u + 1u);
  Decontaminator d;
  ASSERT_TRUE(Decontaminator::Open(dir.Sub("e.ddx"), &d).ok());
  std::string doc = "xx ONE two, three four! five yy alpha beta zz";
  DeconResult r = d.Check(doc);
  ASSERT_EQ(r.examples.size(), 2u);
  EXPECT_EQ(d.ExampleName(r.examples[0].example), "myset/x");
  EXPECT_EQ(r.examples[0].grams_matched, 2u);  // "one two three four", "two three four five"
  EXPECT_EQ(r.examples[0].grams_total, 7u);
  EXPECT_EQ(d.ExampleName(r.examples[1].example), "myset/y");
  EXPECT_EQ(r.examples[1].grams_matched, 1u);
  ASSERT_EQ(r.spans.size(), 2u);
  EXPECT_EQ(doc.substr(r.spans[0].begin, r.spans[0].end - r.spans[0].begin), "ONE two, three four! five");
  EXPECT_EQ(doc.substr(r.spans[1].begin, r.spans[1].end - r.spans[1].begin), "alpha beta");
  EXPECT_FALSE(d.Check("alpha gamma beta").contaminated());
}

TEST(DeconCheck, ConcurrentChecksEqualSingleThreaded) {
  std::mt19937 rng(9);
  TempDir dir;
  Built b = BuildSets(dir, rng, 6, 50);
  Decontaminator d;
  ASSERT_TRUE(Decontaminator::Open(b.path, &d).ok());
  std::vector<std::string> docs;
  for (int i = 0; i < 300; ++i) {
    std::string doc = RandomText(rng, 5 + rng() % 60);
    if (i % 2) doc += " " + b.examples[rng() % b.examples.size()];
    docs.push_back(doc);
  }
  auto key = [](const DeconResult& r) {
    std::vector<uint64_t> k;
    for (auto& e : r.examples) k.insert(k.end(), {e.example, e.grams_matched});
    for (auto& s : r.spans) k.insert(k.end(), {s.begin, s.end});
    return k;
  };
  std::vector<std::vector<uint64_t>> expected;
  for (const std::string& doc : docs) expected.push_back(key(d.Check(doc)));
  const int threads = 8;
  std::vector<int> mismatches(threads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      DeconResult r;
      for (int round = 0; round < 5; ++round) {
        for (size_t i = (t * 37) % docs.size(), c = 0; c < docs.size(); ++c, i = (i + 1) % docs.size()) {
          d.Check(docs[i], &r);
          if (key(r) != expected[i]) ++mismatches[t];
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  for (int t = 0; t < threads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

TEST(DeconCheck, CApi) {
  TempDir dir;
  WriteFile(dir.Sub("s.jsonl"), JsonLine("q1", "what is the capital of france and why is it paris today"));
  EvalSetSpec spec;
  ASSERT_TRUE(ParseEvalSetArg(dir.Sub("s.jsonl"), {}, &spec).ok());
  EvalIndexOptions o;
  o.n = 5;
  ASSERT_TRUE(BuildEvalIndex(Env::Default(), {spec}, o, dir.Sub("e.ddx"), nullptr).ok());
  char* err = nullptr;
  EXPECT_EQ(dedupdb_decon_open(dir.Sub("missing.ddx").c_str(), &err), nullptr);
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(err).find("missing.ddx"), std::string::npos);
  dedupdb_free_string(err);
  dedupdb_decon_t* d = dedupdb_decon_open(dir.Sub("e.ddx").c_str(), &err);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(dedupdb_decon_ngram(d), 5u);
  EXPECT_EQ(dedupdb_decon_num_examples(d), 1u);
  std::string text = "Q: What is the capital of France? A: Paris.";
  dedupdb_decon_result_t* r = dedupdb_decon_check(d, text.data(), text.size());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->contaminated, 1);
  ASSERT_EQ(r->num_examples, 1u);
  EXPECT_STREQ(r->examples[0].name, "s/q1");
  EXPECT_EQ(r->examples[0].grams_matched, 2u);
  EXPECT_EQ(r->examples[0].grams_total, 8u);
  ASSERT_EQ(r->num_spans, 1u);
  EXPECT_EQ(text.substr(r->spans[0].begin, r->spans[0].end - r->spans[0].begin), "What is the capital of France?");
  dedupdb_decon_result_free(r);
  EXPECT_EQ(dedupdb_decon_contains(d, "nothing here", 12), 0);
  dedupdb_decon_close(d);
}

TEST(DeconCheck, CorruptOrWrongFilesFailCleanly) {
  TempDir dir;
  WriteFile(dir.Sub("s.jsonl"), JsonLine("a", "one two three four five six"));
  EvalSetSpec spec;
  ASSERT_TRUE(ParseEvalSetArg(dir.Sub("s.jsonl"), {}, &spec).ok());
  ASSERT_TRUE(BuildEvalIndex(Env::Default(), {spec}, EvalIndexOptions(), dir.Sub("e.ddx"), nullptr).ok());
  std::string bytes = test::ReadFile(dir.Sub("e.ddx"));
  EXPECT_FALSE(Env::Default()->FileExists(dir.Sub("e.ddx.tmp")));
  // Flip one body byte: checksum mismatch.
  std::string bad = bytes;
  bad[bad.size() / 2] ^= 0x40;
  WriteFile(dir.Sub("bad.ddx"), bad);
  Decontaminator d;
  Status s = Decontaminator::Open(dir.Sub("bad.ddx"), &d);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  // Truncated.
  WriteFile(dir.Sub("short.ddx"), bytes.substr(0, bytes.size() - 9));
  EXPECT_FALSE(Decontaminator::Open(dir.Sub("short.ddx"), &d).ok());
  // Not an eval index.
  WriteFile(dir.Sub("junk.ddx"), std::string(300, 'x'));
  EXPECT_FALSE(Decontaminator::Open(dir.Sub("junk.ddx"), &d).ok());
  // Bad eval input names the file and line.
  WriteFile(dir.Sub("broken.jsonl"), JsonLine("a", "fine") + "{\"id\": \"b\", \"text\": \n");
  ASSERT_TRUE(ParseEvalSetArg(dir.Sub("broken.jsonl"), {}, &spec).ok());
  s = BuildEvalIndex(Env::Default(), {spec}, EvalIndexOptions(), dir.Sub("x.ddx"), nullptr);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("broken.jsonl"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("line 2"), std::string::npos) << s.ToString();
}

// Text-mode indexes written before the word hash changed (format versions
// 1-2) are refused with a clear error naming the rebuild command; a token-mode
// version-2 file (token hashes unchanged) passes the version check.
TEST(DeconCheck, OldWordHashIndexIsRefused) {
  TempDir dir;
  for (uint32_t version : {1u, 2u}) {
    for (uint64_t mode : {0u, 1u, 2u}) {
      if (mode == 2 && version < 2) continue;
      const std::string path = dir.Sub("old" + std::to_string(version) + std::to_string(mode) + ".ddx");
      std::unique_ptr<FileBuilder> fb;
      ASSERT_TRUE(FileBuilder::Create(Env::Default(), path, FileKind::kEvalIndex, version, &fb).ok());
      ASSERT_TRUE(fb->Append(std::string(128, '\0')).ok());
      fb->SetParam(0, 13);
      fb->SetParam(1, mode);
      ASSERT_TRUE(fb->Finish().ok());
      fb.reset();
      Decontaminator d;
      Status s = Decontaminator::Open(path, &d);
      ASSERT_FALSE(s.ok());
      if (mode == 2) {
        EXPECT_TRUE(s.IsCorruption()) << s.ToString();  // gets past the version check, then fails on the empty body
      } else {
        EXPECT_NE(s.message().find("old word hash"), std::string::npos) << s.ToString();
        EXPECT_NE(s.message().find("dedupdb decon index"), std::string::npos) << s.ToString();
      }
    }
  }
}

TEST(DeconCheck, MultipleFieldsJoinedByNewline) {
  TempDir dir;
  WriteFile(dir.Sub("g.jsonl"), "{\"id\":\"1\",\"question\":\"How many eggs\",\"answer\":\"Three eggs.\"}\n"
                                "{\"id\":\"2\",\"question\":\"Only a question\"}\n");
  EvalSetSpec spec;
  ASSERT_TRUE(ParseEvalSetArg(dir.Sub("g.jsonl") + ":question,answer", {}, &spec).ok());
  ASSERT_EQ(spec.fields, (std::vector<std::string>{"question", "answer"}));
  std::vector<std::pair<std::string, std::string>> got;
  ASSERT_TRUE(ReadEvalSet(Env::Default(), spec, [&](uint64_t, std::string_view id, std::string_view text) {
                got.emplace_back(std::string(id), std::string(text));
                return Status::OK();
              }).ok());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].second, "How many eggs\nThree eggs.");
  EXPECT_EQ(got[1].second, "Only a question");
  EXPECT_EQ(got[1].first, "2");
}

TEST(DeconCheck, RemoveSpansKeepsTheRest) {
  std::string text = "0123456789abcdefghijKLMNOPQRSTUVWXYZ";
  std::string out;
  EXPECT_EQ(RemoveSpans(text, {{10, 12}}, 2, &out), 6u);
  EXPECT_EQ(out, "01234567\n" + text.substr(14));
  EXPECT_EQ(RemoveSpans(text, {{0, 3}, {5, 6}}, 1, &out), 7u);
  EXPECT_EQ(out, text.substr(7));
  EXPECT_EQ(RemoveSpans(text, {{30, 36}}, 0, &out), 6u);
  EXPECT_EQ(out, text.substr(0, 30));
}

TEST(DeconCheck, PurifyPolicies) {
  TempDir dir;
  std::string ex = "alpha beta gamma delta epsilon zeta eta theta";
  WriteFile(dir.Sub("s.jsonl"), JsonLine("a", ex));
  EvalSetSpec spec;
  ASSERT_TRUE(ParseEvalSetArg(dir.Sub("s.jsonl"), {}, &spec).ok());
  EvalIndexOptions o;
  o.n = 4;
  ASSERT_TRUE(BuildEvalIndex(Env::Default(), {spec}, o, dir.Sub("e.ddx"), nullptr).ok());
  std::string filler(400, 'x');
  std::string corpus = JsonLine("clean", "nothing to see here") + JsonLine("mostly", "intro " + ex) +
                       JsonLine("long", filler + " " + filler + " alpha beta gamma delta " + filler + " " + filler);
  WriteFile(dir.Sub("c.jsonl"), corpus);
  Decontaminator d;
  ASSERT_TRUE(Decontaminator::Open(dir.Sub("e.ddx"), &d).ok());
  for (PurifyPolicy p : {PurifyPolicy::kDropDoc, PurifyPolicy::kDropSpan, PurifyPolicy::kMark}) {
    DeconScanOptions so;
    so.inputs = {dir.Sub("c.jsonl")};
    so.purify_out = dir.Sub(std::string("p_") + PurifyPolicyName(p) + ".jsonl");
    so.policy = p;
    so.threads = 1;
    DeconAccumulator acc(d.index());
    DeconScanStats st;
    ASSERT_TRUE(RunDeconScan(Env::Default(), d, so, &acc, &st).ok());
    EXPECT_EQ(st.flagged_docs, 2u);
    std::string out = test::ReadFile(so.purify_out);
    EXPECT_NE(out.find("\"clean\""), std::string::npos);
    if (p == PurifyPolicy::kDropDoc) {
      EXPECT_EQ(out.find("\"long\""), std::string::npos);
      EXPECT_EQ(st.dropped_docs, 2u);
    } else if (p == PurifyPolicy::kDropSpan) {
      EXPECT_EQ(out.find("\"mostly\""), std::string::npos);  // > 50% removed: dropped
      EXPECT_NE(out.find("\"long\""), std::string::npos);
      EXPECT_EQ(out.find("alpha"), std::string::npos);
      // the whole "mostly" doc, then 22 bytes of match + 200 context each side.
      EXPECT_EQ(st.removed_bytes, (ex.size() + 6) + 22u + 400u);
    } else {
      EXPECT_NE(out.find("\"mostly\""), std::string::npos);
      EXPECT_NE(out.find("\"decon\""), std::string::npos);
      EXPECT_EQ(st.dropped_docs, 0u);
    }
  }
}

// The filter stage: the AVX-512 kernel lists exactly the windows the scalar
// rolling-hash slide does, for every document length around the vector width
// and the window sizes, against filters dense enough that many windows pass
// (and against the oracle of testing each window's RollingNgramHash directly).
TEST(DeconProbe, Avx512EqualsScalarAndOracle) {
  std::mt19937_64 rng(123);
  for (unsigned log2 : {12u, 16u}) {
    std::vector<uint64_t> gram_words((size_t{1} << log2) / 64), prefix_words(64);
    for (uint64_t& x : gram_words) x = rng() | rng() | rng();  // ~88% of bits set: ~30% pass
    for (uint64_t& x : prefix_words) x = rng() | rng();
    const EvalIndex::Filter gram{gram_words.data(), 64 - (log2 - 6)};
    const EvalIndex::Filter prefix{prefix_words.data(), 64 - 6};
    for (size_t n : {1u, 3u, 8u, 13u}) {
      for (size_t p : {0u, 1u, 4u}) {
        if (p >= n) continue;
        for (size_t w = 0; w < 60; ++w) {
          std::vector<uint64_t> h(w);
          for (uint64_t& x : h) x = rng() % 5 == 0 ? 42 : rng();  // some repeated words
          decon_internal::ProbeScratch a, b;
          decon_internal::ProbeScalar(h.data(), w, n, p, gram, prefix, &a);
          decon_internal::Probe(h.data(), w, n, p, gram, prefix, &b);
          std::vector<uint32_t> og, op;
          for (size_t i = 0; i + n <= w; ++i) if (gram.MayContain(RollingNgramHash(h.data() + i, n))) og.push_back(i);
          for (size_t i = 0; p && i + p <= w; ++i) if (prefix.MayContain(RollingNgramHash(h.data() + i, p))) op.push_back(i);
          ASSERT_EQ(a.gram_cand, og) << n << " " << p << " " << w;
          ASSERT_EQ(a.prefix_cand, op) << n << " " << p << " " << w;
          ASSERT_EQ(b.gram_cand, og) << n << " " << p << " " << w;
          ASSERT_EQ(b.prefix_cand, op) << n << " " << p << " " << w;
        }
      }
    }
    // One long document (many vector blocks, prefetch distance exceeded).
    std::vector<uint64_t> h(test::Scaled(20000, 3000));
    for (uint64_t& x : h) x = rng();
    decon_internal::ProbeScratch a, b;
    decon_internal::ProbeScalar(h.data(), h.size(), 13, 4, gram, prefix, &a);
    decon_internal::Probe(h.data(), h.size(), 13, 4, gram, prefix, &b);
    EXPECT_GT(a.gram_cand.size(), h.size() / 20);
    EXPECT_EQ(a.gram_cand, b.gram_cand);
    EXPECT_EQ(a.prefix_cand, b.prefix_cand);
  }
}

}  // namespace
}  // namespace dedupdb
