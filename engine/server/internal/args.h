// Argument parsing for the handlers: the syntax of a command's words (is
// COUNT followed by an integer, which form a VECTOR takes). Value rules (id
// lengths, COUNT range, openness range, langs) are the engine's and are not
// checked here, so each is checked once.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "embeddings/status.h"
#include "embeddings/vector.h"
#include "engine/server/commands.h"

namespace bf::internal {

inline constexpr std::string_view kSyntaxError = "ERR syntax error";

// Strict decimal integer (no '+', no blanks), as Redis.
bool ParseInt(std::string_view s, int64_t* out);
// A finite decimal number.
bool ParseDouble(std::string_view s, double* out);

// COUNT's value: an integer (clamped to int's range; the engine checks the
// range), else the engine's CountError().
Status ParseCount(std::string_view s, int* out);
// OPENNESS's value: a finite number (the engine checks the range), else the
// engine's OpennessError().
Status ParseOpenness(std::string_view s, double* out);
// TS's value: Invalid "TS must be an integer (Unix seconds)".
Status ParseTs(std::string_view s, int64_t* out);
// Canonical upper-case culture; Invalid in the wire's wording unless 1..16
// bytes of [A-Za-z0-9_-] (the store's rule).
Result<std::string> ParseCulture(std::string_view s);

// args[*i] is the word after VECTOR: FP32 <blob> or VALUES <n> <v>... On
// success advances *i past the vector. Invalid "syntax error" for a missing
// or unknown form; the vector's own errors (WRONGDIM, BADVECTOR, ERR value)
// otherwise.
Result<Vector> ParseVectorArg(CommandArgs args, size_t* i, int dim);
// The optional WITHVECTOR word of USER.GET and POST.GET (args[2..]); false
// for any other word.
bool ParseWithVector(CommandArgs args, bool* with_vector);

// "a,b" -> {"a", "b"}; "" -> {}; empty items are kept ("a," -> {"a", ""}).
std::vector<std::string> SplitCommas(std::string_view s);
std::string JoinCommas(const std::vector<std::string>& items);

// The event words of engine/store/limits.h in order, joined by sep, the
// last by last_sep: EventTypeWords("|", "|") is "VIEW|LIKE|...|REPORT".
std::string EventTypeWords(std::string_view sep, std::string_view last_sep);

// Redis's wording for a wrong argument count and an unknown subcommand.
std::string ArityError(std::string_view fullname);
std::string UnknownSubcommand(std::string_view sub, std::string_view cmd);

// Replies with the Status and returns true when it is an error.
bool Failed(const Status& s, RespWriter& w);
// Replies the error and returns false: for parsers that return bool.
template <typename E>
bool Refuse(RespWriter& w, const E& error) {
  w.Error(error);
  return false;
}
// Replies +OK, or the error.
void OkOrError(const Status& s, RespWriter& w);
// For a lookup that may find nothing: replies the error or nil and returns
// nullptr, else returns the value found (owned by r).
template <typename T>
const T* FoundOrReply(const Result<std::optional<T>>& r, RespWriter& w) {
  if (!r.ok()) {
    w.Error(r.status());
    return nullptr;
  }
  if (!r->has_value()) {
    w.Nil();
    return nullptr;
  }
  return &**r;
}

}  // namespace bf::internal
