// Transactions as Redis has them: MULTI queues a connection's commands,
// EXEC runs them as one block, DISCARD drops them, WATCH makes EXEC fail
// (null reply) when a watched id changed since.
//
// WatchRegistry is server-wide. Every write command holds it shared
// (SharedHold) across its engine write and the Touch of its ids; EXEC holds
// it exclusively (ExclusiveHold) across its WATCH check, its reads and its
// one engine Write, so no other client's write lands inside a block, and a
// change after WATCH is never missed. A WATCH key is an id: it covers the user and the
// post of that id.
//
// Transaction is one connection's state (ClientState::txn), touched only by
// that connection's commands; on destruction it drops its watches.
// Thread safety: WatchRegistry is thread-safe; Transaction is not.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/write_op.h"

namespace bf {

struct CommandSpec;  // commands.h

class WatchRegistry {
 public:
  // A write command's hold, across its write and Touch. Taken after any
  // waiting ExclusiveHold, so a stream of writes cannot starve EXEC.
  std::shared_lock<std::shared_mutex> SharedHold();
  // EXEC's (check and write) and WATCH's (taking versions): waits for the
  // writes in progress, then no write runs until it is released.
  std::unique_lock<std::shared_mutex> ExclusiveHold();

  // One more watcher of key; returns its version now.
  // REQUIRES: ExclusiveHold held.
  uint64_t Watch(const std::string& key);
  // One watcher fewer; the key is forgotten with its last watcher.
  void Release(const std::string& key);
  // key changed: bumps its version when someone watches it.
  // REQUIRES: SharedHold or ExclusiveHold held.
  void Touch(std::string_view key);
  // REQUIRES: SharedHold or ExclusiveHold held.
  uint64_t Version(const std::string& key) const;
  // Ids watched by at least one connection (INFO, tests).
  size_t watched_keys() const { return n_keys_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    uint64_t watchers = 0;
    uint64_t version = 0;
  };
  std::mutex gate_;  // held by an ExclusiveHold while it waits
  std::shared_mutex exec_mu_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> keys_;  // GUARDED_BY(mu_)
  std::atomic<size_t> n_keys_{0};                // keys_.size(), read without mu_
};

// A command queued by MULTI: a write parsed at queue time (its syntax
// errors abort the block), or a read or connection command run at EXEC.
struct QueuedCommand {
  enum class Runs {
    kWrite,         // in the block's one engine Write
    kAnyTime,       // reads nothing the block writes (PING, TIME, ...)
    kBeforeWrites,  // a read queued before the block's first write
    kAfterWrites,   // a read queued after a write: sees all of the block's writes
  };
  const CommandSpec* spec = nullptr;
  Runs runs = Runs::kAnyTime;
  std::optional<WriteOp> op;      // kWrite: USER.SET USER.DEL POST.ADD POST.DEL EVENT
  std::vector<std::string> args;  // the others: the words, name first
};

class Transaction {
 public:
  Transaction() = default;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() { Unwatch(); }

  bool active() const { return active_; }
  bool dirty() const { return dirty_; }
  const std::vector<QueuedCommand>& queued() const { return queued_; }
  // The most commands one block holds: a bound on a connection's queue.
  static constexpr size_t kMaxQueued = 100000;

  void Begin() { active_ = true; }
  // A command refused while queueing: EXEC will answer EXECABORT.
  void Flag() {
    if (active_) dirty_ = true;
  }
  void Queue(QueuedCommand c) {
    if (c.runs == QueuedCommand::Runs::kWrite) wrote_ = true;
    if (c.runs == QueuedCommand::Runs::kAfterWrites) read_after_write_ = true;
    queued_.push_back(std::move(c));
  }
  // A write is queued; a read is queued after a write.
  bool wrote() const { return wrote_; }
  bool read_after_write() const { return read_after_write_; }
  // Ends the block (EXEC, DISCARD): drops the queue and the watches.
  void End();

  // REQUIRES: registry's ExclusiveHold held.
  void Watch(WatchRegistry* registry, const std::string& key);
  void Unwatch();
  // Whether a watched id changed since WATCH. REQUIRES: a hold of the registry.
  bool WatchedChanged() const;
  size_t watched() const { return watched_.size(); }

 private:
  bool active_ = false;
  bool dirty_ = false;
  bool wrote_ = false;
  bool read_after_write_ = false;
  std::vector<QueuedCommand> queued_;
  WatchRegistry* registry_ = nullptr;
  std::vector<std::pair<std::string, uint64_t>> watched_;  // id, version at WATCH
};

}  // namespace bf
