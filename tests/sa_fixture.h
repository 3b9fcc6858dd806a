// Shared helpers of the suffix-array index tests (tests/sa_*_test.cc): build a
// store from given documents, build an SA index over it with chosen options,
// and brute-force oracles that scan the documents directly.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "index/sa_builder.h"
#include "index/suffix_array.h"
#include "storage/doc_store.h"
#include "storage/json_writer.h"
#include "storage/store_builder.h"
#include "tests/test_util.h"

namespace dedupdb::sa_test {

// Writes docs as JSONL (ids "d0", "d1", ...) and ingests them into a store.
inline Status MakeStore(const std::string& dir, const std::string& scratch, const std::vector<std::string>& docs) {
  std::string jsonl;
  for (size_t i = 0; i < docs.size(); ++i) {
    jsonl += "{\"id\":\"d" + std::to_string(i) + "\",\"text\":";
    JsonWriter::AppendQuoted(&jsonl, docs[i]);
    jsonl += "}\n";
  }
  test::WriteFile(scratch, jsonl);
  BuildOptions bo;
  bo.segment_bytes = 4096;  // several segments, so shards straddle them
  BuildReport br;
  return BuildStore(dir, {scratch}, bo, &br);
}

inline std::vector<std::string> RandomDocs(std::mt19937_64& rng, size_t n, size_t max_len, const std::string& alphabet) {
  std::vector<std::string> docs(n);
  for (auto& d : docs) {
    size_t len = rng() % (max_len + 1);  // empty documents included
    for (size_t i = 0; i < len; ++i) d += alphabet[rng() % alphabet.size()];
  }
  return docs;
}

// All (doc, offset) occurrences of q inside single documents, in order.
// Works on any symbol width: positions are byte offsets / sb, only aligned hits.
inline std::vector<std::pair<uint64_t, uint64_t>> OracleLocate(const std::vector<std::string>& docs,
                                                               const std::string& q, uint32_t sb = 1) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (size_t d = 0; d < docs.size(); ++d) {
    const std::string& t = docs[d];
    if (q.empty()) {
      for (size_t p = 0; p < t.size() / sb; ++p) out.emplace_back(d, p);
      continue;
    }
    for (size_t p = t.find(q); p != std::string::npos; p = t.find(q, p + 1)) {
      if (p % sb == 0) out.emplace_back(d, p / sb);
    }
  }
  return out;
}

// Mixed query set: present substrings, random strings (often absent), empty,
// single symbols, document-spanning, whole docs, very long.
inline std::vector<std::string> MixedQueries(std::mt19937_64& rng, const std::vector<std::string>& docs,
                                             const std::string& alphabet, size_t n) {
  std::vector<std::string> qs = {"", std::string(1, alphabet[0]), std::string(1, alphabet.back()), "\xff",
                                 std::string(5000, alphabet[0])};
  for (size_t i = 0; qs.size() < n; ++i) {
    const std::string& d = docs[rng() % docs.size()];
    switch (rng() % 5) {
      case 0:
      case 1:
        if (!d.empty()) {
          size_t b = rng() % d.size();
          qs.push_back(d.substr(b, 1 + rng() % 16));
        }
        break;
      case 2: {
        std::string q;
        size_t len = 1 + rng() % 9;
        for (size_t k = 0; k < len; ++k) q += alphabet[rng() % alphabet.size()];
        qs.push_back(q);
        break;
      }
      case 3: {  // end of one doc + start of the next: must not match across
        size_t k = rng() % (docs.size() - 1);
        const std::string& a = docs[k];
        const std::string& b = docs[k + 1];
        qs.push_back(a.substr(a.size() - std::min<size_t>(a.size(), 1 + rng() % 4)) + b.substr(0, 1 + rng() % 4));
        break;
      }
      default:
        qs.push_back(d + (rng() % 2 ? d : std::string()));
    }
  }
  return qs;
}

}  // namespace dedupdb::sa_test
