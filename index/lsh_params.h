// LSH banding parameters: a signature of K values is cut into b bands of r
// rows; two documents become candidates when any band is equal, which happens
// with probability 1 - (1 - s^r)^b for Jaccard similarity s (the S-curve).
#pragma once

#include <string>

#include "storage/status.h"

namespace dedupdb {

struct LshBands {
  unsigned bands = 0;
  unsigned rows = 0;
};

// P(candidate) for Jaccard s.
double CandidateProbability(double s, unsigned bands, unsigned rows);

// b, r with b*r <= num_perm minimising fp_weight * (area under the S-curve on
// [0, threshold]) + fn_weight * (area above it on [threshold, 1]), both by the
// trapezoid rule on 200 steps - the same optimisation as datasketch and
// minhash_reference.py `optimal_params` (ties keep the first (b, r) found,
// b ascending then r ascending).
LshBands OptimalBands(double threshold, unsigned num_perm, double fp_weight = 0.5, double fn_weight = 0.5);

// Validates explicit or chosen parameters against num_perm.
Status CheckBands(const LshBands& bands, unsigned num_perm);

// A small text table "s  P(candidate)" for s = 0.1 .. 1.0 (build output).
std::string SCurveTable(const LshBands& bands);

}  // namespace dedupdb
