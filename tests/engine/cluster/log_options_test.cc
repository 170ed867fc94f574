// The parts of the write log that need no NATS: its errors' codes, message ids and
// options from the cluster file.
#include <gtest/gtest.h>

#include <set>

#include "engine/cluster/log.h"
#include "tests/test_util.h"

namespace bf::cluster {
namespace {

// The wire codes (CLUSTERDOWN, TRYAGAIN) are the server's: tests/engine/server/wire_test.cc.
TEST(LogOptionsTest, ErrorsCarryTheirOwnCodes) {
  EXPECT_EQ(Status::ClusterDown("the write log has no quorum").code(), Code::kClusterDown);
  EXPECT_EQ(Status::ClusterDown("the write log has no quorum").ToString(),
            "ClusterDown: the write log has no quorum");
  EXPECT_EQ(Status::TryAgain("no ack").ToString(), "TryAgain: no ack");
}

TEST(LogOptionsTest, MessageIdsAreUniquePerNodeAndRun) {
  MessageIds a("n0");
  MessageIds b("n0");  // the same node after a restart
  std::set<std::string> seen;
  for (int i = 0; i < 1000; i++) {
    EXPECT_TRUE(seen.insert(a.Next()).second);
    EXPECT_TRUE(seen.insert(b.Next()).second);
  }
  const std::string id = MessageIds("n7").Next();
  EXPECT_TRUE(id.starts_with("n7-")) << id;
  EXPECT_TRUE(id.ends_with("-1")) << id;
  EXPECT_EQ(id.size(), 3 + 16 + 2) << id;
}

TEST(LogOptionsTest, FromTheClusterFile) {
  auto config = ParseClusterConfig(R"(nats = ["nats://a:1", "nats://b:2"]
stream = "feed"
replicas = 1
ack_timeout_ms = 750
dedupe_window_s = 30
[[node]]
id = "n0"
addr = "a:7000"
slots = "0-16383"
)", "c.toml");
  ASSERT_RESULT_OK(config);
  const LogOptions o = LogOptions::FromConfig(*config, "n0");
  EXPECT_EQ(o.servers, (std::vector<std::string>{"nats://a:1", "nats://b:2"}));
  EXPECT_EQ(o.stream, "feed");
  EXPECT_EQ(o.replicas, 1);
  EXPECT_EQ(o.ack_timeout_ms, 750);
  EXPECT_EQ(o.dedupe_window_s, 30);
  EXPECT_EQ(o.client_name, "bridgefeed n0");
}

}  // namespace
}  // namespace bf::cluster
