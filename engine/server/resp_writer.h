// RespWriter: appends RESP2 replies to an output string. RESP2 has no double
// type, so numbers with a fraction go out as bulk strings in their shortest
// round-trip decimal form.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "embeddings/status.h"

namespace bf {

class RespWriter {
 public:
  // out must outlive the writer.
  explicit RespWriter(std::string* out) : out_(out) {}

  void Simple(std::string_view s);  // +s  (s must not hold \r or \n)
  void Ok() { out_->append("+OK\r\n"); }
  // -msg; \r and \n in msg become spaces so the reply stays one line.
  void Error(std::string_view msg);
  // -<WireCode> <message>. REQUIRES: !status.ok()
  void Error(const Status& status) { Error(status.ToString()); }
  void Int(int64_t v);
  void Bulk(std::string_view s);
  void Nil() { out_->append("$-1\r\n"); }
  void NilArray() { out_->append("*-1\r\n"); }
  // Header of an array of n elements; the caller appends them next.
  void Array(size_t n);
  void Double(double v);  // bulk string, shortest round-trip form
  void Float(float v);    // bulk string, shortest form for a float

  std::string* out() { return out_; }

 private:
  void Header(char type, int64_t n);
  std::string* out_;
};

// The shortest decimal text that reads back as v ("0.3", "1e-07", "inf").
std::string FormatDouble(double v);
std::string FormatFloat(float v);

}  // namespace bf
