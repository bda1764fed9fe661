// Cross entropy, MSE and BCE-with-logits CPU kernels (see loss.h).
#include "core/cpu/kernels/loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/diag/diagnostic.h"

namespace nng::cpu {

namespace {

// Labels come from data files, so a bad one is the user's error, reported with the
// sample it is in. Checked serially before any parallel work (exceptions must not
// leave an OpenMP region).
template <typename L> void checkLabels(const L *labels, int64_t n, int64_t c) {
  for (int64_t i = 0; i < n; ++i)
    if (labels[i] < 0 || int64_t(labels[i]) >= c)
      throw UserError("label " + std::to_string(int64_t(labels[i])) + " out of range [0, " +
                      std::to_string(c) + ") at sample " + std::to_string(i));
}

// log(sum_j exp(row[j])), with the max subtracted first.
template <typename T> double logSumExp(const T *row, int64_t c) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t j = 0; j < c; ++j)
    m = std::max(m, row[j]);
  double s = 0;
  for (int64_t j = 0; j < c; ++j)
    s += std::exp(double(row[j] - m));
  return double(m) + std::log(s);
}

} // namespace

template <typename T, typename L>
void cross_entropy_fwd(T *loss, const T *logits, const L *labels, int64_t n, int64_t c) {
  checkLabels(labels, n, c);
  const double total = blockedSum(n, [=](int64_t i) {
    const T *row = logits + i * c;
    return logSumExp(row, c) - double(row[labels[i]]);
  });
  loss[0] = T(total / double(n));
}

template <typename T, typename L>
void cross_entropy_bwd(T *dlogits, const T *dloss, const T *logits, const L *labels, int64_t n,
                       int64_t c) {
  checkLabels(labels, n, c);
  const double scale = double(dloss[0]) / double(n);
#pragma omp parallel for if (n * c >= kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const T *row = logits + i * c;
    T *d = dlogits + i * c;
    const double lse = logSumExp(row, c);
    for (int64_t j = 0; j < c; ++j)
      d[j] = T(std::exp(double(row[j]) - lse) * scale);
    d[labels[i]] -= T(scale);
  }
}

template <typename T> void mse_fwd(T *loss, const T *pred, const T *target, int64_t n) {
  const double total = blockedSum(n, [=](int64_t i) {
    const double d = double(pred[i]) - double(target[i]);
    return d * d;
  });
  loss[0] = T(total / double(n));
}

template <typename T>
void mse_bwd(T *dpred, T *dtarget, const T *dloss, const T *pred, const T *target, int64_t n) {
  const T scale = T(2.0 * double(dloss[0]) / double(n));
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const T g = scale * (pred[i] - target[i]);
    if (dpred)
      dpred[i] = g;
    if (dtarget)
      dtarget[i] = -g;
  }
}

template <typename T>
void bce_with_logits_fwd(T *loss, const T *logits, const T *target, int64_t n) {
  const double total = blockedSum(n, [=](int64_t i) {
    const double x = logits[i], t = target[i];
    return std::max(x, 0.0) - x * t + std::log1p(std::exp(-std::abs(x)));
  });
  loss[0] = T(total / double(n));
}

template <typename T>
void bce_with_logits_bwd(T *dlogits, T *dtarget, const T *dloss, const T *logits, const T *target,
                         int64_t n) {
  const T scale = T(double(dloss[0]) / double(n));
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const T x = logits[i];
    // sigmoid without overflow: exp of a non-positive number only.
    const T e = std::exp(-std::abs(x));
    const T sig = x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
    if (dlogits)
      dlogits[i] = scale * (sig - target[i]);
    if (dtarget)
      dtarget[i] = -scale * x;
  }
}

#define NNG_INSTANTIATE_CE(T, L)                                                                   \
  template void cross_entropy_fwd<T, L>(T *, const T *, const L *, int64_t, int64_t);              \
  template void cross_entropy_bwd<T, L>(T *, const T *, const T *, const L *, int64_t, int64_t);
#define NNG_INSTANTIATE(T)                                                                         \
  NNG_INSTANTIATE_CE(T, int32_t)                                                                   \
  NNG_INSTANTIATE_CE(T, int64_t)                                                                   \
  template void mse_fwd<T>(T *, const T *, const T *, int64_t);                                    \
  template void mse_bwd<T>(T *, T *, const T *, const T *, const T *, int64_t);                    \
  template void bce_with_logits_fwd<T>(T *, const T *, const T *, int64_t);                        \
  template void bce_with_logits_bwd<T>(T *, T *, const T *, const T *, const T *, int64_t);

NNG_INSTANTIATE(float)
NNG_INSTANTIATE(double)

} // namespace nng::cpu
