// IndexBuilder: rows in, one complete index out, with progress and the
// stamp its reader set.
#include "index/index_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tests/index/clustered_data.h"
#include "tests/test_util.h"

namespace bf {
namespace {

using testing::MakeCorpus;

constexpr int kDim = 16;

IndexOptions Options(const std::string& spec) {
  IndexOptions o;
  o.dim = kDim;
  o.spec = spec;
  return o;
}

IndexBuilder Filled(const testing::Corpus& c, const std::string& spec, SnapshotStamp covers = {}) {
  IndexBuilder b(Options(spec), std::move(covers));
  b.Reserve(static_cast<int64_t>(c.size()));
  for (size_t i = 0; i < c.size(); ++i) b.Add(c.ids[i], c.cultures[i], c.Vec(i));
  return b;
}

TEST(IndexBuilderTest, BuildsEveryRowWithItsCulture) {
  const auto c = MakeCorpus(1500, kDim, 12, 3, 5);
  IndexBuilder b = Filled(c, "IVF8,Flat", SnapshotStamp{"db-1", 77});
  EXPECT_EQ(b.size(), 1500);
  EXPECT_EQ(b.covers().db_id, "db-1");
  EXPECT_EQ(b.covers().seq, 77u);
  std::vector<std::pair<int64_t, int64_t>> calls;
  auto built = b.Build([&](int64_t done, int64_t total) { calls.emplace_back(done, total); });
  ASSERT_RESULT_OK(built);
  const IndexStats s = built->index->Stats();
  EXPECT_EQ(s.type, "IVF8,Flat");
  EXPECT_EQ(s.live, 1500);
  EXPECT_GE(built->seconds, 0.0);
  // One call per batch, rising, the last one complete.
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), std::make_pair(int64_t{1500}, int64_t{1500}));
  for (size_t i = 1; i < calls.size(); ++i) EXPECT_GT(calls[i].first, calls[i - 1].first);

  // Each id came with its own culture: a search restricted to culture 2
  // returns only culture 2's ids, and finds row 0's vector when it is one.
  std::unordered_map<uint64_t, uint16_t> culture_of;
  for (size_t i = 0; i < c.size(); ++i) culture_of[c.ids[i]] = c.cultures[i];
  SearchFilter only2;
  only2.cultures = {0, 0, 1};
  auto hits = built->index->SearchExact(c.Vec(0), 50, only2);
  ASSERT_RESULT_OK(hits);
  ASSERT_EQ(hits->size(), 50u);
  for (const Hit& h : *hits) EXPECT_EQ(culture_of.at(h.id), 2) << h.id;
  auto self = built->index->SearchExact(c.Vec(0), 1);
  ASSERT_RESULT_OK(self);
  EXPECT_EQ((*self)[0].id, c.ids[0]);
}

TEST(IndexBuilderTest, RowsStayForQueries) {
  const auto c = MakeCorpus(40, kDim, 4, 2, 9);
  IndexBuilder b = Filled(c, "Flat");
  ASSERT_RESULT_OK(b.Build());
  for (int64_t row : {int64_t{0}, int64_t{17}, int64_t{39}}) {
    const auto v = b.vector(row);
    const auto want = c.Vec(static_cast<size_t>(row));
    ASSERT_EQ(v.size(), want.size());
    EXPECT_TRUE(std::equal(v.begin(), v.end(), want.begin())) << row;
  }
}

// auto under its threshold (and Build with no rows at all): Flat.
TEST(IndexBuilderTest, EmptyBuildsAnEmptyIndex) {
  IndexBuilder b(Options("auto"));
  auto built = b.Build();
  ASSERT_RESULT_OK(built);
  EXPECT_EQ(built->index->Stats().type, "Flat");
  EXPECT_EQ(built->index->Stats().live, 0);
}

TEST(IndexBuilderTest, TooFewRowsToTrainIsInvalid) {
  const auto c = MakeCorpus(100, kDim, 4, 2, 1);
  IndexBuilder b = Filled(c, "IVF64,Flat");
  auto built = b.Build();
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.status().code(), Code::kInvalid);
  // Faiss's k-means wants 39 points per list.
  EXPECT_EQ(built.status().message(),
            "index spec 'IVF64,Flat' needs at least 2496 training vectors in the first batch, "
            "got 100");
}

}  // namespace
}  // namespace bf
