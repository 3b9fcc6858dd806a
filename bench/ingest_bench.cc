// ingest_bench: where ingest time goes, phase by phase, on the same inputs in
// one process (run by bench/ingest.sh; results in docs/benchmarks.md).
//
//   ingest_bench [--phases read,hash,write,build] [--store DIR] INPUT...
//
// Phases (each a separate pass over all inputs, so each adds one cost):
//   read   DocumentReader only: decompression + line split + simdjson + UTF-8 checks
//   hash   read + XXH3-128 of every text (the content hash the store keeps)
//   write  read + append every text to one file through Env + fsync (the
//          I/O floor: a store must write the text once)
//   build  BuildStore into a fresh store (everything: segments, catalog, commit)
// Each line of output is a JSON object with wall and CPU seconds and MB/s of
// decoded input (uncompressed JSONL bytes) per wall second and per CPU second.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "storage/checksum.h"
#include "storage/env.h"
#include "storage/input_reader.h"
#include "storage/json_writer.h"
#include "storage/store_builder.h"

namespace dedupdb {
namespace {

double CpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

struct Result {
  uint64_t docs = 0, text_bytes = 0, decoded_bytes = 0, input_bytes = 0;
  uint64_t checksum = 0;  // keeps the hash phase from being optimised away
};

Status ReadPass(const std::vector<std::string>& inputs, bool hash, WritableFile* out, Result* r) {
  std::unique_ptr<DocumentReader> reader;
  DEDUPDB_RETURN_IF_ERROR(DocumentReader::Open(Env::Default(), inputs, ReaderOptions(), &reader));
  while (true) {
    InputRecord rec;
    bool done = false;
    DEDUPDB_RETURN_IF_ERROR(reader->Next(&rec, &done));
    if (done) break;
    r->docs++;
    r->text_bytes += rec.text.size();
    if (hash) r->checksum ^= ContentHash128(rec.text).lo;
    if (out) DEDUPDB_RETURN_IF_ERROR(out->Append(rec.text));
  }
  r->decoded_bytes = reader->decoded_bytes();
  r->input_bytes = reader->input_bytes_read();
  return Status::OK();
}

int Main(int argc, char** argv) {
  std::vector<std::string> phases = {"read", "hash", "write", "build"};
  std::string store = "/tmp/dedupdb_ingest_bench_store";
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--phases" && i + 1 < argc) {
      phases.clear();
      std::stringstream ss(argv[++i]);
      for (std::string p; std::getline(ss, p, ',');) phases.push_back(p);
    } else if (a == "--store" && i + 1 < argc) {
      store = argv[++i];
    } else {
      inputs.push_back(a);
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "usage: ingest_bench [--phases read,hash,write,build] [--store DIR] INPUT...\n");
    return 2;
  }
  Env* env = Env::Default();
  for (const auto& phase : phases) {
    Result r;
    Status s;
    double cpu0 = CpuSeconds();
    auto t0 = std::chrono::steady_clock::now();
    if (phase == "read" || phase == "hash") {
      s = ReadPass(inputs, phase == "hash", nullptr, &r);
    } else if (phase == "write") {
      std::string path = store + ".textcopy";
      std::unique_ptr<WritableFile> f;
      s = env->NewWritableFile(path, &f);
      if (s.ok()) s = ReadPass(inputs, false, f.get(), &r);
      if (s.ok()) s = f->Sync();
      if (s.ok()) s = f->Close();
      env->RemoveFile(path);
    } else if (phase == "build") {
      env->RemoveTree(store);
      BuildOptions opt;
      BuildReport rep;
      s = BuildStore(store, inputs, opt, &rep);
      r.docs = rep.docs_added;
      r.text_bytes = rep.bytes_added;
      r.decoded_bytes = rep.decoded_bytes;
      r.input_bytes = rep.input_bytes;
    } else {
      std::fprintf(stderr, "unknown phase %s\n", phase.c_str());
      return 2;
    }
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double cpu = CpuSeconds() - cpu0;
    if (phase == "build") env->RemoveTree(store);
    if (!s.ok()) {
      std::fprintf(stderr, "ingest_bench %s: %s\n", phase.c_str(), s.ToString().c_str());
      return 1;
    }
    JsonWriter w;
    w.BeginObject().Field("phase", phase).Field("docs", r.docs).Field("text_bytes", r.text_bytes);
    w.Field("decoded_bytes", r.decoded_bytes).Field("input_bytes", r.input_bytes);
    w.Field("wall_s", wall).Field("cpu_s", cpu);
    w.Field("mb_per_wall_s", r.decoded_bytes / 1e6 / wall).Field("mb_per_cpu_s", r.decoded_bytes / 1e6 / cpu);
    w.Field("checksum", r.checksum).EndObject();
    std::printf("%s\n", w.str().c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace dedupdb

int main(int argc, char** argv) { return dedupdb::Main(argc, argv); }
