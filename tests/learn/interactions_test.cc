#include "embeddings/learn/interactions.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace bf::learn {
namespace {

TEST(InteractionsTest, AggregatesCellsWithConfidenceAndPreference) {
  ConfidenceOptions c;
  c.weight = {1, 8, 10, 10, 6, 20, 40};
  const std::vector<Interaction> events = {
      {1, 2, EventKind::kView, 10}, {1, 2, EventKind::kLike, 11},  // c 1+9, p 1
      {0, 1, EventKind::kHide, 12},                                // c 21, p 0
      {1, 0, EventKind::kLike, 13}, {1, 0, EventKind::kHide, 14},  // c 29, p 8/28
  };
  auto m = BuildFeedbackMatrix(3, 3, events, c);
  ASSERT_RESULT_OK(m);
  ASSERT_EQ(m->cells(), 3);
  ASSERT_EQ(m->UserRow(0).size(), 1u);
  EXPECT_EQ(m->UserRow(0)[0].col, 1);
  EXPECT_FLOAT_EQ(m->UserRow(0)[0].confidence, 21);
  EXPECT_FLOAT_EQ(m->UserRow(0)[0].preference, 0);
  ASSERT_EQ(m->UserRow(1).size(), 2u);
  EXPECT_EQ(m->UserRow(1)[0].col, 0);  // sorted by item
  EXPECT_FLOAT_EQ(m->UserRow(1)[0].confidence, 29);
  EXPECT_FLOAT_EQ(m->UserRow(1)[0].preference, 8.0f / 28);
  EXPECT_FLOAT_EQ(m->UserRow(1)[1].confidence, 10);
  EXPECT_FLOAT_EQ(m->UserRow(1)[1].preference, 1);
  EXPECT_TRUE(m->UserRow(2).empty());
  // The item view holds the same cells.
  ASSERT_EQ(m->ItemRow(2).size(), 1u);
  EXPECT_EQ(m->ItemRow(2)[0].col, 1);
  EXPECT_FLOAT_EQ(m->ItemRow(2)[0].confidence, 10);
  ASSERT_EQ(m->ItemRow(0).size(), 1u);
  EXPECT_EQ(m->ItemRow(0)[0].col, 1);
}

TEST(InteractionsTest, DecayHalvesAWeightPerHalfLife) {
  ConfidenceOptions c;
  c.weight = {0, 8, 0, 0, 0, 0, 0};
  c.half_life_s = 100;
  const std::vector<Interaction> events = {{0, 0, EventKind::kLike, 1000},
                                           {0, 1, EventKind::kLike, 900},
                                           {0, 2, EventKind::kLike, 800}};
  auto m = BuildFeedbackMatrix(1, 3, events, c);  // now: the newest event, 1000
  ASSERT_RESULT_OK(m);
  EXPECT_FLOAT_EQ(m->UserRow(0)[0].confidence, 9);
  EXPECT_FLOAT_EQ(m->UserRow(0)[1].confidence, 5);
  EXPECT_FLOAT_EQ(m->UserRow(0)[2].confidence, 3);
  EXPECT_DOUBLE_EQ(DecayWeight(c, 1000, 1100), 1.0);  // the future counts as now
}

TEST(InteractionsTest, RefusesOutOfRangeIndexesNamingTheInteraction) {
  const std::vector<Interaction> events = {{0, 0, EventKind::kLike, 1},
                                           {0, 70, EventKind::kLike, 1}};
  auto m = BuildFeedbackMatrix(2, 50, events, {});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Code::kInvalid);
  EXPECT_EQ(m.status().message(), "interaction 1: item 70 out of range [0, 50)");
  const std::vector<Interaction> bad_user = {{-1, 0, EventKind::kLike, 1}};
  m = BuildFeedbackMatrix(2, 50, bad_user, {});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "interaction 0: user -1 out of range [0, 2)");
}

TEST(InteractionsTest, CapsConfidence) {
  ConfidenceOptions c;
  c.weight.fill(3e38f);
  const std::vector<Interaction> events = {{0, 0, EventKind::kLike, 1},
                                           {0, 0, EventKind::kLike, 2}};
  auto m = BuildFeedbackMatrix(1, 1, events, c);
  ASSERT_RESULT_OK(m);
  EXPECT_FLOAT_EQ(m->UserRow(0)[0].confidence, static_cast<float>(1 + kMaxConfidence));
  EXPECT_TRUE(std::isfinite(m->UserRow(0)[0].preference));
}

}  // namespace
}  // namespace bf::learn
