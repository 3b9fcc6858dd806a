#include "storage/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace dedupdb {

static SimdLevel Detect() {
  SimdLevel level = SimdLevel::kScalar;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) level = SimdLevel::kSse42;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2")) level = SimdLevel::kAvx2;
  if (level == SimdLevel::kAvx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
    level = SimdLevel::kAvx512;
  }
#endif
  if (const char* cap = std::getenv("DEDUPDB_SIMD")) {
    SimdLevel want = level;
    if (std::strcmp(cap, "scalar") == 0) want = SimdLevel::kScalar;
    else if (std::strcmp(cap, "sse") == 0 || std::strcmp(cap, "sse42") == 0) want = SimdLevel::kSse42;
    else if (std::strcmp(cap, "avx2") == 0) want = SimdLevel::kAvx2;
    else if (std::strcmp(cap, "avx512") == 0) want = SimdLevel::kAvx512;
    if (want < level) level = want;
  }
  return level;
}

SimdLevel DetectSimdLevel() {
  static const SimdLevel level = Detect();
  return level;
}

const char* SimdLevelName(SimdLevel level) {
  switch (level) {
    case SimdLevel::kScalar: return "scalar";
    case SimdLevel::kSse42: return "sse4.2";
    case SimdLevel::kAvx2: return "avx2";
    case SimdLevel::kAvx512: return "avx512";
  }
  return "unknown";
}

}  // namespace dedupdb
