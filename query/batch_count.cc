#include "query/batch_count.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
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
  // The planner's text scan: the whole text, read front to back in chunks
  // while the searches run; a text probe is answered here once the chunks
  // it needs have arrived, and read from the file before that.
  std::string text_mem;
  std::vector<uint8_t> chunk_done;
  size_t chunks_done = 0;
  std::vector<ReadRequest> chunk_reqs;
  size_t chunks_submitted = 0;
  uint64_t chunk_bytes = 4u << 20;
};

constexpr uint64_t kScanTag = uint64_t{1} << 62;  // ReadRequest::tag of a scan chunk: kScanTag | shard << 32 | chunk
constexpr uint64_t kPageTag = uint64_t{1} << 61;  // a sampled search's SA range: kPageTag | cursor
constexpr size_t kScanDepth = 4;                  // scan chunks in flight

Status OpenShardFiles(const SuffixArrayIndex& index, Env* env, bool no_readahead, std::vector<ShardFiles>* out) {
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
    if (no_readahead) {
      f.text->HintRandomAccess();
      f.sa->HintRandomAccess();
    }
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
};

// One binary-search step after comparing the suffix at mid with the query.
template <typename S>
bool Advance(S* s, int cmp) {
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

namespace {

// The pipelined engine behind BatchCount. A cursor is one binary search
// (lower or upper bound of one query in one shard); a probe is one suffix-
// array position being read: its SA entry, then its text. Cursors that need
// the same position wait on the same probe, so the top of the search tree
// (shared by every query) and the common path of a query's two bounds are
// read once. A read's completion immediately advances its waiters and
// submits their next probes, so the device queue stays full while the CPU
// compares: there is no per-level barrier.
class PipelinedCount {
 public:
  PipelinedCount(const SuffixArrayIndex& index, const std::vector<std::string>& queries,
                 std::vector<ShardFiles>& files, BatchReader* reader, std::vector<uint64_t>* counts,
                 BatchCountStats* st)
      : index_(index), queries_(queries), files_(files), reader_(reader), counts_(*counts), st_(*st) {}

  // Counts queries [begin, end) into counts_.
  Status RunWave(size_t begin, size_t end) {
    cursors_.clear();
    probes_.clear();
    free_.clear();
    by_position_.clear();
    shared_text_ = 0;
    for (size_t q = begin; q < end; ++q) {
      if (queries_[q].empty()) {
        for (const ShardFiles& f : files_) counts_[q] += f.n;  // the empty query matches every suffix
        continue;
      }
      if (index_.ContainsSeparator(queries_[q])) continue;
      shared_text_ = std::max<uint64_t>(shared_text_, queries_[q].size());
      for (uint32_t s = 0; s < files_.size(); ++s) {
        if (files_[s].n == 0) continue;
        cursors_.push_back(Cursor{static_cast<uint32_t>(q), s, false, 0, 0, files_[s].n});
        cursors_.push_back(Cursor{static_cast<uint32_t>(q), s, true, 0, 0, files_[s].n});
      }
    }
    shared_text_ = std::min<uint64_t>(shared_text_, kMaxSharedText);
    // Depth to which probes stay cached for the whole wave: deep enough that
    // every level two or more cursors share is kept (the tree fans out by 2).
    shared_depth_ = 2;
    while (shared_depth_ < 40 && (uint64_t{1} << shared_depth_) < cursors_.size()) ++shared_depth_;
    SubmitChunks();
    parked_.assign(files_.size(), {});
    bool sampled = false;
    for (uint32_t s = 0; s < files_.size(); ++s) sampled = sampled || UsesSample(s);
    // Sized once per wave: requests and buffers must not move while in flight.
    page_reqs_.assign(sampled ? cursors_.size() : 0, ReadRequest());
    page_bufs_.assign(sampled ? cursors_.size() : 0, std::string());
    for (uint32_t c = 0; c < cursors_.size(); ++c) {
      const ShardFiles& f = files_[cursors_[c].shard];
      if (UsesSample(cursors_[c].shard) && f.chunks_done < f.chunk_done.size()) {
        parked_[cursors_[c].shard].push_back(c);  // narrowed once the text is in
        continue;
      }
      StartCursor(c);
    }
    std::vector<ReadRequest*> done;
    while (reader_->outstanding() > 0) {
      done.clear();
      Status s = reader_->Reap(&done);
      if (!s.ok()) return s;  // the reader itself failed; nothing more will complete
      ++st_.batches;
      for (ReadRequest* r : done) {
        if (r->tag & kScanTag) {
          ChunkDone(r);
        } else if (r->tag & kPageTag) {
          PageDone(r);
        } else {
          Completed(static_cast<uint32_t>(r->tag));
        }
      }
    }
    return error_;
  }

 private:
  static constexpr uint64_t kMaxSharedText = 4096;  // bytes read per cached probe at most
  enum Stage : uint8_t { kReadingSa, kReadingText, kDone };

  struct Cursor {
    uint32_t query, shard;
    bool upper;
    uint8_t depth;
    uint64_t lo, hi;
  };
  struct Probe {
    ReadRequest req;
    uint64_t key = 0;  // position in by_position_, or UINT64_MAX for a private re-read
    uint64_t pos = 0;  // SA entry: symbol position of the suffix
    uint64_t sa_raw = 0;
    uint32_t shard = 0;
    Stage stage = kReadingSa;
    bool cached = false;  // kept in by_position_ after it completes
    std::string text;
    const char* text_ptr = nullptr;  // text (read into `text`, or in the shard's text_mem)
    uint64_t text_len = 0;
    std::vector<uint32_t> waiters;
  };

  uint64_t Key(uint32_t shard, uint64_t mid) const { return mid * files_.size() + shard; }

  uint32_t NewProbe() {
    uint32_t id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
    } else {
      id = static_cast<uint32_t>(probes_.size());
      probes_.emplace_back();
    }
    Probe& p = probes_[id];
    p.waiters.clear();
    p.req = ReadRequest();
    p.req.tag = id;
    p.sa_raw = 0;
    return id;
  }

  void Release(uint32_t id) { free_.push_back(id); }

  void SubmitText(uint32_t id, uint64_t want) {
    Probe& p = probes_[id];
    const ShardFiles& f = files_[p.shard];
    p.stage = kReadingText;
    p.text.resize(std::max<uint64_t>(want, 1));
    p.req = ReadRequest();
    p.req.tag = id;
    p.req.file = f.text.get();
    p.req.offset = f.text_off + p.pos * f.sb;
    p.req.length = static_cast<uint32_t>(want);
    p.req.dst = p.text.data();
    ++st_.reads;
    reader_->Submit(&p.req);
  }

  // Advances cursor c through every probe already in memory, then waits on
  // (or submits) the first one that is not.
  void Drive(uint32_t c) {
    while (error_.ok()) {
      Cursor& cur = cursors_[c];
      const uint64_t mid = cur.lo + (cur.hi - cur.lo) / 2;
      const uint64_t key = Key(cur.shard, mid);
      auto it = by_position_.find(key);
      if (it != by_position_.end()) {
        Probe& p = probes_[it->second];
        if (p.stage != kDone) {
          p.waiters.push_back(c);
          return;
        }
        if (!Step(c, it->second)) return;
        continue;
      }
      uint32_t id = NewProbe();
      Probe& p = probes_[id];
      const ShardFiles& f = files_[cur.shard];
      p.key = key;
      p.shard = cur.shard;
      p.stage = kReadingSa;
      p.cached = cur.depth < shared_depth_;
      p.waiters.push_back(c);
      p.req.file = f.sa.get();
      p.req.offset = f.sa_off + mid * f.width;
      p.req.length = f.width;
      p.req.dst = reinterpret_cast<char*>(&p.sa_raw);
      by_position_.emplace(key, id);
      ++st_.reads;
      reader_->Submit(&p.req);
      return;
    }
  }

  // Compares cursor c's query with probe id's text and narrows c. Returns
  // true if c should go on searching (Drive), false if it finished or now
  // waits for a longer private read of the same suffix.
  bool Step(uint32_t c, uint32_t id) {
    Cursor& cur = cursors_[c];
    const Probe& p = probes_[id];
    const ShardFiles& f = files_[cur.shard];
    const std::string& q = queries_[cur.query];
    const uint64_t off = p.pos * f.sb;
    const uint64_t avail = std::min<uint64_t>(p.text_len, f.text_bytes - off);
    size_t lcp;
    int cmp = CompareSuffixToQuery(reinterpret_cast<const uint8_t*>(p.text_ptr), avail,
                                   reinterpret_cast<const uint8_t*>(q.data()), q.size(), 0, &lcp);
    if (lcp == avail && avail < q.size() && off + avail < f.text_bytes) {
      // The cached prefix was too short for this (long) query: read more.
      uint32_t nid = NewProbe();
      Probe& np = probes_[nid];
      np.key = UINT64_MAX;
      np.pos = probes_[id].pos;
      np.shard = cur.shard;
      np.cached = false;
      np.waiters.push_back(c);
      SubmitText(nid, std::min<uint64_t>(q.size(), f.text_bytes - off));
      return false;
    }
    ++cur.depth;
    st_.probes += 2;  // this step's suffix-array entry and text, however they were obtained
    if (Advance(&cur, cmp)) return true;
    Done(cur);
    return false;
  }

  void Done(const Cursor& cur) {
    if (cur.upper) counts_[cur.query] += cur.lo;
    else counts_[cur.query] -= cur.lo;  // upper - lower; unsigned wrap cancels out
  }

  // A shard whose text the planner reads into memory and whose SA file has
  // the page sample: its searches start with the sample, in memory, and
  // read only the SA page(s) their answer lies in.
  bool UsesSample(uint32_t shard) const {
    return !files_[shard].chunk_done.empty() && index_.shard(shard).sample_count() > 0;
  }

  void StartCursor(uint32_t c) {
    if (UsesSample(cursors_[c].shard)) {
      NarrowBySample(&cursors_[c]);
      if (cursors_[c].lo >= cursors_[c].hi) {
        Done(cursors_[c]);
        return;
      }
      SubmitPage(c);
      return;
    }
    Drive(c);
  }

  // A sampled search's whole SA range (at most one stride of entries, ~4
  // KiB) in one read; the rest of its binary search runs in memory.
  void SubmitPage(uint32_t c) {
    const Cursor& cur = cursors_[c];
    const ShardFiles& f = files_[cur.shard];
    std::string& buf = page_bufs_[c];
    buf.resize((cur.hi - cur.lo) * f.width);
    ReadRequest& r = page_reqs_[c];
    r = ReadRequest();
    r.file = f.sa.get();
    r.offset = f.sa_off + cur.lo * f.width;
    r.length = static_cast<uint32_t>(buf.size());
    r.dst = buf.data();
    r.tag = kPageTag | c;
    ++st_.reads;
    reader_->Submit(&r);
  }

  void PageDone(ReadRequest* r) {
    st_.bytes_read += r->result;
    if (error_.ok()) {
      Status s = CheckRead(*r, "suffix-array entries");
      if (!s.ok()) error_ = s;
    }
    if (!error_.ok()) return;
    const uint32_t c = static_cast<uint32_t>(r->tag & 0xffffffff);
    Cursor& cur = cursors_[c];
    const ShardFiles& f = files_[cur.shard];
    const std::string& q = queries_[cur.query];
    const uint64_t base = cur.lo;
    while (cur.lo < cur.hi) {
      const uint64_t mid = cur.lo + (cur.hi - cur.lo) / 2;
      const uint64_t off = DecodePointer(page_bufs_[c].data() + (mid - base) * f.width, f.width) * f.sb;
      if (off >= f.text_bytes) {
        error_ = Status::Corruption(f.sa->path() + ": suffix-array entry points past the text (" + std::to_string(off) + ")");
        return;
      }
      st_.probes += 2;  // an SA entry and its text, both in memory now
      Advance(&cur, CompareScanned(f, off, q));
    }
    Done(cur);
    std::string().swap(page_bufs_[c]);
  }

  // The suffix at byte offset off (< text_bytes) of a scanned shard's text
  // against q, over at most |q| bytes (as a probe read would see it).
  static int CompareScanned(const ShardFiles& f, uint64_t off, const std::string& q) {
    const uint64_t avail = std::min<uint64_t>(q.size(), f.text_bytes - off);
    size_t lcp;
    return CompareSuffixToQuery(reinterpret_cast<const uint8_t*>(f.text_mem.data() + off), avail,
                                reinterpret_cast<const uint8_t*>(q.data()), q.size(), 0, &lcp);
  }

  // Binary search over the page sample with the scanned text: the first
  // sample j on the far side of the boundary brackets it to
  // ((j - 1) * stride, j * stride].
  void NarrowBySample(Cursor* cur) {
    const SaShard& sh = index_.shard(cur->shard);
    const ShardFiles& f = files_[cur->shard];
    const std::string& q = queries_[cur->query];
    const uint64_t stride = sh.sample_stride(), count = sh.sample_count();
    uint64_t a = 0, b = count;
    while (a < b) {
      const uint64_t j = a + (b - a) / 2;
      const uint64_t off = sh.SampleEntry(j) * f.sb;
      if (off >= f.text_bytes) {
        error_ = Status::Corruption(f.sa->path() + ": page sample entry points past the text (" + std::to_string(off) + ")");
        cur->lo = cur->hi = 0;
        return;
      }
      const int cmp = CompareScanned(f, off, q);
      const bool go_right = cur->upper ? cmp <= 0 : cmp < 0;
      st_.probes += 2;  // a sampled SA entry and its text, both in memory
      if (go_right) a = j + 1;
      else b = j;
    }
    cur->lo = a > 0 ? (a - 1) * stride + 1 : 0;
    cur->hi = a < count ? a * stride : f.n;
    cur->depth = 64;  // below the shared levels: probes are private
  }

  void Completed(uint32_t id) {
    Probe& p = probes_[id];
    const ShardFiles& f = files_[p.shard];
    st_.bytes_read += p.req.result;
    if (error_.ok()) {
      Status s = CheckRead(p.req, p.stage == kReadingSa ? "suffix-array entry" : "text");
      if (!s.ok()) error_ = s;
    }
    if (!error_.ok()) {  // drain: finish nothing, submit nothing
      Release(id);
      return;
    }
    if (p.stage == kReadingSa) {
      p.pos = DecodePointer(reinterpret_cast<const char*>(&p.sa_raw), f.width);
      const uint64_t off = p.pos * f.sb;
      if (off >= f.text_bytes) {
        error_ = Status::Corruption(f.sa->path() + ": suffix-array entry points past the text (" +
                                    std::to_string(p.pos) + ")");
        Release(id);
        return;
      }
      uint64_t want = 0;
      if (p.cached) {
        want = shared_text_;
      } else {
        for (uint32_t c : p.waiters) want = std::max<uint64_t>(want, queries_[cursors_[c].query].size());
      }
      want = std::min<uint64_t>(want, f.text_bytes - off);
      if (Scanned(f, off, want)) {
        p.text_ptr = f.text_mem.data() + off;
        p.text_len = want;
        Finish(id);
        return;
      }
      SubmitText(id, want);
      return;
    }
    p.text_ptr = p.text.data();
    p.text_len = p.req.result;
    Finish(id);
  }

  // True if the scan has already brought text bytes [off, off + len).
  static bool Scanned(const ShardFiles& f, uint64_t off, uint64_t len) {
    if (f.chunk_done.empty()) return false;
    const uint64_t last = len == 0 ? off : off + len - 1;
    for (uint64_t c = off / f.chunk_bytes; c <= last / f.chunk_bytes; ++c)
      if (!f.chunk_done[c]) return false;
    return true;
  }

  // Keeps kScanDepth scan chunks in flight, shard after shard.
  void SubmitChunks() {
    size_t in_flight = scan_in_flight_;
    for (uint32_t s = 0; s < files_.size() && in_flight < kScanDepth; ++s) {
      ShardFiles& f = files_[s];
      while (f.chunks_submitted < f.chunk_reqs.size() && in_flight < kScanDepth) {
        const size_t c = f.chunks_submitted++;
        ReadRequest& r = f.chunk_reqs[c];
        r = ReadRequest();
        r.file = f.text.get();
        r.offset = f.text_off + c * f.chunk_bytes;
        r.length = static_cast<uint32_t>(std::min<uint64_t>(f.chunk_bytes, f.text_bytes - c * f.chunk_bytes));
        r.dst = f.text_mem.data() + c * f.chunk_bytes;
        r.tag = kScanTag | (uint64_t{s} << 32) | c;
        ++st_.reads;
        reader_->Submit(&r);
        ++in_flight;
      }
    }
    scan_in_flight_ = in_flight;
  }

  void ChunkDone(ReadRequest* r) {
    --scan_in_flight_;
    st_.bytes_read += r->result;
    if (error_.ok()) {
      Status s = CheckRead(*r, "text");
      if (!s.ok()) error_ = s;
    }
    if (!error_.ok()) return;
    ShardFiles& f = files_[(r->tag >> 32) & 0x3fffffff];
    f.chunk_done[r->tag & 0xffffffff] = 1;
    if (++f.chunks_done == f.chunk_done.size()) {
      const uint32_t shard = static_cast<uint32_t>((r->tag >> 32) & 0x3fffffff);
      std::vector<uint32_t> parked;
      parked.swap(parked_[shard]);
      for (uint32_t c : parked) StartCursor(c);
    }
    SubmitChunks();
  }

  // Probe id's text is available: advance its waiters.
  void Finish(uint32_t id) {
    Probe& p = probes_[id];
    p.stage = kDone;
    std::vector<uint32_t> waiters;
    waiters.swap(p.waiters);
    for (uint32_t c : waiters)
      if (Step(c, id)) Drive(c);
    Probe& done = probes_[id];  // Drive may have grown probes_
    if (!done.cached) {
      if (done.key != UINT64_MAX) by_position_.erase(done.key);
      done.waiters.swap(waiters);  // keep the capacity for reuse
      Release(id);
    }
  }

  const SuffixArrayIndex& index_;
  const std::vector<std::string>& queries_;
  std::vector<ShardFiles>& files_;
  BatchReader* reader_;
  std::vector<uint64_t>& counts_;
  BatchCountStats& st_;
  std::vector<Cursor> cursors_;
  std::deque<Probe> probes_;  // a deque: requests stay put while the reader holds them
  std::vector<uint32_t> free_;
  std::unordered_map<uint64_t, uint32_t> by_position_;
  uint64_t shared_text_ = 0;
  unsigned shared_depth_ = 0;
  size_t scan_in_flight_ = 0;
  std::vector<std::vector<uint32_t>> parked_;  // per shard: cursors waiting for the scan
  std::vector<ReadRequest> page_reqs_;         // per cursor: its SA range read (sampled shards)
  std::vector<std::string> page_bufs_;
  Status error_;
};

}  // namespace

namespace {

// Expected distinct text pages a wave of q queries touches in a shard of n
// suffixes: the top log2(2q) levels of the 2q binary searches are shared
// (about 2q distinct probes), below that each query probes privately; the
// probes land on random pages (balls into bins).
double ExpectedTextPages(uint64_t n, uint64_t text_bytes, size_t q) {
  const double pages = std::max(1.0, std::ceil(text_bytes / 4096.0));
  const double levels = std::log2(static_cast<double>(n) + 1);
  const double shared = std::log2(2.0 * static_cast<double>(q) + 1);
  const double probes = 2.0 * q + q * std::max(0.0, levels - shared);
  return pages * (1 - std::exp(-probes / pages));
}

// The planner (BatchCountOptions::text_scan_*): picks the shards whose
// texts are read front to back (in text_scan_chunk reads, while the searches run).
void PlanScans(const BatchCountOptions& o, size_t wave, std::vector<ShardFiles>* files, BatchCountStats* st) {
  if (o.text_scan_memory == 0 || wave == 0) return;
  uint64_t budget = o.text_scan_memory;
  for (ShardFiles& f : *files) {
    if (f.n == 0 || f.text_bytes > budget) continue;
    const double pages = std::max(1.0, std::ceil(f.text_bytes / 4096.0));
    if (ExpectedTextPages(f.n, f.text_bytes, wave) < o.text_scan_fraction * pages) continue;
    budget -= f.text_bytes;
    f.text_mem.resize(f.text_bytes);
    f.chunk_bytes = std::max<uint64_t>(1, std::min<uint64_t>(o.text_scan_chunk, 1u << 30));
    const size_t chunks = (f.text_bytes + f.chunk_bytes - 1) / f.chunk_bytes;
    f.chunk_done.assign(chunks, 0);
    f.chunk_reqs.resize(chunks);
    st->text_scanned_bytes += f.text_bytes;
  }
}

}  // namespace

Status BatchCount(const SuffixArrayIndex& index, const std::vector<std::string>& queries,
                  const BatchCountOptions& options, std::vector<uint64_t>* counts, BatchCountStats* stats) {
  Env* env = options.env ? options.env : Env::Default();
  DEDUPDB_RETURN_IF_ERROR(PrepareQueries(index, queries));
  std::vector<ShardFiles> files;
  DEDUPDB_RETURN_IF_ERROR(OpenShardFiles(index, env, options.no_readahead, &files));
  std::unique_ptr<BatchReader> reader;
  DEDUPDB_RETURN_IF_ERROR(env->NewBatchReader(std::max(1u, options.queue_depth), options.prefer_io_uring, &reader));
  BatchCountStats local;
  BatchCountStats* st = stats ? stats : &local;
  *st = BatchCountStats();
  st->reader = reader->name();
  counts->assign(queries.size(), 0);
  const size_t wave = std::max<size_t>(1, options.queries_per_wave);
  PlanScans(options, std::min(wave, queries.size()), &files, st);
  PipelinedCount engine(index, queries, files, reader.get(), counts, st);
  for (size_t base = 0; base < queries.size(); base += wave) {
    const size_t end = std::min(queries.size(), base + wave);
    DEDUPDB_RETURN_IF_ERROR(engine.RunWave(base, end));
    if (options.progress) options.progress(end);
  }
  return Status::OK();
}

Status SequentialPreadCount(const SuffixArrayIndex& index, const std::vector<std::string>& queries, Env* env,
                            bool no_readahead, std::vector<uint64_t>* counts, BatchCountStats* stats) {
  if (env == nullptr) env = Env::Default();
  DEDUPDB_RETURN_IF_ERROR(PrepareQueries(index, queries));
  std::vector<ShardFiles> files;
  DEDUPDB_RETURN_IF_ERROR(OpenShardFiles(index, env, no_readahead, &files));
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
