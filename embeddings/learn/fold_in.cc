#include "embeddings/learn/fold_in.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <unordered_map>

#include "embeddings/heap_bytes.h"
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

  for (const UserEvent& e : events) {
    if (static_cast<int>(e.kind) >= kEventKinds) return Status::Invalid("unknown event kind");
  }
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
  // As in training, a row without cells keeps its prior exactly.
  if (n == 0) return Vector(prior.begin(), prior.end());

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

namespace bf::learn {

struct IncrementalFoldIn::State {
  int dim = 0;
  ConfidenceOptions conf;
  Eigen::LLT<Eigen::MatrixXf, Eigen::Lower> llt;
  Eigen::VectorXf rhs;
  Eigen::VectorXf x;
  bool broken = false;
  struct Sums {
    double pos = 0, neg = 0;
  };
  std::unordered_map<int64_t, Sums> cells;
  Vector prior;  // empty: none

  // Moves the cell of y from `before` to `after`: the matrix gains (c' - c) y y^T (or
  // c' - base for a new cell) and the right side (c'p' - cp) y.
  void Update(const float* y, bool in_gramian, bool existed, const Sums& before,
              const Sums& after) {
    const Cell old_cell = MakeCell(0, before.pos, before.neg);
    const Cell new_cell = MakeCell(0, after.pos, after.neg);
    const Eigen::Map<const Eigen::VectorXf> v(y, dim);
    const float a_old = existed ? old_cell.confidence - (in_gramian ? 1.0f : 0.0f) : 0.0f;
    const float a_new = new_cell.confidence - (in_gramian ? 1.0f : 0.0f);
    const float b_old = existed ? old_cell.confidence * old_cell.preference : 0.0f;
    const float b_new = new_cell.confidence * new_cell.preference;
    if (a_new > a_old) llt.rankUpdate(v, a_new - a_old);
    rhs += (b_new - b_old) * v;
  }

  Result<Vector> Current() {
    if (broken) return Status::Internal("incremental fold-in is broken: start it again");
    if (cells.empty() && !prior.empty()) {  // no evidence: the prior, as Solve
      x = Eigen::Map<const Eigen::VectorXf>(prior.data(), dim);
      return prior;
    }
    x = llt.solve(rhs);
    if (!x.allFinite() || llt.info() != Eigen::Success) {
      broken = true;
      return Status::Internal("fold-in solve has no finite solution");
    }
    if (x.isZero(0)) return Status::NotFound("no positive evidence");
    return Vector(x.data(), x.data() + dim);
  }
};

IncrementalFoldIn::IncrementalFoldIn(std::unique_ptr<State> s) : s_(std::move(s)) {}
IncrementalFoldIn::IncrementalFoldIn(IncrementalFoldIn&&) noexcept = default;
IncrementalFoldIn& IncrementalFoldIn::operator=(IncrementalFoldIn&&) noexcept = default;
IncrementalFoldIn::~IncrementalFoldIn() = default;

Result<IncrementalFoldIn> IncrementalFoldIn::Start(const FoldIn& base,
                                                   std::span<const UserEvent> history,
                                                   const ItemFactorSource& items,
                                                   std::span<const float> prior) {
  const AlsOptions& o = base.options_;
  const int d = o.dim;
  if (o.confidence.half_life_s > 0) {
    return Status::Invalid("incremental fold-in needs no time decay (half-life 0)");
  }
  if (!prior.empty() && prior.size() != static_cast<size_t>(d)) {
    return Status::WrongDim("expected " + std::to_string(d) + ", got " +
                            std::to_string(prior.size()));
  }
  auto s = std::make_unique<State>();
  s->dim = d;
  s->conf = o.confidence;
  const float lambda = prior.empty() ? o.regularization : o.prior_regularization;
  Eigen::MatrixXf a = Eigen::Map<const Eigen::MatrixXf>(base.gramian_.data(), d, d);
  a.diagonal().array() += lambda;
  s->rhs = Eigen::VectorXf::Zero(d);
  if (!prior.empty()) s->rhs = lambda * Eigen::Map<const Eigen::VectorXf>(prior.data(), d);
  s->prior.assign(prior.begin(), prior.end());
  for (const UserEvent& e : history) {
    if (static_cast<int>(e.kind) >= kEventKinds) return Status::Invalid("unknown event kind");
    bool in_gramian = false;
    if (items.Find(e.item, &in_gramian) == nullptr) continue;
    State::Sums& sums = s->cells[e.item];
    const double w = o.confidence.weight[static_cast<int>(e.kind)];
    (IsNegativeKind(e.kind) ? sums.neg : sums.pos) += w;
  }
  // The whole history in one pass, as Solve does; later events are rank-one updates.
  for (const auto& [item, sums] : s->cells) {
    bool in_gramian = false;
    const float* y = items.Find(item, &in_gramian);
    const Cell c = MakeCell(0, sums.pos, sums.neg);
    const Eigen::Map<const Eigen::VectorXf> v(y, d);
    a.selfadjointView<Eigen::Lower>().rankUpdate(v, c.confidence - (in_gramian ? 1.0f : 0.0f));
    s->rhs += c.confidence * c.preference * v;
  }
  s->llt.compute(a);
  if (s->llt.info() != Eigen::Success) {
    return Status::Internal("fold-in solve has no finite solution");
  }
  auto x = s->Current();
  if (!x.ok() && x.status().code() == Code::kInternal) return x.status();
  return IncrementalFoldIn(std::move(s));
}

bool IncrementalFoldIn::has_vector() const { return !s_->broken && s_->x.size() > 0 && !s_->x.isZero(0); }

Result<Vector> IncrementalFoldIn::Add(const UserEvent& e, const ItemFactorSource& items) {
  if (static_cast<int>(e.kind) >= kEventKinds) return Status::Invalid("unknown event kind");
  bool in_gramian = false;
  const float* y = items.Find(e.item, &in_gramian);
  if (y != nullptr && !s_->broken) {
    auto [it, inserted] = s_->cells.try_emplace(e.item);
    const State::Sums before = it->second;
    const double w = s_->conf.weight[static_cast<int>(e.kind)];
    (IsNegativeKind(e.kind) ? it->second.neg : it->second.pos) += w;
    s_->Update(y, in_gramian, !inserted, before, it->second);
  }
  return s_->Current();
}

size_t FoldIn::HeapBytes() const { return heap::Of(gramian_); }

size_t IncrementalFoldIn::HeapBytes() const {
  if (s_ == nullptr) return 0;
  const auto floats = [](Eigen::Index n) { return heap::Chunk(static_cast<uint64_t>(n) * 4); };
  return heap::Chunk(sizeof(State)) + floats(s_->llt.matrixLLT().size()) + floats(s_->rhs.size()) +
         floats(s_->x.size()) + heap::HashNodes(s_->cells, false);
}

}  // namespace bf::learn
