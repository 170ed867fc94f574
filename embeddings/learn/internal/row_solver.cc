#include "embeddings/learn/internal/row_solver.h"

#include "embeddings/learn/internal/gram_kernel.h"

namespace bf::learn::internal {

RowSolver::RowSolver(int dim) : dim_(dim) { Reserve(64); }

void RowSolver::Reserve(int n) {
  if (yu_.rows() >= n) return;
  const int cap = std::max<int>(n, static_cast<int>(yu_.rows()) * 2);
  yu_.resize(cap, dim_);
  a_.resize(cap);
  b_.resize(cap);
}

namespace {

template <typename Vec>
bool AllFinite(const Vec& v) {
  return v.allFinite();
}

}  // namespace

bool RowSolver::SolveCholesky(const Eigen::Ref<const Eigen::MatrixXf>& gramian, float lambda, const float* prior,
                              int n, float* x) {
  auto yu = yu_.topRows(n);
  lhs_ = gramian;
  lhs_.diagonal().array() += lambda;
  rhs_.noalias() = yu.transpose() * b_.head(n);
  if (prior != nullptr) rhs_ += lambda * Eigen::Map<const Eigen::VectorXf>(prior, dim_);
  // Yu^T diag(a) Yu as one symmetric rank-n update of the rows scaled in place by sqrt(a)
  // (the gathered rows are not needed after this).
  yu.array().colwise() *= a_.head(n).array().sqrt();
  AddLowerGram(yu_.data(), n, dim_, lhs_.data());

  Eigen::LLT<Eigen::MatrixXf, Eigen::Lower> llt(lhs_);
  if (llt.info() == Eigen::Success) {
    x_ = llt.solve(rhs_);
    if (AllFinite(x_)) {
      Eigen::Map<Eigen::VectorXf>(x, dim_) = x_;
      return true;
    }
  }
  // Rounding broke positive definiteness (huge confidences): retry in double.
  Eigen::MatrixXd lhs = lhs_.cast<double>().selfadjointView<Eigen::Lower>();
  Eigen::LDLT<Eigen::MatrixXd> ldlt(lhs);
  if (ldlt.info() != Eigen::Success) return false;
  Eigen::VectorXd xd = ldlt.solve(rhs_.cast<double>());
  x_ = xd.cast<float>();
  if (!AllFinite(x_)) return false;
  Eigen::Map<Eigen::VectorXf>(x, dim_) = x_;
  return true;
}

bool RowSolver::SolveConjugateGradient(const Eigen::Ref<const Eigen::MatrixXf>& gramian, float lambda,
                                       const float* prior, int n, int steps, float* x) {
  auto yu = yu_.topRows(n);
  auto a = a_.head(n);
  x_ = Eigen::Map<const Eigen::VectorXf>(x, dim_);
  // r = b - A x, with A v = G v + lambda v + Yu^T (a .* (Yu v)).
  auto apply = [&](const Eigen::VectorXf& v, Eigen::VectorXf& out) {
    out.noalias() = gramian * v;
    out += lambda * v;
    t_.noalias() = yu * v;
    t_.array() *= a.array();
    out.noalias() += yu.transpose() * t_;
  };
  r_.noalias() = yu.transpose() * b_.head(n);
  if (prior != nullptr) r_ += lambda * Eigen::Map<const Eigen::VectorXf>(prior, dim_);
  apply(x_, ap_);
  r_ -= ap_;
  p_ = r_;
  float rs_old = r_.squaredNorm();
  for (int it = 0; it < steps && rs_old > 1e-20f; ++it) {
    apply(p_, ap_);
    const float pap = p_.dot(ap_);
    if (!(pap > 0)) break;  // converged to rounding, or not finite
    const float alpha = rs_old / pap;
    x_ += alpha * p_;
    r_ -= alpha * ap_;
    const float rs_new = r_.squaredNorm();
    p_ = r_ + (rs_new / rs_old) * p_;
    rs_old = rs_new;
  }
  if (!AllFinite(x_)) return false;
  Eigen::Map<Eigen::VectorXf>(x, dim_) = x_;
  return true;
}

}  // namespace bf::learn::internal
