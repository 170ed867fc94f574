#include "embeddings/status.h"

#include <gtest/gtest.h>

namespace bf {
namespace {

TEST(StatusTest, OkIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ToStringNamesTheCode) {
  EXPECT_EQ(Status::WrongDim("expected 4, got 3").ToString(), "WrongDim: expected 4, got 3");
  EXPECT_EQ(Status::IOError("disk full").ToString(), "IOError: disk full");
  EXPECT_EQ(Status::NotFound("").ToString(), "NotFound");
  EXPECT_STREQ(CodeName(Code::kCorruption), "Corruption");
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good(7);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad(Status::NotFound("post"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kNotFound);
}

TEST(ResultTest, OkStatusBecomesInternalError) {
  Result<int> r{Status::OK()};
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInternal);
}

}  // namespace
}  // namespace bf
