#include "embeddings/learn/model_file.h"

#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace bf::learn {
namespace {

namespace fs = std::filesystem;

class ModelFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "bf-model-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static ModelFile Sample(uint32_t dim) {
    ModelFile m;
    m.header.dim = dim;
    m.header.database_id = 0xfeedbeef12345678ull;
    m.header.events_seq = 991;
    m.header.trained_at = 1737590400;
    m.header.iterations = 15;
    m.header.loss = 1234.5;
    m.user_keys = {"u:1", std::string("u\0bin", 5)};
    m.users.dim = static_cast<int>(dim);
    m.users.rows = 2;
    m.users.state = {RowState::kTrained, RowState::kPrior};
    for (uint32_t k = 0; k < 2 * dim; ++k) m.users.values.push_back(0.25f * k - 1.0f);
    m.item_keys = {"p:1", "p:2", ""};
    m.items.dim = static_cast<int>(dim);
    m.items.rows = 3;
    m.items.state = {RowState::kTrained, RowState::kTrained, RowState::kNone};
    for (uint32_t k = 0; k < 3 * dim; ++k) m.items.values.push_back(1e-3f * k);
    return m;
  }

  std::string Bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  void Put(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }

  std::string dir_;
};

TEST_F(ModelFileTest, RoundTripIsExact) {
  const std::string path = dir_ + "/model.bin";
  const ModelFile m = Sample(4);
  ASSERT_OK(WriteModelFile(path, m));
  auto r = ReadModelFile(path, {.expected_dim = 4, .expected_database_id = 0xfeedbeef12345678ull});
  ASSERT_RESULT_OK(r);
  EXPECT_EQ(r->header.dim, 4u);
  EXPECT_EQ(r->header.database_id, m.header.database_id);
  EXPECT_EQ(r->header.events_seq, 991u);
  EXPECT_EQ(r->header.trained_at, 1737590400);
  EXPECT_EQ(r->header.iterations, 15u);
  EXPECT_EQ(r->header.loss, 1234.5);
  EXPECT_EQ(r->user_keys, m.user_keys);
  EXPECT_EQ(r->item_keys, m.item_keys);
  EXPECT_EQ(r->users.values, m.users.values);
  EXPECT_EQ(r->items.values, m.items.values);
  EXPECT_EQ(r->users.state, m.users.state);
  EXPECT_EQ(r->items.state, m.items.state);
  EXPECT_EQ(r->items.rows, 3);
  // Nothing but the file is left in the folder.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(ModelFileTest, OverwriteReplacesTheWholeFile) {
  const std::string path = dir_ + "/model.bin";
  ASSERT_OK(WriteModelFile(path, Sample(8)));
  ASSERT_OK(WriteModelFile(path, Sample(2)));
  auto r = ReadModelFile(path);
  ASSERT_RESULT_OK(r);
  EXPECT_EQ(r->header.dim, 2u);
}

TEST_F(ModelFileTest, RefusesATruncatedFileAtEveryCut) {
  const std::string path = dir_ + "/model.bin";
  ASSERT_OK(WriteModelFile(path, Sample(4)));
  const std::string whole = Bytes(path);
  const std::string cut_path = dir_ + "/cut.bin";
  for (size_t cut = 1; cut < whole.size(); ++cut) {
    Put(cut_path, whole.substr(0, cut));
    auto r = ReadModelFile(cut_path);
    ASSERT_FALSE(r.ok()) << "cut at " << cut;
    EXPECT_EQ(r.status().code(), Code::kCorruption);
    EXPECT_EQ(r.status().message().rfind("truncated model file", 0), 0u)
        << "cut at " << cut << ": " << r.status().message();
  }
}

TEST_F(ModelFileTest, RefusesCorruptBytes) {
  const std::string path = dir_ + "/model.bin";
  ASSERT_OK(WriteModelFile(path, Sample(4)));
  const std::string whole = Bytes(path);
  auto with = [&](size_t at, char v) {
    std::string b = whole;
    b[at] = v;
    Put(path, b);
    auto r = ReadModelFile(path);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string("ok") : r.status().ToString();
  };
  EXPECT_EQ(with(0, 'X'), "Corruption: not a bridgefeed model file");
  EXPECT_EQ(with(8, 2), "Corruption: unsupported model file version 2");
  EXPECT_EQ(with(20, 1), "Corruption: header checksum mismatch");
  EXPECT_EQ(with(whole.size() - 20, 0x7f), "Corruption: checksum mismatch");
  Put(path, whole + "x");
  EXPECT_EQ(ReadModelFile(path).status().message(), "trailing bytes after the model");
  Put(path, "hello world, not a model at all");
  EXPECT_EQ(ReadModelFile(path).status().message(), "not a bridgefeed model file");
  Put(path, "");
  EXPECT_EQ(ReadModelFile(path).status().message(), "not a bridgefeed model file");
}

TEST_F(ModelFileTest, RefusesAnotherDimensionOrDatabase) {
  const std::string path = dir_ + "/model.bin";
  ASSERT_OK(WriteModelFile(path, Sample(4)));
  ReadModelOptions want64;
  want64.expected_dim = 64;
  auto dim = ReadModelFile(path, want64);
  ASSERT_FALSE(dim.ok());
  EXPECT_EQ(dim.status().code(), Code::kWrongDim);
  EXPECT_EQ(dim.status().message(), "model has dimension 4, expected 64");
  auto db = ReadModelFile(path, {.expected_dim = 4, .expected_database_id = 7});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kInvalid);
  EXPECT_EQ(db.status().message(), "model is of another database");
  auto missing = ReadModelFile(dir_ + "/none.bin");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

TEST_F(ModelFileTest, WriteErrorsLeaveNothingBehind) {
  auto s = WriteModelFile(dir_ + "/no/such/folder/model.bin", Sample(4));
  EXPECT_EQ(s.code(), Code::kIOError);
  EXPECT_NE(s.message().find("cannot create"), std::string::npos) << s.message();
  ModelFile bad = Sample(4);
  bad.items.values[5] = std::nanf("");
  s = WriteModelFile(dir_ + "/model.bin", bad);
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.message(), "items: factor not finite");
  bad = Sample(4);
  bad.user_keys.pop_back();
  s = WriteModelFile(dir_ + "/model.bin", bad);
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_FALSE(fs::exists(dir_ + "/model.bin"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 0);
}

}  // namespace
}  // namespace bf::learn
