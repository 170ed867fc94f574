#include "embeddings/vector.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include <Eigen/Core>

namespace bf {
namespace {

using MapC = Eigen::Map<const Eigen::VectorXf>;
using Map = Eigen::Map<Eigen::VectorXf>;

MapC View(std::span<const float> v) { return MapC(v.data(), static_cast<Eigen::Index>(v.size())); }
Map View(std::span<float> v) { return Map(v.data(), static_cast<Eigen::Index>(v.size())); }

Status WrongDim(int dim, size_t got) {
  return Status::WrongDim("expected " + std::to_string(dim) + ", got " + std::to_string(got));
}

// Parses one decimal number; rejects trailing garbage. Accepts "nan"/"inf"
// so that CheckVector reports them as BADVECTOR rather than a syntax error.
// A number beyond double's range (from_chars says out of range and leaves
// *out alone) is classified by strtod: overflow becomes +-DBL_MAX (so it is
// reported as beyond float32, not as a literal infinity), underflow 0.
bool ParseDouble(std::string_view s, double* out) {
  if (s.empty()) return false;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (*begin == '+') ++begin;  // from_chars rejects a leading '+'
  auto [ptr, ec] = std::from_chars(begin, end, *out);
  if (ptr != end) return false;
  if (ec == std::errc::result_out_of_range) {
    const std::string copy(begin, end);
    const double x = std::strtod(copy.c_str(), nullptr);  // +-HUGE_VAL, or 0 / a subnormal
    *out = std::isinf(x) ? std::copysign(std::numeric_limits<double>::max(), x) : x;
    return true;
  }
  return ec == std::errc();
}

}  // namespace

Result<float> ToComponent(double x, size_t position) {
  if (std::isfinite(x) && std::fabs(x) > std::numeric_limits<float>::max()) {
    return Status::BadVector("value " + std::to_string(position) +
                             " is beyond the float32 range (magnitude above 3.4e38)");
  }
  return FlushSubnormal(static_cast<float>(x));
}

float FlushSubnormal(float x) {
  return std::fpclassify(x) == FP_SUBNORMAL ? std::copysign(0.0f, x) : x;
}

Status CheckVector(std::span<const float> v) {
  bool nonzero = false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isnan(v[i])) return Status::BadVector("NaN at position " + std::to_string(i + 1));
    if (std::isinf(v[i]))
      return Status::BadVector("infinity at position " + std::to_string(i + 1));
    if (v[i] != 0.0f) nonzero = true;
  }
  if (!nonzero) return Status::BadVector("all-zero vector");
  return Status::OK();
}

Result<Vector> ParseFp32(std::string_view blob, int dim) {
  if (blob.size() % 4 != 0) {
    return Status::WrongDim("expected " + std::to_string(dim) + ", got " +
                            std::to_string(blob.size()) + " bytes (not a multiple of 4)");
  }
  if (blob.size() / 4 != static_cast<size_t>(dim)) return WrongDim(dim, blob.size() / 4);
  Vector v(static_cast<size_t>(dim));
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, blob.data() + 4 * i, 4);
    if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap32(bits);
    v[i] = FlushSubnormal(std::bit_cast<float>(bits));
  }
  BF_RETURN_IF_ERROR(CheckVector(v));
  return v;
}

Result<Vector> ParseValues(std::string_view count, std::span<const std::string_view> values,
                           int dim) {
  size_t n = 0;
  auto [ptr, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
  if (count.empty() || ec != std::errc() || ptr != count.data() + count.size()) {
    return Status::Invalid("VALUES count is not a non-negative integer");
  }
  if (n != values.size()) {
    return Status::Invalid("VALUES count " + std::to_string(n) + " does not match the " +
                           std::to_string(values.size()) + " values given");
  }
  if (n != static_cast<size_t>(dim)) return WrongDim(dim, n);
  Vector v(n);
  for (size_t i = 0; i < n; ++i) {
    double x;
    if (!ParseDouble(values[i], &x)) {
      return Status::Invalid("value " + std::to_string(i + 1) + " is not a number");
    }
    auto c = ToComponent(x, i + 1);
    if (!c.ok()) return c.status();
    v[i] = *c;
  }
  BF_RETURN_IF_ERROR(CheckVector(v));
  return v;
}

void Normalize(std::span<float> v) {
  // Compute in double so huge or tiny finite components do not overflow.
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  const double norm = std::sqrt(sum);
  BF_CHECK(norm > 0 && std::isfinite(norm));
  // Subnormal results are flushed as the wire parsers flush them, so a stored
  // vector reads back equal through ToFp32/ParseFp32.
  for (float& x : v) x = FlushSubnormal(static_cast<float>(x / norm));
}

std::string ToFp32(std::span<const float> v) {
  std::string out(v.size() * 4, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t bits = std::bit_cast<uint32_t>(v[i]);
    if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap32(bits);
    std::memcpy(out.data() + 4 * i, &bits, 4);
  }
  return out;
}

float Cosine(std::span<const float> a, std::span<const float> b) {
  BF_CHECK(a.size() == b.size());
  const float na = View(a).norm();
  const float nb = View(b).norm();
  if (na == 0.0f || nb == 0.0f) return 0.0f;
  return View(a).dot(View(b)) / (na * nb);
}

void MoveToward(std::span<float> user, std::span<const float> post, float rate) {
  BF_CHECK(user.size() == post.size());
  auto u = View(user);
  Eigen::VectorXf next = (1.0f - rate) * u + rate * View(post);
  const float norm = next.norm();
  // Opposite vectors at rate 0.5 cancel out: fall back to the post itself.
  if (!(norm > 1e-6f)) next = View(post);
  u = next.normalized();
}

void MoveAway(std::span<float> user, std::span<const float> post, float rate) {
  BF_CHECK(user.size() == post.size());
  auto u = View(user);
  Eigen::VectorXf next = u - rate * View(post);
  const float norm = next.norm();
  if (!(norm > 1e-6f)) return;
  u = next / norm;
}

}  // namespace bf
