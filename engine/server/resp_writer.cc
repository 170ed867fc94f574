#include "engine/server/resp_writer.h"

#include <charconv>

#include "engine/server/wire_error.h"

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

void RespWriter::Error(const Status& status) { Error(WireError(status)); }

void RespWriter::Int(int64_t v) { Header(':', v); }

void RespWriter::Bulk(std::string_view s) {
  Header('$', static_cast<int64_t>(s.size()));
  out_->append(s);
  out_->append("\r\n");
}

void RespWriter::Array(size_t n) { Header('*', static_cast<int64_t>(n)); }

void RespWriter::Number(std::string_view text) {
  if (protocol_ == Protocol::kResp2) return Bulk(text);
  out_->push_back(',');
  out_->append(text == "-nan" ? std::string_view("nan") : text);  // RESP3 has one nan
  out_->append("\r\n");
}

void RespWriter::Double(double v) { Number(FormatDouble(v)); }
void RespWriter::Float(float v) { Number(FormatFloat(v)); }

void RespWriter::Map(const MapReply& map) {
  if (protocol_ == Protocol::kResp3) {
    Header('%', static_cast<int64_t>(map.n_));
  } else {
    Array(map.n_ * 2);  // RESP2 has no map type: the pairs go flat
  }
  out_->append(map.body_);
}

void RespWriter::List(const ListReply& list) {
  Array(list.n_);
  out_->append(list.body_);
}

ListReply& ListReply::Map(const MapReply& m) {
  Add().Map(m);
  return *this;
}

ListReply& ListReply::List(const ListReply& l) {
  Add().List(l);
  return *this;
}

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
