#include "tools/cli_util.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace dedupdb::cli {

Status ParseSize(const std::string& text, uint64_t* bytes) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || v < 0) return Status::InvalidArgument("not a size: '" + text + "' (e.g. 8G, 512M)");
  std::string unit(end);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  double mult = 1;
  if (unit.empty()) mult = 1;
  else if (unit == "K" || unit == "k") mult = 1024.0;
  else if (unit == "M" || unit == "m") mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "g") mult = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "t") mult = 1024.0 * 1024 * 1024 * 1024;
  else return Status::InvalidArgument("unknown size unit in '" + text + "' (use K, M, G or T)");
  *bytes = static_cast<uint64_t>(v * mult);
  return Status::OK();
}

std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s;
}

std::string HumanBytes(double v) {
  const char* u[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  int i = 0;
  while (v >= 1000 && i < 5) {
    v /= 1000;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), i == 0 ? "%.0f %s" : "%.2f %s", v, u[i]);
  return buf;
}

}  // namespace dedupdb::cli
