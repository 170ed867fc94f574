#include "engine/server/resp_parser.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace bf {
namespace {

constexpr size_t kInitialBuffer = 16 << 10;
// A buffer grown past this is released once it is empty again.
constexpr size_t kShrinkAbove = 1 << 20;

// Strict integer: optional '-', digits, nothing else (as Redis's string2ll).
bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty() || s[0] == '+') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int HexValue(char c) {
  if (c <= '9') return c - '0';
  return (c | 0x20) - 'a' + 10;
}
bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == '\0';
}

}  // namespace

RespParser::RespParser(const RespLimits& limits) : limits_(limits) {}

std::span<char> RespParser::Prepare(size_t min_bytes) {
  if (cap_ - end_ < min_bytes) {
    Compact();
    if (cap_ - end_ < min_bytes) {
      size_t cap = cap_ ? cap_ : kInitialBuffer;
      while (cap - end_ < min_bytes) cap *= 2;
      // Past the query buffer limit the parser fails, so doubling beyond it
      // would only reserve memory a client can never fill: a client at the
      // 64 MiB limit costs 64 MiB, not 128.
      cap = std::min(cap, std::max(limits_.max_query_buffer, end_) + min_bytes);
      // Not zero-filled: only the bytes received are ever touched.
      auto grown = std::make_unique_for_overwrite<char[]>(cap);
      if (end_) std::memcpy(grown.get(), buf_.get(), end_);
      buf_ = std::move(grown);
      cap_ = cap;
    }
  }
  return {buf_.get() + end_, cap_ - end_};
}

void RespParser::Commit(size_t n) { end_ += n; }

void RespParser::Append(std::string_view bytes) {
  if (bytes.empty()) return;
  auto space = Prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  Commit(bytes.size());
}

void RespParser::Compact() {
  if (start_ == 0) return;
  const size_t left = end_ - start_;
  if (left == 0 && cap_ > kShrinkAbove) {
    buf_.reset();
    cap_ = 0;
  } else if (left) {
    std::memmove(buf_.get(), buf_.get() + start_, left);
  }
  pos_ -= start_;
  end_ = left;
  start_ = 0;
}

RespParser::State RespParser::Fail(std::string msg) {
  failed_ = true;
  error_ = std::move(msg);
  return State::kError;
}

bool RespParser::FindLine(size_t* line_end) const {
  const char* base = buf_.get();
  const void* cr = std::memchr(base + pos_, '\r', end_ - pos_);
  if (cr == nullptr) return false;
  const size_t at = static_cast<const char*>(cr) - base;
  if (at + 1 >= end_) return false;  // the '\n' has not arrived yet
  *line_end = at;
  return true;
}

RespParser::State RespParser::Next(std::vector<std::string_view>* args) {
  args->clear();
  if (failed_) return State::kError;
  char* base = buf_.get();
  for (;;) {
    if (args_left_ == 0) {
      // Between commands.
      pos_ = start_;
      if (start_ == end_) return State::kNeedMore;
      if (base[start_] != '*') {
        bool skipped = false;
        const State st = ParseInline(args, &skipped);
        if (skipped) continue;
        return st;
      }
      size_t line_end;
      if (!FindLine(&line_end)) {
        if (end_ - start_ > limits_.max_inline_len) {
          return Fail("Protocol error: too big mbulk count string");
        }
        return State::kNeedMore;
      }
      int64_t n;
      if (!ParseInt64({base + start_ + 1, line_end - start_ - 1}, &n) ||
          n > static_cast<int64_t>(limits_.max_args)) {
        return Fail("Protocol error: invalid multibulk length");
      }
      pos_ = line_end + 2;
      if (n <= 0) {  // `*0` and `*-1` are skipped, as Redis does
        start_ = pos_;
        continue;
      }
      args_left_ = n;
      bulk_len_ = -1;
      arg_spans_.clear();
      arg_spans_.reserve(static_cast<size_t>(n));
    }
    while (args_left_ > 0) {
      if (bulk_len_ < 0) {
        if (pos_ == end_) return State::kNeedMore;
        size_t line_end;
        if (!FindLine(&line_end)) {
          if (end_ - pos_ > limits_.max_inline_len) {
            return Fail("Protocol error: too big bulk count string");
          }
          return State::kNeedMore;
        }
        if (base[pos_] != '$') {
          return Fail(std::string("Protocol error: expected '$', got '") + base[pos_] + "'");
        }
        int64_t len;
        if (!ParseInt64({base + pos_ + 1, line_end - pos_ - 1}, &len) || len < 0 ||
            len > static_cast<int64_t>(limits_.max_bulk_len)) {
          return Fail("Protocol error: invalid bulk length");
        }
        bulk_len_ = len;
        pos_ = line_end + 2;
      }
      const size_t need = static_cast<size_t>(bulk_len_) + 2;
      if (end_ - pos_ < need) {
        if (end_ - start_ > limits_.max_query_buffer) {
          return Fail("Protocol error: client query buffer limit reached");
        }
        return State::kNeedMore;
      }
      if (base[pos_ + bulk_len_] != '\r' || base[pos_ + bulk_len_ + 1] != '\n') {
        return Fail("Protocol error: expected CRLF after bulk string");
      }
      arg_spans_.emplace_back(pos_ - start_, static_cast<size_t>(bulk_len_));
      pos_ += need;
      bulk_len_ = -1;
      --args_left_;
    }
    // Complete: hand out views and consume.
    for (const auto& [off, len] : arg_spans_) args->emplace_back(base + start_ + off, len);
    start_ = pos_;
    return State::kCommand;
  }
}

RespParser::State RespParser::ParseInline(std::vector<std::string_view>* args, bool* skipped) {
  char* base = buf_.get();
  {
    const void* nl = std::memchr(base + start_, '\n', end_ - start_);
    if (nl == nullptr) {
      if (end_ - start_ > limits_.max_inline_len) {
        return Fail("Protocol error: too big inline request");
      }
      return State::kNeedMore;
    }
    const size_t at = static_cast<const char*>(nl) - base;
    size_t len = at - start_;
    if (len > limits_.max_inline_len) return Fail("Protocol error: too big inline request");
    if (len > 0 && base[start_ + len - 1] == '\r') --len;
    if (!SplitInline({base + start_, len})) {
      return Fail("Protocol error: unbalanced quotes in request");
    }
    start_ = pos_ = at + 1;
    if (inline_args_.empty()) {  // empty line: skipped, as Redis does
      *skipped = true;
      return State::kNeedMore;
    }
    if (inline_args_.size() > limits_.max_args) {
      return Fail("Protocol error: invalid multibulk length");
    }
    for (const auto& a : inline_args_) args->emplace_back(a);
    return State::kCommand;
  }
}

namespace {

// The character a backslash escape inside "..." stands for.
char Unescape(char e) {
  switch (e) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'a': return '\a';
    default: return e;
  }
}

}  // namespace

// Splits a line as redis-cli and Redis's inline protocol do: blanks separate
// words; "..." understands \n \r \t \b \a \xHH and \<any>; '...' only \';
// a closing quote must be followed by a blank or the end of the line.
bool RespParser::SplitInline(std::string_view line) {
  inline_args_.clear();
  size_t i = 0;
  const size_t n = line.size();
  for (;;) {
    while (i < n && IsBlank(line[i])) ++i;
    if (i == n) return true;
    std::string word;
    char quote = 0;  // the open quote, if any
    bool done = false;
    while (!done) {
      if (quote == 0) {
        if (i == n || IsBlank(line[i])) {
          done = true;
        } else if (line[i] == '"' || line[i] == '\'') {
          quote = line[i++];
        } else {
          word += line[i++];
        }
        continue;
      }
      if (i == n) return false;  // unbalanced quotes
      const char c = line[i];
      if (c == quote) {
        if (i + 1 < n && !IsBlank(line[i + 1])) return false;
        ++i;
        done = true;
      } else if (c == '\\' && quote == '"' && i + 3 < n && line[i + 1] == 'x' &&
                 IsHex(line[i + 2]) && IsHex(line[i + 3])) {
        word += static_cast<char>(HexValue(line[i + 2]) * 16 + HexValue(line[i + 3]));
        i += 4;
      } else if (c == '\\' && quote == '"' && i + 1 < n) {
        word += Unescape(line[i + 1]);
        i += 2;
      } else if (c == '\\' && quote == '\'' && i + 1 < n && line[i + 1] == '\'') {
        word += '\'';
        i += 2;
      } else {
        word += c;
        ++i;
      }
    }
    inline_args_.push_back(std::move(word));
  }
}

}  // namespace bf
