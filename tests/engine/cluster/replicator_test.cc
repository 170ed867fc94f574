// The consumer loop against a real 3-node JetStream cluster, with an in-memory Applier.
#include "engine/cluster/replicator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "tests/engine/cluster/nats_cluster.h"
#include "tests/test_util.h"

namespace bf::cluster {
namespace {

using Clock = std::chrono::steady_clock;

// What a node's database would hold: the applied sequence and, per sequence, the entry
// applied there and how many times. It outlives the Replicators, as a database outlives a
// process.
class MemoryApplier : public Applier {
 public:
  Result<uint64_t> AppliedSequence() override {
    std::lock_guard<std::mutex> lock(mu_);
    return applied_;
  }

  Result<ApplyOutcome> Apply(uint64_t seq, const Entry& entry) override {
    if (slow_) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::lock_guard<std::mutex> lock(mu_);
    if (seq == fail_at_) return Status::IOError("disk full");
    EXPECT_EQ(seq, applied_ + 1);
    applied_ = seq;
    entries_[seq] = entry;
    times_[seq]++;
    ApplyOutcome out;
    if (const auto* del = std::get_if<PostDelEntry>(&entry)) {
      out.count = posts_.erase(del->post);
    } else if (const auto* add = std::get_if<PostAddEntry>(&entry)) {
      posts_.insert(add->post);
    } else if (const auto* ev = std::get_if<EventEntry>(&entry); ev && !posts_.count(ev->post)) {
      out.reply = Status::NotFound("post");
    }
    return out;
  }

  void SetApplied(uint64_t seq) {
    std::lock_guard<std::mutex> lock(mu_);
    applied_ = seq;
  }
  // 2 ms per entry, so a test can stop the consumer mid-stream for sure.
  void SetSlow(bool slow) { slow_ = slow; }
  void FailAt(uint64_t seq) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_at_ = seq;
  }
  std::map<uint64_t, int> times() {
    std::lock_guard<std::mutex> lock(mu_);
    return times_;
  }
  std::map<uint64_t, Entry> entries() {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_;
  }

 private:
  std::atomic<bool> slow_{false};
  std::mutex mu_;
  uint64_t applied_ = 0;
  uint64_t fail_at_ = 0;
  std::map<uint64_t, Entry> entries_;
  std::map<uint64_t, int> times_;
  std::set<std::string> posts_;
};

class ReplicatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::NatsCluster& nats = testing::SharedNatsCluster();
    ASSERT_TRUE(nats.ok()) << nats.error();
    options_.servers = nats.Urls();
    options_.stream = testing::FreshStreamName();
    options_.startup_timeout_ms = 20000;
    auto log = Log::Open(options_);
    ASSERT_RESULT_OK(log);
    log_ = std::move(log).value();
  }

  static Entry Event(int i) {
    return EventEntry{"u:" + std::to_string(i), "p:1", EventType::kView, 1700000000 + i, ""};
  }

  void PublishEvents(int from, int to) {
    for (int i = from; i <= to; i++) {
      auto ack = log_->Publish(ids_.Next(), EncodeEntry(Event(i)));
      ASSERT_RESULT_OK(ack);
      ASSERT_EQ(ack->seq, static_cast<uint64_t>(i));
    }
  }

  // Waits until the replicator applied `seq` or stopped, at most 10 s.
  static ReplicatorStats WaitFor(Replicator& r, uint64_t seq) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    ReplicatorStats s = r.Stats();
    while (s.applied_seq < seq && s.running && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      s = r.Stats();
    }
    return s;
  }

  LogOptions options_;
  std::unique_ptr<Log> log_;
  MessageIds ids_{"n0"};
  ReplicatorOptions fast_{/*batch=*/16, /*fetch_wait_ms=*/100};
};

// Stops the consumer mid-stream and starts a new one (on a new connection, as a restarted
// process would) from the applier's recorded sequence: every entry applied once, in order.
TEST_F(ReplicatorTest, AppliesEachEntryOnceAcrossARestart) {
  PublishEvents(1, 200);
  MemoryApplier db;
  db.SetSlow(true);
  {
    Replicator r(log_.get(), &db, "n0", fast_);
    ASSERT_OK(r.Start());
    const ReplicatorStats s = WaitFor(r, 50);
    EXPECT_GE(s.applied_seq, 50u);
    r.Stop();
    EXPECT_FALSE(r.Stats().running);
  }
  db.SetSlow(false);
  const uint64_t stopped_at = *db.AppliedSequence();
  ASSERT_LT(stopped_at, 200u) << "stopped after the end: not mid-stream";
  auto log2 = Log::Open(options_);
  ASSERT_RESULT_OK(log2);
  Replicator r2(log2->get(), &db, "n0", fast_);
  ASSERT_OK(r2.Start());
  PublishEvents(201, 230);
  const ReplicatorStats s = WaitFor(r2, 230);
  EXPECT_EQ(s.applied_seq, 230u);
  EXPECT_EQ(s.applied_entries, 230u - stopped_at);
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(s.lag_ms, 0);
  const auto times = db.times();
  const auto entries = db.entries();
  ASSERT_EQ(times.size(), 230u);
  for (uint64_t seq = 1; seq <= 230; seq++) {
    EXPECT_EQ(times.at(seq), 1) << seq;
    EXPECT_EQ(entries.at(seq), Event(static_cast<int>(seq))) << seq;
  }
}

// The applied sequence decides, not the consumer's acks: behind them (a node restored from
// an older BACKUP) it re-reads, ahead of them (applied, then killed before the ack) it skips.
TEST_F(ReplicatorTest, ResumesFromTheAppliedSequenceNotTheAcks) {
  PublishEvents(1, 60);
  MemoryApplier db;
  {
    Replicator r(log_.get(), &db, "n0", fast_);
    ASSERT_OK(r.Start());
    EXPECT_EQ(WaitFor(r, 60).applied_seq, 60u);
  }
  MemoryApplier restored;  // a BACKUP taken at entry 40
  restored.SetApplied(40);
  {
    Replicator r(log_.get(), &restored, "n0", fast_);
    ASSERT_OK(r.Start());
    EXPECT_EQ(WaitFor(r, 60).applied_seq, 60u);
  }
  auto times = restored.times();
  ASSERT_EQ(times.size(), 20u);
  EXPECT_EQ(times.begin()->first, 41u);

  // A fresh consumer that fetched 30 entries and acked none, then a node that had applied 50.
  auto raw = log_->OpenConsumer("n1", 0);
  ASSERT_RESULT_OK(raw);
  ASSERT_RESULT_OK((*raw)->Fetch(30, 1000));
  MemoryApplier ahead;
  ahead.SetApplied(50);
  Replicator r(log_.get(), &ahead, "n1", fast_);
  ASSERT_OK(r.Start());
  EXPECT_EQ(WaitFor(r, 60).applied_seq, 60u);
  times = ahead.times();
  ASSERT_EQ(times.size(), 10u);
  EXPECT_EQ(times.begin()->first, 51u);
}

TEST_F(ReplicatorTest, StopsOnAnEntryItCannotDecode) {
  PublishEvents(1, 5);
  ASSERT_RESULT_OK(log_->Publish("bad-1", std::string("\x09\x01garbage", 9)));
  const std::string after = ids_.Next();
  MemoryApplier db;
  for (int run = 0; run < 2; run++) {  // a restart stops at the same entry: never skipped
    Replicator r(log_.get(), &db, "n0", fast_);
    r.Expect(after);
    ASSERT_OK(r.Start());
    ASSERT_RESULT_OK(log_->Publish(after, EncodeEntry(Event(7))));
    auto waited = r.Await(after, 10000);
    ASSERT_FALSE(waited.ok());
    EXPECT_EQ(waited.status().code(), Code::kCorruption);
    const ReplicatorStats s = r.Stats();
    EXPECT_FALSE(s.running);
    EXPECT_EQ(s.applied_seq, 5u);
    EXPECT_EQ(s.error, "Corruption: entry 6: log entry: unknown version 9 (this build reads versions 2 to 3)");
  }
  EXPECT_EQ(db.times().size(), 5u);
}

TEST_F(ReplicatorTest, StopsWhenTheApplierFailsAndRetriesThatEntry) {
  PublishEvents(1, 10);
  MemoryApplier db;
  db.FailAt(4);
  {
    Replicator r(log_.get(), &db, "n0", fast_);
    ASSERT_OK(r.Start());
    const ReplicatorStats s = WaitFor(r, 10);
    EXPECT_FALSE(s.running);
    EXPECT_EQ(s.applied_seq, 3u);
    EXPECT_EQ(s.error, "IOError: applying entry 4 (EVENT): IOError: disk full");
  }
  db.FailAt(0);  // the disk is repaired
  Replicator r(log_.get(), &db, "n0", fast_);
  ASSERT_OK(r.Start());
  EXPECT_EQ(WaitFor(r, 10).applied_seq, 10u);
  const auto times = db.times();
  ASSERT_EQ(times.size(), 10u);
  for (const auto& [seq, n] : times) EXPECT_EQ(n, 1) << seq;
}

// A writer learns its own write's outcome once this node applied it.
TEST_F(ReplicatorTest, ReadYourWrites) {
  MemoryApplier db;
  Replicator r(log_.get(), &db, "n0", fast_);
  ASSERT_OK(r.Start());
  auto write = [&](const Entry& e) -> Result<ApplyOutcome> {
    const std::string id = ids_.Next();
    r.Expect(id);
    auto ack = log_->Publish(id, EncodeEntry(e));
    if (!ack.ok()) {
      r.Cancel(id);
      return ack.status();
    }
    auto out = r.Await(id, 5000);
    if (out.ok()) {
      EXPECT_GE(r.Stats().applied_seq, ack->seq);
    }
    return out;
  };
  auto add = write(PostAddEntry{"p:1", "a", "US", {1.0f}, 1700000000, std::nullopt, {}, std::nullopt});
  ASSERT_RESULT_OK(add);
  EXPECT_OK(add->reply);
  auto like = write(EventEntry{"u:1", "p:1", EventType::kLike, 1700000001, ""});
  ASSERT_RESULT_OK(like);
  EXPECT_OK(like->reply);
  auto del = write(PostDelEntry{"p:1"});
  ASSERT_RESULT_OK(del);
  EXPECT_EQ(del->count, 1);
  auto del_again = write(PostDelEntry{"p:1"});
  ASSERT_RESULT_OK(del_again);
  EXPECT_EQ(del_again->count, 0);
  auto late = write(EventEntry{"u:1", "p:1", EventType::kLike, 1700000002, ""});
  ASSERT_RESULT_OK(late);
  EXPECT_EQ(late->reply.code(), Code::kNotFound);
  EXPECT_EQ(db.times().size(), 5u);
}

}  // namespace
}  // namespace bf::cluster
