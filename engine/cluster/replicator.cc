#include "engine/cluster/replicator.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace bf::cluster {

Replicator::Replicator(Log* log, Applier* applier, std::string node_id, ReplicatorOptions options)
    : log_(log), applier_(applier), node_id_(std::move(node_id)), options_(options) {}

Replicator::~Replicator() { Stop(); }

Status Replicator::Start() {
  BF_CHECK(!thread_.joinable());
  auto applied = applier_->AppliedSequence();
  if (!applied.ok()) return applied.status();
  auto consumer = log_->OpenConsumer(node_id_, *applied);
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(consumer).value();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
    failed_ = Status::OK();
    stats_ = ReplicatorStats{};
    stats_.running = true;
    stats_.applied_seq = *applied;
  }
  spdlog::info("cluster: {} applying the log from entry {}", node_id_, *applied + 1);
  thread_ = std::thread([this] { Run(); });
  return Status::OK();
}

void Replicator::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  consumer_.reset();
  std::lock_guard<std::mutex> lock(mu_);
  stats_.running = false;
  for (auto& [id, w] : waiters_) {
    if (!w.done) {
      w.done = true;
      w.outcome = failed_.ok() ? Status::TryAgain("the node stopped applying the log") : failed_;
    }
  }
  cv_.notify_all();
}

ReplicatorStats Replicator::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void Replicator::Expect(const std::string& msg_id) {
  std::lock_guard<std::mutex> lock(mu_);
  waiters_[msg_id] = Waiter{};
}

Result<ApplyOutcome> Replicator::Await(const std::string& msg_id, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = waiters_.find(msg_id);
  if (it == waiters_.end()) return Status::Internal("Await without Expect for " + msg_id);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    return it->second.done || !failed_.ok();
  });
  Result<ApplyOutcome> out = it->second.done ? std::move(it->second.outcome)
                             : !failed_.ok() ? Result<ApplyOutcome>(failed_)
                                             : Result<ApplyOutcome>(Status::TryAgain(
                                                   "the write is in the log but this node has not "
                                                   "applied it within " +
                                                   std::to_string(timeout_ms) + " ms"));
  waiters_.erase(it);
  return out;
}

void Replicator::Cancel(const std::string& msg_id) {
  std::lock_guard<std::mutex> lock(mu_);
  waiters_.erase(msg_id);
}

void Replicator::Finish(const std::string& msg_id, Result<ApplyOutcome> outcome) {
  auto it = waiters_.find(msg_id);
  if (it == waiters_.end()) return;
  it->second.done = true;
  it->second.outcome = std::move(outcome);
  cv_.notify_all();
}

void Replicator::Fail(const Status& status) {
  spdlog::error("cluster: {} stopped applying the log: {}", node_id_, status.ToString());
  std::lock_guard<std::mutex> lock(mu_);
  failed_ = status;
  stats_.error = status.ToString();
  stats_.running = false;
  cv_.notify_all();
}

void Replicator::Run() {
  std::string trouble;  // the log's current transient error, logged once per change
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    auto batch = consumer_->Fetch(options_.batch, options_.fetch_wait_ms);
    if (!batch.ok()) {
      if (batch.status().code() == Code::kCorruption) return Fail(batch.status());
      if (batch.status().message() != trouble) {
        trouble = batch.status().message();
        spdlog::warn("cluster: {}: {}", node_id_, trouble);
      }
      std::lock_guard<std::mutex> lock(mu_);
      stats_.error = batch.status().ToString();
      continue;
    }
    if (!trouble.empty()) {
      trouble.clear();
      std::lock_guard<std::mutex> lock(mu_);
      stats_.error.clear();
    }
    uint64_t last_applied = 0;
    for (const LogMessage& m : *batch) {
      Status failure;
      Entry entry;
      uint64_t expected;
      {
        std::lock_guard<std::mutex> lock(mu_);
        expected = stats_.applied_seq + 1;
      }
      if (m.seq != expected) {
        failure = Status::Internal("the log handed over entry " + std::to_string(m.seq) +
                                   " where " + std::to_string(expected) + " was due");
      } else if (Status d = DecodeEntry(m.payload, &entry); !d.ok()) {
        failure = Status::Corruption("entry " + std::to_string(m.seq) + ": " + d.message());
      }
      Result<ApplyOutcome> outcome = Status::Internal("not applied");
      if (failure.ok()) {
        outcome = applier_->Apply(m.seq, entry);
        if (!outcome.ok()) {
          failure = Status::IOError("applying entry " + std::to_string(m.seq) + " (" +
                                    std::string(KindName(KindOf(entry))) +
                                    "): " + outcome.status().ToString());
        }
      }
      if (!failure.ok()) {
        if (last_applied != 0) (void)consumer_->Ack(last_applied);
        return Fail(failure);
      }
      last_applied = m.seq;
      std::lock_guard<std::mutex> lock(mu_);
      stats_.applied_seq = m.seq;
      stats_.applied_entries++;
      stats_.pending = m.pending;
      const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
      stats_.lag_ms = m.pending == 0 ? 0 : std::max<int64_t>(0, (now_ns - m.stored_unix_ns) / 1'000'000);
      if (!m.msg_id.empty()) Finish(m.msg_id, std::move(outcome));
    }
    if (last_applied != 0) {
      // Best effort: the applied sequence, not the ack, decides where a restart resumes.
      if (Status a = consumer_->Ack(last_applied); !a.ok()) {
        spdlog::debug("cluster: {}: ack of {} failed: {}", node_id_, last_applied, a.ToString());
      }
    }
  }
}

}  // namespace bf::cluster
