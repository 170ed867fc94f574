// EVENT's effect on the user's vector: exact ALS fold-in (the default) and
// the old nudge rule, the fold-in Gramian's upkeep, and concurrent events.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "embeddings/learn/fold_in.h"
#include "engine/engine.h"
#include "engine/internal/foldin_cache.h"
#include "engine/internal/item_gramian.h"
#include "engine/store/limits.h"
#include "tests/test_util.h"

namespace bf {
namespace {

namespace fs = std::filesystem;
constexpr int kDim = 8;

// Item factors for the reference solve: the posts' stored vectors by iid.
class MapItems final : public learn::ItemFactorSource {
 public:
  std::map<int64_t, Vector> rows;
  const float* Find(int64_t item, bool* in_gramian) const override {
    auto it = rows.find(item);
    if (it == rows.end()) return nullptr;
    *in_gramian = false;
    return it->second.data();
  }
};

float Cosine(const Vector& a, const Vector& b) {
  return Dot(a, b) / std::sqrt(Dot(a, a) * Dot(b, b));
}

class FeedbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("bf_feedback_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    options_.data_dir = dir_.string();
    options_.dim = kDim;
    options_.index.spec = "Flat";
    options_.snapshot_interval_s = 0;
  }
  void TearDown() override {
    if (engine_) EXPECT_OK(engine_->Close());
    engine_.reset();
    fs::remove_all(dir_);
  }
  void Open() {
    auto e = Engine::Open(options_);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }
  Vector Random() {
    std::normal_distribution<float> g(0, 1);
    Vector v(kDim);
    for (float& x : v) x = g(rng_);
    return v;
  }
  void Posts(int n) {
    for (int i = 0; i < n; ++i) {
      PostInput p;
      p.id = "p" + std::to_string(i);
      p.author = "a" + std::to_string(i);
      p.culture = i % 2 ? "US" : "CN";
      p.vector = Random();
      ASSERT_OK(engine_->AddPost(std::move(p)));
    }
  }
  Vector PostVector(const std::string& id) {
    auto p = engine_->GetPost(id);
    EXPECT_TRUE(p.ok() && p->has_value());
    return (*p)->record.vector;
  }
  uint64_t Iid(const std::string& id) {
    auto p = engine_->GetPost(id);
    EXPECT_TRUE(p.ok() && p->has_value());
    return (*p)->record.iid;
  }
  UserRecord GetUser(const std::string& id) {
    auto u = engine_->GetUser(id);
    EXPECT_TRUE(u.ok() && u->has_value());
    return u.ok() && u->has_value() ? **u : UserRecord{};
  }
  // The full fold-in the engine should match: zero Gramian (no post is
  // trained), the engine's settings, the given events, normalised.
  Vector Reference(const std::vector<std::pair<std::string, EventType>>& events,
                   const Vector& prior = {}) {
    learn::AlsOptions o = options_.learn;
    o.dim = kDim;
    auto f = learn::FoldIn::Create(std::vector<float>(kDim * kDim, 0.0f), o);
    EXPECT_TRUE(f.ok());
    MapItems items;
    std::vector<learn::UserEvent> history;
    std::set<std::pair<std::string, Engagement>> counted;  // people, not clicks
    for (const auto& [post, type] : events) {
      if (!counted.insert({post, EngagementOf(type)}).second) continue;
      const auto iid = static_cast<int64_t>(Iid(post));
      items.rows[iid] = PostVector(post);
      history.push_back({iid, static_cast<learn::EventKind>(type), 0});
    }
    auto x = f->Solve(history, items, prior);
    EXPECT_TRUE(x.ok()) << x.status().ToString();
    Vector v = x.ok() ? *x : Vector(kDim, 1.0f);
    Normalize(v);
    return v;
  }
  void ExpectNear(const Vector& got, const Vector& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 2e-4) << "at " << i;
  }

  fs::path dir_;
  EngineOptions options_;
  std::unique_ptr<Engine> engine_;
  std::mt19937 rng_{7};
};

TEST_F(FeedbackTest, FirstPositiveEventGivesTheLikedPostsDirection) {
  Open();
  Posts(10);
  ASSERT_OK(engine_->RecordEvent("u", "p3", EventType::kLike, {}));
  const UserRecord u = GetUser("u");
  ASSERT_EQ(u.vector.size(), static_cast<size_t>(kDim));
  EXPECT_GT(Cosine(u.vector, PostVector("p3")), 0.9999f);
  EXPECT_EQ(u.positives, 1);
}

TEST_F(FeedbackTest, EveryEventEqualsTheFullSolve) {
  Open();
  Posts(12);
  std::vector<std::pair<std::string, EventType>> events = {
      {"p1", EventType::kLike}, {"p2", EventType::kView},  {"p1", EventType::kView},
      {"p5", EventType::kSave}, {"p6", EventType::kHide},  {"p2", EventType::kShare},
      {"p7", EventType::kReport}, {"p8", EventType::kComment}, {"p1", EventType::kHide}};
  std::vector<std::pair<std::string, EventType>> so_far;
  for (const auto& e : events) {
    ASSERT_OK(engine_->RecordEvent("u", e.first, e.second, {}));
    so_far.push_back(e);
    ExpectNear(GetUser("u").vector, Reference(so_far));
  }
}

TEST_F(FeedbackTest, AGivenVectorIsThePriorOfTheSolve) {
  Open();
  Posts(6);
  UserUpdate up;
  up.id = "u";
  up.vector = Random();
  ASSERT_OK(engine_->SetUser(up));
  Vector prior = *up.vector;
  Normalize(prior);
  ExpectNear(GetUser("u").vector, prior);  // no events: the prior itself
  ASSERT_OK(engine_->RecordEvent("u", "p2", EventType::kLike, {}));
  ASSERT_OK(engine_->RecordEvent("u", "p4", EventType::kHide, {}));
  ExpectNear(GetUser("u").vector,
             Reference({{"p2", EventType::kLike}, {"p4", EventType::kHide}}, prior));
  // A new prior re-solves the same history with it.
  up.vector = Random();
  ASSERT_OK(engine_->SetUser(up));
  prior = *up.vector;
  Normalize(prior);
  ExpectNear(GetUser("u").vector,
             Reference({{"p2", EventType::kLike}, {"p4", EventType::kHide}}, prior));
}

TEST_F(FeedbackTest, HidesAloneGiveNoVector) {
  Open();
  Posts(4);
  ASSERT_OK(engine_->RecordEvent("u", "p1", EventType::kHide, {}));
  ASSERT_OK(engine_->RecordEvent("u", "p2", EventType::kReport, {}));
  UserRecord u = GetUser("u");
  EXPECT_TRUE(u.vector.empty());
  EXPECT_EQ(u.negatives, 2);
  // The first positive event after them gives one, shaped by them too.
  ASSERT_OK(engine_->RecordEvent("u", "p3", EventType::kLike, {}));
  ExpectNear(GetUser("u").vector, Reference({{"p1", EventType::kHide},
                                             {"p2", EventType::kReport},
                                             {"p3", EventType::kLike}}));
}

TEST_F(FeedbackTest, ADeletedPostLeavesTheSolve) {
  Open();
  Posts(6);
  ASSERT_OK(engine_->RecordEvent("u", "p1", EventType::kLike, {}));
  ASSERT_OK(engine_->RecordEvent("u", "p2", EventType::kLike, {}));
  auto gone = engine_->DeletePost("p1");
  ASSERT_RESULT_OK(gone);
  EXPECT_TRUE(*gone);
  ASSERT_OK(engine_->RecordEvent("u", "p3", EventType::kView, {}));
  ExpectNear(GetUser("u").vector,
             Reference({{"p2", EventType::kLike}, {"p3", EventType::kView}}));
}

TEST_F(FeedbackTest, EvictedUsersResolveFromTheEventLog) {
  options_.foldin_cache_users = 1;  // two users take turns: every event starts again
  Open();
  Posts(8);
  std::vector<std::pair<std::string, EventType>> a, b;
  for (int i = 0; i < 6; ++i) {
    const std::string pa = "p" + std::to_string(i), pb = "p" + std::to_string(7 - i);
    const EventType ta = i % 3 == 2 ? EventType::kHide : EventType::kLike;
    ASSERT_OK(engine_->RecordEvent("a", pa, ta, {}));
    ASSERT_OK(engine_->RecordEvent("b", pb, EventType::kView, {}));
    a.push_back({pa, ta});
    b.push_back({pb, EventType::kView});
  }
  ExpectNear(GetUser("a").vector, Reference(a));
  ExpectNear(GetUser("b").vector, Reference(b));
  // A deleted user starts from nothing.
  ASSERT_RESULT_OK(engine_->DeleteUser("a"));
  ASSERT_OK(engine_->RecordEvent("a", "p4", EventType::kLike, {}));
  ExpectNear(GetUser("a").vector, Reference({{"p4", EventType::kLike}}));
}

TEST_F(FeedbackTest, DegenerateSolvesNeverStoreNaN) {
  // A vanishing regularisation and confidence weights at the float limit:
  // the normal equations are singular or overflow; the vector must stay
  // finite (or absent), and every event is still recorded.
  options_.learn.regularization = 1e-30f;
  options_.learn.prior_regularization = 1e-30f;
  options_.learn.confidence.weight = {0.0f, 3e38f, 3e38f, 0.0f, 1e-30f, 3e38f, 0.0f};
  options_.foldin_cache_users = 2;
  Open();
  Posts(5);
  const EventType kinds[] = {EventType::kView, EventType::kLike, EventType::kHide,
                             EventType::kShare, EventType::kComment, EventType::kReport,
                             EventType::kSave};
  int n = 0;
  for (int round = 0; round < 3; ++round) {
    for (EventType t : kinds) {
      for (const char* user : {"x", "y", "z"}) {
        ASSERT_OK(engine_->RecordEvent(user, "p" + std::to_string(n % 5), t, {}));
        ++n;
        const UserRecord u = GetUser(user);
        for (float v : u.vector) ASSERT_TRUE(std::isfinite(v)) << "after event " << n;
        if (!u.vector.empty()) EXPECT_OK(CheckVector(u.vector));
      }
    }
  }
  EXPECT_EQ(engine_->Counters().events, static_cast<uint64_t>(n));
}

TEST_F(FeedbackTest, NudgeKeepsTheOldRule) {
  options_.feedback = "nudge";
  Open();
  Posts(3);
  ASSERT_OK(engine_->RecordEvent("u", "p0", EventType::kLike, {}));
  ExpectNear(GetUser("u").vector, PostVector("p0"));  // the first like's vector
  Vector want = PostVector("p0");
  MoveToward(want, PostVector("p1"), options_.ranking.feedback.toward);
  ASSERT_OK(engine_->RecordEvent("u", "p1", EventType::kLike, {}));
  ExpectNear(GetUser("u").vector, want);
}

TEST_F(FeedbackTest, BadSettingsAreRefusedAtOpen) {
  options_.feedback = "sometimes";
  auto e = Engine::Open(options_);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().ToString(), "Invalid: feedback must be foldin or nudge");
  options_.feedback = "foldin";
  options_.learn.regularization = 0;
  e = Engine::Open(options_);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kInvalid);
}

TEST(ItemGramianTest, AddAndForgetKeepTheSumOfTrainedFactors) {
  ItemGramian g(3);
  const Vector a = {1, 2, 3}, b = {0.5f, -1, 2}, c = {4, 0, -1};
  const uint64_t e0 = g.epoch();
  g.Add(1, a);
  g.Add(2, b);
  g.Add(3, c);
  g.Forget(2, b);
  g.Forget(9, c);  // never trained: the sum stays, the epoch moves
  EXPECT_TRUE(g.Contains(1) && g.Contains(3) && !g.Contains(2));
  EXPECT_EQ(g.trained(), 2u);
  EXPECT_GT(g.epoch(), e0 + 4);
  const std::vector<float> m = g.Matrix();
  for (int r = 0; r < 3; ++r) {
    for (int k = 0; k < 3; ++k) EXPECT_FLOAT_EQ(m[r * 3 + k], a[r] * a[k] + c[r] * c[k]);
  }
  g.Forget(1, a);
  g.Forget(3, c);
  for (float v : g.Matrix()) EXPECT_EQ(v, 0.0f);
}

TEST(FoldInCacheTest, DropsTheLeastRecentlyUsed) {
  FoldInCache cache(2);
  learn::AlsOptions o;
  o.dim = 2;
  auto f = learn::FoldIn::Create(std::vector<float>(4, 0.0f), o);
  ASSERT_RESULT_OK(f);
  MapItems none;
  auto make = [&](uint64_t epoch) {
    auto s = learn::IncrementalFoldIn::Start(*f, {}, none);
    EXPECT_TRUE(s.ok());
    return std::make_shared<UserFoldIn>(epoch, std::move(s).value());
  };
  cache.Put("a", make(1));
  cache.Put("b", make(2));
  ASSERT_NE(cache.Get("a"), nullptr);  // a is now the most recent
  cache.Put("c", make(3));
  EXPECT_EQ(cache.Get("b"), nullptr);
  EXPECT_EQ(cache.Get("a")->epoch, 1u);
  EXPECT_EQ(cache.Get("c")->epoch, 3u);
  cache.Erase("a");
  EXPECT_EQ(cache.Get("a"), nullptr);
  EXPECT_EQ(cache.size(), 1u);
}

// Many threads send events for the same two users: each user's lock keeps
// their fold-in consistent, so the end result is the full solve of their log.
TEST_F(FeedbackTest, ConcurrentEventsOfOneUserStayConsistent) {
  options_.foldin_cache_users = 1;
  Open();
  Posts(10);
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const int k = (t * 7 + i * 3) % 10;
        const EventType type = i % 5 == 4 ? EventType::kHide : EventType::kLike;
        EXPECT_OK(engine_->RecordEvent(i % 2 ? "u" : "v", "p" + std::to_string(k), type, {}));
      }
    });
  }
  // Replacing a post moves the Gramian's epoch: cached states start again.
  threads.emplace_back([&] {
    for (int i = 0; i < 20; ++i) {
      PostInput p;
      p.id = "x";
      p.author = "ax";
      p.culture = "US";
      p.vector = Vector(kDim, 0.1f);
      p.vector[i % kDim] = 1.0f;
      EXPECT_OK(engine_->AddPost(std::move(p)));
    }
  });
  for (auto& th : threads) th.join();
  // The order the events were applied in does not matter to the solve: sums.
  for (const char* user : {"u", "v"}) {
    std::vector<std::pair<std::string, EventType>> all;
    for (int t = 0; t < kThreads; ++t) {
      for (int i = 0; i < kEach; ++i) {
        if ((i % 2 ? "u" : "v") != std::string(user)) continue;
        const int k = (t * 7 + i * 3) % 10;
        all.push_back({"p" + std::to_string(k), i % 5 == 4 ? EventType::kHide : EventType::kLike});
      }
    }
    ExpectNear(GetUser(user).vector, Reference(all));
    // Each post counts once per engagement kind, however many times it came.
    std::set<std::pair<std::string, Engagement>> counted;
    for (const auto& [post, type] : all) counted.insert({post, EngagementOf(type)});
    EXPECT_EQ(GetUser(user).positives + GetUser(user).negatives,
              static_cast<int64_t>(counted.size()));
  }
}

}  // namespace
}  // namespace bf
