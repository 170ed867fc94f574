// Embedding vectors: parsing the two wire forms, validation, normalisation,
// similarity, and the rules that move a user's vector after feedback.
//
// All vectors in bridgefeed are float32 of the database dimension d and are
// stored L2-normalised, so cosine similarity is a dot product.
// Components are float32 without subnormals: a value whose magnitude is
// below FLT_MIN (about 1.2e-38), including a decimal that underflows, is
// stored as 0 (flush to zero, as SIMD kernels do; next to a normal
// component it cannot change a unit vector's float32 value). Positions in
// error messages are 1-based.
//
// Errors: parsers return the Status codes named at each function and no
// vector on error. Thread safety: every function is pure or touches only
// the spans it is given; none keeps a pointer past the call.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "embeddings/status.h"

namespace bf {

using Vector = std::vector<float>;

// Largest dimension a database may have.
inline constexpr int kMaxDim = 4096;

// Parses the FP32 form: exactly dim*4 bytes of little-endian IEEE-754
// float32. Errors: WRONGDIM when the blob is not dim*4 bytes ("expected d,
// got n" where n is the blob's size / 4, or its byte count if not a multiple
// of 4); BADVECTOR for NaN, infinity or an all-zero vector (after
// subnormals are flushed to 0). The result is not normalised.
Result<Vector> ParseFp32(std::string_view blob, int dim);

// Parses the VALUES form. `count` is the <n> word, `values` the words after
// it. Errors: ERR when count is not a non-negative integer or does not equal
// values.size(); WRONGDIM when n != dim; ERR naming the position when a value
// is not a decimal number; BADVECTOR for NaN, infinity, a value beyond the
// float32 range ("value 3 is beyond the float32 range ...") or all-zero
// (underflows count as 0).
Result<Vector> ParseValues(std::string_view count, std::span<const std::string_view> values,
                           int dim);

// One component from a number parsed as double (VALUES, JSON import):
// BADVECTOR "value <position> is beyond the float32 range ..." when finite
// but too large for float32; otherwise the float, subnormals flushed to 0.
// NaN and infinity pass through for CheckVector to name.
Result<float> ToComponent(double x, size_t position);
// x, or 0 of x's sign when x is subnormal.
float FlushSubnormal(float x);

// OK when every component is finite and at least one is non-zero. Errors
// name the 1-based position: "NaN at position 1", "infinity at position 2".
Status CheckVector(std::span<const float> v);

// Scales v to unit L2 norm. REQUIRES: CheckVector(v).ok().
void Normalize(std::span<float> v);

// Encodes v as the FP32 wire blob (little-endian float32).
std::string ToFp32(std::span<const float> v);

// Inner product. REQUIRES: a.size() == b.size(). AVX2+FMA when the CPU has
// them (chosen once at start-up), else Eigen's portable kernel; the two may
// differ in the last bits (summation order).
float Dot(std::span<const float> a, std::span<const float> b);
// Which kernel Dot uses: "avx2" or "portable".
const char* DotKernel();
// Cosine similarity; 0 when either vector is zero.
float Cosine(std::span<const float> a, std::span<const float> b);

// How feedback moves a user's vector. Both rules keep the vector unit-length
// and finite.
struct FeedbackRates {
  // LIKE/SAVE/SHARE/COMMENT: u <- normalize((1 - toward) * u + toward * p).
  float toward = 0.2f;
  // HIDE/REPORT: u <- normalize(u - away * p). When that would leave u
  // (nearly) zero, u is left unchanged.
  float away = 0.1f;
};

// REQUIRES: user and post are unit vectors of the same size; 0 <= rate <= 1.
void MoveToward(std::span<float> user, std::span<const float> post, float rate);
void MoveAway(std::span<float> user, std::span<const float> post, float rate);

}  // namespace bf
