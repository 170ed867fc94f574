#include "embeddings/status.h"

#include <gtest/gtest.h>

namespace bf {
namespace {

TEST(StatusTest, OkIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, WireCodesMatchApi) {
  EXPECT_STREQ(Status::Invalid("x").WireCode(), "ERR");
  EXPECT_STREQ(Status::WrongDim("x").WireCode(), "WRONGDIM");
  EXPECT_STREQ(Status::BadVector("x").WireCode(), "BADVECTOR");
  EXPECT_STREQ(Status::NotFound("x").WireCode(), "NOTFOUND");
  EXPECT_STREQ(Status::Busy("x").WireCode(), "BUSY");
  EXPECT_STREQ(Status::IOError("x").WireCode(), "ERR");
  EXPECT_EQ(Status::WrongDim("expected 4, got 3").ToString(), "WRONGDIM expected 4, got 3");
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
