// The post table: upserts, replaces, removes, lookups, the fresh and
// bridging lists, counters, bulk loading, and the bridging score.
#include "engine/ranking/post_table.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "embeddings/heap_bytes.h"

namespace bf {
namespace {

constexpr uint16_t kA = 1, kB = 2, kC = 3;

PostRecord Record(uint64_t iid, const std::string& author, uint16_t culture, int64_t ts,
                  Vector v = {1, 0, 0, 0}) {
  PostRecord p;
  p.iid = iid;
  p.id = "p" + std::to_string(iid);
  p.author = author;
  p.culture_code = culture;
  p.ts = ts;
  p.vector = std::move(v);
  return p;
}

std::vector<uint64_t> Iids(const PostTable::FreshSet& set) {
  std::vector<uint64_t> out;
  for (const auto& [ts, iid] : set) out.push_back(iid);
  return out;
}

TEST(PostTableTest, UpsertFindGetAndVector) {
  PostTable t(4, BridgingParams{});
  t.Upsert(Record(3, "alice", kA, 100, {0, 1, 0, 0}));
  t.Upsert(Record(1, "bob", kB, 200));
  EXPECT_EQ(t.live(), 2);
  EXPECT_EQ(t.Find("p3"), std::optional<uint64_t>(3));
  EXPECT_EQ(t.Find("p2"), std::nullopt);
  EXPECT_FALSE(t.IsLive(2));  // a gap below the highest iid
  EXPECT_FALSE(t.IsLive(99));
  const PostEntry& e = t.Get(3);
  EXPECT_EQ(e.id, "p3");
  EXPECT_EQ(e.culture, kA);
  EXPECT_EQ(e.ts, 100);
  EXPECT_EQ(t.AuthorName(e.author), "alice");
  EXPECT_EQ(t.FindAuthor("alice"), e.author);
  EXPECT_EQ(t.FindAuthor("nobody"), kNoAuthor);
  const auto v = t.VectorOf(3);
  EXPECT_EQ(std::vector<float>(v.begin(), v.end()), (std::vector<float>{0, 1, 0, 0}));
  EXPECT_EQ(Iids(t.fresh()), (std::vector<uint64_t>{1, 3}));  // newest first
}

TEST(PostTableTest, ReplaceMovesTheEntryBetweenListsAndKeepsOneLivePost) {
  PostTable t(4, BridgingParams{});
  t.Upsert(Record(1, "a", kA, 100));
  t.Upsert(Record(2, "a", kA, 200));
  PostRecord moved = Record(1, "b", kB, 300, {0, 0, 1, 0});
  t.Upsert(moved);
  EXPECT_EQ(t.live(), 2);
  EXPECT_EQ(Iids(t.fresh()), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(t.live_of(kA), 1);
  EXPECT_EQ(t.live_of(kB), 1);
  EXPECT_EQ(t.live_of(kC), 0);
  EXPECT_EQ(t.live_of(999), 0);
  EXPECT_EQ(t.VectorOf(1)[2], 1.0f);
  // The same slot under a new external id: the old name no longer finds it.
  PostRecord renamed = Record(1, "b", kB, 300);
  renamed.id = "other";
  t.Upsert(renamed);
  EXPECT_EQ(t.Find("p1"), std::nullopt);
  EXPECT_EQ(t.Find("other"), std::optional<uint64_t>(1));
}

TEST(PostTableTest, RemoveDropsThePostFromEveryList) {
  PostTable t(4, BridgingParams{.a = 1, .b = 4, .min_impressions = 1});
  t.Upsert(Record(1, "a", kA, 100));
  t.Upsert(Record(2, "a", kB, 200));
  t.AddStats(1, kA, 10, 10, 0);
  t.AddStats(1, kB, 10, 10, 0);
  ASSERT_GT(t.Get(1).bridging, 0.0f);
  ASSERT_EQ(t.top_bridging().size(), 1u);

  EXPECT_TRUE(t.Remove(1));
  EXPECT_FALSE(t.Remove(1));  // already gone
  EXPECT_FALSE(t.Remove(77));
  EXPECT_FALSE(t.IsLive(1));
  EXPECT_EQ(t.live(), 1);
  EXPECT_EQ(t.Find("p1"), std::nullopt);
  EXPECT_TRUE(t.top_bridging().empty());
  EXPECT_EQ(Iids(t.fresh()), (std::vector<uint64_t>{2}));
  EXPECT_EQ(t.live_of(kA), 0);
  EXPECT_EQ(t.live_of(kB), 1);
  // Counters of a removed post are dropped, and new ones are ignored.
  t.AddStats(1, kA, 5, 5, 0);
  EXPECT_TRUE(t.Get(1).stats.empty());
  int visited = 0;
  t.ForEachLive([&](uint64_t iid, const PostEntry& e, std::span<const float> v) {
    EXPECT_EQ(iid, 2u);
    EXPECT_EQ(e.id, "p2");
    EXPECT_EQ(v.size(), 4u);
    ++visited;
  });
  EXPECT_EQ(visited, 1);
}

TEST(PostTableTest, CountersSetTheBridgingScoreAndItsList) {
  const BridgingParams params{.a = 1, .b = 4, .min_impressions = 5};
  PostTable t(4, params);
  t.Upsert(Record(1, "a", kA, 100));
  t.Upsert(Record(2, "a", kA, 100));
  t.AddStats(1, kA, 10, 5, 0);
  EXPECT_EQ(t.Get(1).bridging, 0.0f);  // one culture is not a bridge
  t.AddStats(1, kB, 20, 4, 1);
  const float want = static_cast<float>(std::min(6.0 / 15.0, 5.0 / 25.0));
  EXPECT_FLOAT_EQ(t.Get(1).bridging, want);
  // Viewers without a culture never form a group.
  t.AddStats(2, kA, 10, 9, 0);
  t.AddStats(2, kNoCulture, 50, 50, 0);
  EXPECT_EQ(t.Get(2).bridging, 0.0f);
  // SetStats replaces, AddStats adds.
  t.SetStats(2, kB, CultureCounts{"B", 10, 9, 0});
  EXPECT_FLOAT_EQ(t.Get(2).bridging, 10.0f / 15.0f);
  ASSERT_EQ(t.top_bridging().size(), 2u);
  EXPECT_EQ(t.top_bridging().begin()->second, 2u);  // highest first
  t.SetStats(2, kB, CultureCounts{"B", 0, 0, 0});
  EXPECT_EQ(t.Get(2).bridging, 0.0f);
  EXPECT_EQ(t.top_bridging().size(), 1u);
}

// A bulk load (the engine's start) ends with the same newest-first lists as
// one Upsert at a time, replaces and removes in the middle included.
TEST(PostTableTest, BulkLoadMatchesOneByOne) {
  PostTable one(4, BridgingParams{}), bulk(4, BridgingParams{});
  bulk.BeginBulk(300);
  std::mt19937 rng(3);
  for (uint64_t iid = 1; iid <= 300; ++iid) {
    // Many ties in ts: the iid breaks them.
    PostRecord p = Record(iid, "a" + std::to_string(iid % 7), static_cast<uint16_t>(1 + iid % 3),
                          static_cast<int64_t>(rng() % 50));
    one.Upsert(p);
    bulk.Upsert(p);
    if (iid % 50 == 0) {  // replace an earlier post with a new time and culture
      p = Record(iid - 10, "a", kC, 99);
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
  EXPECT_EQ(Iids(bulk.fresh()), Iids(one.fresh()));
  for (uint16_t c : {kA, kB, kC}) EXPECT_EQ(bulk.live_of(c), one.live_of(c)) << c;
  EXPECT_EQ(bulk.fresh().begin()->first, 99);  // the replaced posts are the newest
}

TEST(PostTableTest, MemoryCountsIdStringsAndCountersAsTheyChange) {
  PostTable t(4, BridgingParams{});
  t.Upsert(Record(1, "a", kA, 100));
  const uint64_t short_ids = t.Memory().entries;
  // A 40-byte id lives on the heap twice: the entry's and the id map's key.
  PostRecord long_id = Record(2, "a", kA, 100);
  long_id.id = std::string(40, 'x');
  t.Upsert(long_id);
  const uint64_t with_long = t.Memory().entries;
  EXPECT_GE(with_long - short_ids, 2 * heap::Chunk(41));
  // Removing it drops the key (and its map node); the entry keeps its id.
  ASSERT_TRUE(t.Remove(2));
  const uint64_t node = heap::Chunk(8 + sizeof(std::pair<const std::string, uint64_t>) + 8);
  const uint64_t fresh_node = heap::Chunk(32 + sizeof(std::pair<int64_t, uint64_t>));
  EXPECT_EQ(with_long - t.Memory().entries, heap::Chunk(41) + node + fresh_node);
  // A first counter array on a post: one heap block of one CultureStat.
  const uint64_t before = t.Memory().entries;
  t.AddStats(1, kB, 1, 0, 0);
  EXPECT_EQ(t.Memory().entries - before, heap::Chunk(sizeof(CultureStat)));
  t.AddStats(1, kB, 1, 0, 0);  // the same culture: no new bytes
  EXPECT_EQ(t.Memory().entries - before, heap::Chunk(sizeof(CultureStat)));
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
  // A like without a recorded view still counts as seen.
  std::vector<CultureStat> unseen = {{kA, 5, 10, 0}, {kB, 10, 10, 0}};
  EXPECT_DOUBLE_EQ(BridgingScore(unseen, p), 11.0 / 15.0);
}

}  // namespace
}  // namespace bf
