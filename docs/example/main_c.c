/* The C API of the installed library: decon_example_c EVAL_INDEX TEXT...
 * prints the same lines as decon_example. */
#include <stdio.h>
#include <string.h>

#include "query/decontaminator_c.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s EVAL_INDEX TEXT...\n", argv[0]);
    return 2;
  }
  char* err = NULL;
  dedupdb_decon_t* d = dedupdb_decon_open(argv[1], &err);
  if (!d) {
    fprintf(stderr, "%s\n", err ? err : "open failed");
    dedupdb_free_string(err);
    return 1;
  }
  for (int i = 2; i < argc; ++i) {
    dedupdb_decon_result_t* r = dedupdb_decon_check(d, argv[i], strlen(argv[i]));
    if (!r) return 1;
    if (!r->contaminated) {
      printf("clean\n");
    } else {
      printf("contaminated");
      for (size_t k = 0; k < r->num_examples; ++k)
        printf(" %s:%u/%u", r->examples[k].name, r->examples[k].grams_matched, r->examples[k].grams_total);
      for (size_t k = 0; k < r->num_spans; ++k)
        printf(" [%llu,%llu)", (unsigned long long)r->spans[k].begin, (unsigned long long)r->spans[k].end);
      printf("\n");
    }
    dedupdb_decon_result_free(r);
  }
  dedupdb_decon_close(d);
  return 0;
}
