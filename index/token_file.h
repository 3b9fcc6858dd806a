// Flat token files (pre-tokenized corpora): little-endian u16/u32 token ids,
// raw (.bin, width given) or .npy (width and count from the header),
// documents ended by a separator id. The validation `index-sa --tokens` applies, as one function, so every
// reader of these files agrees on what a valid one is; `decon scan --tokens`
// reads through it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/env.h"
#include "storage/status.h"

namespace dedupdb {

// Parses a .npy header (v1/v2/v3, little-endian '<u2'/'<u4', 1-D, C order):
// *data_offset = first data byte, *symbol_bytes = 2 or 4, *count = elements.
Status ParseNpyHeader(std::string_view file_start, const std::string& path, uint64_t* data_offset,
                      uint32_t* symbol_bytes, uint64_t* count);

struct TokenFile {
  std::unique_ptr<RandomAccessFile> file;
  uint64_t data_offset = 0;  // first token byte
  unsigned token_bytes = 0;  // 2 or 4
  uint64_t count = 0;        // tokens

  // want_bytes: 2 or 4, or 0 = from the .npy header (required for raw files).
  // Errors name the file: unsupported .npy header, dtype mismatch, size not
  // matching the shape, trailing partial token.
  static Status Open(Env* env, const std::string& path, unsigned want_bytes, TokenFile* out);
};

// Reads tokens [first, first + n) of a token file (data at data_offset,
// `width` bytes each) widened to u32 into *out; *raw is scratch. A short
// read is reported as truncation with the byte offset.
Status ReadTokenIds(const RandomAccessFile& f, uint64_t data_offset, unsigned width, uint64_t first, size_t n,
                    std::vector<uint32_t>* out, std::string* raw);

}  // namespace dedupdb
