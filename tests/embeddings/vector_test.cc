#include "embeddings/vector.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace bf {
namespace {

std::string Blob(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());  // test host is little-endian
  return s;
}

float Norm(std::span<const float> v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return float(std::sqrt(s));
}

TEST(ParseFp32Test, ReadsLittleEndianFloatsBitForBit) {
  std::vector<float> in = {1.5f, -2.25f, 3.0e-7f, 1e30f};
  auto r = ParseFp32(Blob(in), 4);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ(std::memcmp(r->data(), in.data(), 16), 0);
  // Explicit byte order: 1.0f is 00 00 80 3f little-endian.
  auto one = ParseFp32(std::string("\x00\x00\x80\x3f", 4), 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)[0], 1.0f);
}

TEST(ParseFp32Test, WrongLengthIsWrongDim) {
  auto r = ParseFp32(Blob({1, 2, 3}), 4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kWrongDim);
  EXPECT_EQ(r.status().ToString(), "WrongDim: expected 4, got 3");
}

TEST(ParseFp32Test, LengthNotMultipleOfFourIsWrongDim) {
  auto r = ParseFp32(std::string(7, '\x01'), 4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kWrongDim);
  EXPECT_NE(r.status().message().find("7 bytes"), std::string::npos);
}

TEST(ParseFp32Test, NanInfinityAndZeroAreBadVector) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  auto a = ParseFp32(Blob({1, nan}), 2);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Code::kBadVector);
  EXPECT_NE(a.status().message().find("NaN"), std::string::npos);
  auto b = ParseFp32(Blob({-inf, 1}), 2);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), Code::kBadVector);
  EXPECT_NE(b.status().message().find("infinity"), std::string::npos);
  auto c = ParseFp32(Blob({0, -0.0f}), 2);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kBadVector);
  EXPECT_EQ(c.status().message(), "all-zero vector");
}

std::vector<std::string_view> Views(const std::vector<std::string>& v) {
  return {v.begin(), v.end()};
}

TEST(ParseFp32Test, PositionsAreOneBasedAndSubnormalsFlushToZero) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto a = ParseFp32(Blob({1, 2, nan}), 3);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().ToString(), "BadVector: NaN at position 3");
  const float sub = std::numeric_limits<float>::denorm_min();
  auto b = ParseFp32(Blob({sub, -1e-39f, 2}), 3);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(*b, (Vector{0, 0, 2}));
  EXPECT_TRUE(std::signbit((*b)[1]));  // -0: the sign stays
  auto c = ParseFp32(Blob({sub, 1e-39f}), 2);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().ToString(), "BadVector: all-zero vector");
}

TEST(ParseValuesTest, UnderflowIsZeroNotInfinity) {
  std::vector<std::string> words = {"1", "1e-46", "-1e-40", "1e-400"};
  auto r = ParseValues("4", Views(words), 4);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (Vector{1, 0, 0, 0}));
  std::vector<std::string> all_tiny = {"1e-46", "1e-400"};
  auto z = ParseValues("2", Views(all_tiny), 2);
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.status().ToString(), "BadVector: all-zero vector");
  // The smallest normal float32 is kept.
  std::vector<std::string> normal = {"1.2e-38", "0"};
  auto n = ParseValues("2", Views(normal), 2);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_GT((*n)[0], 0.0f);
}

TEST(ParseValuesTest, OverflowAndSpecialValuesNameOneBasedPositions) {
  std::vector<std::string> big = {"1", "1e39"};
  auto a = ParseValues("2", Views(big), 2);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().ToString(),
            "BadVector: value 2 is beyond the float32 range (magnitude above 3.4e38)");
  std::vector<std::string> huge = {"-1e400", "1"};
  auto b = ParseValues("2", Views(huge), 2);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().ToString(),
            "BadVector: value 1 is beyond the float32 range (magnitude above 3.4e38)");
  std::vector<std::string> nan = {"1", "2", "nan"};
  auto c = ParseValues("3", Views(nan), 3);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().ToString(), "BadVector: NaN at position 3");
  std::vector<std::string> inf = {"inf", "2"};
  auto d = ParseValues("2", Views(inf), 2);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().ToString(), "BadVector: infinity at position 1");
  std::vector<std::string> word = {"1", "x"};
  auto e = ParseValues("2", Views(word), 2);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().ToString(), "Invalid: value 2 is not a number");
}

TEST(ParseValuesTest, ParsesDecimals) {
  std::vector<std::string> words = {"1", "-0.5", "+2e3", ".25"};
  auto r = ParseValues("4", Views(words), 4);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (Vector{1.0f, -0.5f, 2000.0f, 0.25f}));
}

TEST(ParseValuesTest, CountMismatchWithDimIsWrongDim) {
  std::vector<std::string> words = {"1", "2"};
  auto r = ParseValues("2", Views(words), 3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().ToString(), "WrongDim: expected 3, got 2");
}

TEST(ParseValuesTest, CountMismatchWithValuesIsSyntaxError) {
  std::vector<std::string> words = {"1", "2"};
  auto r = ParseValues("3", Views(words), 3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  auto bad = ParseValues("x3", Views(words), 2);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalid);
  auto neg = ParseValues("-2", Views(words), 2);
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(neg.status().code(), Code::kInvalid);
}

TEST(ParseValuesTest, UnparsableNumberIsSyntaxErrorNamingPosition) {
  for (std::string bad : {"abc", "1.0x", "", "1,5", "--1"}) {
    std::vector<std::string> words = {"1", bad};
    auto r = ParseValues("2", Views(words), 2);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalid) << bad;
    EXPECT_EQ(r.status().message(), "value 2 is not a number") << bad;
  }
}

TEST(ParseValuesTest, NanInfinityOverflowAndZeroAreBadVector) {
  for (std::string bad : {"nan", "inf", "-inf", "1e39"}) {
    std::vector<std::string> words = {"1", bad};
    auto r = ParseValues("2", Views(words), 2);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kBadVector) << bad;
  }
  std::vector<std::string> zeros = {"0", "0.0", "-0"};
  auto z = ParseValues("3", Views(zeros), 3);
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.status().code(), Code::kBadVector);
}

TEST(VectorLimitsTest, DimensionOneAndMax) {
  auto one = ParseFp32(Blob({-3.0f}), 1);
  ASSERT_TRUE(one.ok());
  Normalize(*one);
  EXPECT_EQ((*one)[0], -1.0f);

  std::vector<float> big(kMaxDim);
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  for (float& x : big) x = g(rng);
  auto r = ParseFp32(Blob(big), kMaxDim);
  ASSERT_TRUE(r.ok());
  Normalize(*r);
  EXPECT_NEAR(Norm(*r), 1.0f, 1e-5f);
  auto wrong = ParseFp32(Blob(big), kMaxDim - 1);
  EXPECT_EQ(wrong.status().code(), Code::kWrongDim);
}

TEST(NormalizeTest, UnitLengthEvenForExtremeMagnitudes) {
  Vector huge = {3e38f, 3e38f};
  Normalize(huge);
  EXPECT_NEAR(Norm(huge), 1.0f, 1e-6f);
  EXPECT_NEAR(huge[0], std::sqrt(0.5f), 1e-6f);
  Vector tiny = {1e-40f, 0};
  Normalize(tiny);
  EXPECT_EQ(tiny[0], 1.0f);
}

TEST(SimilarityTest, CosineAndDot) {
  Vector a = {1, 0, 0}, b = {0, 2, 0}, c = {3, 0, 0}, d = {-1, 0, 0};
  EXPECT_FLOAT_EQ(Cosine(a, b), 0.0f);
  EXPECT_FLOAT_EQ(Cosine(a, c), 1.0f);
  EXPECT_FLOAT_EQ(Cosine(a, d), -1.0f);
  EXPECT_FLOAT_EQ(Dot(a, c), 3.0f);
  Vector zero = {0, 0, 0};
  EXPECT_EQ(Cosine(a, zero), 0.0f);
}

TEST(FeedbackTest, MoveTowardApproachesPostAndStaysUnit) {
  Vector u = {1, 0}, p = {0, 1};
  const float before = Dot(u, p);
  MoveToward(u, p, 0.2f);
  EXPECT_NEAR(Norm(u), 1.0f, 1e-6f);
  EXPECT_GT(Dot(u, p), before);
  // (0.8, 0.2) normalised.
  EXPECT_NEAR(u[0], 0.8f / std::sqrt(0.68f), 1e-6f);
  for (int i = 0; i < 100; ++i) MoveToward(u, p, 0.2f);
  EXPECT_NEAR(Dot(u, p), 1.0f, 1e-4f);
}

TEST(FeedbackTest, MoveTowardOppositeAtHalfTakesPost) {
  Vector u = {1, 0}, p = {-1, 0};
  MoveToward(u, p, 0.5f);
  EXPECT_EQ(u, (Vector{-1, 0}));
}

TEST(FeedbackTest, MoveAwayRecedesAndStaysUnit) {
  Vector u = {0.6f, 0.8f}, p = {1, 0};
  const float before = Dot(u, p);
  MoveAway(u, p, 0.1f);
  EXPECT_NEAR(Norm(u), 1.0f, 1e-6f);
  EXPECT_LT(Dot(u, p), before);
  for (int i = 0; i < 1000; ++i) {
    MoveAway(u, p, 0.1f);
    ASSERT_TRUE(std::isfinite(u[0]) && std::isfinite(u[1]));
  }
  EXPECT_NEAR(Norm(u), 1.0f, 1e-5f);
}

TEST(FeedbackTest, MoveAwayFromItselfAtFullRateLeavesVector) {
  Vector u = {1, 0}, p = {1, 0};
  MoveAway(u, p, 1.0f);
  EXPECT_EQ(u, (Vector{1, 0}));
}

TEST(ToFp32Test, RoundTrips) {
  Vector v = {0.1f, -7.5f, 1e-20f};
  auto back = ParseFp32(ToFp32(v), 3);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, v);
}

}  // namespace
}  // namespace bf
