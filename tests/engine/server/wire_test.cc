// The wire through the real engine: the value rules are checked once, in the
// engine, and a bad value still gets the error text the wire has always had.
// Also the Status-to-wire mapping and the pair and list builders.
#include <gtest/gtest.h>

#include <filesystem>
#include <initializer_list>
#include <map>

#include "engine/server/commands.h"
#include "engine/server/config.h"
#include "engine/server/resp_writer.h"
#include "engine/server/wire_error.h"
#include "tests/engine/server/dispatch_util.h"
#include "tests/test_util.h"

namespace bf {
namespace {

namespace fs = std::filesystem;

class WireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("bf_wire_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    config_.engine.data_dir = dir_.string();
    config_.engine.dim = 3;
    config_.engine.fsync = FsyncPolicy::kNo;
    config_.engine.snapshot_interval_s = 0;
    auto e = Engine::Open(config_.engine_options());
    ASSERT_RESULT_OK(e);
    engine_ = std::move(e).value();
    ctx_.engine = engine_.get();
    ctx_.config = &config_;
    ctx_.stats = &stats_;
    ctx_.client = &client_;
  }
  void TearDown() override {
    if (engine_) EXPECT_OK(engine_->Close());
    engine_.reset();
    fs::remove_all(dir_);
  }

  std::string Run(std::initializer_list<std::string> words) {
    return testing::RunCommand(ctx_, words);
  }

  fs::path dir_;
  ServerConfig config_;
  std::unique_ptr<Engine> engine_;
  ServerStats stats_;
  ClientState client_;
  CommandContext ctx_;
};

TEST_F(WireTest, IdsAreCheckedByTheEngineWithTheWireText) {
  const std::string long_id(129, 'x');
  const std::string kUser = "-ERR user id must be 1 to 128 bytes\r\n";
  const std::string kPost = "-ERR post id must be 1 to 128 bytes\r\n";
  EXPECT_EQ(Run({"USER.SET", long_id}), kUser);
  EXPECT_EQ(Run({"USER.SET", ""}), kUser);
  EXPECT_EQ(Run({"USER.GET", long_id}), kUser);
  EXPECT_EQ(Run({"USER.DEL", ""}), kUser);
  EXPECT_EQ(Run({"POST.ADD", long_id, "AUTHOR", "a", "CULTURE", "US", "VECTOR", "VALUES", "3",
                 "1", "0", "0"}),
            kPost);
  EXPECT_EQ(Run({"POST.ADD", "p1", "AUTHOR", "", "CULTURE", "US", "VECTOR", "VALUES", "3", "1",
                 "0", "0"}),
            "-ERR author id must be 1 to 128 bytes\r\n");
  EXPECT_EQ(Run({"POST.GET", long_id}), kPost);
  EXPECT_EQ(Run({"POST.DEL", ""}), kPost);
  EXPECT_EQ(Run({"EVENT", "", "p1", "LIKE"}), kUser);
  EXPECT_EQ(Run({"EVENT", "u", long_id, "LIKE"}), kPost);
  EXPECT_EQ(Run({"FEED", long_id}), kUser);
  EXPECT_EQ(Run({"SIMILAR", ""}), kPost);
  EXPECT_EQ(Run({"USER.SET", std::string(128, 'u')}), "+OK\r\n");  // the longest id is fine
}

TEST_F(WireTest, RangesAreCheckedByTheEngineWithTheWireText) {
  const std::string kCount = "-ERR COUNT must be an integer from 1 to 500\r\n";
  const std::string kOpenness = "-ERR OPENNESS must be a number from 0 to 1\r\n";
  EXPECT_EQ(Run({"FEED", "u", "COUNT", "0"}), kCount);
  EXPECT_EQ(Run({"FEED", "u", "COUNT", "501"}), kCount);
  EXPECT_EQ(Run({"FEED", "u", "COUNT", "-3"}), kCount);
  EXPECT_EQ(Run({"FEED", "u", "COUNT", "99999999999"}), kCount);  // past int
  EXPECT_EQ(Run({"FEED", "u", "COUNT", "x"}), kCount);            // the parser's, same text
  EXPECT_EQ(Run({"FEED", "u", "OPENNESS", "1.5"}), kOpenness);
  EXPECT_EQ(Run({"FEED", "u", "OPENNESS", "-0.1"}), kOpenness);
  EXPECT_EQ(Run({"FEED", "u", "COUNT", "500", "OPENNESS", "1"}), "*0\r\n");
  EXPECT_EQ(Run({"SIMILAR", "p1", "COUNT", "600"}), kCount);
  EXPECT_EQ(Run({"USER.SET", "u", "OPENNESS", "1.5"}), kOpenness);
  // A double just past 1 would round to the float 1: the check runs on the double.
  EXPECT_EQ(Run({"USER.SET", "u", "OPENNESS", "1.00000001"}), kOpenness);
  EXPECT_EQ(Run({"USER.SET", "u", "LANGS", "en,"}), "-ERR lang must be 1 to 16 bytes\r\n");
  EXPECT_EQ(Run({"USER.SET", "u", "LANGS", "en," + std::string(17, 'x')}),
            "-ERR lang must be 1 to 16 bytes\r\n");
  const std::string add = "POST.ADD";
  EXPECT_EQ(Run({add, "p1", "AUTHOR", "a", "CULTURE", "US", "VECTOR", "VALUES", "3", "1", "0",
                 "0", "LANG", ""}),
            "-ERR lang must be 1 to 16 bytes\r\n");
  EXPECT_EQ(Run({add, "p1", "AUTHOR", "a", "CULTURE", "US", "VECTOR", "VALUES", "3", "1", "0",
                 "0", "LANG", std::string(17, 'e')}),
            "-ERR lang must be 1 to 16 bytes\r\n");
  // Nothing above was stored.
  EXPECT_EQ(Run({"POST.GET", "p1"}), "$-1\r\n");
  EXPECT_EQ(Run({"USER.GET", "u"}), "$-1\r\n");
  EXPECT_EQ(Run({add, "p1", "AUTHOR", "a", "CULTURE", "us", "VECTOR", "VALUES", "3", "1", "0",
                 "0", "LANG", "en"}),
            "+OK\r\n");
  EXPECT_EQ(Run({"EVENT", "u", "p2", "LIKE"}), "-NOTFOUND post\r\n");
  EXPECT_EQ(Run({"POST.ADD", "p2", "AUTHOR", "a", "CULTURE", "US", "VECTOR", "VALUES", "2", "1",
                 "0"}),
            "-WRONGDIM expected 3, got 2\r\n");
}

TEST(WireErrorTest, CodesMatchApi) {
  EXPECT_STREQ(WireCode(Code::kInvalid), "ERR");
  EXPECT_STREQ(WireCode(Code::kWrongDim), "WRONGDIM");
  EXPECT_STREQ(WireCode(Code::kBadVector), "BADVECTOR");
  EXPECT_STREQ(WireCode(Code::kNotFound), "NOTFOUND");
  EXPECT_STREQ(WireCode(Code::kBusy), "BUSY");
  EXPECT_STREQ(WireCode(Code::kIOError), "ERR");
  EXPECT_STREQ(WireCode(Code::kCorruption), "ERR");
  EXPECT_STREQ(WireCode(Code::kInternal), "ERR");
  EXPECT_STREQ(WireCode(Code::kClusterDown), "CLUSTERDOWN");
  EXPECT_STREQ(WireCode(Code::kTryAgain), "TRYAGAIN");
  EXPECT_EQ(WireError(Status::WrongDim("expected 4, got 3")), "WRONGDIM expected 4, got 3");
  EXPECT_EQ(WireError(Status::NotFound("")), "NOTFOUND");
  std::string out;
  RespWriter(&out).Error(Status::Corruption("bad\r\nblock"));
  EXPECT_EQ(out, "-ERR bad  block\r\n");
}

TEST(ReplyBuilderTest, MapsAndListsCountThemselves) {
  MapReply inner;
  inner.Bulk("name", "x").Int("n", 2);
  ListReply list;
  list.Int(1).Map(inner).List(ListReply()).Double(0.5);
  MapReply m;
  m.Bulk("a", "b").Float("f", 0.25f).List("l", list).Map("m", MapReply());
  EXPECT_EQ(m.pairs(), 4u);
  EXPECT_EQ(list.size(), 4u);
  std::string out;
  RespWriter w(&out);
  w.Map(m);
  EXPECT_EQ(out,
            "*8\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nf\r\n$4\r\n0.25\r\n$1\r\nl\r\n"
            "*4\r\n:1\r\n*4\r\n$4\r\nname\r\n$1\r\nx\r\n$1\r\nn\r\n:2\r\n*0\r\n$3\r\n0.5\r\n"
            "$1\r\nm\r\n*0\r\n");
  // A copy is independent of the original.
  MapReply copy = inner;
  copy.Int("more", 3);
  EXPECT_EQ(inner.pairs(), 2u);
  EXPECT_EQ(copy.pairs(), 3u);
}

TEST(ConfigGetTest, AnswersTheRunningPortAndDim) {
  ServerConfig c;
  c.engine.data_dir = "/srv/bf";
  c.engine.fsync = FsyncPolicy::kAlways;
  const auto pairs = ConfigGetPairs(c, {.port = 7007, .dim = 16});
  std::map<std::string, std::string> got(pairs.begin(), pairs.end());
  EXPECT_EQ(got.size(), pairs.size());  // no name twice
  const std::map<std::string, std::string> want = {
      {"save", ""},        {"appendonly", "no"}, {"databases", "1"},
      {"bind", "127.0.0.1"}, {"port", "7007"},   {"maxclients", "10000"},
      {"timeout", "0"},    {"proto-max-bulk-len", "1048576"},
      {"slowlog-log-slower-than", "10000"},     {"slowlog-max-len", "128"},
      {"dir", "/srv/bf"},
      {"dim", "16"},       {"fsync", "always"},  {"index", "auto"}};
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace bf
