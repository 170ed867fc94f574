// The engine's data rules (issue 17, points 4 to 7): engagement counts
// people, not clicks; hide, report and served marks survive a delete and
// re-add; index upkeep after deletes and growth; the ts range.
#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "engine/store/layout.h"
#include "tests/engine/engine_fixture.h"
#include "tests/test_util.h"

namespace bf {
namespace {

namespace fs = std::filesystem;
constexpr int kDim = 8;

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class EngineSemanticsTest : public testing::EngineFixture {
 protected:
  EngineSemanticsTest() : EngineFixture(kDim) {}

  // A unit vector along axis i % kDim, tilted a little by i.
  static Vector Axis(int i) {
    Vector v(kDim, 0.01f * static_cast<float>(i % 7));
    v[static_cast<size_t>(i % kDim)] = 1.0f;
    return v;
  }
  Status AddPost(const std::string& id, const std::string& culture, std::optional<int64_t> ts,
                 int axis = 0) {
    PostInput p;
    p.id = id;
    p.author = "author-" + id;
    p.culture = culture;
    p.vector = Axis(axis);
    p.ts = ts;
    return engine_->AddPost(std::move(p));
  }
  void SetUser(const std::string& id, const std::string& culture) {
    UserUpdate u;
    u.id = id;
    u.culture = culture;
    ASSERT_OK(engine_->SetUser(u));
  }
  PostInfo Get(const std::string& id) {
    auto p = engine_->GetPost(id);
    EXPECT_TRUE(p.ok() && p->has_value()) << id;
    return p.ok() && p->has_value() ? **p : PostInfo{};
  }
  std::vector<std::string> FeedIds(const std::string& user, int count, bool peek) {
    FeedRequest r;
    r.user = user;
    r.count = count;
    r.peek = peek;
    auto f = engine_->Feed(r);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    std::vector<std::string> ids;
    if (f.ok()) {
      for (const FeedItem& item : *f) ids.push_back(item.post);
    }
    return ids;
  }
  static bool Has(const std::vector<std::string>& ids, const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }

};

// Point 4 ------------------------------------------------------------------

TEST_F(EngineSemanticsTest, RepeatedEventsCountOncePerUserPostAndKind) {
  const int64_t now = Now();
  ASSERT_OK(AddPost("p", "BR", now - 3600));
  SetUser("u", "US");
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(engine_->RecordEvent("u", "p", EventType::kView, now - 100 + i));
    // LIKE, SAVE, SHARE and COMMENT are one kind: positive.
    const EventType positive[] = {EventType::kLike, EventType::kSave, EventType::kShare,
                                  EventType::kComment};
    ASSERT_OK(engine_->RecordEvent("u", "p", positive[i % 4], std::nullopt));
  }
  PostInfo p = Get("p");
  EXPECT_EQ(p.impressions, 1);
  EXPECT_EQ(p.positives, 1);
  EXPECT_EQ(p.negatives, 0);
  ASSERT_EQ(p.by_culture.size(), 1u);
  EXPECT_EQ(p.by_culture[0].culture, "US");
  EXPECT_EQ(p.by_culture[0].positives, 1);
  auto u = engine_->GetUser("u");
  ASSERT_RESULT_OK(u);
  EXPECT_EQ((*u)->positives, 1);
  // Every event is still logged.
  EXPECT_EQ(engine_->Counters().events, 200u);

  // A negative is a third kind: counted once too, and the marks are durable.
  ASSERT_OK(engine_->RecordEvent("u", "p", EventType::kHide, std::nullopt));
  Reopen();
  ASSERT_OK(engine_->RecordEvent("u", "p", EventType::kReport, std::nullopt));
  ASSERT_OK(engine_->RecordEvent("u", "p", EventType::kLike, std::nullopt));
  ASSERT_OK(engine_->RecordEvent("u", "p", EventType::kView, std::nullopt));
  p = Get("p");
  EXPECT_EQ(p.impressions, 1);
  EXPECT_EQ(p.positives, 1);
  EXPECT_EQ(p.negatives, 1);
  u = engine_->GetUser("u");
  ASSERT_RESULT_OK(u);
  EXPECT_EQ((*u)->positives, 1);
  EXPECT_EQ((*u)->negatives, 1);
}

TEST_F(EngineSemanticsTest, RepeatedLikesDoNotMoveTheUserVector) {
  ASSERT_OK(AddPost("a", "CN", std::nullopt, 0));
  ASSERT_OK(AddPost("b", "CN", std::nullopt, 1));
  SetUser("u", "US");
  ASSERT_OK(engine_->RecordEvent("u", "a", EventType::kLike, std::nullopt));
  ASSERT_OK(engine_->RecordEvent("u", "b", EventType::kLike, std::nullopt));
  auto before = engine_->GetUser("u");
  ASSERT_RESULT_OK(before);
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(engine_->RecordEvent("u", "b", EventType::kLike, std::nullopt));
  }
  auto after = engine_->GetUser("u");
  ASSERT_RESULT_OK(after);
  EXPECT_EQ((*after)->vector, (*before)->vector);
  EXPECT_EQ((*after)->positives, 2);
}

TEST_F(EngineSemanticsTest, FarmedLikesEqualOneLikePerAccountAndStayOutOfColdStart) {
  const int64_t now = Now();
  // Two posts a farm and honest readers engage with, six days old, and 30
  // fresh posts a cold-start feed would otherwise show.
  ASSERT_OK(AddPost("farmed", "BR", now - 6 * 86400, 1));
  ASSERT_OK(AddPost("honest", "BR", now - 6 * 86400, 2));
  for (int i = 0; i < 30; ++i) {
    ASSERT_OK(AddPost("fresh" + std::to_string(i), i % 2 ? "JP" : "FR", now - 60 - i, i));
  }
  // Five accounts in each of two cultures: enough impressions for a
  // bridging score (bridge_min_impressions 5), as five honest readers give.
  for (int a = 0; a < 10; ++a) {
    const std::string farm = "farm" + std::to_string(a);
    const std::string reader = "reader" + std::to_string(a);
    SetUser(farm, a < 5 ? "US" : "CN");
    SetUser(reader, a < 5 ? "US" : "CN");
    for (int i = 0; i < 100; ++i) {
      ASSERT_OK(engine_->RecordEvent(farm, "farmed", EventType::kView, std::nullopt));
      ASSERT_OK(engine_->RecordEvent(farm, "farmed", EventType::kLike, std::nullopt));
    }
    ASSERT_OK(engine_->RecordEvent(reader, "honest", EventType::kView, std::nullopt));
    ASSERT_OK(engine_->RecordEvent(reader, "honest", EventType::kLike, std::nullopt));
  }
  const PostInfo farmed = Get("farmed"), honest = Get("honest");
  EXPECT_EQ(farmed.impressions, 10);
  EXPECT_EQ(farmed.positives, 10);
  EXPECT_GT(honest.bridging, 0.0);
  EXPECT_DOUBLE_EQ(farmed.bridging, honest.bridging);
  // (5 + 1) / (5 + 1 + 4): 100 clicks per account would have given 0.96.
  EXPECT_NEAR(farmed.bridging, 0.6, 1e-9);

  // Two accounts: below the impressions a culture needs, whatever they
  // click, so the post cannot outrank fresh ones in a cold-start page
  // (counting clicks it had 0.96, first on every cold-start page).
  ASSERT_OK(AddPost("pair", "BR", now - 6 * 86400, 3));
  SetUser("x", "US");
  SetUser("y", "CN");
  for (int i = 0; i < 100; ++i) {
    for (const char* acct : {"x", "y"}) {
      ASSERT_OK(engine_->RecordEvent(acct, "pair", EventType::kView, std::nullopt));
      ASSERT_OK(engine_->RecordEvent(acct, "pair", EventType::kLike, std::nullopt));
    }
  }
  EXPECT_EQ(Get("pair").impressions, 2);
  EXPECT_EQ(Get("pair").bridging, 0.0);
  EXPECT_FALSE(Has(FeedIds("newcomer", 5, true), "pair"));
  EXPECT_FALSE(Has(FeedIds("newcomer-cn", 5, true), "pair"));
  // Restart: the counters come back from the store, still one per account.
  Reopen();
  EXPECT_NEAR(Get("farmed").bridging, 0.6, 1e-9);
  EXPECT_EQ(Get("pair").bridging, 0.0);
  EXPECT_FALSE(Has(FeedIds("newcomer", 5, true), "pair"));
}

// Point 5 ------------------------------------------------------------------

TEST_F(EngineSemanticsTest, HiddenReportedAndServedMarksSurviveDeleteAndReAdd) {
  const int64_t now = Now();
  for (int i = 0; i < 6; ++i) ASSERT_OK(AddPost("p" + std::to_string(i), "CN", now - i, i));
  SetUser("u", "US");
  ASSERT_OK(engine_->RecordEvent("u", "p0", EventType::kHide, std::nullopt));
  ASSERT_OK(engine_->RecordEvent("u", "p1", EventType::kReport, std::nullopt));
  // Served: a recorded FEED of everything else.
  const auto served = FeedIds("v", 6, false);
  ASSERT_EQ(served.size(), 6u);
  for (const std::string id : {"p0", "p1", "p2"}) {
    auto gone = engine_->DeletePost(id);
    ASSERT_RESULT_OK(gone);
    EXPECT_TRUE(*gone);
    ASSERT_OK(AddPost(id, "CN", std::nullopt, 5));
  }
  auto page = FeedIds("u", 6, true);
  EXPECT_FALSE(Has(page, "p0"));
  EXPECT_FALSE(Has(page, "p1"));
  EXPECT_TRUE(Has(page, "p2"));
  EXPECT_TRUE(FeedIds("v", 6, false).empty());  // all served within the window
  Reopen();  // durable
  page = FeedIds("u", 6, true);
  EXPECT_EQ(page.size(), 4u);
  EXPECT_FALSE(Has(page, "p0"));
  EXPECT_FALSE(Has(page, "p1"));
  EXPECT_TRUE(FeedIds("v", 6, true).empty());
}

TEST_F(EngineSemanticsTest, ReAddedPostStartsFromZeroAndItsOldAudienceIsNotRecounted) {
  ASSERT_OK(AddPost("p", "CN", std::nullopt));
  SetUser("u", "US");
  SetUser("w", "US");
  ASSERT_OK(engine_->RecordEvent("u", "p", EventType::kLike, std::nullopt));
  EXPECT_EQ(Get("p").positives, 1);
  ASSERT_RESULT_OK(engine_->DeletePost("p"));
  EXPECT_EQ(engine_->RecordEvent("u", "p", EventType::kLike, std::nullopt).code(),
            Code::kNotFound);
  ASSERT_OK(AddPost("p", "CN", std::nullopt));
  EXPECT_EQ(Get("p").positives, 0);
  ASSERT_OK(engine_->RecordEvent("u", "p", EventType::kLike, std::nullopt));
  ASSERT_OK(engine_->RecordEvent("w", "p", EventType::kLike, std::nullopt));
  EXPECT_EQ(Get("p").positives, 1);  // w's; u's like was counted before
  // A deleted user's marks go with it (USER.DEL removes them).
  auto del = engine_->DeleteUser("u");
  ASSERT_RESULT_OK(del);
  ASSERT_OK(engine_->RecordEvent("u", "p", EventType::kLike, std::nullopt));
  EXPECT_EQ(Get("p").positives, 2);
}

// Point 7 ------------------------------------------------------------------

TEST_F(EngineSemanticsTest, TsOutsideTheRangeIsRefusedWithItsUnit) {
  const std::string range =
      "ts out of range: expected seconds since the Unix epoch from 946684800 (2000-01-01) to "
      "now + 86400 (1 day)";
  const int64_t now = Now();
  Status ms = AddPost("p", "CN", 1733000000000);
  EXPECT_EQ(ms.code(), Code::kInvalid);
  EXPECT_EQ(ms.message(), range + "; 1733000000000 looks like milliseconds");
  EXPECT_EQ(AddPost("p", "CN", INT64_MAX).message(), range);
  EXPECT_EQ(AddPost("p", "CN", 946684799).message(), range);
  EXPECT_EQ(AddPost("p", "CN", now + 2 * 86400).message(), range);
  EXPECT_EQ(engine_->GetPost("p")->has_value(), false);  // nothing written
  ASSERT_OK(AddPost("p", "CN", 946684800));
  ASSERT_OK(AddPost("q", "CN", now + 3600));  // clock skew within a day
  Status ev = engine_->RecordEvent("u", "p", EventType::kLike, 5);
  EXPECT_EQ(ev.code(), Code::kInvalid);
  EXPECT_EQ(ev.message(), range);
  EXPECT_EQ(engine_->Counters().events, 0u);
  ASSERT_OK(engine_->RecordEvent("u", "p", EventType::kLike, now - 10));
}

TEST_F(EngineSemanticsTest, ReplaceWithoutTsKeepsThePostsTs) {
  const int64_t old = Now() - 30 * 86400;
  ASSERT_OK(AddPost("p", "CN", old));
  ASSERT_OK(AddPost("p", "JP", std::nullopt, 3));  // a replace: new culture and vector
  PostInfo p = Get("p");
  EXPECT_EQ(p.record.ts, old);
  EXPECT_EQ(p.record.culture, "JP");
  // Not at the front of a fresh list either.
  ASSERT_OK(AddPost("newer", "CN", Now() - 60));
  auto page = FeedIds("newcomer", 1, true);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0], "newer");
  // A new post without TS gets now; a replace with TS takes it.
  ASSERT_OK(AddPost("n", "CN", std::nullopt));
  EXPECT_NEAR(static_cast<double>(Get("n").record.ts), static_cast<double>(Now()), 5.0);
  ASSERT_OK(AddPost("p", "JP", old + 60));
  EXPECT_EQ(Get("p").record.ts, old + 60);
  Reopen();
  EXPECT_EQ(Get("p").record.ts, old + 60);
}

// Point 6 ------------------------------------------------------------------

class EngineUpkeepTest : public EngineSemanticsTest {
 protected:
  // Waits (bounded) for a running rebuild to finish.
  bool WaitRebuilt() {
    for (int i = 0; i < 300; ++i) {
      if (!engine_->GetIndexInfo().rebuilding) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
};

TEST_F(EngineUpkeepTest, FlatSwitchesToIvfAsSoonAsTheThresholdIsPassed) {
  // The smallest IVF (256 lists) trains on 256 * 39 vectors: the lowest
  // threshold that can switch.
  constexpr int kThreshold = 256 * 39;
  TearDown();
  options_.index.spec = "auto";
  options_.index.auto_ann_threshold = kThreshold;
  SetUp();
  for (int i = 0; i < kThreshold; ++i) {
    ASSERT_OK(AddPost("p" + std::to_string(i), "CN", std::nullopt, i));
  }
  EXPECT_EQ(engine_->GetIndexInfo().stats.type, "Flat");
  EXPECT_EQ(engine_->GetIndexInfo().last_rebuild, 0);
  EXPECT_FALSE(fs::exists(SnapshotPath(dir_.string())));
  ASSERT_OK(AddPost("last", "CN", std::nullopt, 1));  // one past the threshold
  ASSERT_TRUE(WaitRebuilt());
  const IndexInfo info = engine_->GetIndexInfo();
  EXPECT_EQ(info.stats.type, "IVF256,Flat");
  EXPECT_EQ(info.stats.live, kThreshold + 1);
  EXPECT_GT(info.last_rebuild, 0);
  // The finished rebuild wrote a snapshot covering every post.
  EXPECT_TRUE(fs::exists(SnapshotPath(dir_.string())));
  EXPECT_GT(info.snapshot_seq, 0u);
}

TEST_F(EngineUpkeepTest, DeletesTriggerTheTombstoneRebuildWhichIsSnapshotted) {
  TearDown();
  options_.index.rebuild_tombstone_ratio = 0.25;
  SetUp();
  for (int i = 0; i < 40; ++i) ASSERT_OK(AddPost("p" + std::to_string(i), "CN", std::nullopt, i));
  EXPECT_FALSE(fs::exists(SnapshotPath(dir_.string())));
  // 10 of 40 slots tombstoned is exactly the ratio: no rebuild yet.
  for (int i = 0; i < 10; ++i) ASSERT_RESULT_OK(engine_->DeletePost("p" + std::to_string(i)));
  EXPECT_EQ(engine_->GetIndexInfo().stats.tombstones, 10);
  EXPECT_EQ(engine_->GetIndexInfo().last_rebuild, 0);
  // The 11th delete passes it: a rebuild, no POST.ADD needed.
  ASSERT_RESULT_OK(engine_->DeletePost("p10"));
  ASSERT_TRUE(WaitRebuilt());
  const IndexInfo info = engine_->GetIndexInfo();
  EXPECT_GT(info.last_rebuild, 0);
  EXPECT_EQ(info.stats.tombstones, 0);
  EXPECT_EQ(info.stats.live, 29);
  ASSERT_TRUE(fs::exists(SnapshotPath(dir_.string())));
  EXPECT_GT(info.snapshot_seq, 0u);
}

TEST_F(EngineUpkeepTest, AFailedAutomaticRebuildIsNotRetriedOnEveryWrite) {
  // "auto" past a threshold too small to train IVF: the switch fails.
  TearDown();
  options_.index.spec = "auto";
  options_.index.auto_ann_threshold = 10;
  SetUp();
  for (int i = 0; i < 11; ++i) ASSERT_OK(AddPost("p" + std::to_string(i), "CN", std::nullopt, i));
  ASSERT_TRUE(WaitRebuilt());
  EXPECT_EQ(engine_->GetIndexInfo().stats.type, "Flat");  // still serving
  for (int i = 11; i < 50; ++i) {
    ASSERT_OK(AddPost("p" + std::to_string(i), "CN", std::nullopt, i));
    EXPECT_FALSE(engine_->GetIndexInfo().rebuilding) << i;
  }
  EXPECT_EQ(engine_->GetIndexInfo().stats.live, 50);
}

}  // namespace
}  // namespace bf
