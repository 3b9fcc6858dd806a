#include "query/doc_search.h"

#include <string.h>

#include <algorithm>
#include <numeric>

namespace dedupdb {
namespace {

// Rough costs (ns) that pick a clause method; both methods are exact, so
// these only matter for speed. Enumerating touches one SA entry and does one
// doc-table search per occurrence (random reads); scanning streams text.
constexpr double kEnumerateNsPerOccurrence = 80.0;
constexpr double kScanNsPerByte = 0.25;
constexpr double kScanNsPerDoc = 150.0;

std::string_view LocalDocText(const SaShard& shard, uint64_t local) {
  const uint32_t sb = shard.symbol_bytes();
  uint64_t b = shard.DocBegin(local), e = shard.DocEnd(local);
  return std::string_view(reinterpret_cast<const char*>(shard.text()) + b * sb, (e - b) * sb);
}

std::string_view DocText(const SuffixArrayIndex& index, uint64_t doc_id) {
  const SaShard& shard = index.shard(index.ShardOfDoc(doc_id));
  return LocalDocText(shard, doc_id - shard.first_doc());
}

uint64_t TermCount(const SuffixArrayIndex& index, std::string_view term) {
  if (index.ContainsSeparator(term)) return 0;
  uint64_t n = 0;
  for (size_t s = 0; s < index.num_shards(); ++s) n += index.shard(s).FindRange(term).size();
  return n;
}

}  // namespace

bool FindInDoc(std::string_view doc, std::string_view term, uint32_t symbol_bytes, uint64_t* symbol_offset) {
  size_t from = 0;
  while (from + term.size() <= doc.size()) {
    const void* p = memmem(doc.data() + from, doc.size() - from, term.data(), term.size());
    if (p == nullptr) return false;
    size_t off = static_cast<const char*>(p) - doc.data();
    if (off % symbol_bytes == 0) {
      *symbol_offset = off / symbol_bytes;
      return true;
    }
    from = off + 1;  // a match straddling two symbols is not a match
  }
  return false;
}

void DocsContaining(const SuffixArrayIndex& index, std::string_view term, Roaring64Map* docs) {
  if (index.ContainsSeparator(term)) return;
  std::vector<uint64_t> ids;
  for (size_t s = 0; s < index.num_shards(); ++s) {
    const SaShard& shard = index.shard(s);
    SaRange r = shard.FindRange(term);
    if (r.empty()) continue;
    ids.clear();
    if (r.size() * 8 < shard.num_docs()) {
      // Few occurrences: sort their doc ids.
      for (uint64_t k = r.lo; k < r.hi; ++k) ids.push_back(shard.first_doc() + shard.LocalDocOf(shard.SuffixAt(k)));
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    } else {
      // Many: mark the shard's docs in a bit vector instead of sorting.
      std::vector<uint64_t> bits((shard.num_docs() + 63) / 64, 0);
      for (uint64_t k = r.lo; k < r.hi; ++k) {
        uint64_t d = shard.LocalDocOf(shard.SuffixAt(k));
        bits[d >> 6] |= uint64_t{1} << (d & 63);
      }
      for (uint64_t w = 0; w < bits.size(); ++w)
        for (uint64_t b = bits[w]; b != 0; b &= b - 1) ids.push_back(shard.first_doc() + w * 64 + __builtin_ctzll(b));
    }
    docs->addMany(ids.size(), ids.data());
  }
}

Status SearchDocs(const SuffixArrayIndex& index, const DocStore* store, const CnfQuery& query,
                  const DocSearchOptions& options, DocSearchResult* out) {
  *out = DocSearchResult();
  if (query.clauses.empty()) return Status::InvalidArgument("search: the query has no clauses");
  const uint32_t sb = index.symbol_bytes();
  std::vector<ClauseReport> reports(query.clauses.size());
  for (size_t c = 0; c < query.clauses.size(); ++c) {
    ClauseReport& rep = reports[c];
    if (query.clauses[c].empty()) return Status::InvalidArgument("search: clause " + std::to_string(c + 1) + " is empty");
    for (const std::string& term : query.clauses[c]) {
      if (term.empty()) return Status::InvalidArgument("search: empty term in clause " + std::to_string(c + 1));
      Status st = index.ValidateQuery(term);
      if (!st.ok()) return st.WithContext("search: term '" + term + "'");
      rep.terms.push_back(term);
      rep.term_counts.push_back(TermCount(index, term));
      rep.occurrences += rep.term_counts.back();
    }
  }
  std::vector<size_t> order(reports.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return reports[a].occurrences < reports[b].occurrences; });

  Roaring64Map cand;
  for (size_t k = 0; k < order.size(); ++k) {
    ClauseReport& rep = reports[order[k]];
    if (k > 0 && cand.isEmpty()) {
      out->clauses.push_back(rep);
      continue;
    }
    bool scan = false;
    if (k > 0) {
      if (options.method == DocSearchOptions::Method::kScan) {
        scan = true;
      } else if (options.method == DocSearchOptions::Method::kAuto) {
        double n_docs = static_cast<double>(cand.cardinality());
        double enum_ns = kEnumerateNsPerOccurrence * static_cast<double>(rep.occurrences);
        // Cheap pre-check before summing candidate lengths.
        if (n_docs * kScanNsPerDoc < enum_ns) {
          double bytes = 0;
          for (uint64_t d : cand) bytes += static_cast<double>(DocText(index, d).size());
          scan = n_docs * kScanNsPerDoc + bytes * kScanNsPerByte * rep.terms.size() < enum_ns;
        }
      }
    }
    if (scan) {
      Roaring64Map kept;
      std::vector<uint64_t> keep;
      for (uint64_t d : cand) {
        std::string_view text = DocText(index, d);
        uint64_t off;
        for (const std::string& t : rep.terms) {
          if (FindInDoc(text, t, sb, &off)) {
            keep.push_back(d);
            break;
          }
        }
      }
      kept.addMany(keep.size(), keep.data());
      cand = std::move(kept);
    } else {
      Roaring64Map clause_docs;
      for (const std::string& t : rep.terms) DocsContaining(index, t, &clause_docs);
      if (k == 0) cand = std::move(clause_docs);
      else cand &= clause_docs;
    }
    rep.scanned = scan;
    rep.docs_after = cand.cardinality();
    out->clauses.push_back(rep);
  }

  out->num_docs = cand.cardinality();
  for (uint64_t d : cand) {
    if (out->hits.size() >= options.max_docs) break;
    DocSearchHit hit;
    hit.doc_id = d;
    std::string_view text = DocText(index, d);
    // The earliest occurrence of any term of the query's first clause.
    bool found = false;
    for (const std::string& t : query.clauses[0]) {
      uint64_t off;
      if (FindInDoc(text, t, sb, &off) && (!found || off < hit.match_offset)) {
        found = true;
        hit.match_offset = off;
        hit.term = t;
      }
    }
    uint64_t doc_syms = text.size() / sb;
    uint64_t b = hit.match_offset > options.snippet_context ? hit.match_offset - options.snippet_context : 0;
    uint64_t e = std::min(doc_syms, hit.match_offset + hit.term.size() / sb + options.snippet_context);
    hit.snippet = std::string(text.substr(b * sb, (e - b) * sb));
    if (store != nullptr && !index.token_mode()) {
      DocMeta meta;
      Status st = store->GetMeta(d, &meta);
      if (!st.ok()) return st.WithContext("search: doc " + std::to_string(d));
      hit.external_id = meta.external_id;
    }
    out->hits.push_back(std::move(hit));
  }
  out->docs = std::move(cand);
  return Status::OK();
}

}  // namespace dedupdb
