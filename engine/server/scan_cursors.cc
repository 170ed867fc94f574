#include "engine/server/scan_cursors.h"

#include <chrono>

namespace bf {

ScanCursors::ScanCursors() {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  next_ = (static_cast<uint64_t>(secs) & 0xffffffffu) << 20 | 1;  // < 2^52: exact in a double
}

uint64_t ScanCursors::Save(ScanPosition pos) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_++;
  positions_.emplace(id, std::move(pos));
  order_.push_back(id);
  while (order_.size() > kMaxCursors) {
    positions_.erase(order_.front());
    order_.pop_front();
  }
  return id;
}

std::optional<ScanPosition> ScanCursors::Find(uint64_t cursor) const {
  if (cursor == 0) return ScanPosition{};
  std::lock_guard lock(mu_);
  auto it = positions_.find(cursor);
  if (it == positions_.end()) return std::nullopt;
  return it->second;
}

}  // namespace bf
