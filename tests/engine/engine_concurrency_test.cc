// FEED, EVENT, POST.ADD and POST.DEL racing on threads through the engine
// facade (label `concurrency`: CI runs it under ThreadSanitizer). Bounded by
// counts, not time, and small enough to take well under a second.
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "tests/engine/engine_fixture.h"
#include "tests/test_util.h"

namespace bf {
namespace {

constexpr int kDim = 16;

Vector Topic(int t, std::mt19937& rng) {
  Vector v(kDim, 0.0f);
  v[t % kDim] = 1.0f;
  std::normal_distribution<float> g(0, 0.2f);
  for (float& x : v) x += g(rng);
  return v;
}

class EngineConcurrencyTest : public testing::EngineFixture {
 protected:
  EngineConcurrencyTest() : EngineFixture(kDim) {}

  Status Post(const std::string& id, int topic, const std::string& culture, std::mt19937& rng) {
    PostInput p;
    p.id = id;
    p.author = "a" + std::to_string(topic) + culture;
    p.culture = culture;
    p.vector = Topic(topic, rng);
    p.title = "title of " + id;
    return engine_->AddPost(std::move(p));
  }
};

TEST_F(EngineConcurrencyTest, FeedsEventsAddsAndDeletesRace) {
  const char* cultures[] = {"CN", "US", "BR"};
  std::mt19937 seed_rng(5);
  constexpr int kSeeded = 240;
  for (int i = 0; i < kSeeded; ++i) {
    ASSERT_OK(Post("d" + std::to_string(i), i % 6, cultures[i % 3], seed_rng));
  }
  const std::vector<std::string> users = {"hot0", "hot1", "cold"};
  for (size_t i = 0; i < users.size(); ++i) {
    UserUpdate u;
    u.id = users[i];
    u.culture = cultures[i % 3];
    u.openness = 0.5f;
    if (users[i] != "cold") u.vector = Topic(static_cast<int>(i), seed_rng);
    ASSERT_OK(engine_->SetUser(u));
  }

  // A logical clock: a FEED reads it before it starts, the deleter ticks it
  // after each DeletePost returns. A FEED that read a later tick than a
  // post's deletion started after the deletion returned.
  std::atomic<uint64_t> clock{0};
  std::mutex mu;
  std::map<std::string, uint64_t> deleted_at;              // GUARDED_BY(mu)
  std::map<std::string, std::vector<std::string>> served;  // user -> posts; GUARDED_BY(mu)
  std::vector<std::string> failures;                       // GUARDED_BY(mu)
  auto fail = [&](std::string what) {
    std::lock_guard lock(mu);
    failures.push_back(std::move(what));
  };
  std::atomic<uint64_t> feeds{0}, events{0}, added{0}, deleted{0};

  auto feeder = [&](int seed, bool peek) {
    std::mt19937 rng(seed);
    for (int i = 0; i < 30; ++i) {
      FeedRequest r;
      r.user = users[rng() % users.size()];
      r.count = 8;
      r.peek = peek;
      r.explain = true;
      const uint64_t start = clock.load();
      auto page = engine_->Feed(r);
      ++feeds;
      if (!page.ok()) {
        fail("feed: " + page.status().ToString());
        continue;
      }
      std::lock_guard lock(mu);
      for (const FeedItem& item : *page) {
        auto d = deleted_at.find(item.post);
        if (d != deleted_at.end() && start >= d->second) {
          failures.push_back(item.post + " served after its delete returned");
        }
        if (!item.title.empty() && item.title != "title of " + item.post) {
          failures.push_back(item.post + " has title " + item.title);
        }
        if (!peek) served[r.user].push_back(item.post);
      }
    }
  };
  auto deleter = [&] {
    for (int i = 0; i < kSeeded; i += 3) {
      const std::string id = "d" + std::to_string(i);
      auto gone = engine_->DeletePost(id);
      if (!gone.ok() || !*gone) {
        fail("delete " + id + ": " + (gone.ok() ? "not found" : gone.status().ToString()));
        continue;
      }
      ++deleted;
      std::lock_guard lock(mu);
      deleted_at[id] = ++clock;
    }
  };
  auto adder = [&] {
    std::mt19937 rng(9);
    for (int i = 0; i < 60; ++i) {
      Status s = Post("n" + std::to_string(i), i % 6, cultures[i % 3], rng);
      if (s.ok()) {
        ++added;
      } else {
        fail("add: " + s.ToString());
      }
    }
  };
  auto eventer = [&] {
    std::mt19937 rng(13);
    const EventType types[] = {EventType::kView, EventType::kLike, EventType::kHide};
    for (int i = 0; i < 150; ++i) {
      const std::string post = "d" + std::to_string(rng() % kSeeded);
      Status s = engine_->RecordEvent(users[rng() % users.size()], post, types[rng() % 3], {});
      if (s.ok()) {
        ++events;
      } else if (s.code() != Code::kNotFound || s.message() != "post") {
        fail("event on " + post + ": " + s.ToString());  // only deleted posts may fail
      }
    }
  };

  std::vector<std::thread> threads;
  threads.emplace_back(feeder, 1, false);
  threads.emplace_back(feeder, 2, false);
  threads.emplace_back(feeder, 3, false);
  threads.emplace_back(feeder, 4, true);
  threads.emplace_back(deleter);
  threads.emplace_back(adder);
  threads.emplace_back(eventer);
  for (std::thread& t : threads) t.join();

  EXPECT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures[0];
  size_t total_served = 0;
  for (const auto& [user, posts] : served) {
    std::set<std::string> unique(posts.begin(), posts.end());
    EXPECT_EQ(unique.size(), posts.size()) << user << " was served a post twice";
    total_served += posts.size();
  }
  EXPECT_GT(total_served, 0u);
  EXPECT_EQ(deleted.load(), static_cast<uint64_t>(kSeeded / 3));
  EXPECT_EQ(added.load(), 60u);

  const EngineCounters c = engine_->Counters();
  EXPECT_EQ(c.feed_requests, feeds.load());
  EXPECT_EQ(c.events, events.load());
  EXPECT_EQ(c.posts, kSeeded + added.load() - deleted.load());
  EXPECT_EQ(c.users, users.size());
  EXPECT_EQ(engine_->GetIndexInfo().stats.live, static_cast<int64_t>(c.posts));
  // Every deleted post is gone for good; every added one is there.
  for (const auto& [id, at] : deleted_at) {
    auto p = engine_->GetPost(id);
    ASSERT_RESULT_OK(p);
    EXPECT_FALSE(p->has_value()) << id;
  }
  auto last = engine_->GetPost("n59");
  ASSERT_RESULT_OK(last);
  EXPECT_TRUE(last->has_value());
}

}  // namespace
}  // namespace bf
