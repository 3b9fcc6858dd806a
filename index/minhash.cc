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
namespace {
// Smallest x >= 0 with l <= (a*x) mod m <= r (1 <= l <= r < m), or -1.
int64_t FirstMultipleInRange(uint64_t a, uint64_t m, uint64_t l, uint64_t r) {
  if (l == 0) return 0;
  a %= m;
  if (a == 0) return -1;
  const uint64_t x = l / a + (l % a != 0);  // the first multiple of a at or above l
  if (static_cast<unsigned __int128>(a) * x <= r) return static_cast<int64_t>(x);
  // No multiple of a in [l, r] (so 1 <= l % a <= r % a): a solution wraps y
  // times, l <= a x - m y <= r, which holds iff (m y) mod a lies in
  // [a - r % a, a - l % a]; the least such y gives the least x.
  const int64_t y = FirstMultipleInRange(m % a, a, a - r % a, a - l % a);
  if (y < 0) return -1;
  const unsigned __int128 lo = static_cast<unsigned __int128>(m) * static_cast<uint64_t>(y) + l;
  return static_cast<int64_t>((lo + a - 1) / a);
}
}  // namespace

int64_t FirstInModRange(uint64_t a, uint64_t b, uint64_t m, uint64_t lo, uint64_t hi) {
  // (a x) mod m in [lo - b, hi - b] (mod m), split where it wraps.
  const uint64_t l = (lo + m - b) % m, r = (hi + m - b) % m;
  if (l <= r) return FirstMultipleInRange(a, m, l, r);
  return 0;  // l > r: the range holds 0, i.e. x = 0 (b itself is in [lo, hi])
}

void SevenOpUnsafeHashes(uint64_t a, uint64_t b, std::vector<uint32_t>* out) {
  const uint64_t m = uint64_t{1} << 61;
  const uint64_t lo = m - (uint64_t{1} << 32) - 1, hi = m - 1;
  uint64_t start = 0;
  for (;;) {
    const uint64_t shifted = static_cast<uint64_t>((static_cast<unsigned __int128>(a) * start + b) % m);
    const int64_t x = FirstInModRange(a, shifted, m, lo, hi);
    if (x < 0 || start + static_cast<uint64_t>(x) > 0xFFFFFFFFu) return;
    out->push_back(static_cast<uint32_t>(start + static_cast<uint64_t>(x)));
    start += static_cast<uint64_t>(x) + 1;
  }
}
}  // namespace internal

bool MinHashPermutations::NeedsEightOpLoop(const uint32_t* h32, size_t n) const {
  if (unsafe_.empty()) return false;
  const uint64_t* filter = unsafe_filter_.data();
  for (size_t i = 0; i < n; ++i) {
    const uint32_t bit = h32[i] >> 12;
    if ((filter[bit >> 6] >> (bit & 63)) & 1) {
      if (std::binary_search(unsafe_.begin(), unsafe_.end(), h32[i])) return true;
    }
  }
  return false;
}

MinHashPermutations::MinHashPermutations(unsigned num_perm, uint64_t seed) : num_perm_(num_perm), seed_(seed) {
  std::vector<uint64_t> as(num_perm), bs(num_perm);
  SplitMix64 rng{seed};
  for (unsigned k = 0; k < num_perm; ++k) {
    as[k] = rng.Below61(1);
    bs[k] = rng.Below61(0);
  }
  Init(as, bs);
}

MinHashPermutations::MinHashPermutations(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b)
    : num_perm_(static_cast<unsigned>(a.size())), seed_(0) {
  Init(a, b);
}

void MinHashPermutations::Init(const std::vector<uint64_t>& as, const std::vector<uint64_t>& bs) {
  const size_t padded = (static_cast<size_t>(num_perm_) + 7) / 8 * 8;
  a_lo_.assign(padded, 1);
  a_hi_.assign(padded, 0);
  b_.assign(padded, 0);
  a_top_.assign(padded, 0);
  a_bot_.assign(padded, 1);
  may_wrap_.assign(padded, 0);  // padding lanes are discarded
  for (unsigned k = 0; k < num_perm_; ++k) {
    const uint64_t a = as[k], b = bs[k];
    a_lo_[k] = a & 0x7FFFFFFFu;
    a_hi_[k] = a >> 31;
    b_[k] = b;
    a_top_[k] = a >> 9;
    a_bot_[k] = a & 511;
    may_wrap_[k] = internal::PermutationMayWrap(a, b);
  }
  a_top43_.resize(padded);
  for (size_t k = 0; k < padded; ++k) a_top43_[k] = (a_top_[k] & ((uint64_t{1} << 43) - 1)) << 9;
  if (MinHashIfmaSupported()) {  // only the 7-op IFMA loop needs them (~0.3 ms for K = 128)
    for (unsigned k = 0; k < num_perm_; ++k) internal::SevenOpUnsafeHashes(as[k], bs[k], &unsafe_);
    std::sort(unsafe_.begin(), unsafe_.end());
    unsafe_.erase(std::unique(unsafe_.begin(), unsafe_.end()), unsafe_.end());
    unsafe_filter_.assign((uint64_t{1} << 20) / 64, 0);
    for (uint32_t h : unsafe_) unsafe_filter_[h >> 18] |= uint64_t{1} << ((h >> 12) & 63);
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
    // The 7-op loop; in the rare text with a hash that passes its filter and
    // is one of the unsafe ones, again with the 8-op loop.
    if (!internal::MinHashAvx512Ifma7(perms.a_top(), perms.a_top43(), perms.a_bot(), perms.b_data(), padded, h32, n,
                                      out, perms.unsafe_filter()) &&
        perms.NeedsEightOpLoop(h32, n)) {
      internal::MinHashAvx512Ifma(perms.a_top(), perms.a_bot(), perms.b_data(), perms.may_wrap(), padded, h32, n,
                                  out);
    }
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
