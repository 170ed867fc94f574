// EngineApplier: applies the log's entries to a node's engine (applier.h), each as one
// Engine::Write whose batch also stores the entry's stream sequence, so an entry's effects
// and its sequence are durable together or not at all (exactly once across SIGKILL).
//
// Partitioning: posts, their counters and every EVENT's counter update are applied on every
// node; a user's profile, vector, seen and hidden marks only on the node owning the user's
// slot. An entry for another node's user records only its sequence (USER.SET, USER.DEL) or
// its post counters (EVENT, under the viewer culture the entry carries).
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

  Engine* const engine_;
  const ClusterConfig* const config_;
  const size_t self_;
};

}  // namespace bf::cluster
