#include "index/minhash.h"

#include <algorithm>

namespace dedupdb {

namespace {
// splitmix64 (Steele, Lea, Flood 2014): tiny, seedable, identical everywhere.
struct SplitMix64 {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, p) by rejection on 61-bit draws.
  uint64_t Below61(uint64_t lo) {
    for (;;) {
      uint64_t v = Next() >> 3;
      if (v >= lo && v < kMersenne61) return v;
    }
  }
};
uint64_t MulMod61(uint64_t x, uint64_t y) {
  const unsigned __int128 v = static_cast<unsigned __int128>(x) * y;
  uint64_t r = (static_cast<uint64_t>(v) & kMersenne61) + static_cast<uint64_t>(v >> 61);
  return r >= kMersenne61 ? r - kMersenne61 : r;
}
}  // namespace

namespace internal {
bool PermutationMayWrap(uint64_t a, uint64_t b) {
  // a^-1 = a^(p-2) (Fermat; p is prime and 0 < a < p).
  uint64_t inv = 1, base = a;
  for (uint64_t e = kMersenne61 - 2; e != 0; e >>= 1) {
    if (e & 1) inv = MulMod61(inv, base);
    base = MulMod61(base, base);
  }
  for (uint64_t r = 0; r <= 7; ++r) {
    const uint64_t h = MulMod61((r + kMersenne61 - b) % kMersenne61, inv);
    if (h <= 0xFFFFFFFFu) return true;
  }
  return false;
}
}  // namespace internal

MinHashPermutations::MinHashPermutations(unsigned num_perm, uint64_t seed) : num_perm_(num_perm), seed_(seed) {
  size_t padded = (static_cast<size_t>(num_perm) + 7) / 8 * 8;
  a_lo_.assign(padded, 1);
  a_hi_.assign(padded, 0);
  b_.assign(padded, 0);
  a_top_.assign(padded, 0);
  a_bot_.assign(padded, 1);
  may_wrap_.assign(padded, 0);  // padding lanes are discarded
  SplitMix64 rng{seed};
  for (unsigned k = 0; k < num_perm; ++k) {
    uint64_t a = rng.Below61(1);
    uint64_t b = rng.Below61(0);
    a_lo_[k] = a & 0x7FFFFFFFu;
    a_hi_[k] = a >> 31;
    b_[k] = b;
    a_top_[k] = a >> 9;
    a_bot_[k] = a & 511;
    may_wrap_[k] = internal::PermutationMayWrap(a, b);
  }
}

namespace internal {
void MinHashScalar(const uint64_t* a_lo, const uint64_t* a_hi, const uint64_t* b, size_t padded,
                   const uint32_t* h32, size_t n, uint32_t* sig) {
  for (size_t k = 0; k < padded; ++k) {
    const uint64_t a = (a_hi[k] << 31) | a_lo[k];
    const uint64_t bk = b[k];
    uint32_t m = kEmptyMinHash;
    for (size_t i = 0; i < n; ++i) m = std::min(m, ApplyPermutation(a, bk, h32[i]));
    sig[k] = m;
  }
}
}  // namespace internal

void MinHashSignature(const MinHashPermutations& perms, const uint32_t* h32, size_t n, uint32_t* sig,
                      SimdLevel level) {
  level = std::min(level, DetectSimdLevel());
  const size_t padded = perms.padded();
  uint32_t local[256];
  std::vector<uint32_t> heap;
  uint32_t* out = local;
  if (padded > 256) {
    heap.resize(padded);
    out = heap.data();
  }
  if (level >= SimdLevel::kAvx512 && MinHashIfmaSupported()) {
    internal::MinHashAvx512Ifma(perms.a_top(), perms.a_bot(), perms.b_data(), perms.may_wrap(), padded, h32, n, out);
  } else if (level >= SimdLevel::kAvx512) {
    internal::MinHashAvx512(perms.a_lo(), perms.a_hi(), perms.b_data(), perms.may_wrap(), padded, h32, n, out);
  } else if (level >= SimdLevel::kAvx2) {
    internal::MinHashAvx2(perms.a_lo(), perms.a_hi(), perms.b_data(), perms.may_wrap(), padded, h32, n, out);
  } else {
    internal::MinHashScalar(perms.a_lo(), perms.a_hi(), perms.b_data(), padded, h32, n, out);
  }
  std::copy(out, out + perms.num_perm(), sig);
}

double EstimatedJaccard(const uint32_t* a, const uint32_t* b, unsigned k) {
  if (k == 0) return 0.0;
  unsigned eq = 0;
  for (unsigned i = 0; i < k; ++i) eq += a[i] == b[i];
  return static_cast<double>(eq) / k;
}

size_t MinHasher::Sign(std::string_view text, uint32_t* sig) {
  ShingleHashes(text, shingles_, &hashes_);
  folded_.resize(hashes_.size());
  for (size_t i = 0; i < hashes_.size(); ++i) folded_[i] = FoldShingleHash(hashes_[i]);
  MinHashSignature(*perms_, folded_.data(), folded_.size(), sig);
  return hashes_.size();
}

void ShingleSet(std::string_view text, const ShingleOptions& options, std::vector<uint64_t>* out) {
  ShingleHashes(text, options, out);
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
}

double ExactJaccard(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  if (a.empty() && b.empty()) return 1.0;
  size_t i = 0, j = 0, inter = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] < b[j]) {
      ++i;
    } else if (b[j] < a[i]) {
      ++j;
    } else {
      ++inter, ++i, ++j;
    }
  }
  return static_cast<double>(inter) / static_cast<double>(a.size() + b.size() - inter);
}

}  // namespace dedupdb
