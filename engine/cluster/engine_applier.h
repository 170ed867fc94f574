// EngineApplier: applies the log's entries to a node's engine (applier.h), each as one
// Engine::Write whose batch also stores the entry's stream sequence, so an entry's effects
// and its sequence are durable together or not at all (exactly once across SIGKILL).
//
// Partitioning: posts, their counters, the event log and engagement marks are applied on
// every node (TRAIN reads the whole log: every node learns the same post factors); a user's
// profile, vector, seen and hidden marks only on the node owning the user's slot. USER.SET
// for another node's user records only its sequence; its EVENT moves the post counters
// (under the viewer culture the entry carries) and is logged; its USER.DEL removes its
// logged events and marks. TRAIN starts the node's train on its store as of the entry:
// the next entry is applied once the train has read the store; the train and its swap go
// on in the background.
//
// Errors: as Applier. Thread safety: the Replicator's thread calls it, one entry at a time.
// Ownership: borrows the engine and the config, which must outlive it.
#pragma once

#include <cstddef>

#include "engine/cluster/applier.h"
#include "engine/cluster/cluster_config.h"
#include "engine/engine.h"

namespace bf::cluster {

class EngineApplier final : public Applier {
 public:
  EngineApplier(Engine* engine, const ClusterConfig* config, size_t self);

  Result<uint64_t> AppliedSequence() override;
  Result<ApplyOutcome> Apply(uint64_t seq, const Entry& entry) override;

 private:
  bool OwnsUser(std::string_view user) const;
  // Starts this node's train at this log position (Engine::StartTrainRun).
  Result<ApplyOutcome> ApplyTrain(uint64_t seq, const TrainEntry& e);

  Engine* const engine_;
  const ClusterConfig* const config_;
  const size_t self_;
};

}  // namespace bf::cluster
