// Test helpers (see test_util.h). Deliberately independent of the library:
// plain POSIX + std::filesystem, so a bug in storage/ cannot hide itself
// behind the oracle that is supposed to catch it.
#include "tests/test_util.h"

#include "storage/json_writer.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#ifndef DEDUPDB_CLI_PATH
#define DEDUPDB_CLI_PATH "dedupdb"
#endif
#ifndef DEDUPDB_SHARED_DIR
#define DEDUPDB_SHARED_DIR "../shared"
#endif

namespace dedupdb::test {

namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/dedupdb_test.XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error("mkdtemp(" + tmpl + "): " + strerror(errno));
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  // Tests may leave read-only files behind; make them removable first.
  for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
  fs::remove_all(path_, ec);
}

bool SmallScale() {
  const char* s = getenv("DEDUPDB_TEST_SCALE");
  return s != nullptr && std::string(s) == "small";
}

std::string CliPath() { return DEDUPDB_CLI_PATH; }
std::string SharedDataDir() { return std::string(DEDUPDB_SHARED_DIR) + "/data"; }
std::string SharedToolsDir() { return std::string(DEDUPDB_SHARED_DIR) + "/tools"; }

bool HaveSharedData(const std::string& rel) {
  std::error_code ec;
  return fs::exists(SharedDataDir() + "/" + rel, ec);
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error("cannot open for writing: " + path);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!f) throw std::runtime_error("write failed: " + path);
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open for reading: " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

namespace {

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

}  // namespace

int RunCommand(const std::vector<std::string>& argv, std::string* out, std::string* err,
               const std::string& stdin_data) {
  if (argv.empty()) return -1;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return -1;
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return -1;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return -1;

  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    // The pipes are O_CLOEXEC, the dup2'd copies are not.
    signal(SIGPIPE, SIG_DFL);
    execvp(cargv[0], cargv.data());
    fprintf(stderr, "exec %s: %s\n", cargv[0], strerror(errno));
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);

  // Feed stdin and drain stdout/stderr together with poll(), so neither side
  // can block forever on a full pipe.
  int in_fd = in_pipe[1];
  SetNonBlocking(in_fd);
  SetNonBlocking(out_pipe[0]);
  SetNonBlocking(err_pipe[0]);
  size_t in_pos = 0;
  if (stdin_data.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  std::string out_buf, err_buf;
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  // Writing to a child that exited must not kill the test binary.
  struct sigaction ign {}, old_pipe {};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ign, &old_pipe);
  char buf[65536];
  while (out_fd >= 0 || err_fd >= 0 || in_fd >= 0) {
    pollfd fds[3];
    int nfds = 0;
    int idx_out = -1, idx_err = -1, idx_in = -1;
    if (out_fd >= 0) { idx_out = nfds; fds[nfds++] = {out_fd, POLLIN, 0}; }
    if (err_fd >= 0) { idx_err = nfds; fds[nfds++] = {err_fd, POLLIN, 0}; }
    if (in_fd >= 0) { idx_in = nfds; fds[nfds++] = {in_fd, POLLOUT, 0}; }
    int r = poll(fds, nfds, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto drain = [&](int idx, int* fd, std::string* dst) {
      if (idx < 0 || fds[idx].revents == 0) return;
      ssize_t n = read(*fd, buf, sizeof(buf));
      if (n > 0) {
        dst->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        close(*fd);
        *fd = -1;
      }
    };
    drain(idx_out, &out_fd, &out_buf);
    drain(idx_err, &err_fd, &err_buf);
    if (idx_in >= 0 && fds[idx_in].revents != 0) {
      ssize_t n = write(in_fd, stdin_data.data() + in_pos, stdin_data.size() - in_pos);
      if (n > 0) in_pos += static_cast<size_t>(n);
      bool failed = n < 0 && errno != EAGAIN && errno != EINTR;
      if (failed || in_pos == stdin_data.size() || (fds[idx_in].revents & (POLLERR | POLLHUP))) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  sigaction(SIGPIPE, &old_pipe, nullptr);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (out) *out = std::move(out_buf);
  if (err) *err = std::move(err_buf);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int RunShell(const std::string& cmdline, std::string* out) {
  return RunCommand({"/bin/bash", "-c", cmdline}, out, nullptr);
}

namespace {

// The oracle: CPython's json module over `zstd -dc`, writing each record as
// u64 id length, id bytes, u64 text length, text bytes (little endian).
// Non-string ids are rendered with str() (e.g. 17 -> "17").
constexpr const char* kOracleScript = R"PY(
import json, struct, subprocess, sys
src, dst, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = subprocess.Popen(["zstd", "-dc", src], stdout=subprocess.PIPE)
n = 0
with open(dst, "wb") as out:
    for line in p.stdout:
        if n >= limit:
            break
        if not line.strip():
            continue
        rec = json.loads(line)
        i = rec.get("id", "")
        i = i if isinstance(i, str) else str(i)
        ib = i.encode("utf-8", "surrogatepass")
        tb = rec["text"].encode("utf-8", "surrogatepass")
        out.write(struct.pack("<Q", len(ib))); out.write(ib)
        out.write(struct.pack("<Q", len(tb))); out.write(tb)
        n += 1
p.stdout.close()
p.kill() if n >= limit else None
p.wait()
)PY";

}  // namespace

std::vector<JsonlDoc> ReadJsonlZstOracle(const std::string& path, size_t limit) {
  TempDir tmp;
  std::string script = tmp.Sub("oracle.py");
  std::string dump = tmp.Sub("oracle.bin");
  WriteFile(script, kOracleScript);
  std::string out, err;
  std::string lim = limit == SIZE_MAX ? std::to_string(UINT64_MAX >> 1) : std::to_string(limit);
  int rc = RunCommand({"/usr/bin/python3", script, path, dump, lim}, &out, &err);
  if (rc != 0) throw std::runtime_error("oracle failed on " + path + ": " + err);
  std::string data = ReadFile(dump);
  std::vector<JsonlDoc> docs;
  size_t pos = 0;
  auto take = [&](std::string* s) {
    uint64_t len;
    if (data.size() - pos < 8) throw std::runtime_error("oracle dump truncated");
    memcpy(&len, data.data() + pos, 8);
    pos += 8;
    if (data.size() - pos < len) throw std::runtime_error("oracle dump truncated");
    s->assign(data.data() + pos, len);
    pos += len;
  };
  while (pos < data.size()) {
    JsonlDoc d;
    take(&d.id);
    take(&d.text);
    docs.push_back(std::move(d));
  }
  return docs;
}

std::string JsonLine(const std::string& id, const std::string& text) {
  std::string line = "{\"id\":";
  JsonWriter::AppendQuoted(&line, id);
  line += ",\"text\":";
  JsonWriter::AppendQuoted(&line, text);
  return line + "}\n";
}

}  // namespace dedupdb::test
