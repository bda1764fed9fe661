// The BLAS ceiling of this machine for the MLP's largest GEMM (128x784 @ 784x512):
// what OpenBLAS's cblas_sgemm alone reaches, to compare training steps against.
//   g++ -O2 bench/sgemm_ceiling.cpp -o /tmp/sgemm_ceiling -lopenblas && /tmp/sgemm_ceiling
#include <cblas.h>
#include <chrono>
#include <cstdio>
#include <vector>

int main() {
  const int m = 128, k = 784, n = 512, reps = 100;
  std::vector<float> a(m * k, 0.5f), b(k * n, 0.25f), c(m * n);
  for (int round = 0; round < 3; ++round) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, a.data(), k, b.data(),
                  n, 0, c.data(), n);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("sgemm %dx%dx%d: %.1f GFLOP/s\n", m, k, n, 2.0 * m * n * k * reps / s / 1e9);
  }
}
