// Cluster mode's commands through Dispatch with a fake engine and a 3-node cluster file:
// -MOVED routing, CLUSTER SLOTS/SHARDS/NODES/INFO/MYID/KEYSLOT, READONLY, INFO cluster and
// COMMAND's key positions; and what a single node answers.
#include <gtest/gtest.h>

#include "engine/cluster/cluster_config.h"
#include "engine/cluster/slots.h"
#include "engine/server/commands.h"
#include "engine/server/config.h"
#include "tests/engine/server/dispatch_util.h"
#include "tests/engine/server/fake_engine.h"

namespace bf {
namespace {

constexpr std::string_view kFile = R"(
nats = ["nats://127.0.0.1:4222"]
[[node]]
id = "n0"
addr = "127.0.0.1:7000"
slots = "0-5460"
[[node]]
id = "n1"
addr = "127.0.0.1:7001"
slots = "5461-10922"
[[node]]
id = "n2"
addr = "127.0.0.1:7002"
slots = "10923-16000,16001-16383"
)";

class ClusterCommandsTest : public ::testing::Test {
 protected:
  ClusterCommandsTest() {
    auto parsed = cluster::ParseClusterConfig(kFile, "cluster.toml");
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    file_ = std::move(parsed).value();
    cluster_.config = &file_;
    cluster_.self = 1;
    cluster_.status = [] {
      cluster::ClusterStatus s;
      s.applying = true;
      s.applied_seq = 40;
      s.stream_known = true;
      s.stream_last_seq = 42;
      s.lag_entries = 2;
      s.lag_ms = 7;
      return s;
    };
    ctx_.engine = &engine_;
    ctx_.config = &config_;
    ctx_.stats = &stats_;
    ctx_.client = &client_;
    ctx_.cluster = &cluster_;
  }

  std::string Run(std::initializer_list<std::string> words) {
    return testing::RunCommand(ctx_, words);
  }

  cluster::ClusterConfig file_;
  ClusterContext cluster_;
  testing::FakeEngine engine_;
  ServerConfig config_;
  ServerStats stats_;
  ClientState client_;
  CommandContext ctx_;
};

TEST_F(ClusterCommandsTest, UserCommandsOfAnotherNodeAreMoved) {
  // "foo" hashes to 12182 (n2), "{user1000}x" to slot 3443 (n0).
  ASSERT_EQ(cluster::KeySlot("foo"), 12182);
  EXPECT_EQ(Run({"USER.GET", "foo"}), "-MOVED 12182 127.0.0.1:7002\r\n");
  EXPECT_EQ(Run({"FEED", "foo", "COUNT", "3"}), "-MOVED 12182 127.0.0.1:7002\r\n");
  EXPECT_EQ(Run({"EVENT", "foo", "p1", "LIKE"}), "-MOVED 12182 127.0.0.1:7002\r\n");
  EXPECT_EQ(Run({"USER.SET", "foo"}), "-MOVED 12182 127.0.0.1:7002\r\n");
  EXPECT_EQ(Run({"USER.DEL", "{user1000}x"}), "-MOVED 3443 127.0.0.1:7000\r\n");
  // Arity and auth come first, as in Redis.
  EXPECT_EQ(Run({"USER.DEL", "foo", "x"}),
            "-ERR wrong number of arguments for 'user.del' command\r\n");
  // A user of this node, and post commands, run here.
  int mine = 0;
  std::string user;
  for (; mine < 100000; ++mine) {
    user = "u" + std::to_string(mine);
    const int s = cluster::KeySlot(user);
    if (s >= 5461 && s <= 10922) break;
  }
  EXPECT_EQ(Run({"USER.SET", user, "CULTURE", "US"}), "+OK\r\n");
  EXPECT_EQ(Run({"POST.GET", "foo"}), "$-1\r\n");
  EXPECT_EQ(Run({"SIMILAR", "foo"}), "-NOTFOUND post\r\n");
}

TEST_F(ClusterCommandsTest, ClusterSlotsShardsNodes) {
  EXPECT_EQ(Run({"CLUSTER", "SLOTS"}),
            "*3\r\n"  // adjacent ranges of n2 merged
            "*3\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$2\r\nn0\r\n"
            "*3\r\n:5461\r\n:10922\r\n*3\r\n$9\r\n127.0.0.1\r\n:7001\r\n$2\r\nn1\r\n"
            "*3\r\n:10923\r\n:16383\r\n*3\r\n$9\r\n127.0.0.1\r\n:7002\r\n$2\r\nn2\r\n");
  const std::string shards = Run({"CLUSTER", "SHARDS"});
  EXPECT_EQ(shards.substr(0, 4), "*3\r\n");
  EXPECT_NE(shards.find("$5\r\nslots\r\n*2\r\n:5461\r\n:10922\r\n$5\r\nnodes\r\n*1\r\n*14\r\n"
                        "$2\r\nid\r\n$2\r\nn1\r\n$4\r\nport\r\n:7001\r\n"),
            std::string::npos)
      << shards;
  EXPECT_EQ(Run({"CLUSTER", "NODES"}),
            "$184\r\n"
            "n0 127.0.0.1:7000@17000 master - 0 0 1 connected 0-5460\n"
            "n1 127.0.0.1:7001@17001 myself,master - 0 0 2 connected 5461-10922\n"
            "n2 127.0.0.1:7002@17002 master - 0 0 3 connected 10923-16383\n\r\n");
  EXPECT_EQ(Run({"CLUSTER", "MYID"}), "$2\r\nn1\r\n");
  EXPECT_EQ(Run({"CLUSTER", "KEYSLOT", "{foo}bar"}), ":12182\r\n");
  EXPECT_NE(Run({"CLUSTER", "INFO"}).find("cluster_state:ok\r\ncluster_slots_assigned:16384\r\n"),
            std::string::npos);
  EXPECT_EQ(Run({"CLUSTER", "KEYSLOT"}),
            "-ERR wrong number of arguments for 'cluster|keyslot' command\r\n");
  EXPECT_EQ(Run({"CLUSTER", "SLOTS", "x"}),
            "-ERR wrong number of arguments for 'cluster|slots' command\r\n");
  EXPECT_EQ(Run({"CLUSTER", "RESET"}),
            "-ERR unknown subcommand 'RESET'. Try CLUSTER HELP.\r\n");
  EXPECT_EQ(Run({"READONLY"}), "+OK\r\n");
  EXPECT_EQ(Run({"READWRITE"}), "+OK\r\n");
}

TEST_F(ClusterCommandsTest, InfoClusterSection) {
  const std::string info = Run({"INFO", "cluster"});
  EXPECT_NE(info.find("# Cluster\r\ncluster_enabled:1\r\ncluster_node_id:n1\r\n"
                      "cluster_applying:1\r\ncluster_applied_seq:40\r\n"
                      "cluster_stream_last_seq:42\r\ncluster_lag_entries:2\r\n"
                      "cluster_lag_ms:7\r\ncluster_error:\r\n"),
            std::string::npos)
      << info;
  EXPECT_NE(Run({"INFO", "server"}).find("redis_mode:cluster\r\n"), std::string::npos);
}

TEST_F(ClusterCommandsTest, CommandReportsKeyPositions) {
  // Cluster clients route USER.*, EVENT, FEED, POST.* and SIMILAR by their first argument.
  EXPECT_NE(Run({"COMMAND", "INFO", "feed"}).find("+write\r\n:1\r\n:1\r\n:1\r\n"),
            std::string::npos);
  EXPECT_NE(Run({"COMMAND", "INFO", "post.get"}).find("+fast\r\n:1\r\n:1\r\n:1\r\n"),
            std::string::npos);
  EXPECT_NE(Run({"COMMAND", "INFO", "index.info"}).find("+fast\r\n:0\r\n:0\r\n:0\r\n"),
            std::string::npos);
}

TEST_F(ClusterCommandsTest, SingleNodeHasClusterSupportDisabled) {
  ctx_.cluster = nullptr;
  EXPECT_EQ(Run({"CLUSTER", "SLOTS"}), "-ERR This instance has cluster support disabled\r\n");
  EXPECT_EQ(Run({"READONLY"}), "-ERR This instance has cluster support disabled\r\n");
  EXPECT_EQ(Run({"USER.GET", "foo"}), "$-1\r\n");  // no routing
  const std::string info = Run({"INFO", "cluster"});
  EXPECT_EQ(info, "$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n");
}

}  // namespace
}  // namespace bf
