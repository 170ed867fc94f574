#include "engine/server/internal/args.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>

#include "engine/engine.h"
#include "engine/store/limits.h"
#include "engine/store/store.h"

namespace bf::internal {

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty() || s[0] == '+') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseDouble(std::string_view s, double* out) {
  if (s.empty() || s[0] == '+') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(*out);
}

Status ParseCount(std::string_view s, int* out) {
  int64_t n;
  if (!ParseInt(s, &n)) return CountError();
  *out = static_cast<int>(std::clamp<int64_t>(n, INT_MIN, INT_MAX));
  return Status::OK();
}

Status ParseOpenness(std::string_view s, double* out) {
  if (!ParseDouble(s, out)) return OpennessError();
  return Status::OK();
}

Status ParseTs(std::string_view s, int64_t* out) {
  if (!ParseInt(s, out)) return Status::Invalid("TS must be an integer (Unix seconds)");
  return Status::OK();
}

Result<std::string> ParseCulture(std::string_view s) {
  // The store's rule, with the wire's wording (docs/protocol.md).
  auto culture = CanonicalCulture(s);
  if (culture.ok()) return culture;
  return Status::Invalid("culture must be 1 to " + std::to_string(kMaxCultureBytes) +
                         " characters of A-Z a-z 0-9 _ -");
}

Result<Vector> ParseVectorArg(CommandArgs args, size_t* i, int dim) {
  if (*i >= args.size()) return Status::Invalid("syntax error");
  const std::string_view form = args[*i];
  if (EqualsIgnoreCase(form, "FP32")) {
    if (*i + 1 >= args.size()) return Status::Invalid("syntax error");
    const std::string_view blob = args[*i + 1];
    *i += 2;
    return ParseFp32(blob, dim);
  }
  if (EqualsIgnoreCase(form, "VALUES")) {
    if (*i + 1 >= args.size()) return Status::Invalid("syntax error");
    const std::string_view count = args[*i + 1];
    const size_t avail = args.size() - (*i + 2);
    int64_t n = 0;
    size_t take = 0;
    if (ParseInt(count, &n) && n >= 0) take = std::min<size_t>(static_cast<size_t>(n), avail);
    std::vector<std::string_view> values(args.begin() + *i + 2, args.begin() + *i + 2 + take);
    *i += 2 + take;
    return ParseValues(count, values, dim);
  }
  return Status::Invalid("syntax error");
}

bool ParseWithVector(CommandArgs args, bool* with_vector) {
  for (size_t i = 2; i < args.size(); ++i) {
    if (!EqualsIgnoreCase(args[i], "WITHVECTOR")) return false;
    *with_vector = true;
  }
  return true;
}

std::vector<std::string> SplitCommas(std::string_view s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t from = 0;
  for (;;) {
    const size_t at = s.find(',', from);
    out.emplace_back(s.substr(from, at == std::string_view::npos ? s.npos : at - from));
    if (at == std::string_view::npos) return out;
    from = at + 1;
  }
}

std::string JoinCommas(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i];
  }
  return out;
}

std::string EventTypeWords(std::string_view sep, std::string_view last_sep) {
  const int last = static_cast<int>(kLastEventType);
  std::string out;
  for (int t = 0; t <= last; ++t) {
    if (t > 0) out += t == last ? last_sep : sep;
    out += EventTypeWord(static_cast<EventType>(t));
  }
  return out;
}

std::string ArityError(std::string_view fullname) {
  return "ERR wrong number of arguments for '" + ToLower(fullname) + "' command";
}

std::string UnknownSubcommand(std::string_view sub, std::string_view cmd) {
  return "ERR unknown subcommand '" + std::string(sub.substr(0, 128)) + "'. Try " +
         std::string(cmd) + " HELP.";
}

bool Failed(const Status& s, RespWriter& w) {
  if (s.ok()) return false;
  w.Error(s);
  return true;
}

void OkOrError(const Status& s, RespWriter& w) {
  if (!Failed(s, w)) w.Ok();
}

}  // namespace bf::internal
