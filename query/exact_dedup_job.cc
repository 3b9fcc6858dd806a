#include "query/exact_dedup_job.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <unordered_map>

#include "index/suffix_array.h"
#include "storage/text_output.h"
#include "storage/doc_store.h"
#include "storage/segment.h"
#include "storage/json_writer.h"
#include "storage/progress.h"

namespace dedupdb {

const char* GranularityName(Granularity g) {
  switch (g) {
    case Granularity::kSpan: return "span";
    case Granularity::kLine: return "line";
    case Granularity::kParagraph: return "paragraph";
  }
  return "?";
}

bool ParseGranularity(std::string_view name, Granularity* g) {
  if (name == "span") *g = Granularity::kSpan;
  else if (name == "line") *g = Granularity::kLine;
  else if (name == "paragraph") *g = Granularity::kParagraph;
  else return false;
  return true;
}

namespace {

// End (exclusive) of the line starting at pos: after its '\n', or text end.
size_t LineEnd(std::string_view text, size_t pos) {
  size_t nl = text.find('\n', pos);
  return nl == std::string_view::npos ? text.size() : nl + 1;
}

bool IsBlank(std::string_view line) {
  for (char c : line)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != '\v') return false;
  return true;
}

size_t UnitEnd(std::string_view text, size_t pos, Granularity g) {
  if (g == Granularity::kLine) return LineEnd(text, pos);
  size_t p = pos;
  while (p < text.size()) {  // non-blank lines
    size_t e = LineEnd(text, p);
    if (IsBlank(text.substr(p, e - p))) break;
    p = e;
  }
  while (p < text.size()) {  // then the blank lines after them
    size_t e = LineEnd(text, p);
    if (!IsBlank(text.substr(p, e - p))) break;
    p = e;
  }
  return p;
}

// Maps corpus positions to documents for texts laid end to end in parts:
// the shards of an SA index (documents followed by a separator) or the
// segments of a store (documents back to back). Each part has a table of
// num_docs + 1 document starts; a document ends `trim` symbols before the
// next one starts.
class PartedCorpusMap : public CorpusMap {
 public:
  struct Part {
    uint64_t symbols, first_doc, num_docs;
    const uint64_t* starts;
    uint64_t trim;
  };
  static std::unique_ptr<PartedCorpusMap> OfIndex(const SuffixArrayIndex& index) {
    auto m = std::make_unique<PartedCorpusMap>();
    for (size_t s = 0; s < index.num_shards(); ++s) {
      const SaShard& sh = index.shard(s);
      m->Add(Part{sh.num_symbols(), sh.first_doc(), sh.num_docs(), sh.doc_starts(), 1});
    }
    return m;
  }
  static std::unique_ptr<PartedCorpusMap> OfStore(const DocStore& store) {
    auto m = std::make_unique<PartedCorpusMap>();
    for (size_t s = 0; s < store.num_segments(); ++s) {
      const SegmentReader& seg = store.segment(s);
      m->Add(Part{seg.text_bytes(), seg.first_doc_id(), seg.doc_count(), seg.offsets(), 0});
    }
    return m;
  }
  const std::vector<uint64_t>& bases() const { return bases_; }

  bool Locate(uint64_t pos, uint64_t* doc_id, uint64_t* doc_start, uint64_t* doc_len) const override {
    auto it = std::upper_bound(bases_.begin(), bases_.end(), pos);
    if (it == bases_.begin()) return false;
    const size_t s = static_cast<size_t>(it - bases_.begin()) - 1;
    const Part& p = parts_[s];
    const uint64_t local = pos - bases_[s];
    if (local >= p.symbols || p.num_docs == 0) return false;
    const uint64_t d = DocOf(p, local);
    if (local < p.starts[d] || local >= End(p, d)) return false;  // a separator
    *doc_id = p.first_doc + d;
    *doc_start = bases_[s] + p.starts[d];
    *doc_len = End(p, d) - p.starts[d];
    return true;
  }
  // Empty documents are skipped: they hold no window.
  bool NextDoc(uint64_t pos, uint64_t* doc_start, uint64_t* doc_len) const override {
    auto it = std::upper_bound(bases_.begin(), bases_.end(), pos);
    for (size_t s = it == bases_.begin() ? 0 : static_cast<size_t>(it - bases_.begin()) - 1; s < parts_.size(); ++s) {
      const Part& p = parts_[s];
      const uint64_t local = pos > bases_[s] ? pos - bases_[s] : 0;
      if (local >= p.symbols || p.num_docs == 0) continue;
      for (uint64_t d = DocOf(p, local); d < p.num_docs; ++d) {
        if (End(p, d) > local && End(p, d) > p.starts[d]) {
          *doc_start = bases_[s] + p.starts[d];
          *doc_len = End(p, d) - p.starts[d];
          return true;
        }
      }
    }
    return false;
  }

 private:
  void Add(const Part& p) {
    bases_.push_back(bases_.empty() ? 0 : bases_.back() + parts_.back().symbols);
    parts_.push_back(p);
  }
  // The last document of p starting at or before local.
  static uint64_t DocOf(const Part& p, uint64_t local) {
    const uint64_t* j = std::upper_bound(p.starts, p.starts + p.num_docs + 1, local);
    return j == p.starts ? 0 : std::min<uint64_t>(static_cast<uint64_t>(j - p.starts) - 1, p.num_docs - 1);
  }
  static uint64_t End(const Part& p, uint64_t d) { return p.starts[d + 1] - p.trim; }

  std::vector<Part> parts_;
  std::vector<uint64_t> bases_;
};

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A private scratch directory for spill runs, removed on destruction.
class ScratchDir {
 public:
  ScratchDir(Env* env) : env_(env) {}
  ~ScratchDir() {
    if (!path_.empty()) env_->RemoveTree(path_);
  }
  Status Create() {
    static std::atomic<unsigned> counter{0};
    const char* t = std::getenv("TMPDIR");
    std::string base = (t != nullptr && *t != '\0') ? t : "/tmp";
    path_ = JoinPath(base, "dedupdb-dedup-exact." + std::to_string(::getpid()) + "." + std::to_string(counter++));
    return env_->CreateDirs(path_);
  }
  const std::string& path() const { return path_; }

 private:
  Env* env_;
  std::string path_;
};

struct OpenedCorpus {
  std::unique_ptr<DocStore> store;
  std::unique_ptr<SuffixArrayIndex> index;
  std::unique_ptr<CorpusMap> map;
  SuffixCorpus corpus;
};

// One side of the job. The merge needs the SA index (its suffix arrays);
// the anchors method needs only text, so it reads the store's segments and
// works without an index - except for a token-mode index, whose token ids
// exist only in the index.
Status OpenCorpus(Env* env, const std::string& dir, const std::string& name, DedupMethod method,
                  OpenedCorpus* out) {
  DocStore::Options so;
  so.env = env;
  DEDUPDB_RETURN_IF_ERROR(DocStore::Open(dir, so, &out->store));
  Status st = SuffixArrayIndex::Open(out->store.get(), name, &out->index);
  if (method == DedupMethod::kAnchors && (st.IsNotFound() || (st.ok() && !out->index->token_mode()))) {
    out->index.reset();
    StoreCorpusFromSegments(*out->store, &out->corpus, &out->map);
    return Status::OK();
  }
  if (st.IsNotFound()) {
    return Status::NotFound(dir + ": no suffix-array index '" + name + "' for --method merge; build it with " +
                            "`dedupdb index-sa " + dir + "` (or use --method anchors, which needs none)");
  }
  DEDUPDB_RETURN_IF_ERROR(st);
  const SaManifest& m = out->index->manifest();
  if (!m.token_mode && m.num_docs != out->store->num_docs()) {
    return Status::InvalidArgument(dir + ": suffix-array index '" + name + "' covers " + std::to_string(m.num_docs) +
                                   " of the store's " + std::to_string(out->store->num_docs()) +
                                   " documents; rebuild it with `dedupdb index-sa " + dir + "`");
  }
  SuffixCorpusFromIndex(*out->index, &out->corpus, &out->map);
  return Status::OK();
}

}  // namespace

void WidenToUnits(std::string_view text, const DocRange* first, const DocRange* last, Granularity g,
                  double threshold, uint64_t doc_id, RangeList* out) {
  if (g == Granularity::kSpan) {
    for (const DocRange* r = first; r != last; ++r) out->Add(doc_id, r->begin, r->end);
    return;
  }
  const DocRange* r = first;
  for (size_t pos = 0; pos < text.size() && r != last;) {
    size_t end = UnitEnd(text, pos, g);
    while (r != last && r->end <= pos) ++r;
    uint64_t removed = 0;
    for (const DocRange* q = r; q != last && q->begin < end; ++q) {
      removed += std::min<uint64_t>(q->end, end) - std::max<uint64_t>(q->begin, pos);
    }
    if (removed > 0 && static_cast<double>(removed) > threshold * static_cast<double>(end - pos)) {
      out->Add(doc_id, pos, end);
    }
    pos = end;
  }
}

void StoreCorpusFromSegments(const DocStore& store, SuffixCorpus* corpus, std::unique_ptr<CorpusMap>* map) {
  auto m = PartedCorpusMap::OfStore(store);
  corpus->runs.clear();
  for (size_t s = 0; s < store.num_segments(); ++s) {
    const SegmentReader& seg = store.segment(s);
    SuffixRun r;
    r.text = reinterpret_cast<const uint8_t*>(seg.AllText().data());
    r.text_size = seg.text_bytes();
    r.sa = nullptr;  // no suffix array: the anchors method only
    r.sa_size = 0;
    r.global_base = m->bases()[s];
    r.text_map = &seg.file().map();
    corpus->runs.push_back(r);
  }
  corpus->symbol_bytes = 1;
  corpus->has_separator = false;
  corpus->map = m.get();
  *map = std::move(m);
}

void SuffixCorpusFromIndex(const SuffixArrayIndex& index, SuffixCorpus* corpus, std::unique_ptr<CorpusMap>* map) {
  auto m = PartedCorpusMap::OfIndex(index);
  corpus->runs.clear();
  for (size_t s = 0; s < index.num_shards(); ++s) {
    const SaShard& sh = index.shard(s);
    // The merge streams each suffix array front to back once.
    sh.sa_file().map().Advise(MappedFile::Access::kSequential);
    SuffixRun r;
    r.text = sh.text();
    r.text_size = sh.num_symbols();
    r.sa = reinterpret_cast<const char*>(sh.sa_bytes());
    r.sa_width = sh.pointer_width();
    r.sa_size = sh.num_suffixes();
    r.global_base = m->bases()[s];
    r.text_map = &sh.text_file().map();
    r.sa_map = &sh.sa_file().map();
    corpus->runs.push_back(r);
  }
  corpus->symbol_bytes = index.symbol_bytes();
  corpus->has_separator = true;
  corpus->separator = index.separator();
  corpus->map = m.get();
  *map = std::move(m);
}

Status RunExactDedupJob(const ExactDedupJobOptions& options, ExactDedupJobReport* report) {
  const auto t0 = Clock::now();
  Env* env = options.dedup.env != nullptr ? options.dedup.env : Env::Default();
  *report = ExactDedupJobReport();
  if (options.threshold < 0 || options.threshold > 1) {
    return Status::InvalidArgument("--threshold must be between 0 and 1");
  }

  // Fail before the long work if an output cannot be created.
  for (const std::string* out : {&options.ranges_path, &options.ranges_jsonl_path, &options.write_path}) {
    if (out->empty()) continue;
    std::string dir = DirName(*out);
    FileInfo fi;
    if (!dir.empty() && (!env->GetFileInfo(dir, &fi).ok() || !fi.is_directory)) {
      return Status::NotFound("cannot write " + *out + ": directory " + dir + " does not exist");
    }
  }

  OpenedCorpus self, other;
  const DedupMethod method = options.dedup.method;
  DEDUPDB_RETURN_IF_ERROR(OpenCorpus(env, options.store_dir, options.index_name, method, &self));
  const bool across = !options.across_store.empty();
  if (across) {
    DEDUPDB_RETURN_IF_ERROR(OpenCorpus(env, options.across_store, options.across_index, method, &other));
    if (other.corpus.symbol_bytes != self.corpus.symbol_bytes) {
      return Status::InvalidArgument(options.across_store + ": its symbols are " +
                                     std::to_string(other.corpus.symbol_bytes) + " bytes wide, " + options.store_dir +
                                     "'s " + std::to_string(self.corpus.symbol_bytes) +
                                     " (a token index against text?)");
    }
  }
  const bool token_mode = self.index != nullptr && self.index->token_mode();
  report->token_mode = token_mode;
  if (token_mode && (options.granularity != Granularity::kSpan || !options.write_path.empty())) {
    return Status::InvalidArgument(
        "token-mode index: --granularity line/paragraph and --write need document text; only range lists "
        "(in token offsets) are available");
  }
  report->shards = self.corpus.runs.size();
  report->other_shards = across ? other.corpus.runs.size() : 0;
  report->docs = self.index ? self.index->num_docs() : self.store->num_docs();
  report->symbols = self.index ? self.index->manifest().input_symbols : self.store->text_bytes();

  ExactDedupOptions dopt = options.dedup;
  dopt.env = env;
  {
    uint64_t text = 0, cached = 0;
    auto plan = [&](const SuffixCorpus& c) {
      for (const SuffixRun& r : c.runs) {
        uint64_t b = r.text_size * c.symbol_bytes;
        if (cached + b <= options.dedup.memory_bytes / 2 && cached == text) cached += b;
        text += b;
      }
    };
    plan(self.corpus);
    if (across) plan(other.corpus);
    dopt.text_cache_bytes = cached;
    dopt.memory_bytes = std::max<uint64_t>(options.dedup.memory_bytes - cached, 1);
  }
  ScratchDir scratch(env);
  if (dopt.tmp_dir.empty()) {
    DEDUPDB_RETURN_IF_ERROR(scratch.Create());
    dopt.tmp_dir = scratch.path();
  }
  RangeList spans;
  DEDUPDB_RETURN_IF_ERROR(
      FindExactDuplicates(self.corpus, across ? &other.corpus : nullptr, dopt, &spans, &report->stats));
  report->span_ranges = spans.size();
  report->span_symbols_removed = spans.BytesRemoved();
  report->find_seconds = Since(t0);

  const auto t1 = Clock::now();
  RangeList final_ranges;
  if (options.granularity == Granularity::kSpan) {
    final_ranges = std::move(spans);
  } else {
    const auto& rs = spans.ranges();
    for (size_t i = 0; i < rs.size();) {
      size_t j = i;
      while (j < rs.size() && rs[j].doc_id == rs[i].doc_id) ++j;
      WidenToUnits(self.store->Text(rs[i].doc_id), rs.data() + i, rs.data() + j, options.granularity,
                   options.threshold, rs[i].doc_id, &final_ranges);
      i = j;
    }
    final_ranges.Normalize();
  }
  report->ranges = final_ranges.size();
  report->symbols_removed = final_ranges.BytesRemoved();
  report->docs_touched = final_ranges.DocsTouched();

  // One pass over the documents: per-source stats, emptied docs, --write.
  std::unique_ptr<TextOutput> writer;
  if (!options.write_path.empty()) DEDUPDB_RETURN_IF_ERROR(TextOutput::Open(env, options.write_path, &writer));
  const auto& rs = final_ranges.ranges();
  size_t ri = 0;
  if (!token_mode) {
    std::unordered_map<std::string, size_t> source_index;
    ProgressMeter meter("dedup-exact output", report->docs, ProgressMeter::Unit::kItems, options.dedup.show_progress);
    std::string line;
    for (uint64_t d = 0; d < report->docs; ++d) {
      const DocRange* first = rs.data() + ri;
      uint64_t removed = 0;
      while (ri < rs.size() && rs[ri].doc_id == d) removed += rs[ri].end - rs[ri].begin, ++ri;
      const DocRange* last = rs.data() + ri;
      DocMeta meta;
      DEDUPDB_RETURN_IF_ERROR(self.store->GetMeta(d, &meta));
      std::string_view text = self.store->Text(d);
      const bool emptied = removed > 0 && removed == text.size();
      report->docs_emptied += emptied;
      std::string src = BaseName(meta.source);
      auto [it, fresh] = source_index.emplace(src, report->per_source.size());
      if (fresh) report->per_source.push_back(SourceStats{src});
      SourceStats& ss = report->per_source[it->second];
      ++ss.docs;
      ss.bytes += text.size();
      ss.docs_touched += removed > 0;
      ss.docs_emptied += emptied;
      ss.bytes_removed += removed;
      if (writer && !(emptied && !options.keep_empty)) {
        line.clear();
        line += "{\"id\":";
        JsonWriter::AppendQuoted(&line, meta.external_id);
        line += ",\"text\":";
        if (first == last) {
          JsonWriter::AppendQuoted(&line, text);
        } else {
          JsonWriter::AppendQuoted(&line, ApplyRanges(text, first, last));
        }
        line += "}\n";
        DEDUPDB_RETURN_IF_ERROR(writer->Append(line));
        ++report->docs_written;
        report->bytes_written += text.size() - removed;
      }
      if ((d & 1023) == 0) meter.Update(d);
    }
    meter.Update(report->docs);
    meter.Finish();
  } else {
    // Token docs have no store entry: their lengths come from the index.
    for (size_t i = 0; i < rs.size();) {
      size_t j = i;
      uint64_t removed = 0;
      while (j < rs.size() && rs[j].doc_id == rs[i].doc_id) removed += rs[j].end - rs[j].begin, ++j;
      const SaShard& sh = self.index->shard(self.index->ShardOfDoc(rs[i].doc_id));
      uint64_t local = rs[i].doc_id - sh.first_doc();
      report->docs_emptied += removed == sh.DocEnd(local) - sh.DocBegin(local);
      i = j;
    }
  }
  if (writer) DEDUPDB_RETURN_IF_ERROR(writer->Finish());

  RangeListInfo info;
  info.min_len = options.dedup.min_len;
  info.unit = token_mode ? 1 : 0;
  info.mode = across ? 2 : (options.dedup.keep == KeepPolicy::kFirst ? 0 : 1);
  info.granularity = static_cast<uint32_t>(options.granularity);
  info.threshold = options.granularity == Granularity::kSpan ? 0 : options.threshold;
  info.store_docs = report->docs;
  if (!options.ranges_path.empty()) {
    DEDUPDB_RETURN_IF_ERROR(WriteRangeListFile(env, options.ranges_path, final_ranges, info));
  }
  if (!options.ranges_jsonl_path.empty()) {
    DEDUPDB_RETURN_IF_ERROR(
        WriteRangeListJsonl(env, options.ranges_jsonl_path, final_ranges, token_mode ? nullptr : self.store.get()));
  }
  report->output_seconds = Since(t1);
  report->seconds = Since(t0);
  return Status::OK();
}

}  // namespace dedupdb
