// dedupdb index-sa STORE [--memory 8G] [--name default] [--threads N]
//                  [--tokens FILE --dtype u16|u32 --separator ID]
// Builds (or rebuilds, as a new generation) a suffix-array index of the
// store's documents, or of a flat token file, and publishes it atomically.
#include <cstdio>
#include <memory>
#include <string>

#include "index/sa_builder.h"
#include "storage/json_writer.h"
#include "tools/cli_util.h"
#include "tools/command_registry.h"

namespace {

using namespace dedupdb;

struct Opts {
  std::string store;
  std::string memory = "8G";
  std::string name = "default";
  unsigned threads = 0;
  std::string tokens;
  std::string dtype;  // empty: from the .npy header (required for .bin)
  uint64_t separator = 0;
  bool separator_set = false;
  uint64_t max_shard_symbols = 0;
};

int Run(const Opts& o) {
  SaBuildOptions b;
  b.name = o.name;
  b.threads = o.threads;
  b.show_progress = !cli::Globals().quiet;
  b.max_shard_symbols = o.max_shard_symbols;
  if (!cli::ParseSize(o.memory, &b.memory_budget).ok()) {
    std::fprintf(stderr, "dedupdb index-sa: --memory '%s' is not a size (e.g. 8G, 512M)\n", o.memory.c_str());
    return cli::kExitUsage;
  }
  if (!o.tokens.empty()) {
    if (!o.dtype.empty() && o.dtype != "u16" && o.dtype != "u32") {
      return cli::ReportUsageError("index-sa", Status::InvalidArgument("--dtype must be u16 or u32"));
    }
    if (!o.separator_set) {
      return cli::ReportUsageError("index-sa", Status::InvalidArgument("--tokens needs --separator ID (the document separator token)"));
    }
    b.token_file = o.tokens;
    b.token_bytes = o.dtype.empty() ? 0 : o.dtype == "u16" ? 2 : 4;
    b.separator = o.separator;
  }
  SaBuildReport r;
  Status st = BuildSuffixArrayIndex(o.store, b, &r);
  if (!st.ok()) return cli::ReportError("index-sa", st);
  const double mb = r.input_bytes / 1e6;
  if (cli::Globals().json) {
    JsonWriter j;
    j.BeginObject()
        .Field("index", o.name)
        .Field("generation", r.generation)
        .Field("mode", r.symbol_bytes == 1 ? "bytes" : r.symbol_bytes == 2 ? "u16" : "u32")
        .Field("docs", r.num_docs)
        .Field("shards", r.num_shards)
        .Field("input_symbols", r.input_symbols)
        .Field("input_bytes", r.input_bytes)
        .Field("index_bytes", r.index_bytes)
        .Field("index_bytes_per_input_byte", r.input_bytes ? double(r.index_bytes) / r.input_bytes : 0.0)
        .Field("max_shard_symbols", r.max_shard_symbols)
        .Field("threads", r.threads)
        .Field("seconds", r.seconds)
        .Field("sort_seconds", r.sort_seconds)
        .Field("mb_per_s", r.seconds > 0 ? mb / r.seconds : 0.0)
        .EndObject();
    std::printf("%s\n", j.str().c_str());
  } else {
    std::printf("index-sa %s: generation %llu, %llu docs, %llu symbols in %llu shard(s), %.1f MB index "
                "(%.2f bytes per input byte), %.1f s (%.1f MB/s, %u thread(s))\n",
                o.name.c_str(), (unsigned long long)r.generation, (unsigned long long)r.num_docs,
                (unsigned long long)r.input_symbols, (unsigned long long)r.num_shards, r.index_bytes / 1e6,
                r.input_bytes ? double(r.index_bytes) / r.input_bytes : 0.0, r.seconds,
                r.seconds > 0 ? mb / r.seconds : 0.0, r.threads);
  }
  return cli::kExitOk;
}

cli::CommandRegistrar reg("index-sa", "Build the suffix-array index (exact-substring count/locate/search)",
                          [](CLI::App* app) {
                            auto o = std::make_shared<Opts>();
                            app->add_option("STORE", o->store, "Store directory")->required();
                            app->add_option("--memory", o->memory, "Memory budget for the build (e.g. 8G, 512M)");
                            app->add_option("--name", o->name, "Index name");
                            app->add_option("--threads", o->threads, "Shards built at once (0 = cores)");
                            app->add_option("--tokens", o->tokens, "Token file (.bin raw little-endian or .npy)");
                            app->add_option("--dtype", o->dtype, "Token width: u16 or u32 (required for .bin; .npy: from its header)");
                            app->add_option("--separator", o->separator, "Document separator token id")
                                ->each([o](const std::string&) { o->separator_set = true; });
                            app->add_option("--max-shard-symbols", o->max_shard_symbols,
                                            "Cap on symbols per shard (testing)");
                            return [o]() { return Run(*o); };
                          });

}  // namespace
