// The write log against a real 3-node JetStream cluster on loopback (label cluster).
#include "engine/cluster/log.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "engine/cluster/entry.h"
#include "tests/engine/cluster/nats_cluster.h"
#include "tests/test_util.h"

namespace bf::cluster {
namespace {

using Clock = std::chrono::steady_clock;
using testing::NatsCluster;

// On the process's shared cluster, each test on its own stream.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NatsCluster& nats = testing::SharedNatsCluster();
    ASSERT_TRUE(nats.ok()) << nats.error();
    Open(nats.Urls());
  }

  void Open(const std::vector<std::string>& urls) {
    options_.servers = urls;
    options_.stream = testing::FreshStreamName();
    options_.replicas = 3;
    options_.ack_timeout_ms = 1500;
    options_.startup_timeout_ms = 20000;  // the cluster elects its meta leader first
    auto log = Log::Open(options_);
    ASSERT_RESULT_OK(log);
    log_ = std::move(log).value();
  }

  static std::string Payload(int i) {
    return EncodeEntry(EventEntry{"u:" + std::to_string(i), "p:1", EventType::kLike, 1700000000 + i, ""});
  }

  // Fetches until `n` entries came or 10 s passed.
  static std::vector<LogMessage> FetchAll(LogConsumer& c, size_t n) {
    std::vector<LogMessage> all;
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (all.size() < n && Clock::now() < deadline) {
      auto batch = c.Fetch(64, 200);
      if (!batch.ok()) continue;  // failing over
      for (LogMessage& m : *batch) all.push_back(std::move(m));
      if (!all.empty()) EXPECT_OK(c.Ack(all.back().seq));
    }
    return all;
  }

  LogOptions options_;
  std::unique_ptr<Log> log_;
};

// On a cluster of its own, as it kills servers.
class LogFailoverTest : public LogTest {
 protected:
  void SetUp() override {
    nats_ = std::make_unique<NatsCluster>(3);
    ASSERT_TRUE(nats_->ok()) << nats_->error();
    Open(nats_->Urls());
  }
  void TearDown() override { log_.reset(); }  // before the servers go

  std::unique_ptr<NatsCluster> nats_;
};

TEST_F(LogTest, ConsumerGetsEntriesInOrderExactlyOnce) {
  MessageIds ids("n0");
  for (int i = 1; i <= 120; i++) {
    auto ack = log_->Publish(ids.Next(), Payload(i));
    ASSERT_RESULT_OK(ack);
    EXPECT_EQ(ack->seq, static_cast<uint64_t>(i));
    EXPECT_FALSE(ack->duplicate);
  }
  auto last = log_->LastSequence();
  ASSERT_RESULT_OK(last);
  EXPECT_EQ(*last, 120u);
  auto consumer = log_->OpenConsumer("n0", 0);
  ASSERT_RESULT_OK(consumer);
  const std::vector<LogMessage> got = FetchAll(**consumer, 120);
  ASSERT_EQ(got.size(), 120u);
  for (int i = 1; i <= 120; i++) {
    const LogMessage& m = got[i - 1];
    EXPECT_EQ(m.seq, static_cast<uint64_t>(i));
    EXPECT_EQ(m.payload, Payload(i));
    EXPECT_EQ(m.pending, static_cast<uint64_t>(120 - i));
    EXPECT_GT(m.stored_unix_ns, 0);
  }
  EXPECT_TRUE(got[0].msg_id.starts_with("n0-")) << got[0].msg_id;
  // Nothing more, and nothing again.
  auto more = (*consumer)->Fetch(64, 300);
  ASSERT_RESULT_OK(more);
  EXPECT_TRUE(more->empty());
  // A consumer opened after entry 100 starts at 101, whatever was acknowledged before.
  auto from100 = log_->OpenConsumer("n0", 100);
  ASSERT_RESULT_OK(from100);
  const std::vector<LogMessage> tail = FetchAll(**from100, 20);
  ASSERT_EQ(tail.size(), 20u);
  EXPECT_EQ(tail.front().seq, 101u);
  EXPECT_EQ(tail.back().seq, 120u);
}

TEST_F(LogTest, SameMessageIdIsStoredOnce) {
  auto a = log_->Publish("n0-x-1", Payload(1));
  ASSERT_RESULT_OK(a);
  auto b = log_->Publish("n0-x-1", Payload(1));
  ASSERT_RESULT_OK(b);
  EXPECT_FALSE(a->duplicate);
  EXPECT_TRUE(b->duplicate);
  EXPECT_EQ(a->seq, b->seq);
  auto c = log_->Publish("n0-x-2", Payload(2));
  ASSERT_RESULT_OK(c);
  EXPECT_EQ(c->seq, a->seq + 1);
  auto last = log_->LastSequence();
  ASSERT_RESULT_OK(last);
  EXPECT_EQ(*last, 2u);
}

TEST_F(LogTest, ConsumerAheadOfTheStreamIsRefused) {
  ASSERT_RESULT_OK(log_->Publish("n0-y-1", Payload(1)));
  auto c = log_->OpenConsumer("n0", 5);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kCorruption);
  EXPECT_EQ(c.status().message(),
            "this node applied entry 5 but stream " + options_.stream + " ends at 1: the stream was replaced; "
            "rebuild the node from a peer's BACKUP");
}

TEST_F(LogTest, StreamWithOtherReplicasIsRefused) {
  LogOptions other = options_;
  other.replicas = 1;
  auto log = Log::Open(other);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), Code::kInvalid);
  EXPECT_EQ(log.status().message(),
            "stream " + options_.stream + " exists with 3 replicas, the cluster file says 1");
}

TEST(LogOpenTest, UnreachableNatsIsClusterDown) {
  LogOptions o;
  o.servers = {"nats://127.0.0.1:1"};
  o.connect_timeout_ms = 500;
  const auto start = Clock::now();
  auto log = Log::Open(o);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), Code::kClusterDown);
  EXPECT_EQ(log.status().ToString(),
            "ClusterDown: no NATS server reachable at nats://127.0.0.1:1: No server available for connection");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
}

// Kills the stream's leader mid-stream: publishing resumes within seconds, and every entry
// acknowledged before, during and after is in the stream once, in order.
TEST_F(LogFailoverTest, PublishingResumesWhenOneNatsNodeDies) {
  MessageIds ids("n0");
  std::vector<std::string> acked;  // payloads in ack order
  for (int i = 0; i < 20; i++) {
    auto ack = log_->Publish(ids.Next(), Payload(i));
    ASSERT_RESULT_OK(ack);
    acked.push_back(Payload(i));
  }
  const std::string leader = testing::StreamLeader(nats_->Urls(), options_.stream);
  ASSERT_FALSE(leader.empty());
  ASSERT_TRUE(nats_->KillByName(leader));
  const auto killed = Clock::now();
  // Keep writing: each write either succeeds or says clearly why not; count how long the
  // log was unavailable.
  Clock::time_point resumed{};
  for (int i = 20; i < 60; i++) {
    const std::string id = ids.Next();
    Result<PublishAck> ack = Status::TryAgain("");
    // A client retries a TRYAGAIN with the same message id (stored at most once).
    while (Clock::now() - killed < std::chrono::seconds(30)) {
      ack = log_->Publish(id, Payload(i));
      if (ack.ok()) break;
      EXPECT_TRUE(ack.status().code() == Code::kClusterDown || ack.status().code() == Code::kTryAgain)
          << ack.status().ToString();
    }
    ASSERT_RESULT_OK(ack);
    if (resumed == Clock::time_point{}) resumed = Clock::now();
    acked.push_back(Payload(i));
  }
  const double secs = std::chrono::duration<double>(resumed - killed).count();
  std::printf("publishing resumed %.2f s after the leader %s was killed\n", secs, leader.c_str());
  // A follower waits 4-9 s for a lost leader before it campaigns (nats-server's RAFT).
  EXPECT_LT(secs, 15.0);
  auto consumer = log_->OpenConsumer("n1", 0);
  ASSERT_RESULT_OK(consumer);
  const std::vector<LogMessage> got = FetchAll(**consumer, acked.size());
  ASSERT_EQ(got.size(), acked.size());
  for (size_t i = 0; i < got.size(); i++) {
    EXPECT_EQ(got[i].seq, i + 1);
    EXPECT_EQ(got[i].payload, acked[i]) << i;
  }
}

TEST_F(LogFailoverTest, NoQuorumIsAClearErrorWithinTheTimeout) {
  ASSERT_RESULT_OK(log_->Publish("n0-z-1", Payload(1)));
  nats_->Kill(0);
  nats_->Kill(1);
  for (int i = 0; i < 2; i++) {
    const auto start = Clock::now();
    auto ack = log_->Publish("n0-z-" + std::to_string(i + 2), Payload(2));
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    ASSERT_FALSE(ack.ok());
    EXPECT_TRUE(ack.status().code() == Code::kClusterDown || ack.status().code() == Code::kTryAgain)
        << ack.status().ToString();
    EXPECT_TRUE(ack.status().message().starts_with("the write log did not acknowledge within 1500 ms"))
        << ack.status().ToString();
    std::printf("no quorum: %s after %.2f s\n", ack.status().ToString().c_str(), secs);
    EXPECT_LT(secs, 2.5);
  }
}

}  // namespace
}  // namespace bf::cluster
