// The candidate policy: which ANN searches a FEED makes, and the bridging and
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

class ExactSearch : public CandidateSearch {
 public:
  explicit ExactSearch(const PostTable& table) : table_(table) {}
  Status Search(const AnnQuery& q, std::vector<Match>* hits) override {
    queries.push_back(q);
    if (fail) return Status::IOError("disk on fire");
    table_.ForEachLive([&](uint64_t iid, const PostEntry& e, std::span<const float> v) {
      if (q.exclude != nullptr && q.exclude->count(iid) != 0) return;
      if (q.scope == CultureScope::kOnly && e.culture != q.culture) return;
      if (q.scope == CultureScope::kExcept && e.culture == q.culture) return;
      hits->push_back({iid, Dot(q.vector, v)});
    });
    std::sort(hits->begin(), hits->end(),
              [](const Match& a, const Match& b) { return a.score > b.score; });
    if (hits->size() > static_cast<size_t>(q.k)) hits->resize(q.k);
    return Status::OK();
  }
  std::vector<AnnQuery> queries;
  bool fail = false;

 private:
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
    auto c = SearchCandidates(q, opt_, search_, table_, mu_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : Candidates{};
  }

  PostTable table_;
  std::shared_mutex mu_;
  ExactSearch search_{table_};
  RankingOptions opt_;
  Vector user_ = {1, 0, 0, 0};
  uint64_t next_ = 1;
};

TEST_F(CandidatesTest, MixedNeighbourhoodNeedsOneSearch) {
  for (int i = 0; i < 300; ++i) Add(i % 2 ? kA : kB, {1, 0.01f * i, 0, 0});
  Candidates c = Gather(Query(kA, 0.5));
  EXPECT_EQ(c.searches, 1);
  ASSERT_EQ(search_.queries.size(), 1u);
  EXPECT_EQ(search_.queries[0].scope, CultureScope::kAll);
  EXPECT_EQ(search_.queries[0].k, 100);  // max(100, 10 per slot x 10)
  EXPECT_EQ(c.interest.size(), 100u);
  EXPECT_TRUE(c.home.empty());
  EXPECT_TRUE(c.cross.empty());
}

TEST_F(CandidatesTest, AllHomeNeighbourhoodGetsACrossSearch) {
  for (int i = 0; i < 200; ++i) Add(kA, {1, 0.01f * i, 0, 0});
  for (int i = 0; i < 20; ++i) Add(kB, {0, 0, 1, 0.01f * i});
  Candidates c = Gather(Query(kA, 0.3));
  EXPECT_EQ(c.searches, 2);
  ASSERT_EQ(search_.queries.size(), 2u);
  EXPECT_EQ(search_.queries[1].scope, CultureScope::kExcept);
  EXPECT_EQ(search_.queries[1].culture, kA);
  EXPECT_EQ(c.cross.size(), 20u);
  for (const Match& m : c.cross) EXPECT_EQ(table_.Get(m.iid).culture, kB);
  EXPECT_TRUE(c.home.empty());
}

TEST_F(CandidatesTest, AllForeignNeighbourhoodGetsAHomeSearchShownAsHome) {
  for (int i = 0; i < 200; ++i) Add(kB, {1, 0.01f * i, 0, 0});
  for (int i = 0; i < 20; ++i) Add(kA, {0, 0, 1, 0.01f * i});
  FeedQuery q = Query(kA, 0.3);
  Candidates c = Gather(q);
  ASSERT_EQ(search_.queries.size(), 2u);
  EXPECT_EQ(search_.queries[1].scope, CultureScope::kOnly);
  EXPECT_EQ(search_.queries[1].culture, kA);
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
  EXPECT_EQ(c.searches, 1);  // no pools without a culture
  FeedQuery cold = Query(kA, 0.5);
  cold.user_vector = {};
  c = Gather(cold);
  EXPECT_EQ(c.searches, 0);
  EXPECT_TRUE(c.interest.empty());
  EXPECT_EQ(search_.queries.size(), 1u);
}

TEST_F(CandidatesTest, SearchErrorsReachTheCaller) {
  Add(kA, {1, 0, 0, 0});
  search_.fail = true;
  auto c = SearchCandidates(Query(kA, 0.5), opt_, search_, table_, mu_);
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
