// Replicator: a node's consumer loop. A thread fetches the log's entries in stream order,
// decodes each, hands it to the Applier and acknowledges it, and tells a waiting writer
// when its own write was applied (read-your-writes: a write is answered once the log
// acknowledged it and this node applied it).
//
// Exactly once: the Applier records each entry's sequence with its effects, the consumer is
// opened right after the recorded sequence, and it never hands an entry over twice.
// An entry that does not decode (a newer version, malformed bytes) or that the Applier
// cannot apply stops the loop: the error is logged, kept in Stats().error, and every
// waiting writer gets it. Nothing is skipped. A restart (after an upgrade or a repair)
// retries that entry.
//
// Thread safety: every method may be called from any thread; Start and Stop from one owner.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "embeddings/status.h"
#include "engine/cluster/applier.h"
#include "engine/cluster/log.h"

namespace bf::cluster {

struct ReplicatorOptions {
  int batch = 256;          // entries per fetch
  int fetch_wait_ms = 500;  // a fetch's longest wait; Stop takes at most about this long
};

struct ReplicatorStats {
  bool running = false;
  uint64_t applied_seq = 0;     // last applied stream sequence
  uint64_t pending = 0;         // entries in the stream after it, as of its delivery
  int64_t lag_ms = 0;           // age of the last applied entry while entries are pending
  uint64_t applied_entries = 0; // applied since Start
  std::string error;            // why it stopped, or the log's current trouble; "" if none
};

class Replicator {
 public:
  // `log` and `applier` must outlive the Replicator. node_id names the durable consumer.
  Replicator(Log* log, Applier* applier, std::string node_id, ReplicatorOptions options = {});
  ~Replicator();  // Stop()

  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  // Reads the applied sequence, opens the consumer after it and starts the thread. Errors:
  // the Applier's, or the log's (ClusterDown, Corruption); nothing started then.
  // REQUIRES: not running.
  Status Start();

  // Stops the thread after the entry being applied; waiting writers get TryAgain.
  // A no-op when not running.
  void Stop();

  ReplicatorStats Stats() const;

  // Read-your-writes. A writer calls Expect(msg_id) before publishing its entry, then
  // Await(msg_id, timeout_ms) after the log's ack: it returns the outcome once this node
  // applied the entry with that message id; TryAgain after timeout_ms; the stop error when
  // the Replicator stopped on one. Await or Cancel ends the expectation.
  void Expect(const std::string& msg_id);
  Result<ApplyOutcome> Await(const std::string& msg_id, int timeout_ms);
  void Cancel(const std::string& msg_id);

 private:
  struct Waiter {
    bool done = false;
    Result<ApplyOutcome> outcome = Status::TryAgain("not applied yet");
  };

  void Run();
  // Stops the loop on an entry it cannot get past.
  void Fail(const Status& status);
  void Finish(const std::string& msg_id, Result<ApplyOutcome> outcome);

  Log* const log_;
  Applier* const applier_;
  const std::string node_id_;
  const ReplicatorOptions options_;

  std::unique_ptr<LogConsumer> consumer_;  // used by the thread only while it runs
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                                 // GUARDED_BY(mu_)
  ReplicatorStats stats_;                             // GUARDED_BY(mu_)
  Status failed_;                                     // GUARDED_BY(mu_): the stop error
  std::unordered_map<std::string, Waiter> waiters_;   // GUARDED_BY(mu_)
};

}  // namespace bf::cluster
