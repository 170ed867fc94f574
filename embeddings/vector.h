// Embedding vectors: parsing the two wire forms, validation, normalisation,
// similarity, and the rules that move a user's vector after feedback.
//
// All vectors in bridgefeed are float32 of the database dimension d and are
// stored L2-normalised, so cosine similarity is a dot product.
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
// of 4); BADVECTOR for NaN, infinity or an all-zero vector. The result is
// not normalised.
Result<Vector> ParseFp32(std::string_view blob, int dim);

// Parses the VALUES form. `count` is the <n> word, `values` the words after
// it. Errors: ERR when count is not a non-negative integer or does not equal
// values.size(); WRONGDIM when n != dim; ERR naming the position when a value
// is not a decimal number; BADVECTOR for NaN, infinity or all-zero.
Result<Vector> ParseValues(std::string_view count, std::span<const std::string_view> values,
                           int dim);

// OK when every component is finite and at least one is non-zero.
Status CheckVector(std::span<const float> v);

// Scales v to unit L2 norm. REQUIRES: CheckVector(v).ok().
void Normalize(std::span<float> v);

// Encodes v as the FP32 wire blob (little-endian float32).
std::string ToFp32(std::span<const float> v);

// Inner product. REQUIRES: a.size() == b.size().
float Dot(std::span<const float> a, std::span<const float> b);
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
