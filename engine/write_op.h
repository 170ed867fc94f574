// WriteOp: one write of a group that Engine::Write applies atomically (a
// MULTI/EXEC block, a batch from the cluster's stream). Each alternative
// holds the inputs of the single-write method of the same name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "embeddings/status.h"
#include "embeddings/vector.h"
#include "engine/store/limits.h"

namespace bf {

struct UserUpdate {
  std::string id;
  std::optional<std::string> culture;
  std::optional<std::vector<std::string>> langs;
  std::optional<double> openness;  // 0 to 1; checked before it is stored as a float
  std::optional<Vector> vector;  // not yet normalised
};

struct PostInput {
  std::string id;
  std::string author;
  std::string culture;
  Vector vector;  // not yet normalised; empty: the text vector of title and text
  std::optional<std::string> lang;  // none when not given; if given, 1 to 16 bytes
  // Seconds since the epoch, kMinTs to now + kMaxTsAhead (limits.h CheckTs).
  // None: now for a new post, the stored ts for a replaced one.
  std::optional<int64_t> ts;
  std::vector<std::string> tags;
  std::string title;  // EXPLAIN only; read from the store in one batch per FEED
  std::string text;   // encoded with the title when there is no vector; not stored
};

struct DeleteUserOp {
  std::string id;
};

struct DeletePostOp {
  std::string id;
};

struct EventOp {
  std::string user;
  std::string post;
  EventType type = EventType::kView;
  std::optional<int64_t> ts;  // default now; else in CheckTs's range
  // Cluster mode (engine/cluster/engine_applier.h): the culture the post's counters move
  // under, as the user's node resolved it (default: the user's own), and whether only the
  // counters move because another node owns the user (no user record, vector, seen mark).
  std::optional<std::string> viewer_culture;
  bool counters_only = false;
};

// SetUser, DeleteUser, AddPost, DeletePost, RecordEvent.
using WriteOp = std::variant<UserUpdate, DeleteUserOp, PostInput, DeletePostOp, EventOp>;

struct WriteOptions {
  // true (default): the first op that fails fails the whole call and nothing
  // is written. false (EXEC): an op that fails gets its error in its outcome
  // and is left out; the others are still written together.
  bool all_or_nothing = true;
  // Stored in the same WriteBatch (cluster: the applied stream sequence);
  // Engine::AppliedLogSeq returns it.
  std::optional<uint64_t> applied_log_seq;
};

// What one op did.
struct WriteOutcome {
  Status status;         // the op's error (all_or_nothing false only)
  bool existed = false;  // DeleteUserOp / DeletePostOp: there was one to delete
};

}  // namespace bf
