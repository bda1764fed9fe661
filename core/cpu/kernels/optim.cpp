// SGD, Adam, AdamW and gradient clipping CPU kernels (see optim.h).
#include "core/cpu/kernels/optim.h"

#include <cmath>

#include "core/diag/diagnostic.h"

namespace nng::cpu {

namespace {

// torch.lerp(self, end, weight) as PyTorch computes it (two forms for accuracy).
template <typename T> T lerp(T self, T end, T weight) {
  return weight < T(0.5) ? self + weight * (end - self) : end - (end - self) * (T(1) - weight);
}

template <typename T>
void adamCore(T *param, T *m, T *v, const T *grad, int64_t n, int64_t step, double lr, double beta1,
              double beta2, double eps, double l2, double decoupled) {
  NNG_CHECK(step >= 1, "optimizer step counts from 1");
  const double bc1 = 1 - std::pow(beta1, double(step));
  const double bc2Sqrt = std::sqrt(1 - std::pow(beta2, double(step)));
  const T stepSize = T(lr / bc1), b2 = T(beta2), oneMinusB2 = T(1 - beta2);
  const T w1 = T(1 - beta1), corr = T(bc2Sqrt), e = T(eps), wd = T(l2);
  const T keep = T(1 - lr * decoupled);
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    T p = param[i];
    if (decoupled != 0)
      p *= keep;
    const T g = l2 != 0 ? grad[i] + wd * p : grad[i];
    const T mi = lerp(m[i], g, w1);
    const T vi = v[i] * b2 + oneMinusB2 * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = p - stepSize * (mi / (std::sqrt(vi) / corr + e)); // addcdiv_
  }
}

} // namespace

template <typename T>
void sgd_step(T *param, T *momentumBuf, const T *grad, int64_t n, int64_t step, double lr,
              double momentum, double dampening, double weightDecay, bool nesterov) {
  NNG_CHECK(step >= 1, "optimizer step counts from 1");
  NNG_CHECK(momentum == 0 || momentumBuf, "sgd: momentum needs a buffer");
  const T wd = T(weightDecay), mom = T(momentum), damp = T(1 - dampening), rate = T(lr);
  const bool first = step == 1;
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    T g = weightDecay != 0 ? grad[i] + wd * param[i] : grad[i];
    if (momentum != 0) {
      const T buf = first ? g : momentumBuf[i] * mom + damp * g;
      momentumBuf[i] = buf;
      g = nesterov ? g + mom * buf : buf;
    }
    param[i] -= rate * g;
  }
}

template <typename T>
void adam_step(T *param, T *expAvg, T *expAvgSq, const T *grad, int64_t n, int64_t step, double lr,
               double beta1, double beta2, double eps, double weightDecay) {
  adamCore(param, expAvg, expAvgSq, grad, n, step, lr, beta1, beta2, eps, weightDecay, 0.0);
}

template <typename T>
void adamw_step(T *param, T *expAvg, T *expAvgSq, const T *grad, int64_t n, int64_t step, double lr,
                double beta1, double beta2, double eps, double weightDecay) {
  adamCore(param, expAvg, expAvgSq, grad, n, step, lr, beta1, beta2, eps, 0.0, weightDecay);
}

template <typename T>
double grad_global_norm(const T *const *grads, const int64_t *sizes, int count) {
  double total = 0;
  for (int t = 0; t < count; ++t) {
    const T *g = grads[t];
    total += blockedSum(sizes[t], [g](int64_t i) { return double(g[i]) * double(g[i]); });
  }
  return std::sqrt(total);
}

template <typename T>
double clip_grad_norm(T *const *grads, const int64_t *sizes, int count, double maxNorm) {
  const double norm = grad_global_norm<T>(grads, sizes, count);
  const double coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    const T c = T(coef);
    for (int t = 0; t < count; ++t) {
      T *g = grads[t];
      const int64_t n = sizes[t];
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
      for (int64_t i = 0; i < n; ++i)
        g[i] *= c;
    }
  }
  return norm;
}

template <typename T> bool all_finite(const T *x, int64_t n) {
  // x - x is 0 for finite x and NaN for inf and NaN: one test, no early exit (the
  // sum of flags vectorizes and is order-independent).
  int64_t bad = 0;
#pragma omp parallel for if (n >= kParallelMin) schedule(static) reduction(+ : bad)
  for (int64_t i = 0; i < n; ++i)
    bad += (x[i] - x[i]) != T(0);
  return bad == 0;
}

void loss_scale_update(float *scale, float *goodSteps, bool finite, double growth,
                       double backoff, int64_t interval) {
  if (!finite) {
    *scale = float(double(*scale) * backoff);
    *goodSteps = 0;
    return;
  }
  const float good = *goodSteps + 1;
  if (good >= float(interval)) {
    *scale = float(double(*scale) * growth);
    *goodSteps = 0;
  } else {
    *goodSteps = good;
  }
}

#define NNG_INSTANTIATE(T)                                                                         \
  template bool all_finite<T>(const T *, int64_t);                                                 \
  template void sgd_step<T>(T *, T *, const T *, int64_t, int64_t, double, double, double, double, \
                            bool);                                                                 \
  template void adam_step<T>(T *, T *, T *, const T *, int64_t, int64_t, double, double, double,   \
                             double, double);                                                      \
  template void adamw_step<T>(T *, T *, T *, const T *, int64_t, int64_t, double, double, double,  \
                              double, double);                                                     \
  template double grad_global_norm<T>(const T *const *, const int64_t *, int);                     \
  template double clip_grad_norm<T>(T *const *, const int64_t *, int, double);

NNG_INSTANTIATE(float)
NNG_INSTANTIATE(double)

} // namespace nng::cpu
