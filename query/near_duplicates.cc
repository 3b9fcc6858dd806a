#include "query/near_duplicates.h"

#include <algorithm>
#include <chrono>
#include <queue>
#include <unordered_map>

#include "index/external_sort.h"
#include "index/union_find.h"
#include "storage/progress.h"

namespace dedupdb {

namespace {

Status QueryBySignature(const DocStore& store, const LshIndex& index, const uint32_t* sig,
                        std::string_view text, const NearQueryOptions& options, std::vector<NearMatch>* out) {
  out->clear();
  const LshManifest& m = index.manifest();
  std::vector<uint64_t> cands;
  for (unsigned j = 0; j < m.bands.bands; ++j) {
    index.Lookup(j, LshBandKey(sig, j, m.bands.rows), [&](uint64_t d) { cands.push_back(d); });
  }
  std::sort(cands.begin(), cands.end());
  cands.erase(std::unique(cands.begin(), cands.end()), cands.end());
  std::vector<uint64_t> qset, cset;
  if (options.verify) ShingleSet(text, m.shingles, &qset);
  for (uint64_t d : cands) {
    if (d == options.exclude_doc) continue;
    NearMatch match;
    match.doc_id = d;
    match.estimated = EstimatedJaccard(sig, index.Signature(d), m.num_perm);
    if (options.verify) {
      std::string_view ctext;
      DEDUPDB_RETURN_IF_ERROR(store.GetText(d, &ctext));
      ShingleSet(ctext, m.shingles, &cset);
      match.exact = ExactJaccard(qset, cset);
    }
    if (match.similarity() >= options.threshold) out->push_back(match);
  }
  std::stable_sort(out->begin(), out->end(),
                   [](const NearMatch& a, const NearMatch& b) { return a.similarity() > b.similarity(); });
  return Status::OK();
}

}  // namespace

Status FindNearDuplicates(const DocStore& store, const LshIndex& index, std::string_view text,
                          const NearQueryOptions& options, std::vector<NearMatch>* out) {
  std::vector<uint32_t> sig(index.num_perm());
  MinHasher hasher(&index.permutations(), index.manifest().shingles);
  if (hasher.Sign(text, sig.data()) == 0) {
    out->clear();  // no words: nothing to compare
    return Status::OK();
  }
  return QueryBySignature(store, index, sig.data(), text, options, out);
}

Status FindNearDuplicatesOfDoc(const DocStore& store, const LshIndex& index, uint64_t doc_id,
                               const NearQueryOptions& options, std::vector<NearMatch>* out) {
  std::string_view text;
  DEDUPDB_RETURN_IF_ERROR(store.GetText(doc_id, &text));
  NearQueryOptions o = options;
  o.exclude_doc = doc_id;
  const uint32_t* stored = index.Signature(doc_id);
  if (stored == nullptr) return FindNearDuplicates(store, index, text, o, out);
  bool empty = true;
  for (unsigned k = 0; k < index.num_perm() && empty; ++k) empty = stored[k] == kEmptyMinHash;
  if (empty) {
    out->clear();
    return Status::OK();
  }
  return QueryBySignature(store, index, stored, text, o, out);
}

// ---- batch near-dedup ----------------------------------------------------------

namespace {

// Jaccard of two docs by the configured verification.
class Verifier {
 public:
  Verifier(const DocStore& store, const LshIndex& index, bool exact)
      : store_(store), index_(index), exact_(exact) {}
  double Similarity(uint32_t a, uint32_t b) {
    if (!exact_) return EstimatedJaccard(index_.Signature(a), index_.Signature(b), index_.num_perm());
    if (a != cached_) {
      ShingleSet(store_.Text(a), index_.manifest().shingles, &aset_);
      cached_ = a;
    }
    ShingleSet(store_.Text(b), index_.manifest().shingles, &bset_);
    return ExactJaccard(aset_, bset_);
  }

 private:
  const DocStore& store_;
  const LshIndex& index_;
  bool exact_;
  uint32_t cached_ = UINT32_MAX;
  std::vector<uint64_t> aset_, bset_;
};

}  // namespace

Status NearDedup(const DocStore& store, const LshIndex& index, const NearDedupOptions& options,
                 NearDedupResult* result) {
  const auto t0 = std::chrono::steady_clock::now();
  Env* env = options.env ? options.env : Env::Default();
  *result = NearDedupResult();
  const uint64_t docs = index.indexed_docs();
  if (docs > UINT32_MAX) return Status::NotSupported("near-dedup supports up to 2^32-1 documents");
  if (docs > store.num_docs()) return Status::Corruption("LSH index covers more documents than the store");
  result->docs = docs;
  const LshManifest& m = index.manifest();

  // The union-find array is part of the budget; the pair buffer gets the rest.
  const uint64_t uf_bytes = docs * sizeof(uint32_t);
  const uint64_t pair_budget = std::max<uint64_t>(options.memory_bytes > uf_bytes ? options.memory_bytes - uf_bytes : 0,
                                                  512);
  ExternalSorter<uint64_t> pairs(env, options.tmp_dir, "pairs", pair_budget, /*unique=*/true);

  // 1. Candidate pairs, band by band: a band of every run is sorted by
  //    (key, doc); a k-way merge over runs yields buckets in key order.
  ProgressMeter progress("candidate pairs", m.bands.bands, ProgressMeter::Unit::kItems, options.show_progress);
  std::vector<uint32_t> bucket;
  for (unsigned j = 0; j < m.bands.bands; ++j) {
    struct Cursor {
      const LshEntry* p;
      const LshEntry* end;
      uint32_t base;
    };
    std::vector<Cursor> cur;
    for (size_t i = 0; i < index.num_runs(); ++i) {
      const auto& r = index.run(i);
      r.buckets->map().Advise(MappedFile::Access::kSequential);
      if (r.entries_per_band) {
        cur.push_back({r.Band(j), r.Band(j) + r.entries_per_band, static_cast<uint32_t>(r.info.first_doc)});
      }
    }
    auto less = [&](size_t x, size_t y) {
      const LshEntry& a = *cur[x].p;
      const LshEntry& b = *cur[y].p;
      if (a.key != b.key) return a.key > b.key;
      return a.doc + cur[x].base > b.doc + cur[y].base;
    };
    std::priority_queue<size_t, std::vector<size_t>, decltype(less)> heap(less);
    for (size_t c = 0; c < cur.size(); ++c) heap.push(c);
    uint64_t key = 0;
    auto flush = [&]() -> Status {
      for (size_t x = 0; x + 1 < bucket.size(); ++x) {
        for (size_t y = x + 1; y < bucket.size(); ++y) {
          DEDUPDB_RETURN_IF_ERROR(pairs.Add((uint64_t{bucket[x]} << 32) | bucket[y]));
          ++result->pair_records;
        }
      }
      bucket.clear();
      return Status::OK();
    };
    while (!heap.empty()) {
      size_t c = heap.top();
      heap.pop();
      const LshEntry e = *cur[c].p;
      const uint32_t doc = e.doc + cur[c].base;
      if (++cur[c].p != cur[c].end) heap.push(c);
      if (!bucket.empty() && e.key != key) DEDUPDB_RETURN_IF_ERROR(flush());
      key = e.key;
      bucket.push_back(doc);  // ascending within a key: runs ordered, docs sorted
    }
    DEDUPDB_RETURN_IF_ERROR(flush());
    progress.Update(j + 1, result->pair_records, "pairs");
  }
  progress.Finish();
  DEDUPDB_RETURN_IF_ERROR(pairs.Finish());
  result->spill_files = pairs.spill_files();
  result->spilled_bytes = pairs.spilled_bytes();

  // 2. Verify distinct pairs in (a, b) order and join components.
  UnionFind uf(static_cast<uint32_t>(docs));
  Verifier verifier(store, index, options.exact);
  ProgressMeter vprogress("verify pairs", 0, ProgressMeter::Unit::kItems, options.show_progress);
  for (;;) {
    uint64_t p = 0;
    bool done = false;
    DEDUPDB_RETURN_IF_ERROR(pairs.Next(&p, &done));
    if (done) break;
    ++result->candidate_pairs;
    const uint32_t a = static_cast<uint32_t>(p >> 32), b = static_cast<uint32_t>(p);
    if (uf.Find(a) == uf.Find(b)) {
      ++result->skipped_pairs;
    } else {
      ++result->verified_pairs;
      if (verifier.Similarity(a, b) >= options.threshold) {
        uf.Union(a, b);
        ++result->accepted_pairs;
      }
    }
    if ((result->candidate_pairs & 0xFFF) == 0) vprogress.Update(result->candidate_pairs);
  }
  vprogress.Finish();

  // 3. One representative per component, the rest removed.
  std::unordered_map<uint32_t, uint32_t> rep;  // root -> kept doc (components >= 2)
  for (uint32_t d = 0; d < docs; ++d) {
    const uint32_t r = uf.Find(d);
    if (r == d) continue;
    auto [it, inserted] = rep.try_emplace(r, r);
    if (options.keep == KeepPolicy::kLongest) {
      const size_t cur_len = store.Text(it->second).size(), len = store.Text(d).size();
      if (len > cur_len) it->second = d;  // ties keep the lower id
    }
  }
  result->clusters = rep.size();
  Verifier report_sim(store, index, options.exact);
  for (uint32_t d = 0; d < docs; ++d) {
    const uint32_t r = uf.Find(d);
    auto it = rep.find(r);
    if (it == rep.end() || it->second == d) continue;
    RemovedDoc rd;
    rd.doc_id = d;
    rd.cluster = r;
    rd.kept = it->second;
    rd.similarity = report_sim.Similarity(std::min(d, it->second), std::max(d, it->second));
    result->removed_bytes += store.Text(d).size();
    result->removed.push_back(rd);
  }
  result->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return Status::OK();
}

}  // namespace dedupdb
