// Catalog: the LMDB database that is the source of truth of a store. A file
// or document exists for readers only once a committed catalog transaction
// lists it, so publishing a build is one LMDB commit (atomic and durable).
//
// Tables (LMDB named databases; record encodings in docs/format.md):
//   meta      string key -> value (format version, next ids, counters)
//   segments  u64be segment id -> SegmentRecord
//   docs      u64be doc id -> DocRecord
//   ext_ids   external id -> u64be doc id (duplicate keys allowed)
//   hashes    16-byte content hash -> u64be first doc id with that content
//   sources   input path -> SourceRecord (ingest progress, for resume)
//   files     relative path -> FileRecord (every published data file)
//   dropped   u64be seq -> DroppedRecord (docs not stored by --dedup-exact)
//   indexes   index name -> manifest bytes owned by that index's code
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "storage/env.h"
#include "storage/status.h"

namespace dedupdb {

enum class Table : int { kMeta = 0, kSegments, kDocs, kExtIds, kHashes, kSources, kFiles, kDropped, kIndexes, kCount };

const char* TableName(Table t);

class CatalogReadTxn {
 public:
  virtual ~CatalogReadTxn() = default;
  // The returned view is valid until the transaction ends.
  virtual Status Get(Table t, std::string_view key, std::string_view* value) = 0;
  Status GetString(Table t, std::string_view key, std::string* value);
  Status GetU64(Table t, std::string_view key, uint64_t* value);  // value is 8-byte LE
  // Calls fn for each key >= start in key order until fn returns false.
  // For tables with duplicate keys (ext_ids) each value is visited.
  virtual Status Scan(Table t, std::string_view start,
                      const std::function<bool(std::string_view key, std::string_view value)>& fn) = 0;
  virtual Status Count(Table t, uint64_t* entries) = 0;
};

class CatalogWriteTxn : public CatalogReadTxn {
 public:
  virtual Status Put(Table t, std::string_view key, std::string_view value) = 0;
  Status PutU64(Table t, std::string_view key, uint64_t value);
  virtual Status Delete(Table t, std::string_view key) = 0;
  // Deletes every key of table t.
  virtual Status Clear(Table t) = 0;
  virtual Status Commit() = 0;
  virtual void Abort() = 0;
};

class Catalog {
 public:
  // Opens (or with create=true, creates) the LMDB environment in dir.
  static Status Open(Env* env, const std::string& dir, bool create, bool read_only, std::unique_ptr<Catalog>* out);
  virtual ~Catalog() = default;
  virtual Status BeginRead(std::unique_ptr<CatalogReadTxn>* txn) = 0;
  // One write transaction at a time per store.
  virtual Status BeginWrite(std::unique_ptr<CatalogWriteTxn>* txn) = 0;
  // Bytes the LMDB data file occupies.
  virtual uint64_t DiskBytes() const = 0;
};

// Record encodings shared by every table user.
struct FileRecord {
  uint16_t kind = 0;  // FileKind
  uint64_t size = 0;
  uint64_t body_checksum = 0;
  std::string Encode() const;
  static bool Decode(std::string_view in, FileRecord* out);
};

}  // namespace dedupdb
