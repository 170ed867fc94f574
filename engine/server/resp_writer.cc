#include "engine/server/resp_writer.h"

#include <charconv>

namespace bf {

void RespWriter::Header(char type, int64_t n) {
  char buf[24];
  buf[0] = type;
  auto [p, ec] = std::to_chars(buf + 1, buf + sizeof(buf) - 2, n);
  (void)ec;
  *p++ = '\r';
  *p++ = '\n';
  out_->append(buf, p - buf);
}

void RespWriter::Simple(std::string_view s) {
  out_->push_back('+');
  out_->append(s);
  out_->append("\r\n");
}

void RespWriter::Error(std::string_view msg) {
  out_->push_back('-');
  const size_t at = out_->size();
  out_->append(msg);
  for (size_t i = at; i < out_->size(); ++i) {
    if ((*out_)[i] == '\r' || (*out_)[i] == '\n') (*out_)[i] = ' ';
  }
  out_->append("\r\n");
}

void RespWriter::Int(int64_t v) { Header(':', v); }

void RespWriter::Bulk(std::string_view s) {
  Header('$', static_cast<int64_t>(s.size()));
  out_->append(s);
  out_->append("\r\n");
}

void RespWriter::Array(size_t n) { Header('*', static_cast<int64_t>(n)); }

void RespWriter::Double(double v) { Bulk(FormatDouble(v)); }
void RespWriter::Float(float v) { Bulk(FormatFloat(v)); }

std::string FormatDouble(double v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, p) : std::string("nan");
}

std::string FormatFloat(float v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, p) : std::string("nan");
}

}  // namespace bf
