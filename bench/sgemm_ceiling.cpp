// The BLAS ceiling of this machine for the GEMMs of the MLP training steps of
// bench/train-steps.sh, and what nng's gemm (core/cpu/kernels/linalg.h) makes of them:
// for each shape, OpenBLAS threaded by itself, OpenBLAS on one thread, and nng's gemm,
// which splits a large product into one single-threaded OpenBLAS call per thread.
// GFLOP/s, best of 5 rounds, operands warm in cache. Built against nng's core library
// (the build folder's libnng_core.a), from the repository root:
//   g++ -O2 -fopenmp -I. bench/sgemm_ceiling.cpp build/core/libnng_core.a -lopenblas -o /tmp/sg
//   OPENBLAS_CORETYPE=SkylakeX OMP_NUM_THREADS=2 /tmp/sg
// (OPENBLAS_CORETYPE: see bench/README.md; nng itself sets it, this program does not.)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include <cblas.h>
#include <omp.h>

#include "core/cpu/kernels/linalg.h"

namespace {

struct Shape {
  const char *what;
  int m, n, k;
  bool transA, transB;
};

// c[m, n] = op(a) op(b), as the MLP step calls them (batch 128, and batch 256 for 2048).
const Shape kShapes[] = {
    {"784-512-256-10 forward 1", 128, 512, 784, false, false},
    {"784-512-256-10 forward 2", 128, 256, 512, false, false},
    {"784-512-256-10 dweight 1", 784, 512, 128, true, false},
    {"784-512-256-10 dweight 2", 512, 256, 128, true, false},
    {"784-512-256-10 dx 2", 128, 512, 256, false, true},
    {"784-2048x3-10 forward", 256, 2048, 2048, false, false},
    {"784-2048x3-10 dweight", 2048, 2048, 256, true, false},
    {"784-2048x3-10 dx", 256, 2048, 2048, false, true},
};

// Seconds per call of f, timed over enough calls for about 2 GFLOP.
template <typename F> double secondsPerCall(const Shape &s, F f) {
  const int reps = std::max(3, int(1e9 / (double(s.m) * s.n * s.k)));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i)
    f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
}

} // namespace

int main() {
  const int threads = omp_get_max_threads();
  std::printf("%-26s %14s  %17s  %17s  %17s\n", "GEMM", "m x n x k", "OpenBLAS threads",
              "OpenBLAS 1 thread", "nng gemm");
  for (const Shape &s : kShapes) {
    std::vector<float> a(size_t(s.m) * s.k, 0.5f), b(size_t(s.k) * s.n, 0.25f);
    std::vector<float> c(size_t(s.m) * s.n);
    auto blas = [&] {
      cblas_sgemm(CblasRowMajor, s.transA ? CblasTrans : CblasNoTrans,
                  s.transB ? CblasTrans : CblasNoTrans, s.m, s.n, s.k, 1, a.data(),
                  s.transA ? s.m : s.k, b.data(), s.transB ? s.k : s.n, 0, c.data(), s.n);
    };
    auto nng = [&] {
      nng::cpu::gemm<float>(c.data(), a.data(), b.data(), s.m, s.n, s.k, s.transA, s.transB, 1.f,
                            0.f);
    };
    // The three run in turn in every round, so a slow spell of the machine hits all.
    double best[3] = {1e30, 1e30, 1e30};
    for (int round = 0; round < 5; ++round) {
      best[0] = std::min(best[0], secondsPerCall(s, blas));
      omp_set_num_threads(1);
      best[1] = std::min(best[1], secondsPerCall(s, blas));
      omp_set_num_threads(threads);
      best[2] = std::min(best[2], secondsPerCall(s, nng));
    }
    const double flop = 2.0 * s.m * s.n * s.k;
    const double threaded = flop / best[0] / 1e9, single = flop / best[1] / 1e9;
    const double split = flop / best[2] / 1e9;
    std::printf("%-26s %4d x%5d x%5d  %12.1f GF/s  %12.1f GF/s  %12.1f GF/s\n", s.what, s.m, s.n,
                s.k, threaded, single, split);
  }
  std::printf("(%d threads)\n", threads);
}
