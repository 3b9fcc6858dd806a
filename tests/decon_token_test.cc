// Token-mode decontamination: eval examples as token-id arrays, checked with
// Decontaminator::CheckTokens (and the C API, and `decon scan --tokens` over
// .bin / .npy corpora) against a brute force: every n-gram of every example
// compared with every window of every document, examples shorter than n
// matched whole.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "index/eval_index.h"
#include "index/eval_set.h"
#include "index/sa_builder.h"
#include "index/token_file.h"
#include "query/decontaminator.h"
#include "query/decontaminator_c.h"
#include "query/decon_report.h"
#include "query/decon_sa_report.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

using test::TempDir;
using Tokens = std::vector<uint32_t>;

constexpr uint32_t kSep = 0;

struct Fixture {
  std::vector<Tokens> examples;  // eval examples, in file order (ids "t0", "t1", ...)
  std::vector<Tokens> docs;      // corpus documents (no separator inside)
  std::string set_path;
};

// Random examples of 1..3n tokens (some shorter than n) over ids 1..vocab-1,
// and documents of random tokens with whole examples, n-token slices of
// examples and short examples planted.
Fixture MakeFixture(const TempDir& dir, std::mt19937& rng, unsigned n, size_t num_examples, size_t num_docs,
                    uint32_t vocab) {
  Fixture f;
  auto tok = [&] { return 1 + static_cast<uint32_t>(rng() % (vocab - 1)); };
  std::string jsonl;
  for (size_t i = 0; i < num_examples; ++i) {
    size_t len = 1 + rng() % (3 * n);
    if (i % 4 == 0) len = 1 + rng() % std::max(1u, n - 1);  // shorter than n
    Tokens e(len);
    for (uint32_t& t : e) t = tok();
    // Tokens split over two fields: the example is their concatenation.
    size_t cut = rng() % (len + 1);
    std::string a, b;
    for (size_t k = 0; k < len; ++k) {
      std::string& s = k < cut ? a : b;
      if (!s.empty()) s += ",";
      s += std::to_string(e[k]);
    }
    jsonl += "{\"id\": \"t" + std::to_string(i) + "\", \"q\": [" + a + "], \"a\": [" + b + "]}\n";
    f.examples.push_back(e);
  }
  f.set_path = dir.Sub("toks.jsonl");
  test::WriteFile(f.set_path, jsonl);
  for (size_t d = 0; d < num_docs; ++d) {
    Tokens doc(rng() % (8 * n));
    for (uint32_t& t : doc) t = tok();
    if (d % 3 == 0 && !f.examples.empty()) {
      const Tokens& e = f.examples[rng() % f.examples.size()];
      size_t at = doc.empty() ? 0 : rng() % doc.size();
      if (d % 2 == 0 || e.size() <= n) {
        doc.insert(doc.begin() + at, e.begin(), e.end());  // whole
      } else {
        size_t from = rng() % (e.size() - n + 1);  // an n-token slice
        doc.insert(doc.begin() + at, e.begin() + from, e.begin() + from + n);
      }
    }
    f.docs.push_back(doc);
  }
  return f;
}

// Brute force: per example (index into f.examples) the distinct grams found,
// and the union of matching windows as token spans.
struct OracleResult {
  std::map<size_t, std::pair<uint32_t, uint32_t>> examples;  // example -> (matched, total)
  std::vector<std::pair<uint64_t, uint64_t>> spans;
};

OracleResult BruteForce(const std::vector<Tokens>& examples, const Tokens& doc, unsigned n) {
  OracleResult r;
  std::vector<std::pair<uint64_t, uint64_t>> windows;
  for (size_t e = 0; e < examples.size(); ++e) {
    const Tokens& ex = examples[e];
    const size_t len = std::min<size_t>(n, ex.size());
    std::set<Tokens> grams;
    for (size_t i = 0; i + len <= ex.size(); ++i) grams.insert(Tokens(ex.begin() + i, ex.begin() + i + len));
    std::set<Tokens> found;
    for (size_t w = 0; w + len <= doc.size(); ++w) {
      Tokens win(doc.begin() + w, doc.begin() + w + len);
      if (!grams.count(win)) continue;
      found.insert(win);
      windows.push_back({w, w + len});
    }
    if (!found.empty()) r.examples[e] = {static_cast<uint32_t>(found.size()), static_cast<uint32_t>(grams.size())};
  }
  std::sort(windows.begin(), windows.end());
  for (const auto& w : windows) {
    if (!r.spans.empty() && w.first <= r.spans.back().second) r.spans.back().second = std::max(r.spans.back().second, w.second);
    else r.spans.push_back(w);
  }
  return r;
}

std::string BuildIndex(const TempDir& dir, const Fixture& f, unsigned n) {
  EvalSetSpec spec;
  spec.path = f.set_path;
  spec.name = "toks";
  spec.fields = {"q", "a"};
  EvalIndexOptions io;
  io.n = n;
  io.tokens = true;
  std::string path = dir.Sub("toks_" + std::to_string(n) + ".ddx");
  EvalIndexBuildStats st;
  Status s = BuildEvalIndex(Env::Default(), {spec}, io, path, &st);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(st.examples, f.examples.size());
  return path;
}

// Maps index example ids to fixture example indexes via the external ids.
std::vector<size_t> ExampleMap(const EvalIndex& idx) {
  std::vector<size_t> m(idx.num_examples());
  for (uint32_t i = 0; i < idx.num_examples(); ++i) m[i] = std::stoul(std::string(idx.example(i).id.substr(1)));
  return m;
}

class DeconTokenTest : public ::testing::TestWithParam<unsigned> {};

TEST_P(DeconTokenTest, CheckTokensMatchesBruteForce) {
  const unsigned n = GetParam();
  TempDir dir;
  std::mt19937 rng(1234 + n);
  // A small vocabulary for small n, so that chance matches occur too.
  Fixture f = MakeFixture(dir, rng, n, test::Scaled(60, 25), test::Scaled(300, 80), n <= 3 ? 40 : 5000);
  Decontaminator d;
  ASSERT_TRUE(Decontaminator::Open(BuildIndex(dir, f, n), &d).ok());
  ASSERT_TRUE(d.index().token_mode());
  ASSERT_EQ(d.index().n(), n);
  const std::vector<size_t> ex_map = ExampleMap(d.index());
  size_t contaminated = 0;
  DeconResult r;
  for (size_t k = 0; k < f.docs.size(); ++k) {
    const Tokens& doc = f.docs[k];
    OracleResult want = BruteForce(f.examples, doc, n);
    d.CheckTokens(doc.data(), doc.size(), &r);
    std::map<size_t, std::pair<uint32_t, uint32_t>> got;
    for (const DeconExampleHit& e : r.examples) got[ex_map[e.example]] = {e.grams_matched, e.grams_total};
    EXPECT_EQ(got, want.examples) << "doc " << k;
    std::vector<std::pair<uint64_t, uint64_t>> spans;
    for (const DeconSpan& s : r.spans) spans.push_back({s.begin, s.end});
    EXPECT_EQ(spans, want.spans) << "doc " << k;
    EXPECT_EQ(d.ContainsTokens(doc.data(), doc.size()), !want.examples.empty()) << "doc " << k;
    EXPECT_EQ(r.num_words, doc.size());
    contaminated += !want.examples.empty();
  }
  EXPECT_GT(contaminated, f.docs.size() / 5);  // the planted ones at least
  EXPECT_LT(contaminated, f.docs.size());
  // A text check on a token index finds nothing (and does not crash).
  EXPECT_FALSE(d.Check("1 2 3 4 5 6 7 8 9 10 11 12 13 14").contaminated());
}

INSTANTIATE_TEST_SUITE_P(N, DeconTokenTest, ::testing::Values(3u, 13u));

TEST(DeconToken, CApiMatchesCpp) {
  TempDir dir;
  std::mt19937 rng(7);
  Fixture f = MakeFixture(dir, rng, 13, 20, 40, 3000);
  std::string path = BuildIndex(dir, f, 13);
  Decontaminator d;
  ASSERT_TRUE(Decontaminator::Open(path, &d).ok());
  char* err = nullptr;
  dedupdb_decon_t* c = dedupdb_decon_open(path.c_str(), &err);
  ASSERT_NE(c, nullptr) << (err ? err : "");
  EXPECT_EQ(dedupdb_decon_token_mode(c), 1);
  DeconResult r;
  size_t flagged = 0;
  for (const Tokens& doc : f.docs) {
    d.CheckTokens(doc.data(), doc.size(), &r);
    dedupdb_decon_result_t* cr = dedupdb_decon_check_tokens(c, doc.data(), doc.size());
    ASSERT_NE(cr, nullptr);
    EXPECT_EQ(cr->contaminated, r.contaminated() ? 1 : 0);
    ASSERT_EQ(cr->num_examples, r.examples.size());
    for (size_t i = 0; i < r.examples.size(); ++i) {
      EXPECT_EQ(cr->examples[i].example, r.examples[i].example);
      EXPECT_EQ(std::string(cr->examples[i].name), d.ExampleName(r.examples[i].example));
    }
    ASSERT_EQ(cr->num_spans, r.spans.size());
    for (size_t i = 0; i < r.spans.size(); ++i) EXPECT_EQ(cr->spans[i].end, r.spans[i].end);
    EXPECT_EQ(dedupdb_decon_contains_tokens(c, doc.data(), doc.size()), r.contaminated() ? 1 : 0);
    flagged += r.contaminated();
    dedupdb_decon_result_free(cr);
  }
  EXPECT_GT(flagged, 0u);
  dedupdb_decon_close(c);
}

TEST(DeconToken, BadTokenArrayNamesFileAndLine) {
  TempDir dir;
  std::string p = dir.Sub("bad.jsonl");
  test::WriteFile(p, "{\"id\": 1, \"tokens\": [1, 2, 3]}\n{\"id\": 2, \"tokens\": [4, -5]}\n");
  EvalSetSpec spec;
  spec.path = p;
  spec.name = "bad";
  spec.fields = {"tokens"};
  EvalIndexOptions io;
  io.tokens = true;
  Status s = BuildEvalIndex(Env::Default(), {spec}, io, dir.Sub("x.ddx"), nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("bad.jsonl: line 2"), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find("element 1"), std::string::npos) << s.ToString();
  test::WriteFile(p, "{\"id\": 1, \"tokens\": \"1 2 3\"}\n");
  s = BuildEvalIndex(Env::Default(), {spec}, io, dir.Sub("x.ddx"), nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("not an array of token ids"), std::string::npos) << s.ToString();
}

// Writes docs as one flat token file: .bin (u16) or .npy (u32), each doc
// followed by the separator (the last one without, when drop_last_sep).
std::string WriteTokenFile(const std::string& path, const std::vector<Tokens>& docs, unsigned width, bool drop_last_sep) {
  std::string body;
  for (size_t d = 0; d < docs.size(); ++d) {
    Tokens t = docs[d];
    if (!(drop_last_sep && d + 1 == docs.size())) t.push_back(kSep);
    for (uint32_t v : t) body.append(reinterpret_cast<const char*>(&v), width);
  }
  if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0) {
    std::string h = "{'descr': '<u" + std::to_string(width) + "', 'fortran_order': False, 'shape': (" +
                    std::to_string(body.size() / width) + ",), }";
    while ((10 + h.size() + 1) % 64 != 0) h += ' ';
    h += '\n';
    std::string head("\x93NUMPY\x01\x00", 8);
    head.push_back(static_cast<char>(h.size() & 0xff));
    head.push_back(static_cast<char>(h.size() >> 8));
    body = head + h + body;
  }
  test::WriteFile(path, body);
  return path;
}

// A set given as a glob over several files keeps every file's examples
// (records are keyed by file and line, not line alone).
TEST(DeconToken, GlobSetKeepsEveryFile) {
  TempDir dir;
  test::WriteFile(dir.Sub("p1.jsonl"), "{\"id\": \"a\", \"tokens\": [1, 2]}\n{\"id\": \"b\", \"tokens\": [3]}\n");
  test::WriteFile(dir.Sub("p2.jsonl"), "{\"id\": \"c\", \"tokens\": [4, 5, 6]}\n");
  EvalSetSpec spec;
  ASSERT_TRUE(ParseEvalSetArg("parts=" + dir.path() + "/p*.jsonl:tokens", {}, &spec).ok());
  spec.tokens = true;
  std::vector<std::pair<std::string, size_t>> got;
  ASSERT_TRUE(ReadEvalSet(Env::Default(), spec, [&](uint64_t, std::string_view id, std::string_view text) {
                got.push_back({std::string(id), text.size() / 4});
                return Status::OK();
              }).ok());
  EXPECT_EQ(got, (std::vector<std::pair<std::string, size_t>>{{"a", 2}, {"b", 1}, {"c", 3}}));
}

TEST(DeconToken, TokenFileValidation) {
  TempDir dir;
  std::vector<Tokens> docs = {{1, 2, 3}, {4, 5}};
  TokenFile tf;
  std::string npy = WriteTokenFile(dir.Sub("t.npy"), docs, 4, false);
  ASSERT_TRUE(TokenFile::Open(Env::Default(), npy, 0, &tf).ok());
  EXPECT_EQ(tf.token_bytes, 4u);
  EXPECT_EQ(tf.count, 7u);
  std::vector<uint32_t> ids;
  std::string raw;
  ASSERT_TRUE(ReadTokenIds(*tf.file, tf.data_offset, tf.token_bytes, 3, 4, &ids, &raw).ok());
  EXPECT_EQ(ids, (std::vector<uint32_t>{kSep, 4, 5, kSep}));
  Status s = TokenFile::Open(Env::Default(), npy, 2, &tf);
  EXPECT_NE(s.ToString().find("dtype is u32 but --dtype says u16"), std::string::npos) << s.ToString();
  std::string bin = WriteTokenFile(dir.Sub("t.bin"), docs, 2, false);
  test::WriteFile(bin, test::ReadFile(bin) + "x");  // a trailing partial token
  s = TokenFile::Open(Env::Default(), bin, 2, &tf);
  EXPECT_NE(s.ToString().find("trailing partial token at byte offset 14"), std::string::npos) << s.ToString();
  s = TokenFile::Open(Env::Default(), bin, 0, &tf);
  EXPECT_NE(s.ToString().find("--dtype u16 or u32"), std::string::npos) << s.ToString();
  // A truncated read names the offset.
  ASSERT_TRUE(TokenFile::Open(Env::Default(), npy, 4, &tf).ok());
  EXPECT_FALSE(ReadTokenIds(*tf.file, tf.data_offset, 4, 6, 2, &ids, &raw).ok());
}

TEST(DeconToken, ScanCliMatchesBruteForce) {
  TempDir dir;
  std::mt19937 rng(99);
  const unsigned n = 13;
  Fixture f = MakeFixture(dir, rng, n, 30, test::Scaled(200, 60), 60000);
  std::string out, err;
  const std::string index = dir.Sub("cli.ddx");
  ASSERT_EQ(test::RunCommand({test::CliPath(), "-q", "decon", "index", "--tokens", "--out", index, "toks=" + f.set_path + ":q,a"},
                             &out, &err), 0) << err;
  // Oracle: flagged doc numbers and the drop-doc purified corpus.
  std::set<uint64_t> want_flagged;
  std::vector<Tokens> kept;
  for (size_t k = 0; k < f.docs.size(); ++k) {
    if (!BruteForce(f.examples, f.docs[k], n).examples.empty()) want_flagged.insert(k);
    else kept.push_back(f.docs[k]);
  }
  ASSERT_FALSE(want_flagged.empty());
  struct Case {
    std::string file;
    unsigned width;
    bool drop_last_sep;
    std::vector<std::string> dtype;
  };
  for (const Case& c : {Case{"c.bin", 2, false, {"--dtype", "u16"}}, Case{"c.npy", 4, true, {}}}) {
    std::string corpus = WriteTokenFile(dir.Sub(c.file), f.docs, c.width, c.drop_last_sep);
    std::vector<std::string> argv = {test::CliPath(), "-q", "--json", "decon", "scan", "--index", index, "--tokens", corpus,
                                     "--separator", "0", "--flagged", dir.Sub("flagged.jsonl"), "--purify", dir.Sub("clean.bin"),
                                     "--threads", "2"};
    argv.insert(argv.end(), c.dtype.begin(), c.dtype.end());
    ASSERT_EQ(test::RunCommand(argv, &out, &err), 0) << c.file << ": " << err;
    EXPECT_NE(out.find("\"docs\":" + std::to_string(f.docs.size()) + ","), std::string::npos) << out;
    std::set<uint64_t> got;
    std::string flagged = test::ReadFile(dir.Sub("flagged.jsonl"));
    for (size_t pos = 0; (pos = flagged.find("{\"doc\":", pos)) != std::string::npos; pos += 7) {
      got.insert(std::stoull(flagged.substr(pos + 7)));
    }
    EXPECT_EQ(got, want_flagged) << c.file;
    std::string clean = test::ReadFile(dir.Sub("clean.bin"));
    EXPECT_EQ(clean, test::ReadFile(WriteTokenFile(dir.Sub("want.bin"), kept, c.width, false))) << c.file;
  }
  // Wrong pairings fail with a clear message.
  EXPECT_NE(test::RunCommand({test::CliPath(), "-q", "decon", "scan", "--index", index, f.set_path}, &out, &err), 0);
  EXPECT_NE(err.find("token corpora only"), std::string::npos) << err;
  EXPECT_NE(test::RunCommand({test::CliPath(), "-q", "decon", "scan", "--index", index, "--tokens", dir.Sub("c.bin"),
                              "--separator", "0"}, &out, &err), 0);
  EXPECT_NE(err.find("--dtype u16 or u32"), std::string::npos) << err;
}


// decon report in token mode: every example's token n-grams looked up in a
// token suffix-array index (u16, several shards), against a brute-force
// search of the documents; the longest match against a brute-force longest
// common token run.
TEST(DeconToken, SaReportMatchesBruteForce) {
  const unsigned n = 4;
  TempDir dir;
  std::mt19937 rng(77);
  Fixture f = MakeFixture(dir, rng, n, test::Scaled(40, 20), test::Scaled(120, 50), 300);
  std::string bin;  // little-endian u16 ids, documents ended by id 0
  for (const Tokens& d : f.docs) {
    for (uint32_t t : d) bin += {static_cast<char>(t & 0xff), static_cast<char>(t >> 8)};
    bin += {'\0', '\0'};
  }
  test::WriteFile(dir.Sub("c.bin"), bin);
  SaBuildOptions o;
  o.memory_budget = 64ull << 20;
  o.threads = 1;
  o.max_shard_symbols = 600;
  o.token_file = dir.Sub("c.bin");
  o.token_bytes = 2;
  o.separator = 0;
  SaBuildReport rep;
  Status st = BuildSuffixArrayIndex(dir.Sub("store"), o, &rep);
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::unique_ptr<EvalIndex> index;
  ASSERT_TRUE(EvalIndex::Open(Env::Default(), BuildIndex(dir, f, n), &index).ok());
  const std::vector<size_t> ex_map = ExampleMap(*index);
  auto occurs = [&](const Tokens& ex, size_t from, size_t len) {
    for (const Tokens& d : f.docs)
      if (std::search(d.begin(), d.end(), ex.begin() + from, ex.begin() + from + len) != d.end()) return true;
    return false;
  };
  size_t hit_examples = 0;
  for (bool use_mmap : {false, true}) {
    DeconAccumulator acc(*index);
    DeconSaReportOptions so;
    so.store = dir.Sub("store");
    so.batch = 7;  // many waves
    so.min_match_bytes = 1;
    so.use_mmap = use_mmap;
    DeconSaReportStats rs;
    st = RunDeconSaReport(Env::Default(), *index, so, &acc, &rs);
    ASSERT_TRUE(st.ok()) << st.ToString();
    DeconReport report = ComputeDeconReport(acc, DeconReportOptions());
    std::map<uint32_t, uint32_t> found;
    for (const DeconExampleRow& r : report.examples) found[r.example] = r.grams_found;
    hit_examples = 0;
    for (uint32_t e = 0; e < index->num_examples(); ++e) {
      const Tokens& ex = f.examples[ex_map[e]];
      const size_t len = std::min<size_t>(n, ex.size());
      std::set<Tokens> grams;
      for (size_t i = 0; i + len <= ex.size(); ++i)
        if (occurs(ex, i, len)) grams.insert(Tokens(ex.begin() + i, ex.begin() + i + len));
      EXPECT_EQ(found.count(e) ? found[e] : 0u, grams.size()) << "example " << e << " mmap=" << use_mmap;
      if (grams.empty()) continue;
      ++hit_examples;
      size_t longest = 0;  // longest run of ex that occurs in a document
      for (size_t i = 0; i < ex.size(); ++i)
        for (size_t l = longest + 1; i + l <= ex.size() && occurs(ex, i, l); ++l) longest = l;
      EXPECT_EQ(acc.evidence(e).longest_match_bytes, longest) << "example " << e;
      EXPECT_EQ(acc.evidence(e).doc.rfind("run ", 0), 0u) << acc.evidence(e).doc;
    }
  }
  EXPECT_GT(hit_examples, 3u);
  // A text eval index against this token index: a clear error, not wrong answers.
  test::WriteFile(dir.Sub("text.jsonl"), "{\"id\": \"x\", \"text\": \"one two three four five\"}\n");
  EvalSetSpec spec;
  ASSERT_TRUE(ParseEvalSetArg(dir.Sub("text.jsonl"), {}, &spec).ok());
  EvalIndexOptions io;
  io.n = n;
  ASSERT_TRUE(BuildEvalIndex(Env::Default(), {spec}, io, dir.Sub("text.ddx"), nullptr).ok());
  std::unique_ptr<EvalIndex> text_index;
  ASSERT_TRUE(EvalIndex::Open(Env::Default(), dir.Sub("text.ddx"), &text_index).ok());
  DeconAccumulator acc(*text_index);
  DeconSaReportOptions so;
  so.store = dir.Sub("store");
  st = RunDeconSaReport(Env::Default(), *text_index, so, &acc, nullptr);
  EXPECT_EQ(st.code(), Status::Code::kNotSupported) << st.ToString();
  EXPECT_NE(st.message().find("token"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace dedupdb
