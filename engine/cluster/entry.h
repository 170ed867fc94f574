// One replicated write: what a node publishes to the log and every node applies, and its
// versioned binary encoding (the log's message payload).
//
// An entry carries every value the write needs, resolved by the node that accepted it (a
// default TS is "now" there), so every node applies the same bytes to the same state.
//
// Encoding, version 2 (all integers little-endian; varint = unsigned LEB128):
//   byte 0       version (1)
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
// wiring came with version 2), so it is refused like any unknown version.
inline constexpr uint8_t kEntryVersion = 2;

// Stored as one byte: never renumber. 6 and up are for TRAIN and INDEX entries.
enum class EntryKind : uint8_t {
  kUserSet = 1,
  kUserDel = 2,
  kPostAdd = 3,
  kPostDel = 4,
  kEvent = 5,
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

using Entry = std::variant<UserSetEntry, UserDelEntry, PostAddEntry, PostDelEntry, EventEntry>;

EntryKind KindOf(const Entry& entry);
// "USER.SET", "POST.ADD", ...: the command an entry replicates, for logs and errors.
std::string_view KindName(EntryKind kind);

// The version-2 bytes of an entry. Never fails: validation is the caller's, before it
// publishes.
std::string EncodeEntry(const Entry& entry);

// Decodes bytes written by EncodeEntry. Corruption when the version or kind is unknown, a
// presence bit is unknown, the bytes end early, a length runs past the end, an event type
// is out of range, or bytes are left over; the message says which and at what offset.
// *out is unspecified on error.
Status DecodeEntry(std::string_view bytes, Entry* out);

}  // namespace bf::cluster
