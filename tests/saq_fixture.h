// Shared fixture of the suffix-array query tests (tests/saq_*_test.cc): a
// store + SA index built from given documents, and brute-force oracles that
// scan the documents directly.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "index/sa_builder.h"
#include "index/suffix_array.h"
#include "storage/doc_store.h"
#include "storage/store_builder.h"
#include "tests/test_util.h"

namespace dedupdb::saq_test {

struct Corpus {
  std::unique_ptr<test::TempDir> dir;
  std::vector<std::string> docs;
  std::unique_ptr<DocStore> store;
  std::unique_ptr<SuffixArrayIndex> index;
  std::string store_dir() const { return dir->Sub("store"); }
};

// JSON string body for test documents (printable ASCII, quotes, backslashes,
// newlines; tests keep to those).
inline std::string JsonEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (c == '\n') {
      o += "\\n";
    } else if (c == '\t') {
      o += "\\t";
    } else {
      o += c;
    }
  }
  return o;
}

// Builds a store of `docs` (ids "d0", "d1", ...) and SA index "default";
// max_shard_symbols > 0 forces small shards.
inline void BuildCorpus(const std::vector<std::string>& docs, uint64_t max_shard_symbols, Corpus* c) {
  c->dir = std::make_unique<test::TempDir>();
  c->docs = docs;
  std::string jsonl;
  for (size_t i = 0; i < docs.size(); ++i)
    jsonl += "{\"id\":\"d" + std::to_string(i) + "\",\"text\":\"" + JsonEscape(docs[i]) + "\"}\n";
  std::string input = c->dir->Sub("input.jsonl");
  test::WriteFile(input, jsonl);
  BuildOptions bo;
  BuildReport br;
  Status st = BuildStore(c->store_dir(), {input}, bo, &br);
  ASSERT_TRUE(st.ok()) << st.ToString();
  SaBuildOptions so;
  so.memory_budget = 64ull << 20;
  so.threads = 1;
  so.max_shard_symbols = max_shard_symbols;
  SaBuildReport sr;
  st = BuildSuffixArrayIndex(c->store_dir(), so, &sr);
  ASSERT_TRUE(st.ok()) << st.ToString();
  st = DocStore::Open(c->store_dir(), &c->store);
  ASSERT_TRUE(st.ok()) << st.ToString();
  st = SuffixArrayIndex::Open(c->store.get(), "default", &c->index);
  ASSERT_TRUE(st.ok()) << st.ToString();
}

// Random documents over a small alphabet (many repeats), lengths 1..max_len.
inline std::vector<std::string> RandomDocs(std::mt19937_64& rng, size_t n, size_t max_len, const std::string& alphabet) {
  std::vector<std::string> docs(n);
  for (auto& d : docs) {
    size_t len = 1 + rng() % max_len;
    for (size_t i = 0; i < len; ++i) d += alphabet[rng() % alphabet.size()];
  }
  return docs;
}

// ---- oracles: plain scans over the documents ------------------------------

inline uint64_t OracleCount(const std::vector<std::string>& docs, const std::string& q) {
  uint64_t n = 0;
  for (const std::string& d : docs) {
    if (q.empty()) {
      n += d.size();
      continue;
    }
    for (size_t p = d.find(q); p != std::string::npos; p = d.find(q, p + 1)) ++n;
  }
  return n;
}

inline bool OracleContains(const std::vector<std::string>& docs, const std::string& q) {
  for (const std::string& d : docs)
    if (d.find(q) != std::string::npos) return true;
  return false;
}

// ms[i] = longest L with text[i, i+L) inside one document.
inline std::vector<uint64_t> OracleMatchingStatistics(const std::vector<std::string>& docs, const std::string& text) {
  std::vector<uint64_t> ms(text.size(), 0);
  for (size_t i = 0; i < text.size(); ++i) {
    uint64_t l = i > 0 && ms[i - 1] > 0 ? ms[i - 1] - 1 : 0;  // a valid lower bound, checked below
    EXPECT_TRUE(l == 0 || OracleContains(docs, text.substr(i, l)));
    while (i + l < text.size() && OracleContains(docs, text.substr(i, l + 1))) ++l;
    ms[i] = l;
  }
  return ms;
}

}  // namespace dedupdb::saq_test
