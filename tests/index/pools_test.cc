// SearchPools (one walk for the interest, home and cross lists) against the
// separate searches it replaces, per spec; the inner-product metric; the
// quantised specs and the ones refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <unordered_map>

#include "index/ann_index.h"
#include "tests/index/clustered_data.h"
#include "tests/test_util.h"

namespace bf {
namespace {

using testing::Corpus;
using testing::MakeCorpus;

constexpr int kDim = 32;
constexpr int kCultures = 10;  // culture c owns clusters c, c+10, ...

std::vector<uint64_t> Ids(const std::vector<Hit>& hits) {
  std::vector<uint64_t> out;
  for (const Hit& h : hits) out.push_back(h.id);
  return out;
}

// The filters SearchPools stands for.
SearchFilter HomeOnly(uint16_t home, const std::unordered_set<uint64_t>* exclude) {
  SearchFilter f;
  f.cultures.assign(home + 1u, 0);
  f.cultures[home] = 1;
  f.exclude = exclude;
  return f;
}
SearchFilter AllBut(uint16_t home, const std::unordered_set<uint64_t>* exclude) {
  SearchFilter f;
  f.cultures.assign(std::max<size_t>(kCultures, home + 1u), 1);
  f.cultures[home] = 0;
  f.exclude = exclude;
  return f;
}

// The same ids in the same order, with the same scores.
void ExpectSameHits(const std::vector<Hit>& pooled, const std::vector<Hit>& alone,
                    const std::string& what) {
  ASSERT_EQ(Ids(pooled), Ids(alone)) << what;
  for (size_t i = 0; i < pooled.size(); ++i) {
    EXPECT_NEAR(pooled[i].score, alone[i].score, 1e-5) << what << " rank " << i;
  }
}

std::unique_ptr<AnnIndex> BuildIndex(const IndexOptions& o, const Corpus& c) {
  auto built = AnnIndex::Build(o, int64_t(c.size()), c.ids.data(), c.cultures.data(),
                               c.vectors.data());
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  return built.ok() ? std::move(built).value() : nullptr;
}

class PoolsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    corpus_ = MakeCorpus(3000, kDim, 40, kCultures, 42);
    IndexOptions o;
    o.dim = kDim;
    o.spec = GetParam();
    o.ivf_nprobe = 4;  // of 16 lists
    index_ = BuildIndex(o, corpus_);
    ASSERT_NE(index_, nullptr);
    for (size_t i = 0; i < corpus_.size(); ++i) culture_of_[corpus_.ids[i]] = corpus_.cultures[i];
  }

  // SearchPools and the three separate searches agree for the query.
  void ExpectPoolsMatchSearches(std::span<const float> q, uint16_t home,
                                const std::unordered_set<uint64_t>* exclude) {
    PoolRequest req;
    req.interest_k = 50;
    req.home_k = 20;
    req.cross_k = 30;
    req.home_culture = home;
    req.exclude = exclude;
    auto pools = index_->SearchPools(q, req);
    ASSERT_RESULT_OK(pools);
    SearchFilter all;
    all.exclude = exclude;
    auto interest = index_->Search(q, 50, all);
    auto home_hits = index_->Search(q, 20, HomeOnly(home, exclude));
    auto cross_hits = index_->Search(q, 30, AllBut(home, exclude));
    ASSERT_RESULT_OK(interest);
    ASSERT_RESULT_OK(home_hits);
    ASSERT_RESULT_OK(cross_hits);
    ExpectSameHits(pools->interest, *interest, "interest");
    ExpectSameHits(pools->home, *home_hits, "home");
    ExpectSameHits(pools->cross, *cross_hits, "cross");
    EXPECT_EQ(pools->interest.size(), 50u);
    EXPECT_EQ(pools->home.size(), 20u);
    EXPECT_EQ(pools->cross.size(), 30u);
    for (const Hit& h : pools->home) EXPECT_EQ(culture_of_.at(h.id), home);
    for (const Hit& h : pools->cross) EXPECT_NE(culture_of_.at(h.id), home);
    const bool hnsw = GetParam().rfind("HNSW", 0) == 0;
    // HNSW: the graph search, then one exact walk for both pools.
    EXPECT_EQ(pools->passes, hnsw ? 2 : 1);
  }

  Corpus corpus_;
  std::unordered_map<uint64_t, uint16_t> culture_of_;
  std::unique_ptr<AnnIndex> index_;
};

TEST_P(PoolsTest, OnePassEqualsTheSeparateSearches) {
  for (size_t i = 0; i < corpus_.size(); i += 150) {
    ExpectPoolsMatchSearches(corpus_.Vec(i), corpus_.cultures[i], nullptr);
  }
}

TEST_P(PoolsTest, HonoursExclusionsAndTombstones) {
  const auto q = corpus_.Vec(7);
  const uint16_t home = corpus_.cultures[7];
  PoolRequest req;
  req.interest_k = 20;
  req.home_k = 10;
  req.cross_k = 10;
  req.home_culture = home;
  auto first = index_->SearchPools(q, req);
  ASSERT_RESULT_OK(first);
  std::unordered_set<uint64_t> exclude = {first->interest[0].id, first->home[1].id,
                                          first->cross[0].id};
  const uint64_t removed = first->cross[1].id;
  ASSERT_TRUE(index_->Remove(removed));
  ASSERT_TRUE(index_->Remove(first->home[2].id));
  ExpectPoolsMatchSearches(q, home, &exclude);
  req.exclude = &exclude;
  auto again = index_->SearchPools(q, req);
  ASSERT_RESULT_OK(again);
  for (const auto* list : {&again->interest, &again->home, &again->cross}) {
    for (const Hit& h : *list) {
      EXPECT_EQ(exclude.count(h.id), 0u) << h.id;
      EXPECT_NE(h.id, removed);
      EXPECT_NE(h.id, first->home[2].id);
    }
  }
}

TEST_P(PoolsTest, AHomeCultureWithoutPostsMakesEverythingCross) {
  const auto q = corpus_.Vec(3);
  PoolRequest req;
  req.home_k = 10;
  req.cross_k = 25;
  req.home_culture = 40;  // no vector has it
  auto pools = index_->SearchPools(q, req);
  ASSERT_RESULT_OK(pools);
  EXPECT_TRUE(pools->home.empty());
  EXPECT_TRUE(pools->interest.empty());  // not asked for
  auto all = index_->Search(q, 25, AllBut(40, nullptr));
  ASSERT_RESULT_OK(all);
  ExpectSameHits(pools->cross, *all, "cross");
  auto unfiltered = index_->Search(q, 25);
  ASSERT_RESULT_OK(unfiltered);
  ExpectSameHits(pools->cross, *unfiltered, "cross = unfiltered");
}

TEST_P(PoolsTest, ArgumentErrors) {
  PoolRequest req;
  req.interest_k = 10;
  std::vector<float> short_q(kDim - 1, 0.1f);
  EXPECT_EQ(index_->SearchPools(short_q, req).status().code(), Code::kWrongDim);
  req.home_k = -1;
  auto negative = index_->SearchPools(corpus_.Vec(0), req);
  EXPECT_EQ(negative.status().code(), Code::kInvalid);
  EXPECT_NE(negative.status().message().find("home -1"), std::string::npos)
      << negative.status().message();
  PoolRequest none;
  auto empty = index_->SearchPools(corpus_.Vec(0), none);
  EXPECT_EQ(empty.status().code(), Code::kInvalid);
  EXPECT_NE(empty.status().message().find("above 0"), std::string::npos);
}

// Pools with a min: taken from what the interest search reads when that
// holds enough of them (one walk), widened on their own only when short.
TEST_P(PoolsTest, PoolsWithAMinComeFromTheInterestWalk) {
  const std::string spec = GetParam();
  const bool flat = spec == "Flat", hnsw = spec.rfind("HNSW", 0) == 0;
  const bool refine = spec.find("RFlat") != std::string::npos;
  for (size_t i = 0; i < corpus_.size(); i += 300) {
    const auto q = corpus_.Vec(i);
    const uint16_t home = corpus_.cultures[i];
    PoolRequest req;
    req.interest_k = 50;
    req.home_k = 20;
    req.cross_k = 30;
    req.home_culture = home;
    req.home_min = 3;  // the cross pool (min 0) is the filtered search, as before
    req.min_probe_share = 0;  // the nearest lists only (the share is tested below)
    auto pools = index_->SearchPools(q, req);
    ASSERT_RESULT_OK(pools);
    auto home_hits = index_->Search(q, 20, HomeOnly(home, nullptr));
    ASSERT_RESULT_OK(home_hits);
    if (flat) {  // exact anyway: the min changes nothing
      ExpectSameHits(pools->home, *home_hits, "flat home");
      EXPECT_EQ(pools->passes, 1);
      continue;
    }
    // HNSW: the graph search, then the exact walk for the cross pool only.
    EXPECT_EQ(pools->passes, hnsw ? 2 : 1) << "query " << i;
    EXPECT_EQ(pools->widened, 0) << "query " << i;
    ASSERT_GE(pools->home.size(), 3u);
    ASSERT_EQ(pools->cross.size(), 30u);
    for (const Hit& h : pools->home) EXPECT_EQ(culture_of_.at(h.id), home);
    for (const Hit& h : pools->cross) EXPECT_NE(culture_of_.at(h.id), home);
    // The interest hits of the home culture lead the home pool: the same
    // vectors were scored (HNSW: the pool is exactly those hits).
    std::vector<uint64_t> interest_home;
    for (const Hit& h : pools->interest) {
      if (culture_of_.at(h.id) == home) interest_home.push_back(h.id);
    }
    if (hnsw) {
      interest_home.resize(std::min<size_t>(interest_home.size(), 20));
      EXPECT_EQ(Ids(pools->home), interest_home) << "query " << i;
    } else if (!refine) {
      const size_t m = std::min<size_t>(interest_home.size(), pools->home.size());
      std::vector<uint64_t> lead = Ids(pools->home);
      lead.resize(m);
      EXPECT_EQ(lead, std::vector<uint64_t>(interest_home.begin(), interest_home.begin() + m))
          << "query " << i;
      // IVF: the home pool scored no vector the other two lists did not.
      PoolRequest no_home = req;
      no_home.home_k = 0;
      auto without = index_->SearchPools(q, no_home);
      ASSERT_RESULT_OK(without);
      EXPECT_EQ(pools->scored, without->scored) << "query " << i;
    }
  }
}

TEST_P(PoolsTest, APoolShortOfItsMinGetsItsOwnWalk) {
  const std::string spec = GetParam();
  const bool flat = spec == "Flat", hnsw = spec.rfind("HNSW", 0) == 0;
  const bool refine = spec.find("RFlat") != std::string::npos;
  const auto q = corpus_.Vec(11);
  const uint16_t home = corpus_.cultures[11];
  PoolRequest req;
  req.interest_k = 50;
  req.home_k = 20;
  req.cross_k = 30;
  req.home_culture = home;
  req.home_min = 100000;  // more than the index holds: always short
  req.min_probe_share = 0;  // else its own lists join the first walk already
  auto pools = index_->SearchPools(q, req);
  ASSERT_RESULT_OK(pools);
  auto home_hits = index_->Search(q, 20, HomeOnly(home, nullptr));
  ASSERT_RESULT_OK(home_hits);
  ASSERT_EQ(pools->home.size(), 20u);
  if (flat || hnsw) {
    // Flat ignores the min; HNSW widens with the separate filtered search.
    ExpectSameHits(pools->home, *home_hits, "home");
    EXPECT_EQ(pools->widened, flat ? 0 : 1);
    EXPECT_EQ(pools->passes, flat ? 1 : 2);
    return;
  }
  EXPECT_EQ(pools->widened, 1);
  EXPECT_EQ(pools->passes, 2);
  // IVF reads the nearest lists and then the filtered plan's others: a
  // superset of the separate search's lists, so no rank scores worse.
  if (!refine) {
    for (size_t r = 0; r < home_hits->size(); ++r) {
      EXPECT_GE(pools->home[r].score, (*home_hits)[r].score - 1e-5f) << "rank " << r;
    }
  }
  for (const Hit& h : pools->home) EXPECT_EQ(culture_of_.at(h.id), home);
}

INSTANTIATE_TEST_SUITE_P(Specs, PoolsTest,
                         ::testing::Values("Flat", "HNSW32", "IVF16,Flat", "IVF16,SQ8",
                                           "IVF16,SQ8,RFlat"),
                         [](const auto& info) {
                           std::string s = info.param;
                           std::replace(s.begin(), s.end(), ',', '_');
                           return s;
                         });

TEST(Pools, EmptyIndexAnswersEmptyLists) {
  IndexOptions o;
  o.dim = 8;
  o.spec = "Flat";
  auto created = AnnIndex::Create(o);
  ASSERT_RESULT_OK(created);
  PoolRequest req;
  req.interest_k = 5;
  req.cross_k = 5;
  std::vector<float> q(8, 0.5f);
  auto pools = created.value()->SearchPools(q, req);
  ASSERT_RESULT_OK(pools);
  EXPECT_TRUE(pools->interest.empty());
  EXPECT_TRUE(pools->cross.empty());
  EXPECT_EQ(pools->passes, 0);
}

// The adversarial case of AnnIndexFilteredIvf: culture-specific clusters, a
// query from a home-culture neighbourhood, and a fixed nprobe (4 of 64)
// whose lists hold few vectors of other cultures. The one pass must find the
// cross pool exactly as the filtered walk does (the recall is that rule's).
TEST(Pools, AdversarialCrossPoolMatchesTheFilteredWalk) {
  constexpr size_t kN = 20000;
  Corpus c = MakeCorpus(kN, kDim, 100, kCultures, 5);
  for (const std::string spec : {"IVF64,Flat", "IVF64,SQ8,RFlat"}) {
    IndexOptions o;
    o.dim = kDim;
    o.spec = spec;
    o.ivf_nprobe = 4;
    auto index = BuildIndex(o, c);
    ASSERT_NE(index, nullptr);
    std::vector<std::vector<Hit>> cross, home, cross_exact, home_exact;
    for (size_t i = 0; i < kN && cross.size() < 40; ++i) {
      if (c.cultures[i] != 0) continue;
      PoolRequest req;
      req.interest_k = 10;
      req.home_k = 10;
      req.cross_k = 10;
      req.home_culture = 0;
      auto pools = index->SearchPools(c.Vec(i), req);
      ASSERT_RESULT_OK(pools);
      EXPECT_EQ(pools->passes, 1);
      auto alone = index->Search(c.Vec(i), 10, AllBut(0, nullptr));
      ASSERT_RESULT_OK(alone);
      ExpectSameHits(pools->cross, *alone, spec + " cross");
      cross.push_back(pools->cross);
      home.push_back(pools->home);
      cross_exact.push_back(index->SearchExact(c.Vec(i), 10, AllBut(0, nullptr)).value());
      home_exact.push_back(index->SearchExact(c.Vec(i), 10, HomeOnly(0, nullptr)).value());
    }
    const double cross_recall = RecallAtK(cross, cross_exact, 10);
    const double home_recall = RecallAtK(home, home_exact, 10);
    std::printf("[ %s nprobe 4 ] one-pass recall@10: cross %.3f, home %.3f\n", spec.c_str(),
                cross_recall, home_recall);
    EXPECT_GE(cross_recall, 0.8) << spec;
    EXPECT_GE(home_recall, 0.9) << spec;
  }
}

// A pool with a min reads, besides the nearest lists, its own best lists up
// to min_probe_share of the filtered budget, in the same walk. On the
// adversarial data the cross pool is a minority of the nearest lists: share
// 0 leaves it thin, share 1 reads every list the filtered walk reads (so no
// rank scores worse than the filtered search), and shares between cost and
// recall in between.
TEST(Pools, MinProbeShareWidensAMinorityPoolInOneWalk) {
  constexpr size_t kN = 20000;
  Corpus c = MakeCorpus(kN, kDim, 100, kCultures, 5);
  IndexOptions o;
  o.dim = kDim;
  o.spec = "IVF64,Flat";
  o.ivf_nprobe = 4;
  auto index = BuildIndex(o, c);
  ASSERT_NE(index, nullptr);
  std::unordered_map<uint64_t, uint16_t> culture_of;
  for (size_t i = 0; i < c.size(); ++i) culture_of[c.ids[i]] = c.cultures[i];
  const std::vector<double> shares = {0.0, 0.5, 1.0};
  std::vector<std::vector<std::vector<Hit>>> cross(shares.size());
  std::vector<double> scored(shares.size(), 0);
  std::vector<std::vector<Hit>> exact;
  for (size_t i = 0; i < kN && exact.size() < 40; ++i) {
    if (c.cultures[i] != 0) continue;
    const auto q = c.Vec(i);
    auto filtered = index->Search(q, 10, AllBut(0, nullptr));
    ASSERT_RESULT_OK(filtered);
    for (size_t s = 0; s < shares.size(); ++s) {
      PoolRequest req;
      req.interest_k = 10;
      req.cross_k = 10;
      req.home_culture = 0;
      req.cross_min = 3;
      req.min_probe_share = shares[s];
      auto pools = index->SearchPools(q, req);
      ASSERT_RESULT_OK(pools);
      EXPECT_EQ(pools->passes, 1) << "share " << shares[s];
      EXPECT_EQ(pools->widened, 0) << "share " << shares[s];
      ASSERT_EQ(pools->cross.size(), 10u);
      for (const Hit& h : pools->cross) EXPECT_NE(culture_of.at(h.id), 0);
      if (shares[s] == 1.0) {
        for (size_t r = 0; r < filtered->size(); ++r) {
          EXPECT_GE(pools->cross[r].score, (*filtered)[r].score - 1e-5f) << "rank " << r;
        }
      }
      scored[s] += static_cast<double>(pools->scored);
      cross[s].push_back(pools->cross);
    }
    exact.push_back(index->SearchExact(q, 10, AllBut(0, nullptr)).value());
  }
  std::vector<double> recall;
  for (size_t s = 0; s < shares.size(); ++s) {
    recall.push_back(RecallAtK(cross[s], exact, 10));
    std::printf("[ share %.1f ] cross recall@10 %.3f, %.0f vectors scored per call\n", shares[s],
                recall[s], scored[s] / static_cast<double>(exact.size()));
  }
  EXPECT_LT(recall[0], 0.8);  // the nearest lists hold few cross vectors
  EXPECT_GT(recall[1], recall[0] + 0.08);
  EXPECT_GE(recall[2], 0.9);
  EXPECT_LT(scored[0], scored[1]);
  EXPECT_LT(scored[1], scored[2]);
}

// Culture codes past CultureLists' range (64): IVF cannot plan the pools'
// lists in advance, so each list is its own search, with the same answers.
TEST(Pools, UntrackedCultureCodesFallBackToSeparateSearches) {
  Corpus c = MakeCorpus(3000, kDim, 40, kCultures, 8);
  for (uint16_t& code : c.cultures) code = static_cast<uint16_t>(code + 60);  // 60..69
  IndexOptions o;
  o.dim = kDim;
  o.spec = "IVF16,Flat";
  o.ivf_nprobe = 4;
  auto index = BuildIndex(o, c);
  ASSERT_NE(index, nullptr);
  const uint16_t home = 66;
  SearchFilter home_only;
  home_only.cultures.assign(70, 0);
  home_only.cultures[home] = 1;
  SearchFilter others;
  others.cultures.assign(70, 1);
  others.cultures[home] = 0;
  for (size_t i = 0; i < c.size(); i += 500) {
    PoolRequest req;
    req.interest_k = 20;
    req.home_k = 10;
    req.cross_k = 10;
    req.home_culture = home;
    auto pools = index->SearchPools(c.Vec(i), req);
    ASSERT_RESULT_OK(pools);
    EXPECT_EQ(pools->passes, 3);
    ExpectSameHits(pools->interest, index->Search(c.Vec(i), 20).value(), "interest");
    ExpectSameHits(pools->home, index->Search(c.Vec(i), 10, home_only).value(), "home");
    ExpectSameHits(pools->cross, index->Search(c.Vec(i), 10, others).value(), "cross");
    ASSERT_EQ(pools->home.size(), 10u);
    ASSERT_EQ(pools->cross.size(), 10u);
  }
}

// Learned factors: inner product over vectors whose norms differ.
class InnerProductTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    corpus_ = MakeCorpus(3000, kDim, 40, kCultures, 17);
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> norm(0.2f, 3.0f);
    for (size_t i = 0; i < corpus_.size(); ++i) {
      const float s = norm(rng);
      for (int j = 0; j < kDim; ++j) corpus_.vectors[i * kDim + j] *= s;
    }
    options_.dim = kDim;
    options_.spec = GetParam();
    options_.metric = Metric::kInnerProduct;
    options_.ivf_nprobe = 8;
    index_ = BuildIndex(options_, corpus_);
    ASSERT_NE(index_, nullptr);
  }

  Corpus corpus_;
  IndexOptions options_;
  std::unique_ptr<AnnIndex> index_;
};

TEST_P(InnerProductTest, SearchesFiltersAndSnapshotsByInnerProduct) {
  EXPECT_EQ(index_->Stats().metric, "ip");
  Corpus queries = MakeCorpus(60, kDim, 40, kCultures, 18);
  std::vector<std::vector<Hit>> approx, exact, approx_f, exact_f;
  const SearchFilter cross = AllBut(2, nullptr);
  for (size_t i = 0; i < queries.size(); ++i) {
    approx.push_back(index_->Search(queries.Vec(i), 10).value());
    exact.push_back(index_->SearchExact(queries.Vec(i), 10).value());
    approx_f.push_back(index_->Search(queries.Vec(i), 10, cross).value());
    exact_f.push_back(index_->SearchExact(queries.Vec(i), 10, cross).value());
  }
  // The exact search ranks by the inner product itself: a long vector beats
  // a better-aligned short one.
  const std::vector<Hit>& top = exact[0];
  ASSERT_EQ(top.size(), 10u);
  std::vector<float> best(corpus_.size());
  for (size_t i = 0; i < corpus_.size(); ++i) {
    float dot = 0;
    for (int j = 0; j < kDim; ++j) dot += queries.Vec(0)[j] * corpus_.Vec(i)[j];
    best[i] = dot;
  }
  std::sort(best.begin(), best.end(), std::greater<>());
  EXPECT_NEAR(top[0].score, best[0], 1e-3);
  EXPECT_NEAR(top[9].score, best[9], 1e-3);
  EXPECT_GT(top[0].score, 1.05f);  // not a cosine
  const double recall = RecallAtK(approx, exact, 10);
  const double recall_f = RecallAtK(approx_f, exact_f, 10);
  std::printf("[ %s ip ] recall@10 %.3f, cross-filtered %.3f\n", GetParam().c_str(), recall,
              recall_f);
  EXPECT_GE(recall, 0.9);
  EXPECT_GE(recall_f, 0.9);

  // Snapshot and load: same answers; a cosine server refuses the file.
  const std::string path = ::testing::TempDir() + "bf_ip_" + std::to_string(::getpid()) + "_" +
                           std::to_string(std::hash<std::string>()(GetParam())) + ".bfidx";
  ASSERT_OK(index_->Save(path, {"db-ip", 9}));
  SnapshotStamp stamp;
  auto loaded = AnnIndex::Load(path, "db-ip", options_, &stamp);
  ASSERT_RESULT_OK(loaded);
  EXPECT_EQ(loaded.value()->Stats().metric, "ip");
  for (size_t i = 0; i < queries.size(); i += 7) {
    EXPECT_EQ(Ids(loaded.value()->Search(queries.Vec(i), 10).value()), Ids(approx[i]));
    EXPECT_EQ(Ids(loaded.value()->Search(queries.Vec(i), 10, cross).value()), Ids(approx_f[i]));
  }
  IndexOptions cosine = options_;
  cosine.metric = Metric::kCosine;
  auto refused = AnnIndex::Load(path, "db-ip", cosine, &stamp);
  EXPECT_EQ(refused.status().code(), Code::kInvalid);
  EXPECT_NE(refused.status().message().find("has metric ip, expected cosine"), std::string::npos)
      << refused.status().message();
  std::filesystem::remove(path);
}

INSTANTIATE_TEST_SUITE_P(Specs, InnerProductTest,
                         ::testing::Values("Flat", "HNSW32", "IVF16,Flat", "IVF16,SQ8,RFlat"),
                         [](const auto& info) {
                           std::string s = info.param;
                           std::replace(s.begin(), s.end(), ',', '_');
                           return s;
                         });

TEST(Quantised, RefusesWhatCannotBeFiltered) {
  IndexOptions o;
  o.dim = 16;
  for (const char* spec : {"IVF16,PQ8x4fs", "IVF16,PQ8x4fs,RFlat"}) {
    o.spec = spec;
    auto r = AnnIndex::Create(o);
    EXPECT_EQ(r.status().code(), Code::kInvalid) << spec;
    EXPECT_NE(r.status().message().find("x4fs"), std::string::npos) << r.status().message();
  }
  o.spec = "HNSW32,RFlat";  // Faiss builds it; the re-rank belongs to IVF only
  auto r = AnnIndex::Create(o);
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  EXPECT_NE(r.status().message().find("over IVF only"), std::string::npos) << r.status().message();
}

// The re-rank makes SQ8's scores exact: the same top 10 as IVF,Flat probing
// the same lists, with exact scores.
TEST(Quantised, RefineGivesExactScores) {
  Corpus c = MakeCorpus(5000, kDim, 40, kCultures, 21);
  IndexOptions o;
  o.dim = kDim;
  o.ivf_nprobe = 6;
  o.spec = "IVF32,SQ8,RFlat";
  auto sq = BuildIndex(o, c);
  o.spec = "IVF32,SQ8";
  auto raw = BuildIndex(o, c);
  ASSERT_NE(sq, nullptr);
  ASSERT_NE(raw, nullptr);
  EXPECT_EQ(sq->Stats().search, "nprobe 6, re-rank 2x k");
  EXPECT_EQ(raw->Stats().search, "nprobe 6");
  std::vector<std::vector<Hit>> refined, coded, exact;
  for (size_t i = 0; i < c.size(); i += 100) {
    refined.push_back(sq->Search(c.Vec(i), 10).value());
    coded.push_back(raw->Search(c.Vec(i), 10).value());
    exact.push_back(sq->SearchExact(c.Vec(i), 10).value());
    ASSERT_FALSE(refined.back().empty());
    EXPECT_EQ(refined.back()[0].id, c.ids[i]);
    EXPECT_NEAR(refined.back()[0].score, 1.0f, 1e-5);  // the re-rank's exact score
  }
  const double r_refined = RecallAtK(refined, exact, 10);
  const double r_coded = RecallAtK(coded, exact, 10);
  std::printf("[ IVF32,SQ8 nprobe 6 ] recall@10: %.3f, with RFlat %.3f\n", r_coded, r_refined);
  EXPECT_GE(r_refined, 0.95);
  EXPECT_GE(r_refined, r_coded);
}

}  // namespace
}  // namespace bf
