// bridgefeed-eval's pieces: the split, the metrics, the recommenders, the loaders.
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/test_util.h"
#include "tools/eval/dataset.h"
#include "tools/eval/metrics.h"
#include "tools/eval/recommender.h"
#include "tools/eval/split.h"
#include "tools/eval/tune.h"

namespace bf::eval {
namespace {

using learn::EventKind;
using learn::Interaction;

TEST(SplitTest, EarlierShareTrainsLaterPositivesAreHeldOut) {
  // User 0: ten events out of time order; the last two by time are a LIKE of a new item
  // and a VIEW. User 1: a like of an item already seen in training is not held out.
  std::vector<Interaction> events;
  for (int t = 9; t >= 0; --t) {
    EventKind kind = EventKind::kView;
    if (t == 8) kind = EventKind::kLike;
    events.push_back({0, t, kind, 100 + t});
  }
  events.push_back({1, 3, EventKind::kLike, 5});
  events.push_back({1, 4, EventKind::kView, 6});
  events.push_back({1, 3, EventKind::kLike, 7});
  const Split s = TemporalSplit(events, 3, 0.8);
  EXPECT_EQ(s.held_out[0], (std::vector<int32_t>{8}));
  EXPECT_EQ(s.seen[0], (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_TRUE(s.held_out[1].empty());  // ceil(0.8 * 3) = 3 train; nothing later
  EXPECT_EQ(s.seen[1], (std::vector<int32_t>{3, 4}));
  EXPECT_TRUE(s.held_out[2].empty());
  EXPECT_EQ(s.train.size(), 11u);
  EXPECT_EQ(s.held_out_users(), 1);
}

TEST(MetricsTest, RecallAndNdcgByHand) {
  const std::vector<int32_t> held = {2, 5, 9};
  const std::vector<int32_t> list = {5, 1, 9, 4};
  EXPECT_DOUBLE_EQ(RecallAtK(list, held, 4), 2.0 / 3);
  EXPECT_DOUBLE_EQ(RecallAtK(list, held, 2), 1.0 / 2);  // min(K, 3) = 2
  const double dcg = 1 / std::log2(2.0) + 1 / std::log2(4.0);
  const double ideal = 1 / std::log2(2.0) + 1 / std::log2(3.0) + 1 / std::log2(4.0);
  EXPECT_DOUBLE_EQ(NdcgAtK(list, held, 4), dcg / ideal);
  EXPECT_DOUBLE_EQ(NdcgAtK({}, held, 4), 0);
}

TEST(MetricsTest, EvaluateCountsCoverageCrossShareAndSimilarity) {
  // Two users, four items; most-popular ranks item 0, then 1; each user saw one item.
  std::vector<Interaction> train = {{0, 0, EventKind::kLike, 1}, {1, 0, EventKind::kLike, 1},
                                    {1, 1, EventKind::kLike, 2}, {0, 3, EventKind::kLike, 2}};
  Split s;
  s.train = train;
  s.seen = {{0, 3}, {0, 1}};
  s.held_out = {{1}, {2}};
  PopularRecommender pop(train, 4);
  learn::Factors sim;
  sim.dim = 2;
  sim.rows = 4;
  sim.values = {1, 0, 1, 0, 0, 1, 0, 1};
  sim.state.assign(4, learn::RowState::kPrior);
  const std::vector<std::string> user_culture = {"US", "CN"};
  const std::vector<std::string> item_culture = {"US", "US", "CN", "CN"};
  EvalSetup e;
  e.split = &s;
  e.items = 4;
  e.k = 2;
  e.similarity = &sim;
  e.user_culture = &user_culture;
  e.item_culture = &item_culture;
  e.threads = 2;
  const Metrics m = Evaluate(pop, e);
  // User 0 gets [1, 2] (hit 1); user 1 gets [3, 2] (count 1 then 0 by index: 3 has 1 like).
  EXPECT_EQ(m.users, 2);
  EXPECT_DOUBLE_EQ(m.recall, 1.0);
  EXPECT_DOUBLE_EQ(m.coverage, 3.0 / 4);
  // User 0: cos(1, 2) = 0; user 1: cos(3, 2) = 1.
  EXPECT_DOUBLE_EQ(m.ils, 0.5);
  // User 0 (US): item 2 is CN -> 1 of 2; user 1 (CN): 3 and 2 are CN -> 0 of 2.
  EXPECT_DOUBLE_EQ(m.cross, 0.25);
  EXPECT_EQ(m.name, "most-popular");
}

TEST(RecommenderTest, FactorsByInnerProductOrCosine) {
  learn::Factors users, items;
  users.dim = items.dim = 2;
  users.rows = 1;
  users.values = {1, 0};
  users.state = {learn::RowState::kTrained};
  items.rows = 3;
  items.values = {3, 3, 0.9f, 0.1f, 5, 0};
  items.state = {learn::RowState::kTrained, learn::RowState::kTrained, learn::RowState::kNone};
  FactorRecommender ip("ip", users, items, Metric::kInnerProduct);
  FactorRecommender cos("cos", users, items, Metric::kCosine);
  EXPECT_EQ(ip.Recommend(0, 5, {}), (std::vector<int32_t>{0, 1}));   // item 2 has no factor
  EXPECT_EQ(cos.Recommend(0, 5, {}), (std::vector<int32_t>{1, 0}));
  const std::vector<int32_t> exclude = {1};
  EXPECT_EQ(cos.Recommend(0, 5, exclude), (std::vector<int32_t>{0}));
}

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bf-eval-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(LoaderTest, ReadsJsonLinesWithVectorsAndCultures) {
  const std::string posts = Write("posts.jsonl",
      "{\"id\":\"p:1\",\"author\":\"a\",\"culture\":\"cn\",\"vector\":[3,4]}\n"
      "{\"id\":\"p:2\",\"author\":\"a\",\"culture\":\"US\",\"vector\":[0,2]}\n");
  const std::string users = Write("users.jsonl", "{\"id\":\"u:1\",\"culture\":\"US\"}\n");
  const std::string events = Write("events.jsonl",
      "{\"user\":\"u:1\",\"post\":\"p:2\",\"type\":\"like\",\"ts\":10}\n"
      "{\"user\":\"u:2\",\"post\":\"p:1\",\"type\":\"HIDE\",\"ts\":11}\n");
  auto d = LoadJsonLines(events, posts, users);
  ASSERT_RESULT_OK(d);
  EXPECT_EQ(d->items(), 2);
  EXPECT_EQ(d->users(), 2);
  EXPECT_EQ(d->dim, 2);
  ASSERT_EQ(d->events.size(), 2u);
  EXPECT_EQ(d->events[0].user, 0);
  EXPECT_EQ(d->events[0].item, 1);
  EXPECT_EQ(d->events[0].kind, EventKind::kLike);
  EXPECT_EQ(d->events[1].kind, EventKind::kHide);
  EXPECT_EQ(d->events[1].ts, 11);
  EXPECT_FLOAT_EQ(d->item_vectors.values[0], 0.6f);  // normalised
  EXPECT_FLOAT_EQ(d->item_vectors.values[1], 0.8f);
  EXPECT_EQ(d->item_culture, (std::vector<std::string>{"CN", "US"}));
  EXPECT_EQ(d->user_culture, (std::vector<std::string>{"US", ""}));
  EXPECT_TRUE(d->user_vectors.present.empty());
}

TEST_F(LoaderTest, ErrorsNameTheFileAndLine) {
  const std::string events = Write("bad.jsonl",
      "{\"user\":\"u\",\"post\":\"p\",\"type\":\"LIKE\"}\n{\"user\":\"u\",\"post\":\"p\",\"type\":\"POKE\"}\n");
  auto d = LoadJsonLines(events, "", "");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), events + ":2: unknown event type \"POKE\"");
  const std::string missing = Write("missing.jsonl", "{\"user\":\"u\",\"type\":\"LIKE\"}\n");
  EXPECT_EQ(LoadJsonLines(missing, "", "").status().message(), missing + ":1: missing field \"post\"");
  EXPECT_EQ(LoadJsonLines((dir_ / "none").string(), "", "").status().code(), Code::kNotFound);
}

TEST_F(LoaderTest, ReadsMovieLensRatings) {
  const std::string csv = Write("ratings.csv",
      "\"userId\",\"movieId\",\"rating\",\"timestamp\"\n1,31,2.5,1260759144\n1,1029,4,1260759179\n"
      "2,31,5,1260759200\n");
  auto d = LoadMovieLensCsv(csv);
  ASSERT_RESULT_OK(d);
  ASSERT_EQ(d->events.size(), 3u);
  EXPECT_EQ(d->events[0].kind, EventKind::kView);
  EXPECT_EQ(d->events[1].kind, EventKind::kLike);
  EXPECT_EQ(d->events[2].item, 0);
  EXPECT_EQ(d->events[2].ts, 1260759200);
  EXPECT_EQ(d->item_ids, (std::vector<std::string>{"31", "1029"}));
  const std::string bad = Write("bad.csv", "a,b\n1,2\n");
  EXPECT_EQ(LoadMovieLensCsv(bad).status().message(),
            bad + ":1: header must name userId, movieId, rating and timestamp");
}

// The tuner never looks at the held-out part: it gets only the validation split, and what
// it returns is the best of its own trials.
TEST(TuneTest, PicksTheBestValidationTrial) {
  Dataset d;
  for (int u = 0; u < 30; ++u) d.user_ids.push_back("u" + std::to_string(u));
  for (int i = 0; i < 20; ++i) d.item_ids.push_back("i" + std::to_string(i));
  for (int u = 0; u < 30; ++u) {
    for (int i = u % 2; i < 20; i += 2) {
      d.events.push_back({u, i, EventKind::kLike, (i * 7 + u * 13) % 97});  // orders differ by user
    }
  }
  const Split validation = TemporalSplit(d.events, d.users(), 0.8);
  Setting start;
  start.als.dim = 4;
  start.als.threads = 1;
  TuneSpace space;
  space.like = {5};
  space.view = {0};
  space.regularization = {0.1f, 10};
  space.iterations = {3};
  EvalSetup e;
  e.items = d.items();
  e.k = 3;
  e.threads = 1;
  auto trials = Tune(d, validation, start, space, e, nullptr);
  ASSERT_RESULT_OK(trials);
  ASSERT_GE(trials->size(), 3u);
  const Trial& best = Best(*trials);
  for (const Trial& t : *trials) EXPECT_LE(t.metrics.recall, best.metrics.recall);
  EXPECT_GT(best.metrics.recall, 0.3);
}

}  // namespace
}  // namespace bf::eval
