#include "engine/cluster/runtime.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "engine/cluster/engine_applier.h"
#include "engine/cluster/replicated_engine.h"

namespace bf::cluster {

Result<std::unique_ptr<ClusterRuntime>> ClusterRuntime::Connect(ClusterConfig config,
                                                                const std::string& node_id,
                                                                int port) {
  auto self = SelectNode(config, node_id, port);
  if (!self.ok()) return self.status();
  auto log = Log::Open(LogOptions::FromConfig(config, node_id));
  if (!log.ok()) return log.status();
  return std::unique_ptr<ClusterRuntime>(
      new ClusterRuntime(std::move(config), *self, std::move(log).value()));
}

ClusterRuntime::ClusterRuntime(ClusterConfig config, size_t self, std::unique_ptr<Log> log)
    : config_(std::move(config)), self_(self), log_(std::move(log)) {}

ClusterRuntime::~ClusterRuntime() { Stop(); }

Status ClusterRuntime::Start(Engine* engine, const learn::AlsOptions& train,
                             int64_t train_interval_s) {
  BF_CHECK(replicator_ == nullptr);
  applier_ = std::make_unique<EngineApplier>(engine, &config_, self_);
  auto replicator = std::make_unique<Replicator>(log_.get(), applier_.get(), self().id);
  BF_RETURN_IF_ERROR(replicator->Start());
  replicator_ = std::move(replicator);
  // A write waits for the log's ack first (ack_timeout_ms); then for this node to apply it,
  // which takes as long as the backlog before it.
  engine_ = std::make_unique<ReplicatedEngine>(engine, log_.get(), replicator_.get(), self().id,
                                               config_.ack_timeout_ms, train);
  if (train_interval_s > 0) {
    train_thread_ = std::thread([this, engine, train_interval_s] {
      TrainLoop(engine, train_interval_s);
    });
  }
  return Status::OK();
}

void ClusterRuntime::Stop() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (train_thread_.joinable()) train_thread_.join();
  if (replicator_) replicator_->Stop();
}

// Every node wakes at the same wall-clock multiples of the interval and publishes a TRAIN
// whose message id is the interval's number: the log's dedupe window keeps the first, so
// the cluster trains once per interval while any node is up (clocks within the window).
void ClusterRuntime::TrainLoop(Engine* inner, int64_t interval_s) {
  uint64_t seen = inner->AppliedLogSeq();
  std::unique_lock lock(stop_mu_);
  for (;;) {
    const auto now = std::chrono::system_clock::now();
    const int64_t secs =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const int64_t number = secs / interval_s + 1;
    const auto next = std::chrono::system_clock::time_point(std::chrono::seconds(number * interval_s));
    if (stop_cv_.wait_until(lock, next, [this] { return stopping_; })) return;
    // Only when entries arrived since the last tick (a TRAIN entry alone is one).
    const uint64_t applied = inner->AppliedLogSeq();
    if (applied <= seen + 1 && inner->GetModelInfo().loaded) {
      seen = applied;
      continue;
    }
    seen = applied + 1;  // the TRAIN entry about to be published
    lock.unlock();
    const Status st = engine_->PublishTrain("train-" + std::to_string(interval_s) + "-" +
                                            std::to_string(number));
    if (!st.ok()) spdlog::error("cluster: periodic TRAIN not published: {}", st.ToString());
    lock.lock();
  }
}

Engine* ClusterRuntime::engine() {
  BF_CHECK(engine_ != nullptr);
  return engine_.get();
}

ClusterStatus ClusterRuntime::Report() const {
  ClusterStatus s;
  if (replicator_) {
    const ReplicatorStats r = replicator_->Stats();
    s.applying = r.running;
    s.applied_seq = r.applied_seq;
    s.lag_ms = r.lag_ms;
    s.error = r.error;
  }
  auto last = log_->LastSequence();
  if (last.ok()) {
    s.stream_known = true;
    s.stream_last_seq = *last;
    s.lag_entries = *last > s.applied_seq ? *last - s.applied_seq : 0;
    if (s.lag_entries == 0) s.lag_ms = 0;
  } else if (s.error.empty()) {
    s.error = last.status().ToString();
  }
  return s;
}

}  // namespace bf::cluster
