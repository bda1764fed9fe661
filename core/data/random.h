// Reproducible randomness for the data pipeline: synthetic data, epoch orders and the
// validation split. std::mt19937_64 is fully specified by the standard, but the std
// distributions are not (libstdc++ and libc++ give different numbers), so the
// uniform, bounded-integer and normal draws are our own.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace nng {

class Rng {
public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  uint64_t next() { return engine_(); }
  double uniform();           // [0, 1) from the top 53 bits
  uint64_t below(uint64_t n); // uniform in [0, n) without modulo bias; n > 0
  double normal();            // N(0, 1) by Box-Muller (the sine half is discarded)

private:
  std::mt19937_64 engine_;
};

// splitmix64 of (a, b): independent seeds for independent streams (epoch e of a run
// seeded s uses mixSeed(s, e)).
uint64_t mixSeed(uint64_t a, uint64_t b);

// A uniformly random permutation of 0..n-1 (Fisher-Yates) drawn from `rng`.
std::vector<int64_t> randomPermutation(int64_t n, Rng &rng);

} // namespace nng
