// libFuzzer target: the two wire forms of a vector (embeddings/vector.h).
//
// Input: first byte picks the dimension (1..64); the rest is tried as an
// FP32 blob and, split on blanks, as a VALUES form (first word the count).
// Every accepted vector must pass CheckVector and keep its length, and
// Normalize must leave it unit-length and finite.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "embeddings/vector.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckAccepted(bf::Result<bf::Vector>& r, int dim) {
  if (!r.ok()) return;
  bf::Vector& v = r.value();
  Check(static_cast<int>(v.size()) == dim);
  Check(bf::CheckVector(v).ok());
  bf::Normalize(v);
  double norm = 0;
  for (float x : v) {
    Check(std::isfinite(x));
    norm += double{x} * x;
  }
  Check(std::fabs(norm - 1.0) < 1e-3);
  // The blob form round-trips.
  auto again = bf::ParseFp32(bf::ToFp32(v), dim);
  Check(again.ok() && again.value() == v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int dim = (data[0] % 64) + 1;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto blob = bf::ParseFp32(rest, dim);
  CheckAccepted(blob, dim);

  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    size_t j = i;
    while (j < rest.size() && rest[j] != ' ') ++j;
    if (j > i) words.push_back(rest.substr(i, j - i));
    i = j;
  }
  if (words.empty()) return 0;
  std::span<const std::string_view> values(words.data() + 1, words.size() - 1);
  auto parsed = bf::ParseValues(words[0], values, dim);
  CheckAccepted(parsed, dim);
  return 0;
}
