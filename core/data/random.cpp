// Our own distributions over std::mt19937_64 (see random.h for why).
#include "core/data/random.h"

#include <cmath>

#include "core/diag/diagnostic.h"

namespace nng {

constexpr double kPi = 3.14159265358979323846;

double Rng::uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

uint64_t Rng::below(uint64_t n) {
  NNG_CHECK(n > 0, "Rng::below(0)");
  // Reject the top partial block of 2^64 so every residue is equally likely.
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = engine_();
  } while (x >= limit);
  return x % n;
}

double Rng::normal() {
  double u1 = 1.0 - uniform(); // (0, 1]: log(0) is never taken
  double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

uint64_t mixSeed(uint64_t a, uint64_t b) {
  uint64_t z = a + 0x9e3779b97f4a7c15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::vector<int64_t> randomPermutation(int64_t n, Rng &rng) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    p[i] = i;
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(p[i], p[rng.below(static_cast<uint64_t>(i) + 1)]);
  return p;
}

} // namespace nng
