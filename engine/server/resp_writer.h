// RespWriter: appends replies to an output string in the connection's
// protocol, RESP2 (the default) or RESP3 (after HELLO 3). Handlers write one
// reply shape; the protocol decides the bytes:
//
//   reply      RESP2                          RESP3
//   Map        *2n flat field/value array     %n map
//   Double     $ bulk string "0.25"           ,0.25 double
//   Nil        $-1                            _ null
//   NilArray   *-1                            _ null
//
// Numbers go out in their shortest round-trip decimal form (FormatDouble);
// in RESP3 inf, -inf and nan are written as the spec spells them.
//
// Replies of field/value pairs and nested lists are built with MapReply and
// ListReply, which count their elements themselves: no handler writes a
// hand-counted array length.
//
// Thread safety: a writer, map or list is used by one thread at a time.
// Ownership: the writer appends to a string it does not own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "embeddings/status.h"

namespace bf {

enum class Protocol {
  kResp2,  // the default, byte-for-byte Redis's RESP2
  kResp3,  // after HELLO 3: maps, doubles and nulls
};

class MapReply;
class ListReply;

class RespWriter {
 public:
  // out must outlive the writer.
  explicit RespWriter(std::string* out, Protocol protocol = Protocol::kResp2)
      : out_(out), protocol_(protocol) {}

  Protocol protocol() const { return protocol_; }
  // HELLO switches the protocol before writing its own reply.
  void set_protocol(Protocol protocol) { protocol_ = protocol; }

  void Simple(std::string_view s);  // +s  (s must not hold \r or \n)
  void Ok() { out_->append("+OK\r\n"); }
  // -msg; \r and \n in msg become spaces so the reply stays one line.
  void Error(std::string_view msg);
  // -<wire code> <message> (wire_error.h). REQUIRES: !status.ok()
  void Error(const Status& status);
  void Int(int64_t v);
  void Bulk(std::string_view s);
  void Nil() { out_->append(protocol_ == Protocol::kResp3 ? "_\r\n" : "$-1\r\n"); }
  void NilArray() { out_->append(protocol_ == Protocol::kResp3 ? "_\r\n" : "*-1\r\n"); }
  // Header of an array of n elements; the caller appends them next. For a
  // list whose length is a container's size; pairs go through MapReply.
  void Array(size_t n);
  void Double(double v);  // RESP2 bulk string, RESP3 double; shortest round-trip form
  void Float(float v);    // as Double, in the shortest form that reads back as the float
  // A built map or list, with the length it counted.
  void Map(const MapReply& map);
  void List(const ListReply& list);
  // Replies already written by another writer of this protocol (EXEC
  // collects its commands' replies, then writes them in queue order).
  void Raw(std::string_view replies) { out_->append(replies); }

 private:
  void Header(char type, int64_t n);
  // A decimal number: RESP2 bulk string, RESP3 double.
  void Number(std::string_view text);
  std::string* out_;
  Protocol protocol_;
};

// Elements of a list, collected in the writer's protocol, then written with
// their count by RespWriter::List. Each Add* is one element.
class ListReply {
 public:
  explicit ListReply(Protocol protocol = Protocol::kResp2) : protocol_(protocol) {}
  ListReply& Bulk(std::string_view s) { return Add().Bulk(s), *this; }
  ListReply& Simple(std::string_view s) { return Add().Simple(s), *this; }
  ListReply& Int(int64_t v) { return Add().Int(v), *this; }
  ListReply& Double(double v) { return Add().Double(v), *this; }
  ListReply& Map(const MapReply& m);
  ListReply& List(const ListReply& l);
  Protocol protocol() const { return protocol_; }
  size_t size() const { return n_; }

 private:
  friend class RespWriter;
  // A writer for the next element (made per call, so a copy stays valid).
  RespWriter Add() { return ++n_, RespWriter(&body_, protocol_); }
  std::string body_;
  Protocol protocol_;
  size_t n_ = 0;
};

// Field/value pairs, collected in the writer's protocol, then written by
// RespWriter::Map: RESP2 as a flat array of 2n elements, RESP3 as a map of n
// pairs (what USER.GET, POST.GET, INDEX.INFO, HELLO, CONFIG GET, COMMAND DOCS
// and EXPLAIN items reply).
class MapReply {
 public:
  explicit MapReply(Protocol protocol = Protocol::kResp2) : protocol_(protocol) {}
  MapReply& Bulk(std::string_view field, std::string_view v) { return Key(field).Bulk(v), *this; }
  MapReply& Int(std::string_view field, int64_t v) { return Key(field).Int(v), *this; }
  MapReply& Double(std::string_view field, double v) { return Key(field).Double(v), *this; }
  MapReply& Float(std::string_view field, float v) { return Key(field).Float(v), *this; }
  MapReply& Map(std::string_view field, const MapReply& v) { return Key(field).Map(v), *this; }
  MapReply& List(std::string_view field, const ListReply& v) { return Key(field).List(v), *this; }
  Protocol protocol() const { return protocol_; }
  size_t pairs() const { return n_; }

 private:
  friend class RespWriter;
  // Writes the field; returns a writer for its one value.
  RespWriter Key(std::string_view field) {
    ++n_;
    RespWriter w(&body_, protocol_);
    w.Bulk(field);
    return w;
  }
  std::string body_;
  Protocol protocol_;
  size_t n_ = 0;
};

// The shortest decimal text that reads back as v ("0.3", "1e-07", "inf").
std::string FormatDouble(double v);
std::string FormatFloat(float v);

}  // namespace bf
