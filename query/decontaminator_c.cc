// C wrapper over Decontaminator: copies results into malloc'ed C structs
// (names included) so the caller owns one block per result.
#include "query/decontaminator_c.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "query/decontaminator.h"

struct dedupdb_decon {
  dedupdb::Decontaminator d;
};

namespace {
char* CopyString(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p) std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}
dedupdb_decon_result_t* ToC(const dedupdb_decon_t* d, const dedupdb::DeconResult& r) {
  // One allocation: header, examples, spans, then the names.
  std::vector<std::string> names;
  size_t names_bytes = 0;
  for (const auto& e : r.examples) {
    names.push_back(d->d.ExampleName(e.example));
    names_bytes += names.back().size() + 1;
  }
  size_t bytes = sizeof(dedupdb_decon_result_t) + r.examples.size() * sizeof(dedupdb_decon_example_t) +
                 r.spans.size() * sizeof(dedupdb_decon_span_t) + names_bytes;
  char* block = static_cast<char*>(std::malloc(bytes));
  if (!block) return nullptr;
  auto* out = reinterpret_cast<dedupdb_decon_result_t*>(block);
  auto* ex = reinterpret_cast<dedupdb_decon_example_t*>(block + sizeof(dedupdb_decon_result_t));
  auto* sp = reinterpret_cast<dedupdb_decon_span_t*>(ex + r.examples.size());
  char* str = reinterpret_cast<char*>(sp + r.spans.size());
  out->contaminated = r.contaminated() ? 1 : 0;
  out->num_examples = r.examples.size();
  out->examples = r.examples.empty() ? nullptr : ex;
  out->num_spans = r.spans.size();
  out->spans = r.spans.empty() ? nullptr : sp;
  for (size_t i = 0; i < r.examples.size(); ++i) {
    std::memcpy(str, names[i].c_str(), names[i].size() + 1);
    ex[i] = dedupdb_decon_example_t{r.examples[i].example, str, r.examples[i].grams_matched,
                                    r.examples[i].grams_total, r.examples[i].coverage()};
    str += names[i].size() + 1;
  }
  for (size_t i = 0; i < r.spans.size(); ++i) sp[i] = dedupdb_decon_span_t{r.spans[i].begin, r.spans[i].end};
  return out;
}
}  // namespace

extern "C" {

dedupdb_decon_t* dedupdb_decon_open(const char* eval_index_path, char** err) {
  if (err) *err = nullptr;
  if (eval_index_path == nullptr) {
    if (err) *err = CopyString("eval index path is NULL");
    return nullptr;
  }
  auto* h = new (std::nothrow) dedupdb_decon();
  if (!h) return nullptr;
  dedupdb::Status s = dedupdb::Decontaminator::Open(eval_index_path, &h->d);
  if (!s.ok()) {
    if (err) *err = CopyString(s.ToString());
    delete h;
    return nullptr;
  }
  return h;
}

void dedupdb_decon_close(dedupdb_decon_t* d) { delete d; }

dedupdb_decon_result_t* dedupdb_decon_check(const dedupdb_decon_t* d, const char* text, size_t len) {
  if (!d || (!text && len)) return nullptr;
  return ToC(d, d->d.Check(std::string_view(text ? text : "", len)));
}

dedupdb_decon_result_t* dedupdb_decon_check_tokens(const dedupdb_decon_t* d, const uint32_t* tokens, size_t count) {
  if (!d || (!tokens && count)) return nullptr;
  dedupdb::DeconResult r;
  d->d.CheckTokens(tokens, count, &r);
  return ToC(d, r);
}

int dedupdb_decon_contains_tokens(const dedupdb_decon_t* d, const uint32_t* tokens, size_t count) {
  if (!d || (!tokens && count)) return 0;
  return d->d.ContainsTokens(tokens, count) ? 1 : 0;
}

int dedupdb_decon_token_mode(const dedupdb_decon_t* d) { return d && d->d.index().token_mode() ? 1 : 0; }


int dedupdb_decon_contains(const dedupdb_decon_t* d, const char* text, size_t len) {
  if (!d || (!text && len)) return 0;
  return d->d.Contains(std::string_view(text ? text : "", len)) ? 1 : 0;
}

void dedupdb_decon_result_free(dedupdb_decon_result_t* r) { std::free(r); }
void dedupdb_free_string(char* s) { std::free(s); }
unsigned dedupdb_decon_ngram(const dedupdb_decon_t* d) { return d ? d->d.index().n() : 0; }
uint32_t dedupdb_decon_num_examples(const dedupdb_decon_t* d) { return d ? d->d.index().num_examples() : 0; }

}  // extern "C"
