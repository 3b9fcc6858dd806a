#include "query/sa_query_arg.h"

#include <cerrno>
#include <cstdlib>
#include <vector>

namespace dedupdb {

Status ParseTokenIds(std::string_view arg, std::vector<uint64_t>* out) {
  std::vector<uint64_t>& ids = *out;
  ids.clear();
  size_t i = 0;
  while (i < arg.size()) {
    if (arg[i] == ' ' || arg[i] == ',' || arg[i] == '\t' || arg[i] == '\n' || arg[i] == '\r') { ++i; continue; }
    size_t j = i;
    while (j < arg.size() && arg[j] >= '0' && arg[j] <= '9') ++j;
    if (j == i || j - i > 19) {
      return Status::InvalidArgument("token query: expected a token id at character " + std::to_string(i) + " of '" +
                                     std::string(arg) + "'");
    }
    ids.push_back(std::strtoull(std::string(arg.substr(i, j - i)).c_str(), nullptr, 10));
    i = j;
  }
  return Status::OK();
}

Status ParseSaQueryArg(const SuffixArrayIndex& index, std::string_view arg, std::string* query) {
  if (!index.token_mode()) {
    *query = std::string(arg);
    return Status::OK();
  }
  std::vector<uint64_t> ids;
  DEDUPDB_RETURN_IF_ERROR(ParseTokenIds(arg, &ids));
  return EncodeTokens(ids, index.symbol_bytes(), query);
}

std::string FormatSymbols(const SuffixArrayIndex& index, std::string_view bytes) {
  if (!index.token_mode()) return std::string(bytes);
  std::string out;
  for (uint64_t t : DecodeTokens(bytes, index.symbol_bytes())) {
    if (!out.empty()) out.push_back(' ');
    out += std::to_string(t);
  }
  return out;
}

}  // namespace dedupdb
