// The engine facade on small worlds: the FEED rules of api.md, feedback,
// SIMILAR, and the index lifecycle (restart, snapshot, rebuild, backup).
#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/engine/engine_fixture.h"
#include "tests/test_util.h"

namespace bf {
namespace {

namespace fs = std::filesystem;
constexpr int kDim = 16;
constexpr int kTopics = 8;

class EngineTest : public testing::EngineFixture {
 protected:
  EngineTest() : EngineFixture(kDim) {}

  // This test's options with another data dir (a backup).
  EngineOptions Options(const std::string& data_dir) const {
    EngineOptions o = options_;
    o.data_dir = data_dir;
    return o;
  }

  Vector Topic(int t, float noise = 0.15f) {
    Vector v(kDim, 0.0f);
    v[t % kTopics] = 1.0f;
    v[kTopics + t % kTopics] = 0.3f;
    std::normal_distribution<float> g(0, noise);
    for (float& x : v) x += g(rng_);
    return v;
  }

  void Post(const std::string& id, const std::string& author, const std::string& culture,
            Vector v, int64_t ts = 0) {
    PostInput p;
    p.id = id;
    p.author = author;
    p.culture = culture;
    p.vector = std::move(v);
    p.title = "title of " + id;
    if (ts) p.ts = ts;
    ASSERT_OK(engine_->AddPost(std::move(p)));
  }
  void User(const std::string& id, const std::string& culture, std::optional<Vector> v,
            std::optional<float> openness = std::nullopt) {
    UserUpdate u;
    u.id = id;
    u.culture = culture;
    u.vector = std::move(v);
    u.openness = openness;
    ASSERT_OK(engine_->SetUser(u));
  }
  std::vector<FeedItem> Feed(const std::string& user, int count, std::optional<double> openness = {},
                             bool peek = false) {
    FeedRequest r;
    r.user = user;
    r.count = count;
    r.openness = openness;
    r.peek = peek;
    r.explain = true;
    auto f = engine_->Feed(r);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? *f : std::vector<FeedItem>{};
  }
  // Topic of a post id "t<topic>-<n>".
  static int TopicOf(const std::string& post) { return std::stoi(post.substr(1)); }

  // posts_per_topic posts per topic; 90% culture CN, 10% US.
  void World(int per_topic) {
    int n = 0;
    for (int t = 0; t < kTopics; ++t) {
      for (int i = 0; i < per_topic; ++i, ++n) {
        const bool us = n % 10 == 0;
        const std::string author =
            us ? "us" + std::to_string(n / 10 % 20) : "cn" + std::to_string(n % 60);
        Post("t" + std::to_string(t) + "-" + std::to_string(i), author, us ? "US" : "CN", Topic(t),
             1'700'000'000 + n);
      }
    }
  }

  std::mt19937 rng_{11};
};

int CrossCount(const std::vector<FeedItem>& page, const std::string& home) {
  return static_cast<int>(std::count_if(page.begin(), page.end(),
                                        [&](const FeedItem& f) { return f.culture != home; }));
}

TEST_F(EngineTest, OpennessWithNinetyPercentHomePosts) {
  World(50);  // 400 posts, 40 from US
  User("u", "CN", Topic(2));
  EXPECT_EQ(CrossCount(Feed("u", 20, 0.5, true), "CN"), 10);
  EXPECT_EQ(CrossCount(Feed("u", 20, 0.0, true), "CN"), 0);
  // All cross: the interest lists hold too few US posts, so the cross pool
  // gets its own culture-filtered walk, inside the FEED's one search.
  const EngineCounters before = engine_->Counters();
  EXPECT_EQ(CrossCount(Feed("u", 20, 1.0, true), "CN"), 20);
  EXPECT_EQ(engine_->Counters().feed_searches, before.feed_searches + 1);
  EXPECT_EQ(engine_->Counters().feed_requests, before.feed_requests + 1);
  // The user's own openness, then the server default 0.3.
  User("v", "CN", Topic(2), 0.5f);
  EXPECT_EQ(CrossCount(Feed("v", 20, std::nullopt, true), "CN"), 10);
  User("w", "CN", Topic(2));
  EXPECT_EQ(CrossCount(Feed("w", 20, std::nullopt, true), "CN"), 6);
}

TEST_F(EngineTest, BridgingPostRanksFirstAndExplainShowsWhy) {
  Vector v = Topic(3, 0.0f);
  Post("liked-by-both", "x", "CN", v);
  Post("liked-at-home", "y", "CN", v);
  for (int i = 0; i < 6; ++i) {
    const std::string cn = "cn" + std::to_string(i), us = "us" + std::to_string(i);
    User(cn, "CN", std::nullopt);
    User(us, "US", std::nullopt);
    for (const char* p : {"liked-by-both", "liked-at-home"}) {
      ASSERT_OK(engine_->RecordEvent(cn, p, EventType::kView, {}));
      ASSERT_OK(engine_->RecordEvent(us, p, EventType::kView, {}));
      ASSERT_OK(engine_->RecordEvent(cn, p, EventType::kLike, {}));
    }
    ASSERT_OK(engine_->RecordEvent(us, "liked-by-both", EventType::kLike, {}));
  }
  auto both = engine_->GetPost("liked-by-both");
  ASSERT_RESULT_OK(both);
  ASSERT_TRUE(both->has_value());
  EXPECT_EQ((*both)->positives, 12);
  EXPECT_EQ((*both)->impressions, 12);
  EXPECT_NEAR((*both)->bridging, 7.0 / 11.0, 1e-9);  // (6 + 1) / (6 + 1 + 4)
  User("reader", "CN", v);
  auto page = Feed("reader", 2, 0.0);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].post, "liked-by-both");
  EXPECT_EQ(page[1].post, "liked-at-home");
  EXPECT_NEAR(page[0].relevance, page[1].relevance, 1e-5);
  EXPECT_NEAR(page[0].bridging, 7.0 / 11.0, 1e-6);
  EXPECT_NEAR(page[1].bridging, 1.0 / 11.0, 1e-6);
  EXPECT_EQ(page[0].title, "title of liked-by-both");
  EXPECT_EQ(page[0].author, "x");
  EXPECT_EQ(page[0].source, "interest");
}

TEST_F(EngineTest, NoRepeatsAcrossFiftyFeedsAndForbiddenPostsNeverAppear) {
  World(80);  // 640 posts
  User("u", "CN", Topic(1));
  Post("own", "u", "CN", Topic(1));
  ASSERT_OK(engine_->RecordEvent("u", "t1-5", EventType::kHide, {}));
  ASSERT_OK(engine_->RecordEvent("u", "t1-6", EventType::kReport, {}));
  auto deleted = engine_->DeletePost("t1-7");
  ASSERT_RESULT_OK(deleted);
  EXPECT_TRUE(*deleted);
  std::set<std::string> served;
  for (int call = 0; call < 50; ++call) {
    auto page = Feed("u", 10);
    ASSERT_EQ(page.size(), 10u) << "call " << call;
    std::map<std::string, int> per_author;
    for (const FeedItem& f : page) {
      EXPECT_TRUE(served.insert(f.post).second) << f.post << " repeated at call " << call;
      EXPECT_NE(f.post, "own");
      EXPECT_NE(f.post, "t1-5");
      EXPECT_NE(f.post, "t1-6");
      EXPECT_NE(f.post, "t1-7");
      EXPECT_LE(++per_author[f.author], 2);
    }
  }
}

TEST_F(EngineTest, NewRelevantPostAppearsOnNextCall) {
  World(20);
  User("u", "CN", Topic(4, 0.0f));
  (void)Feed("u", 5);
  Vector exact = Topic(4, 0.0f);
  Post("brand-new", "fresh-author", "CN", exact);
  auto page = Feed("u", 5, 0.0);
  ASSERT_FALSE(page.empty());
  EXPECT_EQ(page[0].post, "brand-new");
}

TEST_F(EngineTest, PlantedInterestsFillHomeSlots) {
  World(60);
  for (int u = 0; u < 10; ++u) {
    const int topic = u % kTopics;
    User("u" + std::to_string(u), "CN", Topic(topic, 0.05f));
    auto page = Feed("u" + std::to_string(u), 20, 0.3, true);
    int home = 0, on_topic = 0;
    for (const FeedItem& f : page) {
      if (f.culture != "CN") continue;
      ++home;
      on_topic += TopicOf(f.post) == topic;
    }
    ASSERT_GT(home, 0);
    EXPECT_GE(on_topic, 0.8 * home) << "user " << u;
  }
}

TEST_F(EngineTest, LikesMoveTheFeedTowardANewTopic) {
  World(60);
  User("u", "CN", Topic(0, 0.0f));
  auto share = [&](int topic) {
    auto page = Feed("u", 20, 0.0, true);
    return std::count_if(page.begin(), page.end(),
                         [&](const FeedItem& f) { return TopicOf(f.post) == topic; });
  };
  const auto before = share(5);
  for (int i = 0; i < 8; ++i) {
    ASSERT_OK(engine_->RecordEvent("u", "t5-" + std::to_string(i + 1), EventType::kLike, {}));
  }
  const auto after = share(5);
  EXPECT_GT(after, before);
  EXPECT_GE(after, 10);
}

TEST_F(EngineTest, ColdStartGivesFullPageAcrossCultures) {
  World(20);
  const EngineCounters before = engine_->Counters();
  auto page = Feed("nobody-knows-me", 20);
  ASSERT_EQ(page.size(), 20u);
  EXPECT_EQ(engine_->Counters().feed_searches, before.feed_searches);  // no vector: no ANN
  std::set<std::string> cultures;
  for (const FeedItem& f : page) cultures.insert(f.culture);
  EXPECT_EQ(cultures.size(), 2u);
  // A user with a culture but no vector gets the openness split too.
  User("newbie", "US", std::nullopt);
  EXPECT_EQ(CrossCount(Feed("newbie", 20, 0.5), "US"), 10);
}

TEST_F(EngineTest, PeekRecordsNothing) {
  World(20);
  User("u", "CN", Topic(1));
  auto a = Feed("u", 10, {}, true);
  auto b = Feed("u", 10, {}, true);
  ASSERT_EQ(a.size(), 10u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].post, b[i].post);
  auto c = Feed("u", 10);
  auto d = Feed("u", 10);
  for (const FeedItem& f : d) {
    EXPECT_TRUE(std::none_of(c.begin(), c.end(), [&](const FeedItem& g) { return g.post == f.post; }));
  }
}

TEST_F(EngineTest, EventErrorsAndImplicitUsers) {
  World(5);
  Status s = engine_->RecordEvent("ghost", "no-such-post", EventType::kLike, {});
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.ToString(), "NotFound: post");
  ASSERT_OK(engine_->RecordEvent("ghost", "t1-1", EventType::kLike, {}));
  auto u = engine_->GetUser("ghost");
  ASSERT_RESULT_OK(u);
  ASSERT_TRUE(u->has_value());
  EXPECT_EQ((*u)->positives, 1);
  EXPECT_EQ((*u)->vector.size(), static_cast<size_t>(kDim));  // took the post's vector
  EXPECT_TRUE((*u)->culture.empty());
}

TEST_F(EngineTest, InputErrorsCarryApiCodes) {
  PostInput p;
  p.id = "p";
  p.author = "a";
  p.culture = "US";
  p.vector = Vector(3, 1.0f);
  EXPECT_EQ(engine_->AddPost(p).ToString(), "WrongDim: expected 16, got 3");
  p.vector = Vector(kDim, 0.0f);
  EXPECT_EQ(engine_->AddPost(p).code(), Code::kBadVector);
  p.vector = Topic(1);
  p.culture = "U S";
  EXPECT_EQ(engine_->AddPost(p).code(), Code::kInvalid);
  p.culture = "US";
  p.id = std::string(129, 'x');
  EXPECT_EQ(engine_->AddPost(p).code(), Code::kInvalid);
  UserUpdate u;
  u.id = "u";
  u.openness = 1.5f;
  EXPECT_EQ(engine_->SetUser(u).code(), Code::kInvalid);
  FeedRequest r;
  r.user = "u";
  r.count = 501;
  EXPECT_EQ(engine_->Feed(r).status().code(), Code::kInvalid);
  EXPECT_EQ(engine_->Similar("nope", 5, false).status().ToString(), "NotFound: post");
}

TEST_F(EngineTest, SimilarWithAndWithoutCross) {
  World(30);
  auto near = engine_->Similar("t2-1", 10, false);
  ASSERT_RESULT_OK(near);
  ASSERT_EQ(near->size(), 10u);
  for (const std::string& id : *near) {
    EXPECT_NE(id, "t2-1");
    EXPECT_EQ(TopicOf(id), 2);
  }
  auto cross = engine_->Similar("t2-1", 5, true);  // t2-1 is CN
  ASSERT_RESULT_OK(cross);
  ASSERT_EQ(cross->size(), 5u);
  for (const std::string& id : *cross) {
    auto p = engine_->GetPost(id);
    ASSERT_TRUE(p.ok() && p->has_value());
    EXPECT_EQ((*p)->record.culture, "US");
  }
  ASSERT_RESULT_OK(engine_->DeletePost((*near)[0]));
  auto again = engine_->Similar("t2-1", 10, false);
  ASSERT_RESULT_OK(again);
  EXPECT_EQ(std::count(again->begin(), again->end(), (*near)[0]), 0);
}

TEST_F(EngineTest, RestartServesExactlyTheLivePosts) {
  for (std::string spec : {"Flat", "HNSW32"}) {
    SCOPED_TRACE(spec);
    TearDown();
    options_.index.spec = spec;
    SetUp();
    World(10);  // 80 posts
    ASSERT_OK(engine_->Save());
    // After the snapshot: replace, delete, add.
    Post("t0-0", "mover", "US", Topic(7, 0.0f));
    ASSERT_RESULT_OK(engine_->DeletePost("t1-1"));
    Post("late", "late-author", "CN", Topic(6, 0.0f));
    // A killed process leaves the old snapshot behind: simulate by not saving.
    const fs::path snap = dir_ / "index.snap";
    const fs::path keep = dir_ / "old.snap";
    fs::copy_file(snap, keep);
    Reopen();  // Close writes a fresh snapshot; put the old one back and reopen.
    ASSERT_OK(engine_->Close());
    engine_.reset();
    fs::copy_file(keep, snap, fs::copy_options::overwrite_existing);
    Open();
    IndexInfo info = engine_->GetIndexInfo();
    EXPECT_EQ(info.stats.live, 80);
    auto sim = engine_->Similar("late", 100, false);
    ASSERT_RESULT_OK(sim);
    EXPECT_EQ(sim->size(), 79u);
    EXPECT_EQ(std::count(sim->begin(), sim->end(), "t1-1"), 0);
    User("q", "CN", Topic(7, 0.0f));
    auto page = Feed("q", 1, 1.0, true);
    ASSERT_EQ(page.size(), 1u);
    EXPECT_EQ(page[0].post, "t0-0");  // the replaced vector is the one searched
  }
}

TEST_F(EngineTest, CorruptSnapshotIsRebuiltFromStore) {
  World(10);
  ASSERT_OK(engine_->Close());
  engine_.reset();
  {
    std::fstream f(dir_ / "index.snap", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.write("garbage!", 8);
  }
  Open();
  EXPECT_EQ(engine_->GetIndexInfo().stats.live, 80);
  fs::resize_file(dir_ / "index.snap", 10);
  Reopen();
  EXPECT_EQ(engine_->GetIndexInfo().stats.live, 80);
}

TEST_F(EngineTest, RebuildSwapsWhileServingAndRejectsSecond) {
  World(30);
  ASSERT_OK(engine_->StartRebuild());
  Status second = engine_->StartRebuild();
  // The first may already be done on a fast machine; then a new one starts.
  if (!second.ok()) {
    EXPECT_EQ(second.code(), Code::kBusy);
  }
  for (int i = 0; i < 200 && engine_->GetIndexInfo().rebuilding; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  IndexInfo info = engine_->GetIndexInfo();
  EXPECT_FALSE(info.rebuilding);
  EXPECT_GT(info.last_rebuild, 0);
  EXPECT_EQ(info.stats.live, 240);
  EXPECT_EQ(Feed("anyone", 10).size(), 10u);
}

TEST_F(EngineTest, BackupServesTheSameState) {
  World(10);
  User("u", "US", Topic(1));
  const fs::path backup = dir_.string() + "_backup";
  fs::remove_all(backup);
  ASSERT_OK(engine_->Backup(backup.string()));
  Post("after-backup", "a", "CN", Topic(1));
  EXPECT_EQ(engine_->Backup(backup.string()).code(), Code::kInvalid);  // not empty
  ASSERT_OK(engine_->Close());
  engine_.reset();
  auto restored = Engine::Open(Options(backup.string()));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->Counters().posts, 80u);
  auto p = (*restored)->GetPost("after-backup");
  ASSERT_RESULT_OK(p);
  EXPECT_FALSE(p->has_value());
  auto u = (*restored)->GetUser("u");
  ASSERT_RESULT_OK(u);
  EXPECT_TRUE(u->has_value());
  EXPECT_EQ((*restored)->GetIndexInfo().stats.live, 80);
  ASSERT_OK((*restored)->Close());
  restored.value().reset();
  fs::remove_all(backup);
  Open();
}

// After Close every call that can fail says so with one code and message;
// the few that return plain values still answer. Nothing touches the closed
// store (ASan would see it).
TEST_F(EngineTest, EveryCallAfterCloseFailsWithInvalid) {
  Post("p1", "a1", "US", Topic(0));
  User("u1", "US", Topic(0));
  ASSERT_OK(engine_->Close());
  auto expect_closed = [](const Status& s, const char* call) {
    EXPECT_EQ(s.code(), Code::kInvalid) << call << ": " << s.ToString();
    EXPECT_EQ(s.message(), "engine is closed") << call;
  };
  UserUpdate u;
  u.id = "u2";
  expect_closed(engine_->SetUser(u), "SetUser");
  expect_closed(engine_->GetUser("u1").status(), "GetUser");
  expect_closed(engine_->DeleteUser("u1").status(), "DeleteUser");
  PostInput p;
  p.id = "p2";
  p.author = "a";
  p.culture = "US";
  p.vector = Topic(1);
  expect_closed(engine_->AddPost(p), "AddPost");
  expect_closed(engine_->GetPost("p1").status(), "GetPost");
  expect_closed(engine_->DeletePost("p1").status(), "DeletePost");
  expect_closed(engine_->RecordEvent("u1", "p1", EventType::kLike, {}), "RecordEvent");
  FeedRequest r;
  r.user = "u1";
  expect_closed(engine_->Feed(r).status(), "Feed");
  r.peek = true;
  expect_closed(engine_->Feed(r).status(), "Feed PEEK");
  expect_closed(engine_->Similar("p1", 5, false).status(), "Similar");
  expect_closed(engine_->StartRebuild(), "StartRebuild");
  expect_closed(engine_->LoadIndex((dir_ / "index.snap").string()), "LoadIndex");
  expect_closed(engine_->Save(), "Save");
  expect_closed(engine_->Backup((dir_ / "backup").string()), "Backup");
  EXPECT_FALSE(fs::exists(dir_ / "backup"));
  // Validation comes second: a closed engine says it is closed even to bad input.
  expect_closed(engine_->GetUser("").status(), "GetUser with a bad id");

  EXPECT_EQ(engine_->dim(), kDim);
  EXPECT_EQ(engine_->GetIndexInfo().stats.live, 1);
  const EngineCounters c = engine_->Counters();
  EXPECT_EQ(c.posts, 1u);
  EXPECT_EQ(c.users, 0u);  // needs the store
  EXPECT_OK(engine_->Close());  // a second Close is harmless
}

}  // namespace
}  // namespace bf
