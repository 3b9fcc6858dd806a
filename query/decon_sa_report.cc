// Verbatim gram lookups in waves through BatchCount, then longest matches
// for the examples that had any hit.
#include "query/decon_sa_report.h"

#include <algorithm>
#include <chrono>

#include "query/batch_count.h"
#include "query/longest_match.h"
#include "query/sa_query_arg.h"
#include "storage/doc_store.h"
#include "storage/progress.h"

namespace dedupdb {

Status RunDeconSaReport(Env* env, const EvalIndex& index, const DeconSaReportOptions& options, DeconAccumulator* acc,
                        DeconSaReportStats* stats) {
  auto t0 = std::chrono::steady_clock::now();
  DeconSaReportStats st;
  std::unique_ptr<DocStore> store;
  DocStore::Options so;
  so.env = env;
  DEDUPDB_RETURN_IF_ERROR(DocStore::Open(options.store, so, &store));
  std::unique_ptr<SuffixArrayIndex> sa;
  DEDUPDB_RETURN_IF_ERROR(SuffixArrayIndex::Open(store.get(), options.sa_name, &sa));
  const bool tokens = index.token_mode();
  if (tokens != sa->token_mode() || (!tokens && sa->symbol_bytes() != 1)) {
    return Status::NotSupported(std::string("decon report: a ") + (tokens ? "token-mode" : "text") +
                                " eval index needs a " + (tokens ? "token (index-sa --tokens)" : "byte-mode (text)") +
                                " suffix-array index; \"" + options.sa_name + "\" is a " +
                                (sa->token_mode() ? "token" : "byte") + " index");
  }
  const unsigned sb = sa->symbol_bytes();
  st.corpus_docs = store->num_docs();
  st.corpus_bytes = store->text_bytes();

  // Every example's grams as verbatim strings: byte spans of its text, or
  // (token mode) its token ids as big-endian symbols of the index's width.
  struct Query {
    std::string_view text;
    uint32_t gram;
    uint32_t example;
  };
  std::vector<Query> queries;
  std::vector<Word> words;
  WordTokenizer tokenizer(index.mode());
  std::vector<uint64_t> hashes;
  std::string arena;  // token mode: the symbol strings (views taken once it stops growing)
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  std::vector<uint64_t> ids;
  for (uint32_t e = 0; e < index.num_examples(); ++e) {
    EvalExampleInfo info = index.example(e);
    if (tokens) {
      DEDUPDB_RETURN_IF_ERROR(ParseTokenIds(info.text, &ids).WithContext("eval example " + std::string(info.id)));
      const std::vector<uint32_t> ids32(ids.begin(), ids.end());  // the eval index's ids are u32
      TokenWords(ids32.data(), ids32.size(), &words);
    } else {
      tokenizer.Tokenize(info.text, &words);
    }
    if (words.empty()) continue;
    hashes.resize(words.size());
    for (size_t i = 0; i < words.size(); ++i) hashes[i] = words[i].hash;
    size_t n = std::min<size_t>(index.n(), words.size());
    for (size_t i = 0; i + n <= words.size(); ++i) {
      uint32_t g = index.FindGram(HashNgram(hashes.data() + i, n));
      if (g == EvalIndex::kNotFound) continue;  // cannot happen for a consistent index
      if (!tokens) {
        queries.push_back({info.text.substr(words[i].begin, words[i + n - 1].end - words[i].begin), g, e});
        continue;
      }
      std::string sym;
      if (!EncodeTokens(std::vector<uint64_t>(ids.begin() + i, ids.begin() + i + n), sb, &sym).ok())
        continue;  // an id wider than the index's symbols: absent
      spans.emplace_back(arena.size(), sym.size());
      arena += sym;
      queries.push_back({std::string_view(), g, e});
    }
  }
  if (tokens) {
    for (size_t q = 0; q < queries.size(); ++q) queries[q].text = std::string_view(arena).substr(spans[q].first, spans[q].second);
  }
  // Look each distinct string up once, in one batch (BatchCount waves it).
  std::sort(queries.begin(), queries.end(), [](const Query& a, const Query& b) { return a.text < b.text; });
  std::vector<std::string> batch;
  std::vector<size_t> batch_first;  // index in queries of each distinct string
  for (size_t q = 0; q < queries.size(); ++q) {
    if (q > 0 && queries[q].text == queries[q - 1].text) continue;
    batch.emplace_back(queries[q].text);
    batch_first.push_back(q);
  }
  std::vector<uint64_t> counts;
  std::vector<char> example_hit(index.num_examples(), 0);
  ProgressMeter progress("decon report: gram lookups", batch.size(), ProgressMeter::Unit::kItems, options.progress);
  if (options.use_mmap) {
    counts.assign(batch.size(), 0);
    for (size_t k = 0; k < batch.size(); ++k) {
      for (size_t sh = 0; sh < sa->num_shards() && counts[k] == 0; ++sh) counts[k] = sa->shard(sh).FindRange(batch[k]).size();
      if ((k & 0xffff) == 0) progress.Update(k);
    }
    st.reader = "mmap";
  } else {
    BatchCountOptions bo;
    bo.env = env;
    bo.queries_per_wave = std::max<size_t>(1, options.batch);
    bo.progress = [&](size_t done) { progress.Update(done); };
    BatchCountStats bs;
    DEDUPDB_RETURN_IF_ERROR(BatchCount(*sa, batch, bo, &counts, &bs));
    st.reader = bs.reader;
  }
  st.grams_looked_up = batch.size();
  for (size_t k = 0; k < batch.size(); ++k) {
    if (counts[k] == 0) continue;
    ++st.grams_found;
    size_t last = k + 1 < batch_first.size() ? batch_first[k + 1] : queries.size();
    for (size_t q = batch_first[k]; q < last; ++q) {
      acc->MarkGramFound(queries[q].gram);
      example_hit[queries[q].example] = 1;
    }
  }
  progress.Finish();

  // Longest verbatim match of each example that had a hit.
  if (options.longest_match) {
    LongestMatchOptions lo;
    // Symbols: bytes, or tokens (where a found gram is n tokens, so spans
    // of n or more are always reported).
    lo.min_len = std::max<uint64_t>(1, tokens ? std::min<uint64_t>(options.min_match_bytes, index.n())
                                              : options.min_match_bytes);
    lo.max_locations = 1;
    for (uint32_t e = 0; e < index.num_examples(); ++e) {
      if (!example_hit[e]) continue;
      ++st.examples_matched;
      EvalExampleInfo info = index.example(e);
      std::string input;
      if (!ParseSaQueryArg(*sa, info.text, &input).ok()) continue;  // token mode: an id wider than the symbols
      LongestMatchResult lm;
      DEDUPDB_RETURN_IF_ERROR(LongestMatches(*sa, input, lo, &lm));
      const MatchSpan* best = nullptr;
      for (const MatchSpan& s : lm.spans) {
        if (!best || s.length > best->length) best = &s;
      }
      if (!best || best->locations.empty()) continue;
      DeconExampleEvidence& ev = acc->mutable_evidence(e);
      const SpanLocation& loc = best->locations[0];
      ev.longest_match_bytes = best->length;  // symbols: bytes, or tokens in token mode
      ev.doc_order = loc.doc_id;
      if (tokens) {
        // A token index's documents are the token file's runs (no stored
        // text): name the run, and show the matched ids.
        ev.doc = "run " + std::to_string(loc.doc_id);
        ev.snippet = FormatSymbols(*sa, std::string_view(input).substr(best->begin * sb, best->length * sb));
        acc->AddDocs(e, best->count);
        continue;
      }
      DocMeta meta;
      if (store->GetMeta(loc.doc_id, &meta).ok()) {
        ev.doc = meta.external_id;
        ev.source = meta.source;
      } else {
        ev.doc = std::to_string(loc.doc_id);
      }
      std::string_view doc = store->Text(loc.doc_id);
      uint64_t from = loc.offset > 60 ? loc.offset - 60 : 0;
      uint64_t to = std::min<uint64_t>(doc.size(), loc.offset + best->length + 60);
      while (from > 0 && (static_cast<unsigned char>(doc[from]) & 0xC0) == 0x80) --from;
      while (to < doc.size() && (static_cast<unsigned char>(doc[to]) & 0xC0) == 0x80) ++to;
      ev.snippet = std::string(doc.substr(from, to - from));
      acc->AddDocs(e, best->count);
    }
  }
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (stats) *stats = st;
  return Status::OK();
}

}  // namespace dedupdb
