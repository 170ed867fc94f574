// ScanCursors: where each SCAN cursor handed out stands, so the next call
// resumes right after the last id it returned. The cursor number is only a
// handle: the position is the last key, so a walk is stable under inserts and
// deletes (RocksDB key order), and every id present for the whole walk is
// returned once per kind.
//
// At most kMaxCursors positions are kept; the oldest is forgotten first
// (an abandoned walk costs nothing for long). A forgotten or never-issued
// cursor is not found: SCAN answers "ERR invalid cursor".
//
// Thread safety: safe from any thread (one mutex).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace bf {

// Posts first, then users; kDone once both are walked.
enum class ScanPhase { kPosts, kUsers, kDone };

struct ScanPosition {
  ScanPhase phase = ScanPhase::kPosts;
  std::string after;  // last id returned in this phase; "" = from the start
};

class ScanCursors {
 public:
  static constexpr size_t kMaxCursors = 4096;

  // Numbers start from the clock, so a cursor from before a restart is
  // unknown rather than someone else's position.
  ScanCursors();

  // A new cursor (never 0) for pos.
  uint64_t Save(ScanPosition pos);
  // The position of cursor; 0 is the start of a walk. nullopt if unknown.
  std::optional<ScanPosition> Find(uint64_t cursor) const;

 private:
  mutable std::mutex mu_;
  uint64_t next_ = 1;                                      // GUARDED_BY(mu_)
  std::unordered_map<uint64_t, ScanPosition> positions_;   // GUARDED_BY(mu_)
  std::deque<uint64_t> order_;                             // GUARDED_BY(mu_), oldest first
};

}  // namespace bf
