#include "index/suffix_array.h"

#include <algorithm>
#include <cstring>

#include "index/sa_compare.h"
#include "storage/coding.h"
#include "storage/doc_store.h"

namespace dedupdb {

std::string SaCatalogKey(std::string_view name) { return "sa/" + std::string(name); }

// ---- manifest ---------------------------------------------------------------

std::string SaManifest::Encode() const {
  std::string out;
  PutVarint64(&out, version);
  PutVarint64(&out, symbol_bytes);
  PutVarint64(&out, separator);
  PutVarint64(&out, token_mode ? 1 : 0);
  PutLengthPrefixed(&out, token_source);
  PutVarint64(&out, generation);
  PutVarint64(&out, num_docs);
  PutVarint64(&out, input_symbols);
  PutVarint64(&out, index_bytes);
  PutVarint64(&out, shards.size());
  for (const SaShardInfo& s : shards) {
    PutLengthPrefixed(&out, s.text_path);
    PutLengthPrefixed(&out, s.sa_path);
    PutVarint64(&out, s.first_doc);
    PutVarint64(&out, s.num_docs);
    PutVarint64(&out, s.num_symbols);
    PutVarint64(&out, s.num_suffixes);
    PutVarint64(&out, s.pointer_width);
  }
  return out;
}

Status SaManifest::Decode(std::string_view in, SaManifest* out) {
  SaManifest m;
  uint64_t v[9];
  std::string_view src;
  auto bad = [] { return Status::Corruption("suffix-array manifest: truncated or malformed catalog record"); };
  if (!GetVarint64(&in, &v[0])) return bad();
  if (v[0] == 0 || v[0] > kSaManifestVersion) {
    return Status::NotSupported("suffix-array manifest version " + std::to_string(v[0]) +
                                " is not supported by this build (max " + std::to_string(kSaManifestVersion) + ")");
  }
  if (!GetVarint64(&in, &v[1]) || !GetVarint64(&in, &v[2]) || !GetVarint64(&in, &v[3]) ||
      !GetLengthPrefixed(&in, &src) || !GetVarint64(&in, &v[4]) || !GetVarint64(&in, &v[5]) ||
      !GetVarint64(&in, &v[6]) || !GetVarint64(&in, &v[7]) || !GetVarint64(&in, &v[8])) {
    return bad();
  }
  m.version = static_cast<uint32_t>(v[0]);
  m.symbol_bytes = static_cast<uint32_t>(v[1]);
  if (m.symbol_bytes != 1 && m.symbol_bytes != 2 && m.symbol_bytes != 4) return bad();
  m.separator = v[2];
  m.token_mode = v[3] != 0;
  m.token_source = std::string(src);
  m.generation = v[4];
  m.num_docs = v[5];
  m.input_symbols = v[6];
  m.index_bytes = v[7];
  uint64_t n = v[8];
  if (n > in.size()) return bad();
  m.shards.resize(n);
  for (SaShardInfo& s : m.shards) {
    std::string_view t, a;
    uint64_t w;
    if (!GetLengthPrefixed(&in, &t) || !GetLengthPrefixed(&in, &a) || !GetVarint64(&in, &s.first_doc) ||
        !GetVarint64(&in, &s.num_docs) || !GetVarint64(&in, &s.num_symbols) || !GetVarint64(&in, &s.num_suffixes) ||
        !GetVarint64(&in, &w) || w < 1 || w > 8) {
      return bad();
    }
    s.text_path = std::string(t);
    s.sa_path = std::string(a);
    s.pointer_width = static_cast<uint32_t>(w);
  }
  *out = std::move(m);
  return Status::OK();
}

// ---- one shard ----------------------------------------------------------------

Status SaShard::Open(Env* env, const std::string& text_abs_path, const std::string& sa_abs_path,
                     const SaShardInfo& info, uint32_t symbol_bytes, std::unique_ptr<SaShard>* out) {
  std::unique_ptr<SaShard> s(new SaShard());
  DEDUPDB_RETURN_IF_ERROR(
      EnvelopedFile::Open(env, text_abs_path, FileKind::kSuffixText, kSuffixTextVersion, &s->text_file_));
  DEDUPDB_RETURN_IF_ERROR(
      EnvelopedFile::Open(env, sa_abs_path, FileKind::kSuffixArray, kSuffixArrayVersion, &s->sa_file_));
  const EnvelopedFile& tf = *s->text_file_;
  const EnvelopedFile& sf = *s->sa_file_;
  auto corrupt = [](const std::string& path, const std::string& what) {
    return Status::Corruption(path + ": " + what);
  };
  s->symbol_bytes_ = static_cast<uint32_t>(tf.param(1));
  s->num_symbols_ = tf.param(2);
  s->first_doc_ = tf.param(3);
  s->num_docs_ = tf.param(4);
  const uint64_t table_off = tf.param(5);
  s->separator_ = tf.param(6);
  if (s->symbol_bytes_ != symbol_bytes) return corrupt(tf.path(), "symbol width differs from the index manifest");
  if (s->num_symbols_ != info.num_symbols || s->first_doc_ != info.first_doc || s->num_docs_ != info.num_docs) {
    return corrupt(tf.path(), "shard parameters differ from the catalog manifest");
  }
  std::string_view tb = tf.body();
  if (s->num_symbols_ > tb.size() / symbol_bytes || table_off % 8 != 0 ||
      table_off < s->num_symbols_ * symbol_bytes || table_off > tb.size() ||
      (tb.size() - table_off) / 8 < s->num_docs_ + 1) {
    return corrupt(tf.path(), "text/doc-table sizes do not fit the file body (truncated?)");
  }
  s->text_ = reinterpret_cast<const uint8_t*>(tb.data());
  s->doc_starts_ = reinterpret_cast<const uint64_t*>(tb.data() + table_off);
  if (s->doc_starts_[0] != 0 || s->doc_starts_[s->num_docs_] != s->num_symbols_) {
    return corrupt(tf.path(), "document start table is inconsistent");
  }
  s->pointer_width_ = static_cast<uint32_t>(sf.param(1));
  s->num_suffixes_ = sf.param(2);
  if (s->pointer_width_ < 1 || s->pointer_width_ > 8 || s->pointer_width_ != info.pointer_width ||
      s->num_suffixes_ != info.num_suffixes || sf.param(3) != s->num_symbols_ || sf.param(4) != symbol_bytes) {
    return corrupt(sf.path(), "suffix-array parameters differ from its text file / the catalog manifest");
  }
  if (sf.param(5) != tf.header().body_checksum) {
    return corrupt(sf.path(), "suffix array belongs to a different text file (checksum link mismatch)");
  }
  std::string_view sb = sf.body();
  if (s->num_suffixes_ > s->num_symbols_ || sb.size() < s->num_suffixes_ * s->pointer_width_ + 8) {
    return corrupt(sf.path(), "suffix-array body shorter than its entries (truncated?)");
  }
  s->sa_ = reinterpret_cast<const uint8_t*>(sb.data());
  if (sf.header().version >= 2) {
    const uint64_t stride = sf.param(6), off = sf.param(7), count = sf.param(8);
    if (stride == 0 || off % 8 != 0 || off < s->num_suffixes_ * s->pointer_width_ || off > sb.size() ||
        (sb.size() - off) / 8 < count || count != (s->num_suffixes_ + stride - 1) / stride) {
      return corrupt(sf.path(), "page sample does not fit the suffix-array body (truncated?)");
    }
    s->sample_ = reinterpret_cast<const uint8_t*>(sb.data() + off);
    s->sample_stride_ = stride;
    s->sample_count_ = count;
  }
  sf.map().Advise(MappedFile::Access::kRandom);
  tf.map().Advise(MappedFile::Access::kRandom);
  *out = std::move(s);
  return Status::OK();
}

uint64_t SaShard::SymbolAt(uint64_t pos) const {
  const uint8_t* p = text_ + pos * symbol_bytes_;
  uint64_t v = 0;
  for (uint32_t i = 0; i < symbol_bytes_; ++i) v = (v << 8) | p[i];
  return v;
}

SaRange SaShard::FindRange(std::string_view query) const { return FindRange(query, SaRange{0, num_suffixes_}); }

// Forward declaration: defined below with the LCP helpers.
static uint64_t SymbolsBeforeSeparator(const uint8_t* text, uint64_t pos, uint64_t limit, uint32_t sb, uint64_t sep);

SaRange SaShard::FindRange(std::string_view query, SaRange within) const {
  if (query.empty() || within.empty()) return within;
  // Matches never contain the separator (they would cross a document end).
  const uint64_t qsym = query.size() / symbol_bytes_;
  if (SymbolsBeforeSeparator(reinterpret_cast<const uint8_t*>(query.data()), 0, qsym, symbol_bytes_, separator_) <
      qsym) {
    return SaRange{within.lo, within.lo};
  }
  const uint8_t* q = reinterpret_cast<const uint8_t*>(query.data());
  const size_t qlen = query.size();
  const uint64_t tbytes = text_bytes();
  auto cmp = [&](uint64_t i, size_t skip, size_t* lcp) {
    // Clamped so a damaged SA body (only verify reads every byte) cannot
    // send a read past the text.
    uint64_t off = std::min(SuffixAt(i), num_symbols_ - 1) * symbol_bytes_;
    return CompareSuffixToQuery(text_ + off, tbytes - off, q, qlen, skip, lcp);
  };
  // Lower bound: first suffix >= query. Suffixes strictly between the two
  // bounds share min(lcp_lo, lcp_hi) bytes with the query (sortedness), so
  // those bytes are skipped. Probes that land after every match (c > 0)
  // also bound the upper-bound search, which then starts from there.
  size_t lcp_lo = 0, lcp_hi = 0;
  uint64_t L = within.lo, R = within.hi;
  uint64_t ub = within.hi;
  size_t lcp_ub = 0;
  bool r_matches = false;  // the probe that last set R started with the query
  while (L < R) {
    uint64_t mid = L + (R - L) / 2;
    size_t l;
    int c = cmp(mid, std::min(lcp_lo, lcp_hi), &l);
    if (c < 0) {
      L = mid + 1;
      lcp_lo = l;
    } else {
      R = mid;
      lcp_hi = l;
      r_matches = c == 0;
      if (c > 0) { ub = mid; lcp_ub = l; }
    }
  }
  const uint64_t first = L;
  if (first == within.hi || !r_matches) return SaRange{first, first};
  // Upper bound: first suffix in (first, ub) that orders after every string
  // starting with q; suffix `first` matched, so lcp_lo starts at qlen.
  L = first + 1;
  R = ub;
  lcp_lo = qlen;
  lcp_hi = lcp_ub;
  while (L < R) {
    uint64_t mid = L + (R - L) / 2;
    size_t l;
    int c = cmp(mid, std::min(lcp_lo, lcp_hi), &l);
    if (c <= 0) { L = mid + 1; lcp_lo = l; } else { R = mid; lcp_hi = l; }
  }
  return SaRange{first, L};
}

// Symbols before the first separator among the first `limit` symbols at pos.
static uint64_t SymbolsBeforeSeparator(const uint8_t* text, uint64_t pos, uint64_t limit, uint32_t sb,
                                       uint64_t sep) {
  const uint8_t* p = text + pos * sb;
  if (sb == 1) {
    const void* hit = std::memchr(p, static_cast<int>(sep), limit);
    return hit ? static_cast<uint64_t>(static_cast<const uint8_t*>(hit) - p) : limit;
  }
  for (uint64_t i = 0; i < limit; ++i, p += sb) {
    uint64_t v = 0;
    for (uint32_t k = 0; k < sb; ++k) v = (v << 8) | p[k];
    if (v == sep) return i;
  }
  return limit;
}

uint64_t SaShard::LcpAdjacent(uint64_t i) const {
  uint64_t p = std::min(SuffixAt(i - 1), num_symbols_ - 1), r = std::min(SuffixAt(i), num_symbols_ - 1);
  uint64_t avail = num_symbols_ - std::max(p, r);
  uint64_t m = Mismatch(text_ + p * symbol_bytes_, text_ + r * symbol_bytes_, avail * symbol_bytes_) / symbol_bytes_;
  return SymbolsBeforeSeparator(text_, p, m, symbol_bytes_, separator_);
}

uint64_t SaShard::MatchLength(uint64_t pos, std::string_view query) const {
  if (pos >= num_symbols_) return 0;
  uint64_t avail = (num_symbols_ - pos) * symbol_bytes_;
  uint64_t n = std::min<uint64_t>(avail, query.size());
  uint64_t m = Mismatch(text_ + pos * symbol_bytes_, reinterpret_cast<const uint8_t*>(query.data()), n) / symbol_bytes_;
  return SymbolsBeforeSeparator(text_, pos, m, symbol_bytes_, separator_);
}

uint64_t SaShard::LocalDocOf(uint64_t pos) const {
  const uint64_t* end = doc_starts_ + num_docs_ + 1;
  const uint64_t* it = std::upper_bound(doc_starts_, end, pos);
  uint64_t d = static_cast<uint64_t>(it - doc_starts_);
  // d is in [1, num_docs] for an intact table; clamp for a damaged one.
  return d == 0 ? 0 : std::min(d - 1, num_docs_ - 1);
}

DocPosition SaShard::Locate(uint64_t pos) const {
  uint64_t d = LocalDocOf(pos);
  return DocPosition{first_doc_ + d, pos - doc_starts_[d]};
}

// ---- the index ------------------------------------------------------------------

Status SuffixArrayIndex::Open(const DocStore* store, std::string_view name, std::unique_ptr<SuffixArrayIndex>* out) {
  DEDUPDB_RETURN_IF_ERROR(Open(store->env(), store->layout().root(), store->catalog(), name, out));
  const SaManifest& m = (*out)->manifest();
  if (!m.token_mode && m.num_docs > store->num_docs()) {
    out->reset();
    return Status::InvalidArgument("suffix-array index '" + std::string(name) +
                                   "' covers more documents than this store snapshot holds; reopen the store");
  }
  return Status::OK();
}

Status SuffixArrayIndex::Open(Env* env, const std::string& store_dir, Catalog* catalog, std::string_view name,
                              std::unique_ptr<SuffixArrayIndex>* out) {
  std::unique_ptr<SuffixArrayIndex> idx(new SuffixArrayIndex());
  {
    std::unique_ptr<CatalogReadTxn> txn;
    DEDUPDB_RETURN_IF_ERROR(catalog->BeginRead(&txn));
    std::string_view value;
    Status st = txn->Get(Table::kIndexes, SaCatalogKey(name), &value);
    if (st.IsNotFound()) {
      std::string others;
      (void)txn->Scan(Table::kIndexes, "sa/", [&](std::string_view key, std::string_view) {
        if (key.substr(0, 3) != "sa/") return false;
        others += (others.empty() ? "" : ", ") + std::string(key.substr(3));
        return true;
      });
      return Status::NotFound("store " + store_dir + " has no suffix-array index '" + std::string(name) +
                              "' (build it with: dedupdb index-sa " + store_dir + " --name " + std::string(name) +
                              (others.empty() ? ")" : "; existing: " + others + ", pick one with --name)"));
    }
    DEDUPDB_RETURN_IF_ERROR(st);
    DEDUPDB_RETURN_IF_ERROR(SaManifest::Decode(value, &idx->manifest_));
  }
  StoreLayout layout(store_dir);
  uint64_t next_doc = 0;
  for (const SaShardInfo& info : idx->manifest_.shards) {
    if (info.first_doc != next_doc) return Status::Corruption("suffix-array manifest: shards do not cover consecutive docs");
    next_doc += info.num_docs;
    std::unique_ptr<SaShard> shard;
    DEDUPDB_RETURN_IF_ERROR(SaShard::Open(env, layout.Absolute(info.text_path), layout.Absolute(info.sa_path), info,
                                          idx->manifest_.symbol_bytes, &shard));
    idx->shards_.push_back(std::move(shard));
  }
  if (next_doc != idx->manifest_.num_docs) return Status::Corruption("suffix-array manifest: doc count mismatch");
  *out = std::move(idx);
  return Status::OK();
}

size_t SuffixArrayIndex::ShardOfDoc(uint64_t doc_id) const {
  size_t lo = 0, hi = shards_.size();
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (shards_[mid]->first_doc() <= doc_id) lo = mid; else hi = mid;
  }
  return lo;
}

Status SuffixArrayIndex::ValidateQuery(std::string_view query) const {
  if (query.size() % symbol_bytes() != 0) {
    return Status::InvalidArgument("query of " + std::to_string(query.size()) + " bytes is not a whole number of " +
                                   std::to_string(symbol_bytes()) + "-byte symbols");
  }
  return Status::OK();
}

bool SuffixArrayIndex::ContainsSeparator(std::string_view query) const {
  const uint32_t sb = symbol_bytes();
  if (sb == 1) return query.find(static_cast<char>(kByteSeparator)) != std::string_view::npos;
  for (size_t i = 0; i + sb <= query.size(); i += sb) {
    uint64_t v = 0;
    for (uint32_t k = 0; k < sb; ++k) v = (v << 8) | static_cast<uint8_t>(query[i + k]);
    if (v == separator()) return true;
  }
  return false;
}

Status EncodeTokens(const std::vector<uint64_t>& tokens, uint32_t symbol_bytes, std::string* out) {
  out->clear();
  out->reserve(tokens.size() * symbol_bytes);
  for (uint64_t t : tokens) {
    if (symbol_bytes < 8 && (t >> (8 * symbol_bytes)) != 0) {
      return Status::InvalidArgument("token id " + std::to_string(t) + " does not fit in " +
                                     std::to_string(symbol_bytes) + " bytes");
    }
    for (int k = static_cast<int>(symbol_bytes) - 1; k >= 0; --k) out->push_back(static_cast<char>((t >> (8 * k)) & 0xFF));
  }
  return Status::OK();
}

std::vector<uint64_t> DecodeTokens(std::string_view bytes, uint32_t symbol_bytes) {
  std::vector<uint64_t> out;
  for (size_t i = 0; i + symbol_bytes <= bytes.size(); i += symbol_bytes) {
    uint64_t v = 0;
    for (uint32_t k = 0; k < symbol_bytes; ++k) v = (v << 8) | static_cast<uint8_t>(bytes[i + k]);
    out.push_back(v);
  }
  return out;
}

}  // namespace dedupdb
