// f16/bf16 emulation by rounding f32 storage (see half.h).
#include "core/cpu/kernels/half.h"

#include "core/cpu/kernels/elementwise.h"

namespace nng::cpu {

size_t storageBytes(DType t) { return dtypeSize(storageDType(t)); }

void roundToDType(DType t, float *x, int64_t n) {
  if (t == DType::F16)
    round_f16_fwd<float>(x, x, n);
  else if (t == DType::BF16)
    round_bf16_fwd<float>(x, x, n);
}

float roundToDType(DType t, float x) {
  roundToDType(t, &x, 1);
  return x;
}

} // namespace nng::cpu
