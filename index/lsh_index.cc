#include "index/lsh_index.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <queue>
#include <thread>

#include <time.h>

#include "index/external_sort.h"
#include "storage/checksum.h"
#include "storage/coding.h"
#include "storage/progress.h"
#include "storage/store_writer.h"

namespace dedupdb {

uint64_t LshBandKey(const uint32_t* sig, unsigned band, unsigned rows) {
  return Checksum64(sig + static_cast<size_t>(band) * rows, rows * sizeof(uint32_t), band);
}

// ---- manifest ---------------------------------------------------------------

std::string LshManifest::Encode() const {
  std::string out;
  PutVarint64(&out, kLshManifestVersion);
  PutVarint64(&out, num_perm);
  PutVarint64(&out, seed);
  PutVarint64(&out, static_cast<uint64_t>(shingles.kind));
  PutVarint64(&out, shingles.n);
  PutVarint64(&out, static_cast<uint64_t>(shingles.mode));
  PutVarint64(&out, bands.bands);
  PutVarint64(&out, bands.rows);
  uint64_t tbits;
  std::memcpy(&tbits, &threshold, 8);
  PutFixed64(&out, tbits);
  PutVarint64(&out, generation);
  PutVarint64(&out, runs.size());
  for (const auto& r : runs) {
    PutVarint64(&out, r.first_doc);
    PutVarint64(&out, r.doc_count);
    PutLengthPrefixed(&out, r.sig_path);
    PutLengthPrefixed(&out, r.bucket_path);
  }
  return out;
}

Status LshManifest::Decode(std::string_view in, LshManifest* out) {
  auto bad = [] { return Status::Corruption("LSH manifest record is malformed"); };
  uint64_t version, num_perm, seed, kind, n, mode, b, r, tbits, gen, nruns;
  if (!GetVarint64(&in, &version)) return bad();
  if (version == 0 || version > kLshManifestVersion) {
    return Status::NotSupported("LSH manifest version " + std::to_string(version) + " is not supported (this build reads 1.." +
                                std::to_string(kLshManifestVersion) + ")");
  }
  if (!GetVarint64(&in, &num_perm) || !GetVarint64(&in, &seed) || !GetVarint64(&in, &kind) || !GetVarint64(&in, &n) ||
      !GetVarint64(&in, &mode) || !GetVarint64(&in, &b) || !GetVarint64(&in, &r) || !GetFixed64(&in, &tbits) ||
      !GetVarint64(&in, &gen) || !GetVarint64(&in, &nruns)) {
    return bad();
  }
  if (num_perm == 0 || num_perm > 65536 || kind > 2 || mode > 1 || n == 0 || b * r > num_perm || b == 0 || r == 0) {
    return bad();
  }
  LshManifest m;
  m.format_version = static_cast<uint32_t>(version);
  m.num_perm = static_cast<unsigned>(num_perm);
  m.seed = seed;
  m.shingles.kind = static_cast<ShingleKind>(kind);
  m.shingles.n = static_cast<unsigned>(n);
  m.shingles.mode = static_cast<NormalizationMode>(mode);
  m.bands = LshBands{static_cast<unsigned>(b), static_cast<unsigned>(r)};
  std::memcpy(&m.threshold, &tbits, 8);
  m.generation = gen;
  for (uint64_t i = 0; i < nruns; ++i) {
    LshRunInfo run;
    std::string_view sp, bp;
    if (!GetVarint64(&in, &run.first_doc) || !GetVarint64(&in, &run.doc_count) || !GetLengthPrefixed(&in, &sp) ||
        !GetLengthPrefixed(&in, &bp)) {
      return bad();
    }
    if (!m.runs.empty() && run.first_doc != m.indexed_docs()) return bad();
    run.sig_path = std::string(sp);
    run.bucket_path = std::string(bp);
    m.runs.push_back(std::move(run));
  }
  *out = std::move(m);
  return Status::OK();
}

Status ReadLshManifest(Catalog* catalog, const std::string& name, LshManifest* out) {
  std::unique_ptr<CatalogReadTxn> txn;
  DEDUPDB_RETURN_IF_ERROR(catalog->BeginRead(&txn));
  std::string_view v;
  Status s = txn->Get(Table::kIndexes, LshManifest::CatalogKey(name), &v);
  if (s.IsNotFound()) return Status::NotFound("no LSH index named '" + name + "' (run `dedupdb index-lsh` first)");
  DEDUPDB_RETURN_IF_ERROR(s);
  return LshManifest::Decode(v, out).WithContext("index " + name);
}

// ---- reader -----------------------------------------------------------------

Status LshIndex::Open(const DocStore& store, const std::string& name, std::unique_ptr<LshIndex>* out) {
  auto idx = std::unique_ptr<LshIndex>(new LshIndex());
  DEDUPDB_RETURN_IF_ERROR(ReadLshManifest(store.catalog(), name, &idx->manifest_));
  const LshManifest& m = idx->manifest_;
  if (m.format_version < kLshManifestVersion) {
    return Status::NotSupported("LSH index '" + name + "' has format version " + std::to_string(m.format_version) +
                                " (older word hash or 32-bit doc ids), no longer read; rebuild it with `dedupdb index-lsh " +
                                store.layout().root() + " --name " + name + "`");
  }
  idx->perms_ = std::make_unique<MinHashPermutations>(m.num_perm, m.seed);
  for (const auto& info : m.runs) {
    auto run = std::make_unique<Run>();
    run->info = info;
    const std::string sp = store.layout().Absolute(info.sig_path);
    const std::string bp = store.layout().Absolute(info.bucket_path);
    DEDUPDB_RETURN_IF_ERROR(EnvelopedFile::Open(store.env(), sp, FileKind::kMinHashSigs, kMinHashSigsVersion, &run->sigs));
    DEDUPDB_RETURN_IF_ERROR(
        EnvelopedFile::Open(store.env(), bp, FileKind::kLshBuckets, kLshBucketsVersion, &run->buckets));
    const auto& s = *run->sigs;
    if (s.param(0) != info.first_doc || s.param(1) != info.doc_count || s.param(2) != m.num_perm ||
        s.body().size() != info.doc_count * m.num_perm * sizeof(uint32_t)) {
      return Status::Corruption(sp + ": signature file disagrees with the index manifest");
    }
    const auto& b = *run->buckets;
    if (b.header().version != kLshBucketsVersion) {
      return Status::NotSupported(bp + ": bucket file format version " + std::to_string(b.header().version) +
                                  " (older word hash or 32-bit doc ids) is no longer read; rebuild the index with `dedupdb index-lsh`");
    }
    run->entries_per_band = b.param(4);
    if (b.param(0) != info.first_doc || b.param(1) != info.doc_count || b.param(2) != m.bands.bands ||
        b.param(3) != m.bands.rows || run->entries_per_band > info.doc_count ||
        b.body().size() != run->entries_per_band * m.bands.bands * sizeof(LshEntry)) {
      return Status::Corruption(bp + ": bucket file disagrees with the index manifest");
    }
    run->sig_data = reinterpret_cast<const uint32_t*>(s.body().data());
    run->bucket_data = b.body().data();
    run->buckets->map().Advise(MappedFile::Access::kRandom);
    idx->runs_.push_back(std::move(run));
  }
  *out = std::move(idx);
  return Status::OK();
}

const uint32_t* LshIndex::Signature(uint64_t doc_id) const {
  // Runs are contiguous and ordered: binary search on first_doc.
  auto it = std::upper_bound(runs_.begin(), runs_.end(), doc_id,
                             [](uint64_t d, const std::unique_ptr<Run>& r) { return d < r->info.first_doc; });
  if (it == runs_.begin()) return nullptr;
  const Run& r = **(it - 1);
  if (doc_id >= r.info.first_doc + r.info.doc_count) return nullptr;
  return r.sig_data + (doc_id - r.info.first_doc) * manifest_.num_perm;
}

void LshIndex::Lookup(unsigned band, uint64_t key, const std::function<void(uint64_t)>& fn) const {
  for (const auto& run : runs_) {
    const LshEntry* begin = run->Band(band);
    const LshEntry* end = begin + run->entries_per_band;
    const LshEntry* it = std::lower_bound(begin, end, key, [](const LshEntry& e, uint64_t k) { return e.key < k; });
    for (; it != end && it->key == key; ++it) fn(run->info.first_doc + it->doc());
  }
}

LshBandMerger LshIndex::MergeBand(unsigned band) const {
  std::vector<LshBandMerger::Source> src;
  for (const auto& run : runs_) {
    src.push_back({run->Band(band), run->Band(band) + run->entries_per_band, run->info.first_doc});
  }
  return LshBandMerger(std::move(src));
}

// ---- band merge -------------------------------------------------------------

LshBandMerger::LshBandMerger(std::vector<Source> sources) : src_(std::move(sources)) {
  for (size_t i = 0; i < src_.size(); ++i) Push(i);
}

void LshBandMerger::Push(size_t i) {
  Source& s = src_[i];
  if (s.begin == s.end) return;
  heap_.push_back(Head{s.begin->key, s.first_doc + s.begin->doc(), i});
  std::push_heap(heap_.begin(), heap_.end());
  ++s.begin;
}

bool LshBandMerger::NextFromHeap(uint64_t* key, uint64_t* doc) {
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end());
  const Head h = heap_.back();
  heap_.pop_back();
  *key = h.key;
  *doc = h.doc;
  Push(h.src);
  return true;
}

// ---- build ------------------------------------------------------------------

namespace {

double CpuNow() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

std::string RunFileName(const char* prefix, uint64_t first_doc, const char* ext) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s-%012" PRIu64 ".%s", prefix, first_doc, ext);
  return buf;
}

}  // namespace

// Band keys are uniform 64-bit hashes: an LSD radix sort on only their top
// T = log2(n) + 2 bits (passes of <= 11 bits, 2048 counters in L1, output
// streams sequential: 2 passes for 100k entries) leaves about n / 4 entries
// sharing their top T bits with another, so one stable insertion pass
// finishes the (key, doc) order. Equal keys need no moves: entries arrive
// in doc order and every pass is stable. 2.5x faster than the previous
// MSD pass + per-bucket insertion sorts (mispredicted on ~3-entry buckets).
// If the insertion pass moves more than 4n entries (keys that are not
// uniform) the buffer is finished by std::sort instead.
void SortLshEntries(std::vector<LshEntry>* v) {
  const size_t n = v->size();
  if (n < 512) {
    std::sort(v->begin(), v->end());
    return;
  }
  const unsigned top = std::min(64u, static_cast<unsigned>(64 - __builtin_clzll(n)) + 2);
  const unsigned passes = (top + 10) / 11;
  const unsigned digit = (top + passes - 1) / passes;
  std::unique_ptr<LshEntry[]> scratch(new LshEntry[n]);  // not zeroed: every slot is written
  LshEntry* a = v->data();
  LshEntry* b = scratch.get();
  uint64_t count[2048];
  for (unsigned p = 0; p < passes; ++p) {
    const unsigned lo_bit = 64 - top + p * digit;
    const unsigned width = std::min(digit, 64 - lo_bit);
    const uint64_t mask = (uint64_t{1} << width) - 1;
    std::memset(count, 0, sizeof(uint64_t) << width);
    for (size_t i = 0; i < n; ++i) ++count[(a[i].key >> lo_bit) & mask];
    uint64_t sum = 0;
    for (size_t k = 0; k <= mask; ++k) {
      const uint64_t c = count[k];
      count[k] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; ++i) b[count[(a[i].key >> lo_bit) & mask]++] = a[i];
    std::swap(a, b);
  }
  if (a != v->data()) std::memcpy(v->data(), a, n * sizeof(LshEntry));
  a = v->data();
  uint64_t moves = 0;
  for (size_t i = 1; i < n; ++i) {
    if (a[i] < a[i - 1]) {
      const LshEntry e = a[i];
      size_t j = i;
      do {
        a[j] = a[j - 1];
        --j;
        ++moves;
      } while (j > 0 && e < a[j - 1]);
      a[j] = e;
      if (moves > 4 * n) {
        std::sort(a, a + n);
        return;
      }
    }
  }
}

namespace {
struct RadixSortEntries {
  void operator()(std::vector<LshEntry>* v) const { SortLshEntries(v); }
};

// Appends records to a FileBuilder through a 1 MiB buffer.
class BufferedAppender {
 public:
  explicit BufferedAppender(FileBuilder* b) : b_(b) { buf_.reserve(1 << 20); }
  Status Append(const void* p, size_t n) {
    buf_.append(static_cast<const char*>(p), n);
    if (buf_.size() >= (1 << 20)) return Flush();
    return Status::OK();
  }
  Status Flush() {
    Status s = b_->Append(buf_);
    buf_.clear();
    return s;
  }

 private:
  FileBuilder* b_;
  std::string buf_;
};

}  // namespace

Status BuildLshIndex(const std::string& store_dir, const LshBuildOptions& options, LshBuildReport* report) {
  const auto t0 = std::chrono::steady_clock::now();
  Env* env = options.env ? options.env : Env::Default();
  *report = LshBuildReport();
  std::unique_ptr<StoreWriter> writer;
  DEDUPDB_RETURN_IF_ERROR(StoreWriter::Open(env, store_dir, false, &writer));
  std::unique_ptr<DocStore> store;
  DocStore::Options so;
  so.env = env;
  DEDUPDB_RETURN_IF_ERROR(DocStore::Open(store_dir, so, &store));

  LshManifest m;
  Status s = ReadLshManifest(writer->catalog(), options.name, &m);
  if (s.IsNotFound()) {
    report->created = true;
    m = LshManifest();
    m.num_perm = options.num_perm;
    m.seed = options.seed;
    m.shingles = options.shingles;
    m.threshold = options.threshold;
    if (options.num_perm == 0) return Status::InvalidArgument("--num-perm must be >= 1");
    if (options.threshold <= 0 || options.threshold > 1) return Status::InvalidArgument("--threshold must be in (0, 1]");
    if (!(options.fn_weight > 0 && options.fn_weight < 1)) return Status::InvalidArgument("--fn-weight must be in (0, 1)");
    m.bands = options.bands.bands ? options.bands
                                  : OptimalBands(options.threshold, options.num_perm, 1 - options.fn_weight,
                                                 options.fn_weight);
    DEDUPDB_RETURN_IF_ERROR(CheckBands(m.bands, m.num_perm));
  } else {
    DEDUPDB_RETURN_IF_ERROR(s);
  }
  // An old-format index: rebuild every run (same parameters), retiring the
  // old files when the new run is published.
  std::vector<std::string> retire;
  if (m.format_version < kLshManifestVersion) {
    for (const auto& r : m.runs) {
      retire.push_back(r.sig_path);
      retire.push_back(r.bucket_path);
    }
    m.runs.clear();
    m.format_version = kLshManifestVersion;
    report->upgraded = true;
  }

  const uint64_t first = m.indexed_docs();
  const uint64_t last = store->num_docs();
  if (last < first) return Status::Corruption("LSH index covers more documents than the store holds");
  if (last - first > kMaxLshRunDocs) return Status::NotSupported("more than 2^40 new documents in one LSH run");
  if (last == first) {
    if (report->created || report->upgraded) {
      // An empty store: record the index and its parameters anyway, so that
      // later runs use them and queries find an (empty) index.
      const std::string encoded = m.Encode();
      const std::string key = LshManifest::CatalogKey(options.name);
      DEDUPDB_RETURN_IF_ERROR(writer->Publish(
          {}, [&](CatalogWriteTxn* txn) { return txn->Put(Table::kIndexes, key, encoded); }, retire));
    }
    report->manifest = m;
    report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return Status::OK();  // up to date
  }

  std::string staging;
  DEDUPDB_RETURN_IF_ERROR(writer->NewStagingDir("lsh-" + options.name, &staging));
  const uint64_t gen = m.generation + 1;
  const std::string rel_dir = StoreLayout::IndexDir("lsh", options.name, gen);
  const std::string sig_name = RunFileName("sigs", first, "mhs");
  const std::string bucket_name = RunFileName("buckets", first, "lsb");
  const unsigned K = m.num_perm, B = m.bands.bands, R = m.bands.rows;

  std::unique_ptr<FileBuilder> sig_file;
  DEDUPDB_RETURN_IF_ERROR(
      FileBuilder::Create(env, JoinPath(staging, sig_name), FileKind::kMinHashSigs, kMinHashSigsVersion, &sig_file));

  // One sorter per band shares the memory budget; half of each share is the
  // radix sort's scratch copy.
  const uint64_t per_band = std::max<uint64_t>(options.memory_bytes / B / 2, 512);
  using BandSorter = ExternalSorter<LshEntry, RadixSortEntries>;
  std::vector<std::unique_ptr<BandSorter>> sorters;
  for (unsigned j = 0; j < B; ++j) {
    sorters.push_back(std::make_unique<BandSorter>(env, staging, "band" + std::to_string(j), per_band));
    sorters.back()->Reserve(last - first);  // one entry per new doc at most
  }

  MinHashPermutations perms(K, m.seed);
  const unsigned threads = std::max(1u, options.threads);
  const uint64_t total = last - first;
  const size_t batch = 2048;
  std::vector<uint32_t> sigs(batch * K);
  std::vector<uint8_t> empty(batch);
  std::vector<uint64_t> bytes_per_thread(threads);
  uint64_t new_bytes = 0;  // progress total: only the documents of this run
  for (uint64_t d = first; d < last; ++d) new_bytes += store->Text(d).size();
  ProgressMeter progress("index-lsh", new_bytes, ProgressMeter::Unit::kBytes, options.show_progress);
  uint64_t bytes_done = 0;
  double sig_seconds = 0, bucket_seconds = 0, sig_cpu = 0, bucket_cpu = 0;
  for (uint64_t base = first; base < last; base += batch) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(batch, last - base));
    auto ts = std::chrono::steady_clock::now();
    const double cs = CpuNow();
    auto work = [&](unsigned t) {
      MinHasher hasher(&perms, m.shingles);
      uint64_t bytes = 0;
      for (size_t i = t; i < n; i += threads) {
        std::string_view text = store->Text(base + i);
        bytes += text.size();
        empty[i] = hasher.Sign(text, &sigs[i * K]) == 0;
      }
      bytes_per_thread[t] = bytes;
    };
    if (threads == 1) {
      work(0);
    } else {
      std::vector<std::thread> pool;
      for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work, t);
      for (auto& th : pool) th.join();
    }
    // Storing the signatures belongs to the signature phase (as keeping
    // them in RAM does for an in-memory index). A batch is already ~1 MiB:
    // straight to the file, no extra copy.
    DEDUPDB_RETURN_IF_ERROR(
        sig_file->Append(std::string_view(reinterpret_cast<const char*>(sigs.data()), n * K * sizeof(uint32_t))));
    const auto tb = std::chrono::steady_clock::now();
    const double cb = CpuNow();
    sig_seconds += std::chrono::duration<double>(tb - ts).count();
    sig_cpu += cb - cs;
    for (unsigned t = 0; t < threads; ++t) bytes_done += bytes_per_thread[t];
    for (size_t i = 0; i < n; ++i) {
      if (empty[i]) {
        ++report->empty_docs;
        continue;
      }
      const uint64_t rel = base + i - first;
      for (unsigned j = 0; j < B; ++j) {
        DEDUPDB_RETURN_IF_ERROR(sorters[j]->Add(LshEntry::Make(LshBandKey(&sigs[i * K], j, R), rel)));
      }
    }
    bucket_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - tb).count();
    bucket_cpu += CpuNow() - cb;
    progress.Update(bytes_done, base + n - first, "docs");
  }
  progress.Finish();
  auto tsync = std::chrono::steady_clock::now();
  sig_file->SetParam(0, first);
  sig_file->SetParam(1, total);
  sig_file->SetParam(2, K);
  sig_file->SetParam(3, m.seed);
  sig_file->SetParam(4, m.shingles.n);
  sig_file->SetParam(5, static_cast<uint64_t>(m.shingles.kind));
  sig_file->SetParam(6, static_cast<uint64_t>(m.shingles.mode));
  sig_file->SetParam(7, report->empty_docs);
  DEDUPDB_RETURN_IF_ERROR(sig_file->Finish());
  double sync_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - tsync).count();

  const auto tsort = std::chrono::steady_clock::now();
  const double csort = CpuNow();
  std::unique_ptr<FileBuilder> bucket_file;
  DEDUPDB_RETURN_IF_ERROR(FileBuilder::Create(env, JoinPath(staging, bucket_name), FileKind::kLshBuckets,
                                              kLshBucketsVersion, &bucket_file));
  BufferedAppender bucket_out(bucket_file.get());
  const uint64_t per_band_entries = total - report->empty_docs;
  for (unsigned j = 0; j < B; ++j) {
    DEDUPDB_RETURN_IF_ERROR(sorters[j]->Finish());
    report->spill_files += sorters[j]->spill_files();
    const LshEntry* all = nullptr;
    size_t count = 0;
    if (sorters[j]->InMemory(&all, &count)) {
      DEDUPDB_RETURN_IF_ERROR(bucket_out.Flush());
      DEDUPDB_RETURN_IF_ERROR(bucket_file->Append(std::string_view(reinterpret_cast<const char*>(all), count * sizeof(LshEntry))));
      sorters[j].reset();
      continue;
    }
    for (;;) {
      LshEntry e;
      bool done = false;
      DEDUPDB_RETURN_IF_ERROR(sorters[j]->Next(&e, &done));
      if (done) break;
      DEDUPDB_RETURN_IF_ERROR(bucket_out.Append(&e, sizeof(e)));
    }
    sorters[j].reset();  // frees its buffer and spill files
  }
  DEDUPDB_RETURN_IF_ERROR(bucket_out.Flush());
  bucket_file->SetParam(0, first);
  bucket_file->SetParam(1, total);
  bucket_file->SetParam(2, B);
  bucket_file->SetParam(3, R);
  bucket_file->SetParam(4, per_band_entries);
  bucket_file->SetParam(5, K);
  tsync = std::chrono::steady_clock::now();
  bucket_seconds += std::chrono::duration<double>(tsync - tsort).count();
  bucket_cpu += CpuNow() - csort;
  DEDUPDB_RETURN_IF_ERROR(bucket_file->Finish());

  LshRunInfo run;
  run.first_doc = first;
  run.doc_count = total;
  run.sig_path = JoinPath(rel_dir, sig_name);
  run.bucket_path = JoinPath(rel_dir, bucket_name);
  m.runs.push_back(run);
  m.generation = gen;
  std::vector<StagedFile> files = {{JoinPath(staging, sig_name), run.sig_path, FileKind::kMinHashSigs},
                                   {JoinPath(staging, bucket_name), run.bucket_path, FileKind::kLshBuckets}};
  const std::string encoded = m.Encode();
  const std::string key = LshManifest::CatalogKey(options.name);
  DEDUPDB_RETURN_IF_ERROR(writer->Publish(
      files, [&](CatalogWriteTxn* txn) { return txn->Put(Table::kIndexes, key, encoded); }, retire));

  sync_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - tsync).count();
  report->manifest = m;
  report->docs_indexed = total;
  report->bucket_seconds = bucket_seconds;
  report->sync_seconds = sync_seconds;
  report->signature_cpu_seconds = sig_cpu;
  report->bucket_cpu_seconds = bucket_cpu;
  report->text_bytes = bytes_done;
  report->signature_seconds = sig_seconds;
  report->sig_file_bytes = kFileHeaderSize + total * K * 4;
  report->bucket_file_bytes = kFileHeaderSize + per_band_entries * B * sizeof(LshEntry);
  report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return Status::OK();
}

// ---- compaction -------------------------------------------------------------

Status CompactLshIndex(const std::string& store_dir, const std::string& name, bool show_progress, Env* env,
                       LshCompactReport* report) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!env) env = Env::Default();
  *report = LshCompactReport();
  std::unique_ptr<StoreWriter> writer;
  DEDUPDB_RETURN_IF_ERROR(StoreWriter::Open(env, store_dir, false, &writer));
  std::unique_ptr<DocStore> store;
  DocStore::Options so;
  so.env = env;
  DEDUPDB_RETURN_IF_ERROR(DocStore::Open(store_dir, so, &store));
  std::unique_ptr<LshIndex> index;
  DEDUPDB_RETURN_IF_ERROR(LshIndex::Open(*store, name, &index));
  const LshManifest& old = index->manifest();
  report->runs_before = old.runs.size();
  report->docs = old.indexed_docs();
  if (old.runs.size() < 2) return Status::OK();
  const uint64_t first = old.runs.front().first_doc;
  if (old.indexed_docs() - first > kMaxLshRunDocs) return Status::NotSupported("merged LSH run would exceed 2^40 docs");

  std::string staging;
  DEDUPDB_RETURN_IF_ERROR(writer->NewStagingDir("lsh-compact-" + name, &staging));
  const uint64_t gen = old.generation + 1;
  const std::string rel_dir = StoreLayout::IndexDir("lsh", name, gen);
  const std::string sig_name = RunFileName("sigs", first, "mhs");
  const std::string bucket_name = RunFileName("buckets", first, "lsb");
  const unsigned B = old.bands.bands;

  // Signatures: the runs' bodies back to back (runs are contiguous).
  std::unique_ptr<FileBuilder> sig_file;
  DEDUPDB_RETURN_IF_ERROR(
      FileBuilder::Create(env, JoinPath(staging, sig_name), FileKind::kMinHashSigs, kMinHashSigsVersion, &sig_file));
  uint64_t empty_docs = 0, entries = 0;
  ProgressMeter progress("lsh-compact", B, ProgressMeter::Unit::kItems, show_progress);
  for (size_t i = 0; i < index->num_runs(); ++i) {
    const auto& r = index->run(i);
    r.sigs->map().Advise(MappedFile::Access::kSequential);
    DEDUPDB_RETURN_IF_ERROR(sig_file->Append(r.sigs->body()));
    empty_docs += r.sigs->param(7);
    entries += r.entries_per_band;
  }
  sig_file->SetParam(0, first);
  sig_file->SetParam(1, old.indexed_docs() - first);
  sig_file->SetParam(2, old.num_perm);
  sig_file->SetParam(3, old.seed);
  sig_file->SetParam(4, old.shingles.n);
  sig_file->SetParam(5, static_cast<uint64_t>(old.shingles.kind));
  sig_file->SetParam(6, static_cast<uint64_t>(old.shingles.mode));
  sig_file->SetParam(7, empty_docs);
  DEDUPDB_RETURN_IF_ERROR(sig_file->Finish());

  // Buckets: per band, a k-way merge of the runs with doc ids rebased.
  std::unique_ptr<FileBuilder> bucket_file;
  DEDUPDB_RETURN_IF_ERROR(FileBuilder::Create(env, JoinPath(staging, bucket_name), FileKind::kLshBuckets,
                                              kLshBucketsVersion, &bucket_file));
  BufferedAppender out(bucket_file.get());
  for (size_t i = 0; i < index->num_runs(); ++i) index->run(i).buckets->map().Advise(MappedFile::Access::kSequential);
  for (unsigned j = 0; j < B; ++j) {
    LshBandMerger merger = index->MergeBand(j);
    uint64_t key = 0, doc = 0;
    while (merger.Next(&key, &doc)) {
      const LshEntry e = LshEntry::Make(key, doc - first);
      DEDUPDB_RETURN_IF_ERROR(out.Append(&e, sizeof(e)));
    }
    progress.Update(j + 1);
  }
  progress.Finish();
  DEDUPDB_RETURN_IF_ERROR(out.Flush());
  bucket_file->SetParam(0, first);
  bucket_file->SetParam(1, old.indexed_docs() - first);
  bucket_file->SetParam(2, B);
  bucket_file->SetParam(3, old.bands.rows);
  bucket_file->SetParam(4, entries);
  bucket_file->SetParam(5, old.num_perm);
  DEDUPDB_RETURN_IF_ERROR(bucket_file->Finish());

  LshManifest m = old;
  m.generation = gen;
  m.runs.clear();
  LshRunInfo run;
  run.first_doc = first;
  run.doc_count = old.indexed_docs() - first;
  run.sig_path = JoinPath(rel_dir, sig_name);
  run.bucket_path = JoinPath(rel_dir, bucket_name);
  m.runs.push_back(run);
  std::vector<std::string> retire;
  for (const auto& r : old.runs) {
    retire.push_back(r.sig_path);
    retire.push_back(r.bucket_path);
  }
  index.reset();  // unmap before the old files are deleted
  std::vector<StagedFile> files = {{JoinPath(staging, sig_name), run.sig_path, FileKind::kMinHashSigs},
                                   {JoinPath(staging, bucket_name), run.bucket_path, FileKind::kLshBuckets}};
  const std::string encoded = m.Encode();
  const std::string key = LshManifest::CatalogKey(name);
  DEDUPDB_RETURN_IF_ERROR(writer->Publish(
      files, [&](CatalogWriteTxn* txn) { return txn->Put(Table::kIndexes, key, encoded); }, retire));
  report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return Status::OK();
}

}  // namespace dedupdb
