// Check(): tokenise, hash every n-gram, probe the in-cache filter, confirm in
// the key table. Hashes are computed for the whole document first and probed
// in a second loop so that the filter's cache misses overlap.
#include "query/decontaminator.h"

#include <algorithm>
#include <bit>

namespace dedupdb {
namespace {

// Per-thread scratch, so concurrent Check() calls share nothing mutable.
struct Scratch {
  std::vector<Word> words;
  std::vector<uint64_t> hashes;
  std::vector<uint64_t> rolling;
  std::vector<std::pair<uint32_t, uint32_t>> example_grams;
};
Scratch& LocalScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Finds the gram hits of a tokenised document; stops at the first if
// first_only. Returns whether anything was found.
bool FindHits(const EvalIndex& index, const std::vector<Word>& words, Scratch& s, bool first_only,
              std::vector<DeconGramHit>* hits) {
  const size_t n = index.n();
  const size_t w = words.size();
  s.hashes.resize(w);
  for (size_t i = 0; i < w; ++i) s.hashes[i] = words[i].hash;
  bool found = false;
  auto add = [&](uint32_t gram, size_t pos, size_t len) {
    found = true;
    if (hits) hits->push_back(DeconGramHit{gram, uint32_t(pos), uint32_t(len), words[pos].begin, words[pos + len - 1].end});
  };
  // Rolling pre-filter keys of every window of `len` words, computed first
  // so that the filter probes can be prefetched a few windows ahead.
  auto rolling = [&](size_t len) {
    const RollingNgram roll(len);
    const size_t count = w - len + 1;
    s.rolling.resize(count);
    uint64_t r = RollingNgramHash(s.hashes.data(), len);
    s.rolling[0] = r;
    for (size_t i = 1; i < count; ++i) {
      r = roll.Slide(r, s.hashes[i - 1], s.hashes[i + len - 1]);
      s.rolling[i] = r;
    }
    return count;
  };
  constexpr size_t kAhead = 40;
  if (w >= n) {
    const size_t count = rolling(n);
    const EvalIndex::Filter& filter = index.gram_filter();
    for (size_t i = 0; i < std::min(count, kAhead); ++i) filter.Prefetch(s.rolling[i]);
    for (size_t i = 0; i < count; ++i) {
      if (i + kAhead < count) filter.Prefetch(s.rolling[i + kAhead]);
      if (!filter.MayContain(s.rolling[i])) continue;
      uint32_t g = index.FindGram(HashNgram(s.hashes.data() + i, n));
      if (g == EvalIndex::kNotFound) continue;
      add(g, i, n);
      if (first_only) return true;
    }
  }
  // Short examples: probe their p-word prefixes the same way.
  const size_t p = index.short_prefix_len();
  if (p > 0 && w >= p) {
    // The prefix filter is small (a few KB): no prefetching needed.
    const size_t count = rolling(p);
    const EvalIndex::Filter& filter = index.prefix_filter();
    for (size_t i = 0; i < count; ++i) {
      if (!filter.MayContain(s.rolling[i])) continue;
      uint64_t ph = HashNgram(s.hashes.data() + i, p);
      uint64_t mask = index.ShortLengthsForPrefix(ph);
      while (mask) {
        size_t len = std::countr_zero(mask);
        mask &= mask - 1;
        if (i + len > w) break;  // lengths ascend
        uint64_t h = len == p ? ph : HashNgram(s.hashes.data() + i, len);
        uint32_t g = index.FindGram(h);
        if (g == EvalIndex::kNotFound) continue;
        add(g, i, len);
        if (first_only) return true;
      }
    }
  }
  return found;
}

// Examples, coverage and spans of the hits of s.words.
void Resolve(const EvalIndex& index, Scratch& s, DeconResult* r) {
  r->examples.clear();
  r->spans.clear();
  r->hits.clear();
  r->num_words = s.words.size();
  if (!FindHits(index, s.words, s, false, &r->hits)) return;
  std::sort(r->hits.begin(), r->hits.end(), [](const DeconGramHit& a, const DeconGramHit& b) {
    return a.word_pos != b.word_pos ? a.word_pos < b.word_pos : a.words < b.words;
  });
  // Examples: distinct (example, gram) pairs, counted per example.
  s.example_grams.clear();
  for (const DeconGramHit& h : r->hits) {
    for (const uint32_t* e = index.postings_begin(h.gram); e != index.postings_end(h.gram); ++e)
      s.example_grams.push_back({*e, h.gram});
  }
  std::sort(s.example_grams.begin(), s.example_grams.end());
  s.example_grams.erase(std::unique(s.example_grams.begin(), s.example_grams.end()), s.example_grams.end());
  for (const auto& [ex, gram] : s.example_grams) {
    if (r->examples.empty() || r->examples.back().example != ex) {
      r->examples.push_back(DeconExampleHit{ex, 0, index.example(ex).num_grams});
    }
    ++r->examples.back().grams_matched;
  }
  // Spans: union of the hits' ranges (hits are sorted by start word, so
  // their starts ascend).
  for (const DeconGramHit& h : r->hits) {
    if (!r->spans.empty() && h.begin <= r->spans.back().end) {
      r->spans.back().end = std::max(r->spans.back().end, h.end);
    } else {
      r->spans.push_back(DeconSpan{h.begin, h.end});
    }
  }
}

}  // namespace

Status Decontaminator::Open(const std::string& eval_index_path, Decontaminator* out, Env* env) {
  std::unique_ptr<EvalIndex> idx;
  DEDUPDB_RETURN_IF_ERROR(EvalIndex::Open(env ? env : Env::Default(), eval_index_path, &idx));
  out->index_ = std::shared_ptr<const EvalIndex>(std::move(idx));
  return Status::OK();
}

DeconResult Decontaminator::Check(std::string_view doc) const {
  DeconResult r;
  Check(doc, &r);
  return r;
}

void Decontaminator::Check(std::string_view doc, DeconResult* r) const {
  Scratch& s = LocalScratch();
  if (index_->token_mode()) s.words.clear();
  else WordTokenizer(index_->mode()).Tokenize(doc, &s.words);
  Resolve(*index_, s, r);
}

bool Decontaminator::Contains(std::string_view doc) const {
  if (index_->token_mode()) return false;
  Scratch& s = LocalScratch();
  WordTokenizer(index_->mode()).Tokenize(doc, &s.words);
  return FindHits(*index_, s.words, s, true, nullptr);
}

void Decontaminator::CheckTokens(const uint32_t* tokens, size_t count, DeconResult* r) const {
  Scratch& s = LocalScratch();
  if (index_->token_mode()) TokenWords(tokens, count, &s.words);
  else s.words.clear();
  Resolve(*index_, s, r);
}

bool Decontaminator::ContainsTokens(const uint32_t* tokens, size_t count) const {
  if (!index_->token_mode()) return false;
  Scratch& s = LocalScratch();
  TokenWords(tokens, count, &s.words);
  return FindHits(*index_, s.words, s, true, nullptr);
}

std::string Decontaminator::ExampleName(uint32_t example) const {
  EvalExampleInfo info = index_->example(example);
  std::string name(index_->set(info.set).name);
  name += '/';
  name.append(info.id);
  return name;
}

}  // namespace dedupdb
