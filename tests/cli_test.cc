// The dedupdb CLI (build / info / get / verify) run as a subprocess: human
// and --json output (parsed with simdjson), exit codes, stdin input, bad
// input reporting, --dedup-exact, and verify catching a flipped byte.
#include <filesystem>
#include <map>
#include <random>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/test_util.h"

namespace dedupdb {
namespace {

using test::CliPath;
using test::ReadFile;
using test::RunCommand;
using test::RunShell;
using test::Scaled;
using test::TempDir;
using test::WriteFile;

namespace fs = std::filesystem;

struct CliRun {
  int rc;
  std::string out, err;
};

CliRun Cli(std::vector<std::string> args, const std::string& stdin_data = "") {
  args.insert(args.begin(), CliPath());
  CliRun r;
  r.rc = RunCommand(args, &r.out, &r.err, stdin_data);
  return r;
}

// Parsed --json output. Keeps the parser alive with the document.
struct Json {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  bool Parse(const std::string& s) {
    auto r = parser.parse(s);
    if (r.error()) return false;
    root = r.value();
    return true;
  }
  uint64_t U(const char* key) { return root[key].get_uint64().value(); }
  bool B(const char* key) { return root[key].get_bool().value(); }
  std::string S(const char* key) { return std::string(root[key].get_string().value()); }
};

#define ASSERT_JSON(j, text) ASSERT_TRUE((j).Parse(text)) << "not JSON: " << (text)

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

struct Fixture {
  std::vector<std::pair<std::string, std::string>> docs;  // (id, text)
  std::string jsonl;
  uint64_t duplicates = 0;
};

Fixture MakeFixture(size_t n) {
  Fixture f;
  std::mt19937 rng(17);
  std::map<std::string, int> seen;
  for (size_t i = 0; i < n; i++) {
    std::string text;
    if (i > 0 && i % 5 == 4) {
      text = f.docs[rng() % i].second;
    } else {
      size_t len = 1 + rng() % 500;
      for (size_t k = 0; k < len; k++) text += static_cast<char>(k % 7 == 6 ? (k % 21 == 20 ? '\n' : ' ') : 'a' + rng() % 26);
    }
    if (seen[text]++ > 0) f.duplicates++;
    f.docs.emplace_back("doc-" + std::to_string(i), text);
    f.jsonl += "{\"id\": " + Quote(f.docs.back().first) + ", \"text\": " + Quote(text) + "}\n";
  }
  return f;
}

TEST(CliTest, BuildInfoGetVerifyHumanAndJson) {
  TempDir dir;
  Fixture fx = MakeFixture(Scaled(500, 120));
  WriteFile(dir.Sub("in.jsonl"), fx.jsonl);
  std::string store = dir.Sub("store");

  CliRun b = Cli({"--json", "build", store, dir.Sub("in.jsonl"), "--segment-size", "16K"});
  ASSERT_EQ(b.rc, 0) << b.err;
  Json j;
  ASSERT_JSON(j, b.out);
  EXPECT_TRUE(j.B("ok"));
  EXPECT_EQ(j.U("docs_added"), fx.docs.size());
  EXPECT_EQ(j.U("exact_duplicates"), fx.duplicates);
  EXPECT_GT(j.U("segments_added"), 1u);

  CliRun info = Cli({"info", store});
  ASSERT_EQ(info.rc, 0) << info.err;
  EXPECT_NE(info.out.find(std::to_string(fx.docs.size())), std::string::npos) << info.out;
  EXPECT_NE(info.out.find(std::to_string(fx.duplicates)), std::string::npos) << info.out;
  CliRun infoj = Cli({"info", store, "--json"});  // global flag after the subcommand
  ASSERT_EQ(infoj.rc, 0) << infoj.err;
  Json ij;
  ASSERT_JSON(ij, infoj.out);
  EXPECT_EQ(ij.U("docs"), fx.docs.size());
  EXPECT_EQ(ij.U("exact_duplicate_docs"), fx.duplicates);
  uint64_t bytes = 0;
  for (auto& d : fx.docs) bytes += d.second.size();
  EXPECT_EQ(ij.U("text_bytes"), bytes);
  EXPECT_GE(ij.U("segments"), 2u);

  // get by dense id prints exactly the text.
  for (size_t i : {size_t{0}, fx.docs.size() / 2, fx.docs.size() - 1}) {
    CliRun g = Cli({"get", store, std::to_string(i)});
    ASSERT_EQ(g.rc, 0) << g.err;
    EXPECT_EQ(g.out, fx.docs[i].second) << "doc " << i;
  }
  CliRun ge = Cli({"get", store, "--external-id", fx.docs[7].first});
  ASSERT_EQ(ge.rc, 0) << ge.err;
  EXPECT_EQ(ge.out, fx.docs[7].second);
  CliRun gj = Cli({"--json", "get", store, "3", "4"});
  ASSERT_EQ(gj.rc, 0) << gj.err;
  Json gjj;
  ASSERT_JSON(gjj, gj.out);
  simdjson::dom::array arr = gjj.root["docs"].get_array().value();
  ASSERT_EQ(arr.size(), 2u);
  size_t k = 3;
  for (auto d : arr) {
    EXPECT_EQ(d["text"].get_string().value(), fx.docs[k].second);
    EXPECT_EQ(d["external_id"].get_string().value(), fx.docs[k].first);
    EXPECT_EQ(d["doc_id"].get_uint64().value(), k);
    EXPECT_EQ(d["line"].get_uint64().value(), k + 1);
    EXPECT_EQ(d["source"].get_string().value(), dir.Sub("in.jsonl"));
    k++;
  }

  CliRun v = Cli({"verify", store});
  EXPECT_EQ(v.rc, 0) << v.err;
  CliRun vj = Cli({"--json", "-q", "verify", store});
  ASSERT_EQ(vj.rc, 0) << vj.err;
  Json vjj;
  ASSERT_JSON(vjj, vj.out);
  EXPECT_TRUE(vjj.B("ok"));
  EXPECT_EQ(vjj.U("docs"), fx.docs.size());
  EXPECT_EQ(vj.err, "") << "--quiet still wrote to stderr";
}

// Long commands report progress with a rate on stderr unless --quiet, and
// never on stdout (which --json keeps machine-readable).
TEST(CliTest, ProgressOnStderrUnlessQuiet) {
  TempDir dir;
  Fixture fx = MakeFixture(100);
  WriteFile(dir.Sub("in.jsonl"), fx.jsonl);
  CliRun r = Cli({"--json", "build", dir.Sub("s1"), dir.Sub("in.jsonl")});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("B/s"), std::string::npos) << "no rate in progress output: " << r.err;
  Json j;
  ASSERT_JSON(j, r.out);  // progress did not leak into stdout
  r = Cli({"--json", "-q", "build", dir.Sub("s2"), dir.Sub("in.jsonl")});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

TEST(CliTest, ExitCodesAndErrorMessages) {
  TempDir dir;
  Fixture fx = MakeFixture(50);
  WriteFile(dir.Sub("in.jsonl"), fx.jsonl);
  std::string store = dir.Sub("store");
  ASSERT_EQ(Cli({"-q", "build", store, dir.Sub("in.jsonl")}).rc, 0);

  // 2: bad command line.
  EXPECT_EQ(Cli({}).rc, 2);
  EXPECT_EQ(Cli({"no-such-command"}).rc, 2);
  EXPECT_EQ(Cli({"info", store, "--no-such-flag"}).rc, 2);
  EXPECT_EQ(Cli({"build", store, dir.Sub("in.jsonl"), "--on-bad-input", "maybe"}).rc, 2);
  // 1: runtime errors, with a message naming what failed.
  CliRun r = Cli({"info", dir.Sub("missing-store")});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("missing-store"), std::string::npos) << r.err;
  r = Cli({"--json", "info", dir.Sub("missing-store")});
  EXPECT_EQ(r.rc, 1);
  Json j;
  ASSERT_JSON(j, r.out);
  EXPECT_FALSE(j.B("ok"));
  EXPECT_EQ(j.U("exit_code"), 1u);
  r = Cli({"get", store, "999999"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("999999"), std::string::npos) << r.err;
  r = Cli({"get", store, "--external-id", "nope"});
  EXPECT_EQ(r.rc, 1);
  r = Cli({"build", dir.Sub("s2"), dir.Sub("nothing.jsonl")});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("nothing.jsonl"), std::string::npos) << r.err;
}

TEST(CliTest, BadInputFailsOrIsSkippedAndListed) {
  TempDir dir;
  std::string data =
      "{\"id\": \"a\", \"text\": \"good a\"}\n"
      "{\"id\": \"b\", \"text\": \"broken\n"
      "{\"id\": \"c\", \"text\": \"good c\"}\n"
      "{\"id\": \"d\", \"txt\": \"wrong field\"}\n"
      "{\"id\": \"e\", \"text\": \"good e\"}\n";
  std::string in = dir.Sub("bad.jsonl");
  WriteFile(in, data);
  CliRun r = Cli({"-q", "build", dir.Sub("s1"), in});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find(in + ":2"), std::string::npos) << "no file:line in: " << r.err;
  // skip policy: good records kept, bad ones listed with file and line.
  r = Cli({"-q", "build", dir.Sub("s2"), in, "--on-bad-input", "skip"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find(in + ":2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(in + ":4"), std::string::npos) << r.out;
  r = Cli({"--json", "-q", "build", dir.Sub("s3"), in, "--on-bad-input", "skip"});
  ASSERT_EQ(r.rc, 0) << r.err;
  Json j;
  ASSERT_JSON(j, r.out);
  EXPECT_EQ(j.U("docs_added"), 3u);
  simdjson::dom::array skipped = j.root["skipped"].get_array().value();
  ASSERT_EQ(skipped.size(), 2u);
  std::vector<uint64_t> lines;
  for (auto s : skipped) {
    lines.push_back(s["line"].get_uint64().value());
    EXPECT_EQ(s["source"].get_string().value(), in);
  }
  EXPECT_EQ(lines, (std::vector<uint64_t>{2, 4}));
  CliRun g = Cli({"get", dir.Sub("s3"), "2"});
  EXPECT_EQ(g.out, "good e");
}

TEST(CliTest, StdinGlobDirectoryAndTxtInputs) {
  if (!test::HaveSharedData("corpus/bbc_news.jsonl.zst")) GTEST_SKIP() << "../shared/data/corpus is missing";
  TempDir dir;
  size_t n = Scaled(300, 50);
  std::string out;
  ASSERT_EQ(RunShell("zstd -dc '" + test::SharedDataDir() + "/corpus/bbc_news.jsonl.zst' | head -n " +
                         std::to_string(n) + " > '" + dir.Sub("p.jsonl") + "'",
                     &out),
            0);
  auto want = test::ReadJsonlZstOracle(test::SharedDataDir() + "/corpus/bbc_news.jsonl.zst", n);

  // stdin ("-"): piped bytes, source recorded as <stdin>.
  CliRun r = Cli({"--json", "-q", "build", dir.Sub("s_stdin"), "-"}, ReadFile(dir.Sub("p.jsonl")));
  ASSERT_EQ(r.rc, 0) << r.err;
  CliRun g = Cli({"--json", "get", dir.Sub("s_stdin"), "0", std::to_string(n - 1)});
  ASSERT_EQ(g.rc, 0) << g.err;
  Json j;
  ASSERT_JSON(j, g.out);
  auto docs = j.root["docs"].get_array().value();
  auto it = docs.begin();
  EXPECT_EQ((*it)["text"].get_string().value(), want[0].text);
  std::string_view source = (*it)["source"].get_string().value();
  EXPECT_TRUE(source == "<stdin>" || source == "-") << source;
  ++it;
  EXPECT_EQ((*it)["text"].get_string().value(), want[n - 1].text);
  EXPECT_EQ((*it)["external_id"].get_string().value(), want[n - 1].id);

  // A glob (quoted: expanded by dedupdb, not the shell) over .gz and .zst.
  ASSERT_EQ(RunShell("cd '" + dir.path() + "' && mkdir d && gzip -c p.jsonl > d/a.jsonl.gz && zstd -q -c p.jsonl > "
                     "d/b.jsonl.zst",
                     &out),
            0);
  r = Cli({"--json", "-q", "build", dir.Sub("s_glob"), dir.Sub("d/*.jsonl.*")});
  ASSERT_EQ(r.rc, 0) << r.err;
  ASSERT_JSON(j, r.out);
  EXPECT_EQ(j.U("docs_added"), 2 * n);
  uint64_t dups_in_prefix = 0;
  std::map<std::string, int> copies;
  for (auto& w : want) dups_in_prefix += copies[w.text]++ > 0;
  EXPECT_EQ(j.U("exact_duplicates"), n + dups_in_prefix);
  // Same directory as input.
  r = Cli({"--json", "-q", "build", dir.Sub("s_dir"), dir.Sub("d")});
  ASSERT_EQ(r.rc, 0) << r.err;
  ASSERT_JSON(j, r.out);
  EXPECT_EQ(j.U("docs_added"), 2 * n);

  // .txt files: one document each, id = path.
  ASSERT_EQ(RunShell("mkdir -p '" + dir.Sub("t") + "'", &out), 0);
  WriteFile(dir.Sub("t/one.txt"), want[0].text);
  WriteFile(dir.Sub("t/two.txt"), want[1].text);
  r = Cli({"-q", "build", dir.Sub("s_txt"), dir.Sub("t")});
  ASSERT_EQ(r.rc, 0) << r.err;
  g = Cli({"get", dir.Sub("s_txt"), "--external-id", dir.Sub("t/two.txt")});
  ASSERT_EQ(g.rc, 0) << g.err;
  EXPECT_EQ(g.out, want[1].text);
}

TEST(CliTest, DedupExactKeepsFirstCopy) {
  TempDir dir;
  Fixture fx = MakeFixture(200);
  ASSERT_GT(fx.duplicates, 10u);
  WriteFile(dir.Sub("in.jsonl"), fx.jsonl);
  std::string store = dir.Sub("store");
  CliRun r = Cli({"--json", "-q", "build", store, dir.Sub("in.jsonl"), "--dedup-exact"});
  ASSERT_EQ(r.rc, 0) << r.err;
  Json j;
  ASSERT_JSON(j, r.out);
  EXPECT_EQ(j.U("dropped_duplicates"), fx.duplicates);
  EXPECT_EQ(j.U("docs_added"), fx.docs.size() - fx.duplicates);
  CliRun info = Cli({"--json", "info", store});
  ASSERT_EQ(info.rc, 0);
  ASSERT_JSON(j, info.out);
  EXPECT_EQ(j.U("docs"), fx.docs.size() - fx.duplicates);
  EXPECT_EQ(j.U("exact_duplicate_docs"), 0u);
  EXPECT_EQ(j.U("dropped_duplicate_docs"), fx.duplicates);
  // Stored docs are the first copies, in input order.
  std::map<std::string, bool> seen;
  uint64_t id = 0;
  for (auto& [ext, text] : fx.docs) {
    if (seen[text]) continue;
    seen[text] = true;
    if (id % 17 == 0) {
      CliRun g = Cli({"--json", "get", store, std::to_string(id)});
      ASSERT_EQ(g.rc, 0);
      Json gj;
      ASSERT_JSON(gj, g.out);
      auto d = gj.root["docs"].at(0);
      EXPECT_EQ(d["external_id"].get_string().value(), ext);
      EXPECT_EQ(d["text"].get_string().value(), text);
    }
    id++;
  }
}

// Independent count: sha256 of each text in python, then sort | uniq -c.
TEST(CliTest, InfoDuplicateCountMatchesSortUniqOnRealData) {
  if (!test::HaveSharedData("corpus/bbc_news.jsonl.zst")) GTEST_SKIP() << "../shared/data/corpus is missing";
  std::vector<std::string> names = {"bbc_news.jsonl.zst"};
  if (!test::SmallScale()) names.push_back("ag_news_test_with_copy.jsonl.zst");
  for (auto& name : names) {
    SCOPED_TRACE(name);
    std::string path = test::SharedDataDir() + "/corpus/" + name;
    std::string out;
    ASSERT_EQ(RunShell("zstd -dc '" + path +
                           "' | /usr/bin/python3 -c 'import sys, json, hashlib\n"
                           "for l in sys.stdin.buffer:\n"
                           "    print(hashlib.sha256(json.loads(l)[\"text\"].encode(\"utf-8\", \"surrogatepass\"))"
                           ".hexdigest())' | sort | uniq -c | awk '{d += $1 - 1} END {print d}'",
                       &out),
              0);
    uint64_t expect = std::stoull(out);
    if (name == "bbc_news.jsonl.zst") {  // MANIFEST.md
      EXPECT_EQ(expect, 98u);
    }
    TempDir dir;
    CliRun r = Cli({"-q", "build", dir.Sub("s"), path});
    ASSERT_EQ(r.rc, 0) << r.err;
    CliRun info = Cli({"--json", "info", dir.Sub("s")});
    ASSERT_EQ(info.rc, 0) << info.err;
    Json j;
    ASSERT_JSON(j, info.out);
    EXPECT_EQ(j.U("exact_duplicate_docs"), expect);
  }
}

TEST(CliTest, VerifyDetectsAFlippedByte) {
  TempDir dir;
  Fixture fx = MakeFixture(300);
  WriteFile(dir.Sub("in.jsonl"), fx.jsonl);
  std::string store = dir.Sub("store");
  ASSERT_EQ(Cli({"-q", "build", store, dir.Sub("in.jsonl"), "--segment-size", "8K"}).rc, 0);
  ASSERT_EQ(Cli({"-q", "verify", store}).rc, 0);
  std::vector<std::string> segs;
  for (auto& e : fs::directory_iterator(store + "/segments")) segs.push_back(e.path());
  std::sort(segs.begin(), segs.end());
  ASSERT_GE(segs.size(), 3u);
  std::string victim = segs[1];
  std::string bytes = ReadFile(victim);
  bytes[128 + 100] ^= 0x20;  // one bit of text
  fs::permissions(victim, fs::perms::owner_write, fs::perm_options::add);
  WriteFile(victim, bytes);
  CliRun v = Cli({"-q", "verify", store});
  EXPECT_EQ(v.rc, 3) << v.out << v.err;
  EXPECT_NE(v.err.find(fs::path(victim).filename().string()), std::string::npos)
      << "message does not name the damaged file: " << v.err;
  CliRun vj = Cli({"--json", "-q", "verify", store});
  EXPECT_EQ(vj.rc, 3);
  Json j;
  ASSERT_JSON(j, vj.out);
  EXPECT_FALSE(j.B("ok"));
  EXPECT_GE(j.root["problems"].get_array().value().size(), 1u);
  // Other commands still work on undamaged documents.
  CliRun g = Cli({"get", store, "0"});
  EXPECT_EQ(g.rc, 0);
}

}  // namespace
}  // namespace dedupdb
