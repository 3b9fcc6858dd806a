// dedupdb: command-line entry point. Subcommands register themselves in
// tools/command_registry.h; this file only parses and dispatches.
#include <algorithm>
#include <cstdio>
#include <map>

#include "tools/command_registry.h"

int main(int argc, char** argv) {
  using namespace dedupdb::cli;
  CLI::App app{"dedupdb: out-of-core index, dedup and decontamination database for LLM corpora"};
  app.name("dedupdb");
  app.require_subcommand(1);
  app.set_version_flag("--version", "dedupdb 0.1.0");
  app.add_flag("--json", Globals().json, "Machine-readable JSON on stdout");
  app.add_flag("-q,--quiet", Globals().quiet, "No progress output on stderr");
  app.footer(
      "Exit codes: 0 ok; 1 runtime error (I/O, bad input, missing store); 2 bad command line;\n"
      "3 corruption found (verify, checksum mismatch); 4 a check found what it looks for (e.g. contamination).");

  auto& registry = Registry();
  std::sort(registry.begin(), registry.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
  std::map<CLI::App*, Runner> runners;
  for (const Command& c : registry) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    sub->fallthrough();  // global flags may follow the subcommand
    runners[sub] = c.setup(sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  for (CLI::App* sub : app.get_subcommands()) {
    auto it = runners.find(sub);
    if (it != runners.end()) return it->second();
  }
  return kExitUsage;
}
