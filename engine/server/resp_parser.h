// RespParser: a resumable RESP2 request parser, one per connection.
//
// Bytes go in with Prepare/Commit (read straight into the parser's buffer) or
// Append; Next() then yields one command at a time, or says it needs more
// bytes, or reports a protocol error. Both request forms are accepted:
// multibulk (`*N\r\n$len\r\n...`) and inline (`PING hello\r\n`, split on
// blanks with Redis's rules for "..." and '...' quoting).
//
// Limits are checked before anything is buffered for the item they govern:
// a declared bulk length or argument count past the limit fails as soon as its
// header line is read. Consumed bytes are dropped once, by Compact().
//
// Errors: a malformed or oversized request is kError with a message; the
// parser never throws. Not thread-safe: a connection owns its parser, and
// the argument views point into the parser's buffer (see Next).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bf {

struct RespLimits {
  size_t max_bulk_len = 1 << 20;          // bytes in one bulk string
  size_t max_args = 4096;                 // arguments in one command
  size_t max_inline_len = 64 << 10;       // bytes in one inline line (also header lines)
  size_t max_query_buffer = 64ull << 20;  // unconsumed input held for one connection
};

class RespParser {
 public:
  enum class State { kCommand, kNeedMore, kError };

  explicit RespParser(const RespLimits& limits = {});

  // Writable space of at least min_bytes at the end of the buffer; pass the
  // number of bytes actually written to Commit(). Invalidates args views.
  std::span<char> Prepare(size_t min_bytes);
  void Commit(size_t n);
  // Prepare + copy + Commit.
  void Append(std::string_view bytes);

  // kCommand: *args holds the command's arguments (at least one). The views
  // stay valid until the next Next, Prepare, Append or Compact.
  // kNeedMore: the buffered bytes end inside a command.
  // kError: error() says why ("Protocol error: ..."); the parser is then
  // unusable and the connection should be closed after replying.
  State Next(std::vector<std::string_view>* args);

  const std::string& error() const { return error_; }

  // Drops consumed bytes (once per read, not per command). Invalidates views.
  void Compact();

  // Bytes received and not yet returned as part of a command.
  size_t buffered() const { return end_ - start_; }
  // Bytes reserved for input (tests: memory per connection stays bounded).
  size_t capacity() const { return cap_; }

 private:
  State Fail(std::string msg);
  State ParseInline(std::vector<std::string_view>* args, bool* skipped);
  // Finds the end of a header line starting at pos_: sets *line_end to the
  // index of its '\r'. false if the line is not complete yet.
  bool FindLine(size_t* line_end) const;
  bool SplitInline(std::string_view line);

  RespLimits limits_;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  size_t start_ = 0;  // first byte of the command being parsed
  size_t pos_ = 0;    // next byte to look at
  size_t end_ = 0;    // one past the last received byte

  // Multibulk progress of the current command.
  int64_t args_left_ = 0;  // 0: not inside a multibulk
  int64_t bulk_len_ = -1;  // -1: expecting a `$len` header next
  std::vector<std::pair<size_t, size_t>> arg_spans_;  // offset from start_, length
  std::vector<std::string> inline_args_;  // unescaped inline arguments
  std::string error_;
  bool failed_ = false;
};

}  // namespace bf
