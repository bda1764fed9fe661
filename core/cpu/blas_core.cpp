// Detecting a better OpenBLAS kernel set than the one it picked (blas_core.h).
#include "core/cpu/blas_core.h"

#include <algorithm>
#include <cblas.h>
#include <cctype>

namespace nng {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Kernel sets with AVX-512 or AVX2 already: nothing to gain from switching.
bool usesAvx512(const std::string &core) {
  return core == "skylakex" || core == "cooperlake" || core == "sapphirerapids";
}
bool usesAvx2(const std::string &core) {
  return usesAvx512(core) || core == "haswell" || core == "zen";
}

} // namespace

std::string blasCoreName() {
  const char *name = openblas_get_corename();
  return name ? name : "";
}

std::string fasterBlasCoreType() {
#if defined(__x86_64__) && defined(__GNUC__)
  const std::string core = lower(blasCoreName());
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx512 && !usesAvx512(core))
    return "SkylakeX";
  if (avx2 && !usesAvx2(core))
    return "Haswell";
#endif
  return "";
}

} // namespace nng
