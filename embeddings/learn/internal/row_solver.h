// One row's normal equations in weighted ALS, shared by training and fold-in:
//   (G + lambda I + Yu^T diag(a) Yu) x = Yu^T b + lambda prior
// where Yu holds the factors of the row's observed cells (one per row of Yu),
// a = c - 1 for cells whose column is in G (c for one that is not) and
// b = c p. Both solvers leave x unchanged and return false when the result
// would not be finite, so no NaN or infinity is ever written.
// Not thread-safe per RowSolver (it owns scratch space): one per thread.
#pragma once

#include <Eigen/Dense>

namespace bf::learn::internal {

using MatrixRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class RowSolver {
 public:
  explicit RowSolver(int dim);

  // Gathered cells; callers fill these rows before solving.
  // REQUIRES: n <= capacity after Reserve(n).
  void Reserve(int n);
  float* YRow(int k) { return yu_.row(k).data(); }
  float& A(int k) { return a_(k); }
  float& B(int k) { return b_(k); }

  // prior: dim floats or nullptr (pull toward 0).
  bool SolveCholesky(const Eigen::Ref<const Eigen::MatrixXf>& gramian, float lambda, const float* prior, int n,
                     float* x);
  bool SolveConjugateGradient(const Eigen::Ref<const Eigen::MatrixXf>& gramian, float lambda, const float* prior,
                              int n, int steps, float* x);

 private:
  int dim_;
  MatrixRM yu_;
  Eigen::VectorXf a_, b_;
  Eigen::MatrixXf lhs_;
  Eigen::VectorXf rhs_, r_, p_, ap_, t_, x_;
};

}  // namespace bf::learn::internal
