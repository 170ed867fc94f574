// The replicated write log: a NATS JetStream stream (nats-server 2.9, replicated by RAFT),
// reached through libnats. The log is the source of order: a write is acknowledged once the
// stream stored it, and every node applies the stream in order (replicator.h).
//
// Errors a caller sees (wire code in brackets, what the server will reply):
//   ClusterDown [CLUSTERDOWN]  no NATS server reachable, or the stream has no leader (no
//                              quorum: fewer than half of its replicas up); nothing stored.
//   TryAgain    [TRYAGAIN]     no ack within the timeout while a server was reachable: the
//                              entry may or may not be stored; a retry with the same message
//                              id is stored at most once (JetStream dedupe).
//   Invalid     [ERR]          the stream exists with another configuration.
//   Corruption  [ERR]          the stream no longer holds entries a consumer needs.
// Thread safety: a Log is safe to use from many threads (libnats connections are). A
// LogConsumer is used by one thread at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "embeddings/status.h"
#include "engine/cluster/cluster_config.h"

namespace bf::cluster {

struct LogOptions {
  // NATS server URLs ("nats://127.0.0.1:4222"); the client fails over between them and the
  // servers the cluster announces.
  std::vector<std::string> servers;
  // The stream; entries are published on "<stream>.entries" and the stream takes "<stream>.>".
  std::string stream = "bridgefeed";
  // Stream replicas, 1 to 5; a write needs a majority of them up.
  int replicas = 3;
  // How long Publish waits for the stream's ack, in total, retrying as servers fail over.
  int ack_timeout_ms = 5000;  // covers most RAFT elections (4-9 s in nats-server 2.9)
  // JetStream's duplicate window: a message id seen within it is stored once.
  int dedupe_window_s = 120;
  // How long Open waits to connect to a server.
  int connect_timeout_ms = 2000;
  // How long Open retries while JetStream elects its leaders (a cluster just started).
  int startup_timeout_ms = 10000;
  // Shown by NATS monitoring ("bridgefeed n0").
  std::string client_name = "bridgefeed";

  static LogOptions FromConfig(const ClusterConfig& config, std::string_view node_id);
};

struct PublishAck {
  uint64_t seq = 0;        // the entry's stream sequence
  bool duplicate = false;  // the message id was already stored; seq is that entry's
};

// One entry as the consumer hands it over.
struct LogMessage {
  uint64_t seq = 0;           // stream sequence, 1-based
  std::string payload;        // EncodeEntry bytes
  std::string msg_id;         // the message id it was published with
  int64_t stored_unix_ns = 0; // when the stream stored it
  uint64_t pending = 0;       // entries in the stream after this one when it was delivered
};

// A node's durable pull consumer: delivers the stream in order from a given sequence.
class LogConsumer {
 public:
  virtual ~LogConsumer() = default;

  // Up to `max` entries, consecutive, the first one right after the last one returned (or
  // after the `applied` sequence the consumer was opened with), waiting up to wait_ms for
  // the first. An empty vector: nothing new within wait_ms, or the NATS connection is down
  // (it reconnects by itself). Redeliveries are dropped and a gap re-positions the consumer,
  // so a caller never sees an entry twice or out of order. Errors: Corruption when the stream
  // no longer holds the next entry (it was purged: rebuild the node from a BACKUP).
  virtual Result<std::vector<LogMessage>> Fetch(int max, int wait_ms) = 0;

  // Acknowledges every returned entry up to and including `seq` (the consumer's ack policy
  // is "all"), so the stream's view of this node's progress follows it. Best effort: the
  // node's own applied sequence, not this ack, decides where a restart resumes.
  virtual Status Ack(uint64_t seq) = 0;
};

class Log {
 public:
  // Connects to the servers and creates the stream when missing (file storage, the given
  // replicas and duplicate window). Errors: ClusterDown when no server answers within
  // connect_timeout_ms or JetStream cannot create or describe the stream within
  // startup_timeout_ms (no quorum); Invalid when the
  // stream exists with other subjects or replicas.
  static Result<std::unique_ptr<Log>> Open(const LogOptions& options);

  virtual ~Log() = default;

  // Stores `payload` as one entry with message id `msg_id` (non-empty, unique per write:
  // MessageIds makes them) and waits for the stream's ack, retrying the same id while
  // servers fail over, for at most ack_timeout_ms. Errors: ClusterDown, TryAgain (above).
  virtual Result<PublishAck> Publish(std::string_view msg_id, std::string_view payload) = 0;

  // The stream's last sequence (0 when empty), for INFO's lag. ClusterDown on no quorum.
  virtual Result<uint64_t> LastSequence() = 0;

  // Opens the durable consumer `name` (a node id) positioned right after `applied` (the
  // node's applied sequence, 0 for none). The consumer is re-created at that position:
  // whatever it acknowledged before does not matter. Retries for up to startup_timeout_ms
  // while JetStream moves its leaders, then ClusterDown; Corruption when the stream no
  // longer holds entry applied+1 or ends before `applied`.
  virtual Result<std::unique_ptr<LogConsumer>> OpenConsumer(std::string_view name,
                                                            uint64_t applied) = 0;
};

// Message ids for one node's writes: "<node>-<random 64-bit hex>-<counter>", so ids stay
// unique across the node's restarts. Thread-safe.
class MessageIds {
 public:
  explicit MessageIds(std::string_view node_id);
  std::string Next();

 private:
  std::string prefix_;  // fixed after construction
  std::atomic<uint64_t> counter_{0};
};

}  // namespace bf::cluster
