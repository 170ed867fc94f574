// Dot: the inner product behind re-ranking (relevance, MMR similarities).
// Eigen without -march compiles to SSE2; the build targets any x86-64, so
// the AVX2+FMA kernel is chosen at run time on CPUs that have it (the same
// test Faiss's AVX2 build needs).
#include <cstddef>

#include <Eigen/Core>

#include "embeddings/vector.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define BF_DOT_AVX2 1
#include <immintrin.h>
#endif

namespace bf {
namespace {

float DotPortable(const float* a, const float* b, size_t n) {
  using MapC = Eigen::Map<const Eigen::VectorXf>;
  const auto len = static_cast<Eigen::Index>(n);
  return MapC(a, len).dot(MapC(b, len));
}

#ifdef BF_DOT_AVX2
__attribute__((target("avx2,fma"))) float DotAvx2(const float* a, const float* b, size_t n) {
  // Two accumulators: FMA's latency would otherwise serialise the loop.
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  if (i + 8 <= n) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    i += 8;
  }
  const __m256 acc = _mm256_add_ps(acc0, acc1);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  float r = _mm_cvtss_f32(s);
  for (; i < n; ++i) r += a[i] * b[i];
  return r;
}
#endif

using DotFn = float (*)(const float*, const float*, size_t);

DotFn PickDot() {
#ifdef BF_DOT_AVX2
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return DotAvx2;
#endif
  return DotPortable;
}

const DotFn kDot = PickDot();

}  // namespace

float Dot(std::span<const float> a, std::span<const float> b) {
  BF_CHECK(a.size() == b.size());
  return kDot(a.data(), b.data(), a.size());
}

const char* DotKernel() {
#ifdef BF_DOT_AVX2
  if (kDot == DotAvx2) return "avx2";
#endif
  return "portable";
}

}  // namespace bf
