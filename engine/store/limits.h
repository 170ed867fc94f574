// The data rules every layer checks against, in one place: id, lang and culture limits, the
// event types with their wire words and kinds. The wire, the engine, the store and the
// importer word their errors in their own way but take the numbers and words from here.
// Thread safety: everything here is a pure function.
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

// Invalid "<what> id must be 1 to 128 bytes" unless ValidId(id).
Status CheckId(std::string_view what, std::string_view id);
// Invalid "lang must be 1 to 16 bytes" unless ValidLang(lang).
Status CheckLang(std::string_view lang);

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

}  // namespace bf
