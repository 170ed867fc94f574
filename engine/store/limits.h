// The data rules every layer checks against, in one place: id, lang and culture limits, the
// "no culture" code, the page size and openness ranges, the event types with their wire words
// and kinds. The wire, the engine, the store and the importer word their errors in their own
// way but take the numbers and words from here.
//
// Errors: the Check* functions return OK or Invalid with the message they name; nothing else.
// Thread safety: everything here is a constant or a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "embeddings/status.h"

namespace bf {

inline constexpr size_t kMaxIdBytes = 128;      // user, post and author ids: 1 to 128 bytes
inline constexpr size_t kMaxLangBytes = 16;     // a lang tag: 1 to 16 bytes
inline constexpr size_t kMaxCultureBytes = 16;  // a culture: 1 to 16 of [A-Za-z0-9_-]

inline bool ValidId(std::string_view id) { return !id.empty() && id.size() <= kMaxIdBytes; }
inline bool ValidLang(std::string_view l) { return !l.empty() && l.size() <= kMaxLangBytes; }

// Cultures are stored as small codes the store assigns on first use (Store::CultureCode).
// Code 0 is the empty culture: a user without a culture, or counters from such viewers. A post
// always has a real culture, so its code is never kNoCulture.
inline constexpr uint16_t kNoCulture = 0;

// FEED and SIMILAR pages: COUNT 1 to kMaxPageSize.
inline constexpr int kMaxPageSize = 500;

// Invalid "<what> id must be 1 to 128 bytes" unless ValidId(id).
Status CheckId(std::string_view what, std::string_view id);
// Invalid "lang must be 1 to 16 bytes" unless ValidLang(lang).
Status CheckLang(std::string_view lang);
// The errors for a COUNT or an OPENNESS out of range; a parser in front of
// the engine gives the same for one that is not a number.
// Invalid "COUNT must be an integer from 1 to 500".
Status CountError();
// Invalid "OPENNESS must be a number from 0 to 1".
Status OpennessError();
// CountError() unless 1 <= count <= kMaxPageSize.
Status CheckCount(int count);
// OpennessError() unless 0 <= openness <= 1 (NaN fails).
Status CheckOpenness(double openness);

// ts (posts and events): seconds since the Unix epoch, from 2000-01-01 to one day past now.
// Milliseconds (1733000000000) or a sentinel (INT64_MAX) would sit at the front of every
// fresh list for ever.
inline constexpr int64_t kMinTs = 946684800;   // 2000-01-01T00:00:00Z
inline constexpr int64_t kMaxTsAhead = 86400;  // clock skew allowed: one day
// Invalid "ts out of range: expected seconds since the Unix epoch from 946684800 (2000-01-01)
// to now + 86400 (1 day)" unless kMinTs <= ts <= now + kMaxTsAhead; a ts that looks like
// milliseconds says so at the end ("; 1733000000000 looks like milliseconds").
Status CheckTs(int64_t ts, int64_t now);

// Stored as one byte in the event log: append new types at the end.
enum class EventType : uint8_t { kView, kLike, kSave, kShare, kComment, kHide, kReport };
inline constexpr EventType kLastEventType = EventType::kReport;

// VIEW LIKE SAVE SHARE COMMENT HIDE REPORT, case-insensitive; nullopt for any other word.
std::optional<EventType> ParseEventType(std::string_view word);
// The upper-case wire word of a type.
std::string_view EventTypeWord(EventType type);

// LIKE SAVE SHARE COMMENT count a positive; HIDE and REPORT a negative; VIEW an impression.
inline bool IsPositive(EventType t) {
  return t == EventType::kLike || t == EventType::kSave || t == EventType::kShare ||
         t == EventType::kComment;
}
inline bool IsNegative(EventType t) { return t == EventType::kHide || t == EventType::kReport; }

// What a post's counters count: people, not clicks. Each user counts at most once per post
// and engagement kind; the kind of an event is the counter it moves. Stored as one byte.
enum class Engagement : uint8_t { kImpression = 0, kPositive = 1, kNegative = 2 };
inline Engagement EngagementOf(EventType t) {
  return IsPositive(t) ? Engagement::kPositive
                       : IsNegative(t) ? Engagement::kNegative : Engagement::kImpression;
}

}  // namespace bf
