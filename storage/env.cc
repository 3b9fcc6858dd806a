// Env helpers shared by every Env implementation.
#include "storage/env.h"

#include <atomic>
#include <unistd.h>

namespace dedupdb {

Status BatchReader::ReadBatch(ReadRequest* requests, size_t n) {
  for (size_t i = 0; i < n; ++i) Submit(&requests[i]);
  std::vector<ReadRequest*> done;
  Status first;
  while (outstanding() > 0) {
    done.clear();
    DEDUPDB_RETURN_IF_ERROR(Reap(&done));
    for (ReadRequest* r : done)
      if (!r->status.ok() && first.ok()) first = r->status;
  }
  return first;
}

Status ReadFileToString(Env* env, const std::string& path, std::string* out) {
  std::unique_ptr<SequentialFile> f;
  DEDUPDB_RETURN_IF_ERROR(env->NewSequentialFile(path, &f));
  out->clear();
  char buf[1 << 16];
  while (true) {
    size_t n = 0;
    DEDUPDB_RETURN_IF_ERROR(f->Read(sizeof(buf), buf, &n));
    if (n == 0) break;
    out->append(buf, n);
  }
  return Status::OK();
}

Status WriteFileAtomic(Env* env, const std::string& path, std::string_view data) {
  static std::atomic<uint64_t> counter{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  std::unique_ptr<WritableFile> f;
  DEDUPDB_RETURN_IF_ERROR(env->NewWritableFile(tmp, &f));
  Status s = f->Append(data);
  if (s.ok()) s = f->Sync();
  if (s.ok()) s = f->Close();
  if (s.ok()) s = env->RenameFile(tmp, path);
  if (!s.ok()) {
    env->RemoveFile(tmp);
    return s;
  }
  return env->SyncDir(DirName(path));
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string r(a);
  if (r.back() != '/') r.push_back('/');
  if (b.front() == '/') b.remove_prefix(1);
  r.append(b);
  return r;
}

std::string DirName(const std::string& path) {
  size_t pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

std::string BaseName(const std::string& path) {
  size_t pos = path.find_last_of('/');
  return pos == std::string::npos ? path : path.substr(pos + 1);
}

}  // namespace dedupdb
