// Small clustered synthetic corpora for the index tests: unit vectors around
// random cluster centres, each cluster owned by one culture, so "the query's
// neighbours are all one culture" holds by construction.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace bf::testing {

struct Corpus {
  int dim = 0;
  std::vector<uint64_t> ids;
  std::vector<uint16_t> cultures;
  std::vector<float> vectors;  // ids.size() * dim
  std::span<const float> Vec(size_t i) const { return {vectors.data() + i * dim, size_t(dim)}; }
  size_t size() const { return ids.size(); }
};

inline void NormalizeInPlace(std::span<float> v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  const float inv = float(1.0 / std::sqrt(s));
  for (float& x : v) x *= inv;
}

// Ids are 100 + 7*i: never equal to Faiss slots, so a slot/id mix-up shows.
inline Corpus MakeCorpus(size_t n, int dim, int clusters, int cultures, uint32_t seed,
                         float noise = 0.6f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> centres(size_t(clusters) * dim);
  for (float& x : centres) x = g(rng);
  for (int c = 0; c < clusters; ++c) NormalizeInPlace({centres.data() + size_t(c) * dim, size_t(dim)});
  Corpus out;
  out.dim = dim;
  out.vectors.resize(n * dim);
  const float scale = noise / std::sqrt(float(dim));  // noise: norm of the offset
  for (size_t i = 0; i < n; ++i) {
    const int c = int(rng() % clusters);
    float* v = out.vectors.data() + i * dim;
    for (int j = 0; j < dim; ++j) v[j] = centres[size_t(c) * dim + j] + scale * g(rng);
    NormalizeInPlace({v, size_t(dim)});
    out.ids.push_back(100 + 7 * i);
    out.cultures.push_back(uint16_t(c % cultures));
  }
  return out;
}

// A unit vector near v (for replace tests).
inline std::vector<float> Perturb(std::span<const float> v, float eps, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> out(v.begin(), v.end());
  for (float& x : out) x += eps * g(rng);
  NormalizeInPlace(out);
  return out;
}

}  // namespace bf::testing
