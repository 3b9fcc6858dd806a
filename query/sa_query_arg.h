// Turns a command-line query into the symbol bytes an SA index searches for:
// the UTF-8 bytes as given (byte mode), or token ids separated by spaces or
// commas, e.g. "464 2068 7586" (token mode; encoded with EncodeTokens).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "index/suffix_array.h"
#include "storage/status.h"

namespace dedupdb {

Status ParseSaQueryArg(const SuffixArrayIndex& index, std::string_view arg, std::string* query);

// Token ids separated by spaces or commas ("464 2068 7586") -> ids.
Status ParseTokenIds(std::string_view arg, std::vector<uint64_t>* ids);

// Human-readable form of symbol bytes: the text itself in byte mode, token
// ids joined by spaces in token mode.
std::string FormatSymbols(const SuffixArrayIndex& index, std::string_view bytes);

}  // namespace dedupdb
