// Status and Result: how every bridgefeed library reports a caller's
// mistake or an environmental failure. A broken invariant is not a Status:
// it aborts (see BF_CHECK).
//
// Thread safety: both are plain values. Const access from many threads is
// safe; a copy is independent of its source. An OK Status holds no message
// and costs no allocation.
//
// The codes say what went wrong, not how a caller shows it: the server maps
// them onto its wire error codes (engine/server/wire_error.h), tools print
// ToString().
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace bf {

enum class Code {
  kOk = 0,
  kInvalid,     // syntax, arity, out of range, malformed input
  kWrongDim,    // vector length differs from the database dimension
  kBadVector,   // NaN, infinity, all-zero
  kNotFound,    // the named object does not exist
  kBusy,        // an exclusive operation is already running
  kIOError,     // disk or OS failure; may succeed if retried
  kCorruption,  // stored data failed a check; retrying will not help
  kInternal,    // a bug or an unexpected library failure
  kClusterDown, // cluster mode's write log has no quorum; nothing was stored
  kTryAgain,    // the write log did not answer in time; the write may be applied
};

// The code's name as spelled in the enum without its k: "Invalid", "WrongDim", ...
const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  static Status OK() { return Status(); }
  static Status Invalid(std::string msg) { return {Code::kInvalid, std::move(msg)}; }
  static Status WrongDim(std::string msg) { return {Code::kWrongDim, std::move(msg)}; }
  static Status BadVector(std::string msg) { return {Code::kBadVector, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status Busy(std::string msg) { return {Code::kBusy, std::move(msg)}; }
  static Status IOError(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }
  static Status ClusterDown(std::string msg) { return {Code::kClusterDown, std::move(msg)}; }
  static Status TryAgain(std::string msg) { return {Code::kTryAgain, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return msg_; }

  // "WrongDim: expected 64, got 3"; "OK" for success. For logs and tools.
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), msg_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string msg_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok()) std::get<Status>(v_) = Status::Internal("Result from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // REQUIRES: !ok()
  const Status& status() const { return std::get<Status>(v_); }
  // REQUIRES: ok()
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

[[noreturn]] void CheckFailed(const char* file, int line, const char* expr);

}  // namespace bf

// Invariant check that stays on in release builds: a failure is a bug.
#define BF_CHECK(cond) \
  do { if (!(cond)) ::bf::CheckFailed(__FILE__, __LINE__, #cond); } while (0)

// Return early from a function returning Status or Result<T>.
#define BF_RETURN_IF_ERROR(expr)            \
  do {                                      \
    ::bf::Status bf_status_ = (expr);       \
    if (!bf_status_.ok()) return bf_status_; \
  } while (0)
