#include "tools/eval/recommender.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Dense>

#include "tools/eval/split.h"

namespace bf::eval {

namespace {
constexpr float kNever = -std::numeric_limits<float>::infinity();
}

const char* MetricName(Metric m) { return m == Metric::kCosine ? "cosine" : "ip"; }

std::vector<int32_t> ScoringRecommender::Recommend(int32_t user, int k,
                                                   std::span<const int32_t> exclude) const {
  thread_local std::vector<float> scores;
  thread_local std::vector<int32_t> order;
  scores.assign(static_cast<size_t>(items()), 0.0f);
  if (!Score(user, scores)) return {};
  for (int32_t i : exclude) scores[i] = kNever;
  order.clear();
  for (int32_t i = 0; i < items(); ++i) {
    if (scores[i] != kNever) order.push_back(i);
  }
  auto better = [&](int32_t a, int32_t b) {
    return scores[a] != scores[b] ? scores[a] > scores[b] : a < b;
  };
  const size_t n = std::min<size_t>(static_cast<size_t>(k), order.size());
  std::partial_sort(order.begin(), order.begin() + n, order.end(), better);
  return {order.begin(), order.begin() + n};
}

FactorRecommender::FactorRecommender(std::string name, const learn::Factors& users,
                                     const learn::Factors& items, Metric metric)
    : name_(std::move(name)), users_(users), items_(items), metric_(metric) {
  inv_norm_.assign(static_cast<size_t>(items.rows), 0.0f);
  for (int32_t i = 0; i < items.rows; ++i) {
    double s = 0;
    for (float v : items.Row(i)) s += double(v) * v;
    if (s > 0) inv_norm_[i] = static_cast<float>(1.0 / std::sqrt(s));
  }
}

bool FactorRecommender::Score(int32_t user, std::span<float> scores) const {
  if (user < 0 || user >= users_.rows || users_.state[user] == learn::RowState::kNone) {
    return false;
  }
  using MatrixRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const int d = items_.dim;
  const Eigen::Map<const MatrixRM> y(items_.values.data(), items_.rows, d);
  const Eigen::Map<const Eigen::VectorXf> u(users_.Row(user).data(), d);
  Eigen::Map<Eigen::VectorXf> out(scores.data(), items_.rows);
  out.noalias() = y * u;
  for (int32_t i = 0; i < items_.rows; ++i) {
    if (items_.state[i] == learn::RowState::kNone) {
      scores[i] = kNever;
    } else if (metric_ == Metric::kCosine) {
      scores[i] *= inv_norm_[i];
    }
  }
  return true;
}

PopularRecommender::PopularRecommender(std::span<const learn::Interaction> train, int32_t items)
    : count_(static_cast<size_t>(items), 0.0f) {
  for (const learn::Interaction& e : train) {
    if (IsPositiveKind(e.kind)) count_[e.item] += 1;
  }
}

bool PopularRecommender::Score(int32_t, std::span<float> scores) const {
  std::copy(count_.begin(), count_.end(), scores.begin());
  return true;
}

GivenRows GivenVectorRecommender::Rows(const learn::Priors& user_vectors,
                                       const learn::Priors& item_vectors, int dim,
                                       std::span<const learn::Interaction> train, int32_t users,
                                       int32_t items) {
  GivenRows g;
  for (auto* f : {&g.users, &g.items}) f->dim = dim;
  g.items.rows = items;
  g.items.values.assign(static_cast<size_t>(items) * dim, 0.0f);
  g.items.state.assign(items, learn::RowState::kNone);
  for (int32_t i = 0; i < items && !item_vectors.present.empty(); ++i) {
    if (!item_vectors.present[i]) continue;
    g.items.state[i] = learn::RowState::kPrior;
    std::copy_n(item_vectors.values.begin() + static_cast<size_t>(i) * dim, dim,
                g.items.Row(i).begin());
  }
  g.users.rows = users;
  g.users.values.assign(static_cast<size_t>(users) * dim, 0.0f);
  g.users.state.assign(users, learn::RowState::kNone);
  for (int32_t u = 0; u < users && !user_vectors.present.empty(); ++u) {
    if (!user_vectors.present[u]) continue;
    g.users.state[u] = learn::RowState::kPrior;
    std::copy_n(user_vectors.values.begin() + static_cast<size_t>(u) * dim, dim,
                g.users.Row(u).begin());
  }
  // Users without a given vector: the mean of what they liked.
  std::vector<uint8_t> built(static_cast<size_t>(users), 0);
  for (const learn::Interaction& e : train) {
    if (g.users.state[e.user] == learn::RowState::kPrior || !IsPositiveKind(e.kind) ||
        g.items.state[e.item] == learn::RowState::kNone) {
      continue;
    }
    std::span<float> row = g.users.Row(e.user);
    std::span<const float> y = g.items.Row(e.item);
    for (int k = 0; k < dim; ++k) row[k] += y[k];
    built[e.user] = 1;
  }
  for (int32_t u = 0; u < users; ++u) {
    if (!built[u]) continue;
    double s = 0;
    for (float v : g.users.Row(u)) s += double(v) * v;
    if (s == 0) continue;
    for (float& v : g.users.Row(u)) v = static_cast<float>(v / std::sqrt(s));
    g.users.state[u] = learn::RowState::kTrained;
  }
  return g;
}

GivenVectorRecommender::GivenVectorRecommender(const learn::Priors& user_vectors,
                                               const learn::Priors& item_vectors, int dim,
                                               std::span<const learn::Interaction> train,
                                               int32_t users, int32_t items)
    : GivenRows(Rows(user_vectors, item_vectors, dim, train, users, items)),
      FactorRecommender("exact-given-vectors", GivenRows::users, GivenRows::items,
                        Metric::kCosine) {}

}  // namespace bf::eval
