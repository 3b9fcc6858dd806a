#include "tools/command_registry.h"

#include <cstdio>

#include "storage/json_writer.h"

namespace dedupdb::cli {

std::vector<Command>& Registry() {
  static auto* commands = new std::vector<Command>();
  return *commands;
}

GlobalFlags& Globals() {
  static GlobalFlags flags;
  return flags;
}

namespace {
int Report(const std::string& command, const Status& status, int code) {
  if (Globals().json) {
    JsonWriter w;
    w.BeginObject().Field("ok", false).Field("command", command).Field("error", status.CodeName());
    w.Field("message", status.message()).Field("exit_code", code).EndObject();
    std::printf("%s\n", w.str().c_str());
  }
  std::fprintf(stderr, "dedupdb %s: %s\n", command.c_str(), status.ToString().c_str());
  return code;
}
}  // namespace

int ReportError(const std::string& command, const Status& status) {
  return Report(command, status, status.IsCorruption() ? kExitCorrupt : kExitError);
}

int ReportUsageError(const std::string& command, const Status& status) { return Report(command, status, kExitUsage); }

}  // namespace dedupdb::cli
