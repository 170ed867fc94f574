#include "embeddings/learn/als.h"

#include <cmath>
#include <algorithm>
#include <limits>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/learn/learn_test_util.h"
#include "tests/test_util.h"

namespace bf::learn {
namespace {

using testing::GroupWorld;
using testing::MakeGroupWorld;

float Score(const AlsModel& m, int32_t u, int32_t i) {
  float s = 0;
  for (int k = 0; k < m.users.dim; ++k) s += m.users.Row(u)[k] * m.items.Row(i)[k];
  return s;
}

AlsModel Train(const FeedbackMatrix& m, const AlsOptions& o, const Priors& up = {},
               const Priors& ip = {}) {
  auto model = TrainAls(m, up, ip, o);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return std::move(model).value();
}

FeedbackMatrix Matrix(const GroupWorld& w, const ConfidenceOptions& c = {}) {
  auto m = BuildFeedbackMatrix(w.users, w.items, w.train, c);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return std::move(m).value();
}

AlsOptions Small(int dim) {
  AlsOptions o;
  o.dim = dim;
  o.iterations = 10;
  o.regularization = 0.05f;
  o.threads = 2;
  return o;
}

// Four groups of users each liking (most of) their group's items: a rank-4 block matrix.
// Every held-out like must rank above every item of another group, and the model must
// reproduce the blocks: high scores inside, near zero outside.
TEST(AlsTest, RecoversPlantedLowRankMatrix) {
  const GroupWorld w = MakeGroupWorld(80, 60, 4, 0.7, 0.2, 7);
  for (Solver solver : {Solver::kCholesky, Solver::kConjugateGradient}) {
    AlsOptions o = Small(4);  // as many factors as the planted rank
    o.solver = solver;
    o.regularization = 1.0f;
    const AlsModel m = Train(Matrix(w), o);
    ASSERT_EQ(m.users.rows, 80);
    double in_sum = 0, out_sum = 0;
    int in_n = 0, out_n = 0;
    for (auto [u, i] : w.held_out) {
      const float held = Score(m, u, i);
      for (int32_t j = 0; j < w.items; ++j) {
        if (w.GroupOfItem(j) != w.GroupOfUser(u)) {
          EXPECT_GT(held, Score(m, u, j))
              << "solver " << int(solver) << " user " << u << " item " << i << " vs " << j;
        }
      }
      in_sum += held;
      ++in_n;
    }
    for (int32_t u = 0; u < w.users; ++u) {
      for (int32_t j = 0; j < w.items; ++j) {
        if (w.GroupOfItem(j) != w.GroupOfUser(u)) {
          out_sum += std::abs(Score(m, u, j));
          ++out_n;
        }
      }
    }
    EXPECT_GT(in_sum / in_n, 0.5) << "solver " << int(solver);
    EXPECT_LT(out_sum / out_n, 0.05) << "solver " << int(solver);
  }
}

TEST(AlsTest, ReportsLossEveryIterationAndItFalls) {
  const GroupWorld w = MakeGroupWorld(40, 30, 3, 0.6, 0.0, 3);
  std::vector<IterationReport> reports;
  AlsOptions o = Small(6);
  o.solver = Solver::kCholesky;
  auto m = TrainAls(Matrix(w), {}, {}, o, [&](const IterationReport& r) { reports.push_back(r); });
  ASSERT_RESULT_OK(m);
  ASSERT_EQ(reports.size(), 10u);
  for (size_t k = 0; k < reports.size(); ++k) {
    EXPECT_EQ(reports[k].iteration, static_cast<int>(k) + 1);
    EXPECT_TRUE(std::isfinite(reports[k].loss));
    if (k > 0) {
      EXPECT_LE(reports[k].loss, reports[k - 1].loss * (1 + 1e-5));
    }
  }
  EXPECT_LT(reports.back().loss, reports.front().loss);
  EXPECT_EQ(m->loss, reports.back().loss);
  EXPECT_EQ(m->iterations, 10);
}

TEST(AlsTest, SameSeedSameModelWhateverTheThreads) {
  const GroupWorld w = MakeGroupWorld(300, 200, 5, 0.3, 0.0, 11);
  const FeedbackMatrix fm = Matrix(w);
  AlsOptions o = Small(16);
  o.iterations = 3;
  o.threads = 1;
  const AlsModel one = Train(fm, o);
  o.threads = 2;
  const AlsModel two = Train(fm, o);
  o.threads = 7;
  const AlsModel seven = Train(fm, o);
  EXPECT_EQ(one.users.values, two.users.values);
  EXPECT_EQ(one.items.values, two.items.values);
  EXPECT_EQ(one.users.values, seven.users.values);
  EXPECT_EQ(one.items.values, seven.items.values);
  EXPECT_EQ(one.loss, seven.loss);
  o.seed = 2;
  const AlsModel other = Train(fm, o);
  EXPECT_NE(one.items.values, other.items.values);
}

// Item 0 has a prior and no events: it stays exactly at its prior. Item 1 has the same
// prior and many likes from group-1 users (whose items are 1, 5, 9, ...): it moves to
// fit them, ending far closer to group 1's items than to its prior.
TEST(AlsTest, PriorKeepsAnItemWithoutEventsAtItsContentVector) {
  GroupWorld w = MakeGroupWorld(40, 40, 4, 0.8, 0.0, 5);
  std::erase_if(w.train, [](const Interaction& e) { return e.item == 0; });
  const int d = 4;
  Priors items;
  items.values.assign(static_cast<size_t>(w.items) * d, 0.0f);
  items.present.assign(w.items, 0);
  const std::vector<float> prior = {0.9f, -0.3f, 0.2f, 0.1f};
  for (int32_t i : {0, 1}) {
    items.present[i] = 1;
    std::copy(prior.begin(), prior.end(), items.values.begin() + i * d);
  }
  AlsOptions o = Small(d);
  o.solver = Solver::kCholesky;
  const AlsModel m = Train(Matrix(w), o, {}, items);
  EXPECT_EQ(m.items.state[0], RowState::kPrior);
  EXPECT_EQ(std::vector<float>(m.items.Row(0).begin(), m.items.Row(0).end()), prior);
  EXPECT_EQ(m.items.state[1], RowState::kTrained);
  // Item 1 scores like its group's items for a group-1 user, not like its prior.
  const int32_t user = 1;
  EXPECT_NEAR(Score(m, user, 1), Score(m, user, 5), 0.25);
  EXPECT_GT(Score(m, user, 1), 0.5);
  // Items without prior and events have no factor.
  GroupWorld bare = w;
  auto m2 = TrainAls(Matrix(bare), {}, {}, o);
  ASSERT_RESULT_OK(m2);
  EXPECT_EQ(m2->items.state[0], RowState::kNone);
  for (float v : m2->items.Row(0)) EXPECT_EQ(v, 0.0f);
}

// The prior's pull is a setting: strong, and an item with events stays at its content
// vector; weak, and it moves to fit the users who liked it.
TEST(AlsTest, PriorRegularizationSetsHowFarEvidenceMovesAnItem) {
  const GroupWorld w = MakeGroupWorld(80, 40, 4, 0.8, 0.0, 9);
  const int d = 4;
  Priors items;
  items.values.assign(static_cast<size_t>(w.items) * d, 0.0f);
  items.present.assign(w.items, 0);
  items.present[2] = 1;
  items.values[2 * d + 3] = 1.0f;  // item 2 (group 2) has a prior
  auto dist = [&](const AlsModel& m) {
    double s = 0;
    for (int k = 0; k < d; ++k) {
      const double e = m.items.Row(2)[k] - items.values[2 * d + k];
      s += e * e;
    }
    return std::sqrt(s);
  };
  AlsOptions o = Small(d);
  o.solver = Solver::kCholesky;
  o.regularization = 1.0f;
  o.prior_regularization = 1e5f;
  const AlsModel strong = Train(Matrix(w), o, {}, items);
  EXPECT_LT(dist(strong), 0.01);
  o.prior_regularization = 1e-3f;
  const AlsModel weak = Train(Matrix(w), o, {}, items);
  // Fits behaviour: a group-2 user scores it like the group's other items (6, 10, ...).
  EXPECT_NEAR(Score(weak, 2, 2), Score(weak, 2, 6), 0.2);
  EXPECT_GT(Score(weak, 2, 2), 0.5);
  EXPECT_LT(std::abs(Score(weak, 1, 2)), 0.1);  // group 1 did not like it
}

TEST(AlsTest, DegenerateInputNeverGivesNaN) {
  // One user, one item, dimension 1; enormous weights (capped); a zero prior.
  ConfidenceOptions c;
  c.weight.fill(std::numeric_limits<float>::max());
  std::vector<Interaction> events = {{0, 0, EventKind::kLike, 1}, {0, 0, EventKind::kHide, 2},
                                     {0, 0, EventKind::kLike, 3}};
  auto fm = BuildFeedbackMatrix(1, 1, events, c);
  ASSERT_RESULT_OK(fm);
  Priors zero;
  zero.values = {0.0f};
  zero.present = {1};
  for (Solver solver : {Solver::kCholesky, Solver::kConjugateGradient}) {
    AlsOptions o = Small(1);
    o.solver = solver;
    o.regularization = 1e-30f;
    o.prior_regularization = 1e-30f;
    auto m = TrainAls(*fm, zero, zero, o);
    ASSERT_RESULT_OK(m);
    EXPECT_TRUE(std::isfinite(m->users.values[0]));
    EXPECT_TRUE(std::isfinite(m->items.values[0]));
    EXPECT_TRUE(std::isfinite(m->loss));
  }
  // Everything zero: zero-weight events, zero initial factors.
  ConfidenceOptions none;
  none.weight.fill(0.0f);
  auto fz = BuildFeedbackMatrix(2, 2, events, none);
  ASSERT_RESULT_OK(fz);
  AlsOptions o = Small(3);
  o.init_stddev = 0;
  auto mz = TrainAls(*fz, {}, {}, o);
  ASSERT_RESULT_OK(mz);
  for (float v : mz->users.values) EXPECT_EQ(v, 0.0f);
  for (float v : mz->items.values) EXPECT_EQ(v, 0.0f);
}

TEST(AlsTest, RefusesBadOptionsAndInputsWithClearErrors) {
  const GroupWorld w = MakeGroupWorld(10, 10, 2, 0.5, 0.0, 1);
  const FeedbackMatrix fm = Matrix(w);
  struct Case {
    void (*edit)(AlsOptions&);
    const char* message;
  };
  const Case cases[] = {
      {[](AlsOptions& o) { o.dim = 0; }, "dim must be in [1, 4096]"},
      {[](AlsOptions& o) { o.iterations = 0; }, "iterations must be >= 1"},
      {[](AlsOptions& o) { o.regularization = 0; }, "regularization must be a finite number > 0"},
      {[](AlsOptions& o) { o.prior_regularization = -1; },
       "prior regularization must be a finite number > 0"},
      {[](AlsOptions& o) { o.cg_steps = 0; }, "cg steps must be >= 1"},
      {[](AlsOptions& o) { o.confidence.weight[5] = -1; },
       "confidence weight of event kind 5 must be a finite number >= 0"},
      {[](AlsOptions& o) { o.confidence.half_life_s = std::nan(""); },
       "half-life must be a finite number of seconds >= 0"},
  };
  for (const Case& c : cases) {
    AlsOptions o = Small(4);
    c.edit(o);
    auto m = TrainAls(fm, {}, {}, o);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), Code::kInvalid);
    EXPECT_EQ(m.status().message(), c.message);
  }
  auto empty = BuildFeedbackMatrix(5, 5, {}, {});
  ASSERT_RESULT_OK(empty);
  auto m = TrainAls(*empty, {}, {}, Small(4));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "no interactions to train on");

  Priors bad;
  bad.values.assign(10 * 4, 0.0f);
  bad.present.assign(10, 1);
  bad.values[3 * 4 + 1] = std::numeric_limits<float>::infinity();
  m = TrainAls(fm, {}, bad, Small(4));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "item prior 3 is not finite");
  bad.present.resize(9);
  m = TrainAls(fm, bad, {}, Small(4));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "user priors must have 10 rows of 4 values");
}

TEST(AlsTest, ConcurrentTrainsOnTwoThreadsAgree) {
  const GroupWorld w = MakeGroupWorld(120, 90, 3, 0.4, 0.0, 2);
  const FeedbackMatrix fm = Matrix(w);
  AlsOptions o = Small(8);
  o.iterations = 2;
  AlsModel a, b;
  std::thread t([&] { a = Train(fm, o); });
  b = Train(fm, o);
  t.join();
  EXPECT_EQ(a.users.values, b.users.values);
  EXPECT_EQ(a.items.values, b.items.values);
}

}  // namespace
}  // namespace bf::learn
