// Flush-to-zero and denormals-are-zero (denormals.h).
#include "core/cpu/denormals.h"

#if defined(__SSE2__)
#include <pmmintrin.h>
#include <xmmintrin.h>
#endif

namespace nng::cpu {

namespace {

void flushOnThisThread() {
#if defined(__SSE2__)
  _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
  _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
#endif
}

} // namespace

void flushDenormals() {
  flushOnThisThread();
#pragma omp parallel
  flushOnThisThread();
}

} // namespace nng::cpu
