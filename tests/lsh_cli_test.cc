// The near-duplicate commands end to end through the dedupdb executable:
// index-lsh / near / dedup-near / lsh-compact with --json, the Roaring and
// JSONL outputs, the --write corpus, usage errors and exit codes.
#include <zstd.h>

#include <random>

#include <gtest/gtest.h>
#include <roaring/roaring64map.hh>
#include <simdjson.h>

#include "tests/lsh_fixture.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

using test::CliPath;
using test::RunCommand;

simdjson::dom::element Parse(simdjson::dom::parser& p, const std::string& s) {
  auto r = p.parse(s);
  EXPECT_FALSE(r.error()) << s;
  return r.value();
}

TEST(LshCli, IndexNearDedupCompact) {
  test::TempDir tmp;
  // Two families of near-duplicates and unrelated docs.
  std::mt19937 rng(5);
  std::vector<test::JsonlDoc> docs;
  auto words = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += (i ? " w" : "w") + std::to_string(rng() % 100000);
    return s;
  };
  const std::string a = words(300), b = words(300);
  uint64_t fresh = 0;
  docs.push_back({"a0", a});
  docs.push_back({"x0", words(200)});
  docs.push_back({"a1", lshtest::EditWords(a, 0.005, rng, &fresh)});
  docs.push_back({"b0", b});
  docs.push_back({"a2", a + " tail words here"});
  docs.push_back({"b1", b});
  docs.push_back({"x1", words(200)});
  lshtest::WriteJsonl(tmp.Sub("in.jsonl"), docs);
  const std::string store = tmp.Sub("store");
  std::string out, err;
  ASSERT_EQ(RunCommand({CliPath(), "-q", "build", store, tmp.Sub("in.jsonl")}, &out, &err), 0) << err;

  // Usage errors: exit 2.
  EXPECT_EQ(RunCommand({CliPath(), "index-lsh", store, "--bands", "4"}, &out, &err), 2);
  EXPECT_EQ(RunCommand({CliPath(), "index-lsh", store, "--bands", "20", "--rows", "20"}, &out, &err), 2);
  // No index yet: runtime error naming the fix.
  EXPECT_EQ(RunCommand({CliPath(), "near", store, "--doc-id", "0"}, &out, &err), 1);
  EXPECT_NE(err.find("index-lsh"), std::string::npos) << err;

  ASSERT_EQ(RunCommand({CliPath(), "-q", "--json", "index-lsh", store, "--threshold", "0.8"}, &out, &err), 0) << err;
  simdjson::dom::parser p;
  auto j = Parse(p, out);
  EXPECT_EQ(uint64_t(j["bands"]), 9u);
  EXPECT_EQ(uint64_t(j["rows"]), 13u);
  EXPECT_EQ(uint64_t(j["docs_indexed"]), docs.size());
  EXPECT_EQ(simdjson::dom::array(j["s_curve"]).size(), 10u);
  // Same index, different explicit parameters: refused.
  EXPECT_EQ(RunCommand({CliPath(), "index-lsh", store, "--num-perm", "64"}, &out, &err), 2);

  ASSERT_EQ(RunCommand({CliPath(), "-q", "--json", "near", store, "--text", a, "--verify"}, &out, &err), 0) << err;
  j = Parse(p, out);
  std::set<uint64_t> found;
  for (auto m : simdjson::dom::array(j["matches"])) found.insert(uint64_t(m["doc"]));
  EXPECT_EQ(found, (std::set<uint64_t>{0, 2, 4}));
  ASSERT_EQ(RunCommand({CliPath(), "-q", "--json", "near", store, "--doc-id", "3"}, &out, &err), 0) << err;
  j = Parse(p, out);
  ASSERT_EQ(simdjson::dom::array(j["matches"]).size(), 1u);
  EXPECT_EQ(uint64_t(j["matches"].at(0)["doc"]), 5u);
  EXPECT_EQ(double(j["matches"].at(0)["estimated_jaccard"]), 1.0);
  EXPECT_EQ(RunCommand({CliPath(), "near", store, "--doc-id", "999"}, &out, &err), 1);
  EXPECT_EQ(RunCommand({CliPath(), "near", store, "--text", "x", "--doc-id", "1"}, &out, &err), 2);

  const std::string outdir = tmp.Sub("dedup");
  ASSERT_EQ(RunCommand({CliPath(), "-q", "--json", "dedup-near", store, "--out", outdir, "--exact", "--keep",
                        "longest", "--write", tmp.Sub("kept.jsonl.zst")},
                       &out, &err),
            0)
      << err;
  j = Parse(p, out);
  EXPECT_EQ(uint64_t(j["clusters"]), 2u);
  EXPECT_EQ(uint64_t(j["removed_docs"]), 3u);
  EXPECT_EQ(uint64_t(j["written_docs"]), docs.size() - 3);
  // keep longest: a2 (doc 4) is kept in family a; b0 (doc 3) in family b.
  const std::string bits = test::ReadFile(outdir + "/removed.roaring");
  Roaring64Map removed = Roaring64Map::readSafe(bits.data(), bits.size());
  EXPECT_EQ(removed.cardinality(), 3u);
  for (uint64_t d : {0u, 2u, 5u}) EXPECT_TRUE(removed.contains(d)) << d;
  const std::string jsonl = test::ReadFile(outdir + "/removed.jsonl");
  size_t lines = 0;
  for (size_t pos = 0; (pos = jsonl.find('\n', pos)) != std::string::npos; ++pos) ++lines;
  EXPECT_EQ(lines, 3u);
  EXPECT_NE(jsonl.find("\"kept_id\":\"a2\""), std::string::npos) << jsonl;
  std::string kept;
  ASSERT_EQ(test::RunShell("zstd -dc " + tmp.Sub("kept.jsonl.zst"), &kept), 0);
  EXPECT_NE(kept.find("\"id\":\"a2\""), std::string::npos);
  EXPECT_EQ(kept.find("\"id\":\"a0\""), std::string::npos);
  EXPECT_EQ(RunCommand({CliPath(), "dedup-near", store, "--out", outdir, "--keep", "biggest"}, &out, &err), 2);

  // A second ingest + index-lsh makes a second run; compaction merges it and
  // the query answers do not change.
  lshtest::WriteJsonl(tmp.Sub("more.jsonl"), {{"b2", b + " more"}, {"x2", words(100)}});
  ASSERT_EQ(RunCommand({CliPath(), "-q", "build", store, tmp.Sub("more.jsonl")}, &out, &err), 0) << err;
  ASSERT_EQ(RunCommand({CliPath(), "-q", "--json", "index-lsh", store}, &out, &err), 0) << err;
  EXPECT_EQ(uint64_t(Parse(p, out)["runs"]), 2u);
  std::string before, after;
  ASSERT_EQ(RunCommand({CliPath(), "-q", "--json", "near", store, "--doc-id", "3"}, &before, &err), 0) << err;
  EXPECT_NE(before.find("\"doc\":7"), std::string::npos) << before;
  ASSERT_EQ(RunCommand({CliPath(), "-q", "--json", "lsh-compact", store}, &out, &err), 0) << err;
  EXPECT_EQ(uint64_t(Parse(p, out)["runs_before"]), 2u);
  ASSERT_EQ(RunCommand({CliPath(), "-q", "--json", "near", store, "--doc-id", "3"}, &after, &err), 0) << err;
  EXPECT_EQ(before, after);
  ASSERT_EQ(RunCommand({CliPath(), "-q", "verify", store}, &out, &err), 0) << out << err;
}


TEST(LshCli, SimdLevelsWriteIdenticalIndexes) {
  // DEDUPDB_SIMD caps the kernel level: every level must produce the same
  // signature and bucket files, byte for byte.
  test::TempDir tmp;
  std::mt19937 rng(9);
  std::vector<test::JsonlDoc> docs;
  for (int i = 0; i < 200; ++i) {
    std::string t;
    for (int w = 0; w < 60 + i; ++w) t += (w ? " " : "") + std::to_string(rng() % 3000);
    docs.push_back({"d" + std::to_string(i), t});
  }
  lshtest::WriteJsonl(tmp.Sub("in.jsonl"), docs);
  std::string out, err, first_sigs, first_buckets;
  for (const char* level : {"scalar", "avx2", "avx512"}) {
    const std::string store = tmp.Sub(std::string("store-") + level);
    ASSERT_EQ(RunCommand({CliPath(), "-q", "build", store, tmp.Sub("in.jsonl")}, &out, &err), 0) << err;
    ASSERT_EQ(test::RunShell("DEDUPDB_SIMD=" + std::string(level) + " " + CliPath() + " -q index-lsh " + store +
                                 " --num-perm 112 --threads 2",
                             &out),
              0);
    const std::string dir = store + "/lsh/default/g1/";
    const std::string sigs = test::ReadFile(dir + "sigs-000000000000.mhs");
    const std::string buckets = test::ReadFile(dir + "buckets-000000000000.lsb");
    ASSERT_EQ(sigs.size(), 128 + docs.size() * 112 * 4) << level;
    if (first_sigs.empty()) {
      first_sigs = sigs;
      first_buckets = buckets;
    } else {
      EXPECT_TRUE(sigs == first_sigs) << level << " signatures differ from scalar";
      EXPECT_TRUE(buckets == first_buckets) << level << " buckets differ from scalar";
    }
  }
}

}  // namespace
}  // namespace dedupdb
