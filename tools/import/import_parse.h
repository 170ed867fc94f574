// Parsing and validating one JSON Lines record of the bulk import format
// (the files bridgefeed-gen writes, bridgefeed-import reads):
//   posts  {"id","author","culture","lang","ts","tags":[...],"title","text","vector":[...]}
//   users  {"id","culture","langs":[...],"openness","vector":[...]}
//   events {"user","post","type","ts"}
// Validation is the wire API's (api.md "Values"), so a file imports exactly
// what POST.ADD / USER.SET / EVENT would accept.
//
// Required fields: posts id, author, culture, vector; users id; events
// user, post, type. With a text model (UseTextModel) a post without "vector"
// takes the text vector of "title" and "text" in "lang", as POST.ADD does;
// "text" is encoded, not stored. Everything else is optional; a JSON null counts as
// absent; unknown fields are ignored (newer files load into older tools).
// ts is seconds since the epoch from 2000-01-01 to one day past the clock
// (CheckTs). A missing event ts takes the parser's default_ts; a missing
// post ts is kKeepTs: as POST.ADD, a replaced post keeps its stored ts and a
// new one gets the time it is written.
//
// Failure messages (the Status code is Invalid unless noted), where X is
// the field name:
//   empty line | invalid JSON | expected a JSON object | missing field "X"
//   field "X" must be a string | an integer | a number | an array of strings
//   field "X" must be 1 to 128 bytes                 (id, author, user, post)
//   field "culture" must be 1 to 16 bytes of [A-Za-z0-9_-]
//   field "lang" must be 1 to 16 bytes | field "langs" items must be 1 to 16 bytes
//   field "openness" must be in [0, 1]
//   ts out of range: expected seconds since the Unix epoch ...   (limits.h CheckTs)
//   field "vector" must be an array of numbers | field "vector" position i is not a number
//   WrongDim  "expected d, got n"                    (as the wire's WRONGDIM)
//   BadVector "NaN|infinity at position i", "value i is beyond the float32 range ...",
//             "all-zero vector" (embeddings; positions 1-based, underflow is 0)
//   unknown event type "X"
//   with a text model: missing field "vector" (or "title" or "text" to encode),
//   BadVector "no known words in text", text longer than N bytes
// The importer prints them as FILE:LINE: message.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "embeddings/status.h"
#include "embeddings/text/text_model.h"
#include "engine/store/store.h"

namespace bf {

// One line of events.jsonl.
struct ImportEvent {
  std::string user;
  std::string post;
  EventType type = EventType::kView;
  int64_t ts = 0;
};

// Parses lines one at a time, reusing its buffers. Not thread-safe: use one
// per thread.
class ImportParser {
 public:
  // REQUIRES: 1 <= dim <= kMaxDim. default_ts: the ts of records that give none. ts fields
  // are checked against the clock (or default_ts when later) at construction.
  ImportParser(int dim, int64_t default_ts);
  ~ImportParser();
  ImportParser(const ImportParser&) = delete;
  ImportParser& operator=(const ImportParser&) = delete;

  int dim() const { return dim_; }
  // Posts without a vector are encoded with model (not owned; must outlive
  // the parser; REQUIRES: model->dim() == dim()). nullptr: none (default).
  void UseTextModel(const text::TextModel* model) { text_model_ = model; }

  // On success: culture upper-cased, vector L2-normalised; the store fills
  // iid, seq and culture_code.
  Result<PostRecord> ParsePost(std::string_view line);
  // On success: openness -1 when absent, vector empty when absent, counters 0.
  Result<UserRecord> ParseUser(std::string_view line);
  // Event type names are case-insensitive, as the wire's option words.
  Result<ImportEvent> ParseEvent(std::string_view line);

  // Length of the line's "vector" array, or nullopt when the line is not a
  // JSON object with one: lets the caller take the dimension from a file's
  // first vector.
  std::optional<int> PeekVectorDim(std::string_view line);

 private:
  struct Impl;
  int dim_;
  int64_t default_ts_;
  int64_t clock_;  // now, for the ts range
  const text::TextModel* text_model_ = nullptr;
  std::unique_ptr<Impl> impl_;
};

// The wire's culture rule: 1..16 bytes of [A-Za-z0-9_-], returned upper
// case. Invalid: field "culture" must be 1 to 16 bytes of [A-Za-z0-9_-].
// (Named apart from the store's CanonicalCulture; same rule.)
Result<std::string> ImportCanonicalCulture(std::string_view culture);

}  // namespace bf
