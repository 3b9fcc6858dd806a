#include "index/sa_builder.h"

#include <divsufsort.h>
#include <divsufsort64.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "index/suffix_array.h"
#include "index/token_file.h"
#include "storage/coding.h"
#include "storage/doc_store.h"
#include "storage/file_format.h"
#include "storage/layout.h"
#include "storage/progress.h"
#include "storage/store_writer.h"

namespace dedupdb {

namespace {
// Resident memory besides the shards' text + SA: the process itself
// (binary, libraries, catalog pages; measured ~13 MB) once, and per
// concurrent shard its I/O buffers, thread stacks and allocator slack.
constexpr uint64_t kProcessOverheadBytes = 32ull << 20;
constexpr uint64_t kShardOverheadBytes = 8ull << 20;
constexpr uint64_t kMaxDivsufsort32 = (1ull << 31) - 1;
constexpr size_t kIoChunk = 16u << 20;
}  // namespace

uint64_t ShardCapacityBytes(uint64_t budget, unsigned threads) {
  if (threads == 0) threads = 1;
  budget = budget > kProcessOverheadBytes ? budget - kProcessOverheadBytes : 0;
  uint64_t per = budget / threads;
  per = per > kShardOverheadBytes ? per - kShardOverheadBytes : 0;
  uint64_t cap32 = std::min<uint64_t>(per / 5, kMaxDivsufsort32);  // text + int32 SA
  uint64_t cap64 = per / 9;                                        // text + int64 SA
  return std::max(cap32, cap64);
}

unsigned PointerWidthFor(uint64_t num_symbols) {
  unsigned w = 4;
  while (w < 8 && num_symbols > (uint64_t{1} << (8 * w))) ++w;
  return w;
}

Status ShardPlanner::Add(uint64_t length, uint64_t input_symbols) {
  uint64_t cost = Cost(length);
  if (cost > capacity_) {
    return Status::InvalidArgument("document " + std::to_string(docs_) + " has " + std::to_string(length) +
                                   " symbols, more than one suffix-array shard can hold under the memory budget (" +
                                   std::to_string(capacity_) + " symbols); raise --memory");
  }
  if (shards_.empty() || open_cost_ + cost > capacity_) {
    ShardSpan s;
    s.first_doc = docs_;
    s.input_begin = input_pos_;
    shards_.push_back(s);
    open_cost_ = 0;
  }
  ShardSpan& s = shards_.back();
  s.num_docs++;
  s.num_symbols += length + 1;
  s.input_symbols += input_symbols;
  open_cost_ += cost;
  input_pos_ += input_symbols;
  docs_++;
  return Status::OK();
}

// ---- sorting ---------------------------------------------------------------

template <typename Int>
static void FilterSuffixes(const uint8_t* text, uint64_t n_bytes, uint32_t sb, uint64_t sep, std::vector<Int>* sa) {
  // Token mode: divsufsort sorted every byte suffix; keep the symbol-aligned
  // ones. Big-endian symbols make byte order == symbol order for them.
  size_t w = 0;
  if (sb == 1) {
    w = sa->size();
  } else {
    for (size_t i = 0; i < sa->size(); ++i) {
      Int p = (*sa)[i];
      if (static_cast<uint64_t>(p) % sb == 0) (*sa)[w++] = static_cast<Int>(p / sb);
    }
    sa->resize(w);
  }
  // Suffixes that start with the separator are one contiguous block (they
  // share their first symbol); queries never match them, so drop it.
  auto first_symbol = [&](Int pos) {
    const uint8_t* p = text + static_cast<uint64_t>(pos) * sb;
    uint64_t v = 0;
    for (uint32_t k = 0; k < sb; ++k) v = (v << 8) | p[k];
    return v;
  };
  auto lo = std::partition_point(sa->begin(), sa->end(), [&](Int p) { return first_symbol(p) < sep; });
  auto hi = std::partition_point(lo, sa->end(), [&](Int p) { return first_symbol(p) <= sep; });
  sa->erase(lo, hi);
  (void)n_bytes;
}

Status SortSuffixes(const uint8_t* text, uint64_t n_bytes, uint32_t symbol_bytes, uint64_t separator, bool force_64bit,
                    SortedSuffixes* out) {
  out->sa32.clear();
  out->sa64.clear();
  if (symbol_bytes != 1 && symbol_bytes != 2 && symbol_bytes != 4) {
    return Status::InvalidArgument("symbol width must be 1, 2 or 4 bytes");
  }
  if (n_bytes % symbol_bytes != 0) return Status::InvalidArgument("text is not a whole number of symbols");
  if (n_bytes == 0) return Status::OK();
  if (n_bytes <= kMaxDivsufsort32 && !force_64bit) {
    out->sa32.resize(n_bytes);
    if (divsufsort(text, out->sa32.data(), static_cast<saidx_t>(n_bytes)) != 0) {
      return Status::IOError("divsufsort failed (out of memory?)");
    }
    FilterSuffixes(text, n_bytes, symbol_bytes, separator, &out->sa32);
  } else {
    out->sa64.resize(n_bytes);
    if (divsufsort64(text, out->sa64.data(), static_cast<saidx64_t>(n_bytes)) != 0) {
      return Status::IOError("divsufsort64 failed (out of memory?)");
    }
    FilterSuffixes(text, n_bytes, symbol_bytes, separator, &out->sa64);
  }
  return Status::OK();
}

// ---- the build -----------------------------------------------------------------

namespace {

// Reads exactly n bytes at offset; a short read is a truncated input.
Status ReadExactly(const RandomAccessFile& f, uint64_t offset, uint64_t n, uint8_t* dst) {
  while (n > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(n, kIoChunk));
    size_t got = 0;
    DEDUPDB_RETURN_IF_ERROR(f.Read(offset, want, reinterpret_cast<char*>(dst), &got));
    if (got == 0) {
      return Status::Corruption(f.path() + ": unexpected end of file at byte offset " + std::to_string(offset));
    }
    offset += got;
    dst += got;
    n -= got;
  }
  return Status::OK();
}

class Build {
 public:
  Build(const std::string& store_dir, const SaBuildOptions& o, SaBuildReport* r)
      : dir_(store_dir), opt_(o), rep_(r), env_(o.env ? o.env : Env::Default()) {}

  Status Run();

 private:
  Status PlanBytes(uint64_t capacity);
  Status OpenTokens();
  Status PlanTokens(uint64_t capacity);
  Status FillBytes(const ShardSpan& s, uint8_t* text, uint64_t* starts);
  Status FillTokens(const ShardSpan& s, uint8_t* text, uint64_t* starts);
  Status BuildShard(size_t i);
  void Worker();

  std::string dir_;
  SaBuildOptions opt_;
  SaBuildReport* rep_;
  Env* env_;
  uint32_t sb_ = 1;
  uint64_t sep_ = kByteSeparator;
  std::unique_ptr<StoreWriter> writer_;
  std::unique_ptr<DocStore> store_;
  TokenFile tokens_;
  std::vector<ShardSpan> spans_;
  std::string staging_;
  std::string rel_dir_;
  std::vector<SaShardInfo> infos_;
  std::vector<uint64_t> file_bytes_;
  // Worker coordination.
  std::atomic<size_t> next_shard_{0};
  // Progress: document bytes of finished shards (sorting is ~95% of a
  // shard's time, so bytes merely loaded would make the ETA lie).
  std::atomic<uint64_t> bytes_done_{0};
  std::atomic<uint64_t> shards_done_{0};
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> sort_nanos_{0};
  std::mutex mu_;
  Status first_error_;
};

Status Build::PlanBytes(uint64_t capacity) {
  ShardPlanner planner(capacity);
  for (size_t s = 0; s < store_->num_segments(); ++s) {
    const SegmentReader& seg = store_->segment(s);
    const uint64_t* off = seg.offsets();
    for (uint64_t j = 0; j < seg.doc_count(); ++j) {
      Status st = planner.Add(off[j + 1] - off[j]);
      if (!st.ok()) return st.WithContext("store " + dir_);
    }
  }
  spans_ = planner.shards();
  rep_->num_docs = planner.docs();
  return Status::OK();
}

Status Build::OpenTokens() {
  DEDUPDB_RETURN_IF_ERROR(TokenFile::Open(env_, opt_.token_file, opt_.token_bytes, &tokens_));
  sb_ = tokens_.token_bytes;
  if (sb_ < 8 && (opt_.separator >> (8 * sb_)) != 0) {
    return Status::InvalidArgument("separator id " + std::to_string(opt_.separator) + " does not fit in u" +
                                   std::to_string(8 * sb_));
  }
  sep_ = opt_.separator;
  return Status::OK();
}

static inline uint64_t LoadLe(const uint8_t* p, uint32_t sb) {
  return sb == 2 ? uint64_t(DecodeFixed16(reinterpret_cast<const char*>(p)))
                 : uint64_t(DecodeFixed32(reinterpret_cast<const char*>(p)));
}

Status Build::PlanTokens(uint64_t capacity) {
  // One sequential pass finds the document lengths (runs between separators).
  ShardPlanner planner(capacity);
  std::vector<uint8_t> buf(kIoChunk);
  uint64_t run = 0, pos = 0;
  ProgressMeter meter("index-sa: scanning tokens", tokens_.count * sb_, ProgressMeter::Unit::kBytes, opt_.show_progress);
  while (pos < tokens_.count) {
    uint64_t n = std::min<uint64_t>(tokens_.count - pos, buf.size() / sb_);
    DEDUPDB_RETURN_IF_ERROR(ReadExactly(*tokens_.file, tokens_.data_offset + pos * sb_, n * sb_, buf.data()));
    for (uint64_t i = 0; i < n; ++i) {
      if (LoadLe(buf.data() + i * sb_, sb_) == sep_) {
        Status st = planner.Add(run, run + 1);
        if (!st.ok()) return st.WithContext(opt_.token_file + " (document ending at token " + std::to_string(pos + i) + ")");
        run = 0;
      } else {
        ++run;
      }
    }
    pos += n;
    meter.Update(pos * sb_);
  }
  if (run > 0) {
    Status st = planner.Add(run, run);
    if (!st.ok()) return st.WithContext(opt_.token_file + " (last document)");
  }
  meter.Finish();
  spans_ = planner.shards();
  rep_->num_docs = planner.docs();
  return Status::OK();
}

Status Build::FillBytes(const ShardSpan& s, uint8_t* text, uint64_t* starts) {
  // Each segment's slice of the shard is one contiguous run of bytes: read it
  // shifted right by its doc count, then slide the docs left into place,
  // inserting a separator after each (memmove; no second buffer).
  uint64_t doc = s.first_doc, end_doc = s.first_doc + s.num_docs, out = 0, local = 0;
  size_t seg = 0;
  while (seg < store_->num_segments() &&
         store_->segment(seg).first_doc_id() + store_->segment(seg).doc_count() <= doc) {
    ++seg;
  }
  for (; doc < end_doc; ++seg) {
    if (seg >= store_->num_segments()) return Status::Corruption("store " + dir_ + ": documents missing from segments");
    const SegmentReader& r = store_->segment(seg);
    const uint64_t* off = r.offsets();
    uint64_t ja = doc - r.first_doc_id();
    uint64_t jb = std::min(r.doc_count(), end_doc - r.first_doc_id());
    uint64_t ndocs = jb - ja, bytes = off[jb] - off[ja];
    std::unique_ptr<RandomAccessFile> f;
    DEDUPDB_RETURN_IF_ERROR(env_->NewRandomAccessFile(r.file().path(), &f));
    uint8_t* src = text + out + ndocs;
    DEDUPDB_RETURN_IF_ERROR(ReadExactly(*f, kFileHeaderSize + off[ja], bytes, src));
    for (uint64_t j = ja; j < jb; ++j) {
      uint64_t len = off[j + 1] - off[j];
      starts[local++] = out;
      std::memmove(text + out, src, len);
      src += len;
      out += len;
      text[out++] = kByteSeparator;
    }
    doc += ndocs;
  }
  starts[local] = out;
  if (out != s.num_symbols) return Status::Corruption("store " + dir_ + ": document lengths changed during the build");
  return Status::OK();
}

Status Build::FillTokens(const ShardSpan& s, uint8_t* text, uint64_t* starts) {
  DEDUPDB_RETURN_IF_ERROR(
      ReadExactly(*tokens_.file, tokens_.data_offset + s.input_begin * sb_, s.input_symbols * sb_, text));
  uint64_t local = 0;
  bool at_start = true;
  for (uint64_t i = 0; i < s.input_symbols; ++i) {
    uint8_t* p = text + i * sb_;
    uint64_t v = LoadLe(p, sb_);
    if (at_start) { starts[local++] = i; at_start = false; }
    if (v == sep_) at_start = true;
    // Store big-endian so byte order == token order.
    for (int k = static_cast<int>(sb_) - 1; k >= 0; --k) { p[k] = static_cast<uint8_t>(v & 0xFF); v >>= 8; }
  }
  uint64_t n = s.input_symbols;
  if (n < s.num_symbols) {  // last document of the file had no separator
    uint64_t v = sep_;
    for (int k = static_cast<int>(sb_) - 1; k >= 0; --k) { text[n * sb_ + k] = static_cast<uint8_t>(v & 0xFF); v >>= 8; }
    ++n;
  }
  starts[local] = n;
  if (n != s.num_symbols || local != s.num_docs) return Status::Corruption(opt_.token_file + ": changed during the build");
  return Status::OK();
}

Status Build::BuildShard(size_t i) {
  const ShardSpan& s = spans_[i];
  const uint64_t n_bytes = s.num_symbols * sb_;
  std::vector<uint8_t> text(n_bytes);
  std::vector<uint64_t> starts(s.num_docs + 1);
  DEDUPDB_RETURN_IF_ERROR(opt_.token_file.empty() ? FillBytes(s, text.data(), starts.data())
                                                  : FillTokens(s, text.data(), starts.data()));
  char name[64];
  std::snprintf(name, sizeof(name), "shard-%05zu", i);

  // The text file is final once filled: write it on a second thread while
  // the suffixes sort (I/O overlaps the CPU-bound sort; no extra memory).
  Status text_st;
  uint64_t text_checksum = 0, text_file_bytes = 0;
  std::thread text_writer([&] {
    // Text file: symbols | pad to 8 | u64 doc starts.
    std::unique_ptr<FileBuilder> tb;
    text_st = FileBuilder::Create(env_, staging_ + "/" + name + ".text", FileKind::kSuffixText, kSuffixTextVersion, &tb);
    if (!text_st.ok()) return;
    Status st = tb->Append(std::string_view(reinterpret_cast<const char*>(text.data()), n_bytes));
    if (st.ok()) st = tb->AlignTo(8);
    uint64_t table_off = tb->body_size();
    if (st.ok()) st = tb->Append(std::string_view(reinterpret_cast<const char*>(starts.data()), starts.size() * 8));
    tb->SetParam(0, i);
    tb->SetParam(1, sb_);
    tb->SetParam(2, s.num_symbols);
    tb->SetParam(3, s.first_doc);
    tb->SetParam(4, s.num_docs);
    tb->SetParam(5, table_off);
    tb->SetParam(6, sep_);
    if (st.ok()) st = tb->Finish();
    if (!st.ok()) {
      tb->Abandon();
      text_st = st;
      return;
    }
    text_checksum = tb->header().body_checksum;
    text_file_bytes = kFileHeaderSize + tb->body_size();
  });
  auto t0 = std::chrono::steady_clock::now();
  SortedSuffixes sa;
  Status sort_st = SortSuffixes(text.data(), n_bytes, sb_, sep_, false, &sa);
  sort_nanos_ += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  text_writer.join();
  DEDUPDB_RETURN_IF_ERROR(sort_st);
  DEDUPDB_RETURN_IF_ERROR(text_st);
  std::vector<uint8_t>().swap(text);
  std::vector<uint64_t>().swap(starts);

  SaShardInfo& info = infos_[i];
  info.text_path = rel_dir_ + "/" + name + ".text";
  info.sa_path = rel_dir_ + "/" + name + ".sa";
  info.first_doc = s.first_doc;
  info.num_docs = s.num_docs;
  info.num_symbols = s.num_symbols;
  info.num_suffixes = sa.size();
  info.pointer_width = opt_.force_pointer_width ? opt_.force_pointer_width : PointerWidthFor(s.num_symbols);

  // SA file: packed little-endian pointers | 8 zero bytes (lets readers do
  // one 8-byte load per entry) | pad to 8.
  std::unique_ptr<FileBuilder> ab;
  DEDUPDB_RETURN_IF_ERROR(FileBuilder::Create(env_, staging_ + "/" + name + ".sa", FileKind::kSuffixArray,
                                              kSuffixArrayVersion, &ab));
  const unsigned w = info.pointer_width;
  Status st;
  std::string buf;
  const uint64_t per_chunk = (1u << 20);
  for (uint64_t k = 0; k < sa.size() && st.ok(); k += per_chunk) {
    uint64_t m = std::min<uint64_t>(per_chunk, sa.size() - k);
    if (w == 4 && !sa.sa32.empty()) {  // common case: the int32 array is already the packed form
      st = ab->Append(std::string_view(reinterpret_cast<const char*>(sa.sa32.data() + k), m * 4));
      continue;
    }
    buf.resize(m * w + 8);
    char* dst = buf.data();
    // 8-byte stores advancing by w bytes (little-endian: the low w bytes land
    // first; the next store overwrites the high garbage).
    if (!sa.sa32.empty()) {
      for (uint64_t e = 0; e < m; ++e, dst += w) EncodeFixed64(dst, uint64_t(uint32_t(sa.sa32[k + e])));
    } else {
      for (uint64_t e = 0; e < m; ++e, dst += w) EncodeFixed64(dst, uint64_t(sa.sa64[k + e]));
    }
    st = ab->Append(std::string_view(buf.data(), m * w));
  }
  if (st.ok()) st = ab->Append(std::string(8, '\0'));
  if (st.ok()) st = ab->AlignTo(8);
  // Page sample (version 2): every stride-th entry as a u64, one per 4 KiB
  // of entries (SaShard::SampleEntry).
  const uint64_t stride = std::max<uint64_t>(1, 4096 / w);
  const uint64_t sample_off = ab->body_size();
  const uint64_t sample_count = (sa.size() + stride - 1) / stride;
  buf.clear();
  for (uint64_t j = 0; j < sample_count && st.ok(); ++j) {
    const uint64_t e = j * stride;
    PutFixed64(&buf, !sa.sa32.empty() ? uint64_t(uint32_t(sa.sa32[e])) : uint64_t(sa.sa64[e]));
    if (buf.size() >= (1u << 20)) {
      st = ab->Append(buf);
      buf.clear();
    }
  }
  if (st.ok()) st = ab->Append(buf);
  ab->SetParam(6, stride);
  ab->SetParam(7, sample_off);
  ab->SetParam(8, sample_count);
  ab->SetParam(0, i);
  ab->SetParam(1, w);
  ab->SetParam(2, sa.size());
  ab->SetParam(3, s.num_symbols);
  ab->SetParam(4, sb_);
  ab->SetParam(5, text_checksum);
  if (st.ok()) st = ab->Finish();
  if (!st.ok()) { ab->Abandon(); return st; }
  file_bytes_[i] = text_file_bytes + kFileHeaderSize + ab->body_size();
  return Status::OK();
}

void Build::Worker() {
  while (!failed_) {
    size_t i = next_shard_++;
    if (i >= spans_.size()) return;
    Status st = BuildShard(i);
    bytes_done_ += (spans_[i].num_symbols - spans_[i].num_docs) * sb_;
    shards_done_++;
    if (!st.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      if (first_error_.ok()) first_error_ = st;
      failed_ = true;
    }
  }
}

Status Build::Run() {
  auto start = std::chrono::steady_clock::now();
  const bool token_mode = !opt_.token_file.empty();
  if (opt_.name.empty() || opt_.name.find('/') != std::string::npos || opt_.name.find("..") != std::string::npos) {
    return Status::InvalidArgument("index name '" + opt_.name + "' must be non-empty and contain no '/' or '..'");
  }
  if (opt_.force_pointer_width != 0 && (opt_.force_pointer_width < 4 || opt_.force_pointer_width > 8)) {
    return Status::InvalidArgument("pointer width must be 4..8 bytes");
  }
  DEDUPDB_RETURN_IF_ERROR(StoreWriter::Open(env_, dir_, /*create_if_missing=*/token_mode, &writer_));
  unsigned threads = opt_.threads ? opt_.threads : std::max(1u, std::thread::hardware_concurrency());
  uint64_t total_symbols;
  if (token_mode) {
    DEDUPDB_RETURN_IF_ERROR(OpenTokens());
    total_symbols = tokens_.count + 1;
  } else {
    DocStore::Options o;
    o.env = env_;
    DEDUPDB_RETURN_IF_ERROR(DocStore::Open(dir_, o, &store_));
    total_symbols = store_->text_bytes() + 3 * store_->num_docs();
  }
  // One shard if the whole corpus fits the full budget (fewer shards = faster
  // queries); otherwise `threads` shards at a time, each with its share.
  // Byte mode reads every document's offset from the mmapped segments: those
  // pages stay resident, 8 bytes per document, so they come off the budget.
  uint64_t budget = opt_.memory_budget;
  if (!token_mode) budget -= std::min(budget, 8 * (store_->num_docs() + store_->num_segments()));
  uint64_t cap = ShardCapacityBytes(budget, 1) / sb_;
  if (total_symbols > cap || (opt_.max_shard_symbols && total_symbols > opt_.max_shard_symbols)) {
    cap = ShardCapacityBytes(budget, threads) / sb_;
  } else {
    threads = 1;
  }
  if (opt_.max_shard_symbols) cap = std::min(cap, opt_.max_shard_symbols);
  if (cap < 4) {
    return Status::InvalidArgument("--memory " + std::to_string(opt_.memory_budget) +
                                   " bytes is too small for a suffix-array build (use at least 64M)");
  }
  DEDUPDB_RETURN_IF_ERROR(token_mode ? PlanTokens(cap) : PlanBytes(cap));
  threads = static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>(threads, spans_.size())));

  // Generation: one past the one currently listed (if any), whose files are
  // retired in the same commit.
  const std::string key = SaCatalogKey(opt_.name);
  SaManifest old;
  bool have_old = false;
  {
    std::unique_ptr<CatalogReadTxn> txn;
    DEDUPDB_RETURN_IF_ERROR(writer_->catalog()->BeginRead(&txn));
    std::string_view v;
    Status st = txn->Get(Table::kIndexes, key, &v);
    if (st.ok()) {
      DEDUPDB_RETURN_IF_ERROR(SaManifest::Decode(v, &old));
      have_old = true;
    } else if (!st.IsNotFound()) {
      return st;
    }
  }
  SaManifest m;
  m.symbol_bytes = sb_;
  m.separator = sep_;
  m.token_mode = token_mode;
  m.token_source = opt_.token_file;
  m.generation = have_old ? old.generation + 1 : 1;
  m.num_docs = rep_->num_docs;
  rel_dir_ = StoreLayout::IndexDir("sa", opt_.name, m.generation);
  DEDUPDB_RETURN_IF_ERROR(writer_->NewStagingDir("sa-" + opt_.name, &staging_));

  infos_.resize(spans_.size());
  file_bytes_.assign(spans_.size(), 0);
  uint64_t total_input_bytes = 0;
  for (const ShardSpan& s : spans_) total_input_bytes += (s.num_symbols - s.num_docs) * sb_;
  {
    ProgressMeter meter("index-sa " + opt_.name, total_input_bytes, ProgressMeter::Unit::kBytes, opt_.show_progress);
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back([this] { Worker(); });
    // The shard workers only bump counters; the meter is drawn from here.
    std::atomic<bool> done{false};
    std::thread drawer;
    std::mutex dm;
    std::condition_variable dcv;
    drawer = std::thread([&] {
      std::unique_lock<std::mutex> l(dm);
      while (!done) {
        dcv.wait_for(l, std::chrono::milliseconds(200));
        meter.Update(std::min(bytes_done_.load(), total_input_bytes), shards_done_.load(), "shards done");
      }
    });
    for (auto& t : pool) t.join();
    {
      std::lock_guard<std::mutex> l(dm);
      done = true;
    }
    dcv.notify_all();
    drawer.join();
    if (!failed_) meter.Update(total_input_bytes);
    meter.Finish();
  }
  if (failed_) return first_error_;

  std::vector<StagedFile> files;
  for (size_t i = 0; i < spans_.size(); ++i) {
    m.input_symbols += spans_[i].num_symbols - spans_[i].num_docs;
    m.index_bytes += file_bytes_[i];
    char name[64];
    std::snprintf(name, sizeof(name), "shard-%05zu", i);
    files.push_back(StagedFile{staging_ + "/" + name + ".text", infos_[i].text_path, FileKind::kSuffixText});
    files.push_back(StagedFile{staging_ + "/" + name + ".sa", infos_[i].sa_path, FileKind::kSuffixArray});
  }
  m.shards = infos_;
  std::vector<std::string> retire;
  if (have_old) {
    for (const SaShardInfo& s : old.shards) {
      retire.push_back(s.text_path);
      retire.push_back(s.sa_path);
    }
  }
  const std::string encoded = m.Encode();
  DEDUPDB_RETURN_IF_ERROR(writer_->Publish(
      files, [&](CatalogWriteTxn* txn) { return txn->Put(Table::kIndexes, key, encoded); }, retire));

  rep_->generation = m.generation;
  rep_->symbol_bytes = sb_;
  rep_->num_shards = spans_.size();
  rep_->input_symbols = m.input_symbols;
  rep_->input_bytes = m.input_symbols * sb_;
  rep_->index_bytes = m.index_bytes;
  rep_->threads = threads;
  for (const ShardSpan& s : spans_) rep_->max_shard_symbols = std::max(rep_->max_shard_symbols, s.num_symbols);
  rep_->sort_seconds = sort_nanos_.load() / 1e9;
  rep_->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Status::OK();
}

}  // namespace

Status BuildSuffixArrayIndex(const std::string& store_dir, const SaBuildOptions& options, SaBuildReport* report) {
  *report = SaBuildReport();
  Build b(store_dir, options, report);
  return b.Run();
}

}  // namespace dedupdb
