// Readers search while writers add, replace and remove. Each reader checks
// that every result is valid at the moment its search began:
//  - never an id whose Remove() returned before the search started (removed
//    ids are never re-added, and each removal is stamped after it returns);
//  - never an id that was not added yet;
//  - no duplicate ids (a replace moves an id to a vector very close to the
//    old one, so a search that saw both slots would return it twice);
//  - scores best first.
// A Remove that returned before tombstoning, a replace that is not atomic,
// a search running during Faiss's add, or a delta merge that lost or
// doubled a slot would each break one of these.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <unordered_set>

#include "index/ann_index.h"
#include "index/faiss_index.h"
#include "tests/index/clustered_data.h"
#include "tests/test_util.h"

namespace bf {
namespace {

using testing::Corpus;
using testing::MakeCorpus;

constexpr int kDim = 16;
constexpr size_t kInitial = 2000;  // ids index 0..1999 present at start
constexpr size_t kTotal = 3000;    // 2000..2999 added during the test

class ConcurrencyTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConcurrencyTest, ReadersSeeOnlyValidResults) {
  Corpus c = MakeCorpus(kTotal, kDim, 20, 4, 5);
  IndexOptions o;
  o.dim = kDim;
  o.spec = GetParam();
  o.ivf_nprobe = 4;
  // HNSW: a small delta, so the 1500 adds below merge it about 23 times
  // (in chunks, searches running between them).
  o.delta_merge_threshold = 64;
  o.delta_merge_chunk = 16;
  auto built = AnnIndex::Build(o, kInitial, c.ids.data(), c.cultures.data(), c.vectors.data());
  ASSERT_RESULT_OK(built);
  AnnIndex& index = *built.value();

  // Logical clock: removed_at[i] is the tick after Remove(ids[i]) returned.
  std::atomic<uint64_t> clock{1};
  std::vector<std::atomic<uint64_t>> removed_at(kTotal);
  std::atomic<size_t> added_upto{kInitial};  // adds of ids[0, added_upto) have begun
  std::atomic<bool> stop{false};
  std::atomic<int64_t> searches{0}, failures{0};

  auto reader = [&](uint32_t seed) {
    std::mt19937 rng(seed);
    while (!stop.load()) {
      const uint64_t t0 = clock.load();
      const size_t qi = rng() % kTotal;
      SearchFilter f;
      if (rng() % 3 == 0) f.cultures = {1, 1, 0, 0};
      auto r = index.Search(c.Vec(qi), 20, f);
      if (!r.ok()) {
        ++failures;
        continue;
      }
      const uint64_t t1 = clock.load();
      const size_t upto = added_upto.load();
      std::unordered_set<uint64_t> seen;
      const auto& hits = r.value();
      for (size_t j = 0; j < hits.size(); ++j) {
        const uint64_t id = hits[j].id;
        bool ok = id >= 100 && (id - 100) % 7 == 0;
        const size_t i = ok ? (id - 100) / 7 : 0;
        ok = ok && i < upto && seen.insert(id).second;
        if (ok) {
          const uint64_t rm = removed_at[i].load();
          ok = rm == 0 || rm > t0;
        }
        if (ok && !f.cultures.empty()) ok = c.cultures[i] < 2;
        if (j > 0) ok = ok && hits[j - 1].score >= hits[j].score;
        if (!ok) {
          ++failures;
          ADD_FAILURE() << "bad hit " << id << " at " << j << " (t0 " << t0 << ", t1 " << t1
                        << ")";
          break;
        }
      }
      ++searches;
    }
  };

  // Adds new ids, then replaces old ones with near-identical vectors.
  auto adder = [&] {
    for (size_t i = kInitial; i < kTotal; ++i) {
      added_upto.store(i + 1);  // before the add: readers may see it from now on
      EXPECT_OK(index.Add(c.ids[i], c.cultures[i], c.Vec(i)));
      if (i % 2 == 0) {
        const size_t r = 1000 + (i % 1000);  // 1000..1999: replaced, never removed
        auto moved = testing::Perturb(c.Vec(r), 1e-3f, uint32_t(i));
        EXPECT_OK(index.Add(c.ids[r], c.cultures[r], moved));
      }
    }
  };
  // Removes ids 0..999 (never re-added), stamping each after it returns.
  auto remover = [&] {
    for (size_t i = 0; i < 1000; ++i) {
      EXPECT_TRUE(index.Remove(c.ids[i]));
      removed_at[i].store(clock.fetch_add(1) + 1);
    }
  };

  std::vector<std::thread> readers;
  for (uint32_t t = 0; t < 3; ++t) readers.emplace_back(reader, 100 + t);
  std::thread a(adder), rm(remover);
  a.join();
  rm.join();
  stop.store(true);
  for (auto& t : readers) t.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(searches.load(), 100);
  const IndexStats st = index.Stats();
  EXPECT_EQ(st.live, int64_t(kTotal - 1000));
  EXPECT_EQ(st.tombstones, int64_t(1000 + (kTotal - kInitial) / 2));
  for (size_t i = 0; i < 1000; ++i) EXPECT_FALSE(index.Contains(c.ids[i]));
  for (size_t i = 1000; i < kTotal; ++i) EXPECT_TRUE(index.Contains(c.ids[i]));
  EXPECT_EQ(st.ntotal, int64_t(kTotal + (kTotal - kInitial) / 2));
  // HNSW merged its delta along the way (1500 adds, threshold 64).
  const int64_t delta = dynamic_cast<const internal::FaissIndex&>(index).DeltaRows();
  EXPECT_LT(delta, GetParam() == "HNSW32" ? 64 : 1);
}

INSTANTIATE_TEST_SUITE_P(Specs, ConcurrencyTest, ::testing::Values("Flat", "HNSW32", "IVF16,Flat", "IVF16,SQ8,RFlat"),
                         [](const auto& info) {
                           std::string s = info.param;
                           std::replace(s.begin(), s.end(), ',', '_');
                           return s;
                         });

}  // namespace
}  // namespace bf
