// Batch norm and layer norm CPU kernels (see norm.h).
#include "core/cpu/kernels/norm.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/diag/diagnostic.h"

namespace nng::cpu {

namespace {

// Mean and biased variance of channel ch of x [n, c, hw] (two passes: accurate when
// the mean is large against the spread).
template <typename T>
void channelStats(const T *x, int64_t n, int64_t c, int64_t hw, int64_t ch, double &mean,
                  double &var) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T *p = x + (i * c + ch) * hw;
    for (int64_t j = 0; j < hw; ++j)
      s += p[j];
  }
  const double m = double(n * hw);
  mean = s / m;
  double q = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T *p = x + (i * c + ch) * hw;
    for (int64_t j = 0; j < hw; ++j) {
      const double d = double(p[j]) - mean;
      q += d * d;
    }
  }
  var = q / m;
}

template <typename T>
void rowStats(const T *row, int64_t cols, double eps, double &mean, double &rstd) {
  double s = 0;
  for (int64_t j = 0; j < cols; ++j)
    s += row[j];
  mean = s / double(cols);
  double q = 0;
  for (int64_t j = 0; j < cols; ++j) {
    const double d = double(row[j]) - mean;
    q += d * d;
  }
  rstd = 1.0 / std::sqrt(q / double(cols) + eps);
}

// y = x * scale[ch] + shift[ch] over x [n, c, hw].
template <typename T>
void affinePerChannel(T *y, const T *x, const double *scale, const double *shift, int64_t n,
                      int64_t c, int64_t hw) {
#pragma omp parallel for if (n * c * hw >= kParallelMin && n * c > 1) schedule(static)
  for (int64_t p = 0; p < n * c; ++p) {
    const int64_t ch = p % c;
    const T a = T(scale[ch]), b = T(shift[ch]);
    for (int64_t j = 0; j < hw; ++j)
      y[p * hw + j] = x[p * hw + j] * a + b;
  }
}

} // namespace

template <typename T>
void batch_norm_train_fwd(T *y, T *saveMean, T *saveInvStd, T *runningMean, T *runningVar,
                          const T *x, const T *gamma, const T *beta, int64_t n, int64_t c,
                          int64_t hw, double eps, double momentum) {
  const int64_t m = n * hw;
  if (m <= 1)
    throw UserError("batch_norm: training needs more than one value per channel, got input [" +
                    std::to_string(n) + ", " + std::to_string(c) + ", " + std::to_string(hw) +
                    "] (n, channels, height * width)");
  std::vector<double> scale(c), shift(c);
#pragma omp parallel for if (m * c >= kParallelMin && c > 1) schedule(static)
  for (int64_t ch = 0; ch < c; ++ch) {
    double mean, var;
    channelStats(x, n, c, hw, ch, mean, var);
    const double invStd = 1.0 / std::sqrt(var + eps);
    scale[ch] = double(gamma[ch]) * invStd;
    shift[ch] = double(beta[ch]) - mean * scale[ch];
    if (saveMean)
      saveMean[ch] = T(mean);
    if (saveInvStd)
      saveInvStd[ch] = T(invStd);
    if (runningMean)
      runningMean[ch] = T((1 - momentum) * double(runningMean[ch]) + momentum * mean);
    if (runningVar)
      runningVar[ch] =
          T((1 - momentum) * double(runningVar[ch]) + momentum * var * double(m) / double(m - 1));
  }
  affinePerChannel(y, x, scale.data(), shift.data(), n, c, hw);
}

template <typename T>
void batch_norm_eval_fwd(T *y, const T *x, const T *gamma, const T *beta, const T *runningMean,
                         const T *runningVar, int64_t n, int64_t c, int64_t hw, double eps) {
  std::vector<double> scale(c), shift(c);
  for (int64_t ch = 0; ch < c; ++ch) {
    scale[ch] = double(gamma[ch]) / std::sqrt(double(runningVar[ch]) + eps);
    shift[ch] = double(beta[ch]) - double(runningMean[ch]) * scale[ch];
  }
  affinePerChannel(y, x, scale.data(), shift.data(), n, c, hw);
}

template <typename T>
void batch_norm_bwd(T *dx, T *dgamma, T *dbeta, const T *dy, const T *x, const T *gamma,
                    const T *saveMean, const T *saveInvStd, int64_t n, int64_t c, int64_t hw,
                    double eps) {
  const int64_t m = n * hw;
#pragma omp parallel for if (m * c >= kParallelMin && c > 1) schedule(static)
  for (int64_t ch = 0; ch < c; ++ch) {
    double mean, invStd;
    if (saveMean && saveInvStd) {
      mean = saveMean[ch];
      invStd = saveInvStd[ch];
    } else {
      double var;
      channelStats(x, n, c, hw, ch, mean, var);
      invStd = 1.0 / std::sqrt(var + eps);
    }
    double sdy = 0, sdyx = 0; // sum(dy), sum(dy * xhat)
    for (int64_t i = 0; i < n; ++i) {
      const int64_t base = (i * c + ch) * hw;
      for (int64_t j = 0; j < hw; ++j) {
        const double g = dy[base + j];
        sdy += g;
        sdyx += g * (double(x[base + j]) - mean) * invStd;
      }
    }
    if (dbeta)
      dbeta[ch] = T(sdy);
    if (dgamma)
      dgamma[ch] = T(sdyx);
    if (!dx)
      continue;
    // dx = gamma invStd (dy - mean(dy) - xhat mean(dy xhat))
    const double k = double(gamma[ch]) * invStd;
    const double meanDy = sdy / double(m), meanDyx = sdyx / double(m);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t base = (i * c + ch) * hw;
      for (int64_t j = 0; j < hw; ++j) {
        const double xhat = (double(x[base + j]) - mean) * invStd;
        dx[base + j] = T(k * (double(dy[base + j]) - meanDy - xhat * meanDyx));
      }
    }
  }
}

template <typename T>
void layer_norm_fwd(T *y, T *saveMean, T *saveRstd, const T *x, const T *gamma, const T *beta,
                    int64_t rows, int64_t cols, double eps) {
#pragma omp parallel for if (rows * cols >= kParallelMin && rows > 1) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const T *row = x + r * cols;
    double mean, rstd;
    rowStats(row, cols, eps, mean, rstd);
    if (saveMean)
      saveMean[r] = T(mean);
    if (saveRstd)
      saveRstd[r] = T(rstd);
    const T mu = T(mean), rs = T(rstd);
    T *out = y + r * cols;
    for (int64_t j = 0; j < cols; ++j)
      out[j] = (row[j] - mu) * rs * gamma[j] + beta[j];
  }
}

template <typename T>
void layer_norm_bwd(T *dx, T *dgamma, T *dbeta, const T *dy, const T *x, const T *gamma,
                    const T *saveMean, const T *saveRstd, int64_t rows, int64_t cols, double eps) {
  const bool big = rows * cols >= kParallelMin;
  std::vector<double> mean(rows), rstd(rows);
#pragma omp parallel for if (big && rows > 1) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    if (saveMean && saveRstd) {
      mean[r] = saveMean[r];
      rstd[r] = saveRstd[r];
    } else {
      rowStats(x + r * cols, cols, eps, mean[r], rstd[r]);
    }
    if (!dx)
      continue;
    // dx = rstd (g - mean(g) - xhat mean(g xhat)) with g = dy * gamma.
    const T *row = x + r * cols, *g = dy + r * cols;
    double sg = 0, sgx = 0;
    for (int64_t j = 0; j < cols; ++j) {
      const double gj = double(g[j]) * gamma[j];
      sg += gj;
      sgx += gj * (double(row[j]) - mean[r]) * rstd[r];
    }
    const double mg = sg / double(cols), mgx = sgx / double(cols);
    for (int64_t j = 0; j < cols; ++j) {
      const double xhat = (double(row[j]) - mean[r]) * rstd[r];
      dx[r * cols + j] = T(rstd[r] * (double(g[j]) * gamma[j] - mg - xhat * mgx));
    }
  }
  if (!dgamma && !dbeta)
    return;
  // Column sums over rows, one task per block of columns, rows in order.
  constexpr int64_t kBlock = 128;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
#pragma omp parallel for if (big && blocks > 1) schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t c0 = b * kBlock, width = std::min(kBlock, cols - c0);
    double sg[kBlock] = {}, sb[kBlock] = {};
    for (int64_t r = 0; r < rows; ++r) {
      const T *row = x + r * cols + c0, *g = dy + r * cols + c0;
      for (int64_t j = 0; j < width; ++j) {
        sg[j] += double(g[j]) * (double(row[j]) - mean[r]) * rstd[r];
        sb[j] += g[j];
      }
    }
    for (int64_t j = 0; j < width; ++j) {
      if (dgamma)
        dgamma[c0 + j] = T(sg[j]);
      if (dbeta)
        dbeta[c0 + j] = T(sb[j]);
    }
  }
}

#define NNG_INSTANTIATE(T)                                                                         \
  template void batch_norm_train_fwd<T>(T *, T *, T *, T *, T *, const T *, const T *, const T *,  \
                                        int64_t, int64_t, int64_t, double, double);                \
  template void batch_norm_eval_fwd<T>(T *, const T *, const T *, const T *, const T *, const T *, \
                                       int64_t, int64_t, int64_t, double);                         \
  template void batch_norm_bwd<T>(T *, T *, T *, const T *, const T *, const T *, const T *,       \
                                  const T *, int64_t, int64_t, int64_t, double);                   \
  template void layer_norm_fwd<T>(T *, T *, T *, const T *, const T *, const T *, int64_t,         \
                                  int64_t, double);                                                \
  template void layer_norm_bwd<T>(T *, T *, T *, const T *, const T *, const T *, const T *,       \
                                  const T *, int64_t, int64_t, double);

NNG_INSTANTIATE(float)
NNG_INSTANTIATE(double)

} // namespace nng::cpu
