#include "query/near_duplicates.h"

#include <algorithm>
#include <chrono>

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
  double Similarity(uint64_t a, uint64_t b) {
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
  uint64_t cached_ = ~uint64_t{0};
  std::vector<uint64_t> aset_, bset_;
};

struct DocPair {  // a < b
  uint64_t a, b;
  bool operator<(const DocPair& o) const { return a != o.a ? a < o.a : b < o.b; }
};

struct RemovedRecord {
  uint64_t doc, cluster, kept;
  bool operator<(const RemovedRecord& o) const { return doc < o.doc; }
};


}  // namespace

Status NearDedup(const DocStore& store, const LshIndex& index, const NearDedupOptions& options,
                 NearDedupResult* result) {
  const auto t0 = std::chrono::steady_clock::now();
  Env* env = options.env ? options.env : Env::Default();
  *result = NearDedupResult();
  const uint64_t docs = index.indexed_docs();
  if (docs > store.num_docs()) return Status::Corruption("LSH index covers more documents than the store");
  result->docs = docs;
  const LshManifest& m = index.manifest();

  const uint64_t budget = options.memory_bytes;
  const uint64_t pair_budget = std::max<uint64_t>(budget / 2, 512);
  const uint64_t removed_budget = std::max<uint64_t>(budget / 8, 512);
  ExternalSorter<DocPair> pairs(env, options.tmp_dir, "pairs", pair_budget, /*unique=*/true);

  // 1. Candidate pairs, band by band: a band of every run is sorted by
  //    (key, doc); the merge over runs yields buckets in key order, docs
  //    ascending.
  for (size_t i = 0; i < index.num_runs(); ++i) index.run(i).buckets->map().Advise(MappedFile::Access::kSequential);
  ProgressMeter progress("candidate pairs", m.bands.bands, ProgressMeter::Unit::kItems, options.show_progress);
  std::vector<uint64_t> bucket;
  for (unsigned j = 0; j < m.bands.bands; ++j) {
    auto flush = [&]() -> Status {
      for (size_t x = 0; x + 1 < bucket.size(); ++x) {
        for (size_t y = x + 1; y < bucket.size(); ++y) {
          DEDUPDB_RETURN_IF_ERROR(pairs.Add(DocPair{bucket[x], bucket[y]}));
          ++result->pair_records;
        }
      }
      bucket.clear();
      return Status::OK();
    };
    if (index.num_runs() == 1) {
      // One run (a fresh or compacted index): the band is one sorted array;
      // nearly all buckets hold one doc, so look only for equal neighbours.
      const LshIndex::Run& run = index.run(0);
      const LshEntry* e = run.Band(j);
      const uint64_t n = run.entries_per_band;
      for (uint64_t i = 0; i + 1 < n;) {
        if (e[i].key != e[i + 1].key) {
          ++i;
          continue;
        }
        uint64_t k = i + 1;
        while (k + 1 < n && e[k + 1].key == e[i].key) ++k;
        for (uint64_t x = i; x <= k; ++x) bucket.push_back(run.info.first_doc + e[x].doc());
        DEDUPDB_RETURN_IF_ERROR(flush());
        i = k + 1;
      }
    } else {
      LshBandMerger merger = index.MergeBand(j);
      uint64_t key = 0, cur_key = 0, doc = 0;
      while (merger.Next(&key, &doc)) {
        if (!bucket.empty() && key != cur_key) DEDUPDB_RETURN_IF_ERROR(flush());
        cur_key = key;
        bucket.push_back(doc);
      }
      DEDUPDB_RETURN_IF_ERROR(flush());
    }
    progress.Update(j + 1, result->pair_records, "pairs");
  }
  progress.Finish();
  DEDUPDB_RETURN_IF_ERROR(pairs.Finish());
  result->spill_files = pairs.spill_files();
  result->spilled_bytes = pairs.spilled_bytes();
  // The union-find gets what the pair sorter no longer holds (its buffer
  // when it spilled, only its merge read buffers then) minus the share of
  // the removed-record sorter.
  const uint64_t held = pairs.memory_bytes() + removed_budget;
  const uint64_t uf_budget = std::max<uint64_t>(budget > held ? budget - held : 0, options.min_union_find_bytes);

  // 2. Verify distinct pairs in (a, b) order and join components.
  SparseUnionFind uf;
  Verifier verifier(store, index, options.exact);
  ProgressMeter vprogress("verify pairs", 0, ProgressMeter::Unit::kItems, options.show_progress);
  for (;;) {
    DocPair p{};
    bool done = false;
    DEDUPDB_RETURN_IF_ERROR(pairs.Next(&p, &done));
    if (done) break;
    ++result->candidate_pairs;
    if (uf.Find(p.a) == uf.Find(p.b)) {
      ++result->skipped_pairs;
    } else {
      ++result->verified_pairs;
      if (verifier.Similarity(p.a, p.b) >= options.threshold) {
        const uint64_t need = uf.memory_after(!uf.Contains(p.a) + !uf.Contains(p.b));
        if (need > uf_budget) {
          return Status::Aborted("near-dedup: the union-find of " + std::to_string(uf.size()) +
                                 "+ clustered docs needs " + std::to_string(need) + " bytes, over its share (" +
                                 std::to_string(uf_budget) + " bytes) of --memory " + std::to_string(budget) +
                                 "; raise --memory");
        }
        uf.Union(p.a, p.b);
        ++result->accepted_pairs;
      }
    }
    if ((result->candidate_pairs & 0xFFF) == 0) vprogress.Update(result->candidate_pairs);
  }
  vprogress.Finish();
  result->clustered_docs = uf.size();
  result->union_find_bytes = uf.memory_bytes();

  // 3. One representative per component (kept in the root's aux slot), the
  //    others removed; removed records are sorted by doc id externally.
  if (options.keep == KeepPolicy::kLongest) {
    uf.ForEachId([&](uint64_t d) {
      uint64_t& best = uf.Aux(uf.Find(d));
      const size_t len = store.Text(d).size(), best_len = store.Text(best).size();
      if (len > best_len || (len == best_len && d < best)) best = d;
    });
  }
  ExternalSorter<RemovedRecord> removed(env, options.tmp_dir, "removed", removed_budget);
  Status s;
  uf.ForEachId([&](uint64_t d) {
    const uint64_t r = uf.Find(d);
    if (r == d) ++result->clusters;
    const uint64_t kept = options.keep == KeepPolicy::kLongest ? uf.Aux(r) : r;
    if (d != kept && s.ok()) s = removed.Add(RemovedRecord{d, r, kept});
  });
  DEDUPDB_RETURN_IF_ERROR(s);
  DEDUPDB_RETURN_IF_ERROR(removed.Finish());
  Verifier report_sim(store, index, options.exact);
  for (;;) {
    RemovedRecord rec{};
    bool done = false;
    DEDUPDB_RETURN_IF_ERROR(removed.Next(&rec, &done));
    if (done) break;
    RemovedDoc rd;
    rd.doc_id = rec.doc;
    rd.cluster = rec.cluster;
    rd.kept = rec.kept;
    rd.similarity = report_sim.Similarity(std::min(rec.doc, rec.kept), std::max(rec.doc, rec.kept));
    result->removed_bytes += store.Text(rec.doc).size();
    ++result->removed_docs;
    if (options.on_removed) DEDUPDB_RETURN_IF_ERROR(options.on_removed(rd));
  }
  result->spill_files += removed.spill_files();
  result->spilled_bytes += removed.spilled_bytes();
  result->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return Status::OK();
}

}  // namespace dedupdb
