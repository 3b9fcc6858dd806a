// Exact-substring dedup (query/exact_dedup.h) against a brute-force oracle:
// every k-window of every document is put in a hash map keyed by its bytes,
// windows seen >= 2 times (self) or present in the other corpus (across) are
// marked, and the marks are unioned into ranges. Suffix-array shards for the
// merge are built here with libdivsufsort, so the merge is tested on shard
// layouts the index builder may never produce (one doc per shard, separators
// or none, 4/5/8-byte pointers).
#include <divsufsort64.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "query/exact_dedup.h"
#include "query/exact_dedup_job.h"
#include "query/range_list.h"
#include "storage/coding.h"
#include "storage/env.h"
#include "storage/fault_injection_env.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

using Docs = std::vector<std::string>;

// ---- the oracle -------------------------------------------------------------

RangeList OracleSelf(const Docs& docs, uint64_t k, bool keep_first) {
  // Insertion order is (doc, offset) order, so occ[0] is the first occurrence.
  std::unordered_map<std::string_view, std::vector<std::pair<uint64_t, uint64_t>>> windows;
  for (uint64_t d = 0; d < docs.size(); ++d) {
    std::string_view s = docs[d];
    for (uint64_t off = 0; off + k <= s.size(); ++off) windows[s.substr(off, k)].emplace_back(d, off);
  }
  RangeList r;
  for (const auto& [w, occ] : windows) {
    if (occ.size() < 2) continue;
    for (size_t i = keep_first ? 1 : 0; i < occ.size(); ++i) r.Add(occ[i].first, occ[i].second, occ[i].second + k);
  }
  r.Normalize();
  return r;
}

RangeList OracleAcross(const Docs& docs, const Docs& other, uint64_t k) {
  std::unordered_set<std::string_view> seen;
  for (const std::string& s : other)
    for (uint64_t off = 0; off + k <= s.size(); ++off) seen.insert(std::string_view(s).substr(off, k));
  RangeList r;
  for (uint64_t d = 0; d < docs.size(); ++d) {
    std::string_view s = docs[d];
    for (uint64_t off = 0; off + k <= s.size(); ++off)
      if (seen.count(s.substr(off, k))) r.Add(d, off, off + k);
  }
  r.Normalize();
  return r;
}

// ---- shard fixtures -----------------------------------------------------------

struct ShardedCorpus {
  std::vector<std::string> texts;
  std::vector<std::string> sas;
  TableCorpusMap map;
  SuffixCorpus corpus;
};

// Splits docs into `shards` runs of consecutive documents, optionally with a
// 0xff separator after each document, and suffix-sorts each run.
void BuildShards(const Docs& docs, size_t shards, bool separators, unsigned width, ShardedCorpus* out) {
  shards = std::max<size_t>(1, std::min(shards, docs.size()));
  uint64_t pos = 0;
  std::vector<uint64_t> bases;
  for (size_t s = 0; s < shards; ++s) {
    size_t lo = docs.size() * s / shards, hi = docs.size() * (s + 1) / shards;
    std::string text;
    bases.push_back(pos);
    for (size_t d = lo; d < hi; ++d) {
      out->map.Add(d, pos + text.size(), docs[d].size());
      text += docs[d];
      if (separators) text.push_back('\xff');
    }
    pos += text.size() + 3;  // gaps between shards: positions that belong to no doc
    std::vector<saidx64_t> sa(text.size());
    if (!text.empty()) divsufsort64(reinterpret_cast<const sauchar_t*>(text.data()), sa.data(), text.size());
    std::string packed(sa.size() * width, '\0');
    for (size_t i = 0; i < sa.size(); ++i) EncodeUnsigned(&packed[i * width], sa[i], width);
    out->texts.push_back(std::move(text));
    out->sas.push_back(std::move(packed));
  }
  for (size_t s = 0; s < shards; ++s) {
    SuffixRun r;
    r.text = reinterpret_cast<const uint8_t*>(out->texts[s].data());
    r.text_size = out->texts[s].size();
    r.sa = out->sas[s].data();
    r.sa_width = width;
    r.sa_size = out->texts[s].size();
    r.global_base = bases[s];
    out->corpus.runs.push_back(r);
  }
  out->corpus.map = &out->map;
  // With separators, also exercise the per-group separator check instead of the map.
  out->corpus.has_separator = separators;
  out->corpus.separator = 0xff;
}

Docs RandomDocs(std::mt19937_64& rng, size_t n, size_t max_len, int alphabet) {
  Docs docs;
  std::uniform_int_distribution<size_t> len(0, max_len);
  for (size_t i = 0; i < n; ++i) {
    std::string s(len(rng), 'a');
    for (char& c : s) c = static_cast<char>('a' + rng() % alphabet);
    // Plant copies of earlier material so long repeats exist, not just short random ones.
    if (i > 0 && rng() % 3 == 0) {
      const std::string& src = docs[rng() % docs.size()];
      if (!src.empty()) {
        size_t b = rng() % src.size(), e = b + rng() % (src.size() - b + 1);
        s.insert(rng() % (s.size() + 1), src.substr(b, e - b));
      }
    }
    if (i > 0 && rng() % 10 == 0) s = docs[rng() % docs.size()];  // exact duplicate doc
    docs.push_back(std::move(s));
  }
  return docs;
}

std::string Describe(const RangeList& r, size_t max = 8) {
  std::string s;
  for (size_t i = 0; i < r.size() && i < max; ++i) {
    const DocRange& x = r.ranges()[i];
    s += "(" + std::to_string(x.doc_id) + ":" + std::to_string(x.begin) + "-" + std::to_string(x.end) + ") ";
  }
  return s + (r.size() > max ? "..." : "") + " [" + std::to_string(r.size()) + " ranges]";
}

// Two runs (methods, thread counts) must give the same ranges, counters and
// top spans.
void ExpectSameOutcome(const RangeList& a, const ExactDedupStats& sa, const RangeList& b, const ExactDedupStats& sb,
                       const std::string& what) {
  EXPECT_EQ(a, b) << what << ": " << Describe(a) << " vs " << Describe(b);
  EXPECT_EQ(sa.repeated_groups, sb.repeated_groups) << what;
  EXPECT_EQ(sa.repeated_windows, sb.repeated_windows) << what;
  EXPECT_EQ(sa.removed_windows, sb.removed_windows) << what;
  EXPECT_EQ(sa.top.size(), sb.top.size()) << what;
  for (size_t i = 0; i < std::min(sa.top.size(), sb.top.size()); ++i) {
    EXPECT_EQ(sa.top[i].count, sb.top[i].count) << what << " top " << i;
    EXPECT_EQ(sa.top[i].position, sb.top[i].position) << what << " top " << i;
    EXPECT_EQ(sa.top[i].length, sb.top[i].length) << what << " top " << i;
    EXPECT_EQ(sa.top[i].text, sb.top[i].text) << what << " top " << i;
  }
}

RangeList RunSelf(const Docs& docs, size_t shards, bool seps, unsigned width, uint64_t k, KeepPolicy keep,
                  uint64_t memory = 64 << 20, const std::string& tmp = "", ExactDedupStats* st_out = nullptr) {
  ShardedCorpus sc;
  BuildShards(docs, shards, seps, width, &sc);
  ExactDedupOptions o;
  o.min_len = k;
  o.keep = keep;
  o.memory_bytes = memory;
  o.tmp_dir = tmp;
  // Text copies: all shards (1), the first half of them (7), none (others).
  uint64_t total = 0;
  for (const auto& t : sc.texts) total += t.size();
  o.text_cache_bytes = shards == 1 ? UINT64_MAX : (shards == 7 ? total / 2 : 0);
  // Both methods, each with one thread and with three (the merge takes
  // turns at key-range partitions cut inside the shards, the anchors method
  // at hash buckets): the same ranges, counters and top spans.
  RangeList r;
  ExactDedupStats st;
  bool first = true;
  for (DedupMethod m : {DedupMethod::kAnchors, DedupMethod::kMerge}) {
    for (unsigned threads : {1u, 3u}) {
      o.method = m;
      o.threads = threads;
      RangeList ri;
      ExactDedupStats sti;
      Status s = FindExactDuplicates(sc.corpus, nullptr, o, &ri, &sti);
      EXPECT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(sti.threads, threads);
      EXPECT_EQ(sti.runs, sc.corpus.runs.size());
      if (m == DedupMethod::kMerge && threads > 1) {
        EXPECT_GT(sti.partitions, 3u);
      }
      if (first) {
        r = ri, st = sti, first = false;
        continue;
      }
      ExpectSameOutcome(ri, sti, r, st,
                        std::string(m == DedupMethod::kMerge ? "merge" : "anchors") + " threads " +
                            std::to_string(threads));
    }
  }
  if (shards == 1 && total > 0) {
    EXPECT_EQ(st.text_cached_bytes, total);
  }
  if (st_out) *st_out = st;
  return r;
}

// Self (other == nullptr) or across dedup at k with the given threads, by
// both methods, which must agree; returns the anchors method's ranges.
RangeList RunWithThreads(const SuffixCorpus& corpus, const SuffixCorpus* other, uint64_t k, unsigned threads) {
  ExactDedupOptions o;
  o.min_len = k;
  o.threads = threads;
  RangeList got[2];
  ExactDedupStats st[2];
  for (int m = 0; m < 2; ++m) {
    o.method = m == 0 ? DedupMethod::kAnchors : DedupMethod::kMerge;
    Status s = FindExactDuplicates(corpus, other, o, &got[m], &st[m]);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(st[m].threads, threads);
  }
  ExpectSameOutcome(got[0], st[0], got[1], st[1], "anchors vs merge");
  return got[0];
}

// ---- tests ------------------------------------------------------------------

TEST(ExactDedup, SelfKeepFirstMatchesOracleOnRandomText) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < static_cast<int>(dedupdb::test::Scaled(4, 2)); ++round) {
    Docs docs = RandomDocs(rng, 60, 200, 2 + round % 3);
    for (uint64_t k : {3, 9, 25}) {
      RangeList want = OracleSelf(docs, k, true);
      for (size_t shards : {1, 2, 7, 60}) {
        for (bool seps : {false, true}) {
          unsigned width = shards == 7 ? 5 : (seps ? 4 : 8);
          RangeList got = RunSelf(docs, shards, seps, width, k, KeepPolicy::kFirst);
          ASSERT_EQ(got, want) << "round " << round << " k=" << k << " shards=" << shards << " seps=" << seps
                               << "\n got  " << Describe(got) << "\n want " << Describe(want);
        }
      }
    }
  }
}

// Token mode: 2-byte big-endian symbols, separator id 0xFFFF after each doc,
// positions and k in tokens. The oracle works on token vectors.
TEST(ExactDedup, TokenSymbolsMatchOracle) {
  std::mt19937_64 rng(21);
  std::vector<std::vector<uint16_t>> tdocs;
  for (int i = 0; i < 50; ++i) {
    std::vector<uint16_t> t(rng() % 120);
    for (auto& x : t) x = static_cast<uint16_t>(rng() % 3 == 0 ? 0x0100 + rng() % 2 : 0x00ff + rng() % 2);
    if (i > 0 && rng() % 4 == 0) {
      const auto& src = tdocs[rng() % tdocs.size()];
      t.insert(t.end(), src.begin(), src.end());
    }
    tdocs.push_back(std::move(t));
  }
  const uint64_t k = 6;
  // Oracle on token windows.
  std::map<std::vector<uint16_t>, std::vector<std::pair<uint64_t, uint64_t>>> windows;
  for (uint64_t d = 0; d < tdocs.size(); ++d)
    for (uint64_t off = 0; off + k <= tdocs[d].size(); ++off)
      windows[std::vector<uint16_t>(tdocs[d].begin() + off, tdocs[d].begin() + off + k)].emplace_back(d, off);
  RangeList want;
  for (const auto& [w, occ] : windows)
    for (size_t i = 1; i < occ.size(); ++i) want.Add(occ[i].first, occ[i].second, occ[i].second + k);
  want.Normalize();
  ASSERT_FALSE(want.empty());

  for (size_t shards : {1, 4}) {
    std::vector<std::string> texts(shards), sas(shards);
    TableCorpusMap map;
    SuffixCorpus corpus;
    uint64_t pos = 0;
    for (size_t s = 0; s < shards; ++s) {
      size_t lo = tdocs.size() * s / shards, hi = tdocs.size() * (s + 1) / shards;
      const uint64_t base = pos;
      std::string& text = texts[s];
      for (size_t d = lo; d < hi; ++d) {
        map.Add(d, base + text.size() / 2, tdocs[d].size());
        for (uint16_t x : tdocs[d]) text += {static_cast<char>(x >> 8), static_cast<char>(x & 0xff)};
        text += "\xff\xff";
      }
      pos += text.size() / 2;
      // Byte suffix array restricted to symbol boundaries is the symbol suffix array.
      std::vector<saidx64_t> sa(text.size());
      divsufsort64(reinterpret_cast<const sauchar_t*>(text.data()), sa.data(), text.size());
      for (saidx64_t v : sa) {
        if (v % 2 != 0) continue;
        char b[4];
        EncodeUnsigned(b, v / 2, 4);
        sas[s].append(b, 4);
      }
      SuffixRun r;
      r.text = reinterpret_cast<const uint8_t*>(text.data());
      r.text_size = text.size() / 2;
      r.sa = sas[s].data();
      r.sa_width = 4;
      r.sa_size = sas[s].size() / 4;
      r.global_base = base;
      corpus.runs.push_back(r);
    }
    corpus.map = &map;
    corpus.symbol_bytes = 2;
    corpus.has_separator = true;
    corpus.separator = 0xffff;
    for (unsigned threads : {1u, 3u}) {
      RangeList got = RunWithThreads(corpus, nullptr, k, threads);
      EXPECT_EQ(got, want) << "shards=" << shards << " threads=" << threads << "\n got  " << Describe(got)
                           << "\n want " << Describe(want);
    }
  }
}

// Long k (> 256 bytes, past the 8-byte key heads, the 16-byte probe and
// several cache lines): planted repeats that differ only ~300 bytes into a
// window must not be joined, equal ones must be found across shards.
TEST(ExactDedup, KeysLongerThanTheGatheredSlotMatchOracle) {
  std::mt19937_64 rng(31);
  Docs docs;
  std::string base(900, 'a');
  for (char& c : base) c = static_cast<char>('a' + rng() % 4);
  for (int i = 0; i < 24; ++i) {
    std::string d = base.substr(rng() % 200, 400 + rng() % 300);
    // Point edits far into the copy: equal first 256+ bytes, different later.
    if (i % 3 == 1 && d.size() > 330) d[300 + rng() % 30] = 'z';
    docs.push_back(d);
  }
  for (uint64_t k : {257, 300, 380}) {
    RangeList want = OracleSelf(docs, k, true);
    ASSERT_FALSE(want.empty()) << k;
    for (size_t shards : {1, 4}) {
      RangeList got = RunSelf(docs, shards, true, 5, k, KeepPolicy::kFirst);
      ASSERT_EQ(got, want) << "k=" << k << " shards=" << shards << "\n got  " << Describe(got) << "\n want "
                           << Describe(want);
    }
  }
}

TEST(ExactDedup, SelfKeepNoneMatchesOracle) {
  std::mt19937_64 rng(7);
  Docs docs = RandomDocs(rng, 80, 150, 3);
  for (uint64_t k : {5, 17}) {
    RangeList want = OracleSelf(docs, k, false);
    for (size_t shards : {1, 3, 80}) {
      RangeList got = RunSelf(docs, shards, false, 4, k, KeepPolicy::kNone);
      ASSERT_EQ(got, want) << "k=" << k << " shards=" << shards;
    }
  }
}

TEST(ExactDedup, EmptyAndShortDocsFindNothingSpurious) {
  Docs docs = {"", "ab", "", "abab", "b", ""};
  for (uint64_t k : {1, 2, 3, 10}) {
    for (size_t shards : {1, 6}) {
      EXPECT_EQ(RunSelf(docs, shards, false, 8, k, KeepPolicy::kFirst), OracleSelf(docs, k, true)) << k;
    }
  }
  // Hand-checked: k=2, "ab" at doc1:0 is first; "ab","ba","ab" in doc 3 repeat it.
  RangeList r = RunSelf(docs, 2, false, 8, 2, KeepPolicy::kFirst);
  RangeList want;
  want.Add(3, 0, 4);
  want.Normalize();
  EXPECT_EQ(r, want) << Describe(r);
}

TEST(ExactDedup, AcrossMatchesOracle) {
  std::mt19937_64 rng(99);
  Docs other = RandomDocs(rng, 40, 200, 3);
  Docs docs = RandomDocs(rng, 50, 200, 3);
  // Plant pieces of the other corpus into this one.
  for (size_t i = 0; i < docs.size(); i += 4) docs[i] += other[i % other.size()].substr(0, 60);
  for (uint64_t k : {6, 20}) {
    RangeList want = OracleAcross(docs, other, k);
    ASSERT_FALSE(want.empty());
    for (size_t shards : {1, 5}) {
      for (size_t oshards : {1, 4}) {
        ShardedCorpus a, b;
        BuildShards(docs, shards, true, 5, &a);
        BuildShards(other, oshards, false, 4, &b);
        for (unsigned threads : {1u, 4u}) {
          RangeList got = RunWithThreads(a.corpus, &b.corpus, k, threads);
          ASSERT_EQ(got, want) << "k=" << k << " shards=" << shards << "/" << oshards << " threads=" << threads
                               << "\n got  " << Describe(got) << "\n want " << Describe(want);
        }
      }
    }
  }
}

TEST(ExactDedup, TinyMemoryBudgetSpillsAndAgrees) {
  std::mt19937_64 rng(5);
  Docs docs = RandomDocs(rng, 200, 300, 2);
  dedupdb::test::TempDir tmp;
  const uint64_t k = 6;
  RangeList want = OracleSelf(docs, k, true);
  ExactDedupStats st;
  RangeList got = RunSelf(docs, 9, false, 5, k, KeepPolicy::kFirst, /*memory=*/1, tmp.path(), &st);
  EXPECT_GT(st.spill_runs, 2u);
  EXPECT_EQ(got, want);
  // Without a spill directory the budget cannot be honoured: a clear error, not a silent truncation.
  ShardedCorpus sc;
  BuildShards(docs, 3, false, 8, &sc);
  ExactDedupOptions o;
  o.min_len = k;
  o.memory_bytes = 1;
  RangeList r;
  Status s = FindExactDuplicates(sc.corpus, nullptr, o, &r, &st);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

TEST(ExactDedup, TopSpansMergeConsecutiveWindows) {
  std::mt19937_64 rng(3);
  std::string boiler(120, 'x');
  for (char& c : boiler) c = static_cast<char>('A' + rng() % 26);  // aperiodic: no repeats inside
  Docs docs;
  for (int i = 0; i < 5; ++i) docs.push_back("doc" + std::to_string(i) + " unique text " + std::to_string(i * 31) + boiler);
  ShardedCorpus sc;
  BuildShards(docs, 2, false, 8, &sc);
  ExactDedupOptions o;
  o.min_len = 30;
  o.top_n = 3;
  RangeList r;
  ExactDedupStats st;
  ASSERT_TRUE(FindExactDuplicates(sc.corpus, nullptr, o, &r, &st).ok());
  ASSERT_FALSE(st.top.empty());
  EXPECT_EQ(st.top[0].count, 5u);
  EXPECT_GE(st.top[0].length, boiler.size());  // the whole boilerplate block, not 30-byte pieces
  EXPECT_NE(st.top[0].text.find(boiler.substr(0, 50)), std::string::npos);
  // Docs 1..4 lose the boilerplate; doc 0 keeps it.
  EXPECT_EQ(r.DocsTouched(), 4u);
}

// The rule (docs/exact_dedup.md): after one pass, no two copies of a k-window
// both lie in text that was contiguous in the input; a second pass can only
// find repeats involving a window that spans a removal point.
TEST(ExactDedup, OutputRepeatsOnlyAcrossCutPoints) {
  std::mt19937_64 rng(11);
  Docs docs = RandomDocs(rng, 80, 250, 3);
  const uint64_t k = 10;
  for (KeepPolicy keep : {KeepPolicy::kFirst, KeepPolicy::kNone}) {
    RangeList r = RunSelf(docs, 4, false, 8, k, keep);
    Docs out;
    std::vector<std::vector<uint32_t>> piece;  // per output byte: index of its surviving piece
    for (uint64_t d = 0; d < docs.size(); ++d) {
      auto [b, e] = r.ForDoc(d);
      std::string o = ApplyRanges(docs[d], b, e);
      // Recompute independently which piece each surviving byte came from.
      std::vector<uint32_t> pc;
      uint32_t id = 0;
      bool prev_removed = false;
      for (uint64_t i = 0; i < docs[d].size(); ++i) {
        bool removed = false;
        for (const DocRange* x = b; x != e; ++x) removed |= (i >= x->begin && i < x->end);
        if (removed) {
          prev_removed = true;
          continue;
        }
        if (prev_removed) ++id;
        prev_removed = false;
        pc.push_back(id);
      }
      ASSERT_EQ(pc.size(), o.size());
      out.push_back(std::move(o));
      piece.push_back(std::move(pc));
    }
    std::unordered_map<std::string_view, int> uncut_copies;
    for (uint64_t d = 0; d < out.size(); ++d) {
      for (uint64_t off = 0; off + k <= out[d].size(); ++off) {
        if (piece[d][off] != piece[d][off + k - 1]) continue;  // spans a cut
        int n = ++uncut_copies[std::string_view(out[d]).substr(off, k)];
        ASSERT_LE(n, 1) << "window at doc " << d << " offset " << off << " repeats uncut text";
      }
    }
  }
}

// Hand-checked line/paragraph widening (the CLI test checks line mode
// against the oracle on random text).
TEST(ExactDedup, WidenToLinesAndParagraphs) {
  const std::string text = "aaa\nbbb\n\nccc\nddd\n\n\neee";
  std::vector<DocRange> spans = {{0, 1, 6}, {0, 20, 22}};
  auto widen = [&](Granularity g, double t) {
    RangeList out;
    WidenToUnits(text, spans.data(), spans.data() + spans.size(), g, t, 0, &out);
    out.Normalize();
    std::vector<std::pair<uint64_t, uint64_t>> v;
    for (const DocRange& r : out.ranges()) v.emplace_back(r.begin, r.end);
    return v;
  };
  using V = std::vector<std::pair<uint64_t, uint64_t>>;
  EXPECT_EQ(widen(Granularity::kLine, 0.5), (V{{0, 4}, {19, 22}}));  // "bbb\n" is exactly 50%: kept
  EXPECT_EQ(widen(Granularity::kLine, 0.0), (V{{0, 8}, {19, 22}}));
  EXPECT_EQ(widen(Granularity::kParagraph, 0.5), (V{{0, 9}, {19, 22}}));  // 5/9 of the first paragraph
  EXPECT_EQ(widen(Granularity::kParagraph, 0.6), (V{{19, 22}}));
  EXPECT_EQ(widen(Granularity::kSpan, 0.9), (V{{1, 6}, {20, 22}}));
  EXPECT_EQ(widen(Granularity::kLine, 1.0), V{});
}

TEST(RangeList, NormalizeMergesAndFileRoundTrips) {
  RangeList r;
  r.Add(7, 10, 20);
  r.Add(3, 5, 6);
  r.Add(7, 15, 30);
  r.Add(7, 30, 31);  // touching: merged
  r.Add(7, 40, 41);
  r.Add(1ull << 40, 1ull << 33, (1ull << 33) + 5);
  r.Normalize();
  ASSERT_TRUE(r.IsNormalized());
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r.ranges()[1], (DocRange{7, 10, 31}));
  EXPECT_EQ(r.BytesRemoved(), 1u + 21 + 1 + 5);
  EXPECT_EQ(r.DocsTouched(), 3u);
  auto [b, e] = r.ForDoc(7);
  EXPECT_EQ(e - b, 2);
  EXPECT_EQ(ApplyRanges("0123456789abcdefghijklmnopqrstuvwxyzABCDEFG", b, e), "0123456789vwxyzABCDFG");

  dedupdb::test::TempDir tmp;
  Env* env = Env::Default();
  RangeListInfo info;
  info.min_len = 50;
  info.mode = 1;
  info.granularity = 2;
  info.threshold = 0.25;
  info.store_docs = 99;
  const std::string path = tmp.Sub("r.ddr");
  ASSERT_TRUE(WriteRangeListFile(env, path, r, info).ok());
  RangeList back;
  RangeListInfo info2;
  Status s = ReadRangeListFile(env, path, &back, &info2);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(back, r);
  EXPECT_EQ(info2.min_len, 50u);
  EXPECT_EQ(info2.mode, 1u);
  EXPECT_EQ(info2.granularity, 2u);
  EXPECT_DOUBLE_EQ(info2.threshold, 0.25);
  EXPECT_EQ(info2.store_docs, 99u);

  // Flip one body byte: the checksum catches it.
  std::string bytes = dedupdb::test::ReadFile(path);
  bytes[bytes.size() - 1] ^= 0x40;
  dedupdb::test::WriteFile(path, bytes);
  s = ReadRangeListFile(env, path, &back, &info2);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  // Truncated: the envelope's size check catches it.
  dedupdb::test::WriteFile(path, bytes.substr(0, bytes.size() - 3));
  EXPECT_FALSE(ReadRangeListFile(env, path, &back, &info2).ok());
}

TEST(ExactDedup, RealTextMatchesOracle) {
  const std::string rel = "corpus/bbc_news.jsonl.zst";
  if (!dedupdb::test::HaveSharedData(rel)) GTEST_SKIP() << "../shared/data/" << rel << " missing";
  auto recs = dedupdb::test::ReadJsonlZstOracle(dedupdb::test::SharedDataDir() + "/" + rel,
                                                dedupdb::test::Scaled(300, 80));
  Docs docs;
  for (auto& r : recs) docs.push_back(std::move(r.text));
  for (uint64_t k : {50, 100}) {
    RangeList want = OracleSelf(docs, k, true);
    ASSERT_FALSE(want.empty()) << "bbc_news has natural duplicates";
    for (size_t shards : {size_t{1}, size_t(k / 10)}) {
      ASSERT_EQ(RunSelf(docs, shards, false, 5, k, KeepPolicy::kFirst), want) << "k=" << k << " shards=" << shards;
    }
  }
}

// ---- end to end through the CLI (store + SA index built by their commands) ----

std::string JsonEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '\n') o += "\\n";
    else if (c == '"') o += "\\\"";
    else if (c == '\\') o += "\\\\";
    else o.push_back(c);
  }
  return o;
}

void WriteJsonl(const std::string& path, const Docs& docs, const std::string& id_prefix) {
  std::string data;
  for (size_t i = 0; i < docs.size(); ++i)
    data += "{\"id\":\"" + id_prefix + std::to_string(i) + "\",\"text\":\"" + JsonEscape(docs[i]) + "\"}\n";
  dedupdb::test::WriteFile(path, data);
}

// Builds a store of docs with an SA index of at most max_shard symbols per shard.
void BuildStore(const dedupdb::test::TempDir& tmp, const std::string& name, const Docs& docs, uint64_t max_shard) {
  using dedupdb::test::RunCommand;
  WriteJsonl(tmp.Sub(name + ".jsonl"), docs, name + "-");
  std::string out, err;
  ASSERT_EQ(RunCommand({dedupdb::test::CliPath(), "-q", "build", tmp.Sub(name), tmp.Sub(name + ".jsonl")}, &out, &err), 0)
      << err;
  ASSERT_EQ(RunCommand({dedupdb::test::CliPath(), "-q", "--json", "index-sa", tmp.Sub(name), "--memory", "64M",
                        "--max-shard-symbols", std::to_string(max_shard)},
                       &out, &err),
            0)
      << err;
}

uint64_t JsonUint(const std::string& json, const std::string& key) {
  size_t p = json.find("\"" + key + "\":");
  if (p == std::string::npos) return UINT64_MAX;
  return std::stoull(json.substr(p + key.size() + 3));
}

TEST(ExactDedupCli, SelfManyShardsRangesAndWrittenCorpusMatchOracle) {
  std::mt19937_64 rng(1234);
  // 400 docs: the anchors method buffers whole intervals, so fewer units
  // than the merge's positions; at 150 docs whether one of the two threads'
  // 1024-unit buffers filled depended on which buckets each thread took.
  // Here one thread alone fills its buffer 7 times, so both methods spill
  // whatever the split.
  Docs docs = RandomDocs(rng, dedupdb::test::Scaled(400, 60), 300, 3);
  for (std::string& d : docs)
    if (d.size() > 40) d[d.size() / 2] = '\n';  // some structure for the writer
  dedupdb::test::TempDir tmp;
  BuildStore(tmp, "s", docs, 900);  // ~30 docs per shard: many cross-shard copies
  const uint64_t k = 12;
  // The anchors method reads the store's segments; the merge, the index's
  // ~30 shards. Both must give the oracle's ranges and written corpus.
  for (const char* method : {"anchors", "merge"}) {
    SCOPED_TRACE(method);
    std::string out, err;
    int rc = dedupdb::test::RunCommand({dedupdb::test::CliPath(), "-q", "--json", "dedup-exact", tmp.Sub("s"), "--min-len",
                                        std::to_string(k), "--memory", "1", "--threads", "2", "--method", method,
                                        "--ranges", tmp.Sub("r.ddr"), "--ranges-jsonl", tmp.Sub("r.jsonl"), "--write",
                                        tmp.Sub("out.jsonl.zst")},
                                       &out, &err);
    ASSERT_EQ(rc, 0) << err;
    if (std::string(method) == "merge") {
      EXPECT_GT(JsonUint(out, "shards"), 5u) << out;
    }
    EXPECT_EQ(JsonUint(out, "threads"), 2u) << out;
    // The position buffer holds at least 1024 entries, so only the
    // full-size fixture (not the sanitizer run's small one) is sure to spill.
    if (!dedupdb::test::SmallScale()) {
      EXPECT_GT(JsonUint(out, "spill_runs"), 0u) << out;
    }

    RangeList got;
    RangeListInfo info;
    Status s = ReadRangeListFile(Env::Default(), tmp.Sub("r.ddr"), &got, &info);
    ASSERT_TRUE(s.ok()) << s.ToString();
    RangeList want = OracleSelf(docs, k, true);
    ASSERT_EQ(got, want) << "\n got  " << Describe(got) << "\n want " << Describe(want);
    EXPECT_EQ(info.min_len, k);
    EXPECT_EQ(info.store_docs, docs.size());
    EXPECT_EQ(JsonUint(out, "removed"), want.BytesRemoved());

    // The written corpus is the input minus the ranges; emptied docs are dropped.
    auto written = dedupdb::test::ReadJsonlZstOracle(tmp.Sub("out.jsonl.zst"));
    size_t w = 0;
    for (uint64_t d = 0; d < docs.size(); ++d) {
      auto [b, e] = want.ForDoc(d);
      std::string expect = ApplyRanges(docs[d], b, e);
      if (expect.empty() && !docs[d].empty()) continue;
      ASSERT_LT(w, written.size());
      EXPECT_EQ(written[w].id, "s-" + std::to_string(d));
      EXPECT_EQ(written[w].text, expect) << "doc " << d;
      ++w;
    }
    EXPECT_EQ(w, written.size());
    // JSONL range list: one line per touched doc.
    std::string jl = dedupdb::test::ReadFile(tmp.Sub("r.jsonl"));
    EXPECT_EQ(static_cast<uint64_t>(std::count(jl.begin(), jl.end(), '\n')), want.DocsTouched());
  }
}

TEST(ExactDedupCli, AcrossStoresMatchesOracle) {
  std::mt19937_64 rng(77);
  Docs other = RandomDocs(rng, 50, 200, 4);
  Docs docs = RandomDocs(rng, 60, 200, 4);
  for (size_t i = 0; i < docs.size(); i += 3) docs[i] += other[i % other.size()];
  dedupdb::test::TempDir tmp;
  BuildStore(tmp, "a", docs, 1500);
  BuildStore(tmp, "b", other, 700);
  const uint64_t k = 15;
  std::string out, err;
  ASSERT_EQ(dedupdb::test::RunCommand({dedupdb::test::CliPath(), "-q", "--json", "dedup-exact", tmp.Sub("a"), "-k",
                                       std::to_string(k), "--across", tmp.Sub("b"), "--ranges", tmp.Sub("r.ddr")},
                                      &out, &err),
            0)
      << err;
  RangeList got;
  ASSERT_TRUE(ReadRangeListFile(Env::Default(), tmp.Sub("r.ddr"), &got, nullptr).ok());
  RangeList want = OracleAcross(docs, other, k);
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(got, want) << "\n got  " << Describe(got) << "\n want " << Describe(want);
}

// Line level: every line is either removed whole (its coverage by the span
// ranges was > threshold) or kept whole - checked line by line against the
// oracle's span ranges.
TEST(ExactDedupCli, LineGranularityDropsOnlyMostlyCoveredLines) {
  std::mt19937_64 rng(8);
  Docs docs = RandomDocs(rng, 80, 400, 3);
  for (std::string& d : docs)
    for (size_t i = 17; i < d.size(); i += 23 + rng() % 40) d[i] = '\n';
  dedupdb::test::TempDir tmp;
  BuildStore(tmp, "s", docs, 100000);
  const uint64_t k = 10;
  const double t = 0.4;
  std::string out, err;
  ASSERT_EQ(dedupdb::test::RunCommand({dedupdb::test::CliPath(), "-q", "dedup-exact", tmp.Sub("s"), "-k",
                                       std::to_string(k), "--granularity", "line", "--threshold", "0.4", "--ranges",
                                       tmp.Sub("r.ddr")},
                                      &out, &err),
            0)
      << err;
  RangeList got;
  RangeListInfo info;
  ASSERT_TRUE(ReadRangeListFile(Env::Default(), tmp.Sub("r.ddr"), &got, &info).ok());
  EXPECT_EQ(info.granularity, 1u);
  RangeList spans = OracleSelf(docs, k, true);
  uint64_t dropped = 0, kept_partial = 0;
  for (uint64_t d = 0; d < docs.size(); ++d) {
    const std::string& text = docs[d];
    std::vector<char> span_cov(text.size(), 0), got_cov(text.size(), 0);
    for (auto [b, e] = spans.ForDoc(d); b != e; ++b) std::fill(&span_cov[b->begin], &span_cov[0] + b->end, 1);
    for (auto [b, e] = got.ForDoc(d); b != e; ++b) std::fill(&got_cov[b->begin], &got_cov[0] + b->end, 1);
    for (size_t ls = 0; ls < text.size();) {
      size_t le = text.find('\n', ls);
      le = le == std::string::npos ? text.size() : le + 1;
      size_t cov = std::count(span_cov.begin() + ls, span_cov.begin() + le, 1);
      size_t gcov = std::count(got_cov.begin() + ls, got_cov.begin() + le, 1);
      bool drop = cov > t * (le - ls);
      ASSERT_EQ(gcov, drop ? le - ls : 0) << "doc " << d << " line at " << ls;
      dropped += drop;
      kept_partial += !drop && cov > 0;
      ls = le;
    }
  }
  EXPECT_GT(dropped, 0u);
  EXPECT_GT(kept_partial, 0u);  // the threshold really decided something
}

TEST(ExactDedupCli, ClearErrors) {
  dedupdb::test::TempDir tmp;
  Docs docs = {"hello world hello world", "hello world again"};
  WriteJsonl(tmp.Sub("d.jsonl"), docs, "d");
  std::string out, err;
  using dedupdb::test::CliPath;
  using dedupdb::test::RunCommand;
  ASSERT_EQ(RunCommand({CliPath(), "-q", "build", tmp.Sub("s"), tmp.Sub("d.jsonl")}, &out, &err), 0) << err;
  // No suffix-array index: the anchors method (default) reads the store; the
  // merge is a runtime error that says what to run.
  ASSERT_EQ(RunCommand({CliPath(), "-q", "--json", "dedup-exact", tmp.Sub("s"), "-k", "5"}, &out, &err), 0) << err;
  EXPECT_EQ(JsonUint(out, "removed"), OracleSelf(docs, 5, true).BytesRemoved()) << out;
  EXPECT_GT(JsonUint(out, "removed"), 0u) << out;
  EXPECT_EQ(RunCommand({CliPath(), "-q", "dedup-exact", tmp.Sub("s"), "--method", "merge"}, &out, &err), 1);
  EXPECT_NE(err.find("index-sa"), std::string::npos) << err;
  EXPECT_EQ(RunCommand({CliPath(), "-q", "dedup-exact", tmp.Sub("s"), "--method", "sort"}, &out, &err), 2);
  EXPECT_EQ(RunCommand({CliPath(), "-q", "dedup-exact", tmp.Sub("s"), "--keep", "some"}, &out, &err), 2);
  EXPECT_EQ(RunCommand({CliPath(), "-q", "dedup-exact", tmp.Sub("s"), "--threshold", "1.5"}, &out, &err), 2);
  EXPECT_EQ(RunCommand({CliPath(), "-q", "dedup-exact", tmp.Sub("nope")}, &out, &err), 1);
  // An output that cannot be created is reported (by name) before any work.
  EXPECT_EQ(RunCommand({CliPath(), "-q", "dedup-exact", tmp.Sub("s"), "--write", tmp.Sub("no/dir/out.jsonl")}, &out, &err),
            1);
  EXPECT_NE(err.find(tmp.Sub("no/dir/out.jsonl")), std::string::npos) << err;
  // A store that changed after indexing is refused rather than half-deduplicated.
  ASSERT_EQ(RunCommand({CliPath(), "-q", "index-sa", tmp.Sub("s"), "--memory", "64M"}, &out, &err), 0) << err;
  WriteJsonl(tmp.Sub("d2.jsonl"), docs, "e");
  ASSERT_EQ(RunCommand({CliPath(), "-q", "build", tmp.Sub("s"), tmp.Sub("d2.jsonl")}, &out, &err), 0) << err;
  EXPECT_EQ(RunCommand({CliPath(), "-q", "dedup-exact", tmp.Sub("s"), "-k", "5", "--method", "merge"}, &out, &err), 1);
  EXPECT_NE(err.find("rebuild"), std::string::npos) << err;
  // The anchors method reads the store itself, so the stale index does not matter.
  ASSERT_EQ(RunCommand({CliPath(), "-q", "--json", "dedup-exact", tmp.Sub("s"), "-k", "5"}, &out, &err), 0) << err;
  Docs both = docs;
  both.insert(both.end(), docs.begin(), docs.end());
  EXPECT_EQ(JsonUint(out, "removed"), OracleSelf(both, 5, true).BytesRemoved()) << out;
}


// ---- the anchors method's own edges ------------------------------------------

// A budget that holds a fraction of the anchors: several passes over the
// text, each keeping one hash range (halved whenever the table fills).
TEST(ExactDedupAnchors, ManyPassesAgreeWithOracle) {
  std::mt19937_64 rng(77);
  Docs docs = RandomDocs(rng, 400, 500, 4);
  dedupdb::test::TempDir tmp;
  for (uint64_t k : {12, 40}) {
    RangeList want = OracleSelf(docs, k, true);
    ShardedCorpus sc;
    BuildShards(docs, 3, true, 8, &sc);
    for (unsigned threads : {1u, 2u}) {
      ExactDedupOptions o;
      o.min_len = k;
      o.threads = threads;
      o.memory_bytes = 128 << 10;  // 8192 anchors (the table's smallest size)
      o.tmp_dir = tmp.path();
      RangeList got;
      ExactDedupStats st;
      ASSERT_TRUE(FindExactDuplicates(sc.corpus, nullptr, o, &got, &st).ok());
      EXPECT_TRUE(st.fallback.empty()) << st.fallback;
      EXPECT_GE(st.anchor_passes, 2u) << "k=" << k << " anchors " << st.anchors;
      EXPECT_EQ(got, want) << "k=" << k << " threads=" << threads << "\n got  " << Describe(got) << "\n want "
                           << Describe(want);
    }
  }
}

// Runs of one byte and short periods: every position (or every period) is
// an anchor and one core hash collects them all; windows equal their
// shifts. Both keep policies and several shards, against the oracle.
TEST(ExactDedupAnchors, PeriodicTextMatchesOracle) {
  std::mt19937_64 rng(8);
  Docs docs;
  const std::vector<std::string> units = {"a", "ab", "abc", "aab", "-=", "x"};
  for (int i = 0; i < 60; ++i) {
    std::string s;
    for (int part = 0; part < 4; ++part) {
      const std::string& u = units[rng() % units.size()];
      size_t reps = rng() % 90;
      for (size_t r = 0; r < reps; ++r) s += u;
      // A few random bytes between periodic stretches.
      for (size_t r = rng() % 6; r > 0; --r) s.push_back(static_cast<char>('a' + rng() % 3));
    }
    docs.push_back(std::move(s));
  }
  for (uint64_t k : {1, 4, 13, 40}) {
    for (size_t shards : {1, 3}) {
      for (KeepPolicy keep : {KeepPolicy::kFirst, KeepPolicy::kNone}) {
        RangeList want = OracleSelf(docs, k, keep == KeepPolicy::kFirst);
        RangeList got = RunSelf(docs, shards, shards == 3, 8, k, keep);
        ASSERT_EQ(got, want) << "k=" << k << " shards=" << shards << "\n got  " << Describe(got) << "\n want "
                             << Describe(want);
      }
    }
  }
}

// One core shared by more anchors than the budget holds (long runs of one
// byte, and of a short period, with different surroundings): the group is
// streamed (classes aggregated, then members removed) instead of loaded.
// Against the oracle with both keep policies, 1 and 2 threads, with and
// without suffix arrays (nothing to fall back to), and in across mode.
TEST(ExactDedupAnchors, OversizedGroupIsStreamed) {
  Docs docs = {std::string(30000, ' ') + "end one", "start two" + std::string(25000, ' '),
               "x" + std::string(9000, ' ') + "y",
               std::string(12000, '-') + "ab" + std::string(7000, '-'), "abc"};
  for (int i = 0; i < 6000; ++i) docs[4] += "abc";
  dedupdb::test::TempDir tmp;
  // The sanitizer run (small scale) takes one k.
  const std::vector<uint64_t> ks = dedupdb::test::SmallScale() ? std::vector<uint64_t>{50} : std::vector<uint64_t>{20, 50};
  for (uint64_t k : ks) {
    for (KeepPolicy keep : {KeepPolicy::kFirst, KeepPolicy::kNone}) {
      RangeList want = OracleSelf(docs, k, keep == KeepPolicy::kFirst);
      for (bool with_sa : {true, false}) {
        ShardedCorpus sc;
        BuildShards(docs, 2, true, 8, &sc);
        if (!with_sa)
          for (SuffixRun& r : sc.corpus.runs) r.sa = nullptr;
        for (unsigned threads : {1u, 2u}) {
          ExactDedupOptions o;
          o.min_len = k;
          o.keep = keep;
          o.threads = threads;
          o.memory_bytes = 256 << 10;  // 12,288 anchors; the space runs alone have ~55000
          o.tmp_dir = tmp.path();
          RangeList got;
          ExactDedupStats st;
          Status s = FindExactDuplicates(sc.corpus, nullptr, o, &got, &st);
          ASSERT_TRUE(s.ok()) << s.ToString();
          EXPECT_TRUE(st.fallback.empty()) << st.fallback;
          EXPECT_GT(st.anchors, 12288u);
          EXPECT_GE(st.giant_groups, 1u);
          EXPECT_EQ(got, want) << "k=" << k << " sa=" << with_sa << " threads=" << threads << "\n got  "
                               << Describe(got) << "\n want " << Describe(want);
          // The counters agree with the merge's.
          if (with_sa && threads == 1) {
            ExactDedupStats ms;
            RangeList mr;
            o.method = DedupMethod::kMerge;
            ASSERT_TRUE(FindExactDuplicates(sc.corpus, nullptr, o, &mr, &ms).ok());
            ASSERT_FALSE(st.top.empty());
            ExpectSameOutcome(got, st, mr, ms, "anchors (streamed) vs merge");
          }
        }
      }
    }
  }
  // Across: the other corpus holds one long run of spaces.
  Docs other = {std::string(20000, ' ')};
  ShardedCorpus a, b;
  BuildShards(docs, 2, true, 8, &a);
  BuildShards(other, 1, true, 8, &b);
  ExactDedupOptions o;
  o.min_len = 40;
  o.memory_bytes = 256 << 10;
  o.tmp_dir = tmp.path();
  RangeList got;
  ExactDedupStats st;
  ASSERT_TRUE(FindExactDuplicates(a.corpus, &b.corpus, o, &got, &st).ok());
  EXPECT_EQ(got, OracleAcross(docs, other, 40));
  EXPECT_TRUE(st.fallback.empty()) << st.fallback;
  EXPECT_GE(st.giant_groups, 1u);
}

// One core hash shared by more *distinct* surroundings than the budget
// allows (thousands of short space runs between unique words): the anchors
// method gives up; the merge answers when there are suffix arrays, and
// without them the error names what to change.
TEST(ExactDedupAnchors, TooManyDistinctSurroundingsFallBackToTheMerge) {
  Docs docs;
  for (int i = 0; i < 3000; ++i) {
    const std::string id = std::to_string(i * 7919 + 13);
    docs.push_back("w" + id + std::string(70, ' ') + "z" + id);
  }
  const uint64_t k = 50;
  const RangeList want = OracleSelf(docs, k, true);
  ShardedCorpus sc;
  BuildShards(docs, 2, true, 8, &sc);
  dedupdb::test::TempDir tmp;
  ExactDedupOptions o;
  o.min_len = k;
  o.threads = 1;
  o.memory_bytes = 256 << 10;  // 12,288 anchors, 1536 classes per giant group
  o.tmp_dir = tmp.path();
  RangeList got;
  ExactDedupStats st;
  ASSERT_TRUE(FindExactDuplicates(sc.corpus, nullptr, o, &got, &st).ok());
  EXPECT_NE(st.fallback.find("surroundings"), std::string::npos) << st.fallback;
  EXPECT_EQ(got, want);
  for (SuffixRun& r : sc.corpus.runs) r.sa = nullptr;
  Status s = FindExactDuplicates(sc.corpus, nullptr, o, &got, &st);
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
  EXPECT_NE(s.message().find("--memory"), std::string::npos) << s.ToString();
}

// A spill run that cannot be written or read back is an error from either
// method, never a crash or a silently shorter range list.
TEST(ExactDedupAnchors, SpillFaultsAreErrors) {
  std::mt19937_64 rng(99);
  Docs docs = RandomDocs(rng, 200, 300, 2);
  ShardedCorpus sc;
  BuildShards(docs, 3, true, 8, &sc);
  dedupdb::test::TempDir tmp;
  const RangeList want = OracleSelf(docs, 6, true);
  for (DedupMethod m : {DedupMethod::kAnchors, DedupMethod::kMerge}) {
    for (FaultOp op : {FaultOp::kWrite, FaultOp::kMap}) {
      FaultInjectionEnv env(Env::Default());
      ExactDedupOptions o;
      o.min_len = 6;
      o.method = m;
      o.memory_bytes = 1;  // spill every 1024 positions
      o.tmp_dir = tmp.path();
      o.env = &env;
      RangeList got;
      ExactDedupStats st;
      ASSERT_TRUE(FindExactDuplicates(sc.corpus, nullptr, o, &got, &st).ok());
      ASSERT_GT(st.spill_runs, 1u);
      EXPECT_EQ(got, want);
      env.InjectFault(op, 1, ".run");
      Status s = FindExactDuplicates(sc.corpus, nullptr, o, &got, &st);
      EXPECT_TRUE(s.IsIOError()) << FaultOpName(op) << ": " << s.ToString();
    }
  }
}

}  // namespace
}  // namespace dedupdb
