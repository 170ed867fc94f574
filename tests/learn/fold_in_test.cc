#include "embeddings/learn/fold_in.h"

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include <Eigen/Dense>
#include <gtest/gtest.h>

#include "tests/learn/learn_test_util.h"
#include "tests/test_util.h"

namespace bf::learn {
namespace {

using testing::GroupWorld;
using testing::MakeGroupWorld;

struct Trained {
  GroupWorld world;
  AlsOptions options;
  AlsModel model;
};

Trained TrainWorld(int dim) {
  Trained t;
  t.world = MakeGroupWorld(60, 50, 3, 0.5, 0.0, 21);
  // A few hides and views so every kind of cell is present.
  t.world.train.push_back({4, 2, EventKind::kHide, 5});
  t.world.train.push_back({4, 7, EventKind::kView, 6});
  t.world.train.push_back({4, 7, EventKind::kView, 7});
  t.options.dim = dim;
  t.options.iterations = 5;
  t.options.threads = 2;
  auto m = BuildFeedbackMatrix(t.world.users, t.world.items, t.world.train, t.options.confidence);
  EXPECT_TRUE(m.ok());
  auto model = TrainAls(*m, {}, {}, t.options);
  EXPECT_TRUE(model.ok());
  t.model = std::move(model).value();
  return t;
}

std::vector<UserEvent> EventsOf(const GroupWorld& w, int32_t user) {
  std::vector<UserEvent> out;
  for (const Interaction& e : w.train) {
    if (e.user == user) out.push_back({e.item, e.kind, e.ts});
  }
  return out;
}

// The user's weighted least squares written out over every trained item, in double:
// (sum_i c_i y_i y_i^T + lambda I) x = sum_i c_i p_i y_i.
Eigen::VectorXd DenseSolve(const Trained& t, int32_t user) {
  const int d = t.options.dim;
  auto m = BuildFeedbackMatrix(t.world.users, t.world.items, t.world.train, t.options.confidence);
  std::vector<double> c(t.world.items, 1.0), p(t.world.items, 0.0);
  for (const Cell& cell : m->UserRow(user)) {
    c[cell.col] = cell.confidence;
    p[cell.col] = cell.preference;
  }
  Eigen::MatrixXd a = t.options.regularization * Eigen::MatrixXd::Identity(d, d);
  Eigen::VectorXd b = Eigen::VectorXd::Zero(d);
  for (int32_t i = 0; i < t.world.items; ++i) {
    if (t.model.items.state[i] != RowState::kTrained) continue;
    Eigen::VectorXd y(d);
    for (int k = 0; k < d; ++k) y(k) = t.model.items.Row(i)[k];
    a += c[i] * y * y.transpose();
    b += c[i] * p[i] * y;
  }
  return a.ldlt().solve(b);
}

TEST(FoldInTest, EqualsTheFullSolveForThatUser) {
  const Trained t = TrainWorld(8);
  auto fold = FoldIn::Create(t.model.item_gramian, t.options);
  ASSERT_RESULT_OK(fold);
  const ModelItems items(t.model.items);
  for (int32_t user : {0, 4, 17, 59}) {
    auto x = fold->Solve(EventsOf(t.world, user), items);
    ASSERT_RESULT_OK(x);
    const Eigen::VectorXd want = DenseSolve(t, user);
    ASSERT_EQ(x->size(), 8u);
    for (int k = 0; k < 8; ++k) {
      EXPECT_NEAR((*x)[k], want(k), 1e-3 * (1 + std::abs(want(k)))) << "user " << user;
    }
  }
}

TEST(FoldInTest, EventOrderAndSplitEventsDoNotMatter) {
  const Trained t = TrainWorld(6);
  auto fold = FoldIn::Create(t.model.item_gramian, t.options);
  ASSERT_RESULT_OK(fold);
  const ModelItems items(t.model.items);
  std::vector<UserEvent> events = EventsOf(t.world, 4);
  auto a = fold->Solve(events, items);
  std::reverse(events.begin(), events.end());
  auto b = fold->Solve(events, items);
  ASSERT_RESULT_OK(a);
  ASSERT_RESULT_OK(b);
  EXPECT_EQ(*a, *b);
}

TEST(FoldInTest, FirstPositiveEventGivesANewUserAVectorTowardTheItem) {
  const Trained t = TrainWorld(8);
  auto fold = FoldIn::Create(t.model.item_gramian, t.options);
  ASSERT_RESULT_OK(fold);
  const ModelItems items(t.model.items);
  const std::vector<UserEvent> first = {{5, EventKind::kLike, 100}};
  auto x = fold->Solve(first, items);
  ASSERT_RESULT_OK(x);
  // The liked item's group (5 % 3 == 2) now outscores the other groups on average.
  std::vector<double> mean(3, 0.0);
  for (int32_t i = 0; i < t.world.items; ++i) {
    double s = 0;
    for (int k = 0; k < 8; ++k) s += (*x)[k] * t.model.items.Row(i)[k];
    mean[i % 3] += s;
  }
  EXPECT_GT(mean[2], mean[0]);
  EXPECT_GT(mean[2], mean[1]);
}

TEST(FoldInTest, NoEvidenceIsNotFound) {
  const Trained t = TrainWorld(4);
  auto fold = FoldIn::Create(t.model.item_gramian, t.options);
  ASSERT_RESULT_OK(fold);
  const ModelItems items(t.model.items);
  auto none = fold->Solve({}, items);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  EXPECT_EQ(none.status().message(), "no evidence: no event names an item with a factor");
  const std::vector<UserEvent> unknown = {{999, EventKind::kLike, 1}};
  EXPECT_EQ(fold->Solve(unknown, items).status().code(), Code::kNotFound);
  const std::vector<UserEvent> hides = {{3, EventKind::kHide, 1}, {4, EventKind::kReport, 2}};
  auto neg = fold->Solve(hides, items);
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(neg.status().message(), "no positive evidence");
  // With a prior, the same hides give a vector: the prior moved away from them.
  const std::vector<float> prior = {0.5f, 0.5f, 0.5f, 0.5f};
  auto with_prior = fold->Solve(hides, items, prior);
  ASSERT_RESULT_OK(with_prior);
  const std::vector<float> short_prior = {1.0f};
  auto wrong = fold->Solve(hides, items, short_prior);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), Code::kWrongDim);
  EXPECT_EQ(wrong.status().message(), "expected 4, got 1");
}

// Training keeps a row without cells at its prior; fold-in does the same, exactly,
// however far the trained items' Gramian would shrink it, and only then moves.
TEST(FoldInTest, PriorWithoutEvidenceIsThePriorExactly) {
  Trained t = TrainWorld(4);
  t.options.prior_regularization = 5.0f;
  auto fold = FoldIn::Create(t.model.item_gramian, t.options);
  ASSERT_RESULT_OK(fold);
  const ModelItems items(t.model.items);
  const std::vector<float> prior = {0.3f, -0.7f, 0.11f, 0.5f};
  const std::vector<UserEvent> unknown = {{999, EventKind::kLike, 1}};
  auto none = fold->Solve({}, items, prior);
  ASSERT_RESULT_OK(none);
  EXPECT_EQ(*none, prior);
  auto skipped = fold->Solve(unknown, items, prior);
  ASSERT_RESULT_OK(skipped);
  EXPECT_EQ(*skipped, prior);
  auto inc = IncrementalFoldIn::Start(*fold, unknown, items, prior);
  ASSERT_RESULT_OK(inc);
  EXPECT_TRUE(inc->has_vector());
  auto liked = inc->Add({5, EventKind::kLike, 2}, items);
  ASSERT_RESULT_OK(liked);
  EXPECT_NE(*liked, prior);
  const std::vector<UserEvent> one = {{5, EventKind::kLike, 2}};
  auto want = fold->Solve(one, items, prior);
  ASSERT_RESULT_OK(want);
  for (int k = 0; k < 4; ++k) EXPECT_NEAR((*liked)[k], (*want)[k], 1e-4);
}

TEST(FoldInTest, UnknownEventKindIsInvalid) {
  const Trained t = TrainWorld(4);
  auto fold = FoldIn::Create(t.model.item_gramian, t.options);
  ASSERT_RESULT_OK(fold);
  const ModelItems items(t.model.items);
  const std::vector<UserEvent> bad = {{1, static_cast<EventKind>(9), 1}};
  auto x = fold->Solve(bad, items);
  ASSERT_FALSE(x.ok());
  EXPECT_EQ(x.status().code(), Code::kInvalid);
  EXPECT_EQ(x.status().message(), "unknown event kind");
  EXPECT_EQ(IncrementalFoldIn::Start(*fold, bad, items).status().message(), "unknown event kind");
  auto inc = IncrementalFoldIn::Start(*fold, {}, items);
  ASSERT_RESULT_OK(inc);
  EXPECT_EQ(inc->Add(bad[0], items).status().message(), "unknown event kind");
}

// An item outside the Gramian (prior only) counts with its full confidence.
TEST(FoldInTest, ItemOutsideTheGramianEntersWithFullConfidence) {
  AlsOptions o;
  o.dim = 2;
  o.regularization = 0.5f;
  Factors f;
  f.dim = 2;
  f.rows = 1;
  f.values = {1.0f, 0.0f};
  f.state = {RowState::kPrior};
  auto fold = FoldIn::Create(std::vector<float>(4, 0.0f), o);
  ASSERT_RESULT_OK(fold);
  const ModelItems items(f);
  const std::vector<UserEvent> like = {{0, EventKind::kLike, 1}};
  auto x = fold->Solve(like, items);
  ASSERT_RESULT_OK(x);
  // (c y y^T + lambda I) x = c y with c = 1 + 8: x0 = 9 / 9.5.
  EXPECT_FLOAT_EQ((*x)[0], 9.0f / 9.5f);
  EXPECT_FLOAT_EQ((*x)[1], 0.0f);
}

TEST(FoldInTest, DegenerateSolveNeverReturnsNaN) {
  AlsOptions o;
  o.dim = 3;
  o.regularization = 1e-30f;
  Factors f;
  f.dim = 3;
  f.rows = 3;
  const float big = 1e19f;
  f.values = {big, big, big,  0, 0, 0,  1, 1, 1};  // overflow, zero, duplicate direction
  f.state = {RowState::kTrained, RowState::kTrained, RowState::kTrained};
  const ModelItems items(f);
  for (const std::vector<float>& gram :
       {std::vector<float>(9, 0.0f), std::vector<float>{1, 1, 1, 1, 1, 1, 1, 1, 1}}) {
    auto fold = FoldIn::Create(gram, o);
    ASSERT_RESULT_OK(fold);
    const std::vector<std::vector<UserEvent>> cases = {
        {{0, EventKind::kLike, 1}},
        {{1, EventKind::kLike, 1}},
        {{2, EventKind::kLike, 1}, {2, EventKind::kShare, 2}},
        {{0, EventKind::kLike, 1}, {2, EventKind::kLike, 1}},
    };
    for (const auto& events : cases) {
      auto x = fold->Solve(events, items);
      if (x.ok()) {
        for (float v : *x) EXPECT_TRUE(std::isfinite(v));
      } else {
        EXPECT_TRUE(x.status().code() == Code::kInternal || x.status().code() == Code::kNotFound)
            << x.status().ToString();
      }
    }
  }
  // A Gramian with a NaN is refused up front.
  std::vector<float> nan_gram(9, 0.0f);
  nan_gram[4] = std::numeric_limits<float>::quiet_NaN();
  auto bad = FoldIn::Create(nan_gram, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "gramian is not finite");
  auto small = FoldIn::Create(std::vector<float>(4, 0.0f), o);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.status().message(), "gramian must have 9 values, has 4");
}

// Starting from half of a history and adding the rest one event at a time ends where a
// full solve of the whole history does, after every event.
TEST(FoldInTest, IncrementalMatchesTheFullSolveEventByEvent) {
  const Trained t = TrainWorld(8);
  auto fold = FoldIn::Create(t.model.item_gramian, t.options);
  ASSERT_RESULT_OK(fold);
  const ModelItems items(t.model.items);
  std::vector<UserEvent> events = EventsOf(t.world, 4);
  events.push_back({7, EventKind::kHide, 50});   // a hide on a viewed item
  events.push_back({9, EventKind::kLike, 51});   // a new item
  events.push_back({9, EventKind::kShare, 52});  // the same item again
  const size_t half = events.size() / 2;
  auto inc = IncrementalFoldIn::Start(*fold, std::span(events).first(half), items);
  ASSERT_RESULT_OK(inc);
  for (size_t n = half; n < events.size(); ++n) {
    auto x = inc->Add(events[n], items);
    ASSERT_RESULT_OK(x);
    auto want = fold->Solve(std::span(events).first(n + 1), items);
    ASSERT_RESULT_OK(want);
    for (int k = 0; k < 8; ++k) {
      EXPECT_NEAR((*x)[k], (*want)[k], 1e-3 * (1 + std::abs((*want)[k]))) << "event " << n;
    }
  }
  // A new user: nothing until the first positive event, then the same as Solve.
  auto fresh = IncrementalFoldIn::Start(*fold, {}, items);
  ASSERT_RESULT_OK(fresh);
  EXPECT_FALSE(fresh->has_vector());
  auto hid = fresh->Add({3, EventKind::kHide, 1}, items);
  EXPECT_EQ(hid.status().code(), Code::kNotFound);
  auto first = fresh->Add({5, EventKind::kLike, 2}, items);
  ASSERT_RESULT_OK(first);
  EXPECT_TRUE(fresh->has_vector());
  const std::vector<UserEvent> both = {{3, EventKind::kHide, 1}, {5, EventKind::kLike, 2}};
  auto want = fold->Solve(both, items);
  ASSERT_RESULT_OK(want);
  for (int k = 0; k < 8; ++k) EXPECT_NEAR((*first)[k], (*want)[k], 1e-4);
}

TEST(FoldInTest, IncrementalRefusesTimeDecay) {
  Trained t = TrainWorld(4);
  t.options.confidence.half_life_s = 3600;
  auto fold = FoldIn::Create(t.model.item_gramian, t.options);
  ASSERT_RESULT_OK(fold);
  const ModelItems items(t.model.items);
  auto inc = IncrementalFoldIn::Start(*fold, {}, items);
  ASSERT_FALSE(inc.ok());
  EXPECT_EQ(inc.status().code(), Code::kInvalid);
  EXPECT_EQ(inc.status().message(), "incremental fold-in needs no time decay (half-life 0)");
}

TEST(FoldInTest, ConcurrentSolvesAgree) {
  const Trained t = TrainWorld(8);
  auto fold = FoldIn::Create(t.model.item_gramian, t.options);
  ASSERT_RESULT_OK(fold);
  const ModelItems items(t.model.items);
  std::vector<Vector> a(20), b(20);
  auto run = [&](std::vector<Vector>& out) {
    for (int32_t u = 0; u < 20; ++u) out[u] = fold->Solve(EventsOf(t.world, u), items).value();
  };
  std::thread th([&] { run(a); });
  run(b);
  th.join();
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace bf::learn
