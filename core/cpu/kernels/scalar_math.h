// Scalar activation math shared by the elementwise kernels and the fused epilogues,
// so that a fused op computes exactly what its unfused ops would.
#pragma once

#include <cmath>

namespace nng::cpu {

// Stable for large |x|: never exponentiates a positive number.
template <typename T> T sigmoidOf(T x) {
  if (x >= T(0))
    return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

// GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
constexpr double kGeluC = 0.7978845608028654; // sqrt(2 / pi)
constexpr double kGeluA = 0.044715;

template <typename T> T geluOf(T x) {
  const T u = T(kGeluC) * (x + T(kGeluA) * x * x * x);
  return T(0.5) * x * (T(1) + std::tanh(u));
}
template <typename T> T geluGradOf(T x) {
  const T u = T(kGeluC) * (x + T(kGeluA) * x * x * x);
  const T t = std::tanh(u);
  const T du = T(kGeluC) * (T(1) + T(3 * kGeluA) * x * x);
  return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du;
}

} // namespace nng::cpu
