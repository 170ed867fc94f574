#include "embeddings/learn/fold_in.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "embeddings/learn/internal/row_solver.h"

namespace bf::learn {

const float* ModelItems::Find(int64_t item, bool* in_gramian) const {
  if (item < 0 || item >= f_.rows) return nullptr;
  const auto r = static_cast<int32_t>(item);
  if (f_.state[r] == RowState::kNone) return nullptr;
  *in_gramian = f_.state[r] == RowState::kTrained;
  return f_.Row(r).data();
}

FoldIn::FoldIn(std::vector<float> gramian, const AlsOptions& options)
    : options_(options), gramian_(std::move(gramian)) {}

Result<FoldIn> FoldIn::Create(std::vector<float> gramian, const AlsOptions& options) {
  BF_RETURN_IF_ERROR(CheckAlsOptions(options));
  const size_t want = static_cast<size_t>(options.dim) * options.dim;
  if (gramian.size() != want) {
    return Status::Invalid("gramian must have " + std::to_string(want) + " values, has " +
                           std::to_string(gramian.size()));
  }
  for (float v : gramian) {
    if (!std::isfinite(v)) return Status::Invalid("gramian is not finite");
  }
  return FoldIn(std::move(gramian), options);
}

namespace {

struct Scratch {
  explicit Scratch(int d) : dim(d), solver(d) {}
  int dim;
  internal::RowSolver solver;
  std::vector<std::pair<int64_t, uint32_t>> order;
};

Scratch& ThreadScratch(int dim) {
  thread_local std::unique_ptr<Scratch> s;
  if (!s || s->dim != dim) s = std::make_unique<Scratch>(dim);
  return *s;
}

}  // namespace

Result<Vector> FoldIn::Solve(std::span<const UserEvent> events, const ItemFactorSource& items,
                             std::span<const float> prior, int64_t now) const {
  const int d = options_.dim;
  if (!prior.empty() && prior.size() != static_cast<size_t>(d)) {
    return Status::WrongDim("expected " + std::to_string(d) + ", got " +
                            std::to_string(prior.size()));
  }
  Scratch& s = ThreadScratch(d);
  // Symmetric, so its row-major values read as the column-major matrix.
  const Eigen::Map<const Eigen::MatrixXf> gramian(gramian_.data(), d, d);

  const ConfidenceOptions& conf = options_.confidence;
  if (now == 0 && conf.half_life_s > 0) {
    for (const UserEvent& e : events) now = std::max(now, e.ts);
  }
  s.order.clear();
  for (uint32_t k = 0; k < events.size(); ++k) s.order.emplace_back(events[k].item, k);
  std::sort(s.order.begin(), s.order.end());

  int n = 0;
  s.solver.Reserve(static_cast<int>(events.size()));
  for (size_t k = 0; k < s.order.size();) {
    const int64_t item = s.order[k].first;
    double pos = 0, neg = 0;
    for (; k < s.order.size() && s.order[k].first == item; ++k) {
      const UserEvent& e = events[s.order[k].second];
      const double w = conf.weight[static_cast<int>(e.kind)] * DecayWeight(conf, now, e.ts);
      (IsNegativeKind(e.kind) ? neg : pos) += w;
    }
    bool in_gramian = false;
    const float* y = items.Find(item, &in_gramian);
    if (y == nullptr) continue;
    const Cell c = MakeCell(0, pos, neg);
    std::copy(y, y + d, s.solver.YRow(n));
    s.solver.A(n) = c.confidence - (in_gramian ? 1.0f : 0.0f);
    s.solver.B(n) = c.confidence * c.preference;
    ++n;
  }
  if (n == 0 && prior.empty()) return Status::NotFound("no evidence: no event names an item with a factor");

  const float* p = prior.empty() ? nullptr : prior.data();
  const float lambda = p != nullptr ? options_.prior_regularization : options_.regularization;
  Vector x(d, 0.0f);
  if (!s.solver.SolveCholesky(gramian, lambda, p, n, x.data())) {
    return Status::Internal("fold-in solve has no finite solution");
  }
  bool zero = true;
  for (float v : x) zero = zero && v == 0.0f;
  if (zero) return Status::NotFound("no positive evidence");
  return x;
}

}  // namespace bf::learn
