// Save/Load: round trips per spec, and every way a file can be wrong.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "index/ann_index.h"
#include "tests/index/clustered_data.h"
#include "tests/test_util.h"

namespace bf {
namespace {

namespace fs = std::filesystem;
using testing::Corpus;
using testing::MakeCorpus;

constexpr int kDim = 16;

class SnapshotTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');  // parameterised names hold '/'
    dir_ = fs::temp_directory_path() /
           ("bf_index_test_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    options_.dim = kDim;
    options_.spec = GetParam();
    options_.ivf_nprobe = 4;
    corpus_ = MakeCorpus(2000, kDim, 20, 4, 11);
    auto built = AnnIndex::Build(options_, 2000, corpus_.ids.data(), corpus_.cultures.data(),
                                 corpus_.vectors.data());
    ASSERT_RESULT_OK(built);
    index_ = std::move(built).value();
    // Some tombstones, so they travel too.
    for (size_t i = 0; i < 2000; i += 50) ASSERT_TRUE(index_->Remove(corpus_.ids[i]));
    ASSERT_OK(index_->Add(corpus_.ids[1], 2, corpus_.Vec(3)));
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  std::string SaveGood() {
    const std::string p = Path("index.bfidx");
    EXPECT_OK(index_->Save(p, {"db-1", 77}));
    return p;
  }
  Code LoadCode(const std::string& p, const std::string& db = "db-1", int dim = kDim) {
    IndexOptions o = options_;
    o.dim = dim;
    SnapshotStamp stamp;
    auto r = AnnIndex::Load(p, db, o, &stamp);
    return r.ok() ? Code::kOk : r.status().code();
  }
  std::vector<char> ReadBytes(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void WriteBytes(const std::string& p, const std::vector<char>& b) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(b.data(), std::streamsize(b.size()));
  }

  fs::path dir_;
  IndexOptions options_;
  Corpus corpus_;
  std::unique_ptr<AnnIndex> index_;
};

TEST_P(SnapshotTest, RoundTripGivesIdenticalResultsAndStamp) {
  const std::string p = SaveGood();
  SnapshotStamp stamp;
  auto loaded = AnnIndex::Load(p, "db-1", options_, &stamp);
  ASSERT_RESULT_OK(loaded);
  EXPECT_EQ(stamp.db_id, "db-1");
  EXPECT_EQ(stamp.seq, 77u);
  AnnIndex& copy = *loaded.value();
  const IndexStats a = index_->Stats(), b = copy.Stats();
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.ntotal, b.ntotal);
  EXPECT_EQ(a.live, b.live);
  EXPECT_EQ(a.tombstones, b.tombstones);
  SearchFilter f;
  f.cultures = {1, 0, 1};
  for (size_t i = 0; i < 2000; i += 71) {
    for (const SearchFilter& filter : {SearchFilter{}, f}) {
      auto x = index_->Search(corpus_.Vec(i), 20, filter);
      auto y = copy.Search(corpus_.Vec(i), 20, filter);
      ASSERT_RESULT_OK(x);
      ASSERT_RESULT_OK(y);
      ASSERT_EQ(x.value().size(), y.value().size());
      for (size_t j = 0; j < x.value().size(); ++j) {
        EXPECT_EQ(x.value()[j].id, y.value()[j].id);
        EXPECT_EQ(x.value()[j].score, y.value()[j].score);
      }
      auto ex = copy.SearchExact(corpus_.Vec(i), 5, filter);
      ASSERT_RESULT_OK(ex);
      EXPECT_EQ(ex.value().size(), 5u);
    }
  }
  EXPECT_FALSE(copy.Contains(corpus_.ids[0]));
  EXPECT_TRUE(copy.Contains(corpus_.ids[1]));
  // The loaded index keeps working.
  ASSERT_OK(copy.Add(999999, 1, corpus_.Vec(7)));
  auto hit = copy.Search(corpus_.Vec(7), 2);
  ASSERT_RESULT_OK(hit);
  EXPECT_TRUE(copy.Contains(999999));
  // Saving over an existing file replaces it.
  ASSERT_OK(copy.Save(p, {"db-1", 78}));
  ASSERT_RESULT_OK(AnnIndex::Load(p, "db-1", options_, &stamp));
  EXPECT_EQ(stamp.seq, 78u);
}

TEST_P(SnapshotTest, WrongDatabaseOrDimensionIsInvalid) {
  const std::string p = SaveGood();
  EXPECT_EQ(LoadCode(p, "db-2"), Code::kInvalid);
  EXPECT_EQ(LoadCode(p, "db-1", kDim * 2), Code::kInvalid);
  IndexOptions o = options_;
  auto r = AnnIndex::Load(p, "other", o, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("db-1"), std::string::npos);
  EXPECT_NE(r.status().message().find("other"), std::string::npos);
}

TEST_P(SnapshotTest, TruncatedOrDamagedFileIsCorruption) {
  const std::string p = SaveGood();
  const std::vector<char> good = ReadBytes(p);
  ASSERT_GT(good.size(), 1000u);
  for (size_t keep : {size_t(0), size_t(4), size_t(30), good.size() / 2, good.size() - 1}) {
    WriteBytes(p, {good.begin(), good.begin() + std::ptrdiff_t(keep)});
    EXPECT_EQ(LoadCode(p), Code::kCorruption) << "truncated to " << keep;
  }
  for (size_t at : {size_t(2), size_t(6), size_t(20), size_t(40), good.size() / 3,
                    good.size() - 3}) {
    std::vector<char> bad = good;
    bad[at] = char(bad[at] ^ 0x10);
    WriteBytes(p, bad);
    EXPECT_EQ(LoadCode(p), Code::kCorruption) << "flipped byte " << at;
  }
  WriteBytes(p, good);
  EXPECT_EQ(LoadCode(p), Code::kOk);
  EXPECT_EQ(LoadCode(Path("missing.bfidx")), Code::kIOError);
}

TEST_P(SnapshotTest, UnwritablePathIsIOErrorAndLeavesNoFile) {
  EXPECT_EQ(index_->Save(Path("no/such/dir/index.bfidx"), {"db-1", 1}).code(), Code::kIOError);
  // The target is a directory: the rename fails after the data was written.
  fs::create_directories(dir_ / "taken");
  fs::create_directories(dir_ / "taken" / "x");  // non-empty, so rename cannot replace it
  EXPECT_EQ(index_->Save(Path("taken"), {"db-1", 1}).code(), Code::kIOError);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir_)) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"taken"});
}

INSTANTIATE_TEST_SUITE_P(Specs, SnapshotTest, ::testing::Values("Flat", "HNSW32", "IVF16,Flat", "IVF16,SQ8,RFlat"),
                         [](const auto& info) {
                           std::string s = info.param;
                           std::replace(s.begin(), s.end(), ',', '_');
                           return s;
                         });

}  // namespace
}  // namespace bf
