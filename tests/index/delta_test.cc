// The HNSW delta buffer (index/delta.h): adds land there and are searchable
// at once, merge at the threshold without changing results, honour removes,
// replaces and filters, and survive a snapshot.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <unordered_set>

#include "index/ann_index.h"
#include "index/faiss_index.h"
#include "tests/index/clustered_data.h"
#include "tests/test_util.h"

namespace bf {
namespace {

using testing::Corpus;
using testing::MakeCorpus;

constexpr int kDim = 32;
constexpr size_t kBuilt = 2000;  // rows 0..1999 built into the graph
constexpr size_t kRows = 3000;   // rows 2000..2999 added one at a time
constexpr int kCultures = 4;

std::vector<uint64_t> Ids(const std::vector<Hit>& hits) {
  std::vector<uint64_t> out;
  for (const Hit& h : hits) out.push_back(h.id);
  return out;
}

class DeltaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    corpus_ = MakeCorpus(kRows, kDim, 30, kCultures, 11);
    options_.dim = kDim;
    options_.spec = "HNSW32";
    options_.delta_merge_threshold = 500;
    options_.delta_merge_chunk = 128;  // a merge takes 4 chunks
    Rebuild();
  }
  void Rebuild() {
    auto built = AnnIndex::Build(options_, int64_t(kBuilt), corpus_.ids.data(),
                                 corpus_.cultures.data(), corpus_.vectors.data());
    ASSERT_RESULT_OK(built);
    index_ = std::move(built).value();
  }
  int64_t DeltaRows(const AnnIndex& index) const {
    return dynamic_cast<const internal::FaissIndex&>(index).DeltaRows();
  }
  // Adds rows [from, to) one at a time.
  void AddRows(size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      ASSERT_OK(index_->Add(corpus_.ids[i], corpus_.cultures[i], corpus_.Vec(i)));
    }
  }
  std::vector<Hit> Search(const AnnIndex& index, std::span<const float> q, int k,
                          const SearchFilter& f = {}) {
    auto r = index.Search(q, k, f);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : std::vector<Hit>{};
  }
  // Top-10 ids for every 10th row added so far.
  std::vector<std::vector<uint64_t>> Snapshot(const AnnIndex& index, size_t rows) {
    std::vector<std::vector<uint64_t>> out;
    for (size_t i = 5; i < rows; i += 10) out.push_back(Ids(Search(index, corpus_.Vec(i), 10)));
    return out;
  }

  Corpus corpus_;
  IndexOptions options_;
  std::unique_ptr<AnnIndex> index_;
};

TEST_F(DeltaTest, AddsLandInTheDeltaAndAreSearchableAtOnce) {
  EXPECT_EQ(DeltaRows(*index_), 0);  // a build fills the graph
  for (size_t i = kBuilt; i < kBuilt + 100; ++i) {
    ASSERT_OK(index_->Add(corpus_.ids[i], corpus_.cultures[i], corpus_.Vec(i)));
    auto hits = Search(*index_, corpus_.Vec(i), 5);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].id, corpus_.ids[i]);
    EXPECT_NEAR(hits[0].score, 1.0f, 1e-4);
  }
  EXPECT_EQ(DeltaRows(*index_), 100);
  const IndexStats st = index_->Stats();
  EXPECT_EQ(st.ntotal, int64_t(kBuilt + 100));
  EXPECT_EQ(st.live, int64_t(kBuilt + 100));
  EXPECT_EQ(st.tombstones, 0);
  // Results from both parts, merged best first, each id once.
  auto hits = Search(*index_, corpus_.Vec(kBuilt), 200);
  ASSERT_EQ(hits.size(), 200u);
  EXPECT_TRUE(std::is_sorted(hits.begin(), hits.end(),
                             [](const Hit& a, const Hit& b) { return a.score > b.score; }));
  const auto ids = Ids(hits);
  EXPECT_EQ(std::unordered_set<uint64_t>(ids.begin(), ids.end()).size(), ids.size());
  int64_t from_delta = 0;
  for (uint64_t id : ids) from_delta += id >= corpus_.ids[kBuilt] ? 1 : 0;
  EXPECT_GT(from_delta, 0);
  EXPECT_LT(from_delta, 100);
  // Exact search, ForEachLive and Contains cover the delta too.
  auto exact = index_->SearchExact(corpus_.Vec(kBuilt + 7), 1);
  ASSERT_RESULT_OK(exact);
  EXPECT_EQ(exact.value()[0].id, corpus_.ids[kBuilt + 7]);
  int64_t live = 0;
  index_->ForEachLive([&](uint64_t id, uint16_t, std::span<const float> v) {
    ++live;
    if (id == corpus_.ids[kBuilt + 99]) {
      EXPECT_TRUE(std::equal(v.begin(), v.end(), corpus_.Vec(kBuilt + 99).begin()));
    }
  });
  EXPECT_EQ(live, int64_t(kBuilt + 100));
  EXPECT_TRUE(index_->Contains(corpus_.ids[kBuilt + 99]));
}

TEST_F(DeltaTest, MergesAtTheThresholdWithTheSameResults) {
  AddRows(kBuilt, kBuilt + 499);
  EXPECT_EQ(DeltaRows(*index_), 499);
  AddRows(kBuilt + 499, kBuilt + 500);  // the 500th add merges
  EXPECT_EQ(DeltaRows(*index_), 0);
  // The same index without a delta: results must not depend on where a
  // vector sits. Ids identical (HNSW at this size finds the exact top 10).
  IndexOptions no_delta = options_;
  no_delta.delta_merge_threshold = 0;
  auto plain = AnnIndex::Build(no_delta, int64_t(kBuilt + 500), corpus_.ids.data(),
                               corpus_.cultures.data(), corpus_.vectors.data());
  ASSERT_RESULT_OK(plain);
  const auto merged = Snapshot(*index_, kBuilt + 500);

  // The same 500 adds with a threshold one higher stay in the delta.
  options_.delta_merge_threshold = 501;
  Rebuild();
  AddRows(kBuilt, kBuilt + 500);
  ASSERT_EQ(DeltaRows(*index_), 500);
  const auto in_delta = Snapshot(*index_, kBuilt + 500);
  EXPECT_EQ(in_delta, merged);
  EXPECT_EQ(Snapshot(*plain.value(), kBuilt + 500), merged);
  const IndexStats st = index_->Stats();
  EXPECT_EQ(st.ntotal, int64_t(kBuilt + 500));
  EXPECT_EQ(st.live, int64_t(kBuilt + 500));
}

TEST_F(DeltaTest, RemoveAndReplaceOfDeltaIds) {
  AddRows(kBuilt, kBuilt + 100);
  std::unordered_set<uint64_t> removed;
  for (size_t i = kBuilt; i < kBuilt + 100; i += 10) {
    ASSERT_TRUE(index_->Remove(corpus_.ids[i]));
    EXPECT_FALSE(index_->Remove(corpus_.ids[i]));
    removed.insert(corpus_.ids[i]);
  }
  // Replace a delta id and a graph id: each moves onto another vector.
  const size_t delta_row = kBuilt + 1, graph_row = 3;
  auto moved_delta = testing::Perturb(corpus_.Vec(kBuilt + 50), 0.01f, 1);
  auto moved_graph = testing::Perturb(corpus_.Vec(kBuilt + 60), 0.01f, 2);
  ASSERT_OK(index_->Add(corpus_.ids[delta_row], corpus_.cultures[delta_row], moved_delta));
  ASSERT_OK(index_->Add(corpus_.ids[graph_row], corpus_.cultures[graph_row], moved_graph));
  IndexStats st = index_->Stats();
  EXPECT_EQ(st.ntotal, int64_t(kBuilt + 102));
  EXPECT_EQ(st.live, int64_t(kBuilt + 90));
  EXPECT_EQ(st.tombstones, 12);

  auto check = [&] {
    for (size_t i = kBuilt; i < kBuilt + 100; i += 10) {
      EXPECT_FALSE(index_->Contains(corpus_.ids[i]));
      for (const Hit& h : Search(*index_, corpus_.Vec(i), 50)) {
        EXPECT_EQ(removed.count(h.id), 0u) << h.id;
      }
    }
    for (auto [row, v] : {std::pair{delta_row, &moved_delta}, {graph_row, &moved_graph}}) {
      auto ids = Ids(Search(*index_, *v, 50));
      ASSERT_FALSE(ids.empty());
      EXPECT_EQ(ids[0], corpus_.ids[row]);
      EXPECT_EQ(std::count(ids.begin(), ids.end(), corpus_.ids[row]), 1);
    }
  };
  check();
  // 502 rows in all: the 500th merged the delta, dead rows included; 2 left.
  AddRows(kBuilt + 100, kBuilt + 500);
  EXPECT_EQ(DeltaRows(*index_), 2);
  check();
  st = index_->Stats();
  EXPECT_EQ(st.ntotal, int64_t(kBuilt + 502));
  EXPECT_EQ(st.live, int64_t(kBuilt + 490));
  EXPECT_EQ(st.tombstones, 12);
}

TEST_F(DeltaTest, SaveAndLoadKeepTheDelta) {
  AddRows(kBuilt, kBuilt + 120);
  for (size_t i = kBuilt; i < kBuilt + 5; ++i) ASSERT_TRUE(index_->Remove(corpus_.ids[i]));
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "delta_test.bfidx").string();
  ASSERT_OK(index_->Save(path, {"db-delta", 77}));
  const auto before = Snapshot(*index_, kBuilt + 120);

  SnapshotStamp stamp;
  auto loaded = AnnIndex::Load(path, "db-delta", options_, &stamp);
  ASSERT_RESULT_OK(loaded);
  AnnIndex& l = *loaded.value();
  EXPECT_EQ(stamp.seq, 77u);
  EXPECT_EQ(DeltaRows(l), 120);
  EXPECT_EQ(Snapshot(l, kBuilt + 120), before);
  const IndexStats a = index_->Stats(), b = l.Stats();
  EXPECT_EQ(b.ntotal, a.ntotal);
  EXPECT_EQ(b.live, a.live);
  EXPECT_EQ(b.tombstones, 5);
  EXPECT_FALSE(l.Contains(corpus_.ids[kBuilt]));
  EXPECT_TRUE(l.Contains(corpus_.ids[kBuilt + 119]));
  // The loaded delta keeps filling and merges at the threshold.
  for (size_t i = kBuilt + 120; i < kBuilt + 500; ++i) {
    ASSERT_OK(l.Add(corpus_.ids[i], corpus_.cultures[i], corpus_.Vec(i)));
  }
  EXPECT_EQ(DeltaRows(l), 0);
  EXPECT_EQ(Search(l, corpus_.Vec(kBuilt + 119), 1)[0].id, corpus_.ids[kBuilt + 119]);

  // Loaded with the delta turned off, the rows go into the graph at once.
  IndexOptions off = options_;
  off.delta_merge_threshold = 0;
  auto merged = AnnIndex::Load(path, "db-delta", off, nullptr);
  ASSERT_RESULT_OK(merged);
  EXPECT_EQ(DeltaRows(*merged.value()), 0);
  EXPECT_EQ(Snapshot(*merged.value(), kBuilt + 120), before);
  EXPECT_EQ(merged.value()->Stats().live, int64_t(kBuilt + 115));
  std::filesystem::remove(path);
}

TEST_F(DeltaTest, FilteredSearchCoversTheDelta) {
  AddRows(kBuilt, kBuilt + 200);
  for (int64_t exact_max : {int64_t(200000), int64_t(0)}) {  // exact scan, then Faiss's filter
    options_.filtered_exact_max = exact_max;
    Rebuild();
    AddRows(kBuilt, kBuilt + 200);
    ASSERT_EQ(DeltaRows(*index_), 200);
    for (size_t i = kBuilt; i < kBuilt + 200; i += 17) {
      const uint16_t own = corpus_.cultures[i];
      SearchFilter keep, drop;
      keep.cultures.assign(kCultures, 0);
      keep.cultures[own] = 1;
      drop.cultures.assign(kCultures, 1);
      drop.cultures[own] = 0;
      auto hits = Search(*index_, corpus_.Vec(i), 10, keep);
      ASSERT_FALSE(hits.empty());
      EXPECT_EQ(hits[0].id, corpus_.ids[i]) << "exact_max " << exact_max;
      for (const Hit& h : Search(*index_, corpus_.Vec(i), 10, drop)) EXPECT_NE(h.id, corpus_.ids[i]);
      std::unordered_set<uint64_t> exclude = {corpus_.ids[i]};
      SearchFilter ex;
      ex.exclude = &exclude;
      for (const Hit& h : Search(*index_, corpus_.Vec(i), 10, ex)) EXPECT_NE(h.id, corpus_.ids[i]);
      auto exact = index_->SearchExact(corpus_.Vec(i), 10, keep);
      ASSERT_RESULT_OK(exact);
      EXPECT_EQ(exact.value()[0].id, corpus_.ids[i]);
    }
  }
}

TEST_F(DeltaTest, LargeBatchesGoToTheGraphAfterTheDelta) {
  AddRows(kBuilt, kBuilt + 10);
  ASSERT_EQ(DeltaRows(*index_), 10);
  // A small batch joins the delta; one of delta_max_batch or more does not,
  // and flushes the delta first so slot numbers stay in order.
  ASSERT_OK(index_->AddBatch(5, corpus_.ids.data() + kBuilt + 10, corpus_.cultures.data() + kBuilt + 10,
                             corpus_.Vec(kBuilt + 10).data()));
  EXPECT_EQ(DeltaRows(*index_), 15);
  Corpus more = MakeCorpus(1024, kDim, 30, kCultures, 12);
  for (uint64_t& id : more.ids) id += 1000000;
  ASSERT_OK(index_->AddBatch(1024, more.ids.data(), more.cultures.data(), more.vectors.data()));
  EXPECT_EQ(DeltaRows(*index_), 0);
  EXPECT_EQ(index_->Stats().live, int64_t(kBuilt + 15 + 1024));
  for (size_t i : {kBuilt, kBuilt + 14}) {
    EXPECT_EQ(Search(*index_, corpus_.Vec(i), 1)[0].id, corpus_.ids[i]);
  }
  EXPECT_EQ(Search(*index_, more.Vec(500), 1)[0].id, more.ids[500]);
}

TEST(DeltaSpecs, OnlyHnswUsesADelta) {
  Corpus c = MakeCorpus(1000, 16, 8, 2, 5);
  for (const char* spec : {"Flat", "IVF4,Flat", "HNSW16"}) {
    IndexOptions o;
    o.dim = 16;
    o.spec = spec;
    auto built = AnnIndex::Build(o, 999, c.ids.data(), c.cultures.data(), c.vectors.data());
    ASSERT_RESULT_OK(built);
    ASSERT_OK(built.value()->Add(c.ids[999], c.cultures[999], c.Vec(999)));
    const auto& f = dynamic_cast<const internal::FaissIndex&>(*built.value());
    EXPECT_EQ(f.DeltaRows(), std::string(spec) == "HNSW16" ? 1 : 0) << spec;
    EXPECT_EQ(built.value()->Search(c.Vec(999), 1).value()[0].id, c.ids[999]) << spec;
  }
}

}  // namespace
}  // namespace bf
