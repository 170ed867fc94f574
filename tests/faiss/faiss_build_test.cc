// Checks the Faiss that bridgefeed::faiss links: the build it claims (BRIDGEFEED_FAISS_BUILD)
// is the one compiled in, and HNSW and IVF searches return the exact neighbours on easy data.
#include <faiss/AutoTune.h>
#include <faiss/Index.h>
#include <faiss/IndexFlat.h>
#include <faiss/index_factory.h>
#include <faiss/utils/utils.h>
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using idx_t = faiss::Index::idx_t;
constexpr int kDim = 32;

std::vector<float> RandomVectors(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> unit(0.0f, 1.0f);
  std::vector<float> v(n * kDim);
  for (float& x : v) x = unit(rng);
  return v;
}

// Fraction of queries whose nearest neighbour matches exact search.
double Top1Agreement(const std::string& spec, const std::string& params) {
  const size_t n = 4000, nq = 200;
  const std::vector<float> base = RandomVectors(n, 1), queries = RandomVectors(nq, 2);
  faiss::IndexFlatL2 exact(kDim);
  exact.add(n, base.data());
  std::vector<float> d(nq);
  std::vector<idx_t> want(nq), got(nq);
  exact.search(nq, queries.data(), 1, d.data(), want.data());

  std::unique_ptr<faiss::Index> index(faiss::index_factory(kDim, spec.c_str()));
  index->train(n, base.data());
  index->add(n, base.data());
  faiss::ParameterSpace().set_index_parameters(index.get(), params.c_str());
  index->search(nq, queries.data(), 1, d.data(), got.data());
  size_t same = 0;
  for (size_t i = 0; i < nq; ++i) same += got[i] == want[i];
  return static_cast<double>(same) / nq;
}

TEST(FaissBuild, LinkedLibraryIsTheClaimedBuild) {
  const std::string options = faiss::get_compile_options();
  const bool has_avx2 = options.find("AVX2") != std::string::npos;
  EXPECT_EQ(has_avx2, std::string(BRIDGEFEED_FAISS_BUILD) == "avx2")
      << "BRIDGEFEED_FAISS_BUILD=" << BRIDGEFEED_FAISS_BUILD << " but Faiss says: " << options;
}

TEST(FaissBuild, IvfWithAllListsProbedIsExact) {
  EXPECT_EQ(Top1Agreement("IVF16,Flat", "nprobe=16"), 1.0);
}

TEST(FaissBuild, HnswFindsNearestNeighbours) {
  EXPECT_GE(Top1Agreement("HNSW32", "efSearch=128"), 0.95);
}

}  // namespace
