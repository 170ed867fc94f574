// The record codec: round trips and damaged bytes.
#include <gtest/gtest.h>

#include "engine/store/internal/codec.h"
#include "engine/store/internal/records.h"
#include "tests/engine/store/store_test_util.h"
#include "tests/test_util.h"

namespace bf::internal {
namespace {

TEST(CodecTest, VarintRoundTripsAndRejectsOverlong) {
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 300ull, 1ull << 35, ~0ull}) {
    std::string s;
    Writer(&s).Varint(v);
    Reader r(s);
    uint64_t got = 0;
    ASSERT_TRUE(r.Varint(&got));
    EXPECT_EQ(got, v);
    EXPECT_TRUE(r.done());
  }
  const std::string overlong(11, '\x80');
  uint64_t got = 0;
  EXPECT_FALSE(Reader(overlong).Varint(&got));
}

TEST(CodecTest, BigEndianKeysSortNumerically) {
  EXPECT_LT(BigEndian64(255), BigEndian64(256));
  EXPECT_EQ(DecodeBigEndian64(BigEndian64(0x0102030405060708ull)), 0x0102030405060708ull);
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff\xff", 3)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\xff", 1)), "");
}

TEST(CodecTest, PostRoundTripsBitForBit) {
  PostRecord p = test::TestPost(std::string("p\0x", 3), 64, 42);
  p.iid = 7;
  p.seq = 99;
  p.culture = "US";
  p.culture_code = 3;
  PostRecord q;
  ASSERT_OK(DecodePost(EncodePost(p), &q));
  EXPECT_EQ(q.iid, 7u);
  EXPECT_EQ(q.seq, 99u);
  EXPECT_EQ(q.id, p.id);
  EXPECT_EQ(q.author, p.author);
  EXPECT_EQ(q.culture_code, 3);
  EXPECT_EQ(q.tags, p.tags);
  EXPECT_EQ(q.title, p.title);
  EXPECT_TRUE(test::SameBits(q.vector, p.vector));
}

TEST(CodecTest, UserRoundTrips) {
  UserRecord u;
  u.id = std::string("\0u", 2);
  u.culture = "CN";
  u.langs = {"zh", "en"};
  u.openness = 0.25f;
  u.vector = test::TestVector(8, 3);
  u.positives = 5;
  u.negatives = -1;
  UserRecord v;
  ASSERT_OK(DecodeUser(EncodeUser(u), &v));
  EXPECT_EQ(v.id, u.id);
  EXPECT_EQ(v.langs, u.langs);
  EXPECT_EQ(v.openness, 0.25f);
  EXPECT_TRUE(test::SameBits(v.vector, u.vector));
  EXPECT_EQ(v.positives, 5);
  EXPECT_EQ(v.negatives, -1);
}

// Version 2 records carry a prior: none, the served vector itself (stored
// once), or a vector of its own.
TEST(CodecTest, PriorsRoundTripAndAreStoredOnceWhenEqual) {
  PostRecord p = test::TestPost("p", 8, 1);
  const size_t without = EncodePost(p).size();
  p.prior = p.vector;
  EXPECT_EQ(EncodePost(p).size(), without);
  PostRecord q;
  ASSERT_OK(DecodePost(EncodePost(p), &q));
  EXPECT_TRUE(test::SameBits(q.prior, p.vector));
  p.prior = test::TestVector(8, 9);
  p.vector.clear();  // a post without a served vector yet
  ASSERT_OK(DecodePost(EncodePost(p), &q));
  EXPECT_TRUE(q.vector.empty());
  EXPECT_TRUE(test::SameBits(q.prior, p.prior));

  UserRecord u;
  u.id = "u";
  u.vector = test::TestVector(8, 3);
  u.prior = test::TestVector(8, 4);
  UserRecord v;
  ASSERT_OK(DecodeUser(EncodeUser(u), &v));
  EXPECT_TRUE(test::SameBits(v.vector, u.vector));
  EXPECT_TRUE(test::SameBits(v.prior, u.prior));
}

// Records written before priors (version 1: no prior field) still decode,
// a post's given vector becoming its prior: old data dirs keep opening.
TEST(CodecTest, VersionOneRecordsDecodeWithTheirVectorAsPrior) {
  PostRecord p = test::TestPost("p", 8, 1);
  std::string v1 = EncodePost(p);  // version 2, prior tag "none" last
  v1.pop_back();
  v1[0] = 1;
  PostRecord q;
  ASSERT_OK(DecodePost(v1, &q));
  EXPECT_EQ(q.id, "p");
  EXPECT_TRUE(test::SameBits(q.vector, p.vector));
  EXPECT_TRUE(test::SameBits(q.prior, p.vector));

  UserRecord u;
  u.id = "u";
  u.vector = test::TestVector(8, 3);
  std::string u1 = EncodeUser(u);
  u1.pop_back();
  u1[0] = 1;
  UserRecord w;
  ASSERT_OK(DecodeUser(u1, &w));
  EXPECT_TRUE(test::SameBits(w.vector, u.vector));
  EXPECT_TRUE(w.prior.empty());  // a user's old vector may have moved: not a prior
}

// Every truncation, every single-byte flip of the version, trailing garbage:
// Corruption, never a crash or an out-of-bounds read (run under asan).
TEST(CodecTest, DamagedPostsAreCorruption) {
  PostRecord p = test::TestPost("id", 8, 1);
  const std::string good = EncodePost(p);
  PostRecord q;
  for (size_t n = 0; n < good.size(); ++n) {
    const Status s = DecodePost(good.substr(0, n), &q);
    EXPECT_EQ(s.code(), Code::kCorruption) << "truncated to " << n;
  }
  EXPECT_EQ(DecodePost(good + "x", &q).message(), "damaged post record");
  std::string bad_version = good;
  bad_version[0] = 3;
  EXPECT_EQ(DecodePost(bad_version, &q).code(), Code::kCorruption);
  std::string bad_prior = good;
  bad_prior.back() = 7;  // the prior tag
  EXPECT_EQ(DecodePost(bad_prior, &q).code(), Code::kCorruption);
  // A huge length must not allocate or read past the end.
  std::string huge(1, static_cast<char>(kRecordVersion));
  huge += std::string(16, '\0');
  huge += "\xff\xff\xff\xff\x0f";
  EXPECT_EQ(DecodePost(huge, &q).code(), Code::kCorruption);
}

TEST(CodecTest, DamagedSmallRecordsAreCorruption) {
  UserRecord u;
  EXPECT_EQ(DecodeUser("\x01\x05", &u).code(), Code::kCorruption);
  CultureCounts c;
  EXPECT_EQ(DecodeCounts(std::string(23, '\0'), &c).code(), Code::kCorruption);
  SeenKind k;
  int64_t ts;
  EXPECT_EQ(DecodeSeen(EncodeSeen(SeenKind::kHidden, 5).substr(0, 8), &k, &ts).code(),
            Code::kCorruption);
  EXPECT_EQ(DecodeSeen(std::string(9, '\x07'), &k, &ts).code(), Code::kCorruption);
  EventEntry e;
  EXPECT_EQ(DecodeEvent("\x01", &e).code(), Code::kCorruption);
  Counters cs;
  EXPECT_EQ(DecodeCounters(EncodeCounters(Counters{}) + "!", &cs).code(), Code::kCorruption);
}

TEST(CodecTest, EventAndSeenRoundTrip) {
  EventEntry e{"post", 12, EventType::kShare, -5, "BR"};
  EventEntry f;
  ASSERT_OK(DecodeEvent(EncodeEvent(e), &f));
  EXPECT_EQ(f.post_id, "post");
  EXPECT_EQ(f.post_iid, 12u);
  EXPECT_EQ(f.type, EventType::kShare);
  EXPECT_EQ(f.ts, -5);
  EXPECT_EQ(f.culture, "BR");
  SeenKind k;
  int64_t ts;
  ASSERT_OK(DecodeSeen(EncodeSeen(SeenKind::kViewed, 1234), &k, &ts));
  EXPECT_EQ(k, SeenKind::kViewed);
  EXPECT_EQ(ts, 1234);
}

}  // namespace
}  // namespace bf::internal
