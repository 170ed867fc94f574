#include "engine/cluster/runtime.h"

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

Status ClusterRuntime::Start(Engine* engine) {
  BF_CHECK(replicator_ == nullptr);
  applier_ = std::make_unique<EngineApplier>(engine, &config_, self_);
  auto replicator = std::make_unique<Replicator>(log_.get(), applier_.get(), self().id);
  BF_RETURN_IF_ERROR(replicator->Start());
  replicator_ = std::move(replicator);
  // A write waits for the log's ack first (ack_timeout_ms); then for this node to apply it,
  // which takes as long as the backlog before it.
  engine_ = std::make_unique<ReplicatedEngine>(engine, log_.get(), replicator_.get(), self().id,
                                               config_.ack_timeout_ms);
  return Status::OK();
}

void ClusterRuntime::Stop() {
  if (replicator_) replicator_->Stop();
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
