// Checks texts against an eval index with the installed dedupdb library.
//   decon_example EVAL_INDEX TEXT...
// Prints one line per text: "contaminated <examples> <spans>" or "clean".
#include <cstdio>

#include "query/decontaminator.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s EVAL_INDEX TEXT...\n", argv[0]);
    return 2;
  }
  dedupdb::Decontaminator d;
  dedupdb::Status s = dedupdb::Decontaminator::Open(argv[1], &d);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  for (int i = 2; i < argc; ++i) {
    dedupdb::DeconResult r = d.Check(argv[i]);
    if (!r.contaminated()) {
      std::printf("clean\n");
      continue;
    }
    std::printf("contaminated");
    for (const auto& e : r.examples) std::printf(" %s:%u/%u", d.ExampleName(e.example).c_str(), e.grams_matched, e.grams_total);
    for (const auto& sp : r.spans) std::printf(" [%llu,%llu)", (unsigned long long)sp.begin, (unsigned long long)sp.end);
    std::printf("\n");
  }
  return 0;
}
