// ReadStoredPosts: the store side of the tools' index builds.
#include <map>
#include "engine/index_from_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <utility>
#include <vector>

#include "embeddings/vector.h"
#include "engine/store/layout.h"
#include "tests/engine/store/store_test_util.h"
#include "tests/test_util.h"

namespace bf {
namespace {

namespace fs = std::filesystem;

constexpr int kDim = 8;

class IndexFromStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::MakeTempDir();
    StoreOptions o;
    o.path = DbPath(dir_);
    o.dim = kDim;
    auto s = Store::Open(o);
    ASSERT_RESULT_OK(s);
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void AddPosts(int n) {
    for (int i = 0; i < n; ++i) {
      PostRecord p = test::TestPost(test::Name("p:", i), kDim, static_cast<uint64_t>(i),
                                    i % 3 == 0 ? "cn" : "us");
      Normalize(p.vector);
      ASSERT_RESULT_OK(store_->PutPost(std::move(p)));
    }
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(IndexFromStoreTest, ReadsEveryPostWithItsCultureAndTheSequence) {
  AddPosts(30);
  auto deleted = store_->DeletePost("p:4");
  ASSERT_RESULT_OK(deleted);
  ASSERT_TRUE(deleted->has_value());
  std::vector<std::pair<int64_t, int64_t>> calls;
  auto rows = ReadStoredPosts(*store_, IndexOptions{},
                              [&](int64_t done, int64_t total) { calls.emplace_back(done, total); });
  ASSERT_RESULT_OK(rows);
  ASSERT_EQ(rows->size(), 29);
  EXPECT_EQ(rows->options().dim, kDim);
  EXPECT_EQ(rows->covers().db_id, store_->db_id());
  EXPECT_EQ(rows->covers().seq, store_->LastSequence());
  // One call per post, in order; the count was right, so no extra one.
  ASSERT_EQ(calls.size(), 29u);
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i], std::make_pair(static_cast<int64_t>(i + 1), int64_t{29}));
  }
  // Rows follow the store's internal-id order, with each post's vector.
  int64_t row = 0;
  ASSERT_OK(store_->ForEachPost([&](const PostRecord& p) {
    const auto v = rows->vector(row++);
    EXPECT_TRUE(test::SameBits(Vector(v.begin(), v.end()), p.vector)) << p.id;
    return true;
  }));

  // And the build gives every post its culture code.
  auto built = rows->Build();
  ASSERT_RESULT_OK(built);
  EXPECT_EQ(built->index->Stats().live, 29);
  SearchFilter cn;
  const uint16_t code = *store_->CultureCode("cn");
  cn.cultures.assign(code + 1, 0);
  cn.cultures[code] = 1;
  auto hits = built->index->SearchExact(rows->vector(0), 100, cn);
  ASSERT_RESULT_OK(hits);
  EXPECT_EQ(hits->size(), 10u);  // p:0, p:3, ... p:27
  std::map<uint64_t, std::string> culture_of;
  ASSERT_OK(store_->ForEachPost([&](const PostRecord& p) {
    culture_of[p.iid] = p.culture;
    return true;
  }));
  for (const Hit& h : *hits) EXPECT_EQ(culture_of.at(h.id), "CN");
}

TEST_F(IndexFromStoreTest, SpecIsTheRequestedElseTheDatabasesElseAuto) {
  EXPECT_EQ(IndexSpecFor(*store_, ""), "auto");
  EXPECT_EQ(IndexSpecFor(*store_, "Flat"), "Flat");
  ASSERT_OK(store_->PutMeta(kIndexSpecMetaKey, "HNSW16"));
  EXPECT_EQ(IndexSpecFor(*store_, ""), "HNSW16");
  EXPECT_EQ(IndexSpecFor(*store_, "IVF4,Flat"), "IVF4,Flat");
  IndexOptions io;
  io.spec.clear();
  auto rows = ReadStoredPosts(*store_, io);
  ASSERT_RESULT_OK(rows);
  EXPECT_EQ(rows->options().spec, "HNSW16");
}

TEST_F(IndexFromStoreTest, EmptyStoreReportsNothing) {
  int calls = 0;
  auto rows = ReadStoredPosts(*store_, IndexOptions{}, [&](int64_t, int64_t) { ++calls; });
  ASSERT_RESULT_OK(rows);
  EXPECT_EQ(rows->size(), 0);
  EXPECT_EQ(calls, 0);
}

// bridgefeed-rebuild's case: a secondary instance reads the database while
// its owner keeps writing; the stamp says how far the read went.
TEST_F(IndexFromStoreTest, ReadsADatabaseAnotherStoreHasOpen) {
  AddPosts(12);
  StoreOptions ro;
  ro.path = DbPath(dir_);
  ro.dim = 0;
  ro.read_only = true;
  ro.create_if_missing = false;
  auto reader = Store::Open(ro);
  ASSERT_RESULT_OK(reader);
  auto rows = ReadStoredPosts(**reader, IndexOptions{});
  ASSERT_RESULT_OK(rows);
  EXPECT_EQ(rows->size(), 12);
  EXPECT_EQ(rows->covers().seq, store_->LastSequence());
  EXPECT_EQ(rows->covers().db_id, store_->db_id());
  const uint64_t covered = rows->covers().seq;
  AddPosts(13);  // p:12 is new; p:0..p:11 are replaced
  ASSERT_OK((*reader)->CatchUp());
  auto again = ReadStoredPosts(**reader, IndexOptions{});
  ASSERT_RESULT_OK(again);
  EXPECT_EQ(again->size(), 13);
  EXPECT_EQ(again->covers().seq, store_->LastSequence());
  EXPECT_GT(again->covers().seq, covered);
}

}  // namespace
}  // namespace bf
