// xxHash wrappers: the one place dedupdb names its hash functions.
// XXH3-64 checksums every on-disk file; XXH3-128 is the document content hash.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace dedupdb {

struct Hash128 {
  uint64_t lo = 0;
  uint64_t hi = 0;
  bool operator==(const Hash128&) const = default;
  auto operator<=>(const Hash128&) const = default;
  std::string ToHex() const;  // 32 hex chars, hi first
};

uint64_t Checksum64(const void* data, size_t n, uint64_t seed = 0);
inline uint64_t Checksum64(std::string_view s, uint64_t seed = 0) { return Checksum64(s.data(), s.size(), seed); }
Hash128 ContentHash128(std::string_view s);

// Streaming XXH3-64, for checksumming a file body as it is written or scanned.
class StreamingChecksum {
 public:
  StreamingChecksum();
  ~StreamingChecksum();
  StreamingChecksum(const StreamingChecksum&) = delete;
  StreamingChecksum& operator=(const StreamingChecksum&) = delete;
  void Update(const void* data, size_t n);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  uint64_t Digest() const;
  void Reset();

 private:
  void* state_;  // XXH3_state_t*, kept opaque so xxhash.h stays private
};

}  // namespace dedupdb
