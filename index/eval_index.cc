// Builds and opens the eval n-gram index. The build is in memory (eval sets
// are megabytes, not terabytes); the file is written once, atomically.
#include "index/eval_index.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "storage/coding.h"

namespace dedupdb {
namespace {

constexpr size_t kTocWords = 16;
constexpr size_t kSetRecord = 32;
constexpr size_t kExampleRecord = 40;

// TOC slots (u64 byte offsets into the body).
enum Toc {
  kTocSets, kTocExamples, kTocKeys, kTocPostOffsets, kTocPostings, kTocDir,
  kTocPrefixKeys, kTocPrefixMasks, kTocFilter, kTocStrings, kTocStringsLen, kTocPrefixFilterLog2,
};
// Envelope params.
enum Param {
  kParamN, kParamMode, kParamSets, kParamExamples, kParamKeys, kParamPostings,
  kParamPrefixes, kParamPrefixLen, kParamDirBits, kParamFilterLog2,
};

void PutU32(std::string* s, uint32_t v) { s->append(reinterpret_cast<const char*>(&v), 4); }
void PutU64(std::string* s, uint64_t v) { s->append(reinterpret_cast<const char*>(&v), 8); }
uint32_t GetU32(const char* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
uint64_t GetU64(const char* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }

template <typename T>
std::string_view Bytes(const std::vector<T>& v) {
  return std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

unsigned CeilLog2(uint64_t x) { return x <= 1 ? 0 : 64 - std::countl_zero(x - 1); }

struct GramEntry {
  uint64_t hash;
  uint32_t example;
  bool operator<(const GramEntry& o) const { return hash != o.hash ? hash < o.hash : example < o.example; }
  bool operator==(const GramEntry& o) const { return hash == o.hash && example == o.example; }
};

}  // namespace

Status BuildEvalIndex(Env* env, const std::vector<EvalSetSpec>& sets, const EvalIndexOptions& options,
                      const std::string& out_path, EvalIndexBuildStats* stats) {
  if (options.n < 1 || options.n > kMaxEvalNgram)
    return Status::InvalidArgument("n-gram size must be 1.." + std::to_string(kMaxEvalNgram));
  if (sets.empty()) return Status::InvalidArgument("no eval sets given");
  EvalIndexBuildStats st;
  const unsigned n = options.n;
  WordTokenizer tokenizer(options.mode);
  std::string display;  // token mode: the example's ids joined by " "

  std::string strings;
  std::string set_records, example_records;
  std::vector<GramEntry> grams;
  struct Short {
    uint32_t example;
    std::vector<uint64_t> hashes;
  };
  std::vector<Short> shorts;
  std::vector<uint32_t> example_words;
  std::vector<Word> words;
  std::vector<uint64_t> hashes;
  std::vector<uint64_t> rolling, prefix_rolling;  // filter keys
  uint32_t num_examples = 0;

  for (size_t s = 0; s < sets.size(); ++s) {
    const EvalSetSpec& spec = sets[s];
    for (size_t t = 0; t < s; ++t) {
      if (sets[t].name == spec.name) return Status::InvalidArgument("eval set name \"" + spec.name + "\" given twice");
    }
    uint32_t first = num_examples;
    std::string fields;
    for (const std::string& f : spec.fields) fields += (fields.empty() ? "" : ",") + f;
    uint64_t name_off = strings.size();
    strings += spec.name;
    uint64_t fields_off = strings.size();
    strings += fields;
    EvalSetSpec token_spec;
    if (options.tokens) {
      token_spec = spec;
      token_spec.tokens = true;
    }
    Status rs = ReadEvalSet(env, options.tokens ? token_spec : spec, [&](uint64_t, std::string_view id, std::string_view text) -> Status {
      if (options.tokens) {
        const size_t count = text.size() / 4;
        std::vector<uint32_t> ids(count);
        std::memcpy(ids.data(), text.data(), count * 4);
        TokenWords(ids.data(), count, &words);
        display.clear();
        for (uint32_t t : ids) {
          if (!display.empty()) display.push_back(' ');
          display += std::to_string(t);
        }
        text = display;
      } else {
        tokenizer.Tokenize(text, &words);
      }
      if (words.empty()) {
        ++st.empty_examples;
        return Status::OK();
      }
      if (num_examples == UINT32_MAX - 1) return Status::InvalidArgument("too many eval examples");
      uint32_t ex = num_examples++;
      hashes.resize(words.size());
      for (size_t i = 0; i < words.size(); ++i) hashes[i] = words[i].hash;
      if (words.size() >= n) {
        for (size_t i = 0; i + n <= hashes.size(); ++i) {
          grams.push_back({HashNgram(hashes.data() + i, n), ex});
          rolling.push_back(RollingNgramHash(hashes.data() + i, n));
        }
      } else {
        grams.push_back({HashNgram(hashes.data(), hashes.size()), ex});
        shorts.push_back({ex, hashes});
      }
      example_words.push_back(static_cast<uint32_t>(std::min<size_t>(words.size(), UINT32_MAX)));
      // Example record; num_grams (offset 8) is patched after dedup.
      PutU32(&example_records, static_cast<uint32_t>(s));
      PutU32(&example_records, example_words.back());
      PutU32(&example_records, 0);
      PutU32(&example_records, static_cast<uint32_t>(id.size()));
      PutU64(&example_records, strings.size());
      strings.append(id);
      PutU64(&example_records, strings.size());
      PutU64(&example_records, text.size());
      strings.append(text);
      return Status::OK();
    });
    DEDUPDB_RETURN_IF_ERROR(rs.WithContext("eval set " + spec.name));
    PutU64(&set_records, name_off);
    PutU32(&set_records, static_cast<uint32_t>(spec.name.size()));
    PutU32(&set_records, static_cast<uint32_t>(fields.size()));
    PutU64(&set_records, fields_off);
    PutU32(&set_records, first);
    PutU32(&set_records, num_examples - first);
  }
  st.sets = sets.size();
  st.examples = num_examples;
  st.short_examples = shorts.size();

  // Distinct (gram, example) pairs -> sorted keys + postings.
  std::sort(grams.begin(), grams.end());
  grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
  std::vector<uint32_t> grams_per_example(num_examples, 0);
  std::vector<uint64_t> keys;
  std::vector<uint32_t> post_offsets, postings;
  postings.reserve(grams.size());
  for (size_t i = 0; i < grams.size(); ++i) {
    if (i == 0 || grams[i].hash != grams[i - 1].hash) {
      keys.push_back(grams[i].hash);
      post_offsets.push_back(static_cast<uint32_t>(postings.size()));
    }
    postings.push_back(grams[i].example);
    ++grams_per_example[grams[i].example];
  }
  post_offsets.push_back(static_cast<uint32_t>(postings.size()));
  if (grams.size() >= UINT32_MAX) return Status::InvalidArgument("eval index too large (>= 2^32 postings)");
  std::vector<GramEntry>().swap(grams);
  for (uint32_t e = 0; e < num_examples; ++e) {
    uint32_t v = grams_per_example[e];
    std::memcpy(&example_records[e * kExampleRecord + 8], &v, 4);
  }

  // Short-example prefixes: p = the shortest short example's length.
  unsigned prefix_len = 0;
  std::vector<std::pair<uint64_t, uint64_t>> prefixes;
  if (!shorts.empty()) {
    prefix_len = n;
    for (const Short& sh : shorts) prefix_len = std::min<unsigned>(prefix_len, sh.hashes.size());
    for (const Short& sh : shorts) {
      prefixes.push_back({HashNgram(sh.hashes.data(), prefix_len), uint64_t{1} << sh.hashes.size()});
      prefix_rolling.push_back(RollingNgramHash(sh.hashes.data(), prefix_len));
    }
    std::sort(prefixes.begin(), prefixes.end());
    size_t out = 0;
    for (size_t i = 0; i < prefixes.size(); ++i) {
      if (out > 0 && prefixes[out - 1].first == prefixes[i].first) prefixes[out - 1].second |= prefixes[i].second;
      else prefixes[out++] = prefixes[i];
    }
    prefixes.resize(out);
  }
  std::vector<uint64_t> prefix_keys, prefix_masks;
  for (const auto& p : prefixes) {
    prefix_keys.push_back(p.first);
    prefix_masks.push_back(p.second);
  }

  // Directory on the top bits of the key.
  unsigned dir_bits = std::clamp<unsigned>(CeilLog2(keys.size()), 1, 30);
  std::vector<uint32_t> dir((size_t{1} << dir_bits) + 1);
  {
    size_t k = 0;
    for (size_t b = 0; b < (size_t{1} << dir_bits); ++b) {
      while (k < keys.size() && (keys[k] >> (64 - dir_bits)) < b) ++k;
      dir[b] = static_cast<uint32_t>(k);
    }
    dir.back() = static_cast<uint32_t>(keys.size());
  }
  // Blocked Bloom filters over the rolling hashes of the grams and of the
  // prefixes (three bits per entry, all in one 64-bit word); stored one after
  // the other in the filter section. The gram filter gets ~12 bits per entry
  // (~1% false positives; megabytes), the prefix filter, small enough to
  // stay in L1 anyway, ~32 (over the corpus 0.05% of windows pass instead of
  // 1.15%: each costs a hash and a binary search).
  auto build_filter = [](std::vector<uint64_t>& keys_in, size_t bits_per_key, unsigned* log2_out) {
    std::sort(keys_in.begin(), keys_in.end());
    keys_in.erase(std::unique(keys_in.begin(), keys_in.end()), keys_in.end());
    unsigned log2 = std::clamp<unsigned>(CeilLog2(keys_in.size() * bits_per_key), 12, 34);
    std::vector<uint64_t> f((size_t{1} << log2) / 64, 0);
    for (uint64_t r : keys_in) {
      uint64_t m = RollingFilterMix(r);
      f[m >> (64 - (log2 - 6))] |= FilterBits(m);
    }
    std::vector<uint64_t>().swap(keys_in);
    *log2_out = log2;
    return f;
  };
  unsigned filter_log2 = 0, prefix_filter_log2 = 0;
  std::vector<uint64_t> filter = build_filter(rolling, 12, &filter_log2);
  std::vector<uint64_t> prefix_filter = build_filter(prefix_rolling, 32, &prefix_filter_log2);
  filter.insert(filter.end(), prefix_filter.begin(), prefix_filter.end());

  // Write: TOC, then 8-aligned sections.
  std::string tmp = out_path + ".tmp";
  std::unique_ptr<FileBuilder> fb;
  DEDUPDB_RETURN_IF_ERROR(FileBuilder::Create(env, tmp, FileKind::kEvalIndex, kEvalIndexVersion, &fb));
  std::vector<std::string_view> sections = {
      set_records, example_records, Bytes(keys), Bytes(post_offsets), Bytes(postings), Bytes(dir),
      Bytes(prefix_keys), Bytes(prefix_masks), Bytes(filter), strings};
  std::vector<uint64_t> toc(kTocWords, 0);
  uint64_t off = kTocWords * 8;
  for (size_t i = 0; i < sections.size(); ++i) {
    toc[i] = off;
    off += (sections[i].size() + 7) / 8 * 8;
  }
  toc[kTocStringsLen] = strings.size();
  toc[kTocPrefixFilterLog2] = prefix_filter_log2;
  Status s = fb->Append(Bytes(toc));
  for (size_t i = 0; s.ok() && i < sections.size(); ++i) {
    s = fb->Append(sections[i]);
    if (s.ok()) s = fb->AlignTo(8);
  }
  fb->SetParam(kParamN, n);
  fb->SetParam(kParamMode, options.tokens ? 2 : options.mode == NormalizationMode::kLmEval ? 1 : 0);
  fb->SetParam(kParamSets, sets.size());
  fb->SetParam(kParamExamples, num_examples);
  fb->SetParam(kParamKeys, keys.size());
  fb->SetParam(kParamPostings, postings.size());
  fb->SetParam(kParamPrefixes, prefix_keys.size());
  fb->SetParam(kParamPrefixLen, prefix_len);
  fb->SetParam(kParamDirBits, dir_bits);
  fb->SetParam(kParamFilterLog2, filter_log2);
  if (s.ok()) s = fb->Finish();
  if (!s.ok()) {
    fb->Abandon();
    return s;
  }
  st.file_bytes = kFileHeaderSize + fb->body_size();
  fb.reset();
  DEDUPDB_RETURN_IF_ERROR(env->RenameFile(tmp, out_path));
  std::string dir_name = DirName(out_path);
  DEDUPDB_RETURN_IF_ERROR(env->SyncDir(dir_name.empty() ? "." : dir_name));
  st.grams = keys.size();
  st.postings = postings.size();
  if (stats) *stats = st;
  return Status::OK();
}

Status EvalIndex::Open(Env* env, const std::string& path, std::unique_ptr<EvalIndex>* out) {
  std::unique_ptr<EvalIndex> idx(new EvalIndex());
  DEDUPDB_RETURN_IF_ERROR(EnvelopedFile::Open(env, path, FileKind::kEvalIndex, kEvalIndexVersion, &idx->file_));
  DEDUPDB_RETURN_IF_ERROR(idx->file_->VerifyBody());
  const EnvelopedFile& f = *idx->file_;
  std::string_view body = f.body();
  auto corrupt = [&](const std::string& what) { return Status::Corruption(path + ": eval index: " + what); };
  if (f.param(kParamN) < 1 || f.param(kParamN) > kMaxEvalNgram) return corrupt("bad n");
  if (f.param(kParamMode) > (f.header().version >= 2 ? 2 : 1)) return corrupt("bad normalisation mode");
  if (f.header().version < 3 && f.param(kParamMode) != 2)
    return Status::NotSupported(path + ": eval index format version " + std::to_string(f.header().version) +
                                " was built with the old word hash (before version 3); rebuild it with `dedupdb decon index`");
  idx->n_ = static_cast<unsigned>(f.param(kParamN));
  idx->mode_ = f.param(kParamMode) == 1 ? NormalizationMode::kLmEval : NormalizationMode::kWords;
  idx->token_mode_ = f.param(kParamMode) == 2;
  idx->num_sets_ = static_cast<uint32_t>(f.param(kParamSets));
  idx->num_examples_ = static_cast<uint32_t>(f.param(kParamExamples));
  idx->num_keys_ = f.param(kParamKeys);
  idx->num_postings_ = f.param(kParamPostings);
  idx->num_prefixes_ = f.param(kParamPrefixes);
  idx->prefix_len_ = static_cast<unsigned>(f.param(kParamPrefixLen));
  idx->dir_bits_ = static_cast<unsigned>(f.param(kParamDirBits));
  unsigned filter_log2 = static_cast<unsigned>(f.param(kParamFilterLog2));
  if (idx->dir_bits_ < 1 || idx->dir_bits_ > 30 || filter_log2 < 12 || filter_log2 > 34 ||
      idx->prefix_len_ >= idx->n_ + (idx->num_prefixes_ == 0))
    return corrupt("bad parameters");
  if (body.size() < kTocWords * 8) return corrupt("truncated table of contents");
  uint64_t toc[kTocWords];
  std::memcpy(toc, body.data(), sizeof(toc));
  const uint64_t prefix_filter_log2 = toc[kTocPrefixFilterLog2];
  if (prefix_filter_log2 < 12 || prefix_filter_log2 > 34) return corrupt("bad prefix filter size");
  const uint64_t sizes[] = {
      uint64_t{idx->num_sets_} * kSetRecord, uint64_t{idx->num_examples_} * kExampleRecord, idx->num_keys_ * 8,
      (idx->num_keys_ + 1) * 4, idx->num_postings_ * 4, ((uint64_t{1} << idx->dir_bits_) + 1) * 4,
      idx->num_prefixes_ * 8, idx->num_prefixes_ * 8, ((uint64_t{1} << filter_log2) + (uint64_t{1} << prefix_filter_log2)) / 8, toc[kTocStringsLen]};
  for (size_t i = 0; i < 10; ++i) {
    if (toc[i] % 8 != 0 || toc[i] > body.size() || sizes[i] > body.size() - toc[i])
      return corrupt("section " + std::to_string(i) + " out of bounds");
  }
  const char* b = body.data();
  idx->sets_ = b + toc[kTocSets];
  idx->examples_ = b + toc[kTocExamples];
  idx->keys_ = reinterpret_cast<const uint64_t*>(b + toc[kTocKeys]);
  idx->post_offsets_ = reinterpret_cast<const uint32_t*>(b + toc[kTocPostOffsets]);
  idx->postings_ = reinterpret_cast<const uint32_t*>(b + toc[kTocPostings]);
  idx->dir_ = reinterpret_cast<const uint32_t*>(b + toc[kTocDir]);
  idx->prefix_keys_ = reinterpret_cast<const uint64_t*>(b + toc[kTocPrefixKeys]);
  idx->prefix_masks_ = reinterpret_cast<const uint64_t*>(b + toc[kTocPrefixMasks]);
  const uint64_t* filters = reinterpret_cast<const uint64_t*>(b + toc[kTocFilter]);
  idx->gram_filter_ = Filter{filters, 64 - (filter_log2 - 6)};
  idx->prefix_filter_ = Filter{filters + (uint64_t{1} << filter_log2) / 64, static_cast<unsigned>(64 - (prefix_filter_log2 - 6))};
  idx->strings_ = std::string_view(b + toc[kTocStrings], toc[kTocStringsLen]);
  // Cross-checks that make later unchecked reads safe.
  if (idx->post_offsets_[idx->num_keys_] != idx->num_postings_) return corrupt("postings count mismatch");
  if (idx->dir_[uint64_t{1} << idx->dir_bits_] != idx->num_keys_) return corrupt("directory mismatch");
  for (uint64_t i = 0; i < idx->num_postings_; ++i) {
    if (idx->postings_[i] >= idx->num_examples_) return corrupt("posting out of range");
  }
  for (uint32_t i = 0; i < idx->num_sets_; ++i) {
    const char* r = idx->sets_ + i * kSetRecord;
    if (GetU64(r) + GetU32(r + 8) > idx->strings_.size() || GetU64(r + 16) + GetU32(r + 12) > idx->strings_.size() ||
        uint64_t{GetU32(r + 24)} + GetU32(r + 28) > idx->num_examples_)
      return corrupt("bad set record");
  }
  for (uint32_t i = 0; i < idx->num_examples_; ++i) {
    const char* r = idx->examples_ + i * kExampleRecord;
    if (GetU32(r) >= idx->num_sets_ || GetU64(r + 16) + GetU32(r + 12) > idx->strings_.size() ||
        GetU64(r + 24) + GetU64(r + 32) > idx->strings_.size())
      return corrupt("bad example record");
  }
  // The key table is scanned in order; hint the kernel it is all needed.
  f.map().Advise(MappedFile::Access::kWillNeed);
  *out = std::move(idx);
  return Status::OK();
}

EvalSetInfo EvalIndex::set(uint32_t i) const {
  const char* r = sets_ + uint64_t{i} * kSetRecord;
  return EvalSetInfo{strings_.substr(GetU64(r), GetU32(r + 8)), strings_.substr(GetU64(r + 16), GetU32(r + 12)),
                     GetU32(r + 24), GetU32(r + 28)};
}

EvalExampleInfo EvalIndex::example(uint32_t i) const {
  const char* r = examples_ + uint64_t{i} * kExampleRecord;
  return EvalExampleInfo{GetU32(r), GetU32(r + 4), GetU32(r + 8), strings_.substr(GetU64(r + 16), GetU32(r + 12)),
                         strings_.substr(GetU64(r + 24), GetU64(r + 32))};
}

void EvalIndex::ExampleWords(uint32_t example, std::vector<Word>* out) const {
  std::string_view text = this->example(example).text;
  if (!token_mode_) {
    WordTokenizer(mode_).Tokenize(text, out);
    return;
  }
  out->clear();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    uint64_t v = 0;
    for (size_t i = pos; i < end; ++i) v = v * 10 + static_cast<unsigned>(text[i] - '0');
    out->push_back(Word{HashTokenId(static_cast<uint32_t>(v)), static_cast<uint32_t>(pos), static_cast<uint32_t>(end)});
    pos = end + 1;
  }
}

uint32_t EvalIndex::FindGram(uint64_t hash) const {
  uint64_t b = hash >> (64 - dir_bits_);
  for (uint32_t k = dir_[b], end = dir_[b + 1]; k < end; ++k) {
    if (keys_[k] == hash) return k;
    if (keys_[k] > hash) break;
  }
  return kNotFound;
}

uint64_t EvalIndex::ShortLengthsForPrefix(uint64_t prefix_hash) const {
  const uint64_t* end = prefix_keys_ + num_prefixes_;
  const uint64_t* it = std::lower_bound(prefix_keys_, end, prefix_hash);
  return (it != end && *it == prefix_hash) ? prefix_masks_[it - prefix_keys_] : 0;
}

}  // namespace dedupdb
