// SCAN (cursor walk over post then user ids, MATCH, COUNT, TYPE), TYPE, and
// the Redis glob they and CONFIG GET share.
#include <gtest/gtest.h>

#include <initializer_list>

#include "engine/server/commands.h"
#include "engine/server/config.h"
#include "engine/server/glob.h"
#include "tests/engine/server/dispatch_util.h"
#include "tests/engine/server/fake_engine.h"

namespace bf {
namespace {

TEST(GlobTest, RedisPatterns) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("p*", "post:1"));
  EXPECT_FALSE(GlobMatch("p*", "user"));
  EXPECT_TRUE(GlobMatch("h?llo", "hello"));
  EXPECT_FALSE(GlobMatch("h?llo", "hllo"));
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[ae]llo", "hillo"));
  EXPECT_TRUE(GlobMatch("h[^e]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[^e]llo", "hello"));
  EXPECT_TRUE(GlobMatch("id[0-9]", "id7"));
  EXPECT_FALSE(GlobMatch("id[0-9]", "idx"));
  EXPECT_TRUE(GlobMatch("a\\*b", "a*b"));
  EXPECT_FALSE(GlobMatch("a\\*b", "axb"));
  EXPECT_TRUE(GlobMatch("*a*b*", "xxaxxbxx"));
  EXPECT_TRUE(GlobMatch("a[b", "a[b"));  // unclosed set: literal
  EXPECT_FALSE(GlobMatch("POST*", "post1"));
  EXPECT_TRUE(GlobMatch("POST*", "post1", /*nocase=*/true));
  EXPECT_TRUE(GlobMatch(std::string_view("a\0*", 3), std::string_view("a\0zz", 4)));
  // A pattern built to backtrack is still quick (no recursion, one star point).
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
}

class ScanTest : public ::testing::Test {
 protected:
  ScanTest() {
    ctx_.engine = &engine_;
    ctx_.config = &config_;
    ctx_.stats = &stats_;
    ctx_.client = &client_;
    engine_.post_ids = {"a", "b", "c"};
    engine_.user_ids = {"a", "u1"};
  }
  std::string Run(std::initializer_list<std::string> words) {
    return testing::RunCommand(ctx_, words);
  }
  // The cursor of a SCAN reply, and its ids after it.
  static std::string Cursor(const std::string& reply) {
    const size_t a = reply.find("\r\n", 4) + 2;  // after "*2\r\n$n\r\n"
    return reply.substr(a, reply.find("\r\n", a) - a);
  }
  static std::string Ids(const std::string& reply) {
    const size_t a = reply.find("\r\n", 4) + 2;
    return reply.substr(reply.find("\r\n", a) + 2);
  }

  testing::FakeEngine engine_;
  ServerConfig config_;
  ServerStats stats_;
  ClientState client_;
  CommandContext ctx_;
};

TEST_F(ScanTest, WalksPostsThenUsersWithAStableCursor) {
  const std::string first = Run({"SCAN", "0", "COUNT", "2"});
  EXPECT_EQ(Ids(first), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
  const std::string c1 = Cursor(first);
  EXPECT_NE(c1, "0");
  // A post added before the cursor's position is not returned; one after it is.
  engine_.post_ids = {"a", "aa", "b", "bb", "c"};
  const std::string second = Run({"SCAN", c1, "COUNT", "3"});
  EXPECT_EQ(Ids(second), "*3\r\n$2\r\nbb\r\n$1\r\nc\r\n$1\r\na\r\n");  // posts end, users begin
  const std::string third = Run({"SCAN", Cursor(second), "COUNT", "3"});
  EXPECT_EQ(third, "*2\r\n$1\r\n0\r\n*1\r\n$2\r\nu1\r\n");
  // The same cursor can be resumed again (a client retrying a page).
  EXPECT_EQ(Ids(Run({"SCAN", c1, "COUNT", "2"})), "*2\r\n$2\r\nbb\r\n$1\r\nc\r\n");
}

TEST_F(ScanTest, MatchAndType) {
  EXPECT_EQ(Run({"SCAN", "0", "MATCH", "u*", "COUNT", "100"}),
            "*2\r\n$1\r\n0\r\n*1\r\n$2\r\nu1\r\n");
  EXPECT_EQ(Run({"SCAN", "0", "TYPE", "user", "COUNT", "100"}),
            "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$2\r\nu1\r\n");
  EXPECT_EQ(Run({"SCAN", "0", "type", "POST", "count", "100"}),
            "*2\r\n$1\r\n0\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
  // MATCH filters after reading: a page may be empty before the walk ends.
  const std::string empty = Run({"SCAN", "0", "MATCH", "zz*", "COUNT", "1"});
  EXPECT_NE(Cursor(empty), "0");
  EXPECT_EQ(Ids(empty), "*0\r\n");
  EXPECT_EQ(Run({"SCAN", "0", "TYPE", "string"}),
            "-ERR unknown type name 'string': keys here are post or user\r\n");
}

TEST_F(ScanTest, BadInput) {
  EXPECT_EQ(Run({"SCAN", "x"}), "-ERR invalid cursor\r\n");
  EXPECT_EQ(Run({"SCAN", "-1"}), "-ERR invalid cursor\r\n");
  EXPECT_EQ(Run({"SCAN", "12345"}), "-ERR invalid cursor\r\n");  // never issued
  EXPECT_EQ(Run({"SCAN", "0", "COUNT", "0"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SCAN", "0", "COUNT", "x"}),
            "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"SCAN", "0", "MATCH"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SCAN", "0", "LIMIT", "3"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SCAN"}), "-ERR wrong number of arguments for 'scan' command\r\n");
  engine_.scan_error = true;
  EXPECT_EQ(Run({"SCAN", "0"}), "-ERR scan failed\r\n");
}

TEST_F(ScanTest, ForgottenCursorsAreInvalid) {
  const std::string first = Run({"SCAN", "0", "COUNT", "1"});
  for (size_t i = 0; i < ScanCursors::kMaxCursors; ++i) Run({"SCAN", "0", "COUNT", "1"});
  EXPECT_EQ(Run({"SCAN", Cursor(first)}), "-ERR invalid cursor\r\n");
}

TEST_F(ScanTest, TypeNamesWhatAnIdIs) {
  EXPECT_EQ(Run({"TYPE", "p1"}), "+post\r\n");
  EXPECT_EQ(Run({"TYPE", "alice"}), "+user\r\n");
  EXPECT_EQ(Run({"TYPE", "nobody"}), "+none\r\n");
}

}  // namespace
}  // namespace bf
