// Store round-trip (BuildStore -> DocStore) against the input documents:
// every doc's text and metadata, duplicate bookkeeping recomputed here with
// xxhash and std::map, appends that never touch old segments, resume, the
// publish protocol and garbage collection.
#include <sys/stat.h>
#include <xxhash.h>

#include <filesystem>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "storage/doc_store.h"
#include "storage/layout.h"
#include "storage/store_builder.h"
#include "storage/store_writer.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

using test::JsonlDoc;
using test::ReadFile;
using test::RunShell;
using test::Scaled;
using test::TempDir;
using test::WriteFile;

namespace fs = std::filesystem;

// One input document as the test wrote it.
struct Doc {
  std::string id, text, source;
  uint64_t line;
};

std::string JsonQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Writes docs as JSONL (one per line, lines numbered from 1).
std::vector<Doc> WriteJsonl(const std::string& path, const std::vector<std::pair<std::string, std::string>>& docs) {
  std::string data;
  std::vector<Doc> out;
  uint64_t line = 0;
  for (auto& [id, text] : docs) {
    data += "{\"id\": " + JsonQuote(id) + ", \"text\": " + JsonQuote(text) + "}\n";
    out.push_back(Doc{id, text, path, ++line});
  }
  WriteFile(path, data);
  return out;
}

// Random texts with deliberate exact duplicates (every 7th repeats an
// earlier text) and near duplicates (one byte changed).
std::vector<std::pair<std::string, std::string>> MakeDocs(size_t n, uint32_t seed, const std::string& prefix) {
  std::mt19937 rng(seed);
  std::vector<std::pair<std::string, std::string>> docs;
  static const char* words[] = {"alpha", "beta", "gamma", "delta", "über", "naïve", "日本", "line\nbreak", "tab\t",
                                "\"quoted\"", "back\\slash"};
  for (size_t i = 0; i < n; i++) {
    std::string text;
    if (i % 7 == 6 && i > 0) {
      text = docs[rng() % i].second;
    } else if (i % 11 == 10) {
      text = docs[rng() % i].second + "!";
    } else {
      size_t words_n = rng() % 200;
      for (size_t w = 0; w < words_n; w++) text += std::string(words[rng() % 11]) + " ";
    }
    docs.emplace_back(prefix + std::to_string(i), text);
  }
  return docs;
}

Hash128 OracleHash(const std::string& s) {
  XXH128_hash_t h = XXH3_128bits(s.data(), s.size());
  return Hash128{h.low64, h.high64};
}

// Checks every stored doc against `want` (in doc-id order), including the
// first-copy bookkeeping, which is recomputed from the texts.
void ExpectStoreEquals(const std::string& store_dir, const std::vector<Doc>& want, uint64_t expect_segments_min = 1) {
  std::unique_ptr<DocStore> store;
  Status s = DocStore::Open(store_dir, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(store->num_docs(), want.size());
  std::map<std::string, uint64_t> first;
  uint64_t bytes = 0, dup_docs = 0, dup_bytes = 0;
  for (uint64_t i = 0; i < want.size(); i++) {
    ASSERT_EQ(store->Text(i), want[i].text) << "doc " << i;
    std::string_view t;
    ASSERT_TRUE(store->GetText(i, &t).ok());
    ASSERT_EQ(t, want[i].text);
    DocMeta m;
    ASSERT_TRUE(store->GetMeta(i, &m).ok());
    EXPECT_EQ(m.doc_id, i);
    ASSERT_EQ(m.external_id, want[i].id) << "doc " << i;
    ASSERT_EQ(m.source, want[i].source) << "doc " << i;
    ASSERT_EQ(m.line, want[i].line) << "doc " << i;
    ASSERT_EQ(m.length, want[i].text.size());
    ASSERT_EQ(m.hash, OracleHash(want[i].text)) << "doc " << i;
    auto it = first.find(want[i].text);
    if (it == first.end()) {
      first[want[i].text] = i;
      ASSERT_EQ(m.duplicate_of, kNoDoc) << "doc " << i;
    } else {
      ASSERT_EQ(m.duplicate_of, it->second) << "doc " << i;
      dup_docs++;
      dup_bytes += want[i].text.size();
    }
    bytes += want[i].text.size();
  }
  std::string_view t;
  EXPECT_TRUE(store->GetText(want.size(), &t).IsNotFound());
  DocMeta m;
  EXPECT_TRUE(store->GetMeta(want.size(), &m).IsNotFound());
  EXPECT_EQ(store->text_bytes(), bytes);
  StoreStats st;
  ASSERT_TRUE(store->Stats(&st).ok());
  EXPECT_EQ(st.docs, want.size());
  EXPECT_EQ(st.text_bytes, bytes);
  EXPECT_EQ(st.exact_duplicate_docs, dup_docs);
  EXPECT_EQ(st.exact_duplicate_bytes, dup_bytes);
  EXPECT_EQ(st.segments, store->num_segments());
  EXPECT_GE(st.segments, expect_segments_min);
  EXPECT_GT(st.segment_file_bytes, bytes);
  // Segments tile the doc id space in order.
  uint64_t next = 0;
  for (size_t i = 0; i < store->num_segments(); i++) {
    EXPECT_EQ(store->segment(i).first_doc_id(), next);
    next += store->segment(i).doc_count();
  }
  EXPECT_EQ(next, want.size());
  std::vector<VerifyProblem> problems;
  ASSERT_TRUE(store->Verify(&problems).ok());
  EXPECT_TRUE(problems.empty()) << problems[0].path << ": " << problems[0].message;
}

Status Build(const std::string& store, const std::vector<std::string>& inputs, BuildReport* report,
             uint64_t segment_bytes = 64 << 10, bool dedup = false) {
  BuildOptions opts;
  opts.segment_bytes = segment_bytes;
  opts.dedup_exact = dedup;
  return BuildStore(store, inputs, opts, report);
}

TEST(DocStoreTest, RoundTripEveryDocAndMeta) {
  TempDir dir;
  auto docs = WriteJsonl(dir.Sub("a.jsonl"), MakeDocs(Scaled(3000, 400), 1, "a"));
  BuildReport rep;
  Status s = Build(dir.Sub("store"), {dir.Sub("a.jsonl")}, &rep);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(rep.docs_read, docs.size());
  EXPECT_EQ(rep.docs_added, docs.size());
  EXPECT_GT(rep.segments_added, 1u);  // 64 KiB segments force several
  uint64_t bytes = 0;
  for (auto& d : docs) bytes += d.text.size();
  EXPECT_EQ(rep.bytes_added, bytes);
  EXPECT_EQ(rep.decoded_bytes, fs::file_size(dir.Sub("a.jsonl")));
  ExpectStoreEquals(dir.Sub("store"), docs, 2);
}

TEST(DocStoreTest, RealCorpusRoundTrip) {
  if (!test::HaveSharedData("corpus/bbc_news.jsonl.zst")) GTEST_SKIP() << "../shared/data/corpus is missing";
  TempDir dir;
  std::string src = test::SharedDataDir() + "/corpus/bbc_news.jsonl.zst";
  size_t n = Scaled(SIZE_MAX, 300);
  std::string input = src;
  if (n != SIZE_MAX) {
    std::string out;
    input = dir.Sub("bbc_prefix.jsonl");
    ASSERT_EQ(RunShell("zstd -dc '" + src + "' | head -n " + std::to_string(n) + " > '" + input + "'", &out), 0);
  }
  auto oracle = test::ReadJsonlZstOracle(src, n);
  std::vector<Doc> want;
  for (size_t i = 0; i < oracle.size(); i++) want.push_back(Doc{oracle[i].id, oracle[i].text, input, i + 1});
  BuildReport rep;
  Status s = Build(dir.Sub("store"), {input}, &rep, 1 << 20);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectStoreEquals(dir.Sub("store"), want);
}

TEST(DocStoreTest, FindByExternalIdMatchesAllCopies) {
  TempDir dir;
  auto a = WriteJsonl(dir.Sub("a.jsonl"), {{"x", "one"}, {"y", "two"}, {"x", "three"}, {"", "empty id"},
                                           {"xy", "four"}, {std::string(700, 'L'), "long id"}});
  BuildReport rep;
  Status s = Build(dir.Sub("store"), {dir.Sub("a.jsonl")}, &rep);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::unique_ptr<DocStore> store;
  ASSERT_TRUE(DocStore::Open(dir.Sub("store"), &store).ok());
  std::vector<uint64_t> ids;
  ASSERT_TRUE(store->FindByExternalId("x", &ids).ok());
  EXPECT_EQ(ids, (std::vector<uint64_t>{0, 2}));
  ASSERT_TRUE(store->FindByExternalId("xy", &ids).ok());
  EXPECT_EQ(ids, (std::vector<uint64_t>{4}));
  ASSERT_TRUE(store->FindByExternalId("nope", &ids).ok());
  EXPECT_TRUE(ids.empty());
  ASSERT_TRUE(store->FindByExternalId(std::string(700, 'L'), &ids).ok());
  EXPECT_EQ(ids, (std::vector<uint64_t>{5}));
  ASSERT_TRUE(store->FindByExternalId(std::string(699, 'L'), &ids).ok());
  EXPECT_TRUE(ids.empty());
  DocMeta m;
  ASSERT_TRUE(store->GetMeta(5, &m).ok());
  EXPECT_EQ(m.external_id, std::string(700, 'L'));
}

// Appending a second corpus adds segments and leaves the old files alone
// (same bytes, same mtime, same inode).
TEST(DocStoreTest, AppendAddsSegmentsWithoutRewritingOldOnes) {
  TempDir dir;
  auto a = WriteJsonl(dir.Sub("a.jsonl"), MakeDocs(Scaled(1500, 300), 2, "a"));
  auto b = WriteJsonl(dir.Sub("b.jsonl"), MakeDocs(Scaled(1500, 300), 3, "b"));
  // Copy some of a's texts into c so duplicates span the two builds.
  std::vector<std::pair<std::string, std::string>> craw;
  for (size_t i = 0; i < 50; i++) craw.emplace_back("c" + std::to_string(i), a[i * 3].text);
  auto c = WriteJsonl(dir.Sub("c.jsonl"), craw);
  std::string store = dir.Sub("store");
  BuildReport rep;
  ASSERT_TRUE(Build(store, {dir.Sub("a.jsonl")}, &rep).ok());

  struct Snap {
    std::string bytes;
    fs::file_time_type mtime;
    ino_t ino;
  };
  std::map<std::string, Snap> before;
  for (auto& e : fs::directory_iterator(store + "/segments")) {
    struct stat st;
    ASSERT_EQ(stat(e.path().c_str(), &st), 0);
    before[e.path()] = Snap{ReadFile(e.path()), fs::last_write_time(e.path()), st.st_ino};
  }
  ASSERT_GE(before.size(), 2u);

  ASSERT_TRUE(Build(store, {dir.Sub("b.jsonl"), dir.Sub("c.jsonl")}, &rep).ok());
  EXPECT_EQ(rep.docs_added, b.size() + c.size());
  EXPECT_GE(rep.exact_duplicates, 50u);
  size_t after_count = 0;
  for (auto& e : fs::directory_iterator(store + "/segments")) {
    after_count++;
    auto it = before.find(e.path());
    if (it == before.end()) continue;
    struct stat st;
    ASSERT_EQ(stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_ino, it->second.ino) << e.path();
    EXPECT_TRUE(fs::last_write_time(e.path()) == it->second.mtime) << e.path();
    EXPECT_TRUE(ReadFile(e.path()) == it->second.bytes) << e.path();
  }
  EXPECT_GT(after_count, before.size());
  for (auto& [path, snap] : before) EXPECT_TRUE(fs::exists(path)) << path;

  std::vector<Doc> all = a;
  all.insert(all.end(), b.begin(), b.end());
  all.insert(all.end(), c.begin(), c.end());
  ExpectStoreEquals(store, all, 3);
}

// A reader keeps the snapshot it opened while a writer appends; reopening
// shows the new documents.
TEST(DocStoreTest, OpenStoreIsASnapshotWhileAppending) {
  TempDir dir;
  auto a = WriteJsonl(dir.Sub("a.jsonl"), MakeDocs(300, 8, "a"));
  auto b = WriteJsonl(dir.Sub("b.jsonl"), MakeDocs(300, 9, "b"));
  std::string store = dir.Sub("store");
  BuildReport rep;
  ASSERT_TRUE(Build(store, {dir.Sub("a.jsonl")}, &rep).ok());
  std::unique_ptr<DocStore> old_view;
  ASSERT_TRUE(DocStore::Open(store, &old_view).ok());
  ASSERT_TRUE(Build(store, {dir.Sub("b.jsonl")}, &rep).ok());
  EXPECT_EQ(old_view->num_docs(), a.size());
  for (uint64_t i = 0; i < a.size(); i++) ASSERT_EQ(old_view->Text(i), a[i].text);
  std::string_view t;
  EXPECT_TRUE(old_view->GetText(a.size(), &t).IsNotFound());
  std::vector<uint64_t> ids;
  ASSERT_TRUE(old_view->FindByExternalId(b[0].id, &ids).ok());
  EXPECT_TRUE(ids.empty()) << "a doc committed after the snapshot is visible";
  std::vector<Doc> all = a;
  all.insert(all.end(), b.begin(), b.end());
  ExpectStoreEquals(store, all);
}

TEST(DocStoreTest, RerunSkipsCompletedSourcesAndChangedSourceIsRefused) {
  TempDir dir;
  auto a = WriteJsonl(dir.Sub("a.jsonl"), MakeDocs(200, 4, "a"));
  std::string store = dir.Sub("store");
  BuildReport rep;
  ASSERT_TRUE(Build(store, {dir.Sub("a.jsonl")}, &rep).ok());
  ASSERT_TRUE(Build(store, {dir.Sub("a.jsonl")}, &rep).ok());
  EXPECT_EQ(rep.docs_added, 0u);
  EXPECT_EQ(rep.sources_already_done, 1u);
  ExpectStoreEquals(store, a);
  // The same path with different content must not be mixed in silently.
  WriteJsonl(dir.Sub("a.jsonl"), MakeDocs(210, 5, "a"));
  Status s = Build(store, {dir.Sub("a.jsonl")}, &rep);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("a.jsonl"), std::string::npos) << s.ToString();
  ExpectStoreEquals(store, a);
}

TEST(DocStoreTest, DedupExactKeepsFirstCopyAndRecordsTheRest) {
  TempDir dir;
  auto raw = MakeDocs(Scaled(2000, 300), 6, "d");
  auto docs = WriteJsonl(dir.Sub("d.jsonl"), raw);
  std::string store = dir.Sub("store");
  BuildReport rep;
  ASSERT_TRUE(Build(store, {dir.Sub("d.jsonl")}, &rep, 64 << 10, /*dedup=*/true).ok());
  std::vector<Doc> kept;
  std::map<std::string, bool> seen;
  uint64_t dropped = 0;
  for (auto& d : docs) {
    if (seen[d.text]) {
      dropped++;
      continue;
    }
    seen[d.text] = true;
    kept.push_back(d);
  }
  ASSERT_GT(dropped, 0u);
  EXPECT_EQ(rep.dropped_duplicates, dropped);
  EXPECT_EQ(rep.exact_duplicates, dropped);
  EXPECT_EQ(rep.docs_added, kept.size());
  ExpectStoreEquals(store, kept);
  std::unique_ptr<DocStore> s;
  ASSERT_TRUE(DocStore::Open(store, &s).ok());
  StoreStats st;
  ASSERT_TRUE(s->Stats(&st).ok());
  EXPECT_EQ(st.dropped_docs, dropped);
  EXPECT_EQ(st.exact_duplicate_docs, 0u);
  // The dropped docs are recorded in the catalog (one entry each).
  std::unique_ptr<CatalogReadTxn> txn;
  ASSERT_TRUE(s->catalog()->BeginRead(&txn).ok());
  uint64_t n = 0;
  ASSERT_TRUE(txn->Count(Table::kDropped, &n).ok());
  EXPECT_EQ(n, dropped);
}

// Exact duplicate counts on real data vs. an independent count (python3
// hashing the texts) and the figures in ../shared/data/MANIFEST.md.
TEST(DocStoreTest, ExactDuplicateCountsOnRealData) {
  if (!test::HaveSharedData("corpus/bbc_news.jsonl.zst")) GTEST_SKIP() << "../shared/data/corpus is missing";
  std::vector<std::pair<std::string, uint64_t>> cases = {{"bbc_news.jsonl.zst", 98}};
  if (!test::SmallScale()) cases.push_back({"imdb_reviews.jsonl.zst", 1531});
  for (auto& [name, manifest_count] : cases) {
    SCOPED_TRACE(name);
    std::string path = test::SharedDataDir() + "/corpus/" + name;
    std::string out;
    int rc = RunShell("zstd -dc '" + path +
                          "' | /usr/bin/python3 -c 'import sys, json\n"
                          "seen = set(); d = 0\n"
                          "for l in sys.stdin.buffer:\n"
                          "    t = json.loads(l)[\"text\"]\n"
                          "    d += t in seen; seen.add(t)\n"
                          "print(d)'",
                      &out);
    ASSERT_EQ(rc, 0);
    uint64_t python_count = std::stoull(out);
    EXPECT_EQ(python_count, manifest_count);
    TempDir dir;
    BuildReport rep;
    Status s = Build(dir.Sub("store"), {path}, &rep, 32 << 20);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(rep.exact_duplicates, python_count);
    std::unique_ptr<DocStore> store;
    ASSERT_TRUE(DocStore::Open(dir.Sub("store"), &store).ok());
    StoreStats st;
    ASSERT_TRUE(store->Stats(&st).ok());
    EXPECT_EQ(st.exact_duplicate_docs, python_count);
  }
}

// The catalog stores paths relative to the store root: a moved store opens,
// verifies and can be appended to.
TEST(DocStoreTest, MovedStoreStillOpensAndAppends) {
  TempDir dir;
  auto a = WriteJsonl(dir.Sub("a.jsonl"), MakeDocs(200, 10, "a"));
  auto b = WriteJsonl(dir.Sub("b.jsonl"), MakeDocs(200, 11, "b"));
  BuildReport rep;
  ASSERT_TRUE(Build(dir.Sub("old"), {dir.Sub("a.jsonl")}, &rep).ok());
  fs::rename(dir.Sub("old"), dir.Sub("new"));
  ExpectStoreEquals(dir.Sub("new"), a);
  ASSERT_TRUE(Build(dir.Sub("new"), {dir.Sub("b.jsonl")}, &rep).ok());
  std::vector<Doc> all = a;
  all.insert(all.end(), b.begin(), b.end());
  ExpectStoreEquals(dir.Sub("new"), all);
}

TEST(DocStoreTest, OpenMissingOrEmptyDirFailsCleanly) {
  TempDir dir;
  std::unique_ptr<DocStore> store;
  Status s = DocStore::Open(dir.Sub("nothing"), &store);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("nothing"), std::string::npos) << s.ToString();
  fs::create_directories(dir.Sub("empty"));
  EXPECT_FALSE(DocStore::Open(dir.Sub("empty"), &store).ok());
}

TEST(StoreWriterTest, SecondWriterIsRefusedWhileFirstHoldsTheLock) {
  TempDir dir;
  std::unique_ptr<StoreWriter> w1, w2;
  ASSERT_TRUE(StoreWriter::Open(Env::Default(), dir.Sub("s"), true, &w1).ok());
  Status s = StoreWriter::Open(Env::Default(), dir.Sub("s"), true, &w2);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(s.message().empty());
  // A build while another writer holds the lock fails instead of interleaving.
  auto a = WriteJsonl(dir.Sub("a.jsonl"), MakeDocs(20, 7, "a"));
  BuildReport rep;
  EXPECT_FALSE(Build(dir.Sub("s"), {dir.Sub("a.jsonl")}, &rep).ok());
  w1.reset();
  ASSERT_TRUE(StoreWriter::Open(Env::Default(), dir.Sub("s"), true, &w2).ok());
}

TEST(StoreWriterTest, PublishListsFilesAtomicallyAndGcRemovesStrays) {
  TempDir dir;
  std::string root = dir.Sub("s");
  std::unique_ptr<StoreWriter> w;
  ASSERT_TRUE(StoreWriter::Open(Env::Default(), root, true, &w).ok());
  std::string staging;
  ASSERT_TRUE(w->NewStagingDir("t", &staging).ok());
  std::unique_ptr<FileBuilder> fb;
  std::string staged = staging + "/f.tmp";
  ASSERT_TRUE(FileBuilder::Create(Env::Default(), staged, FileKind::kGeneric, 1, &fb).ok());
  ASSERT_TRUE(fb->Append("index body").ok());
  ASSERT_TRUE(fb->Finish().ok());
  std::string rel = StoreLayout::IndexDir("sa", "t", 1) + "/f.bin";
  Status s = w->Publish({StagedFile{staged, rel, FileKind::kGeneric}}, [](CatalogWriteTxn* txn) {
    return txn->Put(Table::kIndexes, "t", "manifest-v1");
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(fs::exists(w->layout().Absolute(rel)));
  {
    std::unique_ptr<CatalogReadTxn> txn;
    ASSERT_TRUE(w->catalog()->BeginRead(&txn).ok());
    std::string v;
    ASSERT_TRUE(txn->GetString(Table::kIndexes, "t", &v).ok());
    EXPECT_EQ(v, "manifest-v1");
    std::string_view fr;
    ASSERT_TRUE(txn->Get(Table::kFiles, rel, &fr).ok());
    FileRecord rec;
    ASSERT_TRUE(FileRecord::Decode(fr, &rec));
    EXPECT_EQ(rec.size, 128u + 10u);
  }
  // Publishing over a listed file is refused.
  ASSERT_TRUE(FileBuilder::Create(Env::Default(), staged, FileKind::kGeneric, 1, &fb).ok());
  ASSERT_TRUE(fb->Append("other").ok());
  ASSERT_TRUE(fb->Finish().ok());
  auto no_update = [](CatalogWriteTxn*) { return Status::OK(); };
  EXPECT_FALSE(w->Publish({StagedFile{staged, rel, FileKind::kGeneric}}, no_update).ok());
  EXPECT_EQ(ReadFile(w->layout().Absolute(rel)).substr(128), "index body");

  // Unlisted files in data dirs are garbage; listed ones stay.
  std::string stray = w->layout().Absolute(StoreLayout::SegmentFile(999));
  fs::create_directories(fs::path(stray).parent_path());
  WriteFile(stray, "junk");
  uint64_t removed = 0;
  ASSERT_TRUE(w->CollectGarbage(&removed).ok());
  EXPECT_GE(removed, 1u);
  EXPECT_FALSE(fs::exists(stray));
  EXPECT_TRUE(fs::exists(w->layout().Absolute(rel)));

  // Retiring unlists and deletes.
  ASSERT_TRUE(w->Publish({}, no_update, {rel}).ok());
  EXPECT_FALSE(fs::exists(w->layout().Absolute(rel)));
}

}  // namespace
}  // namespace dedupdb
