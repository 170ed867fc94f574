// Helpers shared by the store tests and the crash child (no gtest here).
#pragma once

#include <stdlib.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>

#include "engine/store/store.h"

namespace bf::test {

// prefix + decimal i. (Appending sidesteps GCC 12's false -Wrestrict
// warning on `"literal" + std::to_string(i)`.)
inline std::string Name(const char* prefix, int64_t i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

// A new empty folder under the system temp folder; the caller removes it.
inline std::string MakeTempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "bf-store-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) abort();
  return tmpl;
}

// Deterministic vector with awkward bit patterns (denormals, -0.0, odd
// mantissas) so a round trip through anything lossy shows up. Finite and
// non-zero, not normalised.
inline Vector TestVector(int dim, uint64_t seed) {
  Vector v(dim);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int i = 0; i < dim; ++i) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 29;
    uint32_t bits = static_cast<uint32_t>(x);
    if (((bits >> 23) & 0xff) == 0xff) bits &= ~(1u << 30);  // no inf/NaN
    v[i] = std::bit_cast<float>(bits);
  }
  v[0] = 1.0f;                                     // never all zero
  if (dim > 1) v[1] = -0.0f;                       // sign of zero must survive
  if (dim > 2) v[2] = std::bit_cast<float>(1u);    // smallest denormal
  return v;
}

inline bool SameBits(const Vector& a, const Vector& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

inline PostRecord TestPost(std::string id, int dim, uint64_t seed, std::string culture = "us") {
  PostRecord p;
  p.id = std::move(id);
  p.author = Name("author-", static_cast<int64_t>(seed % 7));
  p.culture = std::move(culture);
  p.lang = "en";
  p.ts = 1700000000 + static_cast<int64_t>(seed);
  p.tags = {"cats", std::string("b\0rds", 5)};
  p.title = Name("post ", static_cast<int64_t>(seed));
  p.vector = TestVector(dim, seed);
  return p;
}

// Ids the crash child writes: binary, with a NUL byte.
inline std::string CrashPostId(int i) {
  std::string id("crash\0", 6);
  id += std::to_string(i);
  return id;
}
inline constexpr int kCrashDim = 16;

}  // namespace bf::test
