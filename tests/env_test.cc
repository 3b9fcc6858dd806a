// Env (storage/env.h): file round-trips against plain POSIX reads (the test
// oracle), BatchReader io_uring vs pread, the automatic pread fallback when
// io_uring is refused (seccomp in a child), and FaultInjectionEnv itself.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "storage/env.h"
#include "storage/fault_injection_env.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

using test::ReadFile;
using test::TempDir;
using test::WriteFile;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

Status WriteWithEnv(Env* env, const std::string& path, const std::vector<std::string>& pieces) {
  std::unique_ptr<WritableFile> f;
  DEDUPDB_RETURN_IF_ERROR(env->NewWritableFile(path, &f));
  for (const auto& p : pieces) DEDUPDB_RETURN_IF_ERROR(f->Append(p));
  DEDUPDB_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

TEST(EnvTest, WritableFileAppendWriteAtMatchesPosixRead) {
  TempDir dir;
  Env* env = Env::Default();
  std::string path = dir.Sub("w.bin");
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env->NewWritableFile(path, &f).ok());
  EXPECT_EQ(f->path(), path);
  std::string expect;
  // Many small appends plus one bigger than any plausible buffer.
  for (int i = 0; i < 1000; i++) {
    std::string piece = "piece-" + std::to_string(i) + ";";
    ASSERT_TRUE(f->Append(piece).ok());
    expect += piece;
  }
  std::string big = RandomBytes(3 << 20, 7);
  ASSERT_TRUE(f->Append(big).ok());
  expect += big;
  EXPECT_EQ(f->Size(), expect.size());
  // Patch bytes inside the (possibly still buffered) data, like a header.
  ASSERT_TRUE(f->WriteAt(0, "HEADER").ok());
  expect.replace(0, 6, "HEADER");
  ASSERT_TRUE(f->WriteAt(expect.size() - 3, "END").ok());
  expect.replace(expect.size() - 3, 3, "END");
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(ReadFile(path), expect);
}

TEST(EnvTest, RandomAccessSequentialAndMapAgreeWithFile) {
  TempDir dir;
  Env* env = Env::Default();
  std::string path = dir.Sub("r.bin");
  std::string data = RandomBytes(1 << 20 | 12345, 3);
  WriteFile(path, data);

  std::unique_ptr<RandomAccessFile> raf;
  ASSERT_TRUE(env->NewRandomAccessFile(path, &raf).ok());
  EXPECT_EQ(raf->Size(), data.size());
  std::mt19937 rng(1);
  std::string buf(70000, '\0');
  for (int i = 0; i < 200; i++) {
    uint64_t off = rng() % (data.size() + 10);
    size_t n = rng() % buf.size();
    size_t got = 0;
    ASSERT_TRUE(raf->Read(off, n, buf.data(), &got).ok());
    size_t want = off >= data.size() ? 0 : std::min<size_t>(n, data.size() - off);
    ASSERT_EQ(got, want) << "offset " << off;
    ASSERT_EQ(std::string_view(buf.data(), got), std::string_view(data).substr(std::min<size_t>(off, data.size()), want));
  }

  std::unique_ptr<SequentialFile> seq;
  ASSERT_TRUE(env->NewSequentialFile(path, &seq).ok());
  std::string all;
  while (true) {
    size_t got = 0;
    ASSERT_TRUE(seq->Read(4093, buf.data(), &got).ok());
    if (got == 0) break;
    all.append(buf.data(), got);
  }
  EXPECT_EQ(all, data);

  std::unique_ptr<MappedFile> map;
  ASSERT_TRUE(env->MapReadOnly(path, &map).ok());
  ASSERT_EQ(map->size(), data.size());
  EXPECT_EQ(map->view(), data);
  map->Advise(MappedFile::Access::kRandom);
  map->Advise(MappedFile::Access::kSequential, 4096, 8192);
  EXPECT_EQ(map->view(), data);

  std::string via_helper;
  ASSERT_TRUE(ReadFileToString(env, path, &via_helper).ok());
  EXPECT_EQ(via_helper, data);
}

TEST(EnvTest, EmptyFileMapsAndReads) {
  TempDir dir;
  Env* env = Env::Default();
  WriteFile(dir.Sub("e"), "");
  std::unique_ptr<MappedFile> map;
  Status s = env->MapReadOnly(dir.Sub("e"), &map);
  // Mapping an empty file must not crash; either an empty map or a clean error.
  if (s.ok()) {
    EXPECT_EQ(map->size(), 0u);
  }
  std::string out = "x";
  ASSERT_TRUE(ReadFileToString(env, dir.Sub("e"), &out).ok());
  EXPECT_EQ(out, "");
}

TEST(EnvTest, MissingFilesGiveNotFoundNamingThePath) {
  TempDir dir;
  Env* env = Env::Default();
  std::string path = dir.Sub("nope.bin");
  std::unique_ptr<RandomAccessFile> raf;
  Status s = env->NewRandomAccessFile(path, &raf);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find("nope.bin"), std::string::npos) << s.ToString();
  std::unique_ptr<SequentialFile> seq;
  EXPECT_TRUE(env->NewSequentialFile(path, &seq).IsNotFound());
  std::unique_ptr<MappedFile> map;
  EXPECT_FALSE(env->MapReadOnly(path, &map).ok());
  EXPECT_FALSE(env->FileExists(path));
  FileInfo info;
  EXPECT_FALSE(env->GetFileInfo(path, &info).ok());
  std::unique_ptr<WritableFile> w;
  EXPECT_FALSE(env->NewWritableFile(dir.Sub("no/such/dir/f"), &w).ok());
}

TEST(EnvTest, DirectoriesRenameRemove) {
  TempDir dir;
  Env* env = Env::Default();
  std::string d = dir.Sub("a/b/c");
  ASSERT_TRUE(env->CreateDirs(d).ok());
  ASSERT_TRUE(env->CreateDirs(d).ok());  // idempotent
  ASSERT_TRUE(WriteWithEnv(env, JoinPath(d, "f1"), {"hello"}).ok());
  ASSERT_TRUE(WriteWithEnv(env, JoinPath(d, "f2"), {"world!!"}).ok());
  ASSERT_TRUE(env->CreateDirs(JoinPath(d, "sub")).ok());
  std::vector<FileInfo> entries;
  ASSERT_TRUE(env->ListDir(d, &entries).ok());
  std::sort(entries.begin(), entries.end(), [](auto& x, auto& y) { return x.name < y.name; });
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].name, "f1");
  EXPECT_FALSE(entries[0].is_directory);
  EXPECT_EQ(entries[0].size, 5u);
  EXPECT_EQ(entries[1].name, "f2");
  EXPECT_EQ(entries[1].size, 7u);
  EXPECT_EQ(entries[2].name, "sub");
  EXPECT_TRUE(entries[2].is_directory);

  FileInfo info;
  ASSERT_TRUE(env->GetFileInfo(JoinPath(d, "f2"), &info).ok());
  EXPECT_EQ(info.size, 7u);
  EXPECT_GT(info.mtime_ns, 0);

  // rename replaces the target atomically
  ASSERT_TRUE(env->RenameFile(JoinPath(d, "f2"), JoinPath(d, "f1")).ok());
  EXPECT_FALSE(env->FileExists(JoinPath(d, "f2")));
  EXPECT_EQ(ReadFile(JoinPath(d, "f1")), "world!!");
  ASSERT_TRUE(env->SyncDir(d).ok());
  EXPECT_FALSE(env->RenameFile(JoinPath(d, "missing"), JoinPath(d, "x")).ok());

  ASSERT_TRUE(env->RemoveFile(JoinPath(d, "f1")).ok());
  EXPECT_FALSE(env->FileExists(JoinPath(d, "f1")));
  ASSERT_TRUE(env->RemoveTree(dir.Sub("a")).ok());
  EXPECT_FALSE(env->FileExists(dir.Sub("a")));

  uint64_t free_bytes = 0;
  ASSERT_TRUE(env->FreeSpace(dir.path(), &free_bytes).ok());
  EXPECT_GT(free_bytes, 0u);
}

TEST(EnvTest, WriteFileAtomicReplacesAndLeavesNoTemp) {
  TempDir dir;
  Env* env = Env::Default();
  std::string path = dir.Sub("atomic.txt");
  ASSERT_TRUE(WriteFileAtomic(env, path, "first").ok());
  ASSERT_TRUE(WriteFileAtomic(env, path, "second version").ok());
  EXPECT_EQ(ReadFile(path), "second version");
  std::vector<FileInfo> entries;
  ASSERT_TRUE(env->ListDir(dir.path(), &entries).ok());
  EXPECT_EQ(entries.size(), 1u);
}

TEST(EnvTest, PathHelpers) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("a", "/b"), "a/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
  EXPECT_EQ(DirName("/x/y/z.txt"), "/x/y");
  EXPECT_EQ(DirName("z.txt"), ".");
  EXPECT_EQ(DirName("/z"), "/");
  EXPECT_EQ(BaseName("/x/y/z.txt"), "z.txt");
  EXPECT_EQ(BaseName("z.txt"), "z.txt");
}

// Random batches over several files: io_uring and pread must return the same
// bytes as the file contents (the oracle), including reads that cross EOF.
void CheckBatches(BatchReader* reader, const std::vector<std::unique_ptr<RandomAccessFile>>& files,
                  const std::vector<std::string>& contents, uint32_t seed) {
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 20; round++) {
    size_t n = 1 + rng() % 300;
    std::vector<ReadRequest> reqs(n);
    std::vector<std::string> bufs(n);
    for (size_t i = 0; i < n; i++) {
      size_t f = rng() % files.size();
      const std::string& c = contents[f];
      reqs[i].file = files[f].get();
      reqs[i].offset = rng() % (c.size() + 100);
      reqs[i].length = 1 + rng() % 20000;
      bufs[i].assign(reqs[i].length, '\xee');
      reqs[i].dst = bufs[i].data();
    }
    ASSERT_TRUE(reader->ReadBatch(reqs.data(), n).ok()) << reader->name();
    for (size_t i = 0; i < n; i++) {
      const std::string& c = contents[std::find_if(files.begin(), files.end(),
                                                   [&](auto& p) { return p.get() == reqs[i].file; }) -
                                      files.begin()];
      size_t off = std::min<uint64_t>(reqs[i].offset, c.size());
      size_t want = std::min<size_t>(reqs[i].length, c.size() - off);
      ASSERT_TRUE(reqs[i].status.ok()) << reqs[i].status.ToString();
      ASSERT_EQ(reqs[i].result, want) << reader->name() << " request " << i;
      ASSERT_EQ(std::string_view(bufs[i].data(), want), std::string_view(c).substr(off, want))
          << reader->name() << " request " << i;
    }
  }
}

TEST(EnvTest, BatchReaderIoUringAndPreadReturnIdenticalBytes) {
  TempDir dir;
  Env* env = Env::Default();
  std::vector<std::string> contents;
  std::vector<std::unique_ptr<RandomAccessFile>> files;
  for (int i = 0; i < 4; i++) {
    contents.push_back(RandomBytes(100000 + i * 77777, 100 + i));
    WriteFile(dir.Sub("b" + std::to_string(i)), contents.back());
    std::unique_ptr<RandomAccessFile> f;
    ASSERT_TRUE(env->NewRandomAccessFile(dir.Sub("b" + std::to_string(i)), &f).ok());
    files.push_back(std::move(f));
  }
  std::unique_ptr<BatchReader> pread, uring;
  ASSERT_TRUE(env->NewBatchReader(32, false, &pread).ok());
  EXPECT_STREQ(pread->name(), "pread");
  ASSERT_TRUE(env->NewBatchReader(32, true, &uring).ok());
  // Independent check of whether this kernel/sandbox allows io_uring: a raw
  // io_uring_setup. If it does, the Env must use it; if not, pread.
  char params[120] = {};
  long ring_fd = syscall(__NR_io_uring_setup, 4, params);
  bool kernel_has_uring = ring_fd >= 0;
  if (ring_fd >= 0) close(static_cast<int>(ring_fd));
  EXPECT_STREQ(uring->name(), kernel_has_uring ? "io_uring" : "pread");
  CheckBatches(pread.get(), files, contents, 11);
  CheckBatches(uring.get(), files, contents, 11);
  // Queue depth smaller than the batch: the ring must be refilled.
  std::unique_ptr<BatchReader> shallow;
  ASSERT_TRUE(env->NewBatchReader(2, true, &shallow).ok());
  CheckBatches(shallow.get(), files, contents, 12);
}

// In a child process, block io_uring_setup with seccomp (EPERM, as Docker's
// default profile does) and check NewBatchReader falls back to pread and
// still reads correctly.
TEST(EnvTest, PreadChosenWhenIoUringRefused) {
  TempDir dir;
  std::string data = RandomBytes(50000, 5);
  WriteFile(dir.Sub("f"), data);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(10);
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) _exit(11);
    Env* env = Env::Default();
    std::unique_ptr<BatchReader> reader;
    if (!env->NewBatchReader(16, true, &reader).ok()) _exit(12);
    if (std::string(reader->name()) != "pread") _exit(13);
    std::unique_ptr<RandomAccessFile> f;
    if (!env->NewRandomAccessFile(dir.Sub("f"), &f).ok()) _exit(14);
    std::string buf(1000, '\0');
    ReadRequest req;
    req.file = f.get();
    req.offset = 49500;
    req.length = 1000;
    req.dst = buf.data();
    if (!reader->ReadBatch(&req, 1).ok() || req.result != 500) _exit(15);
    if (std::string_view(buf.data(), 500) != std::string_view(data).substr(49500)) _exit(16);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child died with signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10/11: seccomp setup failed, 12: NewBatchReader failed, "
                                       "13: not pread, 14-16: read wrong";
}

// ---- FaultInjectionEnv ---------------------------------------------------

TEST(FaultEnvTest, WriteLimitGivesNoSpaceAndKeepsThePrefix) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default());
  env.SetWriteLimit(1000);
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env.NewWritableFile(dir.Sub("f"), &f).ok());
  ASSERT_TRUE(f->Append(std::string(600, 'a')).ok());
  Status s = f->Append(std::string(600, 'b'));
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_NE(s.message().find(dir.Sub("f")), std::string::npos);
  EXPECT_TRUE(f->Append("c").IsNoSpace());
  f->Close();
  EXPECT_EQ(ReadFile(dir.Sub("f")), std::string(600, 'a') + std::string(400, 'b'));
  EXPECT_EQ(env.bytes_written(), 1000u);
  EXPECT_GE(env.faults_injected(), 2u);
  // A filter limits the budget to matching paths.
  env.SetWriteLimit(10, ".seg");
  ASSERT_TRUE(WriteWithEnv(&env, dir.Sub("other"), {std::string(100, 'x')}).ok());
  EXPECT_TRUE(WriteWithEnv(&env, dir.Sub("x.seg"), {std::string(100, 'x')}).IsNoSpace());
  env.ClearFaults();
  EXPECT_TRUE(WriteWithEnv(&env, dir.Sub("x.seg"), {std::string(100, 'x')}).ok());
}

TEST(FaultEnvTest, InjectedFaultsSkipStickyFilterAndCount) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default());
  WriteFile(dir.Sub("data"), "0123456789");
  env.InjectFault(FaultOp::kSync, 1, "", /*sticky=*/false);
  EXPECT_TRUE(WriteWithEnv(&env, dir.Sub("s1"), {"x"}).ok());   // skipped
  EXPECT_TRUE(WriteWithEnv(&env, dir.Sub("s2"), {"x"}).IsIOError());  // fails once
  EXPECT_TRUE(WriteWithEnv(&env, dir.Sub("s3"), {"x"}).ok());   // not sticky
  EXPECT_EQ(env.calls(FaultOp::kSync), 3u);

  env.InjectFault(FaultOp::kRead, 0, "data");
  std::unique_ptr<RandomAccessFile> raf;
  ASSERT_TRUE(env.NewRandomAccessFile(dir.Sub("data"), &raf).ok());
  char buf[16];
  size_t got = 99;
  Status s = raf->Read(0, 4, buf, &got);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_EQ(got, 0u);
  std::string str;
  EXPECT_TRUE(ReadFileToString(&env, dir.Sub("data"), &str).IsIOError());
  EXPECT_TRUE(ReadFileToString(&env, dir.Sub("s1"), &str).ok());  // filter

  env.InjectFault(FaultOp::kRename, 0, "s3");
  EXPECT_TRUE(env.RenameFile(dir.Sub("s3"), dir.Sub("s4")).IsIOError());
  EXPECT_TRUE(env.FileExists(dir.Sub("s3")));
  EXPECT_TRUE(env.RenameFile(dir.Sub("s1"), dir.Sub("s5")).ok());

  env.InjectFault(FaultOp::kMap, 0);
  std::unique_ptr<MappedFile> map;
  EXPECT_TRUE(env.MapReadOnly(dir.Sub("data"), &map).IsIOError());
  env.InjectFault(FaultOp::kOpenWrite, 0);
  std::unique_ptr<WritableFile> w;
  EXPECT_FALSE(env.NewWritableFile(dir.Sub("w"), &w).ok());
  env.InjectFault(FaultOp::kSync, 0, dir.path());
  EXPECT_TRUE(env.SyncDir(dir.path()).IsIOError());
  env.InjectFault(FaultOp::kRemove, 0);
  EXPECT_TRUE(env.RemoveFile(dir.Sub("data")).IsIOError());
  EXPECT_TRUE(env.FileExists(dir.Sub("data")));
  env.ClearFaults();
  EXPECT_TRUE(env.RemoveFile(dir.Sub("data")).ok());
  EXPECT_GE(env.faults_injected(), 8u);
}

TEST(FaultEnvTest, TruncationShortensReadsMapsAndBatches) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default());
  std::string data = RandomBytes(10000, 9);
  WriteFile(dir.Sub("t.dds"), data);
  env.SetTruncation(".dds", 4000);

  std::unique_ptr<RandomAccessFile> raf;
  ASSERT_TRUE(env.NewRandomAccessFile(dir.Sub("t.dds"), &raf).ok());
  EXPECT_EQ(raf->Size(), 4000u);
  std::string buf(2000, '\0');
  size_t got = 0;
  ASSERT_TRUE(raf->Read(3000, 2000, buf.data(), &got).ok());
  EXPECT_EQ(got, 1000u);
  EXPECT_EQ(std::string_view(buf.data(), got), std::string_view(data).substr(3000, 1000));

  std::string all;
  ASSERT_TRUE(ReadFileToString(&env, dir.Sub("t.dds"), &all).ok());
  EXPECT_EQ(all, data.substr(0, 4000));

  std::unique_ptr<MappedFile> map;
  ASSERT_TRUE(env.MapReadOnly(dir.Sub("t.dds"), &map).ok());
  EXPECT_EQ(map->view(), std::string_view(data).substr(0, 4000));

  for (bool uring : {false, true}) {
    std::unique_ptr<BatchReader> reader;
    ASSERT_TRUE(env.NewBatchReader(8, uring, &reader).ok());
    ReadRequest reqs[3];
    std::string b[3];
    uint64_t offs[3] = {0, 3500, 5000};
    for (int i = 0; i < 3; i++) {
      b[i].assign(1000, '\0');
      reqs[i].file = raf.get();
      reqs[i].offset = offs[i];
      reqs[i].length = 1000;
      reqs[i].dst = b[i].data();
    }
    ASSERT_TRUE(reader->ReadBatch(reqs, 3).ok());
    EXPECT_EQ(reqs[0].result, 1000u);
    EXPECT_EQ(b[0], data.substr(0, 1000));
    EXPECT_EQ(reqs[1].result, 500u);
    EXPECT_EQ(b[1].substr(0, 500), data.substr(3500, 500));
    EXPECT_EQ(reqs[2].result, 0u);
  }
  // EIO in a batch hits only the matching requests.
  WriteFile(dir.Sub("ok.bin"), data);
  std::unique_ptr<RandomAccessFile> okf;
  ASSERT_TRUE(env.NewRandomAccessFile(dir.Sub("ok.bin"), &okf).ok());
  env.InjectFault(FaultOp::kRead, 0, ".dds");
  std::unique_ptr<BatchReader> reader;
  ASSERT_TRUE(env.NewBatchReader(8, true, &reader).ok());
  ReadRequest reqs[2];
  std::string b0(100, '\0'), b1(100, '\0');
  reqs[0].file = raf.get();
  reqs[0].length = 100;
  reqs[0].dst = b0.data();
  reqs[1].file = okf.get();
  reqs[1].offset = 200;
  reqs[1].length = 100;
  reqs[1].dst = b1.data();
  EXPECT_TRUE(reader->ReadBatch(reqs, 2).IsIOError());
  EXPECT_TRUE(reqs[0].status.IsIOError());
  EXPECT_TRUE(reqs[1].status.ok());
  EXPECT_EQ(b1, data.substr(200, 100));
}

}  // namespace
}  // namespace dedupdb
