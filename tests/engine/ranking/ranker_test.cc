// The candidate policy and the ranker on small hand-built worlds: openness,
// bridging, author cap, exclusions, pool exhaustion, which searches run.
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
constexpr uint16_t kA = 1, kB = 2;

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
  std::vector<Match> Search(std::span<const float> q, int k, std::optional<uint16_t> not_culture) {
    std::vector<Match> hits;
    table_.ForEachLive([&](uint64_t iid, const PostEntry& e, std::span<const float> v) {
      if (not_culture && e.culture == *not_culture) return;
      hits.push_back({iid, Dot(q, v)});
    });
    std::sort(hits.begin(), hits.end(),
              [](const Match& a, const Match& b) { return a.score > b.score; });
    if (hits.size() > static_cast<size_t>(k)) hits.resize(k);
    return hits;
  }

  FeedQuery Input(const Vector& user, uint16_t culture, int count, double openness) {
    FeedQuery in;
    in.user_vector = user;
    in.user_culture = culture;
    in.count = count;
    in.openness = openness;
    in.now = 1000;
    return in;
  }

  // Interest and cross lists by exact search, the lists from the table, ranked.
  std::vector<Ranked> Rank(const FeedQuery& in, bool with_cross = true) {
    Candidates c;
    if (!in.user_vector.empty()) {
      c.interest = Search(in.user_vector, 200, std::nullopt);
      if (with_cross) c.cross = Search(in.user_vector, 200, in.user_culture);
    }
    AddListCandidates(in, table_, &c);
    return RankFeed(table_, in, c, opt_);
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
    FeedQuery in = Input(user, kA, 20, openness);
    auto page = Rank(in);
    ASSERT_EQ(page.size(), 20u) << openness;
    EXPECT_EQ(CrossCount(page), want) << "openness " << openness;
    for (const Ranked& r : page) EXPECT_EQ(r.cross, table_.Get(r.iid).culture != kA);
  }
}

TEST_F(RankerTest, RunningShareTracksOpennessSlotBySlot) {
  for (int i = 0; i < 100; ++i) AddPost("a" + std::to_string(i), kA, Around(0, 0.3f));
  for (int i = 0; i < 100; ++i) AddPost("b" + std::to_string(i), kB, Around(0, 0.3f));
  for (double openness : {0.5, 0.3, 0.75}) {
    auto page = Rank(Input(Around(0, 0.1f), kA, 10, openness));
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
  auto page = Rank(Input(Around(0, 0.0f), kA, 4, 0.5));
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

  auto page = Rank(Input(v, kA, 2, 0.0));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].iid, bridge);
  EXPECT_EQ(page[1].iid, home);
  EXPECT_FLOAT_EQ(page[0].relevance, page[1].relevance);
  EXPECT_GT(page[0].bridging, page[1].bridging);
}

TEST_F(RankerTest, AuthorCapHolds) {
  for (int i = 0; i < 30; ++i) AddPost("prolific", kA, Around(0, 0.05f));
  for (int i = 0; i < 10; ++i) AddPost("other" + std::to_string(i), kA, Around(2, 0.05f));
  auto page = Rank(Input(Around(0, 0.0f), kA, 10, 0.0));
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
  const Vector user = Around(0, 0.0f);  // FeedQuery only views it
  FeedQuery in = Input(user, kA, 40, 0.0);
  in.exclude = &exclude;
  in.own_author = table_.FindAuthor("me");
  auto page = Rank(in);
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
  auto page = Rank(Input(Around(0, 0.0f), kA, 20, 1.0));
  ASSERT_EQ(page.size(), 20u);
  EXPECT_EQ(CrossCount(page), 3);
}

TEST_F(RankerTest, HomePoolWidensFromTheNewestHomePostsPastNewerCrossOnes) {
  // Every ANN candidate is cross-cultural, and the newest posts too: the home
  // posts come from walking the newest-first list past the cross ones.
  for (int i = 0; i < 400; ++i) AddPost("b" + std::to_string(i), kB, Around(0, 0.2f), 900 + i % 50);
  std::vector<uint64_t> home;
  for (int i = 0; i < 8; ++i) home.push_back(AddPost("a" + std::to_string(i), kA, Around(4, 0.2f), 10 + i));
  const Vector user = Around(0, 0.0f);
  FeedQuery in = Input(user, kA, 10, 0.5);
  auto page = Rank(in, /*with_cross=*/false);
  ASSERT_EQ(page.size(), 10u);
  EXPECT_EQ(CrossCount(page), 5);
  std::vector<uint64_t> picked;
  for (const Ranked& r : page) {
    if (r.cross) continue;
    EXPECT_EQ(r.sources, kSourceFresh) << r.iid;
    picked.push_back(r.iid);
  }
  // Five distinct home posts, found behind 400 newer cross ones.
  std::sort(picked.begin(), picked.end());
  EXPECT_EQ(std::unique(picked.begin(), picked.end()), picked.end());
  ASSERT_EQ(picked.size(), 5u);
  for (uint64_t iid : picked) EXPECT_NE(std::find(home.begin(), home.end(), iid), home.end()) << iid;
}

TEST_F(RankerTest, PoolsWidenFromFreshWhenAnnCandidatesRunOut) {
  // The ANN sources found nothing cross-cultural; the fresh list has some.
  for (int i = 0; i < 400; ++i) AddPost("a" + std::to_string(i), kA, Around(0, 0.2f), 2000 - i);
  for (int i = 0; i < 10; ++i) AddPost("b" + std::to_string(i), kB, Around(4, 0.2f), 10 + i);
  // FeedQuery only views the user vector: keep it alive past this statement.
  const Vector user = Around(0, 0.0f);
  FeedQuery in = Input(user, kA, 10, 0.5);
  auto page = Rank(in, /*with_cross=*/false);
  ASSERT_EQ(page.size(), 10u);
  EXPECT_EQ(CrossCount(page), 5);
}

TEST_F(RankerTest, ColdStartUsesFreshAndBridgingAcrossCultures) {
  for (int i = 0; i < 20; ++i) AddPost("a" + std::to_string(i), kA, Around(i, 0.2f), 100 + i);
  for (int i = 0; i < 20; ++i) AddPost("b" + std::to_string(i), kB, Around(i, 0.2f), 100 + i);
  FeedQuery in;
  in.count = 10;
  in.now = 200;
  auto page = Rank(in);
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
  EXPECT_STREQ(SourceName(kSourceHome | kSourceCross), "home");
  EXPECT_STREQ(SourceName(kSourceCross | kSourceBridging), "cross");
  EXPECT_STREQ(SourceName(kSourceBridging | kSourceFresh), "bridging");
  EXPECT_STREQ(SourceName(kSourceFresh), "fresh");
}

}  // namespace
}  // namespace bf
