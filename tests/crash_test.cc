// Durability: a build SIGKILLed at random points leaves the store at a
// committed prefix that opens and verifies, and a re-run completes it to the
// same content as an uninterrupted build. Injected I/O faults (ENOSPC, EIO,
// failed fsync/rename, short reads) give clean Status errors and leave the
// previously committed store intact. On-disk damage is caught by Verify.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "storage/catalog.h"
#include "storage/doc_store.h"
#include "storage/fault_injection_env.h"
#include "storage/layout.h"
#include "storage/store_builder.h"
#include "storage/store_writer.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

using test::ReadFile;
using test::Scaled;
using test::TempDir;
using test::WriteFile;

namespace fs = std::filesystem;

// Everything a reader can observe about one document.
struct DocDump {
  std::string text, id, source;
  uint64_t line, duplicate_of;
  bool operator==(const DocDump&) const = default;
};

// Opens the store and dumps every doc; checks Verify on the way.
Status DumpStore(const std::string& dir, std::vector<DocDump>* out, Env* env = nullptr) {
  out->clear();
  DocStore::Options o;
  o.env = env;
  std::unique_ptr<DocStore> store;
  DEDUPDB_RETURN_IF_ERROR(DocStore::Open(dir, o, &store));
  for (uint64_t i = 0; i < store->num_docs(); i++) {
    DocMeta m;
    DEDUPDB_RETURN_IF_ERROR(store->GetMeta(i, &m));
    out->push_back(DocDump{std::string(store->Text(i)), m.external_id, m.source, m.line, m.duplicate_of});
  }
  std::vector<VerifyProblem> problems;
  DEDUPDB_RETURN_IF_ERROR(store->Verify(&problems));
  if (!problems.empty()) return Status::Corruption("verify: " + problems[0].path + ": " + problems[0].message);
  return Status::OK();
}

// A few MB of JSONL in three files, with duplicates across files. With
// mixed_containers the second file is gzip and the third zstd, so a resumed
// build must also skip records inside decompressed streams.
std::vector<std::string> MakeInputs(const TempDir& dir, size_t total_bytes, bool mixed_containers = false) {
  std::mt19937 rng(99);
  std::vector<std::string> texts;
  std::vector<std::string> files;
  for (int f = 0; f < 3; f++) {
    std::string path = dir.Sub("in" + std::to_string(f) + ".jsonl");
    std::string data;
    int line = 0;
    while (data.size() < total_bytes / 3) {
      std::string text;
      if (!texts.empty() && rng() % 10 == 0) {
        text = texts[rng() % texts.size()];
      } else {
        size_t len = 50 + rng() % 4000;
        for (size_t i = 0; i < len; i++) text += static_cast<char>(i % 9 == 8 ? ' ' : 'a' + rng() % 26);
        texts.push_back(text);
      }
      data += "{\"id\": \"f" + std::to_string(f) + "-" + std::to_string(++line) + "\", \"text\": \"" + text + "\"}\n";
    }
    WriteFile(path, data);
    if (mixed_containers && f > 0) {
      std::string out;
      std::string cmd = f == 1 ? "gzip -f " : "zstd -q --rm -f ";
      EXPECT_EQ(test::RunShell(cmd + "'" + path + "'", &out), 0);
      path += f == 1 ? ".gz" : ".zst";
    }
    files.push_back(path);
  }
  return files;
}

BuildOptions SmallSegments(Env* env = nullptr, bool dedup_exact = false) {
  BuildOptions o;
  o.dedup_exact = dedup_exact;
  o.segment_bytes = 96 << 10;  // many commits to land between
  o.env = env;
  return o;
}

// Data files on disk that the catalog does not list would be leaked space.
void ExpectNoUnlistedSegments(const std::string& store_dir) {
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(store_dir, &store).ok());
  size_t on_disk = 0;
  if (fs::exists(store_dir + "/segments")) {
    for (auto& e : fs::directory_iterator(store_dir + "/segments")) {
      (void)e;
      on_disk++;
    }
  }
  EXPECT_EQ(on_disk, store->num_segments());
  // Staging leftovers of killed or failed builds are gone too.
  std::string staging = store->layout().staging_root();
  if (fs::exists(staging)) {
    for (auto& e : fs::recursive_directory_iterator(staging)) {
      EXPECT_TRUE(e.is_directory()) << "leftover staged file " << e.path();
    }
  }
}

// A first build killed after creating the catalog but before its first
// commit leaves an empty catalog: opening it says there is no store yet (not
// corruption), and the next build initialises it. A catalog that holds
// records but no format version is not ours: corruption.
TEST(CrashTest, CatalogCreatedButNeverCommitted) {
  TempDir dir;
  const std::string store = dir.Sub("s");
  ASSERT_TRUE(Env::Default()->CreateDirs(StoreLayout(store).catalog_dir()).ok());
  {
    std::unique_ptr<Catalog> catalog;
    ASSERT_TRUE(Catalog::Open(Env::Default(), StoreLayout(store).catalog_dir(), true, false, &catalog).ok());
  }
  std::unique_ptr<DocStore> ds;
  Status s = DocStore::Open(store, &ds);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  {
    std::unique_ptr<StoreWriter> w;
    ASSERT_TRUE(StoreWriter::Open(Env::Default(), store, false, &w).ok());  // initialises it
  }
  s = DocStore::Open(store, &ds);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ds->num_docs(), 0u);
  ds.reset();

  const std::string other = dir.Sub("other");
  ASSERT_TRUE(Env::Default()->CreateDirs(StoreLayout(other).catalog_dir()).ok());
  {
    std::unique_ptr<Catalog> catalog;
    ASSERT_TRUE(Catalog::Open(Env::Default(), StoreLayout(other).catalog_dir(), true, false, &catalog).ok());
    std::unique_ptr<CatalogWriteTxn> txn;
    ASSERT_TRUE(catalog->BeginWrite(&txn).ok());
    ASSERT_TRUE(txn->Put(Table::kSources, "x", "y").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  s = DocStore::Open(other, &ds);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST(CrashTest, KillNineAtRandomPointsThenResume) {
  TempDir dir;
  auto inputs = MakeInputs(dir, Scaled(2 << 20, 1 << 20), /*mixed_containers=*/true);
  // References: one uninterrupted build each, without and with --dedup-exact.
  std::string ref_dirs[2] = {dir.Sub("ref"), dir.Sub("ref_dedup")};
  std::vector<DocDump> refs[2];
  BuildReport rep;
  double full_ms = 0;
  for (int d = 0; d < 2; d++) {
    auto t0 = std::chrono::steady_clock::now();
    Status s = BuildStore(ref_dirs[d], inputs, SmallSegments(nullptr, d == 1), &rep);
    ASSERT_TRUE(s.ok()) << s.ToString();
    full_ms = std::max(full_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    s = DumpStore(ref_dirs[d], &refs[d]);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_GT(rep.segments_added, 5u);
  }
  ASSERT_LT(refs[1].size(), refs[0].size());  // the fixture has duplicates
  Status s;

  std::mt19937 rng(2026);
  int iterations = static_cast<int>(Scaled(4, 2));
  int kills_landed = 0, mid_build = 0;  // mid_build: store left partly built
  // The reference builds' time is only an estimate of a child's (fsync
  // latency varies a lot on a shared disk): every child that finishes before
  // its kill halves the delay scale, so kills keep landing inside builds.
  double scale_ms = full_ms;
  for (int it = 0; it < iterations; it++) {
    const bool dedup = it % 2 == 1;
    const std::vector<DocDump>& ref = refs[dedup];
    const std::string& ref_dir = ref_dirs[dedup];
    SCOPED_TRACE("iteration " + std::to_string(it) + (dedup ? " (--dedup-exact)" : ""));
    std::string store = dir.Sub("s" + std::to_string(it));
    std::vector<DocDump> last;  // state after the previous kill
    // Kill the same store up to three times in a row, then finish it.
    for (int round = 0; round < 3; round++) {
      pid_t pid = fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        BuildReport r;
        Status cs = BuildStore(store, inputs, SmallSegments(nullptr, dedup), &r);
        _exit(cs.ok() ? 0 : 1);
      }
      // Anywhere from before the first commit to past the end (sanitizer
      // builds are slower, so scale by the measured reference time).
      auto delay = std::chrono::microseconds(static_cast<int64_t>(scale_ms * 1000 * (rng() % 1200) / 1000.0));
      std::this_thread::sleep_for(delay);
      kill(pid, SIGKILL);
      int status = 0;
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
      if (WIFSIGNALED(status)) {
        kills_landed++;
      } else {
        ASSERT_EQ(WEXITSTATUS(status), 0) << "child build failed on its own";
        scale_ms = std::max(1.0, scale_ms / 2);
      }

      std::vector<DocDump> got;
      Status os = DumpStore(store, &got);
      if (!os.ok()) {
        // Only acceptable if nothing was ever committed (killed before the
        // catalog existed); never a store that opens half-built.
        EXPECT_FALSE(os.IsCorruption()) << os.ToString();
        EXPECT_TRUE(last.empty()) << "store committed before, but now: " << os.ToString();
        continue;
      }
      ASSERT_LE(got.size(), ref.size());
      ASSERT_GE(got.size(), last.size()) << "a kill lost committed documents";
      for (size_t i = 0; i < got.size(); i++) ASSERT_TRUE(got[i] == ref[i]) << "doc " << i << " differs";
      if (!got.empty() && got.size() < ref.size()) mid_build++;
      last = got;
    }
    // Resume to completion: same content as the uninterrupted build.
    s = BuildStore(store, inputs, SmallSegments(nullptr, dedup), &rep);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::vector<DocDump> final_docs;
    s = DumpStore(store, &final_docs);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(final_docs.size(), ref.size());
    for (size_t i = 0; i < ref.size(); i++) ASSERT_TRUE(final_docs[i] == ref[i]) << "doc " << i;
    std::unique_ptr<DocStore> a, b;
    ASSERT_TRUE(DocStore::Open(store, &a).ok());
    ASSERT_TRUE(DocStore::Open(ref_dir, &b).ok());
    StoreStats sa, sb;
    ASSERT_TRUE(a->Stats(&sa).ok());
    ASSERT_TRUE(b->Stats(&sb).ok());
    EXPECT_EQ(sa.exact_duplicate_docs, sb.exact_duplicate_docs);
    EXPECT_EQ(sa.exact_duplicate_bytes, sb.exact_duplicate_bytes);
    EXPECT_EQ(sa.text_bytes, sb.text_bytes);
    EXPECT_EQ(sa.dropped_docs, sb.dropped_docs);
    ExpectNoUnlistedSegments(store);
  }
  EXPECT_GT(kills_landed, 0) << "no kill landed during a build; the test did not test anything";
  EXPECT_GT(mid_build, 0) << "no kill left a partly built store; resume was not exercised";
}

// ---- injected faults ------------------------------------------------------

class BuildFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    inputs_ = MakeInputs(dir_, Scaled(2 << 20, 600 << 10));
    // Store A: the first input, committed cleanly.
    store_ = dir_.Sub("store");
    BuildReport rep;
    Status s = BuildStore(store_, {inputs_[0]}, SmallSegments(), &rep);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(DumpStore(store_, &committed_).ok());
    // Reference for A + rest, built uninterrupted.
    std::string ref = dir_.Sub("ref");
    ASSERT_TRUE(BuildStore(ref, {inputs_[0]}, SmallSegments(), &rep).ok());
    ASSERT_TRUE(BuildStore(ref, {inputs_[1], inputs_[2]}, SmallSegments(), &rep).ok());
    ASSERT_TRUE(DumpStore(ref, &full_).ok());
  }

  // After a failed build: the store must still open, verify, hold a
  // committed prefix of the full content that includes A, and a clean
  // re-run must complete it.
  void ExpectIntactThenResume(const Status& fault_status) {
    EXPECT_FALSE(fault_status.ok()) << "the fault was not reported";
    EXPECT_FALSE(fault_status.message().empty());
    std::vector<DocDump> got;
    Status s = DumpStore(store_, &got);
    ASSERT_TRUE(s.ok()) << "store damaged by a failed build: " << s.ToString();
    ASSERT_GE(got.size(), committed_.size());
    ASSERT_LE(got.size(), full_.size());
    for (size_t i = 0; i < got.size(); i++) ASSERT_TRUE(got[i] == full_[i]) << "doc " << i;
    BuildReport rep;
    s = BuildStore(store_, {inputs_[1], inputs_[2]}, SmallSegments(), &rep);
    ASSERT_TRUE(s.ok()) << s.ToString();
    s = DumpStore(store_, &got);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(got.size(), full_.size());
    for (size_t i = 0; i < got.size(); i++) ASSERT_TRUE(got[i] == full_[i]) << "doc " << i;
    ExpectNoUnlistedSegments(store_);
  }

  Status FaultyBuild(FaultInjectionEnv* env) {
    BuildReport rep;
    return BuildStore(store_, {inputs_[1], inputs_[2]}, SmallSegments(env), &rep);
  }

  TempDir dir_;
  std::vector<std::string> inputs_;
  std::string store_;
  std::vector<DocDump> committed_, full_;
};

TEST_F(BuildFaultTest, NoSpaceAtSeveralPoints) {
  for (uint64_t limit : {uint64_t{0}, uint64_t{1000}, uint64_t{200 << 10}}) {
    SCOPED_TRACE("write limit " + std::to_string(limit));
    FaultInjectionEnv env(Env::Default());
    env.SetWriteLimit(limit);
    Status s = FaultyBuild(&env);
    EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
    ExpectIntactThenResume(s);
    // Start over from A for the next limit.
    fs::remove_all(store_);
    BuildReport rep;
    ASSERT_TRUE(BuildStore(store_, {inputs_[0]}, SmallSegments(), &rep).ok());
  }
}

TEST_F(BuildFaultTest, InputReadErrorIsReportedWithFileName) {
  FaultInjectionEnv env(Env::Default());
  env.InjectFault(FaultOp::kRead, 1, "in2.jsonl");  // 2nd read of the file
  Status s = FaultyBuild(&env);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("in2.jsonl"), std::string::npos) << s.ToString();
  ExpectIntactThenResume(s);
}

TEST_F(BuildFaultTest, InputThatReadsBackShortIsReported) {
  FaultInjectionEnv env(Env::Default());
  env.SetTruncation("in1.jsonl", fs::file_size(inputs_[1]) / 2 + 3);
  Status s = FaultyBuild(&env);
  EXPECT_NE(s.message().find("in1.jsonl"), std::string::npos) << s.ToString();
  ExpectIntactThenResume(s);
}

TEST_F(BuildFaultTest, SyncFailure) {
  FaultInjectionEnv env(Env::Default());
  env.InjectFault(FaultOp::kSync, 2);
  Status s = FaultyBuild(&env);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  ExpectIntactThenResume(s);
}

TEST_F(BuildFaultTest, RenameFailureDuringPublish) {
  FaultInjectionEnv env(Env::Default());
  env.InjectFault(FaultOp::kRename, 1);
  Status s = FaultyBuild(&env);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  ExpectIntactThenResume(s);
}

TEST_F(BuildFaultTest, WriteErrorOnSegment) {
  FaultInjectionEnv env(Env::Default());
  env.InjectFault(FaultOp::kWrite, 5);
  Status s = FaultyBuild(&env);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  ExpectIntactThenResume(s);
}

TEST_F(BuildFaultTest, OpenWithFaultsGivesCleanErrors) {
  {
    FaultInjectionEnv env(Env::Default());
    env.InjectFault(FaultOp::kMap, 0, ".dds");
    std::vector<DocDump> got;
    Status s = DumpStore(store_, &got, &env);
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
  }
  {
    // Segments that read back short must not open (header says otherwise).
    FaultInjectionEnv env(Env::Default());
    env.SetTruncation(".dds", 1000);
    std::vector<DocDump> got;
    Status s = DumpStore(store_, &got, &env);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  }
  // Nothing on disk changed.
  std::vector<DocDump> got;
  ASSERT_TRUE(DumpStore(store_, &got).ok());
  ASSERT_TRUE(got == committed_);
}

// Verify re-reads every listed file through the store's Env: I/O errors and
// files that read back short become listed problems, not crashes or passes.
TEST_F(BuildFaultTest, VerifyReportsIoFaultsAsProblems) {
  FaultInjectionEnv env(Env::Default());
  DocStore::Options o;
  o.env = &env;
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(store_, o, &store).ok());
  std::vector<VerifyProblem> problems;
  ASSERT_TRUE(store->Verify(&problems).ok());
  ASSERT_TRUE(problems.empty());
  env.InjectFault(FaultOp::kMap, 0, ".dds");
  Status s = store->Verify(&problems);
  EXPECT_TRUE(!s.ok() || problems.size() >= store->num_segments()) << problems.size();
  for (auto& p : problems) EXPECT_NE(p.message.find("Input/output error"), std::string::npos) << p.message;
  env.ClearFaults();
  env.SetTruncation(".dds", 4096);
  s = store->Verify(&problems);
  EXPECT_TRUE(!s.ok() || problems.size() >= store->num_segments()) << problems.size();
  env.ClearFaults();
  ASSERT_TRUE(store->Verify(&problems).ok());
  EXPECT_TRUE(problems.empty());
  // Documents are still served from the maps opened before the faults.
  EXPECT_EQ(store->Text(0), committed_[0].text);
}

// ---- real on-disk damage ----------------------------------------------------

std::vector<std::string> SegmentFiles(const std::string& store) {
  std::vector<std::string> out;
  for (auto& e : fs::directory_iterator(store + "/segments")) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(BuildFaultTest, VerifyFindsAFlippedByteInASegment) {
  auto segs = SegmentFiles(store_);
  ASSERT_GE(segs.size(), 2u);
  std::string victim = segs[segs.size() / 2];
  std::string bytes = ReadFile(victim);
  bytes[128 + (bytes.size() - 128) / 3] ^= 0x01;  // inside the text
  fs::permissions(victim, fs::perms::owner_write, fs::perm_options::add);
  WriteFile(victim, bytes);
  std::unique_ptr<DocStore> store;
  Status s = DocStore::Open(store_, &store);
  ASSERT_TRUE(s.ok()) << "a body flip should be found by verify, not block open: " << s.ToString();
  std::vector<VerifyProblem> problems;
  s = store->Verify(&problems);
  EXPECT_TRUE(!s.ok() || !problems.empty()) << "flipped byte not detected";
  bool named = false;
  for (auto& p : problems) named |= p.path.find(fs::path(victim).filename().string()) != std::string::npos;
  EXPECT_TRUE(named || s.message().find(fs::path(victim).filename().string()) != std::string::npos)
      << "problem does not name " << victim;
}

TEST_F(BuildFaultTest, TruncatedOrMissingSegmentFailsOpen) {
  auto segs = SegmentFiles(store_);
  std::string victim = segs.back();
  std::string bytes = ReadFile(victim);
  fs::permissions(victim, fs::perms::owner_write, fs::perm_options::add);
  WriteFile(victim, bytes.substr(0, bytes.size() - 100));
  std::unique_ptr<DocStore> store;
  Status s = DocStore::Open(store_, &store);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(fs::path(victim).filename().string()), std::string::npos) << s.ToString();
  fs::remove(victim);
  s = DocStore::Open(store_, &store);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(fs::path(victim).filename().string()), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace dedupdb
