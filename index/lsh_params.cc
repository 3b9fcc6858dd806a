#include "index/lsh_params.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace dedupdb {

double CandidateProbability(double s, unsigned bands, unsigned rows) {
  return 1.0 - std::pow(1.0 - std::pow(s, rows), bands);
}

namespace {
template <class F>
double Integrate(F f, double lo, double hi, int steps = 200) {
  if (hi <= lo) return 0.0;
  // Same grid and summation order as numpy.linspace + the trapezoid sum.
  double sum = 0.0;
  double prev = f(lo);
  for (int i = 1; i <= steps; ++i) {
    double x = (i == steps) ? hi : lo + (hi - lo) * i / steps;
    double y = f(x);
    sum += (y + prev) * 0.5;
    prev = y;
  }
  return sum * (hi - lo) / steps;
}
}  // namespace

LshBands OptimalBands(double threshold, unsigned num_perm, double fp_weight, double fn_weight) {
  LshBands best{1, 1};
  double best_err = std::numeric_limits<double>::infinity();
  for (unsigned b = 1; b <= num_perm; ++b) {
    for (unsigned r = 1; r <= num_perm / b; ++r) {
      double fp = Integrate([&](double s) { return CandidateProbability(s, b, r); }, 0.0, threshold);
      double fn = Integrate([&](double s) { return 1.0 - CandidateProbability(s, b, r); }, threshold, 1.0);
      double err = fp * fp_weight + fn * fn_weight;
      if (err < best_err) {
        best = LshBands{b, r};
        best_err = err;
      }
    }
  }
  return best;
}

Status CheckBands(const LshBands& bands, unsigned num_perm) {
  if (bands.bands == 0 || bands.rows == 0) return Status::InvalidArgument("bands and rows must be >= 1");
  if (static_cast<uint64_t>(bands.bands) * bands.rows > num_perm) {
    return Status::InvalidArgument("bands x rows = " + std::to_string(bands.bands * bands.rows) +
                                   " exceeds --num-perm " + std::to_string(num_perm));
  }
  return Status::OK();
}

std::string SCurveTable(const LshBands& bands) {
  std::string out = "  jaccard  P(candidate)\n";
  char line[64];
  for (int i = 1; i <= 10; ++i) {
    double s = i / 10.0;
    std::snprintf(line, sizeof(line), "  %7.2f  %12.4f\n", s, CandidateProbability(s, bands.bands, bands.rows));
    out += line;
  }
  return out;
}

}  // namespace dedupdb
