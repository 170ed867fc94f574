// The candidate policy: the one ANN search a FEED makes, and the bridging and
// fresh lists. The search is exact over the table and records its queries.
#include "engine/ranking/candidates.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/ranking/ranker.h"

namespace bf {
namespace {

constexpr uint16_t kA = 1, kB = 2;

// Exact lists; a pool with a min comes from the interest hits when they hold
// that many of it (the rule an index applies to the lists it reads), else
// from an exact filtered scan.
class ExactSearch : public CandidateSearch {
 public:
  explicit ExactSearch(const PostTable& table) : table_(table) {}
  Status Search(const AnnQuery& q, AnnHits* hits) override {
    queries.push_back(q);
    if (fail) return Status::IOError("disk on fire");
    hits->interest = Scan(q, q.interest_k, [](uint16_t) { return true; });
    hits->passes = 1;
    auto pool = [&](int k, int min, bool home, std::vector<Match>* out) {
      if (k == 0) return;
      auto takes = [&](uint16_t c) { return (c == q.culture) == home; };
      for (const Match& m : hits->interest) {
        if (takes(table_.Get(m.iid).culture) && out->size() < static_cast<size_t>(k)) {
          out->push_back(m);
        }
      }
      if (min > 0 && out->size() >= static_cast<size_t>(min)) return;
      *out = Scan(q, k, takes);
      ++widened;
      hits->passes = 2;
    };
    pool(q.home_k, q.home_min, true, &hits->home);
    pool(q.cross_k, q.cross_min, false, &hits->cross);
    return Status::OK();
  }
  std::vector<AnnQuery> queries;
  int widened = 0;
  bool fail = false;

 private:
  template <typename Takes>
  std::vector<Match> Scan(const AnnQuery& q, int k, Takes takes) const {
    std::vector<Match> hits;
    table_.ForEachLive([&](uint64_t iid, const PostEntry& e, std::span<const float> v) {
      if (q.exclude != nullptr && q.exclude->count(iid) != 0) return;
      if (takes(e.culture)) hits.push_back({iid, Dot(q.vector, v)});
    });
    std::sort(hits.begin(), hits.end(),
              [](const Match& a, const Match& b) { return a.score > b.score; });
    if (hits.size() > static_cast<size_t>(k)) hits.resize(static_cast<size_t>(k));
    return hits;
  }

  const PostTable& table_;
};

class CandidatesTest : public ::testing::Test {
 protected:
  CandidatesTest() : table_(4, BridgingParams{.a = 1, .b = 4, .min_impressions = 1}) {}

  uint64_t Add(uint16_t culture, Vector v, int64_t ts = 100, const std::string& author = "") {
    PostRecord p;
    p.iid = next_++;
    p.id = "p" + std::to_string(p.iid);
    p.author = author.empty() ? "a" + std::to_string(p.iid) : author;
    p.culture_code = culture;
    p.ts = ts;
    p.vector = std::move(v);
    Normalize(p.vector);
    table_.Upsert(p);
    return p.iid;
  }

  FeedQuery Query(uint16_t culture, double openness) {
    FeedQuery q;
    q.user_vector = user_;
    q.user_culture = culture;
    q.openness = openness;
    q.count = 10;
    q.now = 1000;
    return q;
  }

  Candidates Gather(const FeedQuery& q) {
    auto c = SearchCandidates(q, opt_, search_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : Candidates{};
  }

  PostTable table_;
  ExactSearch search_{table_};
  RankingOptions opt_;
  Vector user_ = {1, 0, 0, 0};
  uint64_t next_ = 1;
};

TEST_F(CandidatesTest, MixedNeighbourhoodNeedsOneSearch) {
  for (int i = 0; i < 300; ++i) Add(i % 2 ? kA : kB, {1, 0.01f * i, 0, 0});
  Candidates c = Gather(Query(kA, 0.5));
  EXPECT_EQ(c.searches, 1);
  EXPECT_EQ(c.passes, 1);
  ASSERT_EQ(search_.queries.size(), 1u);
  const AnnQuery& q = search_.queries[0];
  EXPECT_EQ(q.interest_k, 100);  // max(100, 10 per slot x 10)
  EXPECT_EQ(q.culture, kA);
  EXPECT_EQ(q.home_k, 100);
  EXPECT_EQ(q.cross_k, 100);
  EXPECT_EQ(q.home_min, 15);  // 3 x 5 slots each
  EXPECT_EQ(q.cross_min, 15);
  EXPECT_EQ(search_.widened, 0);
  EXPECT_EQ(c.interest.size(), 100u);
  EXPECT_EQ(c.home.size(), 50u);  // the interest hits of each culture
  EXPECT_EQ(c.cross.size(), 50u);
  for (const Match& m : c.home) EXPECT_EQ(table_.Get(m.iid).culture, kA);
  for (const Match& m : c.cross) EXPECT_EQ(table_.Get(m.iid).culture, kB);
}

// The cross pool's own walk, inside the FEED's one search.
TEST_F(CandidatesTest, AllHomeNeighbourhoodGetsACrossSearch) {
  for (int i = 0; i < 200; ++i) Add(kA, {1, 0.01f * i, 0, 0});
  for (int i = 0; i < 20; ++i) Add(kB, {0, 0, 1, 0.01f * i});
  Candidates c = Gather(Query(kA, 0.3));
  EXPECT_EQ(c.searches, 1);
  ASSERT_EQ(search_.queries.size(), 1u);
  EXPECT_EQ(search_.queries[0].cross_min, 9);   // 3 x 3 cross slots
  EXPECT_EQ(search_.queries[0].home_min, 21);   // 3 x 7 home slots
  EXPECT_EQ(search_.widened, 1);                // the cross pool only
  EXPECT_EQ(c.passes, 2);
  EXPECT_EQ(c.cross.size(), 20u);
  for (const Match& m : c.cross) EXPECT_EQ(table_.Get(m.iid).culture, kB);
  EXPECT_EQ(c.home.size(), 100u);
}

TEST_F(CandidatesTest, AllForeignNeighbourhoodGetsAHomeSearchShownAsHome) {
  for (int i = 0; i < 200; ++i) Add(kB, {1, 0.01f * i, 0, 0});
  for (int i = 0; i < 20; ++i) Add(kA, {0, 0, 1, 0.01f * i});
  FeedQuery q = Query(kA, 0.3);
  Candidates c = Gather(q);
  EXPECT_EQ(c.searches, 1);
  EXPECT_EQ(search_.widened, 1);
  ASSERT_EQ(c.home.size(), 20u);
  AddListCandidates(q, table_, &c);
  auto page = RankFeed(table_, q, c, opt_);
  ASSERT_EQ(page.size(), 10u);
  int home = 0;
  for (const Ranked& r : page) {
    if (r.cross) continue;
    ++home;
    EXPECT_STREQ(SourceName(r.sources), "home") << r.iid;
  }
  EXPECT_EQ(home, 7);
}

TEST_F(CandidatesTest, NoCultureOrNoVectorLimitsTheSearches) {
  for (int i = 0; i < 50; ++i) Add(kA, {1, 0.01f * i, 0, 0});
  Candidates c = Gather(Query(kNoCulture, 0.5));
  EXPECT_EQ(c.searches, 1);
  ASSERT_EQ(search_.queries.size(), 1u);
  EXPECT_EQ(search_.queries[0].home_k, 0);  // no pools without a culture
  EXPECT_EQ(search_.queries[0].cross_k, 0);
  EXPECT_TRUE(c.home.empty());
  EXPECT_TRUE(c.cross.empty());
  EXPECT_EQ(c.interest.size(), 50u);
  FeedQuery cold = Query(kA, 0.5);
  cold.user_vector = {};
  c = Gather(cold);
  EXPECT_EQ(c.searches, 0);
  EXPECT_TRUE(c.interest.empty());
  EXPECT_EQ(search_.queries.size(), 1u);
}

TEST_F(CandidatesTest, AllHomeOrAllCrossAsksForOnePoolOnly) {
  for (int i = 0; i < 50; ++i) Add(i % 2 ? kA : kB, {1, 0.01f * i, 0, 0});
  Gather(Query(kA, 0.0));
  Gather(Query(kA, 1.0));
  ASSERT_EQ(search_.queries.size(), 2u);
  EXPECT_EQ(search_.queries[0].cross_k, 0);
  EXPECT_EQ(search_.queries[0].home_k, 100);
  EXPECT_EQ(search_.queries[1].home_k, 0);
  EXPECT_EQ(search_.queries[1].cross_k, 100);
  EXPECT_EQ(search_.queries[1].cross_min, 30);
}

TEST_F(CandidatesTest, SearchErrorsReachTheCaller) {
  Add(kA, {1, 0, 0, 0});
  search_.fail = true;
  auto c = SearchCandidates(Query(kA, 0.5), opt_, search_);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kIOError);
  EXPECT_EQ(c.status().message(), "disk on fire");
}

TEST_F(CandidatesTest, ListsHoldEligiblePostsNotFoundByTheSearch) {
  std::vector<uint64_t> iids;
  for (int i = 0; i < 120; ++i) iids.push_back(Add(kA, {1, 0.01f * i, 0, 0}, 100 + i));
  const uint64_t own = Add(kA, {1, 0, 0, 0}, 5000, "me");
  table_.AddStats(iids[0], kA, 10, 10, 0);  // the only bridging post
  table_.AddStats(iids[0], kB, 10, 10, 0);
  table_.AddStats(iids[1], kA, 10, 10, 0);
  table_.AddStats(iids[1], kB, 10, 10, 0);
  std::unordered_set<uint64_t> exclude = {iids[119], iids[1]};
  FeedQuery q = Query(kA, 0.0);
  q.exclude = &exclude;
  q.own_author = table_.FindAuthor("me");
  Candidates c;
  c.interest = {{iids[118], 0.9f}};
  AddListCandidates(q, table_, &c);
  EXPECT_EQ(c.bridging, (std::vector<uint64_t>{iids[0]}));  // iids[1] is excluded
  ASSERT_EQ(c.fresh.size(), 50u);  // max(50, 5 x 10)
  EXPECT_EQ(c.fresh[0], iids[117]);  // newest, past own, excluded and interest posts
  for (uint64_t iid : c.fresh) {
    EXPECT_NE(iid, own);
    EXPECT_NE(iid, iids[0]);
  }
}

}  // namespace
}  // namespace bf
