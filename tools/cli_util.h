// Small helpers shared by CLI commands.
#pragma once

#include <cstdint>
#include <string>

#include "storage/status.h"

namespace dedupdb::cli {

// "8G", "512M", "64k", "1000" (bytes; K/M/G/T are powers of 1024).
Status ParseSize(const std::string& text, uint64_t* bytes);
// s with newlines and tabs turned into spaces, for one-line text output.
std::string OneLine(std::string s);
// "12.3 MB" style, powers of 1000.
std::string HumanBytes(double bytes);

}  // namespace dedupdb::cli
