#include "engine/cluster/slots.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace bf::cluster {
namespace {

// Expected values from Python's binascii.crc_hqx(key, 0) (CRC-CCITT XMODEM, the CRC Redis
// uses); the slots of "foo", "bar", "hello" and "somekey" match redis-cli CLUSTER KEYSLOT.
TEST(SlotsTest, Crc16MatchesXmodem) {
  EXPECT_EQ(Crc16("123456789"), 0x31C3);  // the CRC16/XMODEM check value
  EXPECT_EQ(Crc16(""), 0);
  EXPECT_EQ(Crc16("foo"), 0xAF96);
  EXPECT_EQ(Crc16(std::string_view("\xff\x00\xfe", 3)), 0xC1B2);
}

TEST(SlotsTest, KeySlotMatchesRedis) {
  EXPECT_EQ(KeySlot("123456789"), 12739);
  EXPECT_EQ(KeySlot("foo"), 12182);
  EXPECT_EQ(KeySlot("bar"), 5061);
  EXPECT_EQ(KeySlot("hello"), 866);
  EXPECT_EQ(KeySlot("somekey"), 11058);
  EXPECT_EQ(KeySlot("u:1"), 16340);
  EXPECT_EQ(KeySlot(""), 0);
}

TEST(SlotsTest, HashTagsAsRedis) {
  // The part between the first '{' and the next '}' when non-empty.
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("user1000"));
  EXPECT_EQ(KeySlot("{user1000}.followers"), 3443);
  EXPECT_EQ(KeySlot("foo{bar}{zap}"), KeySlot("bar"));
  EXPECT_EQ(KeySlot("foo{{bar}}zap"), 4015);  // hashes "{bar"
  // An empty tag, or no closing brace: the whole key.
  EXPECT_EQ(KeySlot("foo{}{bar}"), Crc16("foo{}{bar}") % 16384);
  EXPECT_NE(KeySlot("foo{}{bar}"), KeySlot("bar"));
  EXPECT_EQ(KeySlot("foo{bar"), Crc16("foo{bar") % 16384);
}

TEST(SlotsTest, ParsesRanges) {
  std::vector<SlotRange> r;
  ASSERT_OK(ParseSlotRanges("0-5460, 5461,10000-16383", &r));
  EXPECT_EQ(r, (std::vector<SlotRange>{{0, 5460}, {5461, 5461}, {10000, 16383}}));
}

TEST(SlotsTest, RefusesBadRanges) {
  std::vector<SlotRange> r;
  Status s = ParseSlotRanges("5-1", &r);
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.message(), "bad slot range '5-1': start after end");
  s = ParseSlotRanges("0-16384", &r);
  EXPECT_EQ(s.message(), "bad slot range '0-16384': want N or N-M with slots from 0 to 16383");
  EXPECT_EQ(ParseSlotRanges("1,,2", &r).message(),
            "bad slot range '': want N or N-M with slots from 0 to 16383");
  EXPECT_EQ(ParseSlotRanges("-3", &r).code(), Code::kInvalid);
  EXPECT_EQ(ParseSlotRanges("a-b", &r).code(), Code::kInvalid);
  EXPECT_EQ(ParseSlotRanges("  ", &r).message(), "no slots given");
}

}  // namespace
}  // namespace bf::cluster
