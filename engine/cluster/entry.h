// One replicated write: what a node publishes to the log and every node applies, and its
// versioned binary encoding (the log's message payload).
//
// An entry carries every value the write needs, resolved by the node that accepted it (a
// default TS is "now" there), so every node applies the same bytes to the same state.
//
// Encoding, versions 2 and 3 (all integers little-endian; varint = unsigned LEB128):
//   byte 0       version: 2 for kinds 1-5, 3 for TRAIN (so a version-2 reader stops only
//                at a TRAIN, with a clear error)
//   byte 1       kind (EntryKind)
//   then the kind's fields in declaration order: a string is varint length + bytes, a list
//   varint count + items, a vector varint count + count float32, a double 8 bytes, a ts a
//   zigzag varint, an event type one byte. USER.SET and POST.ADD start with a varint of
//   presence bits for their optional fields; a bit this version does not know is an error.
// A change to the bytes of a kind bumps the version; a new kind (TRAIN, INDEX.*) takes the
// next kind number. Decoding refuses what it does not know: a reader must never apply an
// entry it only half understood.
//
// Thread safety: pure functions over values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "embeddings/status.h"
#include "engine/store/limits.h"

namespace bf::cluster {

// Version 2: EVENT carries its viewer's culture. No server wrote version 1 (the cluster
// wiring came with version 2), so it is refused like any unknown version. Version 3 adds
// TRAIN; the other kinds keep their version-2 bytes.
inline constexpr uint8_t kEntryVersion = 3;
inline constexpr uint8_t kOldestEntryVersion = 2;

// Stored as one byte: never renumber. 7 and up are for INDEX entries.
enum class EntryKind : uint8_t {
  kUserSet = 1,
  kUserDel = 2,
  kPostAdd = 3,
  kPostDel = 4,
  kEvent = 5,
  kTrain = 6,  // version 3
};

// USER.SET: fields not given keep their values.
struct UserSetEntry {
  std::string user;
  std::optional<std::string> culture;
  std::optional<std::vector<std::string>> langs;
  std::optional<double> openness;
  std::optional<std::vector<float>> vector;  // as given (the applier normalises)
  bool operator==(const UserSetEntry&) const = default;
};

struct UserDelEntry {
  std::string user;
  bool operator==(const UserDelEntry&) const = default;
};

// POST.ADD with its TS resolved.
struct PostAddEntry {
  std::string post;
  std::string author;
  std::string culture;
  std::vector<float> vector;
  int64_t ts = 0;
  std::optional<std::string> lang;
  std::vector<std::string> tags;
  std::optional<std::string> title;
  bool operator==(const PostAddEntry&) const = default;
};

struct PostDelEntry {
  std::string post;
  bool operator==(const PostDelEntry&) const = default;
};

// EVENT with its TS and its viewer's culture resolved by the user's node, so that every
// node counts it under the same culture without holding the user.
struct EventEntry {
  std::string user;
  std::string post;
  EventType type = EventType::kView;
  int64_t ts = 0;
  std::string viewer_culture;  // "" for a user without a culture
  bool operator==(const EventEntry&) const = default;
};

// TRAIN: every node trains on its store as of this entry, with the settings of the node
// that accepted the command (so nodes with different local settings train the same
// model). Thread count and solver precision settings beyond these stay each node's.
// Bytes: varint trained_at (zigzag), varint seed, varint iterations, floats regularization,
// prior_regularization, init_stddev (4 bytes each), a float list of the confidence weights
// (exactly learn::kEventKinds), double half-life, zigzag decay reference time, byte solver,
// varint cg_steps.
struct TrainEntry {
  int64_t trained_at = 0;  // the model's trained_at (the accepting node's clock)
  uint64_t seed = 1;
  uint32_t iterations = 0;
  float regularization = 0;
  float prior_regularization = 0;
  float init_stddev = 0;
  std::vector<float> weights;  // confidence per event kind
  double half_life_s = 0;
  int64_t decay_now = 0;
  uint8_t solver = 0;  // learn::Solver
  uint32_t cg_steps = 0;
  bool operator==(const TrainEntry&) const = default;
};

using Entry = std::variant<UserSetEntry, UserDelEntry, PostAddEntry, PostDelEntry, EventEntry,
                           TrainEntry>;

EntryKind KindOf(const Entry& entry);
// "USER.SET", "POST.ADD", ...: the command an entry replicates, for logs and errors.
std::string_view KindName(EntryKind kind);

// The bytes of an entry (version 2, or 3 for TRAIN). Never fails: validation is the caller's, before it
// publishes.
std::string EncodeEntry(const Entry& entry);

// Decodes bytes written by EncodeEntry. Corruption when the version or kind is unknown (or
// the kind is newer than its version), a TRAIN's weights are not one per event kind, a
// presence bit is unknown, the bytes end early, a length runs past the end, an event type
// is out of range, or bytes are left over; the message says which and at what offset.
// *out is unspecified on error.
Status DecodeEntry(std::string_view bytes, Entry* out);

}  // namespace bf::cluster
