// How store records and keys are laid out in RocksDB. Every value starts with
// a format version byte; decoders reject damaged or unknown bytes with
// Status::Corruption and never read out of bounds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "embeddings/status.h"
#include "engine/store/store.h"

namespace bf::internal {

inline constexpr uint8_t kRecordVersion = 1;
// Post and user records since priors (2): the served vector may be empty and
// a prior follows it. Version 1 records still decode (their vector is their prior).
inline constexpr uint8_t kVectorRecordVersion = 2;

// Counters kept in meta under one key, rewritten in every batch that moves one.
struct Counters {
  uint64_t next_iid = 1;      // next internal post id; ids are never reused
  uint64_t seq = 0;           // last sequence given to a post write or delete
  uint64_t next_event = 1;    // next event number
  uint64_t posts = 0;         // live posts
  uint64_t users = 0;         // stored user profiles
  uint64_t events = 0;        // stored events (DeleteUser removes some)
  uint32_t next_culture = 1;  // next culture code; 0 means "no culture"

  bool operator==(const Counters&) const = default;
};

// Values ------------------------------------------------------------------
std::string EncodePost(const PostRecord& p);
Status DecodePost(std::string_view bytes, PostRecord* p);

std::string EncodeUser(const UserRecord& u);
Status DecodeUser(std::string_view bytes, UserRecord* u);

std::string EncodeCounters(const Counters& c);
Status DecodeCounters(std::string_view bytes, Counters* c);

// Stats values: three int64 (impressions, positives, negatives), 24 bytes,
// without a version byte so the merge operator can add them blindly.
std::string EncodeCounts(int64_t impressions, int64_t positives, int64_t negatives);
Status DecodeCounts(std::string_view bytes, CultureCounts* c);

std::string EncodeSeen(SeenKind kind, int64_t ts);
Status DecodeSeen(std::string_view bytes, SeenKind* kind, int64_t* ts);
// Whether a mark `next` written over `prev` leaves `prev` in place: a hidden
// mark is never replaced by a served or viewed one. The seen merge operator
// and ImportEvents both apply it, so seen writes need no read.
inline bool SeenKeepsOld(SeenKind prev, SeenKind next) {
  return prev == SeenKind::kHidden && next != SeenKind::kHidden;
}

struct EventEntry {
  std::string post_id;
  uint64_t post_iid = 0;
  EventType type = EventType::kView;
  int64_t ts = 0;
  std::string culture;
};
std::string EncodeEvent(const EventEntry& e);
Status DecodeEvent(std::string_view bytes, EventEntry* e);

// Keys --------------------------------------------------------------------
// Varint length + user id: a prefix that no other user's keys start with.
std::string UserPrefix(std::string_view user);
// seen: UserPrefix(user) + iid (8 bytes big-endian).
std::string SeenKey(std::string_view user, uint64_t iid);
// events: UserPrefix(user) + event number (8 bytes big-endian).
std::string EventKey(std::string_view user, uint64_t event_no);
// engaged: UserPrefix(user) + iid (8 bytes big-endian) + Engagement (1 byte).
std::string EngagedKey(std::string_view user, uint64_t iid, Engagement kind);
// engaged values: the ts of the latest event of that kind (8 bytes).
std::string EncodeTs(int64_t ts);
// stats: iid (8 bytes big-endian) + culture name ("" for no culture).
std::string StatsKey(uint64_t iid, std::string_view culture);

}  // namespace bf::internal
