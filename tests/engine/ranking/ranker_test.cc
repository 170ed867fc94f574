// The ranker on small hand-built worlds: openness, bridging, author cap,
// exclusions, pool exhaustion.
#include "engine/ranking/ranker.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace bf {
namespace {

constexpr int kDim = 8;
constexpr uint16_t kA = 0, kB = 1, kC = 2;

class RankerTest : public ::testing::Test {
 protected:
  RankerTest() : table_(kDim, BridgingParams{}) {}

  Vector Around(int topic, float noise) {
    Vector v(kDim, 0.0f);
    v[topic % kDim] = 1.0f;
    std::normal_distribution<float> g(0, noise);
    for (float& x : v) x += g(rng_);
    Normalize(v);
    return v;
  }

  uint64_t AddPost(const std::string& author, uint16_t culture, Vector v, int64_t ts = 1000) {
    PostRecord p;
    p.iid = next_++;
    p.id = "p" + std::to_string(p.iid);
    p.author = author;
    p.culture_code = culture;
    p.ts = ts;
    p.vector = std::move(v);
    table_.Upsert(p);
    return p.iid;
  }

  // What the engine's ANN sources would return: exact search.
  std::vector<Hit> Search(std::span<const float> q, int k, std::optional<uint16_t> not_culture) {
    std::vector<Hit> hits;
    table_.ForEachLive([&](uint64_t iid, const PostEntry& e, std::span<const float> v) {
      if (not_culture && e.culture == *not_culture) return;
      hits.push_back({iid, Dot(q, v)});
    });
    std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.score > b.score; });
    if (hits.size() > static_cast<size_t>(k)) hits.resize(k);
    return hits;
  }

  RankInput Input(const Vector& user, uint16_t culture, int count, double openness) {
    RankInput in;
    in.user_vector = user;
    in.user_culture = culture;
    in.count = count;
    in.openness = openness;
    in.now = 1000;
    in.interest = Search(user, 200, std::nullopt);
    in.cross = Search(user, 200, culture);
    return in;
  }

  int CrossCount(const std::vector<Ranked>& page) {
    return static_cast<int>(std::count_if(page.begin(), page.end(), [](const Ranked& r) { return r.cross; }));
  }

  std::mt19937 rng_{7};
  PostTable table_;
  uint64_t next_ = 1;
  RankingOptions opt_;
};

TEST_F(RankerTest, OpennessSetsCrossShareWithNinetyPercentHome) {
  for (int i = 0; i < 270; ++i) AddPost("a" + std::to_string(i % 90), kA, Around(i % 3, 0.3f));
  for (int i = 0; i < 30; ++i) AddPost("b" + std::to_string(i % 15), kB, Around(i % 3, 0.3f));
  Vector user = Around(0, 0.1f);
  for (auto [openness, want] : {std::pair{0.5, 10}, {0.0, 0}, {1.0, 20}, {0.3, 6}, {0.33, 7}}) {
    RankInput in = Input(user, kA, 20, openness);
    auto page = RankFeed(table_, in, opt_);
    ASSERT_EQ(page.size(), 20u) << openness;
    EXPECT_EQ(CrossCount(page), want) << "openness " << openness;
    for (const Ranked& r : page) EXPECT_EQ(r.cross, table_.Get(r.iid).culture != kA);
  }
}

TEST_F(RankerTest, RunningShareTracksOpennessSlotBySlot) {
  for (int i = 0; i < 100; ++i) AddPost("a" + std::to_string(i), kA, Around(0, 0.3f));
  for (int i = 0; i < 100; ++i) AddPost("b" + std::to_string(i), kB, Around(0, 0.3f));
  for (double openness : {0.5, 0.3, 0.75}) {
    auto page = RankFeed(table_, Input(Around(0, 0.1f), kA, 10, openness), opt_);
    ASSERT_EQ(page.size(), 10u);
    int cross = 0;
    for (int slot = 1; slot <= 10; ++slot) {
      cross += page[slot - 1].cross;
      // Within one post of the openness at every prefix.
      EXPECT_GE(cross, std::floor(openness * slot)) << openness << " slot " << slot;
      EXPECT_LE(cross, std::ceil(openness * slot)) << openness << " slot " << slot;
    }
    EXPECT_EQ(cross, std::lround(openness * 10));
  }
}

TEST_F(RankerTest, BetterPostComesFirstWithinTheShareBand) {
  // Openness 0.5: slot 1 may be either; the much better cross post leads.
  for (int i = 0; i < 10; ++i) AddPost("a" + std::to_string(i), kA, Around(3, 0.3f));
  const uint64_t star = AddPost("star", kB, Around(0, 0.0f));
  for (int i = 0; i < 10; ++i) AddPost("b" + std::to_string(i), kB, Around(4, 0.3f));
  auto page = RankFeed(table_, Input(Around(0, 0.0f), kA, 4, 0.5), opt_);
  ASSERT_EQ(page.size(), 4u);
  EXPECT_EQ(page[0].iid, star);
}

TEST_F(RankerTest, BridgingPostOutranksHomeOnlyFavourite) {
  Vector v = Around(1, 0.0f);
  const uint64_t bridge = AddPost("x", kA, v);
  const uint64_t home = AddPost("y", kA, v);
  // Liked by A and B viewers alike vs liked only at home.
  table_.AddStats(bridge, kA, 20, 12, 0);
  table_.AddStats(bridge, kB, 20, 11, 0);
  table_.AddStats(home, kA, 20, 15, 0);
  table_.AddStats(home, kB, 20, 0, 2);
  EXPECT_GT(table_.Get(bridge).bridging, table_.Get(home).bridging);
  EXPECT_NEAR(table_.Get(bridge).bridging, (11 + 1.0) / (20 + 5.0), 1e-6);
  EXPECT_NEAR(table_.Get(home).bridging, (0 + 1.0) / (20 + 5.0), 1e-6);

  auto page = RankFeed(table_, Input(v, kA, 2, 0.0), opt_);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].iid, bridge);
  EXPECT_EQ(page[1].iid, home);
  EXPECT_FLOAT_EQ(page[0].relevance, page[1].relevance);
  EXPECT_GT(page[0].bridging, page[1].bridging);
}

// A bulk load (the engine's start) ends with the same newest-first lists as
// one Upsert at a time, replaces and removes in the middle included.
TEST(PostTableTest, BulkLoadMatchesOneByOne) {
  PostTable one(4, BridgingParams{}), bulk(4, BridgingParams{});
  bulk.BeginBulk(300);
  std::mt19937 rng(3);
  for (uint64_t iid = 1; iid <= 300; ++iid) {
    PostRecord p;
    p.iid = iid;
    p.id = "p" + std::to_string(iid);
    p.author = "a" + std::to_string(iid % 7);
    p.culture_code = static_cast<uint16_t>(iid % 3);
    p.ts = static_cast<int64_t>(rng() % 50);  // many ties: the iid breaks them
    p.vector = {1, 0, 0, 0};
    one.Upsert(p);
    bulk.Upsert(p);
    if (iid % 50 == 0) {  // replace an earlier post with a new time and culture
      p.iid = iid - 10;
      p.id = "p" + std::to_string(p.iid);
      p.ts = 99;
      p.culture_code = 2;
      one.Upsert(p);
      bulk.Upsert(p);
    }
    if (iid % 70 == 0) {
      EXPECT_TRUE(one.Remove(iid - 3));
      EXPECT_TRUE(bulk.Remove(iid - 3));
    }
  }
  bulk.EndBulk();
  EXPECT_EQ(bulk.live(), one.live());
  EXPECT_TRUE(std::equal(bulk.fresh().begin(), bulk.fresh().end(), one.fresh().begin(),
                         one.fresh().end()));
  for (uint16_t c = 0; c < 3; ++c) {
    EXPECT_TRUE(std::equal(bulk.fresh_of(c).begin(), bulk.fresh_of(c).end(),
                           one.fresh_of(c).begin(), one.fresh_of(c).end()))
        << c;
  }
  EXPECT_EQ(bulk.fresh().begin()->first, 99);  // the replaced posts are the newest
}

TEST(BridgingScoreTest, MinimumOverAtLeastTwoCulturesWithEnoughImpressions) {
  BridgingParams p;  // a = 1, b = 4, min 5 impressions
  std::vector<CultureStat> one = {{kA, 100, 90, 0}};
  EXPECT_EQ(BridgingScore(one, p), 0.0);
  std::vector<CultureStat> thin = {{kA, 100, 90, 0}, {kB, 4, 4, 0}};
  EXPECT_EQ(BridgingScore(thin, p), 0.0);
  std::vector<CultureStat> two = {{kA, 10, 5, 0}, {kB, 20, 4, 0}, {kC, 4, 0, 0}};
  EXPECT_DOUBLE_EQ(BridgingScore(two, p), std::min(6.0 / 15.0, 5.0 / 25.0));
  std::vector<CultureStat> anon = {{kA, 10, 5, 0}, {kNoCulture, 50, 50, 0}};
  EXPECT_EQ(BridgingScore(anon, p), 0.0);
}

TEST_F(RankerTest, AuthorCapHolds) {
  for (int i = 0; i < 30; ++i) AddPost("prolific", kA, Around(0, 0.05f));
  for (int i = 0; i < 10; ++i) AddPost("other" + std::to_string(i), kA, Around(2, 0.05f));
  auto page = RankFeed(table_, Input(Around(0, 0.0f), kA, 10, 0.0), opt_);
  ASSERT_EQ(page.size(), 10u);
  std::map<uint32_t, int> per_author;
  for (const Ranked& r : page) per_author[table_.Get(r.iid).author]++;
  for (auto [author, n] : per_author) EXPECT_LE(n, opt_.max_per_author);
}

TEST_F(RankerTest, ExcludedOwnAndDeletedPostsNeverAppear) {
  std::unordered_set<uint64_t> exclude;
  uint64_t own = 0, gone = 0;
  for (int i = 0; i < 40; ++i) {
    const uint64_t iid = AddPost(i == 3 ? "me" : "a" + std::to_string(i), kA, Around(0, 0.1f));
    if (i % 4 == 0) exclude.insert(iid);
    if (i == 3) own = iid;
    if (i == 5) gone = iid;
  }
  table_.Remove(gone);
  const Vector user = Around(0, 0.0f);  // RankInput only views it
  RankInput in = Input(user, kA, 40, 0.0);
  in.exclude = &exclude;
  in.own_author = table_.FindAuthor("me");
  auto page = RankFeed(table_, in, opt_);
  EXPECT_EQ(page.size(), 40u - 10 - 1 - 1);  // all eligible posts, and no more
  for (const Ranked& r : page) {
    EXPECT_EQ(exclude.count(r.iid), 0u);
    EXPECT_NE(r.iid, own);
    EXPECT_NE(r.iid, gone);
  }
}

TEST_F(RankerTest, ShortCrossPoolIsFilledFromHome) {
  for (int i = 0; i < 50; ++i) AddPost("a" + std::to_string(i), kA, Around(0, 0.2f));
  for (int i = 0; i < 3; ++i) AddPost("b" + std::to_string(i), kB, Around(5, 0.2f));
  auto page = RankFeed(table_, Input(Around(0, 0.0f), kA, 20, 1.0), opt_);
  ASSERT_EQ(page.size(), 20u);
  EXPECT_EQ(CrossCount(page), 3);
}

TEST_F(RankerTest, PoolsWidenFromFreshWhenAnnCandidatesRunOut) {
  // The ANN sources found nothing cross-cultural; the fresh list has some.
  for (int i = 0; i < 400; ++i) AddPost("a" + std::to_string(i), kA, Around(0, 0.2f), 2000 - i);
  for (int i = 0; i < 10; ++i) AddPost("b" + std::to_string(i), kB, Around(4, 0.2f), 10 + i);
  // RankInput only views the user vector: keep it alive past this statement.
  const Vector user = Around(0, 0.0f);
  RankInput in = Input(user, kA, 10, 0.5);
  in.cross.clear();
  auto page = RankFeed(table_, in, opt_);
  ASSERT_EQ(page.size(), 10u);
  EXPECT_EQ(CrossCount(page), 5);
}

TEST_F(RankerTest, ColdStartUsesFreshAndBridgingAcrossCultures) {
  for (int i = 0; i < 20; ++i) AddPost("a" + std::to_string(i), kA, Around(i, 0.2f), 100 + i);
  for (int i = 0; i < 20; ++i) AddPost("b" + std::to_string(i), kB, Around(i, 0.2f), 100 + i);
  RankInput in;
  in.count = 10;
  in.now = 200;
  auto page = RankFeed(table_, in, opt_);
  ASSERT_EQ(page.size(), 10u);
  std::set<uint16_t> cultures;
  for (const Ranked& r : page) {
    cultures.insert(table_.Get(r.iid).culture);
    EXPECT_EQ(r.relevance, 0.0);
    EXPECT_TRUE(r.sources & (kSourceFresh | kSourceBridging));
  }
  EXPECT_EQ(cultures.size(), 2u);
}

TEST_F(RankerTest, SourceNamesFollowPriority) {
  EXPECT_STREQ(SourceName(kSourceInterest | kSourceFresh), "interest");
  EXPECT_STREQ(SourceName(kSourceCross | kSourceBridging), "cross");
  EXPECT_STREQ(SourceName(kSourceBridging | kSourceFresh), "bridging");
  EXPECT_STREQ(SourceName(kSourceFresh), "fresh");
}

}  // namespace
}  // namespace bf
