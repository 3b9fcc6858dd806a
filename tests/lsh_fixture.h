// Helpers shared by the MinHash/LSH tests: stores built from real corpus
// documents and planted near-duplicates with exactly known Jaccard.
#pragma once

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "index/minhash.h"
#include "index/union_find.h"
#include "query/near_duplicates.h"
#include "storage/json_writer.h"
#include "storage/store_builder.h"
#include "tests/test_util.h"

namespace dedupdb::lshtest {

// A NearDedup result plus the removed docs it reported through on_removed.
struct DedupRun : NearDedupResult {
  std::vector<RemovedDoc> removed;
};
inline Status RunNearDedup(const DocStore& store, const LshIndex& index, NearDedupOptions o, DedupRun* out) {
  out->removed.clear();
  std::vector<RemovedDoc>* removed = &out->removed;
  o.on_removed = [removed](const RemovedDoc& d) {
    removed->push_back(d);
    return Status::OK();
  };
  return NearDedup(store, index, o, out);
}

inline void WriteJsonl(const std::string& path, const std::vector<test::JsonlDoc>& docs) {
  std::string out;
  for (const auto& d : docs) {
    JsonWriter w;
    w.BeginObject().Field("id", d.id).Field("text", d.text).EndObject();
    out += w.str();
    out += '\n';
  }
  test::WriteFile(path, out);
}

inline void BuildFrom(const std::string& store, const std::vector<std::string>& inputs) {
  BuildOptions b;
  BuildReport r;
  Status s = BuildStore(store, inputs, b, &r);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

// Replaces a fraction `f` of the words (space-separated) of text with fresh
// words that occur nowhere else, so the copy's shingle overlap drops.
inline std::string EditWords(const std::string& text, double f, std::mt19937& rng, uint64_t* fresh) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(' ', i);
    if (j == std::string::npos) j = text.size();
    words.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  std::uniform_real_distribution<double> u(0, 1);
  std::string out;
  for (size_t k = 0; k < words.size(); ++k) {
    if (k) out += ' ';
    if (u(rng) < f) {
      out += "qzx" + std::to_string((*fresh)++) + "vv";
    } else {
      out += words[k];
    }
  }
  return out;
}

inline double TrueJaccard(const std::string& a, const std::string& b, const ShingleOptions& opt) {
  std::vector<uint64_t> sa, sb;
  ShingleSet(a, opt, &sa);
  ShingleSet(b, opt, &sb);
  return ExactJaccard(sa, sb);
}

// Brute-force oracle: every pair of docs sharing at least one shingle (all
// others have Jaccard 0) gets its exact Jaccard; pairs >= threshold are
// joined. Returns each doc's component root (its smallest member).
inline std::vector<uint32_t> OracleComponents(const std::vector<std::string>& texts, const ShingleOptions& opt,
                                              double threshold) {
  std::vector<std::vector<uint64_t>> sets(texts.size());
  std::map<uint64_t, std::vector<uint32_t>> postings;
  for (size_t d = 0; d < texts.size(); ++d) {
    ShingleSet(texts[d], opt, &sets[d]);
    for (uint64_t h : sets[d]) postings[h].push_back(static_cast<uint32_t>(d));
  }
  std::vector<uint64_t> pairs;
  for (auto& [h, docs] : postings) {
    for (size_t x = 0; x < docs.size(); ++x) {
      for (size_t y = x + 1; y < docs.size(); ++y) pairs.push_back((uint64_t{docs[x]} << 32) | docs[y]);
    }
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  UnionFind uf(static_cast<uint32_t>(texts.size()));
  for (uint64_t p : pairs) {
    uint32_t a = p >> 32, b = static_cast<uint32_t>(p);
    if (ExactJaccard(sets[a], sets[b]) >= threshold) uf.Union(a, b);
  }
  std::vector<uint32_t> root(texts.size());
  for (uint32_t d = 0; d < texts.size(); ++d) root[d] = uf.Find(d);
  return root;
}

// Removed docs under keep-first: all but each component's smallest id.
inline std::vector<uint64_t> RemovedFirst(const std::vector<uint32_t>& root) {
  std::vector<uint64_t> removed;
  for (uint32_t d = 0; d < root.size(); ++d) {
    if (root[d] != d) removed.push_back(d);
  }
  return removed;
}

// Removed docs under keep-longest (ties: the smallest id is kept).
inline std::vector<uint64_t> RemovedLongest(const std::vector<uint32_t>& root, const std::vector<std::string>& texts) {
  std::map<uint32_t, uint32_t> keep;
  for (uint32_t d = 0; d < root.size(); ++d) {
    auto [it, fresh] = keep.try_emplace(root[d], d);
    if (!fresh && texts[d].size() > texts[it->second].size()) it->second = d;
  }
  std::vector<uint64_t> removed;
  for (uint32_t d = 0; d < root.size(); ++d) {
    if (keep[root[d]] != d) removed.push_back(d);
  }
  return removed;
}

}  // namespace dedupdb::lshtest
