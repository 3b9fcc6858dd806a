// The scan pipeline: the calling thread reads (decompression + JSON parsing
// in DocumentReader, or zero-copy store texts) and fills batches; workers
// check them and append their output in batch order (a worker whose batch is
// next writes; the others keep checking), so outputs are deterministic.
#include "query/decon_scan.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "index/token_file.h"
#include "storage/text_output.h"
#include "storage/doc_store.h"
#include "storage/json_writer.h"
#include "storage/progress.h"

namespace dedupdb {
namespace {

constexpr size_t kBatchBytes = 4 << 20;
constexpr size_t kBatchDocs = 4096;

struct DocRef {
  uint64_t text_off = 0, text_len = 0;
  uint64_t id_off = 0, id_len = 0;
  uint64_t line = 0;
  uint64_t store_doc = UINT64_MAX;  // store mode: doc id (text read from the store)
  uint32_t source = 0;
};

struct Batch {
  uint64_t seq = 0;
  uint64_t first_order = 0;
  std::string buf;
  std::vector<DocRef> docs;
};

// Output of one checked batch.
struct BatchOut {
  std::string flagged, purified;
  uint64_t flagged_docs = 0, dropped_docs = 0, removed_bytes = 0, bytes = 0;
};

void AppendDeconFields(JsonWriter& w, const Decontaminator& d, const DeconResult& r) {
  w.Key("examples").BeginArray();
  for (const DeconExampleHit& e : r.examples) {
    w.BeginObject();
    w.Field("name", d.ExampleName(e.example));
    w.Field("grams", uint64_t{e.grams_matched});
    w.Field("total", uint64_t{e.grams_total});
    w.Field("coverage", e.coverage());
    w.EndObject();
  }
  w.EndArray();
  w.Key("spans").BeginArray();
  for (const DeconSpan& s : r.spans) w.BeginArray().Uint(s.begin).Uint(s.end).EndArray();
  w.EndArray();
}

class Sink {
 public:
  Status Open(Env* env, const std::string& path) {
    if (path.empty()) return Status::OK();
    if (path == "-") {
      stdout_ = true;
      return Status::OK();
    }
    return TextOutput::Open(env, path, &out_);
  }
  Status Append(std::string_view s) {
    if (s.empty()) return Status::OK();
    if (stdout_) {
      if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size()) return Status::IOError("stdout: write failed");
      return Status::OK();
    }
    return out_ ? out_->Append(s) : Status::OK();
  }
  Status Finish() {
    if (stdout_) return std::fflush(stdout) == 0 ? Status::OK() : Status::IOError("stdout: flush failed");
    return out_ ? out_->Finish() : Status::OK();
  }
  bool active() const { return stdout_ || out_ != nullptr; }

 private:
  std::unique_ptr<TextOutput> out_;
  bool stdout_ = false;
};

// Token ids as `width`-byte little-endian values (the input's width).
void AppendTokens(std::string* out, const uint32_t* t, size_t count, unsigned width) {
  for (size_t i = 0; i < count; ++i) out->append(reinterpret_cast<const char*>(&t[i]), width);
}

// A token document as the reports show it: its ids joined by " ", and r's
// hits and spans moved from token positions to byte offsets in that text.
void TokenDisplay(const uint32_t* t, size_t count, DeconResult* r, std::string* text) {
  std::vector<uint64_t> begin(count + 1);
  text->clear();
  for (size_t i = 0; i < count; ++i) {
    if (i) text->push_back(' ');
    begin[i] = text->size();
    *text += std::to_string(t[i]);
  }
  begin[count] = text->size() + 1;
  auto end_of = [&](uint64_t pos) { return begin[pos] - 1; };  // end of the token before pos
  for (DeconGramHit& h : r->hits) {
    h.end = end_of(h.end);
    h.begin = begin[h.begin];
  }
  for (DeconSpan& sp : r->spans) {
    sp.end = end_of(sp.end);
    sp.begin = begin[sp.begin];
  }
}

}  // namespace

bool ParsePurifyPolicy(std::string_view name, PurifyPolicy* policy) {
  if (name == "drop-doc") *policy = PurifyPolicy::kDropDoc;
  else if (name == "drop-span") *policy = PurifyPolicy::kDropSpan;
  else if (name == "mark") *policy = PurifyPolicy::kMark;
  else return false;
  return true;
}

const char* PurifyPolicyName(PurifyPolicy policy) {
  switch (policy) {
    case PurifyPolicy::kDropDoc: return "drop-doc";
    case PurifyPolicy::kDropSpan: return "drop-span";
    case PurifyPolicy::kMark: return "mark";
  }
  return "?";
}

uint64_t RemoveSpans(std::string_view text, const std::vector<DeconSpan>& spans, uint64_t context, std::string* out) {
  out->clear();
  uint64_t pos = 0, removed = 0;
  for (size_t i = 0; i < spans.size();) {
    uint64_t b = spans[i].begin > context ? spans[i].begin - context : 0;
    uint64_t e = std::min<uint64_t>(text.size(), spans[i].end + context);
    // Merge following spans whose widened ranges overlap.
    size_t j = i + 1;
    while (j < spans.size() && (spans[j].begin > context ? spans[j].begin - context : 0) <= e) {
      e = std::min<uint64_t>(text.size(), std::max<uint64_t>(e, spans[j].end + context));
      ++j;
    }
    b = std::max(b, pos);
    // Keep UTF-8 intact: widen the cut to whole characters.
    while (b > pos && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
    while (e < text.size() && (static_cast<unsigned char>(text[e]) & 0xC0) == 0x80) ++e;
    if (b > pos) {
      out->append(text.substr(pos, b - pos));
      out->push_back('\n');
    }
    removed += e - b;
    pos = e;
    i = j;
  }
  if (pos < text.size()) out->append(text.substr(pos));
  else if (!out->empty() && out->back() == '\n') out->pop_back();
  return removed;
}

Status RunDeconScan(Env* env, const Decontaminator& d, const DeconScanOptions& options, DeconAccumulator* acc,
                    DeconScanStats* stats) {
  auto t0 = std::chrono::steady_clock::now();
  const bool token_mode = !options.token_file.empty();
  if (int(!options.inputs.empty()) + int(!options.store.empty()) + int(token_mode) != 1)
    return Status::InvalidArgument("decon scan: give one of input files, --store or --tokens");
  if (token_mode != d.index().token_mode()) {
    return Status::InvalidArgument(d.index().path() + (token_mode ? ": a text eval index cannot scan a token corpus (build it with decon index --tokens)"
                                                                  : ": a token-mode eval index scans token corpora only (--tokens FILE)"));
  }
  std::unique_ptr<DocumentReader> reader;
  std::unique_ptr<DocStore> store;
  std::unique_ptr<RandomAccessFile> token_file;
  uint64_t token_offset = 0, token_count = 0;
  unsigned token_bytes = 0;
  if (token_mode) {
    if (options.policy == PurifyPolicy::kMark && !options.purify_out.empty())
      return Status::InvalidArgument("decon scan: --policy mark needs JSONL output; token corpora purify with drop-doc or drop-span");
    TokenFile tf;
    DEDUPDB_RETURN_IF_ERROR(TokenFile::Open(env, options.token_file, options.token_bytes, &tf));
    token_offset = tf.data_offset;
    token_bytes = tf.token_bytes;
    token_count = tf.count;
    token_file = std::move(tf.file);
    if (options.separator >= (uint64_t{1} << (8 * token_bytes)))
      return Status::InvalidArgument("decon scan: --separator " + std::to_string(options.separator) + " does not fit in u" +
                                     std::to_string(8 * token_bytes));
  } else if (!options.store.empty()) {
    DocStore::Options so;
    so.env = env;
    DEDUPDB_RETURN_IF_ERROR(DocStore::Open(options.store, so, &store));
  } else {
    DEDUPDB_RETURN_IF_ERROR(DocumentReader::Open(env, options.inputs, options.reader, &reader));
  }
  Sink flagged_sink, purify_sink;
  DEDUPDB_RETURN_IF_ERROR(flagged_sink.Open(env, options.flagged_out));
  DEDUPDB_RETURN_IF_ERROR(purify_sink.Open(env, options.purify_out));
  const bool purify = purify_sink.active();
  const bool flag_out = flagged_sink.active();

  unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::string> sources;  // reader file names (by index)
  if (reader) sources = reader->files();
  else sources.push_back(token_mode ? options.token_file : options.store);

  std::mutex mu;
  std::mutex meta_mu;  // serialises catalog reads of store doc metadata
  std::condition_variable cv_work, cv_space, cv_turn;
  std::deque<Batch> queue;
  bool done_reading = false;
  uint64_t next_write = 0;
  Status first_error;
  DeconScanStats st;
  const size_t max_queue = threads * 2;
  std::vector<DeconAccumulator> accs(threads, DeconAccumulator(d.index()));

  const uint32_t sep_token = static_cast<uint32_t>(options.separator);
  auto worker = [&](unsigned wi) {
    DeconResult r, shown;
    std::string cut, display;
    DeconAccumulator& my_acc = accs[wi];
    for (;;) {
      Batch b;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv_work.wait(lock, [&] { return !queue.empty() || done_reading; });
        if (queue.empty()) return;
        b = std::move(queue.front());
        queue.pop_front();
        cv_space.notify_one();
      }
      BatchOut out;
      for (size_t i = 0; i < b.docs.size(); ++i) {
        const DocRef& ref = b.docs[i];
        if (token_mode) {
          // ref.line = document number, ref.id_off = its first token's index.
          const uint32_t* toks = reinterpret_cast<const uint32_t*>(b.buf.data() + ref.text_off);
          const size_t count = ref.text_len / 4;
          out.bytes += count * token_bytes;
          d.CheckTokens(toks, count, &r);
          const std::string name = std::to_string(ref.line);
          if (r.contaminated()) {
            ++out.flagged_docs;
            shown = r;
            TokenDisplay(toks, count, &shown, &display);
            my_acc.Add(shown, b.first_order + i, name, sources[0], display);
            if (flag_out) {
              JsonWriter w;
              w.BeginObject();
              w.Field("doc", ref.line);
              w.Field("source", sources[0]);
              w.Field("token_offset", ref.id_off);
              w.Field("tokens", uint64_t{count});
              AppendDeconFields(w, d, r);
              w.EndObject();
              out.flagged += w.str();
              out.flagged += '\n';
            }
          }
          if (!purify) continue;
          if (!r.contaminated()) {
            AppendTokens(&out.purified, toks, count, token_bytes);
            AppendTokens(&out.purified, &sep_token, 1, token_bytes);
            continue;
          }
          // Kept pieces between the widened spans (tokens), each its own document.
          std::vector<std::pair<uint64_t, uint64_t>> keep;
          uint64_t pos = 0, removed = 0;
          if (options.policy == PurifyPolicy::kDropSpan) {
            for (const DeconSpan& sp : r.spans) {
              uint64_t from = std::max(pos, sp.begin > options.context_bytes ? sp.begin - options.context_bytes : 0);
              uint64_t to = std::min<uint64_t>(count, sp.end + options.context_bytes);
              if (to <= pos) continue;
              if (from > pos) keep.push_back({pos, from});
              removed += to - from;
              pos = to;
            }
            if (pos < count) keep.push_back({pos, count});
          }
          if (options.policy == PurifyPolicy::kDropDoc || keep.empty() ||
              double(removed) / count > options.max_removed_fraction) {
            ++out.dropped_docs;
            out.removed_bytes += count * token_bytes;
            continue;
          }
          out.removed_bytes += removed * token_bytes;
          for (const auto& [kb, ke] : keep) {
            AppendTokens(&out.purified, toks + kb, ke - kb, token_bytes);
            AppendTokens(&out.purified, &sep_token, 1, token_bytes);
          }
          continue;
        }
        std::string_view text = ref.store_doc != UINT64_MAX ? store->Text(ref.store_doc)
                                                            : std::string_view(b.buf).substr(ref.text_off, ref.text_len);
        std::string_view id = std::string_view(b.buf).substr(ref.id_off, ref.id_len);
        out.bytes += text.size();
        d.Check(text, &r);
        std::string store_id;
        if (ref.store_doc != UINT64_MAX) {
          // External ids come from the catalog; only looked up when needed.
          store_id = std::to_string(ref.store_doc);
          if (r.contaminated() || purify) {
            std::lock_guard<std::mutex> meta_lock(meta_mu);
            DocMeta meta;
            if (store->GetMeta(ref.store_doc, &meta).ok()) store_id = meta.external_id;
          }
          id = store_id;
        }
        my_acc.Add(r, b.first_order + i, id, sources[ref.source], text);
        if (r.contaminated()) {
          ++out.flagged_docs;
          if (flag_out) {
            JsonWriter w;
            w.BeginObject();
            w.Field("doc", id);
            if (ref.store_doc != UINT64_MAX) w.Field("doc_id", ref.store_doc);
            else {
              w.Field("source", sources[ref.source]);
              w.Field("line", ref.line);
            }
            w.Field("bytes", uint64_t{text.size()});
            AppendDeconFields(w, d, r);
            w.EndObject();
            out.flagged += w.str();
            out.flagged += '\n';
          }
        }
        if (!purify) continue;
        std::string_view kept = text;
        bool drop = false;
        if (r.contaminated()) {
          if (options.policy == PurifyPolicy::kDropDoc) {
            drop = true;
          } else if (options.policy == PurifyPolicy::kDropSpan) {
            uint64_t removed = RemoveSpans(text, r.spans, options.context_bytes, &cut);
            if (text.empty() || double(removed) / text.size() > options.max_removed_fraction || cut.empty()) {
              drop = true;
            } else {
              out.removed_bytes += removed;
              kept = cut;
            }
          }
        }
        if (drop) {
          ++out.dropped_docs;
          out.removed_bytes += text.size();
          continue;
        }
        JsonWriter w;
        w.BeginObject();
        w.Field("id", id);
        w.Field("text", kept);
        if (options.policy == PurifyPolicy::kMark && r.contaminated()) {
          w.Key("decon").BeginObject();
          AppendDeconFields(w, d, r);
          w.EndObject();
        }
        w.EndObject();
        out.purified += w.str();
        out.purified += '\n';
      }
      // Write in batch order.
      std::unique_lock<std::mutex> lock(mu);
      cv_turn.wait(lock, [&] { return next_write == b.seq; });
      if (first_error.ok()) {
        Status s = flagged_sink.Append(out.flagged);
        if (s.ok()) s = purify_sink.Append(out.purified);
        if (!s.ok()) {
          first_error = s;
          cv_space.notify_all();
        }
      }
      st.docs += b.docs.size();
      st.bytes += out.bytes;
      st.flagged_docs += out.flagged_docs;
      st.dropped_docs += out.dropped_docs;
      st.removed_bytes += out.removed_bytes;
      ++next_write;
      cv_turn.notify_all();
    }
  };

  std::vector<std::thread> pool;
  for (unsigned i = 0; i < threads; ++i) pool.emplace_back(worker, i);

  ProgressMeter progress("decon scan", reader ? reader->input_bytes_total() : token_mode ? token_count * token_bytes : store->num_docs(),
                         store ? ProgressMeter::Unit::kItems : ProgressMeter::Unit::kBytes, options.progress);
  Status read_status;
  uint64_t seq = 0, order = 0;
  auto push = [&](Batch&& b) -> bool {
    std::unique_lock<std::mutex> lock(mu);
    cv_space.wait(lock, [&] { return queue.size() < max_queue || !first_error.ok(); });
    if (!first_error.ok()) return false;
    queue.push_back(std::move(b));
    cv_work.notify_one();
    return true;
  };
  Batch cur;
  cur.seq = seq;
  cur.first_order = order;
  if (token_mode) {
    // Documents end at the separator; a last document without one counts too.
    constexpr size_t kChunkTokens = 1 << 20;
    std::vector<uint32_t> chunk;
    std::string raw;
    uint64_t doc_start = 0, pos = 0;
    DocRef ref;
    ref.text_off = 0;
    ref.id_off = 0;
    bool stop = false;
    auto finish_doc = [&](uint64_t end) -> bool {
      ref.text_len = cur.buf.size() - ref.text_off;
      ref.line = order;
      ref.id_off = doc_start;
      cur.docs.push_back(ref);
      ++order;
      doc_start = end + 1;
      if (cur.docs.size() >= kBatchDocs || cur.buf.size() >= kBatchBytes) {
        if (!push(std::move(cur))) return false;
        cur = Batch();
        cur.seq = ++seq;
        cur.first_order = order;
        progress.Update(end * token_bytes);
      }
      ref.text_off = cur.buf.size();
      return order < options.limit;
    };
    while (!stop && pos < token_count && order < options.limit) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(kChunkTokens, token_count - pos));
      read_status = ReadTokenIds(*token_file, token_offset, token_bytes, pos, n, &chunk, &raw);
      if (!read_status.ok()) break;
      size_t run = 0;  // start of the current run of non-separators in chunk
      for (size_t i = 0; i < n && !stop; ++i) {
        if (chunk[i] != sep_token) continue;
        cur.buf.append(reinterpret_cast<const char*>(chunk.data() + run), (i - run) * 4);
        run = i + 1;
        if (!finish_doc(pos + i)) stop = true;
      }
      if (!stop) cur.buf.append(reinterpret_cast<const char*>(chunk.data() + run), (n - run) * 4);
      pos += n;
    }
    if (read_status.ok() && !stop && order < options.limit && cur.buf.size() > ref.text_off) finish_doc(token_count);
  } else if (store) {
    uint64_t total = std::min<uint64_t>(store->num_docs(), options.limit);
    uint64_t batch_bytes = 0;
    for (uint64_t id = 0; id < total; ++id) {
      DocRef ref;
      ref.store_doc = id;
      cur.docs.push_back(ref);
      batch_bytes += store->Text(id).size();
      ++order;
      if (cur.docs.size() >= kBatchDocs || batch_bytes >= kBatchBytes) {
        if (!push(std::move(cur))) break;
        cur = Batch();
        cur.seq = ++seq;
        cur.first_order = order;
        batch_bytes = 0;
        progress.Update(id + 1);
      }
    }
  } else {
    std::unordered_map<const std::string*, uint32_t> source_index;
    const std::vector<std::string>& files = reader->files();
    for (uint32_t i = 0; i < files.size(); ++i) source_index[&files[i]] = i;
    while (order < options.limit) {
      InputRecord rec;
      bool done = false;
      read_status = reader->Next(&rec, &done);
      if (!read_status.ok() || done) break;
      DocRef ref;
      ref.text_off = cur.buf.size();
      ref.text_len = rec.text.size();
      cur.buf.append(rec.text);
      ref.id_off = cur.buf.size();
      ref.id_len = rec.external_id.size();
      cur.buf.append(rec.external_id);
      ref.line = rec.line;
      auto it = source_index.find(rec.source);
      ref.source = it != source_index.end() ? it->second : static_cast<uint32_t>(reader->current_file());
      cur.docs.push_back(ref);
      ++order;
      if (cur.docs.size() >= kBatchDocs || cur.buf.size() >= kBatchBytes) {
        if (!push(std::move(cur))) break;
        cur = Batch();
        cur.seq = ++seq;
        cur.first_order = order;
        progress.Update(reader->input_bytes_read());
      }
    }
  }
  if (!cur.docs.empty()) push(std::move(cur));
  {
    std::lock_guard<std::mutex> lock(mu);
    done_reading = true;
  }
  cv_work.notify_all();
  for (std::thread& t : pool) t.join();
  progress.Finish();
  DEDUPDB_RETURN_IF_ERROR(read_status);
  DEDUPDB_RETURN_IF_ERROR(first_error);
  DEDUPDB_RETURN_IF_ERROR(flagged_sink.Finish());
  DEDUPDB_RETURN_IF_ERROR(purify_sink.Finish());
  for (const DeconAccumulator& a : accs) acc->Merge(a);
  st.threads = threads;
  if (reader) st.skipped = reader->skipped();
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (stats) *stats = st;
  return Status::OK();
}

}  // namespace dedupdb
