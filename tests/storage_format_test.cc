// The file envelope (FileBuilder / EnvelopedFile), document segments and the
// LMDB catalog, checked against hand-decoded bytes and xxhash called directly.
#include <xxhash.h>

#include <cstring>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "storage/catalog.h"
#include "storage/fault_injection_env.h"
#include "storage/file_format.h"
#include "storage/layout.h"
#include "storage/segment.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

using test::ReadFile;
using test::TempDir;
using test::WriteFile;

uint64_t Le64(const std::string& s, size_t off) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | static_cast<unsigned char>(s[off + i]);
  return v;
}

Status BuildFile(Env* env, const std::string& path, const std::string& body, FileKind kind = FileKind::kGeneric) {
  std::unique_ptr<FileBuilder> b;
  DEDUPDB_RETURN_IF_ERROR(FileBuilder::Create(env, path, kind, 3, &b));
  for (size_t i = 0; i < body.size(); i += 1000) DEDUPDB_RETURN_IF_ERROR(b->Append(std::string_view(body).substr(i, 1000)));
  b->SetParam(0, 42);
  b->SetParam(9, UINT64_MAX - 1);
  return b->Finish();
}

TEST(FileFormatTest, EnvelopeBytesMatchTheSpec) {
  TempDir dir;
  std::string path = dir.Sub("f.bin");
  std::string body(12345, '\0');
  std::mt19937 rng(4);
  for (auto& c : body) c = static_cast<char>(rng());
  ASSERT_TRUE(BuildFile(Env::Default(), path, body, FileKind::kLshBuckets).ok());
  std::string f = ReadFile(path);
  ASSERT_EQ(f.size(), kFileHeaderSize + body.size());
  EXPECT_EQ(f.substr(0, 8), std::string("DEDUPDB\x1a", 8));
  EXPECT_EQ(static_cast<unsigned char>(f[8]) | (static_cast<unsigned char>(f[9]) << 8), 4);  // kLshBuckets
  EXPECT_EQ(Le64(f, 12) & 0xffffffffu, 3u);  // version
  EXPECT_EQ(Le64(f, 16), body.size());
  EXPECT_EQ(Le64(f, 24), XXH3_64bits(body.data(), body.size()));
  EXPECT_EQ(Le64(f, 32), 42u);
  EXPECT_EQ(Le64(f, 32 + 72), UINT64_MAX - 1);
  EXPECT_EQ(Le64(f, 120), XXH3_64bits(f.data(), 120));
  EXPECT_EQ(f.substr(128), body);

  std::unique_ptr<EnvelopedFile> ef;
  ASSERT_TRUE(EnvelopedFile::Open(Env::Default(), path, FileKind::kLshBuckets, 3, &ef).ok());
  EXPECT_EQ(ef->body(), body);
  EXPECT_EQ(ef->param(0), 42u);
  EXPECT_EQ(ef->header().version, 3u);
  EXPECT_TRUE(ef->VerifyBody().ok());
}

TEST(FileFormatTest, OpenRejectsWrongKindVersionTruncationAndCorruption) {
  TempDir dir;
  std::string path = dir.Sub("f.bin");
  std::string body(5000, 'x');
  ASSERT_TRUE(BuildFile(Env::Default(), path, body).ok());
  Env* env = Env::Default();
  std::unique_ptr<EnvelopedFile> ef;
  EXPECT_FALSE(EnvelopedFile::Open(env, path, FileKind::kSegment, 3, &ef).ok());  // kind
  EXPECT_FALSE(EnvelopedFile::Open(env, path, FileKind::kGeneric, 2, &ef).ok());  // newer version
  std::string good = ReadFile(path);

  // Truncated body: size != 128 + body size.
  WriteFile(path, good.substr(0, good.size() - 1));
  Status s = EnvelopedFile::Open(env, path, FileKind::kGeneric, 3, &ef);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("f.bin"), std::string::npos) << s.ToString();
  // Shorter than a header.
  WriteFile(path, good.substr(0, 50));
  EXPECT_TRUE(EnvelopedFile::Open(env, path, FileKind::kGeneric, 3, &ef).IsCorruption());
  // Header byte flipped (params area): header checksum catches it.
  std::string bad = good;
  bad[40] ^= 1;
  WriteFile(path, bad);
  EXPECT_TRUE(EnvelopedFile::Open(env, path, FileKind::kGeneric, 3, &ef).IsCorruption());
  // Body byte flipped: opens (header is fine), VerifyBody fails.
  bad = good;
  bad[128 + 4321] ^= 0x40;
  WriteFile(path, bad);
  ASSERT_TRUE(EnvelopedFile::Open(env, path, FileKind::kGeneric, 3, &ef).ok());
  s = ef->VerifyBody();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("f.bin"), std::string::npos) << s.ToString();
}

TEST(FileFormatTest, UnfinishedOrAbandonedFileNeverOpens) {
  TempDir dir;
  Env* env = Env::Default();
  std::string path = dir.Sub("u.bin");
  {
    std::unique_ptr<FileBuilder> b;
    ASSERT_TRUE(FileBuilder::Create(env, path, FileKind::kGeneric, 1, &b).ok());
    ASSERT_TRUE(b->Append(std::string(100000, 'z')).ok());
    // No Finish(): whatever reached disk has no valid header.
    std::unique_ptr<EnvelopedFile> ef;
    EXPECT_FALSE(EnvelopedFile::Open(env, path, FileKind::kGeneric, 1, &ef).ok());
    b->Abandon();
  }
  EXPECT_FALSE(env->FileExists(path));
}

TEST(FileFormatTest, FaultsWhileBuildingGiveCleanErrors) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default());
  env.SetWriteLimit(3000);
  Status s = BuildFile(&env, dir.Sub("a"), std::string(10000, 'a'));
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  env.ClearFaults();
  env.InjectFault(FaultOp::kSync, 0);
  s = BuildFile(&env, dir.Sub("b"), std::string(10000, 'b'));
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  env.ClearFaults();
  // Whatever was left behind must not open as a valid file.
  for (const char* name : {"a", "b"}) {
    std::unique_ptr<EnvelopedFile> ef;
    if (env.FileExists(dir.Sub(name))) {
      Status o = EnvelopedFile::Open(&env, dir.Sub(name), FileKind::kGeneric, 3, &ef);
      if (o.ok()) {
        // A sync failure after the header was written is allowed to leave a
        // complete file, but then it must verify.
        EXPECT_TRUE(ef->VerifyBody().ok()) << name;
        EXPECT_EQ(ef->body(), std::string(10000, name[0]));
      }
    }
  }
  // Reading a file that looks truncated: clean Corruption, no crash.
  ASSERT_TRUE(BuildFile(&env, dir.Sub("c"), std::string(10000, 'c')).ok());
  env.SetTruncation("/c", 5000);
  std::unique_ptr<EnvelopedFile> ef;
  s = EnvelopedFile::Open(&env, dir.Sub("c"), FileKind::kGeneric, 3, &ef);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  env.ClearFaults();
  env.InjectFault(FaultOp::kMap, 0);
  EXPECT_TRUE(EnvelopedFile::Open(&env, dir.Sub("c"), FileKind::kGeneric, 3, &ef).IsIOError());
}

TEST(SegmentTest, RoundTripAgainstInputsAndOffsetsTable) {
  TempDir dir;
  Env* env = Env::Default();
  std::string path = dir.Sub("seg.dds");
  std::vector<std::string> docs;
  std::mt19937 rng(8);
  for (int i = 0; i < 2000; i++) {
    size_t len = (i % 97 == 0) ? 0 : rng() % 3000;  // include empty docs
    std::string d(len, '\0');
    for (auto& c : d) c = static_cast<char>('a' + rng() % 26);
    docs.push_back(d);
  }
  std::unique_ptr<SegmentWriter> w;
  ASSERT_TRUE(SegmentWriter::Create(env, path, 7, 1000, &w).ok());
  uint64_t total = 0;
  for (auto& d : docs) {
    ASSERT_TRUE(w->Add(d).ok());
    total += d.size();
  }
  EXPECT_EQ(w->doc_count(), docs.size());
  EXPECT_EQ(w->text_bytes(), total);
  ASSERT_TRUE(w->Finish().ok());

  std::unique_ptr<SegmentReader> r;
  ASSERT_TRUE(SegmentReader::Open(env, path, &r).ok());
  EXPECT_EQ(r->segment_id(), 7u);
  EXPECT_EQ(r->first_doc_id(), 1000u);
  EXPECT_EQ(r->doc_count(), docs.size());
  EXPECT_EQ(r->text_bytes(), total);
  std::string concat;
  for (size_t i = 0; i < docs.size(); i++) {
    ASSERT_EQ(r->Doc(i), docs[i]) << i;
    concat += docs[i];
  }
  EXPECT_EQ(r->AllText(), concat);
  EXPECT_TRUE(r->file().VerifyBody().ok());

  // Byte layout: text, zero pad to 8, u64 offsets; params[4] = table offset.
  std::string f = ReadFile(path);
  uint64_t table = r->file().param(4);
  EXPECT_EQ(table % 8, 0u);
  EXPECT_GE(table, total);
  EXPECT_LT(table - total, 8u);
  EXPECT_EQ(f.substr(128, total), concat);
  EXPECT_EQ(f.substr(128 + total, table - total), std::string(table - total, '\0'));
  EXPECT_EQ(Le64(f, 128 + table), 0u);
  EXPECT_EQ(Le64(f, 128 + table + 8 * docs.size()), total);
  EXPECT_EQ(f.size(), 128 + table + 8 * (docs.size() + 1));
  EXPECT_EQ(Le64(f, 8 + 8) , f.size() - 128);
}

TEST(SegmentTest, CorruptOffsetsAreRejectedOnOpen) {
  TempDir dir;
  Env* env = Env::Default();
  std::string path = dir.Sub("seg.dds");
  std::unique_ptr<SegmentWriter> w;
  ASSERT_TRUE(SegmentWriter::Create(env, path, 1, 0, &w).ok());
  ASSERT_TRUE(w->Add("hello").ok());
  ASSERT_TRUE(w->Add("world").ok());
  ASSERT_TRUE(w->Finish().ok());
  std::unique_ptr<SegmentReader> r;
  ASSERT_TRUE(SegmentReader::Open(env, path, &r).ok());
  EXPECT_EQ(r->Doc(1), "world");
  // A segment file cut in the middle must not open.
  std::string f = ReadFile(path);
  WriteFile(path, f.substr(0, f.size() - 8));
  EXPECT_FALSE(SegmentReader::Open(env, path, &r).ok());
}

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(Catalog::Open(Env::Default(), dir_.Sub("cat"), true, false, &cat_).ok()); }
  TempDir dir_;
  std::unique_ptr<Catalog> cat_;
};

TEST_F(CatalogTest, PutGetScanCountCommitAbort) {
  std::map<std::string, std::string> oracle;
  {
    std::unique_ptr<CatalogWriteTxn> t;
    ASSERT_TRUE(cat_->BeginWrite(&t).ok());
    for (int i = 0; i < 500; i++) {
      std::string k = "key" + std::to_string(i * 7919 % 1000);
      std::string v(i % 50, static_cast<char>('A' + i % 26));
      ASSERT_TRUE(t->Put(Table::kMeta, k, v).ok());
      oracle[k] = v;
    }
    ASSERT_TRUE(t->PutU64(Table::kSegments, "n", 123456789012345ull).ok());
    ASSERT_TRUE(t->Commit().ok());
  }
  {
    // Aborted changes are invisible.
    std::unique_ptr<CatalogWriteTxn> t;
    ASSERT_TRUE(cat_->BeginWrite(&t).ok());
    ASSERT_TRUE(t->Put(Table::kMeta, "aborted", "x").ok());
    ASSERT_TRUE(t->Delete(Table::kMeta, oracle.begin()->first).ok());
    t->Abort();
  }
  std::unique_ptr<CatalogReadTxn> r;
  ASSERT_TRUE(cat_->BeginRead(&r).ok());
  uint64_t n = 0;
  ASSERT_TRUE(r->Count(Table::kMeta, &n).ok());
  EXPECT_EQ(n, oracle.size());
  std::string_view v;
  EXPECT_TRUE(r->Get(Table::kMeta, "aborted", &v).IsNotFound());
  uint64_t u = 0;
  ASSERT_TRUE(r->GetU64(Table::kSegments, "n", &u).ok());
  EXPECT_EQ(u, 123456789012345ull);
  std::vector<std::pair<std::string, std::string>> scanned;
  auto collect = [&](std::string_view k, std::string_view val) {
    scanned.emplace_back(k, val);
    return true;
  };
  ASSERT_TRUE(r->Scan(Table::kMeta, "", collect).ok());
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(scanned, Pairs(oracle.begin(), oracle.end()));
  // Scan from a start key, stopping early.
  std::vector<std::string> keys;
  auto first3 = [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return keys.size() < 3;
  };
  ASSERT_TRUE(r->Scan(Table::kMeta, "key5", first3).ok());
  auto it = oracle.lower_bound("key5");
  ASSERT_EQ(keys.size(), 3u);
  for (auto& k : keys) EXPECT_EQ(k, (it++)->first);
  // Tables are separate namespaces.
  EXPECT_TRUE(r->Get(Table::kDocs, oracle.begin()->first, &v).IsNotFound());
}

TEST_F(CatalogTest, ExtIdsAllowDuplicateKeysAndReopenKeepsData) {
  {
    std::unique_ptr<CatalogWriteTxn> t;
    ASSERT_TRUE(cat_->BeginWrite(&t).ok());
    ASSERT_TRUE(t->Put(Table::kExtIds, "same", std::string("\0\0\0\0\0\0\0\1", 8)).ok());
    ASSERT_TRUE(t->Put(Table::kExtIds, "same", std::string("\0\0\0\0\0\0\0\2", 8)).ok());
    ASSERT_TRUE(t->Put(Table::kExtIds, "other", std::string("\0\0\0\0\0\0\0\3", 8)).ok());
    ASSERT_TRUE(t->Commit().ok());
  }
  cat_.reset();
  ASSERT_TRUE(Catalog::Open(Env::Default(), dir_.Sub("cat"), false, true, &cat_).ok());
  std::unique_ptr<CatalogReadTxn> r;
  ASSERT_TRUE(cat_->BeginRead(&r).ok());
  int same = 0;
  auto count_same = [&](std::string_view k, std::string_view) {
    if (k != "same") return false;
    same++;
    return true;
  };
  ASSERT_TRUE(r->Scan(Table::kExtIds, "same", count_same).ok());
  EXPECT_EQ(same, 2);
  EXPECT_GT(cat_->DiskBytes(), 0u);
}

TEST(CatalogOpenTest, MissingCatalogWithoutCreateFails) {
  TempDir dir;
  std::unique_ptr<Catalog> cat;
  Status s = Catalog::Open(Env::Default(), dir.Sub("none"), false, false, &cat);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("none"), std::string::npos) << s.ToString();
}

TEST(LayoutTest, PathsAreUnderTheRoot) {
  StoreLayout l("/s");
  EXPECT_EQ(l.Absolute("segments/x"), "/s/segments/x");
  EXPECT_EQ(l.catalog_dir().rfind("/s/", 0), 0u);
  EXPECT_EQ(l.lock_file().rfind("/s/", 0), 0u);
  EXPECT_NE(StoreLayout::SegmentFile(1), StoreLayout::SegmentFile(2));
  EXPECT_NE(StoreLayout::IndexDir("sa", "x", 1), StoreLayout::IndexDir("sa", "x", 2));
  EXPECT_NE(StoreLayout::IndexDir("sa", "x", 1), StoreLayout::IndexDir("lsh", "x", 1));
  EXPECT_NE(l.StagingDir("a"), l.StagingDir("b"));
}

}  // namespace
}  // namespace dedupdb
