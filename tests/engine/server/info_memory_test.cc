// INFO memory's bytes per structure, through MemoryFields on a real engine:
// every field present and a number, the parts adding up, and the post
// vectors at the exact size the table reserves for them.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>

#include "embeddings/heap_bytes.h"
#include "engine/server/info_memory.h"
#include "tests/engine/engine_fixture.h"
#include "tests/test_util.h"

namespace bf {
namespace {

constexpr int kDim = 8;
constexpr int kPosts = 200;

class InfoMemoryEngineTest : public testing::EngineFixture {
 protected:
  InfoMemoryEngineTest() : EngineFixture(kDim) {}

  void AddPosts(int n) {
    for (int i = 0; i < n; ++i) {
      PostInput p;
      p.id = "p" + std::to_string(i);
      p.author = "a" + std::to_string(i % 7);
      p.culture = i % 2 == 0 ? "US" : "CN";
      p.vector.assign(kDim, 0.0f);
      p.vector[static_cast<size_t>(i % kDim)] = 1.0f;
      p.vector[static_cast<size_t>((i + 1) % kDim)] = 0.5f;
      ASSERT_OK(engine_->AddPost(std::move(p)));
    }
  }

  // INFO memory's fields, every value but the human ones and the
  // allocator's name parsed as a whole number.
  std::map<std::string, uint64_t> Fields() const {
    std::map<std::string, uint64_t> out;
    for (const auto& [key, value] : MemoryFields(*engine_)) {
      if (key.ends_with("_human") || key == "mem_allocator") continue;
      size_t used = 0;
      const uint64_t v = std::stoull(value, &used);
      EXPECT_EQ(used, value.size()) << key << ":" << value;
      out[key] = v;
    }
    return out;
  }
};

TEST_F(InfoMemoryEngineTest, BytesPerStructureAfterARestart) {
  AddPosts(kPosts);
  Reopen();  // the bulk load reserves the table's columns exactly
  auto f = Fields();
  for (const char* key :
       {"mem_structures", "mem_post_vectors", "mem_post_entries", "mem_index", "mem_index_vectors",
        "mem_index_ids", "mem_index_direct_map", "mem_index_refine", "mem_index_graph",
        "mem_index_slots", "mem_foldin_cache", "mem_gramian", "mem_text_model", "mem_rocksdb",
        "mem_rocksdb_memtables", "mem_rocksdb_table_readers", "mem_rocksdb_block_cache",
        "mem_rocksdb_block_cache_pinned", "mem_seen_memtables"}) {
    EXPECT_EQ(f.count(key), 1u) << key;
  }
  // Internal ids start at 1: slots 0..kPosts, dim floats each.
  EXPECT_EQ(f["mem_post_vectors"], heap::Chunk(uint64_t{kPosts + 1} * kDim * 4));
  // The Flat index loaded from the close's snapshot: its vectors once.
  EXPECT_EQ(f["mem_index_vectors"], heap::Chunk(uint64_t{kPosts} * kDim * 4));
  EXPECT_EQ(f["mem_index"], f["mem_index_vectors"] + f["mem_index_ids"] +
                                f["mem_index_direct_map"] + f["mem_index_refine"] +
                                f["mem_index_graph"] + f["mem_index_slots"]);
  // An id string per post (short ones live inside the entry) and the maps.
  EXPECT_GT(f["mem_post_entries"], uint64_t{kPosts} * sizeof(std::string));
  EXPECT_EQ(f["mem_text_model"], 0u);
  EXPECT_GT(f["mem_rocksdb_memtables"], 0u);
  EXPECT_GE(f["mem_rocksdb_memtables"], f["mem_seen_memtables"]);
  EXPECT_GE(f["mem_rocksdb_block_cache"], f["mem_rocksdb_block_cache_pinned"]);
  EXPECT_EQ(f["mem_rocksdb"], f["mem_rocksdb_memtables"] + f["mem_rocksdb_table_readers"] +
                                  f["mem_rocksdb_block_cache"]);
  EXPECT_EQ(f["mem_structures"],
            f["mem_post_vectors"] + f["mem_post_entries"] + f["mem_index"] +
                f["mem_foldin_cache"] + f["mem_gramian"] + f["mem_text_model"] + f["mem_rocksdb"]);
}

TEST_F(InfoMemoryEngineTest, FollowsWritesAndEvents) {
  const auto before = Fields();
  AddPosts(kPosts);
  auto f = Fields();
  // Posts added one by one grow the column geometrically: at least their
  // floats, at most the entries' capacity (1.5x growth) of them.
  EXPECT_GE(f["mem_post_vectors"], uint64_t{kPosts + 1} * kDim * 4);
  EXPECT_LE(f["mem_post_vectors"], heap::Chunk(uint64_t{(kPosts + 1) * 3 / 2 + 1} * kDim * 4));
  EXPECT_GE(f["mem_index_vectors"], uint64_t{kPosts} * kDim * 4);
  EXPECT_GT(f["mem_post_entries"], before.at("mem_post_entries"));
  // A deleted post keeps its slot (and its tombstoned index vector).
  ASSERT_RESULT_OK(engine_->DeletePost("p3"));
  EXPECT_EQ(Fields()["mem_post_vectors"], f["mem_post_vectors"]);
  // Fold-in: a user's event caches its incremental state, d*d floats and more.
  EXPECT_EQ(f["mem_foldin_cache"], 0u);
  ASSERT_OK(engine_->RecordEvent("u1", "p1", EventType::kLike, std::nullopt));
  EXPECT_GE(Fields()["mem_foldin_cache"], uint64_t{kDim} * kDim * 4);
}

}  // namespace
}  // namespace bf
