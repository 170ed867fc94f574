// The hot loop of a row's normal equations: lhs += Ys^T Ys for n gathered
// rows, lower triangle only. Built with -O3 and, in GCC builds without
// sanitizers, cloned for AVX2+FMA (picked at load time on CPUs that have
// them): the generic x86-64 build does not use them, and this loop is most
// of a fold-in's time.
#pragma once

namespace bf::learn::internal {

// ys: n x d row-major; lhs: d x d column-major, only entries (k, j) with
// k >= j are updated.
void AddLowerGram(const float* ys, int n, int d, float* lhs);

}  // namespace bf::learn::internal
