#include "engine/server/slowlog.h"

#include <chrono>

#include "engine/server/commands.h"

namespace bf {
namespace {

std::vector<std::string> TrimArgs(std::span<const std::string_view> args) {
  std::vector<std::string> out;
  const bool secret = !args.empty() && (EqualsIgnoreCase(args[0], "AUTH") ||
                                        EqualsIgnoreCase(args[0], "HELLO"));
  const size_t keep = args.size() > SlowLog::kMaxArgs ? SlowLog::kMaxArgs - 1 : args.size();
  for (size_t i = 0; i < keep; ++i) {
    if (secret && i > 0) {
      out.emplace_back("(redacted)");
    } else if (args[i].size() > SlowLog::kMaxArgLen) {
      out.push_back(std::string(args[i].substr(0, SlowLog::kMaxArgLen)) + "... (" +
                    std::to_string(args[i].size() - SlowLog::kMaxArgLen) + " more bytes)");
    } else {
      out.emplace_back(args[i]);
    }
  }
  if (keep < args.size()) {
    out.push_back("... (" + std::to_string(args.size() - keep) + " more arguments)");
  }
  return out;
}

}  // namespace

void SlowLog::Record(int64_t usec, std::span<const std::string_view> args,
                     std::string_view addr, std::string_view name, size_t max_len) {
  SlowLogEntry e;
  e.unix_time = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  e.usec = usec;
  e.args = TrimArgs(args);
  e.addr = std::string(addr);
  e.name = std::string(name);
  std::lock_guard lock(mu_);
  e.id = next_id_++;
  entries_.push_front(std::move(e));
  while (entries_.size() > max_len) entries_.pop_back();
}

std::vector<SlowLogEntry> SlowLog::Get(int64_t n) const {
  std::lock_guard lock(mu_);
  const size_t count = n < 0 ? entries_.size() : std::min<size_t>(entries_.size(), n);
  return {entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(count)};
}

size_t SlowLog::Len() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void SlowLog::Reset() {
  std::lock_guard lock(mu_);
  entries_.clear();
}

}  // namespace bf
