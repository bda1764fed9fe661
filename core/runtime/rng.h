// A small, portable random number generator. std:: distributions differ between
// standard libraries, so everything that must be reproducible (initial weights,
// shuffling, dropout masks) draws from this instead.
#pragma once

#include <cmath>
#include <cstdint>

namespace nng {

// splitmix64: a good 64-bit mixer; also used as a counter-based hash.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class Rng {
public:
  explicit Rng(uint64_t seed = 0) : state_(seed) {}
  uint64_t next() { return splitmix64(state_++); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal by Box-Muller (one draw per call; no cached pair, so the state
  // alone determines the stream).
  double normal() {
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300)
      u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }

  uint64_t state() const { return state_; }
  void setState(uint64_t s) { state_ = s; }

private:
  uint64_t state_;
};

} // namespace nng
