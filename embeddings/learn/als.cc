#include "embeddings/learn/als.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <random>
#include <string>

#include "embeddings/learn/internal/parallel.h"
#include "embeddings/learn/internal/row_solver.h"

namespace bf::learn {
namespace {

using internal::MatrixRM;
using internal::RowSolver;

// Fixed block sizes: partial sums are added in block order, so a result does not
// depend on the thread count.
constexpr int64_t kGramBlock = 4096;
constexpr int64_t kRowBlock = 256;

Status CheckPriors(const Priors& p, int32_t rows, int dim, const std::string& what) {
  if (p.values.empty() && p.present.empty()) return Status::OK();
  if (p.present.size() != static_cast<size_t>(rows) ||
      p.values.size() != static_cast<size_t>(rows) * static_cast<size_t>(dim)) {
    return Status::Invalid(what + " priors must have " + std::to_string(rows) + " rows of " +
                           std::to_string(dim) + " values");
  }
  for (int32_t r = 0; r < rows; ++r) {
    if (!p.present[r]) continue;
    for (int k = 0; k < dim; ++k) {
      if (!std::isfinite(p.values[static_cast<size_t>(r) * dim + k])) {
        return Status::Invalid(what + " prior " + std::to_string(r) + " is not finite");
      }
    }
  }
  return Status::OK();
}

const float* PriorOf(const Priors& p, int32_t r, int dim) {
  if (p.present.empty() || !p.present[r]) return nullptr;
  return p.values.data() + static_cast<size_t>(r) * dim;
}

// Normal deviates from our own transform of mt19937_64, so the start is the same on every
// standard library.
class Gaussian {
 public:
  explicit Gaussian(uint64_t seed) : rng_(seed) {}
  float Next() {
    const double u1 = (static_cast<double>(rng_() >> 11) + 0.5) * 0x1.0p-53;
    const double u2 = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  }

 private:
  std::mt19937_64 rng_;
};

Factors InitFactors(int32_t rows, int dim, const std::vector<int64_t>& start,
                    const Priors& priors, Gaussian& gauss, float stddev) {
  Factors f;
  f.dim = dim;
  f.rows = rows;
  f.values.assign(static_cast<size_t>(rows) * dim, 0.0f);
  f.state.assign(rows, RowState::kNone);
  for (int32_t r = 0; r < rows; ++r) {
    const bool has_cells = start[r + 1] > start[r];
    std::span<float> row = f.Row(r);
    if (const float* prior = PriorOf(priors, r, dim)) {
      std::copy(prior, prior + dim, row.begin());
      f.state[r] = has_cells ? RowState::kTrained : RowState::kPrior;
    } else if (has_cells) {
      for (float& v : row) v = stddev * gauss.Next();
      f.state[r] = RowState::kTrained;
    }
  }
  return f;
}

Eigen::MatrixXf Gramian(const Factors& f, int threads) {
  const int d = f.dim;
  const int64_t blocks = (f.rows + kGramBlock - 1) / kGramBlock;
  std::vector<Eigen::MatrixXf> partial(static_cast<size_t>(blocks));
  internal::ParallelBlocks(f.rows, kGramBlock, threads, [&](int, int64_t begin, int64_t end) {
    MatrixRM rows(end - begin, d);
    int64_t n = 0;
    for (int64_t r = begin; r < end; ++r) {
      if (f.state[r] != RowState::kTrained) continue;
      rows.row(n++) = Eigen::Map<const Eigen::RowVectorXf>(f.Row(static_cast<int32_t>(r)).data(), d);
    }
    Eigen::MatrixXf g = Eigen::MatrixXf::Zero(d, d);
    g.selfadjointView<Eigen::Lower>().rankUpdate(rows.topRows(n).transpose());
    partial[begin / kGramBlock] = std::move(g);
  });
  Eigen::MatrixXf g = Eigen::MatrixXf::Zero(d, d);
  for (const Eigen::MatrixXf& p : partial) g += p;
  return g.selfadjointView<Eigen::Lower>();
}

struct Side {
  const Factors* other;
  Factors* self;
  const Priors* priors;
  bool users;  // rows are users (cells by user)
};

// Solves every trained row of side.self against side.other, whose Gramian is g.
int64_t Sweep(const FeedbackMatrix& m, const Side& side, const Eigen::MatrixXf& g,
              const AlsOptions& o, std::vector<RowSolver>& solvers, int threads) {
  std::atomic<int64_t> failed{0};
  const int d = o.dim;
  internal::ParallelBlocks(side.self->rows, kRowBlock, threads,
                           [&](int worker, int64_t begin, int64_t end) {
    RowSolver& s = solvers[worker];
    for (int64_t r64 = begin; r64 < end; ++r64) {
      const auto r = static_cast<int32_t>(r64);
      if (side.self->state[r] != RowState::kTrained) continue;
      std::span<const Cell> cells = side.users ? m.UserRow(r) : m.ItemRow(r);
      const int n = static_cast<int>(cells.size());
      s.Reserve(n);
      for (int k = 0; k < n; ++k) {
        const Cell& c = cells[k];
        std::span<const float> y = side.other->Row(c.col);
        std::copy(y.begin(), y.end(), s.YRow(k));
        s.A(k) = c.confidence - 1.0f;
        s.B(k) = c.confidence * c.preference;
      }
      const float* prior = PriorOf(*side.priors, r, d);
      const float lambda = prior != nullptr ? o.prior_regularization : o.regularization;
      float* x = side.self->Row(r).data();
      const bool ok = o.solver == Solver::kCholesky
                          ? s.SolveCholesky(g, lambda, prior, n, x)
                          : s.SolveConjugateGradient(g, lambda, prior, n, o.cg_steps, x);
      if (!ok) failed.fetch_add(1, std::memory_order_relaxed);
    }
  });
  return failed.load();
}

double RegularizationTerm(const Factors& f, const Priors& priors, const AlsOptions& o, int32_t r) {
  if (f.state[r] != RowState::kTrained) return 0;
  const int d = o.dim;
  auto x = Eigen::Map<const Eigen::VectorXf>(f.Row(r).data(), d);
  if (const float* prior = PriorOf(priors, r, d)) {
    return o.prior_regularization * (x - Eigen::Map<const Eigen::VectorXf>(prior, d)).squaredNorm();
  }
  return o.regularization * x.squaredNorm();
}

// The objective: sum over trained users of x^T G x (every trained item as unobserved)
// corrected on the observed cells, plus both regularisation terms.
double Loss(const FeedbackMatrix& m, const AlsModel& model, const Eigen::MatrixXf& ytyg,
            const Priors& user_priors, const Priors& item_priors, const AlsOptions& o,
            int threads) {
  const int d = o.dim;
  const int64_t rows = std::max<int64_t>(m.users, m.items);
  std::vector<double> partial(static_cast<size_t>((rows + kRowBlock - 1) / kRowBlock), 0.0);
  internal::ParallelBlocks(rows, kRowBlock, threads, [&](int, int64_t begin, int64_t end) {
    double sum = 0;
    for (int64_t r64 = begin; r64 < end; ++r64) {
      const auto r = static_cast<int32_t>(r64);
      if (r < m.items) sum += RegularizationTerm(model.items, item_priors, o, r);
      if (r >= m.users || model.users.state[r] != RowState::kTrained) continue;
      sum += RegularizationTerm(model.users, user_priors, o, r);
      auto x = Eigen::Map<const Eigen::VectorXf>(model.users.Row(r).data(), d);
      sum += x.dot(ytyg * x);
      for (const Cell& c : m.UserRow(r)) {
        const double s = x.dot(Eigen::Map<const Eigen::VectorXf>(model.items.Row(c.col).data(), d));
        const double e = c.preference - s;
        sum += c.confidence * e * e - s * s;
      }
    }
    partial[begin / kRowBlock] = sum;
  });
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

std::vector<float> ToRowMajor(const Eigen::MatrixXf& g) {
  std::vector<float> out(static_cast<size_t>(g.size()));
  Eigen::Map<MatrixRM>(out.data(), g.rows(), g.cols()) = g;
  return out;
}

}  // namespace

Status CheckAlsOptions(const AlsOptions& o) {
  if (o.dim < 1 || o.dim > 4096) return Status::Invalid("dim must be in [1, 4096]");
  if (o.iterations < 1) return Status::Invalid("iterations must be >= 1");
  if (!(o.regularization > 0) || !std::isfinite(o.regularization)) {
    return Status::Invalid("regularization must be a finite number > 0");
  }
  if (!(o.prior_regularization > 0) || !std::isfinite(o.prior_regularization)) {
    return Status::Invalid("prior regularization must be a finite number > 0");
  }
  if (!(o.init_stddev >= 0) || !std::isfinite(o.init_stddev)) {
    return Status::Invalid("init stddev must be a finite number >= 0");
  }
  if (o.cg_steps < 1) return Status::Invalid("cg steps must be >= 1");
  if (o.threads < 0) return Status::Invalid("threads must be >= 0");
  return CheckConfidenceOptions(o.confidence);
}

std::vector<float> TrainedGramian(const Factors& f, int threads) {
  return ToRowMajor(Gramian(f, internal::ResolveThreads(threads)));
}

Result<AlsModel> TrainAls(const FeedbackMatrix& m, const Priors& user_priors,
                          const Priors& item_priors, const AlsOptions& o,
                          const IterationCallback& on_iteration) {
  BF_RETURN_IF_ERROR(CheckAlsOptions(o));
  BF_RETURN_IF_ERROR(CheckPriors(user_priors, m.users, o.dim, "user"));
  BF_RETURN_IF_ERROR(CheckPriors(item_priors, m.items, o.dim, "item"));
  if (m.cells() == 0) return Status::Invalid("no interactions to train on");
  const int threads = internal::ResolveThreads(o.threads);

  AlsModel model;
  Gaussian gauss(o.seed);
  model.users = InitFactors(m.users, o.dim, m.user_start, user_priors, gauss, o.init_stddev);
  model.items = InitFactors(m.items, o.dim, m.item_start, item_priors, gauss, o.init_stddev);
  std::vector<RowSolver> solvers(static_cast<size_t>(threads), RowSolver(o.dim));

  Eigen::MatrixXf yty;
  for (int it = 1; it <= o.iterations; ++it) {
    const auto start = std::chrono::steady_clock::now();
    yty = Gramian(model.items, threads);
    model.failed_solves += Sweep(m, {&model.items, &model.users, &user_priors, true}, yty, o,
                                 solvers, threads);
    const Eigen::MatrixXf xtx = Gramian(model.users, threads);
    model.failed_solves += Sweep(m, {&model.users, &model.items, &item_priors, false}, xtx, o,
                                 solvers, threads);
    yty = Gramian(model.items, threads);
    model.loss = Loss(m, model, yty, user_priors, item_priors, o, threads);
    model.iterations = it;
    if (on_iteration) {
      IterationReport report;
      report.iteration = it;
      report.loss = model.loss;
      report.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      on_iteration(report);
    }
  }
  model.item_gramian = ToRowMajor(yty);
  return model;
}

}  // namespace bf::learn
