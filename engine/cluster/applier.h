// Applier: what applies the log's entries to a node's state. The engine's adapter implements
// it (cluster wiring: engine writes with the applied sequence in the same RocksDB WriteBatch);
// tests implement it in memory. The Replicator (replicator.h) is its only caller.
#pragma once

#include <cstdint>

#include "embeddings/status.h"
#include "engine/cluster/entry.h"

namespace bf::cluster {

// What applying an entry did, for the node that accepted the write to reply with.
struct ApplyOutcome {
  // The write's own result: OK, or the caller's error it met, e.g. NotFound("post") for an
  // EVENT on a post deleted meanwhile. Such an entry is still applied (as a no-op, the same
  // on every node) and its sequence recorded.
  Status reply;
  // USER.DEL and POST.DEL: 1 when it existed, else 0.
  int64_t count = 0;
};

class Applier {
 public:
  virtual ~Applier() = default;

  // The stream sequence of the last applied entry, 0 when none: the consumer resumes after
  // it. Called once per Replicator start, before any Apply. An error stops the start.
  virtual Result<uint64_t> AppliedSequence() = 0;

  // Applies entry `seq` durably, exactly once: its effects and `seq` as the new applied
  // sequence in one atomic write, so after a crash AppliedSequence() says whether it
  // happened. REQUIRES: seq == the applied sequence + 1 (the Replicator guarantees it).
  // An error means nothing of the entry was stored (disk failure, a bug): the Replicator
  // stops and reports it, and a restart retries the same entry. A caller's error the write
  // meets is not an error here but the outcome's `reply`.
  // Called from the Replicator's thread only, one entry at a time.
  virtual Result<ApplyOutcome> Apply(uint64_t seq, const Entry& entry) = 0;
};

}  // namespace bf::cluster
