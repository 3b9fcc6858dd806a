/* C API of the decontaminator (query/decontaminator.h), for bindings from
 * other languages. All functions are thread-safe for concurrent checks on one
 * handle; results are owned by the caller and freed with
 * dedupdb_decon_result_free.
 *
 *   char* err = NULL;
 *   dedupdb_decon_t* d = dedupdb_decon_open("evals.ddx", &err);
 *   if (!d) { fprintf(stderr, "%s\n", err); dedupdb_free_string(err); }
 *   dedupdb_decon_result_t* r = dedupdb_decon_check(d, text, len);
 *   for (size_t i = 0; i < r->num_examples; ++i) ... r->examples[i].name ...
 *   dedupdb_decon_result_free(r);
 *   dedupdb_decon_close(d);
 */
#ifndef DEDUPDB_QUERY_DECONTAMINATOR_C_H_
#define DEDUPDB_QUERY_DECONTAMINATOR_C_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dedupdb_decon dedupdb_decon_t;

typedef struct {
  uint32_t example;       /* example index in the eval index */
  const char* name;       /* "set/example_id", NUL-terminated */
  uint32_t grams_matched; /* distinct grams of the example found in the doc */
  uint32_t grams_total;   /* distinct grams of the example */
  double coverage;        /* grams_matched / grams_total */
} dedupdb_decon_example_t;

typedef struct {
  uint64_t begin; /* byte offsets (token mode: token positions) in the checked document, [begin, end) */
  uint64_t end;
} dedupdb_decon_span_t;

typedef struct {
  int contaminated; /* 1 if any eval gram was found */
  size_t num_examples;
  dedupdb_decon_example_t* examples;
  size_t num_spans;
  dedupdb_decon_span_t* spans;
} dedupdb_decon_result_t;

/* Opens an eval index; on failure returns NULL and, if err != NULL, sets
 * *err to a malloc'ed message (free with dedupdb_free_string). */
dedupdb_decon_t* dedupdb_decon_open(const char* eval_index_path, char** err);
void dedupdb_decon_close(dedupdb_decon_t* d);
/* Full check: matched examples, coverage and byte spans. */
dedupdb_decon_result_t* dedupdb_decon_check(const dedupdb_decon_t* d, const char* text, size_t len);
/* Fast yes/no check: 1 if the text contains any eval gram, else 0. */
int dedupdb_decon_contains(const dedupdb_decon_t* d, const char* text, size_t len);
/* Token mode (index built from token-id examples): the same over a document
 * of token ids; spans are token positions. On an index of the other kind
 * these find nothing. */
dedupdb_decon_result_t* dedupdb_decon_check_tokens(const dedupdb_decon_t* d, const uint32_t* tokens, size_t count);
int dedupdb_decon_contains_tokens(const dedupdb_decon_t* d, const uint32_t* tokens, size_t count);
/* 1 if the open index is a token-mode index, else 0. */
int dedupdb_decon_token_mode(const dedupdb_decon_t* d);
void dedupdb_decon_result_free(dedupdb_decon_result_t* r);
void dedupdb_free_string(char* s);
/* n-gram size and number of examples of the open index. */
unsigned dedupdb_decon_ngram(const dedupdb_decon_t* d);
uint32_t dedupdb_decon_num_examples(const dedupdb_decon_t* d);

#ifdef __cplusplus
}
#endif

#endif /* DEDUPDB_QUERY_DECONTAMINATOR_C_H_ */
