#include "query/batch_count.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "index/sa_compare.h"

namespace dedupdb {
namespace {

// Where one shard's suffix-array entries and text live in its files.
struct ShardFiles {
  std::unique_ptr<RandomAccessFile> text, sa;
  uint64_t text_off = 0;  // file offset of symbol 0
  uint64_t sa_off = 0;    // file offset of SA entry 0
  uint32_t width = 4, sb = 1;
  uint64_t n = 0, text_bytes = 0;
};

Status OpenShardFiles(const SuffixArrayIndex& index, Env* env, std::vector<ShardFiles>* out) {
  out->resize(index.num_shards());
  for (size_t s = 0; s < index.num_shards(); ++s) {
    const SaShard& sh = index.shard(s);
    ShardFiles& f = (*out)[s];
    DEDUPDB_RETURN_IF_ERROR(env->NewRandomAccessFile(sh.text_file().path(), &f.text));
    DEDUPDB_RETURN_IF_ERROR(env->NewRandomAccessFile(sh.sa_file().path(), &f.sa));
    // The maps are only used to learn the body layout, never read here.
    f.text_off = static_cast<uint64_t>(reinterpret_cast<const char*>(sh.text()) - sh.text_file().map().data());
    f.sa_off = static_cast<uint64_t>(reinterpret_cast<const char*>(sh.sa_bytes()) - sh.sa_file().map().data());
    f.width = sh.pointer_width();
    f.sb = sh.symbol_bytes();
    f.n = sh.num_suffixes();
    f.text_bytes = sh.text_bytes();
  }
  return Status::OK();
}

uint64_t DecodePointer(const char* p, uint32_t width) {
  uint64_t v = 0;
  std::memcpy(&v, p, width);  // little-endian, width <= 8
  return v;
}

Status CheckRead(const ReadRequest& r, const char* what) {
  if (!r.status.ok()) return r.status;
  if (r.result != r.length)
    return Status::Corruption(r.file->path() + ": short read of " + what + " at offset " + std::to_string(r.offset));
  return Status::OK();
}

// One binary search: lower bound (first suffix >= query) or upper bound
// (first suffix whose |query|-prefix > query) in one shard.
struct Search {
  uint32_t query;
  uint32_t shard;
  bool upper;
  uint64_t lo, hi;
  uint32_t sa_req = 0, text_req = 0;
};

bool Advance(Search* s, int cmp) {
  uint64_t mid = s->lo + (s->hi - s->lo) / 2;
  bool go_right = s->upper ? cmp <= 0 : cmp < 0;
  if (go_right) s->lo = mid + 1;
  else s->hi = mid;
  return s->lo < s->hi;
}

Status PrepareQueries(const SuffixArrayIndex& index, const std::vector<std::string>& queries) {
  for (size_t i = 0; i < queries.size(); ++i) {
    Status st = index.ValidateQuery(queries[i]);
    if (!st.ok()) return st.WithContext("query " + std::to_string(i + 1));
  }
  return Status::OK();
}

}  // namespace

Status BatchCount(const SuffixArrayIndex& index, const std::vector<std::string>& queries,
                  const BatchCountOptions& options, std::vector<uint64_t>* counts, BatchCountStats* stats) {
  Env* env = options.env ? options.env : Env::Default();
  DEDUPDB_RETURN_IF_ERROR(PrepareQueries(index, queries));
  std::vector<ShardFiles> files;
  DEDUPDB_RETURN_IF_ERROR(OpenShardFiles(index, env, &files));
  std::unique_ptr<BatchReader> reader;
  DEDUPDB_RETURN_IF_ERROR(env->NewBatchReader(std::max(1u, options.queue_depth), options.prefer_io_uring, &reader));
  BatchCountStats local;
  BatchCountStats* st = stats ? stats : &local;
  *st = BatchCountStats();
  st->reader = reader->name();
  counts->assign(queries.size(), 0);
  const uint64_t num_shards = files.size();
  const size_t wave = std::max<size_t>(1, options.queries_per_wave);

  std::vector<Search> active, next;
  std::vector<ReadRequest> reqs;
  std::vector<uint64_t> sa_buf;
  std::vector<char> text_buf;
  std::vector<uint32_t> text_len;  // bytes wanted per text request
  std::unordered_map<uint64_t, uint32_t> dedup;

  for (size_t base = 0; base < queries.size(); base += wave) {
    const size_t end = std::min(queries.size(), base + wave);
    active.clear();
    for (size_t q = base; q < end; ++q) {
      if (queries[q].empty()) {
        for (const ShardFiles& f : files) (*counts)[q] += f.n;  // the empty query matches every suffix
        continue;
      }
      if (index.ContainsSeparator(queries[q])) continue;
      for (uint32_t s = 0; s < num_shards; ++s) {
        if (files[s].n == 0) continue;
        active.push_back(Search{static_cast<uint32_t>(q), s, false, 0, files[s].n});
        active.push_back(Search{static_cast<uint32_t>(q), s, true, 0, files[s].n});
      }
    }
    while (!active.empty()) {
      // Step 1: every search's suffix-array probe, one batch.
      dedup.clear();
      reqs.clear();
      st->probes += active.size();
      for (Search& s : active) {
        const ShardFiles& f = files[s.shard];
        uint64_t mid = s.lo + (s.hi - s.lo) / 2;
        auto [it, fresh] = dedup.try_emplace(mid * num_shards + s.shard, static_cast<uint32_t>(reqs.size()));
        if (fresh) {
          ReadRequest r;
          r.file = f.sa.get();
          r.offset = f.sa_off + mid * f.width;
          r.length = f.width;
          reqs.push_back(r);
        }
        s.sa_req = it->second;
      }
      sa_buf.assign(reqs.size(), 0);
      for (size_t i = 0; i < reqs.size(); ++i) reqs[i].dst = reinterpret_cast<char*>(&sa_buf[i]);
      reader->ReadBatch(reqs.data(), reqs.size());
      ++st->batches;
      st->reads += reqs.size();
      for (const ReadRequest& r : reqs) {
        DEDUPDB_RETURN_IF_ERROR(CheckRead(r, "suffix-array entry"));
        st->bytes_read += r.result;
      }
      // Step 2: every search's text probe, one batch (the longest wanted
      // length per distinct position).
      std::vector<uint64_t> positions(active.size());
      std::vector<uint32_t> text_of_sa(reqs.size(), UINT32_MAX);
      text_len.clear();
      std::vector<ReadRequest> treqs;
      st->probes += active.size();
      for (size_t a = 0; a < active.size(); ++a) {
        Search& s = active[a];
        const ShardFiles& f = files[s.shard];
        uint64_t pos = DecodePointer(reinterpret_cast<const char*>(&sa_buf[s.sa_req]), f.width);
        uint64_t off = pos * f.sb;
        if (off >= f.text_bytes)
          return Status::Corruption(f.sa->path() + ": suffix-array entry points past the text (" + std::to_string(pos) +
                                    ")");
        positions[a] = pos;
        uint32_t want = static_cast<uint32_t>(std::min<uint64_t>(queries[s.query].size(), f.text_bytes - off));
        // Within a shard the SA is a permutation, so equal positions come
        // from the same (deduplicated) SA read: index by that read.
        uint32_t& slot = text_of_sa[s.sa_req];
        if (slot == UINT32_MAX) {
          slot = static_cast<uint32_t>(treqs.size());
          ReadRequest r;
          r.file = f.text.get();
          r.offset = f.text_off + off;
          treqs.push_back(r);
          text_len.push_back(want);
        } else {
          text_len[slot] = std::max(text_len[slot], want);
        }
        s.text_req = slot;
      }
      uint64_t total = 0;
      for (uint32_t l : text_len) total += l;
      text_buf.resize(std::max<uint64_t>(total, 1));
      std::vector<uint64_t> buf_off(treqs.size());
      for (size_t i = 0, o = 0; i < treqs.size(); ++i) {
        treqs[i].length = text_len[i];
        treqs[i].dst = text_buf.data() + o;
        buf_off[i] = o;
        o += text_len[i];
      }
      reader->ReadBatch(treqs.data(), treqs.size());
      ++st->batches;
      st->reads += treqs.size();
      for (const ReadRequest& r : treqs) {
        DEDUPDB_RETURN_IF_ERROR(CheckRead(r, "text"));
        st->bytes_read += r.result;
      }
      // Compare and narrow.
      next.clear();
      for (size_t a = 0; a < active.size(); ++a) {
        Search s = active[a];
        const ShardFiles& f = files[s.shard];
        const std::string& q = queries[s.query];
        uint64_t avail = std::min<uint64_t>(treqs[s.text_req].result, f.text_bytes - positions[a] * f.sb);
        size_t lcp;
        int cmp = CompareSuffixToQuery(reinterpret_cast<const uint8_t*>(text_buf.data() + buf_off[s.text_req]), avail,
                                       reinterpret_cast<const uint8_t*>(q.data()), q.size(), 0, &lcp);
        if (Advance(&s, cmp)) {
          next.push_back(s);
        } else if (s.upper) {
          (*counts)[s.query] += s.lo;
        } else {
          (*counts)[s.query] -= s.lo;  // upper - lower; unsigned wrap cancels out
        }
      }
      active.swap(next);
    }
  }
  return Status::OK();
}

Status SequentialPreadCount(const SuffixArrayIndex& index, const std::vector<std::string>& queries, Env* env,
                            std::vector<uint64_t>* counts, BatchCountStats* stats) {
  if (env == nullptr) env = Env::Default();
  DEDUPDB_RETURN_IF_ERROR(PrepareQueries(index, queries));
  std::vector<ShardFiles> files;
  DEDUPDB_RETURN_IF_ERROR(OpenShardFiles(index, env, &files));
  BatchCountStats local;
  BatchCountStats* st = stats ? stats : &local;
  *st = BatchCountStats();
  st->reader = "pread";
  counts->assign(queries.size(), 0);
  std::string buf;
  for (size_t q = 0; q < queries.size(); ++q) {
    const std::string& query = queries[q];
    if (query.empty()) {
      for (const ShardFiles& f : files) (*counts)[q] += f.n;
      continue;
    }
    if (index.ContainsSeparator(query)) continue;
    buf.resize(query.size());
    for (const ShardFiles& f : files) {
      uint64_t bounds[2];
      for (int upper = 0; upper < 2; ++upper) {
        Search s{0, 0, upper == 1, 0, f.n};
        while (s.lo < s.hi) {
          uint64_t mid = s.lo + (s.hi - s.lo) / 2;
          char ptr[8];
          size_t got = 0;
          DEDUPDB_RETURN_IF_ERROR(f.sa->Read(f.sa_off + mid * f.width, f.width, ptr, &got));
          if (got != f.width) return Status::Corruption(f.sa->path() + ": short read of suffix-array entry");
          uint64_t off = DecodePointer(ptr, f.width) * f.sb;
          if (off >= f.text_bytes) return Status::Corruption(f.sa->path() + ": suffix-array entry points past the text");
          size_t want = std::min<uint64_t>(query.size(), f.text_bytes - off);
          DEDUPDB_RETURN_IF_ERROR(f.text->Read(f.text_off + off, want, buf.data(), &got));
          if (got != want) return Status::Corruption(f.text->path() + ": short read of text");
          st->reads += 2;
          st->bytes_read += f.width + want;
          size_t lcp;
          int cmp = CompareSuffixToQuery(reinterpret_cast<const uint8_t*>(buf.data()), want,
                                         reinterpret_cast<const uint8_t*>(query.data()), query.size(), 0, &lcp);
          Advance(&s, cmp);
        }
        bounds[upper] = s.lo;
      }
      (*counts)[q] += bounds[1] - bounds[0];
    }
  }
  st->probes = st->reads;
  st->batches = st->reads;
  return Status::OK();
}

}  // namespace dedupdb
