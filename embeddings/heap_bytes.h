// Heap bytes that standard containers hold, for INFO memory: counted from
// the containers themselves (capacity, element and bucket counts) with glibc
// malloc's chunk sizes and libstdc++'s node layouts, so a figure follows the
// structure rather than a guess per element.
//
// Thread safety: the functions read the container; the caller keeps it from
// changing meanwhile (the same lock as any other read).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bf::heap {

// What glibc malloc takes for a request of n bytes: n plus its 8-byte
// header, rounded up to 16, at least 32. 0 for no request.
constexpr uint64_t Chunk(uint64_t n) {
  if (n == 0) return 0;
  const uint64_t c = (n + 8 + 15) & ~uint64_t{15};
  return c < 32 ? 32 : c;
}

// A vector's buffer (capacity, not size: what it holds).
template <class T>
uint64_t Of(const std::vector<T>& v) {
  return Chunk(v.capacity() * sizeof(T));
}

// A string's buffer beyond the 15 bytes libstdc++ keeps inside the object.
inline uint64_t Of(const std::string& s) {
  return s.capacity() > 15 ? Chunk(s.capacity() + 1) : 0;
}

// An unordered_map or unordered_set: the bucket array and one node per
// element (next pointer, value, and the cached hash libstdc++ keeps for
// keys whose hash is not trivial, such as strings). Heap owned by the values
// themselves (a string key's buffer) is the caller's to add.
template <class Hashed>
uint64_t HashNodes(const Hashed& h, bool cached_hash) {
  const uint64_t node = Chunk(8 + sizeof(typename Hashed::value_type) + (cached_hash ? 8 : 0));
  const uint64_t buckets = h.bucket_count() > 1 ? Chunk(h.bucket_count() * 8) : 0;
  return buckets + h.size() * node;
}

// A std::set or std::map: one red-black node per element (colour and three
// pointers, then the value).
template <class Tree>
uint64_t TreeNodes(const Tree& t) {
  return t.size() * Chunk(32 + sizeof(typename Tree::value_type));
}

}  // namespace bf::heap
