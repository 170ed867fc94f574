#include "engine/cluster/cluster_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "tests/test_util.h"

namespace bf::cluster {
namespace {

constexpr const char* kHead = R"(nats = ["nats://127.0.0.1:4222", "nats://127.0.0.1:4223"]
stream = "bf"
replicas = 3
)";

std::string Node(const std::string& id, const std::string& addr, const std::string& slots) {
  return "[[node]]\nid = \"" + id + "\"\naddr = \"" + addr + "\"\nslots = \"" + slots + "\"\n";
}

std::string ThreeNodes() {
  return std::string(kHead) + Node("n0", "127.0.0.1:7000", "0-5460") +
         Node("n1", "127.0.0.1:7001", "5461-10922") + Node("n2", "127.0.0.1:7002", "10923-16383");
}

// The message of the error parsing `text` gives.
std::string ErrorOf(const std::string& text) {
  auto r = ParseClusterConfig(text, "c.toml");
  if (r.ok()) return "parsed";
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  return r.status().message();
}

TEST(ClusterConfigTest, ParsesAFile) {
  auto r = ParseClusterConfig(std::string(kHead) + Node("n0", "127.0.0.1:7000", "5461-16383") +
                                  Node("n1", "[::1]:7001", "0-10, 11-5460"),
                              "c.toml");
  ASSERT_RESULT_OK(r);
  const ClusterConfig& c = *r;
  EXPECT_EQ(c.nats, (std::vector<std::string>{"nats://127.0.0.1:4222", "nats://127.0.0.1:4223"}));
  EXPECT_EQ(c.stream, "bf");
  EXPECT_EQ(c.replicas, 3);
  EXPECT_EQ(c.ack_timeout_ms, 5000);
  ASSERT_EQ(c.nodes.size(), 2u);
  EXPECT_EQ(c.nodes[1].host, "::1");
  EXPECT_EQ(c.nodes[1].port, 7001);
  EXPECT_EQ(c.nodes[1].slots, (std::vector<SlotRange>{{0, 5460}}));  // merged
  EXPECT_EQ(c.OwnerOf(0).id, "n1");
  EXPECT_EQ(c.OwnerOf(5460).id, "n1");
  EXPECT_EQ(c.OwnerOf(5461).id, "n0");
  EXPECT_EQ(c.OwnerOf(KeySlot("foo")).id, "n0");  // 12182
  EXPECT_EQ(c.FindNode("n0")->addr, "127.0.0.1:7000");
  EXPECT_EQ(c.FindNode("n9"), nullptr);
}

TEST(ClusterConfigTest, Defaults) {
  auto r = ParseClusterConfig("nats = [\"nats://h:4222\"]\n" + Node("a", "h:1", "0-16383"), "c");
  ASSERT_RESULT_OK(r);
  EXPECT_EQ(r->stream, "bridgefeed");
  EXPECT_EQ(r->replicas, 3);
  EXPECT_EQ(r->dedupe_window_s, 120);
}

TEST(ClusterConfigTest, OverlappingRanges) {
  EXPECT_EQ(ErrorOf(std::string(kHead) + Node("n0", "h:1", "0-5461") +
                    Node("n1", "h:2", "5461-16383")),
            "c.toml: slot 5461 is owned by both 'n0' and 'n1'");
  EXPECT_EQ(ErrorOf(std::string(kHead) + Node("n0", "h:1", "0-100,50-16383")),
            "c.toml: node 'n0' lists slot 50 twice");
}

TEST(ClusterConfigTest, UncoveredSlots) {
  EXPECT_EQ(ErrorOf(std::string(kHead) + Node("n0", "h:1", "0-5460") + Node("n1", "h:2", "5462-10922")),
            "c.toml: slots 5461, 10923-16383 are not owned by any node (all 16384 must be)");
  EXPECT_EQ(ErrorOf(std::string(kHead) + Node("n0", "h:1", "1,3,5,7,9,11")),
            "c.toml: slots 0, 2, 4, 6, 8, ... are not owned by any node (all 16384 must be)");
}

TEST(ClusterConfigTest, BadRanges) {
  EXPECT_EQ(ErrorOf(std::string(kHead) + Node("n0", "h:1", "0-16383,9-2")),
            "c.toml: node 'n0': bad slot range '9-2': start after end");
  EXPECT_EQ(ErrorOf(std::string(kHead) + Node("n0", "h:1", "0-99999")),
            "c.toml: node 'n0': bad slot range '0-99999': want N or N-M with slots from 0 to 16383");
  EXPECT_EQ(ErrorOf(std::string(kHead) + Node("n0", "h:1", "")), "c.toml: node 'n0': no slots given");
}

TEST(ClusterConfigTest, BadAddresses) {
  for (const char* addr : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", ":7000", "h:7x",
                           "a b:7000", "[zz]:7000"}) {
    EXPECT_EQ(ErrorOf(std::string(kHead) + Node("n0", addr, "0-16383")),
              "c.toml: node 'n0': bad addr '" + std::string(addr) +
                  "': want host:port, port 1 to 65535")
        << addr;
  }
  EXPECT_EQ(ErrorOf(std::string(kHead) + Node("n0", "h:1", "0-8000") + Node("n1", "h:1", "8001-16383")),
            "c.toml: nodes 'n0' and 'n1' have the same addr h:1");
}

TEST(ClusterConfigTest, BadNodes) {
  EXPECT_EQ(ErrorOf(std::string(kHead) + Node("n.0", "h:1", "0-16383")),
            "c.toml: node 1: bad id 'n.0': want 1 to 64 of A-Z a-z 0-9 _ -");
  EXPECT_EQ(ErrorOf(std::string(kHead) + Node("n0", "h:1", "0-8000") + Node("n0", "h:2", "8001-16383")),
            "c.toml: two nodes have the id 'n0'");
  EXPECT_EQ(ErrorOf(std::string(kHead) + "[[node]]\nid = \"n0\"\naddr = \"h:1\"\n"),
            "c.toml: node 1: missing 'slots'");
  EXPECT_EQ(ErrorOf(std::string(kHead) + "[[node]]\nid = \"n0\"\nport = 7000\n"),
            "c.toml: node 1: unknown key 'port'");
  EXPECT_EQ(ErrorOf(std::string(kHead) + "[[node]]\nid = 7\n"), "c.toml: node 1: 'id' must be a string");
  EXPECT_EQ(ErrorOf(kHead), "c.toml: no [[node]] tables: a cluster needs at least one node");
}

TEST(ClusterConfigTest, BadTopLevel) {
  const std::string nodes = Node("n0", "h:1", "0-16383");
  EXPECT_EQ(ErrorOf("nats = []\n" + nodes), "c.toml: 'nats' must list at least one NATS server URL");
  EXPECT_EQ(ErrorOf(nodes), "c.toml: 'nats' must list at least one NATS server URL");
  EXPECT_EQ(ErrorOf("nats = \"nats://h:1\"\n" + nodes), "c.toml: 'nats' must be a list of URLs");
  EXPECT_EQ(ErrorOf("nats = [\"http://h:1\"]\n" + nodes),
            "c.toml: bad NATS URL 'http://h:1': want nats://host:port");
  EXPECT_EQ(ErrorOf(std::string(kHead) + "replicas = 7\n" + nodes),
            "c.toml: line 4: Error while parsing key-value pair: cannot redefine existing integer "
            "'replicas'");
  EXPECT_EQ(ErrorOf("replicas = 7\nnats = [\"nats://h:1\"]\n" + nodes),
            "c.toml: 'replicas' must be an integer from 1 to 5");
  EXPECT_EQ(ErrorOf("stream = \"a.b\"\nnats = [\"nats://h:1\"]\n" + nodes),
            "c.toml: bad stream name 'a.b': want 1 to 64 of A-Z a-z 0-9 _ -");
  EXPECT_EQ(ErrorOf("streams = \"a\"\nnats = [\"nats://h:1\"]\n" + nodes),
            "c.toml: unknown key 'streams'");
  EXPECT_EQ(ErrorOf("nats = [\"nats://h:1\"\n"),
            "c.toml: line 1: Error while parsing array: encountered end-of-file");
}

TEST(ClusterConfigTest, SelectNode) {
  auto r = ParseClusterConfig(ThreeNodes(), "c.toml");
  ASSERT_RESULT_OK(r);
  auto n1 = SelectNode(*r, "n1", 7001);
  ASSERT_RESULT_OK(n1);
  EXPECT_EQ(*n1, 1u);
  auto unknown = SelectNode(*r, "n9", 7001);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Code::kInvalid);
  EXPECT_EQ(unknown.status().message(),
            "c.toml: --node-id 'n9' is not a node of this cluster (nodes: n0, n1, n2)");
  auto port = SelectNode(*r, "n1", 6479);
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.status().message(), "c.toml: node 'n1' has addr 127.0.0.1:7001 but --port is 6479");
}

TEST(ClusterConfigTest, LoadsAFile) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("bf_cluster_" + std::to_string(::getpid()) + ".toml")).string();
  { std::ofstream(path) << ThreeNodes(); }
  auto r = LoadClusterFile(path);
  std::remove(path.c_str());
  ASSERT_RESULT_OK(r);
  EXPECT_EQ(r->source, path);
  EXPECT_EQ(r->nodes.size(), 3u);
  auto missing = LoadClusterFile(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kIOError);
  EXPECT_EQ(missing.status().message(), "cannot read the cluster file " + path);
}

}  // namespace
}  // namespace bf::cluster
