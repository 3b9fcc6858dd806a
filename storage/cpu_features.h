// Run-time CPU feature detection. SIMD kernels compiled for wider ISAs live
// in *_avx2.cc / *_avx512.cc files and are only called when these say yes.
// DEDUPDB_SIMD=scalar|sse|avx2|avx512 in the environment caps the level
// (used by tests to run every path on one machine).
#pragma once

namespace dedupdb {

enum class SimdLevel : int { kScalar = 0, kSse42 = 1, kAvx2 = 2, kAvx512 = 3 };

// Highest level both the CPU and DEDUPDB_SIMD allow; computed once.
SimdLevel DetectSimdLevel();
const char* SimdLevelName(SimdLevel level);

}  // namespace dedupdb
