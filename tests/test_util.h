// Helpers shared by the unit tests.
#pragma once

#include <gtest/gtest.h>

#include "embeddings/status.h"

// Prints the status when it is not OK.
#define ASSERT_OK(expr)                                     \
  do {                                                      \
    const ::bf::Status bf_s_ = (expr);                      \
    ASSERT_TRUE(bf_s_.ok()) << bf_s_.ToString();            \
  } while (0)
#define EXPECT_OK(expr)                                     \
  do {                                                      \
    const ::bf::Status bf_s_ = (expr);                      \
    EXPECT_TRUE(bf_s_.ok()) << bf_s_.ToString();            \
  } while (0)
// For Result<T>: asserts ok and yields nothing; use .value() after.
#define ASSERT_RESULT_OK(res) ASSERT_TRUE((res).ok()) << (res).status().ToString()
