// Redis Cluster hash slots: which of the 16384 slots a key (a user id) falls in, exactly as
// Redis computes it, so cluster-aware Redis clients route our commands by themselves.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "embeddings/status.h"

namespace bf::cluster {

inline constexpr int kSlotCount = 16384;

// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), the checksum of Redis's crc16.c.
// Crc16("123456789") == 0x31C3.
uint16_t Crc16(std::string_view data);

// The slot of a key: Crc16 of the key mod 16384, or of the part between the first '{' and the
// next '}' when that part is non-empty ("{user1000}.following" hashes "user1000";
// "foo{}{bar}" hashes the whole key), as Redis's keyHashSlot.
int KeySlot(std::string_view key);

// An inclusive range of slots, first <= last.
struct SlotRange {
  int first = 0;
  int last = 0;
  bool operator==(const SlotRange&) const = default;
};

// Parses "0-5460,5461,10000-10010": a comma list of slots and inclusive ranges, each slot in
// [0, 16383], ranges not descending. Spaces around items are allowed. On error: Invalid with
// the offending item ("bad slot range '5-1': start after end"); *out is unspecified.
Status ParseSlotRanges(std::string_view text, std::vector<SlotRange>* out);

}  // namespace bf::cluster
