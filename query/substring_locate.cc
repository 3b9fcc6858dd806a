#include "query/substring_locate.h"

#include <algorithm>
#include <queue>

#include "query/substring_count.h"
#include "storage/doc_store.h"

namespace dedupdb {

namespace {

bool IsUtf8Continuation(uint8_t b) { return (b & 0xC0) == 0x80; }

// The k smallest positions of SA range r, ascending.
std::vector<uint64_t> SmallestPositions(const SaShard& shard, SaRange r, uint64_t k) {
  std::vector<uint64_t> out;
  if (k >= r.size()) {
    out.reserve(r.size());
    for (uint64_t i = r.lo; i < r.hi; ++i) out.push_back(shard.SuffixAt(i));
    std::sort(out.begin(), out.end());
    return out;
  }
  std::priority_queue<uint64_t> heap;  // max-heap of the k smallest so far
  for (uint64_t i = r.lo; i < r.hi; ++i) {
    uint64_t p = shard.SuffixAt(i);
    if (heap.size() < k) heap.push(p);
    else if (p < heap.top()) { heap.pop(); heap.push(p); }
  }
  out.resize(heap.size());
  for (size_t j = out.size(); j-- > 0;) { out[j] = heap.top(); heap.pop(); }
  return out;
}

}  // namespace

Status LocateOccurrences(const SuffixArrayIndex& index, const DocStore* store, std::string_view query,
                         const LocateOptions& options, LocateResult* result) {
  CountResult counts;
  DEDUPDB_RETURN_IF_ERROR(CountOccurrences(index, query, &counts));
  result->total = counts.count;
  result->hits.clear();
  const uint32_t sb = index.symbol_bytes();
  const uint64_t qsym = query.size() / sb;
  uint64_t skip = options.offset, need = options.limit;
  for (size_t s = 0; s < index.num_shards() && need > 0; ++s) {
    const SaRange r = counts.ranges[s];
    if (skip >= r.size()) { skip -= r.size(); continue; }
    const SaShard& shard = index.shard(s);
    std::vector<uint64_t> pos = SmallestPositions(shard, r, skip + need);
    for (size_t j = skip; j < pos.size() && need > 0; ++j, --need) {
      const uint64_t p = pos[j];
      if (p + qsym >= shard.num_symbols()) {
        return Status::Corruption(shard.sa_file().path() + ": suffix position " + std::to_string(p) +
                                  " past the text; run dedupdb verify");
      }
      const uint64_t d = shard.LocalDocOf(p);
      // Clamped against a damaged doc table (open checks only its ends).
      const uint64_t db = std::min(shard.DocBegin(d), p);
      const uint64_t de = std::min(std::max(shard.DocEnd(d), p + qsym), shard.num_symbols());
      LocateHit h;
      h.doc_id = shard.first_doc() + d;
      h.offset = p - db;
      uint64_t b = p - std::min(options.context, p - db);
      uint64_t e = std::min(de, p + qsym + std::min(options.context, de - (p + qsym)));
      const uint8_t* t = shard.text();
      if (sb == 1) {
        while (b < p && IsUtf8Continuation(t[b])) ++b;
        while (e > p + qsym && IsUtf8Continuation(t[e])) --e;
      }
      auto bytes = [&](uint64_t x, uint64_t y) {
        return std::string(reinterpret_cast<const char*>(t) + x * sb, (y - x) * sb);
      };
      h.before = bytes(b, p);
      h.match = bytes(p, p + qsym);
      h.after = bytes(p + qsym, e);
      if (store != nullptr && !index.token_mode()) {
        DocMeta meta;
        DEDUPDB_RETURN_IF_ERROR(store->GetMeta(h.doc_id, &meta));
        h.external_id = std::move(meta.external_id);
      }
      result->hits.push_back(std::move(h));
    }
    skip = 0;
  }
  return Status::OK();
}

}  // namespace dedupdb
