#include "storage/checksum.h"

#include <xxhash.h>

#include <cstdio>

namespace dedupdb {

std::string Hash128::ToHex() const {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(hi),
                static_cast<unsigned long long>(lo));
  return buf;
}

uint64_t Checksum64(const void* data, size_t n, uint64_t seed) { return XXH3_64bits_withSeed(data, n, seed); }

Hash128 ContentHash128(std::string_view s) {
  XXH128_hash_t h = XXH3_128bits(s.data(), s.size());
  return Hash128{h.low64, h.high64};
}

StreamingChecksum::StreamingChecksum() : state_(XXH3_createState()) { Reset(); }
StreamingChecksum::~StreamingChecksum() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }
void StreamingChecksum::Update(const void* data, size_t n) {
  XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), data, n);
}
uint64_t StreamingChecksum::Digest() const { return XXH3_64bits_digest(static_cast<XXH3_state_t*>(state_)); }
void StreamingChecksum::Reset() { XXH3_64bits_reset(static_cast<XXH3_state_t*>(state_)); }

}  // namespace dedupdb
