#include "engine/store/limits.h"

#include <string>

namespace bf {
namespace {

constexpr std::string_view kEventWords[] = {"VIEW",    "LIKE", "SAVE",  "SHARE",
                                            "COMMENT", "HIDE", "REPORT"};
static_assert(std::size(kEventWords) == static_cast<size_t>(kLastEventType) + 1);

bool SameUpper(std::string_view upper, std::string_view word) {
  if (upper.size() != word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != upper[i]) return false;
  }
  return true;
}

}  // namespace

Status CheckId(std::string_view what, std::string_view id) {
  if (ValidId(id)) return Status::OK();
  return Status::Invalid(std::string(what) + " id must be 1 to " + std::to_string(kMaxIdBytes) +
                         " bytes");
}

Status CheckLang(std::string_view lang) {
  if (ValidLang(lang)) return Status::OK();
  return Status::Invalid("lang must be 1 to " + std::to_string(kMaxLangBytes) + " bytes");
}

Status CountError() {
  return Status::Invalid("COUNT must be an integer from 1 to " + std::to_string(kMaxPageSize));
}

Status OpennessError() { return Status::Invalid("OPENNESS must be a number from 0 to 1"); }

Status CheckCount(int count) {
  if (count >= 1 && count <= kMaxPageSize) return Status::OK();
  return CountError();
}

Status CheckOpenness(double openness) {
  if (openness >= 0.0 && openness <= 1.0) return Status::OK();
  return OpennessError();
}

Status CheckTs(int64_t ts, int64_t now) {
  if (ts >= kMinTs && ts <= now + kMaxTsAhead) return Status::OK();
  std::string msg = "ts out of range: expected seconds since the Unix epoch from " +
                    std::to_string(kMinTs) + " (2000-01-01) to now + " +
                    std::to_string(kMaxTsAhead) + " (1 day)";
  // Milliseconds of a date from 2000 to 2100.
  if (ts >= kMinTs * 1000 && ts <= 4102444800LL * 1000)
    msg += "; " + std::to_string(ts) + " looks like milliseconds";
  return Status::Invalid(std::move(msg));
}

std::optional<EventType> ParseEventType(std::string_view word) {
  for (size_t i = 0; i < std::size(kEventWords); ++i) {
    if (SameUpper(kEventWords[i], word)) return static_cast<EventType>(i);
  }
  return std::nullopt;
}

std::string_view EventTypeWord(EventType type) {
  return kEventWords[static_cast<size_t>(type)];
}

}  // namespace bf
