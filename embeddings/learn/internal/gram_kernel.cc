#include "embeddings/learn/internal/gram_kernel.h"

namespace bf::learn::internal {
namespace {

// Four rows at a time, so each load and store of lhs carries four multiply-adds. Column j
// starts at row j rounded down to 8, so every inner loop is whole vectors; the few
// entries above the diagonal it also updates are never read (LLT reads the lower part).
template <int kD>
inline void Kernel(const float* __restrict ys, int n, int d, float* __restrict lhs) {
  const int dim = kD > 0 ? kD : d;
  const int step = kD > 0 ? 8 : 1;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const float* __restrict y0 = ys + static_cast<long>(i) * dim;
    const float* __restrict y1 = y0 + dim;
    const float* __restrict y2 = y1 + dim;
    const float* __restrict y3 = y2 + dim;
    for (int j = 0; j < dim; ++j) {
      const float s0 = y0[j], s1 = y1[j], s2 = y2[j], s3 = y3[j];
      float* __restrict col = lhs + static_cast<long>(j) * dim;
      for (int k = j / step * step; k < dim; ++k) {
        col[k] += s0 * y0[k] + s1 * y1[k] + s2 * y2[k] + s3 * y3[k];
      }
    }
  }
  for (; i < n; ++i) {
    const float* __restrict y = ys + static_cast<long>(i) * dim;
    for (int j = 0; j < dim; ++j) {
      const float s = y[j];
      float* __restrict col = lhs + static_cast<long>(j) * dim;
      for (int k = j / step * step; k < dim; ++k) col[k] += s * y[k];
    }
  }
}

}  // namespace

#if defined(__x86_64__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__)
#define BF_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define BF_CLONES
#endif

// Fixed sizes for the usual dimensions let the compiler unroll whole vectors.
BF_CLONES void AddLowerGram(const float* ys, int n, int d, float* lhs) {
  switch (d) {
    case 32: return Kernel<32>(ys, n, d, lhs);
    case 64: return Kernel<64>(ys, n, d, lhs);
    case 128: return Kernel<128>(ys, n, d, lhs);
    default: return Kernel<0>(ys, n, d, lhs);
  }
}

}  // namespace bf::learn::internal
