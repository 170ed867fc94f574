// AnnIndex::Memory: the parts INFO memory reports, checked against what each
// index kind must hold after a load (Faiss reads arrays at their exact size).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "embeddings/heap_bytes.h"
#include "index/ann_index.h"
#include "tests/index/clustered_data.h"
#include "tests/test_util.h"

namespace bf {
namespace {

namespace fs = std::filesystem;
constexpr int kDim = 8;
constexpr int64_t kN = 1000;

// Builds spec over kN vectors, saves and loads it back.
std::unique_ptr<AnnIndex> BuiltAndLoaded(const std::string& spec) {
  IndexOptions o;
  o.dim = kDim;
  o.spec = spec;
  const testing::Corpus c = testing::MakeCorpus(kN, kDim, 8, 3, 5);
  auto built = AnnIndex::Build(o, kN, c.ids.data(), c.cultures.data(), c.vectors.data());
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  if (!built.ok()) return nullptr;
  const fs::path path = fs::temp_directory_path() /
                        ("bf_index_memory_" + std::to_string(::getpid()) + ".snap");
  EXPECT_OK((*built)->Save(path.string(), {"db", 1}));
  SnapshotStamp stamp;
  auto loaded = AnnIndex::Load(path.string(), "db", o, &stamp);
  fs::remove(path);
  EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
  return loaded.ok() ? std::move(loaded).value() : nullptr;
}

constexpr uint64_t kFloats = uint64_t{kN} * kDim * 4;

TEST(IndexMemoryTest, FlatHoldsItsVectorsOnce) {
  auto ix = BuiltAndLoaded("Flat");
  ASSERT_NE(ix, nullptr);
  const IndexMemory m = ix->Memory();
  EXPECT_EQ(m.vectors, heap::Chunk(kFloats));
  EXPECT_EQ(m.ids, 0u);
  EXPECT_EQ(m.direct_map, 0u);
  EXPECT_EQ(m.refine, 0u);
  EXPECT_EQ(m.graph, 0u);
  // Slot -> id (8), culture (2), tombstone (1), and the id -> slot map.
  EXPECT_GE(m.slots, uint64_t{kN} * 11 + uint64_t{kN} * 16);
  EXPECT_EQ(m.total(), m.vectors + m.slots);
}

TEST(IndexMemoryTest, IvfFlatListsIdsDirectMapAndCentroids) {
  auto ix = BuiltAndLoaded("IVF16,Flat");
  ASSERT_NE(ix, nullptr);
  const IndexMemory m = ix->Memory();
  // 16 lists, each its own buffer: the floats plus at most a malloc header
  // and rounding per list, and the outer arrays.
  EXPECT_GE(m.vectors, kFloats);
  EXPECT_LE(m.vectors, kFloats + 16 * 32 + heap::Chunk(16 * 24));
  EXPECT_GE(m.ids, uint64_t{kN} * 8);
  EXPECT_LE(m.ids, uint64_t{kN} * 8 + 16 * 32 + heap::Chunk(16 * 24));
  EXPECT_EQ(m.direct_map, heap::Chunk(uint64_t{kN} * 8));
  EXPECT_EQ(m.graph, heap::Chunk(16 * kDim * 4));  // the centroids
  EXPECT_EQ(m.refine, 0u);
}

TEST(IndexMemoryTest, Sq8CodesWithAnExactRefineStore) {
  auto ix = BuiltAndLoaded("IVF16,SQ8,RFlat");
  ASSERT_NE(ix, nullptr);
  const IndexMemory m = ix->Memory();
  EXPECT_EQ(m.refine, heap::Chunk(kFloats));
  // One byte per component in the lists: a quarter of the floats.
  EXPECT_GE(m.vectors, kFloats / 4);
  EXPECT_LE(m.vectors, kFloats / 4 + 16 * 32 + heap::Chunk(16 * 24));
}

TEST(IndexMemoryTest, HnswStorageAndGraph) {
  auto ix = BuiltAndLoaded("HNSW8");
  ASSERT_NE(ix, nullptr);
  const IndexMemory m = ix->Memory();
  EXPECT_EQ(m.vectors, heap::Chunk(kFloats));
  // Level 0 alone has 2 * 8 links of 4 bytes per vector.
  EXPECT_GE(m.graph, uint64_t{kN} * 16 * 4);
}

}  // namespace
}  // namespace bf
