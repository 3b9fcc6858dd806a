// Check(): tokenise, probe the rolling n-gram hashes against the filters
// (decon_probe.h), confirm in the key table (see FindHits).
#include "query/decontaminator.h"

#include "query/decon_probe.h"
#include "storage/cpu_features.h"

#include <algorithm>
#include <bit>

namespace dedupdb {
namespace {

// Per-thread scratch, so concurrent Check() calls share nothing mutable.
struct Scratch {
  WordHashes words;
  decon_internal::ProbeScratch probe;
  std::vector<std::pair<uint32_t, uint32_t>> example_grams;
};
Scratch& LocalScratch() {
  thread_local Scratch scratch;
  return scratch;
}

bool UseAvx512() {
  static const bool ok = DetectSimdLevel() >= SimdLevel::kAvx512;
  return ok;
}

// Finds the gram hits of a tokenised document; stops at the first if
// first_only. Returns whether anything was found.
//
// The filter stage (decon_probe.h) lists the windows passing the pre-filters
// (~1% of them, nearly all false positives); those get the canonical
// HashNgram and a key-table lookup, in batches whose directory entries and
// keys are prefetched first so that the lookups' cache misses overlap. Short
// examples are found through their p-word prefixes.
bool FindHits(const EvalIndex& index, const WordHashes& words, Scratch& s, bool first_only,
              std::vector<DeconGramHit>* hits) {
  const size_t n = index.n();
  const size_t p = index.short_prefix_len();
  const size_t w = words.size();
  const uint64_t* h = words.hashes();
  bool found = false;
  auto add = [&](uint32_t gram, size_t pos, size_t len) {
    found = true;
    if (hits) hits->push_back(DeconGramHit{gram, uint32_t(pos), uint32_t(len), words.begins()[pos], words.ends()[pos + len - 1]});
  };
  decon_internal::Probe(h, w, n, p, index.gram_filter(), index.prefix_filter(), &s.probe);
  constexpr size_t kBatch = 64;
  std::pair<uint32_t, uint64_t> cand[kBatch];  // (window, gram hash)
  const std::vector<uint32_t>& gc = s.probe.gram_cand;
  for (size_t base = 0; base < gc.size(); base += kBatch) {
    const size_t m = std::min(kBatch, gc.size() - base);
    for (size_t c = 0; c < m; ++c) {
      const uint64_t gh = HashNgram(h + gc[base + c], n);
      index.PrefetchDirectory(gh);
      cand[c] = {gc[base + c], gh};
    }
    for (size_t c = 0; c < m; ++c) index.PrefetchKeys(cand[c].second);
    for (size_t c = 0; c < m; ++c) {
      uint32_t g = index.FindGram(cand[c].second);
      if (g == EvalIndex::kNotFound) continue;
      add(g, cand[c].first, n);
      if (first_only) return true;
    }
  }
  for (const uint32_t i : s.probe.prefix_cand) {
    uint64_t ph = HashNgram(h + i, p);
    uint64_t mask = index.ShortLengthsForPrefix(ph);
    while (mask) {
      size_t len = std::countr_zero(mask);
      mask &= mask - 1;
      if (i + len > w) break;  // lengths ascend
      uint32_t g = index.FindGram(len == p ? ph : HashNgram(h + i, len));
      if (g == EvalIndex::kNotFound) continue;
      add(g, i, len);
      if (first_only) return true;
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
  if (index_->token_mode()) s.words.Clear();
  else WordTokenizer(index_->mode()).TokenizeHashes(doc, &s.words);
  Resolve(*index_, s, r);
}

bool Decontaminator::Contains(std::string_view doc) const {
  if (index_->token_mode()) return false;
  Scratch& s = LocalScratch();
  WordTokenizer(index_->mode()).TokenizeHashes(doc, &s.words);
  return FindHits(*index_, s.words, s, true, nullptr);
}

void Decontaminator::CheckTokens(const uint32_t* tokens, size_t count, DeconResult* r) const {
  Scratch& s = LocalScratch();
  if (index_->token_mode()) s.words.AssignTokens(tokens, count);
  else s.words.Clear();
  Resolve(*index_, s, r);
}

bool Decontaminator::ContainsTokens(const uint32_t* tokens, size_t count) const {
  if (!index_->token_mode()) return false;
  Scratch& s = LocalScratch();
  s.words.AssignTokens(tokens, count);
  return FindHits(*index_, s.words, s, true, nullptr);
}

std::string Decontaminator::ExampleName(uint32_t example) const {
  EvalExampleInfo info = index_->example(example);
  std::string name(index_->set(info.set).name);
  name += '/';
  name.append(info.id);
  return name;
}

namespace decon_internal {

// Windows are processed in chunks: a first loop slides the rolling hash and
// mixes it; a second tests the keys against the filter, prefetching the
// filter word kAhead windows ahead (the gram filter is megabytes, so a probe
// is an L2/L3 miss). The prefix filter is small (cache-resident): tested as
// it is slid.
void ProbeScalar(const uint64_t* h, size_t w, size_t n, size_t p, const EvalIndex::Filter& gram_filter,
                 const EvalIndex::Filter& prefix_filter, ProbeScratch* s) {
  s->gram_cand.clear();
  s->prefix_cand.clear();
  const size_t grams = w >= n ? w - n + 1 : 0;        // n-word windows
  const size_t prefixes = p > 0 && w >= p ? w - p + 1 : 0;  // p-word windows
  constexpr size_t kChunk = 256;
  constexpr size_t kAhead = 32;  // prefetch distance (measured: 16 and 64 slower; all-at-once much slower)
  uint64_t mixed_gram[kChunk];
  const RollingNgram roll_n(n), roll_p(std::max<size_t>(p, 1));
  uint64_t rn = grams ? RollingNgramHash(h, n) : 0;
  uint64_t rp = prefixes ? RollingNgramHash(h, p) : 0;
  const size_t windows = std::max(grams, prefixes);
  for (size_t base = 0; base < windows; base += kChunk) {
    const size_t end = std::min(windows, base + kChunk);
    const size_t gram_end = std::min(end, grams), prefix_end = std::min(end, prefixes);
    for (size_t i = base; i < gram_end; ++i) {
      if (i > 0) rn = roll_n.Slide(rn, h[i - 1], h[i + n - 1]);
      const uint64_t m = RollingFilterMix(rn);
      mixed_gram[i - base] = m;
      if (i < base + kAhead) gram_filter.PrefetchMixed(m);
    }
    for (size_t i = base; i < gram_end; ++i) {
      if (i + kAhead < gram_end) gram_filter.PrefetchMixed(mixed_gram[i + kAhead - base]);
      if (gram_filter.MayContainMixed(mixed_gram[i - base])) s->gram_cand.push_back(static_cast<uint32_t>(i));
    }
    for (size_t i = base; i < prefix_end; ++i) {
      if (i > 0) rp = roll_p.Slide(rp, h[i - 1], h[i + p - 1]);
      if (prefix_filter.MayContainMixed(RollingFilterMix(rp))) s->prefix_cand.push_back(static_cast<uint32_t>(i));
    }
  }
}

void Probe(const uint64_t* h, size_t w, size_t n, size_t p, const EvalIndex::Filter& gram,
           const EvalIndex::Filter& prefix, ProbeScratch* s, bool allow_simd) {
  if (allow_simd && UseAvx512()) ProbeAvx512(h, w, n, p, gram, prefix, s);
  else ProbeScalar(h, w, n, p, gram, prefix, s);
}

}  // namespace decon_internal
}  // namespace dedupdb
