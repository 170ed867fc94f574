// The text model tool's Han helpers (tools/text_model/han.h): which JMdict
// headwords are read for Chinese, and how they are simplified.
#include "tools/text_model/han.h"

#include <gtest/gtest.h>

namespace bf::textmodel {
namespace {

TEST(HanTest, AllHanAcceptsIdeographsOnly) {
  EXPECT_TRUE(AllHan("電気"));
  EXPECT_TRUE(AllHan("猫"));
  EXPECT_TRUE(AllHan("㐀"));        // U+3400, the first of Extension A
  EXPECT_FALSE(AllHan(""));
  EXPECT_FALSE(AllHan("うち"));     // hiragana
  EXPECT_FALSE(AllHan("猫が"));
  EXPECT_FALSE(AllHan("時々"));     // the iteration mark is no ideograph
  EXPECT_FALSE(AllHan("cat"));
  EXPECT_FALSE(AllHan("\xE7\x8C"));  // truncated
  EXPECT_FALSE(AllHan("\xE7\x8C\x41"));
}

TEST(HanTest, SimplifiesByOneCharacterLinesByMajority) {
  HanSimplifier s;
  s.Learn("貓", "猫");
  s.Learn("電", "电");
  s.Learn("腦", "脑");
  s.Learn("電腦", "电脑");  // a word's line teaches nothing ...
  s.Learn("氣", "气");
  s.Learn("乾", "干");
  s.Learn("乾", "干");
  s.Learn("乾", "乾");      // ... nor does a line that keeps the character
  s.Learn("乾", "亁");
  EXPECT_EQ(s.Simplify("電腦"), "电脑");
  EXPECT_EQ(s.Simplify("乾燥"), "干燥");
  EXPECT_EQ(s.Simplify("電気"), "电気");  // 気 (Japanese) is named by no line
  EXPECT_EQ(s.Simplify("猫"), "猫");
  EXPECT_EQ(s.Simplify("うち"), "うち");

  HanSimplifier words_only;
  words_only.Learn("電腦", "电脑");
  EXPECT_EQ(words_only.Simplify("電腦"), "電腦");
}

}  // namespace
}  // namespace bf::textmodel
