// The incremental fold-in states of recently active users (learn::
// IncrementalFoldIn), so an EVENT costs O(d^2) instead of a re-solve of the
// user's whole history. Bounded: past `capacity` users the least recently
// used is dropped, and its next event starts again from the store's event
// log. Each state carries the ItemGramian epoch it was built at; one of
// another epoch is stale.
//
// Thread safety: Get, Put and Erase may be called from any thread. A state
// itself is not thread-safe: the engine only touches a user's state under
// that user's lock (EngineImpl::UserLock), and a dropped state lives on in
// its shared_ptr until its holder is done.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "embeddings/learn/fold_in.h"

namespace bf {

struct UserFoldIn {
  UserFoldIn(uint64_t e, learn::IncrementalFoldIn s) : epoch(e), state(std::move(s)) {}
  uint64_t epoch;
  learn::IncrementalFoldIn state;
};

class FoldInCache {
 public:
  // capacity 0 keeps nothing (every event re-solves from the log).
  explicit FoldInCache(size_t capacity) : capacity_(capacity) {}

  // The user's state, or null; marks it recently used.
  std::shared_ptr<UserFoldIn> Get(std::string_view user);
  // Stores (or replaces) the user's state, dropping the least recently used
  // past capacity. Notes the state's heap bytes now: REQUIRES the caller holds
  // the user's lock, the only one under which the state changes.
  void Put(std::string_view user, std::shared_ptr<UserFoldIn> state);
  void Erase(std::string_view user);
  void Clear();
  size_t size() const;
  // INFO memory: the states (as of their last Put), their names and the
  // recency list. Reads no state, so it needs no user's lock.
  uint64_t HeapBytes() const;

 private:
  using Order = std::list<std::string>;  // most recent first
  struct Slot {
    std::shared_ptr<UserFoldIn> state;
    Order::iterator pos;
    uint64_t bytes = 0;  // the state's heap bytes at its last Put
  };
  const size_t capacity_;
  mutable std::mutex mu_;
  Order order_;                                  // guarded by mu_
  std::unordered_map<std::string, Slot> slots_;  // guarded by mu_
};

// The fold-in states one write group (Engine::Write) changed. A group's
// events are folded in before it is stored, so the states count them early:
// the destructor puts them back into the cache only when the group was stored
// (stored set), and otherwise drops those users' states, whose next event then
// re-solves from the event log. A null state means "drop after the group".
struct FoldInGroup {
  FoldInCache* cache = nullptr;
  bool stored = false;
  std::unordered_map<std::string, std::shared_ptr<UserFoldIn>> states;

  FoldInGroup() = default;
  FoldInGroup(const FoldInGroup&) = delete;
  FoldInGroup& operator=(const FoldInGroup&) = delete;
  ~FoldInGroup();
};

}  // namespace bf
