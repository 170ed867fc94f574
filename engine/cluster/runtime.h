// ClusterRuntime: one node's cluster mode, put together. It holds the cluster file, this
// node's place in it, the write log, the Applier that applies the log to the node's engine,
// the Replicator that feeds it, and the ReplicatedEngine the server calls.
//
// Start order (bridgefeed-server): Connect (file checked, NATS reached: no data touched yet),
// then the engine is opened, then Start. Stop before closing the engine.
//
// Errors: Connect: Invalid for the node id or port (cluster_config.h), the log's ClusterDown
// or Invalid (log.h). Start: the Applier's or the consumer's error (Corruption when the
// stream no longer holds what this node needs).
// Thread safety: after Start, every const method and engine() from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "embeddings/status.h"
#include "engine/cluster/cluster_config.h"
#include "engine/cluster/log.h"
#include "engine/cluster/replicator.h"
#include "engine/engine.h"

namespace bf::cluster {

class EngineApplier;
class ReplicatedEngine;

// INFO cluster's numbers.
struct ClusterStatus {
  bool applying = false;       // the Replicator runs
  uint64_t applied_seq = 0;    // last entry this node applied
  uint64_t stream_last_seq = 0;  // the stream's last entry, when the log answered
  bool stream_known = false;   // false: the log did not answer (no quorum)
  uint64_t lag_entries = 0;    // stream_last_seq - applied_seq
  int64_t lag_ms = 0;          // age of the last applied entry while behind
  std::string error;           // why applying stopped, or the log's trouble; "" if none
};

class ClusterRuntime {
 public:
  // Checks node_id and port against the file and connects to the log (creating the stream
  // when missing). Touches no data.
  static Result<std::unique_ptr<ClusterRuntime>> Connect(ClusterConfig config,
                                                         const std::string& node_id, int port);
  ~ClusterRuntime();  // Stop()

  // Applies the log from the engine's applied sequence on and serves writes through it.
  // `engine` must outlive the runtime (or Stop). train: this node's TRAIN settings (a TRAIN
  // it accepts carries them to every node). train_interval_s > 0: the periodic TRAIN, one
  // per interval for the whole cluster (docs/cluster.md); the engine's own must be off.
  // REQUIRES: not started.
  Status Start(Engine* engine, const learn::AlsOptions& train = {},
               int64_t train_interval_s = 0);
  // Stops applying; writes waiting get TryAgain. Idempotent.
  void Stop();

  // The engine the server calls: reads local, writes through the log. REQUIRES: started.
  Engine* engine();

  const ClusterConfig& config() const { return config_; }
  const ClusterNode& self() const { return config_.nodes[self_]; }
  size_t self_index() const { return self_; }
  bool Owns(int slot) const { return config_.slot_owner[slot] == self_; }
  // Asks the log for its last sequence (bounded by the log's timeouts).
  ClusterStatus Report() const;

 private:
  ClusterRuntime(ClusterConfig config, size_t self, std::unique_ptr<Log> log);
  void TrainLoop(Engine* inner, int64_t interval_s);

  const ClusterConfig config_;
  const size_t self_;
  std::unique_ptr<Log> log_;
  std::unique_ptr<EngineApplier> applier_;
  std::unique_ptr<Replicator> replicator_;
  std::unique_ptr<ReplicatedEngine> engine_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread train_thread_;
};

}  // namespace bf::cluster
