// Commands Redis tools send: DBSIZE TIME LASTSAVE SLOWLOG, CLIENT INFO/LIST
// with Redis's fields, and INFO's memory, keyspace and protocol_errors lines.
#include <gtest/gtest.h>

#include <chrono>
#include <initializer_list>
#include <map>
#include <sstream>

#include "engine/server/commands.h"
#include "engine/server/config.h"
#include "engine/server/info_memory.h"
#include "engine/server/slowlog.h"
#include "tests/engine/server/dispatch_util.h"
#include "tests/engine/server/fake_engine.h"

namespace bf {
namespace {

class ToolingTest : public ::testing::Test {
 protected:
  ToolingTest() {
    client_.id = 7;
    client_.addr = "127.0.0.1:5555";
    ctx_.engine = &engine_;
    ctx_.config = &config_;
    ctx_.stats = &stats_;
    ctx_.client = &client_;
  }
  std::string Run(std::initializer_list<std::string> words) {
    return testing::RunCommand(ctx_, words);
  }
  // "k=v k=v\n" -> {k: v}
  static std::map<std::string, std::string> Fields(std::string line) {
    std::map<std::string, std::string> out;
    std::istringstream in(line);
    std::string word;
    while (in >> word) {
      const size_t eq = word.find('=');
      out[word.substr(0, eq)] = eq == std::string::npos ? "" : word.substr(eq + 1);
    }
    return out;
  }
  static std::string BulkBody(const std::string& reply) {
    const size_t crlf = reply.find("\r\n");
    return reply.substr(crlf + 2, reply.size() - crlf - 4);
  }

  testing::FakeEngine engine_;
  ServerConfig config_;
  ServerStats stats_;
  ClientState client_;
  CommandContext ctx_;
};

TEST_F(ToolingTest, DbsizeTimeLastsave) {
  engine_.counters = {.users = 3, .posts = 4};
  EXPECT_EQ(Run({"DBSIZE"}), ":7\r\n");
  EXPECT_EQ(Run({"DBSIZE", "x"}), "-ERR wrong number of arguments for 'dbsize' command\r\n");
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::string t = Run({"TIME"});
  ASSERT_EQ(t.substr(0, 5), "*2\r\n$") << t;
  std::istringstream in(t);
  std::string line, secs, usec;
  std::getline(in, line);
  std::getline(in, line);
  std::getline(in, secs);
  std::getline(in, line);
  std::getline(in, usec);
  EXPECT_NEAR(std::stoll(secs), now, 2);
  EXPECT_LT(std::stoll(usec), 1000000);
  EXPECT_EQ(Run({"LASTSAVE"}), ":0\r\n");
  engine_.index.last_save = 1700000123;
  EXPECT_EQ(Run({"LASTSAVE"}), ":1700000123\r\n");
}

TEST_F(ToolingTest, SlowlogRecordsTrimsAndRedacts) {
  config_.slowlog_usec = -1;
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
  EXPECT_EQ(Run({"SLOWLOG", "LEN"}), ":0\r\n");
  config_.slowlog_usec = 0;  // every command
  config_.slowlog_max_len = 3;
  client_.name = "app";
  EXPECT_EQ(Run({"AUTH", "default", "s3cret"}), "+OK\r\n");
  EXPECT_EQ(Run({"ECHO", std::string(200, 'x')}).size(), 200u + 8);
  EXPECT_EQ(Run({"SLOWLOG", "LEN"}), ":2\r\n");  // counted before itself is recorded
  const std::string got = Run({"SLOWLOG", "GET", "2"});
  // Newest first: SLOWLOG LEN (id 2), then ECHO (id 1) with its argument cut at 128 bytes.
  EXPECT_EQ(got.substr(0, 12), "*2\r\n*6\r\n:2\r\n") << got;
  EXPECT_NE(got.find("*2\r\n$7\r\nSLOWLOG\r\n$3\r\nLEN\r\n$14\r\n127.0.0.1:5555\r\n$3\r\napp\r\n"),
            std::string::npos)
      << got;
  EXPECT_NE(got.find("$4\r\nECHO\r\n$147\r\n" + std::string(128, 'x') + "... (72 more bytes)\r\n"),
            std::string::npos)
      << got;
  const std::string all = Run({"SLOWLOG", "GET", "-1"});
  EXPECT_EQ(all.substr(0, 4), "*3\r\n");  // max_len 3: the oldest went
  EXPECT_EQ(all.find("s3cret"), std::string::npos);
  EXPECT_EQ(all.find("AUTH"), std::string::npos);  // dropped as the oldest
  EXPECT_EQ(Run({"SLOWLOG", "RESET"}), "+OK\r\n");
  EXPECT_EQ(Run({"SLOWLOG", "LEN"}), ":1\r\n");  // the RESET itself
  EXPECT_EQ(Run({"SLOWLOG", "GET", "x"}), "-ERR count should be greater than or equal to -1\r\n");
  EXPECT_EQ(Run({"SLOWLOG", "NOPE"}), "-ERR unknown subcommand 'NOPE'. Try SLOWLOG HELP.\r\n");
  EXPECT_EQ(Run({"SLOWLOG"}), "-ERR wrong number of arguments for 'slowlog' command\r\n");
}

TEST(SlowLogTest, RedactsSecretsAndSummarisesLongCommands) {
  SlowLog log;
  std::vector<std::string_view> hello = {"HELLO", "3", "AUTH", "default", "pw"};
  log.Record(5, hello, "a", "", 10);
  std::vector<std::string> many(40, "v");
  std::vector<std::string_view> big(many.begin(), many.end());
  log.Record(6, big, "a", "", 10);
  const auto e = log.Get(-1);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[1].args, (std::vector<std::string>{"HELLO", "(redacted)", "(redacted)",
                                                 "(redacted)", "(redacted)"}));
  ASSERT_EQ(e[0].args.size(), SlowLog::kMaxArgs);
  EXPECT_EQ(e[0].args.back(), "... (9 more arguments)");
  EXPECT_EQ(e[0].usec, 6);
  EXPECT_EQ(e[0].id, 1u);
  log.Record(7, big, "a", "", 0);  // max_len 0 keeps nothing
  EXPECT_EQ(log.Len(), 0u);
}

TEST_F(ToolingTest, ClientInfoHasEveryFieldRedisPyParses) {
  EXPECT_EQ(Run({"CLIENT", "SETNAME", "app"}), "+OK\r\n");
  const auto f = Fields(BulkBody(Run({"CLIENT", "INFO"})));
  // redis-py 4.3 parse_client_info reads these as integers.
  for (const char* key : {"id", "age", "idle", "db", "sub", "psub", "multi", "qbuf",
                          "qbuf-free", "obl", "argv-mem", "oll", "omem", "tot-mem"}) {
    ASSERT_TRUE(f.count(key)) << key;
    EXPECT_NO_THROW((void)std::stoll(f.at(key))) << key;
  }
  for (const char* key : {"addr", "laddr", "fd", "name", "flags", "events", "cmd", "user",
                          "resp", "lib-name", "lib-ver"}) {
    EXPECT_TRUE(f.count(key)) << key;
  }
  EXPECT_EQ(f.at("id"), "7");
  EXPECT_EQ(f.at("name"), "app");
  EXPECT_EQ(f.at("multi"), "-1");
  EXPECT_EQ(f.at("flags"), "N");
  EXPECT_EQ(f.at("cmd"), "client");
  EXPECT_EQ(f.at("resp"), "2");
  client_.multi = 2;  // inside MULTI with two commands queued
  client_.protocol = Protocol::kResp3;
  const auto g = Fields(BulkBody(Run({"CLIENT", "INFO"})));
  EXPECT_EQ(g.at("multi"), "2");
  EXPECT_EQ(g.at("flags"), "x");
  EXPECT_EQ(g.at("resp"), "3");
}

TEST_F(ToolingTest, ClientListFilters) {
  ClientState other;
  other.id = 9;
  other.addr = "127.0.0.1:6000";
  stats_.clients.Add(&client_);
  stats_.clients.Add(&other);
  const std::string both = BulkBody(Run({"CLIENT", "LIST"}));
  EXPECT_EQ(both.find("id=7 "), 0u) << both;
  EXPECT_NE(both.find("\nid=9 addr=127.0.0.1:6000 "), std::string::npos) << both;
  EXPECT_EQ(BulkBody(Run({"CLIENT", "LIST", "TYPE", "normal"})), both);
  EXPECT_EQ(Run({"CLIENT", "LIST", "TYPE", "pubsub"}), "$0\r\n\r\n");
  EXPECT_EQ(BulkBody(Run({"CLIENT", "LIST", "ID", "9"})).find("id=9 "), 0u);
  EXPECT_EQ(Run({"CLIENT", "LIST", "ID", "x"}), "-ERR Invalid client ID\r\n");
  EXPECT_EQ(Run({"CLIENT", "LIST", "TYPE", "odd"}), "-ERR Unknown client type 'odd'\r\n");
  EXPECT_EQ(Run({"CLIENT", "LIST", "BOGUS"}), "-ERR syntax error\r\n");
  stats_.clients.Remove(&other);
  stats_.clients.Remove(&other);  // idempotent
  EXPECT_EQ(BulkBody(Run({"CLIENT", "LIST"})).find("id=9"), std::string::npos);
  stats_.clients.Remove(&client_);
}

TEST_F(ToolingTest, InfoMemoryKeyspaceAndProtocolErrors) {
  engine_.counters = {.users = 3, .posts = 4};
  stats_.protocol_errors = 5;
  const std::string all = Run({"INFO"});
  EXPECT_NE(all.find("\r\n# Memory\r\nused_memory:"), std::string::npos);
  EXPECT_NE(all.find("\r\nused_memory_human:"), std::string::npos);
  EXPECT_NE(all.find("\r\nused_memory_rss:"), std::string::npos);
  EXPECT_NE(all.find("\r\nblocked_clients:0\r\n"), std::string::npos);
  EXPECT_NE(all.find("\r\nprotocol_errors:5\r\n"), std::string::npos);
  EXPECT_NE(all.find("# Keyspace\r\ndb0:keys=7,expires=0,avg_ttl=0\r\n"), std::string::npos);
  const std::string mem = Run({"INFO", "memory"});
  EXPECT_EQ(mem.find("# Stats"), std::string::npos);
  const size_t at = mem.find("used_memory:");
  ASSERT_NE(at, std::string::npos);
  EXPECT_GT(std::stoll(mem.substr(at + 12)), 0);
}

TEST(InfoMemoryTest, BytesToHumanAsRedis) {
  EXPECT_EQ(BytesToHuman(812), "812B");
  EXPECT_EQ(BytesToHuman(1536), "1.50K");
  EXPECT_EQ(BytesToHuman(3ull << 20), "3.00M");
  EXPECT_EQ(BytesToHuman(9ull << 30), "9.00G");
}

}  // namespace
}  // namespace bf
