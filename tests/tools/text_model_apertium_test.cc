// Parsing lt-proc's output for the text model's Apertium pairs (no lt-proc run:
// CI has no Apertium data).
#include "tools/text_model/apertium.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace bf::textmodel {
namespace {

using ::testing::ElementsAre;

TEST(ApertiumTest, SplitsUnitsAndAnalyses) {
  const auto units = LtprocUnits(
      "^duerme/dormir<vblex><pri><p3><sg>/dormir<vblex><imp><p2><sg>$ ^./.<sent>$\n"
      "^qwz/*qwz$\n^a\\/b/a\\/b<n>$\n^cut");
  ASSERT_EQ(units.size(), 4u);  // the truncated last unit is dropped
  EXPECT_THAT(units[0], ElementsAre("duerme", "dormir<vblex><pri><p3><sg>",
                                    "dormir<vblex><imp><p2><sg>"));
  EXPECT_THAT(units[2], ElementsAre("qwz", "*qwz"));
  EXPECT_THAT(units[3], ElementsAre("a/b", "a/b<n>"));  // an escaped slash is not a split
}

TEST(ApertiumTest, LemmaDropsTagsAndMarksUnknowns) {
  EXPECT_EQ(LtprocLemma("gato<n><m><sg>"), "gato");
  EXPECT_EQ(LtprocLemma("Take# off<vblex><inf>"), "take off");
  EXPECT_EQ(LtprocLemma("Mariposa<n><f><sg>"), "mariposa");
  EXPECT_EQ(LtprocLemma("*qwz"), "");
  EXPECT_EQ(LtprocLemma("@gato<n>"), "");
  EXPECT_EQ(LtprocLemma("#sleep<vblex>"), "");
  EXPECT_EQ(LtprocLemma(""), "");
}

}  // namespace
}  // namespace bf::textmodel
