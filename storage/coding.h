// Little-endian fixed-width encoding, used by every on-disk structure.
// dedupdb formats are little-endian by definition (docs/format.md).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace dedupdb {

inline void EncodeFixed32(char* dst, uint32_t v) { std::memcpy(dst, &v, 4); }
inline void EncodeFixed64(char* dst, uint64_t v) { std::memcpy(dst, &v, 8); }
inline uint32_t DecodeFixed32(const char* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint64_t DecodeFixed64(const char* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }
inline uint16_t DecodeFixed16(const char* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }

inline void PutFixed32(std::string* dst, uint32_t v) { char b[4]; EncodeFixed32(b, v); dst->append(b, 4); }
inline void PutFixed64(std::string* dst, uint64_t v) { char b[8]; EncodeFixed64(b, v); dst->append(b, 8); }

// Big-endian u64, for LMDB keys that must sort numerically.
inline void EncodeBigEndian64(char* dst, uint64_t v) {
  for (int i = 7; i >= 0; --i) { dst[i] = static_cast<char>(v & 0xff); v >>= 8; }
}
inline uint64_t DecodeBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// Varint-prefixed strings for variable-length catalog records.
void PutVarint64(std::string* dst, uint64_t v);
void PutLengthPrefixed(std::string* dst, std::string_view s);
// Return false if the input is truncated; advance *in past what was read.
bool GetVarint64(std::string_view* in, uint64_t* v);
bool GetLengthPrefixed(std::string_view* in, std::string_view* s);
bool GetFixed64(std::string_view* in, uint64_t* v);

// Unsigned integers of 1..8 bytes (the narrow pointers of suffix arrays).
inline uint64_t DecodeUnsigned(const char* p, unsigned width) {
  uint64_t v = 0;
  std::memcpy(&v, p, width);
  return v;
}
inline void EncodeUnsigned(char* dst, uint64_t v, unsigned width) { std::memcpy(dst, &v, width); }

}  // namespace dedupdb
