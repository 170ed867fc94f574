#include "engine/cluster/slots.h"

#include <array>
#include <charconv>
#include <string>

namespace bf::cluster {
namespace {

constexpr std::array<uint16_t, 256> MakeCrcTable() {
  std::array<uint16_t, 256> table{};
  for (int i = 0; i < 256; i++) {
    uint16_t crc = static_cast<uint16_t>(i << 8);
    for (int bit = 0; bit < 8; bit++) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint16_t, 256> kCrcTable = MakeCrcTable();

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// A slot number: digits only, in [0, 16383].
bool ParseSlot(std::string_view s, int* out) {
  if (s.empty() || s.size() > 5) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  if (v >= kSlotCount) return false;
  *out = v;
  return true;
}

}  // namespace

uint16_t Crc16(std::string_view data) {
  uint16_t crc = 0;
  for (unsigned char c : data) {
    crc = static_cast<uint16_t>((crc << 8) ^ kCrcTable[((crc >> 8) ^ c) & 0xff]);
  }
  return crc;
}

int KeySlot(std::string_view key) {
  const size_t open = key.find('{');
  if (open != std::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return Crc16(key) & (kSlotCount - 1);
}

Status ParseSlotRanges(std::string_view text, std::vector<SlotRange>* out) {
  out->clear();
  if (Trim(text).empty()) return Status::Invalid("no slots given");
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = Trim(text.substr(0, comma));
    const size_t dash = item.find('-');
    SlotRange r;
    bool ok;
    if (dash == std::string_view::npos) {
      ok = ParseSlot(item, &r.first);
      r.last = r.first;
    } else {
      ok = ParseSlot(Trim(item.substr(0, dash)), &r.first) &&
           ParseSlot(Trim(item.substr(dash + 1)), &r.last);
    }
    if (!ok) {
      return Status::Invalid("bad slot range '" + std::string(item) +
                             "': want N or N-M with slots from 0 to 16383");
    }
    if (r.first > r.last) {
      return Status::Invalid("bad slot range '" + std::string(item) + "': start after end");
    }
    out->push_back(r);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return Status::OK();
}

}  // namespace bf::cluster
