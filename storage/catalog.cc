// Catalog on LMDB: one environment, one named database per Table.
#include "storage/catalog.h"

#include <lmdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "storage/checksum.h"
#include "storage/coding.h"

namespace dedupdb {

namespace {

constexpr size_t kMaxKey = 480;  // LMDB's default key limit is 511 bytes

// Long keys (paths, external ids) are shortened deterministically.
std::string_view FitKey(std::string_view key, std::string* buf) {
  if (key.size() <= kMaxKey) return key;
  *buf = std::string(key.substr(0, kMaxKey - 33)) + "#" + ContentHash128(key).ToHex();
  return *buf;
}

Status LmdbError(const std::string& what, int rc) {
  std::string msg = what + ": " + mdb_strerror(rc);
  if (rc == MDB_MAP_FULL || rc == ENOSPC) return Status::NoSpace(msg);
  if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
    return Status::Corruption(msg);
  if (rc == MDB_NOTFOUND) return Status::NotFound(msg);
  return Status::IOError(msg);
}

MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view View(const MDB_val& v) { return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size); }

struct SharedEnv;

class LmdbTxn : public CatalogWriteTxn {
 public:
  LmdbTxn(MDB_txn* txn, const MDB_dbi* dbis, bool write, std::shared_ptr<SharedEnv> keep)
      : txn_(txn), dbis_(dbis), write_(write), keep_(std::move(keep)) {}
  ~LmdbTxn() override {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
  }

  Status Get(Table t, std::string_view key, std::string_view* value) override {
    std::string buf;
    MDB_val k = Val(FitKey(key, &buf)), v;
    int rc = mdb_get(txn_, dbi(t), &k, &v);
    if (rc == MDB_NOTFOUND) return Status::NotFound(std::string(TableName(t)) + ": key not found");
    if (rc != 0) return LmdbError(std::string("catalog get ") + TableName(t), rc);
    *value = View(v);
    return Status::OK();
  }

  Status Scan(Table t, std::string_view start,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    MDB_cursor* cur;
    int rc = mdb_cursor_open(txn_, dbi(t), &cur);
    if (rc != 0) return LmdbError("catalog cursor", rc);
    std::string buf;
    MDB_val k = Val(FitKey(start, &buf)), v;
    rc = start.empty() ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0) {
      if (!fn(View(k), View(v))) break;
      rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError(std::string("catalog scan ") + TableName(t), rc);
    return Status::OK();
  }

  Status Count(Table t, uint64_t* entries) override {
    MDB_stat st;
    int rc = mdb_stat(txn_, dbi(t), &st);
    if (rc != 0) return LmdbError("catalog stat", rc);
    *entries = st.ms_entries;
    return Status::OK();
  }

  Status Put(Table t, std::string_view key, std::string_view value) override {
    if (!write_) return Status::InvalidArgument("catalog: write in a read transaction");
    std::string buf;
    MDB_val k = Val(FitKey(key, &buf)), v = Val(value);
    int rc = mdb_put(txn_, dbi(t), &k, &v, 0);
    if (rc != 0) return LmdbError(std::string("catalog put ") + TableName(t), rc);
    return Status::OK();
  }

  Status Delete(Table t, std::string_view key) override {
    std::string buf;
    MDB_val k = Val(FitKey(key, &buf));
    int rc = mdb_del(txn_, dbi(t), &k, nullptr);
    if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError(std::string("catalog delete ") + TableName(t), rc);
    return Status::OK();
  }

  Status Clear(Table t) override {
    int rc = mdb_drop(txn_, dbi(t), 0);
    if (rc != 0) return LmdbError(std::string("catalog clear ") + TableName(t), rc);
    return Status::OK();
  }

  Status Commit() override {
    int rc = mdb_txn_commit(txn_);
    txn_ = nullptr;
    if (rc != 0) return LmdbError("catalog commit", rc);
    return Status::OK();
  }

  void Abort() override {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    txn_ = nullptr;
  }

 private:
  MDB_dbi dbi(Table t) const { return dbis_[static_cast<int>(t)]; }
  MDB_txn* txn_;
  const MDB_dbi* dbis_;
  bool write_;
  std::shared_ptr<SharedEnv> keep_;  // the environment outlives its transactions
};

// Read transactions expose only the read half of LmdbTxn.
class LmdbReadTxn : public CatalogReadTxn {
 public:
  explicit LmdbReadTxn(std::unique_ptr<LmdbTxn> t) : t_(std::move(t)) {}
  Status Get(Table t, std::string_view key, std::string_view* value) override { return t_->Get(t, key, value); }
  Status Scan(Table t, std::string_view start,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    return t_->Scan(t, start, fn);
  }
  Status Count(Table t, uint64_t* entries) override { return t_->Count(t, entries); }

 private:
  std::unique_ptr<LmdbTxn> t_;
};

// One MDB_env per catalog directory per process: LMDB forbids opening the
// same environment twice in one process (closing one would drop the other's
// fcntl locks), so every Catalog handle on a directory shares this.
struct SharedEnv {
  ~SharedEnv() {
    if (env_ != nullptr) mdb_env_close(env_);
  }

  Status Init(const std::string& dir, bool create, bool read_only) {
    dir_ = dir;
    int rc = mdb_env_create(&env_);
    if (rc != 0) return LmdbError(dir, rc);
    mdb_env_set_maxdbs(env_, static_cast<MDB_dbi>(Table::kCount) + 4);
    mdb_env_set_maxreaders(env_, 1024);
    // Address space only: the file grows as needed up to this size.
    rc = mdb_env_set_mapsize(env_, size_t{1} << 40);
    if (rc != 0) return LmdbError(dir, rc);
    unsigned flags = MDB_NOTLS;
    if (read_only) flags |= MDB_RDONLY;
    rc = mdb_env_open(env_, dir.c_str(), flags, 0644);
    if (rc != 0) return LmdbError("open catalog " + dir, rc);
    MDB_txn* txn;
    rc = mdb_txn_begin(env_, nullptr, read_only ? MDB_RDONLY : 0, &txn);
    if (rc != 0) return LmdbError("catalog begin", rc);
    for (int i = 0; i < static_cast<int>(Table::kCount); ++i) {
      Table t = static_cast<Table>(i);
      unsigned f = (create && !read_only) ? MDB_CREATE : 0;
      if (t == Table::kExtIds) f |= MDB_DUPSORT;
      rc = mdb_dbi_open(txn, TableName(t), f, &dbis_[i]);
      if (rc != 0) {
        mdb_txn_abort(txn);
        if (rc == MDB_NOTFOUND) return Status::Corruption(dir + ": catalog has no table '" + TableName(t) + "' (not a dedupdb store?)");
        return LmdbError(std::string("open table ") + TableName(t), rc);
      }
    }
    rc = mdb_txn_commit(txn);
    if (rc != 0) return LmdbError("catalog open commit", rc);
    return Status::OK();
  }

  std::string dir_;
  MDB_env* env_ = nullptr;
  MDB_dbi dbis_[static_cast<int>(Table::kCount)] = {};
};

class LmdbCatalog : public Catalog {
 public:
  explicit LmdbCatalog(std::shared_ptr<SharedEnv> shared) : shared_(std::move(shared)) {}

  Status BeginRead(std::unique_ptr<CatalogReadTxn>* out) override {
    MDB_txn* txn;
    int rc = mdb_txn_begin(shared_->env_, nullptr, MDB_RDONLY, &txn);
    if (rc != 0) return LmdbError("catalog begin read", rc);
    *out = std::make_unique<LmdbReadTxn>(std::make_unique<LmdbTxn>(txn, shared_->dbis_, false, shared_));
    return Status::OK();
  }

  Status BeginWrite(std::unique_ptr<CatalogWriteTxn>* out) override {
    MDB_txn* txn;
    int rc = mdb_txn_begin(shared_->env_, nullptr, 0, &txn);
    if (rc != 0) return LmdbError("catalog begin write", rc);
    *out = std::make_unique<LmdbTxn>(txn, shared_->dbis_, true, shared_);
    return Status::OK();
  }

  uint64_t DiskBytes() const override {
    struct stat st;
    std::string path = shared_->dir_ + "/data.mdb";
    if (::stat(path.c_str(), &st) != 0) return 0;
    return static_cast<uint64_t>(st.st_blocks) * 512;  // allocated, not sparse size
  }

 private:
  std::shared_ptr<SharedEnv> shared_;
};

std::mutex g_envs_mu;
std::map<std::string, std::weak_ptr<SharedEnv>>& OpenEnvs() {
  static auto* m = new std::map<std::string, std::weak_ptr<SharedEnv>>();
  return *m;
}

}  // namespace

const char* TableName(Table t) {
  switch (t) {
    case Table::kMeta: return "meta";
    case Table::kSegments: return "segments";
    case Table::kDocs: return "docs";
    case Table::kExtIds: return "ext_ids";
    case Table::kHashes: return "hashes";
    case Table::kSources: return "sources";
    case Table::kFiles: return "files";
    case Table::kDropped: return "dropped";
    case Table::kIndexes: return "indexes";
    case Table::kCount: break;
  }
  return "?";
}

Status CatalogReadTxn::GetString(Table t, std::string_view key, std::string* value) {
  std::string_view v;
  DEDUPDB_RETURN_IF_ERROR(Get(t, key, &v));
  value->assign(v.data(), v.size());
  return Status::OK();
}

Status CatalogReadTxn::GetU64(Table t, std::string_view key, uint64_t* value) {
  std::string_view v;
  DEDUPDB_RETURN_IF_ERROR(Get(t, key, &v));
  if (v.size() != 8) return Status::Corruption(std::string(TableName(t)) + ": value of '" + std::string(key) + "' is not a u64");
  *value = DecodeFixed64(v.data());
  return Status::OK();
}

Status CatalogWriteTxn::PutU64(Table t, std::string_view key, uint64_t value) {
  char buf[8];
  EncodeFixed64(buf, value);
  return Put(t, key, std::string_view(buf, 8));
}

Status Catalog::Open(Env* env, const std::string& dir, bool create, bool read_only, std::unique_ptr<Catalog>* out) {
  if (create && !read_only) {
    DEDUPDB_RETURN_IF_ERROR(env->CreateDirs(dir));
  } else if (!env->FileExists(dir + "/data.mdb")) {
    return Status::NotFound(dir + ": no catalog here (not a dedupdb store; create one with `dedupdb build`)");
  }
  char* real = ::realpath(dir.c_str(), nullptr);
  std::string key = real ? real : dir;
  std::free(real);
  std::lock_guard<std::mutex> lock(g_envs_mu);
  std::shared_ptr<SharedEnv> shared = OpenEnvs()[key].lock();
  if (!shared) {
    shared = std::make_shared<SharedEnv>();
    // RDONLY only where we cannot write (LMDB still wants its lock file).
    bool rdonly = read_only && ::access(dir.c_str(), W_OK) != 0;
    DEDUPDB_RETURN_IF_ERROR(shared->Init(dir, create, rdonly));
    OpenEnvs()[key] = shared;
  }
  *out = std::make_unique<LmdbCatalog>(std::move(shared));
  return Status::OK();
}

std::string FileRecord::Encode() const {
  std::string r;
  char k[2];
  std::memcpy(k, &kind, 2);
  r.append(k, 2);
  PutFixed64(&r, size);
  PutFixed64(&r, body_checksum);
  return r;
}

bool FileRecord::Decode(std::string_view in, FileRecord* out) {
  if (in.size() != 18) return false;
  std::memcpy(&out->kind, in.data(), 2);
  out->size = DecodeFixed64(in.data() + 2);
  out->body_checksum = DecodeFixed64(in.data() + 10);
  return true;
}

}  // namespace dedupdb
