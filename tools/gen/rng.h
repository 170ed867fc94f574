// A deterministic random source for the demo world. std::mt19937_64 is
// specified bit for bit by the standard, but std::*_distribution are not, so
// the distributions are ours: the same seed gives the same world with any
// standard library.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace bf::gen {

// SplitMix64 step: derives independent stream seeds from one user seed, so
// changing how many numbers one phase draws does not shift the others.
inline uint64_t MixSeed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1), 53 random bits.
  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n). REQUIRES: n > 0. The bias for n far below
  // 2^53 is negligible.
  uint64_t Below(uint64_t n) {
    const auto k = static_cast<uint64_t>(Uniform() * static_cast<double>(n));
    return k < n ? k : n - 1;
  }

  bool Chance(double p) { return Uniform() < p; }

  // Standard normal by Box-Muller (both values used).
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - Uniform();  // (0, 1]: log is finite
    const double u2 = Uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * M_PI * u2);
    has_spare_ = true;
    return r * std::cos(2.0 * M_PI * u2);
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace bf::gen
