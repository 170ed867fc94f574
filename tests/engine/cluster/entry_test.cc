#include "engine/cluster/entry.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace bf::cluster {
namespace {

Entry RoundTrip(const Entry& e) {
  Entry out;
  const Status s = DecodeEntry(EncodeEntry(e), &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TrainEntry Train() {
  return TrainEntry{1737000002, 42, 15, 0.1f, 1.0f, 0.01f, {1, 8, 10, 10, 6, 20, 40},
                    86400.5, -3, 1, 3};
}

std::vector<Entry> Samples() {
  UserSetEntry full{"u:1", "US", std::vector<std::string>{"en", "zh-Hans"}, 0.25,
                    std::vector<float>{0.5f, -1.25f, 3e-8f}};
  UserSetEntry bare{"u:2", std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  UserSetEntry empty_lists{std::string("\0u\xff", 3), "", std::vector<std::string>{}, 0.0,
                           std::vector<float>{}};
  PostAddEntry post{"p:1", "a:cn:7", "CN", {0.1f, 0.2f, 0.3f, 0.4f}, 1737000000,
                    "zh", {"cats", "猫"}, "我的猫 (my cat)"};
  PostAddEntry post_min{"p:2", "a", "US", {1.0f}, -5, std::nullopt, {}, std::nullopt};
  return {full, bare, empty_lists, UserDelEntry{"u:1"}, post, post_min, PostDelEntry{"p:1"},
          EventEntry{"u:1", "p:1", EventType::kLike, 1737000001, "CN"},
          EventEntry{"u:9", "p:2", EventType::kReport, 0, ""}, Train()};
}

TEST(EntryTest, RoundTripsEveryKind) {
  for (const Entry& e : Samples()) {
    EXPECT_EQ(RoundTrip(e), e) << KindName(KindOf(e));
  }
}

TEST(EntryTest, KindsAndBytes) {
  EXPECT_EQ(KindOf(UserSetEntry{}), EntryKind::kUserSet);
  EXPECT_EQ(KindOf(EventEntry{}), EntryKind::kEvent);
  EXPECT_EQ(KindName(EntryKind::kPostDel), "POST.DEL");
  // The bytes are the format: a change here is a new version.
  EXPECT_EQ(EncodeEntry(PostDelEntry{"p:1"}), std::string("\x02\x04\x03p:1", 6));
  EXPECT_EQ(EncodeEntry(EventEntry{"u", "p", EventType::kLike, -1, "US"}),
            std::string("\x02\x05\x01u\x01p\x01\x01\x02US", 11));
  EXPECT_EQ(EncodeEntry(UserSetEntry{"u", std::nullopt, std::nullopt, std::nullopt, std::vector<float>{1.0f}}),
            std::string("\x02\x01\x08\x01u\x01\x00\x00\x80\x3f", 10));
  // TRAIN is version 3; the old kinds stay version 2, so older nodes stop only at a TRAIN.
  TrainEntry t{-1, 2, 3, 1.0f, 2.0f, 0.0f, {1, 1, 1, 1, 1, 1, 1}, 0.0, 1, 0, 5};
  std::string bytes("\x03\x06\x01\x02\x03", 5);
  bytes += std::string("\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x00\x00", 12);
  bytes += '\x07';
  for (int i = 0; i < 7; i++) bytes += std::string("\x00\x00\x80\x3f", 4);
  bytes += std::string(8, '\0');
  bytes += std::string("\x02\x00\x05", 3);
  EXPECT_EQ(EncodeEntry(t), bytes);
  EXPECT_EQ(KindName(EntryKind::kTrain), "TRAIN");
}

Status Decode(std::string_view bytes) {
  Entry e;
  return DecodeEntry(bytes, &e);
}

TEST(EntryTest, UnknownVersionOrKind) {
  Status s = Decode(std::string("\x04\x04\x03p:1", 6));
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_EQ(s.message(), "log entry: unknown version 4 (this build reads versions 2 to 3)");
  // Version 1 (EVENT without its viewer's culture) was never written by a server.
  EXPECT_EQ(Decode(std::string("\x01\x04\x03p:1", 6)).message(),
            "log entry: unknown version 1 (this build reads versions 2 to 3)");
  // TRAIN came with version 3.
  s = Decode(std::string("\x02\x06\x03p:1", 6));
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_EQ(s.message(), "log entry: kind 6 in a version 2 entry");
  EXPECT_EQ(Decode(std::string("\x03\x07\x03p:1", 6)).message(), "log entry: unknown kind 7");
  // Version 3 reads the version-2 kinds with the same bytes.
  EXPECT_OK(Decode(std::string("\x03\x04\x03p:1", 6)));
  EXPECT_EQ(Decode("").message(), "log entry: too short (0 bytes)");
  EXPECT_EQ(Decode(std::string("\x02\x00", 2)).message(), "log entry: unknown kind 0");
}

TEST(EntryTest, MalformedEntries) {
  EXPECT_EQ(Decode(std::string("\x02\x04\x05p:1", 6)).message(), "log entry: truncated post id at byte 3");
  EXPECT_EQ(Decode(std::string("\x02\x04\x03p:1!", 7)).message(),
            "log entry: 1 bytes left over after the POST.DEL entry");
  EXPECT_EQ(Decode(std::string("\x02\x05\x01u\x01p\x07\x02", 8)).message(),
            "log entry: unknown event type 7 at byte 7");
  EXPECT_EQ(Decode(std::string("\x02\x01\x10\x01u", 5)).message(),
            "log entry: unknown optional fields 16 at byte 3");
  EXPECT_EQ(Decode(std::string("\x02\x03\x00\x01p\x01" "a\x01" "C\xff\xff\xff\xff\x0f", 14)).message(),
            "log entry: truncated vector at byte 14");
  EXPECT_EQ(Decode(std::string("\x02\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 13)).message(),
            "log entry: varint too long in user id at byte 12");
}

TEST(EntryTest, TrainNeedsOneWeightPerEventKind) {
  TrainEntry t = Train();
  t.weights.push_back(3);  // a build with an eighth event kind wrote it
  Entry out;
  const Status s = DecodeEntry(EncodeEntry(t), &out);
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_EQ(s.message(), "log entry: 8 confidence weights (this build has 7 event kinds) at byte 54");
}

// Every prefix of a valid entry is refused, never read past its end (ASan checks the reads).
TEST(EntryTest, EveryTruncationIsAnError) {
  for (const Entry& e : Samples()) {
    const std::string bytes = EncodeEntry(e);
    for (size_t n = 0; n < bytes.size(); n++) {
      Status s = Decode(std::string_view(bytes).substr(0, n));
      EXPECT_EQ(s.code(), Code::kCorruption) << KindName(KindOf(e)) << " cut at " << n;
    }
  }
}

}  // namespace
}  // namespace bf::cluster
