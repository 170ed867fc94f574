// SlowLog: the commands that took longer than slowlog-log-slower-than, newest
// first, at most slowlog-max-len of them, as Redis's SLOWLOG keeps them.
//
// An entry keeps at most kMaxArgs arguments of kMaxArgLen bytes each (the
// rest summarised as Redis does), so a huge command costs little here.
// Arguments of AUTH and HELLO are replaced by "(redacted)": they may hold a
// password.
//
// Thread safety: every method is safe from any thread (one mutex; only slow
// commands take it). Ownership: entries are copies.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bf {

struct SlowLogEntry {
  uint64_t id = 0;         // grows by one per entry, from 0; RESET does not restart it
  int64_t unix_time = 0;   // when the command finished, seconds
  int64_t usec = 0;        // how long it ran
  std::vector<std::string> args;  // name first; trimmed as above
  std::string addr;        // client's ip:port
  std::string name;        // client's name, "" when none
};

class SlowLog {
 public:
  static constexpr size_t kMaxArgs = 32;
  static constexpr size_t kMaxArgLen = 128;

  // Adds an entry and drops the oldest past max_len (max_len 0 keeps none).
  void Record(int64_t usec, std::span<const std::string_view> args, std::string_view addr,
              std::string_view name, size_t max_len);
  // The newest min(n, Len()) entries, newest first; n < 0 means all.
  std::vector<SlowLogEntry> Get(int64_t n) const;
  size_t Len() const;
  void Reset();

 private:
  mutable std::mutex mu_;
  std::deque<SlowLogEntry> entries_;  // GUARDED_BY(mu_), newest first
  uint64_t next_id_ = 0;              // GUARDED_BY(mu_)
};

}  // namespace bf
