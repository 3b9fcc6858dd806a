// Each CLI subcommand lives in its own tools/cmd_<name>.cc and registers
// itself here at static-initialisation time (tools/*.cc are compiled straight
// into the dedupdb executable, so the registrars always run).
//
//   static dedupdb::cli::CommandRegistrar reg("count", "Count occurrences", [](CLI::App* app) {
//     auto opts = std::make_shared<Opts>();
//     app->add_option(...);
//     return [opts]() -> int { ...; return dedupdb::cli::kExitOk; };
//   });
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "storage/status.h"

namespace dedupdb::cli {

// Exit codes (documented in README.md and in `dedupdb --help`).
constexpr int kExitOk = 0;
constexpr int kExitError = 1;       // runtime failure: I/O error, bad input, missing store
constexpr int kExitUsage = 2;       // bad command line
constexpr int kExitCorrupt = 3;     // verify found corruption / checksum mismatch
constexpr int kExitFound = 4;       // reserved for "found something" checks (e.g. decon --fail-on-hit)

using Runner = std::function<int()>;
// Configures the subcommand's options and returns the function that runs it.
using Setup = std::function<Runner(CLI::App* sub)>;

struct Command {
  std::string name;
  std::string description;
  Setup setup;
};

std::vector<Command>& Registry();

struct CommandRegistrar {
  CommandRegistrar(std::string name, std::string description, Setup setup) {
    Registry().push_back(Command{std::move(name), std::move(description), std::move(setup)});
  }
};

// Global flags shared by all commands (set before a Runner runs).
struct GlobalFlags {
  bool json = false;
  bool quiet = false;
};
GlobalFlags& Globals();

// Prints "dedupdb <cmd>: <status>" to stderr (or a JSON error object on stdout
// with --json) and returns the exit code that fits the status.
int ReportError(const std::string& command, const Status& status);
// The same for a malformed command line (query syntax, missing or
// conflicting flags): exit code kExitUsage.
int ReportUsageError(const std::string& command, const Status& status);

}  // namespace dedupdb::cli
