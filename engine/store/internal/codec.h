// Byte-level encoding for the store's keys and values: fixed-width
// little-endian numbers, varint lengths, length-prefixed strings and raw
// float32 arrays (so vectors round-trip bit for bit). Big-endian 64-bit
// numbers are used inside keys, where byte order must match numeric order.
//
// Reader never reads past its input: every getter returns false on short or
// malformed input and the caller turns that into Status::Corruption.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bf::internal {

static_assert(std::endian::native == std::endian::little,
              "the codec stores host floats as little-endian bytes");

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}

  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { Raw(&v, sizeof v); }
  void U32(uint32_t v) { Raw(&v, sizeof v); }
  void U64(uint64_t v) { Raw(&v, sizeof v); }
  void I64(int64_t v) { Raw(&v, sizeof v); }
  void F32(float v) { Raw(&v, sizeof v); }
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      U8(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    U8(static_cast<uint8_t>(v));
  }
  // Varint length, then the bytes.
  void Str(std::string_view s) {
    Varint(s.size());
    out_->append(s.data(), s.size());
  }
  // Varint count, then count*4 raw bytes.
  void Floats(std::span<const float> v) {
    Varint(v.size());
    Raw(v.data(), v.size() * sizeof(float));
  }

 private:
  void Raw(const void* p, size_t n) { out_->append(static_cast<const char*>(p), n); }
  std::string* out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool U8(uint8_t* v) { return Raw(v, sizeof *v); }
  bool U16(uint16_t* v) { return Raw(v, sizeof *v); }
  bool U32(uint32_t* v) { return Raw(v, sizeof *v); }
  bool U64(uint64_t* v) { return Raw(v, sizeof *v); }
  bool I64(int64_t* v) { return Raw(v, sizeof *v); }
  bool F32(float* v) { return Raw(v, sizeof *v); }
  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (in_.empty()) return false;
      const auto byte = static_cast<uint8_t>(in_.front());
      in_.remove_prefix(1);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;  // more than 10 bytes: not a varint we wrote
  }
  bool Str(std::string* s) {
    uint64_t n = 0;
    if (!Varint(&n) || n > in_.size()) return false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool Floats(std::vector<float>* v) {
    uint64_t n = 0;
    if (!Varint(&n) || n > in_.size() / sizeof(float)) return false;
    v->resize(n);
    return Raw(v->data(), n * sizeof(float));
  }
  bool done() const { return in_.empty(); }
  size_t remaining() const { return in_.size(); }

 private:
  bool Raw(void* p, size_t n) {
    if (in_.size() < n) return false;
    if (n > 0) std::memcpy(p, in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  std::string_view in_;
};

// 8 bytes, most significant first: keys sort in numeric order.
inline void PutBigEndian64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline std::string BigEndian64(uint64_t v) {
  std::string s;
  PutBigEndian64(&s, v);
  return s;
}
// REQUIRES: b.size() >= 8; reads the first 8 bytes.
inline uint64_t DecodeBigEndian64(std::string_view b) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(b[i]);
  return v;
}

// The smallest key greater than every key starting with `prefix`; empty when
// there is none (prefix is all 0xff bytes), meaning "no upper bound".
inline std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(s.back());
    if (last != 0xff) {
      ++last;
      return s;
    }
    s.pop_back();
  }
  return s;
}

}  // namespace bf::internal
