// AnnIndex behaviour shared by every supported spec: add, replace, remove,
// filters, recall, and the errors callers can cause.
#include "index/ann_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "tests/index/clustered_data.h"
#include "tests/test_util.h"

namespace bf {
namespace {

using testing::Corpus;
using testing::MakeCorpus;

constexpr int kDim = 32;
constexpr size_t kN = 3000;
constexpr int kClusters = 40;
constexpr int kCultures = 10;  // culture c owns clusters c, c+10, ...: ~10% each

IndexOptions OptionsFor(const std::string& spec) {
  IndexOptions o;
  o.dim = kDim;
  o.spec = spec;
  o.ivf_nprobe = 8;  // of 16 lists: approximate, not exhaustive
  return o;
}

std::vector<uint64_t> Ids(const std::vector<Hit>& hits) {
  std::vector<uint64_t> out;
  for (const Hit& h : hits) out.push_back(h.id);
  return out;
}

class AnnIndexTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    corpus_ = MakeCorpus(kN, kDim, kClusters, kCultures, 42);
    for (size_t i = 0; i < corpus_.size(); ++i) {
      culture_of_[corpus_.ids[i]] = corpus_.cultures[i];
    }
    auto built = AnnIndex::Build(OptionsFor(GetParam()), int64_t(kN), corpus_.ids.data(),
                                 corpus_.cultures.data(), corpus_.vectors.data());
    ASSERT_RESULT_OK(built);
    index_ = std::move(built).value();
  }

  std::vector<Hit> Search(std::span<const float> q, int k, const SearchFilter& f = {}) {
    auto r = index_->Search(q, k, f);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : std::vector<Hit>{};
  }
  std::vector<Hit> Exact(std::span<const float> q, int k, const SearchFilter& f = {}) {
    auto r = index_->SearchExact(q, k, f);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : std::vector<Hit>{};
  }

  Corpus corpus_;
  std::unordered_map<uint64_t, uint16_t> culture_of_;
  std::unique_ptr<AnnIndex> index_;
};

TEST_P(AnnIndexTest, FindsEachVectorItselfFirst) {
  for (size_t i = 0; i < kN; i += 97) {
    auto hits = Search(corpus_.Vec(i), 10);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].id, corpus_.ids[i]);
    EXPECT_NEAR(hits[0].score, 1.0f, 1e-4);
    EXPECT_TRUE(std::is_sorted(hits.begin(), hits.end(),
                               [](const Hit& a, const Hit& b) { return a.score > b.score; }));
  }
  IndexStats st = index_->Stats();
  EXPECT_EQ(st.type, GetParam());
  EXPECT_EQ(st.dim, kDim);
  EXPECT_EQ(st.ntotal, int64_t(kN));
  EXPECT_EQ(st.live, int64_t(kN));
  EXPECT_EQ(st.tombstones, 0);
  EXPECT_TRUE(st.trained);
}

TEST_P(AnnIndexTest, ReplaceMovesTheVector) {
  const uint64_t id = corpus_.ids[5];
  // Move id 5 onto vector 6's position in space.
  std::vector<float> moved = testing::Perturb(corpus_.Vec(6), 0.01f, 1);
  ASSERT_OK(index_->Add(id, corpus_.cultures[5], moved));
  auto at_new = Search(moved, 5);
  ASSERT_FALSE(at_new.empty());
  EXPECT_EQ(at_new[0].id, id);
  // At the old position it is gone unless its new vector happens to be near.
  for (const Hit& h : Search(corpus_.Vec(5), 50)) {
    if (h.id == id) {
      EXPECT_LT(h.score, 0.999f);
    }
  }
  auto ids = Ids(Search(moved, 50));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), id), 1);
  IndexStats st = index_->Stats();
  EXPECT_EQ(st.live, int64_t(kN));
  EXPECT_EQ(st.tombstones, 1);
  EXPECT_EQ(st.ntotal, int64_t(kN) + 1);
}

TEST_P(AnnIndexTest, RemovedIdsAreNeverReturned) {
  std::unordered_set<uint64_t> removed;
  for (size_t i = 0; i < kN; i += 13) {
    EXPECT_TRUE(index_->Remove(corpus_.ids[i]));
    removed.insert(corpus_.ids[i]);
  }
  for (size_t i = 0; i < kN; i += 13) {
    EXPECT_FALSE(index_->Contains(corpus_.ids[i]));
    EXPECT_FALSE(index_->Remove(corpus_.ids[i]));
    for (const Hit& h : Search(corpus_.Vec(i), 50)) EXPECT_EQ(removed.count(h.id), 0u) << h.id;
    for (const Hit& h : Exact(corpus_.Vec(i), 50)) EXPECT_EQ(removed.count(h.id), 0u) << h.id;
  }
  EXPECT_TRUE(index_->Contains(corpus_.ids[1]));
  EXPECT_EQ(index_->Stats().live, int64_t(kN - removed.size()));
  int64_t seen = 0;
  index_->ForEachLive([&](uint64_t id, uint16_t culture, std::span<const float> v) {
    ++seen;
    EXPECT_EQ(removed.count(id), 0u);
    EXPECT_EQ(culture, culture_of_.at(id));
    EXPECT_EQ(v.size(), size_t(kDim));
  });
  EXPECT_EQ(seen, int64_t(kN - removed.size()));
}

TEST_P(AnnIndexTest, CultureFilterFindsGoodCrossCultureResults) {
  // Queries from culture-0 clusters, restricted to culture 3 (~10% of the
  // corpus, none of the query's own neighbours).
  SearchFilter f;
  f.cultures.assign(kCultures, 0);
  f.cultures[3] = 1;
  std::vector<std::vector<Hit>> approx, exact;
  for (size_t i = 0; i < kN && approx.size() < 40; ++i) {
    if (corpus_.cultures[i] != 0) continue;
    approx.push_back(Search(corpus_.Vec(i), 10, f));
    exact.push_back(Exact(corpus_.Vec(i), 10, f));
    ASSERT_EQ(approx.back().size(), 10u);
    for (const Hit& h : approx.back()) EXPECT_EQ(culture_of_.at(h.id), 3);
    for (const Hit& h : exact.back()) EXPECT_EQ(culture_of_.at(h.id), 3);
  }
  const double recall = RecallAtK(approx, exact, 10);
  std::printf("[ %s ] filtered recall@10 (10%% culture): %.3f\n", GetParam().c_str(), recall);
  EXPECT_GE(recall, 0.9);
  // Two cultures, one code past the end of the vector (dropped).
  f.cultures.assign(kCultures, 0);
  f.cultures[1] = f.cultures[7] = 1;
  for (const Hit& h : Search(corpus_.Vec(0), 30, f)) {
    const uint16_t c = culture_of_.at(h.id);
    EXPECT_TRUE(c == 1 || c == 7) << c;
  }
  f.cultures.assign(2, 0);  // keeps nothing
  EXPECT_TRUE(Search(corpus_.Vec(0), 10, f).empty());
}

TEST_P(AnnIndexTest, ExcludeSetIsHonoured) {
  auto first = Search(corpus_.Vec(0), 10);
  ASSERT_EQ(first.size(), 10u);
  std::unordered_set<uint64_t> exclude;
  for (int i = 0; i < 5; ++i) exclude.insert(first[i].id);
  SearchFilter f;
  f.exclude = &exclude;
  auto second = Search(corpus_.Vec(0), 10, f);
  ASSERT_EQ(second.size(), 10u);
  for (const Hit& h : second) EXPECT_EQ(exclude.count(h.id), 0u);
  // What was ranked 6th to 10th is now first to 5th.
  auto rest = Ids(second);
  for (int i = 5; i < 10; ++i) {
    EXPECT_NE(std::find(rest.begin(), rest.end(), first[i].id), rest.end());
  }
  for (const Hit& h : Exact(corpus_.Vec(0), 10, f)) EXPECT_EQ(exclude.count(h.id), 0u);
}

TEST_P(AnnIndexTest, RecallAgainstExactSearch) {
  testing::Corpus queries = MakeCorpus(100, kDim, kClusters, kCultures, 42 + 1);
  std::vector<std::vector<Hit>> approx, exact;
  for (size_t i = 0; i < queries.size(); ++i) {
    approx.push_back(Search(queries.Vec(i), 10));
    exact.push_back(Exact(queries.Vec(i), 10));
  }
  const double recall = RecallAtK(approx, exact, 10);
  std::printf("[ %s ] recall@10: %.3f\n", GetParam().c_str(), recall);
  EXPECT_GE(recall, 0.9);
  if (GetParam() == "Flat") {
    EXPECT_DOUBLE_EQ(recall, 1.0);
  }
}

TEST_P(AnnIndexTest, NeedsRebuildPastTombstoneRatio) {
  // 3000 slots, ratio 0.25: 750 tombstones is not past it, 751 is.
  EXPECT_FALSE(index_->NeedsRebuild());
  for (size_t i = 0; i < 750; ++i) ASSERT_TRUE(index_->Remove(corpus_.ids[i]));
  EXPECT_FALSE(index_->NeedsRebuild());
  ASSERT_TRUE(index_->Remove(corpus_.ids[750]));
  EXPECT_TRUE(index_->NeedsRebuild());
}

TEST_P(AnnIndexTest, ArgumentErrors) {
  std::vector<float> short_vec(kDim - 1, 0.1f);
  EXPECT_EQ(index_->Add(1, 0, short_vec).code(), Code::kWrongDim);
  EXPECT_EQ(index_->Search(short_vec, 10).status().code(), Code::kWrongDim);
  EXPECT_EQ(index_->SearchExact(short_vec, 10).status().code(), Code::kWrongDim);
  EXPECT_EQ(index_->Search(corpus_.Vec(0), 0).status().code(), Code::kInvalid);
  std::vector<float> nan_vec(kDim, 0.f);
  nan_vec[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(index_->Add(1, 0, nan_vec).code(), Code::kBadVector);
  EXPECT_FALSE(index_->Contains(1));
  EXPECT_EQ(index_->Stats().ntotal, int64_t(kN));
}

INSTANTIATE_TEST_SUITE_P(Specs, AnnIndexTest, ::testing::Values("Flat", "HNSW32", "IVF16,Flat", "IVF16,SQ8,RFlat"),
                         [](const auto& info) {
                           std::string s = info.param;
                           std::replace(s.begin(), s.end(), ',', '_');
                           return s;
                         });

TEST(AnnIndexCreate, InvalidSpecsAndDims) {
  IndexOptions o;
  o.dim = 16;
  o.spec = "Bogus42";
  EXPECT_EQ(AnnIndex::Create(o).status().code(), Code::kInvalid);
  o.spec = "PQ4";  // Faiss builds it, but it cannot be filtered: not supported
  EXPECT_EQ(AnnIndex::Create(o).status().code(), Code::kInvalid);
  o.spec = "Flat";
  o.dim = 0;
  EXPECT_EQ(AnnIndex::Create(o).status().code(), Code::kInvalid);
}

TEST(AnnIndexCreate, AutoResolvesBySize) {
  IndexOptions o;
  o.dim = 16;
  o.auto_ann_threshold = 1000;
  EXPECT_EQ(AutoSpec(o, 999), "Flat");
  EXPECT_EQ(AutoSpec(o, 1000), "IVF256,Flat");
  EXPECT_EQ(AutoSpec(o, 50000), "IVF256,Flat");
  EXPECT_EQ(AutoSpec(o, 1000000), "IVF1024,Flat");
  EXPECT_EQ(AutoSpec(o, 4000000), "IVF2048,Flat");
  // An empty auto index starts exact; IVF needs vectors to train on.
  auto small = AnnIndex::Create(o, 5000);
  ASSERT_RESULT_OK(small);
  EXPECT_EQ(small.value()->Stats().type, "Flat");
  EXPECT_EQ(small.value()->Stats().search, "exact");
  Corpus big = MakeCorpus(12000, 16, 8, 2, 7);
  auto built = AnnIndex::Build(o, 12000, big.ids.data(), big.cultures.data(), big.vectors.data());
  ASSERT_RESULT_OK(built);
  EXPECT_EQ(built.value()->Stats().type, "IVF256,Flat");
  // nprobe: the options' 32, above auto's floor of nlist / 16.
  EXPECT_EQ(built.value()->Stats().search, "nprobe 32");
  // An auto Flat index asks for a rebuild once it outgrows the threshold.
  Corpus c = MakeCorpus(1001, 16, 8, 2, 7);
  ASSERT_OK(small.value()->AddBatch(1000, c.ids.data(), c.cultures.data(), c.vectors.data()));
  EXPECT_FALSE(small.value()->NeedsRebuild());
  ASSERT_OK(small.value()->Add(c.ids[1000], 0, c.Vec(1000)));
  EXPECT_TRUE(small.value()->NeedsRebuild());
}

TEST(AnnIndexCreate, IvfNeedsEnoughTrainingVectors) {
  IndexOptions o = OptionsFor("IVF16,Flat");
  auto created = AnnIndex::Create(o);
  ASSERT_RESULT_OK(created);
  AnnIndex& index = *created.value();
  EXPECT_FALSE(index.Stats().trained);
  Corpus c = MakeCorpus(700, kDim, 16, 2, 9);
  // 16 lists need 16 * 39 = 624 vectors.
  Status s = index.AddBatch(100, c.ids.data(), c.cultures.data(), c.vectors.data());
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_NE(s.message().find("624"), std::string::npos) << s.message();
  EXPECT_EQ(index.Add(c.ids[0], 0, c.Vec(0)).code(), Code::kInvalid);
  EXPECT_EQ(index.Stats().ntotal, 0);
  auto built = AnnIndex::Build(o, 100, c.ids.data(), c.cultures.data(), c.vectors.data());
  EXPECT_EQ(built.status().code(), Code::kInvalid);
  // Enough: trains on the first batch, then single adds work.
  ASSERT_OK(index.AddBatch(650, c.ids.data(), c.cultures.data(), c.vectors.data()));
  EXPECT_TRUE(index.Stats().trained);
  ASSERT_OK(index.Add(c.ids[650], 1, c.Vec(650)));
  EXPECT_EQ(index.Stats().live, 651);
}

TEST(AnnIndexBuild, ReportsProgressAndKeepsTheLastDuplicate) {
  Corpus c = MakeCorpus(40000, 8, 8, 2, 3);
  c.ids[39999] = c.ids[0];  // the later vector wins
  std::vector<std::pair<int64_t, int64_t>> calls;
  IndexOptions o;
  o.dim = 8;
  o.spec = "Flat";
  auto built = AnnIndex::Build(o, 40000, c.ids.data(), c.cultures.data(), c.vectors.data(),
                               [&](int64_t done, int64_t total) { calls.emplace_back(done, total); });
  ASSERT_RESULT_OK(built);
  ASSERT_GE(calls.size(), 2u);
  EXPECT_EQ(calls.back(), std::make_pair(int64_t(40000), int64_t(40000)));
  EXPECT_EQ(built.value()->Stats().live, 39999);
  auto hits = built.value()->Search(c.Vec(39999), 1);
  ASSERT_RESULT_OK(hits);
  EXPECT_EQ(hits.value()[0].id, c.ids[0]);
}

// IVF,Flat's culture-filtered search walks lists nearest first until it has
// scored enough allowed vectors. With culture-specific clusters, the lists a
// fixed nprobe of 4 would visit hold none of culture 3.
TEST(AnnIndexFilteredIvf, WalksPastListsTheFilterEmpties) {
  constexpr int kDimF = 32;
  constexpr size_t kNF = 40000;
  Corpus c = MakeCorpus(kNF, kDimF, 200, 10, 5);
  IndexOptions o;
  o.dim = kDimF;
  o.spec = "IVF128,Flat";
  o.ivf_nprobe = 4;
  auto built = AnnIndex::Build(o, int64_t(kNF), c.ids.data(), c.cultures.data(), c.vectors.data());
  ASSERT_RESULT_OK(built);
  AnnIndex& index = *built.value();
  std::unordered_map<uint64_t, uint16_t> culture_of;
  for (size_t i = 0; i < kNF; ++i) culture_of[c.ids[i]] = c.cultures[i];
  SearchFilter f;
  f.cultures.assign(10, 0);
  f.cultures[3] = 1;
  std::vector<std::vector<Hit>> approx, exact;
  size_t first = kNF;
  for (size_t i = 0; i < kNF && approx.size() < 50; ++i) {
    if (c.cultures[i] != 0) continue;
    first = std::min(first, i);
    approx.push_back(index.Search(c.Vec(i), 10, f).value());
    exact.push_back(index.SearchExact(c.Vec(i), 10, f).value());
    ASSERT_EQ(approx.back().size(), 10u);
    for (const Hit& h : approx.back()) EXPECT_EQ(culture_of.at(h.id), 3);
  }
  const double recall = RecallAtK(approx, exact, 10);
  std::printf("[ IVF128,Flat nprobe 4 ] filtered recall@10 (10%% culture, 40k): %.3f\n", recall);
  EXPECT_GE(recall, 0.9);
  // Exclusions and tombstones hold on this path too.
  std::unordered_set<uint64_t> exclude = {approx[0][0].id, approx[0][1].id};
  ASSERT_TRUE(index.Remove(approx[0][2].id));
  f.exclude = &exclude;
  auto again = index.Search(c.Vec(first), 10, f);
  ASSERT_RESULT_OK(again);
  ASSERT_EQ(again.value().size(), 10u);
  for (const Hit& h : again.value()) {
    EXPECT_EQ(exclude.count(h.id), 0u);
    EXPECT_NE(h.id, approx[0][2].id);
    EXPECT_EQ(culture_of.at(h.id), 3);
  }
}

TEST(RecallAtK, CountsSharedIds) {
  std::vector<std::vector<Hit>> exact = {{{1, 0.9f}, {2, 0.8f}}, {{3, 0.9f}, {4, 0.5f}}, {}};
  std::vector<std::vector<Hit>> approx = {{{1, 0.9f}, {5, 0.7f}}, {{4, 0.5f}, {3, 0.9f}}, {}};
  EXPECT_DOUBLE_EQ(RecallAtK(approx, exact, 2), 0.75);
  EXPECT_DOUBLE_EQ(RecallAtK(approx, exact, 1), 0.5);
}

}  // namespace
}  // namespace bf
