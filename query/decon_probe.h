// Internal to the decontaminator: the filter stage of Check(). Given a
// document's word hashes, finds the windows whose rolling hash passes the
// eval index's pre-filters: n-word windows against the gram filter and
// p-word windows against the short-example prefix filter. Everything after
// (canonical HashNgram, key lookups) is rare and stays in decontaminator.cc.
//
// Two implementations with identical output: the scalar one slides the
// rolling hash window by window; the AVX-512 one computes the prefix hashes
// P[j] = sum_{k<j} h[k] B^(j-1-k) with a vector scan and every window as
// P[i+n] - P[i] * B^n (the same value mod 2^64), mixes and tests 8 windows
// per instruction. Tested equal (tests/decon_check_test.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "index/eval_index.h"

namespace dedupdb::decon_internal {

struct ProbeScratch {
  std::vector<uint64_t> prefix;  // P[0..w], padded
  std::vector<uint64_t> mixed;   // mixed gram keys, padded
  std::vector<uint32_t> gram_cand, prefix_cand;  // windows passing (ascending)
};

// Fills s->gram_cand (n-word windows passing `gram`) and s->prefix_cand
// (p-word windows passing `prefix`; none if p == 0) for word hashes h[0..w).
void ProbeScalar(const uint64_t* h, size_t w, size_t n, size_t p, const EvalIndex::Filter& gram,
                 const EvalIndex::Filter& prefix, ProbeScratch* s);
void ProbeAvx512(const uint64_t* h, size_t w, size_t n, size_t p, const EvalIndex::Filter& gram,
                 const EvalIndex::Filter& prefix, ProbeScratch* s);
// The best the CPU (and DEDUPDB_SIMD) allows; `allow_simd` false forces scalar.
void Probe(const uint64_t* h, size_t w, size_t n, size_t p, const EvalIndex::Filter& gram,
           const EvalIndex::Filter& prefix, ProbeScratch* s, bool allow_simd = true);

}  // namespace dedupdb::decon_internal
