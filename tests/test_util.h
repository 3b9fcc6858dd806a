// Shared helpers for the test suite: temp dirs, fixture scale, paths to the
// CLI and to ../shared/data, running commands.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dedupdb::test {

// A fresh directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// True when DEDUPDB_TEST_SCALE=small (the sanitizer run): tests shrink
// their fixtures.
bool SmallScale();
// Picks `normal` or `small` by SmallScale().
inline uint64_t Scaled(uint64_t normal, uint64_t small) { return SmallScale() ? small : normal; }

std::string CliPath();            // the built dedupdb executable
std::string SharedDataDir();      // ../shared/data
std::string SharedToolsDir();     // ../shared/tools
// True if ../shared/data/<rel> exists.
bool HaveSharedData(const std::string& rel);

void WriteFile(const std::string& path, const std::string& data);
std::string ReadFile(const std::string& path);

// One JSONL record {"id": id, "text": text} with a trailing newline.
std::string JsonLine(const std::string& id, const std::string& text);

// Runs argv (no shell), capturing stdout and stderr; returns the exit code.
int RunCommand(const std::vector<std::string>& argv, std::string* out, std::string* err = nullptr,
               const std::string& stdin_data = "");
// Runs a shell command line (bash -c); returns the exit code, captures stdout.
int RunShell(const std::string& cmdline, std::string* out);

// Decompresses a ../shared/data .jsonl.zst into a vector of (id, text) using
// an independent path (the zstd command + a minimal JSON string decoder in
// test_util.cc), for oracle comparisons.
struct JsonlDoc {
  std::string id;
  std::string text;
};
std::vector<JsonlDoc> ReadJsonlZstOracle(const std::string& path, size_t limit = SIZE_MAX);

}  // namespace dedupdb::test
