// Store: every method, reopen round trips, locking, secondary instances.
#include "engine/store/store.h"

#include <filesystem>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include <map>
#include <rocksdb/db.h>

#include "engine/store/internal/rocks.h"
#include "tests/engine/store/store_test_util.h"
#include "tests/test_util.h"

namespace bf {
namespace {

namespace fs = std::filesystem;
constexpr int kDim = 8;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::MakeTempDir();
    opts_.path = dir_ + "/db";
    opts_.dim = kDim;
    opts_.fsync = FsyncPolicy::kNo;
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void Close() { store_.reset(); }
  void Reopen() {
    store_.reset();
    auto r = Store::Open(opts_);
    ASSERT_RESULT_OK(r);
    store_ = std::move(r).value();
  }
  void Destroy() {
    store_.reset();
    fs::remove_all(opts_.path);
  }
  Store& s() { return *store_; }

  PostRecord Put(const std::string& id, uint64_t seed, const std::string& culture = "us") {
    auto r = s().PutPost(test::TestPost(id, kDim, seed, culture));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : PostRecord{};
  }
  EventWrite Event(const std::string& user, const PostRecord& post, EventType type,
                   const std::string& culture, int64_t ts = 100) {
    EventWrite e;
    e.user.id = user;
    e.user.culture = culture;
    e.post_iid = post.iid;
    e.post_id = post.id;
    e.viewer_culture = culture;
    e.type = type;
    e.ts = ts;
    return e;
  }

  std::string dir_;
  StoreOptions opts_;
  std::unique_ptr<Store> store_;
};

ImportedEvent Imported(const EventWrite& e) {
  return {e.user.id, e.post_iid, e.post_id, e.viewer_culture, e.type, e.ts};
}

void ExpectSamePost(const PostRecord& a, const PostRecord& b) {
  EXPECT_EQ(a.iid, b.iid);
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.author, b.author);
  EXPECT_EQ(a.culture, b.culture);
  EXPECT_EQ(a.culture_code, b.culture_code);
  EXPECT_EQ(a.lang, b.lang);
  EXPECT_EQ(a.ts, b.ts);
  EXPECT_EQ(a.tags, b.tags);
  EXPECT_EQ(a.title, b.title);
  EXPECT_TRUE(test::SameBits(a.vector, b.vector));
}

TEST(CanonicalCultureTest, UppercasesAndValidates) {
  EXPECT_EQ(*CanonicalCulture("us"), "US");
  EXPECT_EQ(*CanonicalCulture("zh-Hans_1"), "ZH-HANS_1");
  EXPECT_EQ(*CanonicalCulture(std::string(16, 'a')), std::string(16, 'A'));
  EXPECT_EQ(CanonicalCulture("").status().message(),
            "culture must be 1 to 16 bytes of [A-Za-z0-9_-], got 0 bytes");
  EXPECT_EQ(CanonicalCulture(std::string(17, 'a')).status().code(), Code::kInvalid);
  EXPECT_EQ(CanonicalCulture("u s").status().message(),
            "culture must be 1 to 16 bytes of [A-Za-z0-9_-]");
  EXPECT_EQ(CanonicalCulture(std::string("u\0", 2)).status().code(), Code::kInvalid);
}

TEST_F(StoreTest, NewDatabaseHasDimSchemaAndRandomId) {
  EXPECT_EQ(s().dim(), kDim);
  EXPECT_EQ(s().db_id().size(), 32u);
  EXPECT_EQ(s().db_id().find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(s().LastSequence(), 0u);
  EXPECT_EQ(*s().CountPosts(), 0u);
  auto schema = s().GetMeta("bf.store.schema");
  ASSERT_RESULT_OK(schema);
  EXPECT_EQ(**schema, std::string("\x02\0\0\0", 4));
  const std::string id = s().db_id();
  Reopen();
  EXPECT_EQ(s().db_id(), id);
  // Another database gets another id.
  StoreOptions other = opts_;
  other.path = dir_ + "/other";
  auto o = Store::Open(other);
  ASSERT_RESULT_OK(o);
  EXPECT_NE((*o)->db_id(), id);
}

TEST_F(StoreTest, PutPostAssignsIidSeqAndCultureCode) {
  const PostRecord a = Put(std::string("a\0b", 3), 1, "us");
  EXPECT_EQ(a.iid, 1u);
  EXPECT_EQ(a.seq, 1u);
  EXPECT_EQ(a.culture, "US");
  EXPECT_EQ(a.culture_code, 1);
  const PostRecord b = Put("b", 2, "CN");
  EXPECT_EQ(b.iid, 2u);
  EXPECT_EQ(b.seq, 2u);
  EXPECT_EQ(b.culture_code, 2);
  EXPECT_EQ(s().LastSequence(), 2u);
  EXPECT_EQ(*s().CountPosts(), 2u);

  auto got = s().GetPost(std::string("a\0b", 3));
  ASSERT_RESULT_OK(got);
  ASSERT_TRUE(got->has_value());
  ExpectSamePost(**got, a);
  // "a" is a prefix of the binary id but a different post.
  EXPECT_FALSE(s().GetPost("a")->has_value());
}

TEST_F(StoreTest, GetPostsReadsManyInOneBatch) {
  const PostRecord a = Put("a", 1, "us");
  const PostRecord b = Put("b", 2, "CN");
  const std::vector<std::string> ids = {"b", "missing", "a", "b"};
  auto got = s().GetPosts(ids);
  ASSERT_RESULT_OK(got);
  ASSERT_EQ(got->size(), 4u);
  ASSERT_TRUE((*got)[0].has_value());
  ExpectSamePost(*(*got)[0], b);
  EXPECT_FALSE((*got)[1].has_value());
  ASSERT_TRUE((*got)[2].has_value());
  ExpectSamePost(*(*got)[2], a);
  ASSERT_TRUE((*got)[3].has_value());
  EXPECT_TRUE(s().GetPosts(std::vector<std::string>{})->empty());
  const std::vector<std::string> bad = {"a", ""};
  EXPECT_EQ(s().GetPosts(bad).status().code(), Code::kInvalid);
}

TEST_F(StoreTest, PutPostRejectsBadInput) {
  PostRecord p = test::TestPost("p", kDim, 1);
  p.vector.resize(3);
  auto r = s().PutPost(p);
  EXPECT_EQ(r.status().code(), Code::kWrongDim);
  EXPECT_EQ(r.status().message(), "expected 8, got 3");

  p = test::TestPost("", kDim, 1);
  EXPECT_EQ(s().PutPost(p).status().message(), "post id must be 1 to 128 bytes, got 0");
  p = test::TestPost(std::string(129, 'x'), kDim, 1);
  EXPECT_EQ(s().PutPost(p).status().message(), "post id must be 1 to 128 bytes, got 129");
  auto longest = s().PutPost(test::TestPost(std::string(128, 'x'), kDim, 1));
  EXPECT_TRUE(longest.ok()) << longest.status().ToString();
  p = test::TestPost("p", kDim, 1, "u s");
  EXPECT_EQ(s().PutPost(p).status().code(), Code::kInvalid);
  p = test::TestPost("p", kDim, 1);
  p.author.clear();
  EXPECT_EQ(s().PutPost(p).status().message(), "author id must be 1 to 128 bytes, got 0");
  p = test::TestPost("p", kDim, 1);
  std::fill(p.vector.begin(), p.vector.end(), 0.0f);
  EXPECT_EQ(s().PutPost(p).status().code(), Code::kBadVector);
  // Nothing above but the 128-byte post was written.
  EXPECT_EQ(*s().CountPosts(), 1u);
  EXPECT_EQ(s().LastSequence(), 1u);
  EXPECT_EQ(s().GetPost("").status().code(), Code::kInvalid);
}

TEST_F(StoreTest, ReplaceKeepsIidAndCounters) {
  const PostRecord a = Put("a", 1, "us");
  ASSERT_OK(s().RecordEvent(Event("u1", a, EventType::kLike, "cn")));
  const PostRecord a2 = Put("a", 5, "br");
  EXPECT_EQ(a2.iid, a.iid);
  EXPECT_EQ(a2.seq, 2u);  // events take no sequence
  EXPECT_EQ(a2.culture, "BR");
  EXPECT_EQ(*s().CountPosts(), 1u);
  auto stats = s().GetStats(a.iid);
  ASSERT_RESULT_OK(stats);
  ASSERT_EQ(stats->size(), 1u);
  EXPECT_EQ((*stats)[0].culture, "CN");
  EXPECT_EQ((*stats)[0].positives, 1);
  auto got = s().GetPost("a");
  ExpectSamePost(**got, a2);
}

TEST_F(StoreTest, DeletePostRemovesPostMappingAndCounters) {
  const PostRecord a = Put("a", 1);
  const PostRecord b = Put("b", 2);
  ASSERT_OK(s().RecordEvent(Event("u1", a, EventType::kView, "us")));
  ASSERT_OK(s().RecordEvent(Event("u1", b, EventType::kView, "us")));
  auto del = s().DeletePost("a");
  ASSERT_RESULT_OK(del);
  EXPECT_EQ(*del, std::optional<uint64_t>(a.iid));
  EXPECT_EQ(s().LastSequence(), 3u);
  EXPECT_FALSE(s().GetPost("a")->has_value());
  int mapped = 0;  // the iid -> id mapping went with the post
  EXPECT_OK(s().ForEachPost([&](const PostRecord& p) {
    EXPECT_EQ(p.id, b.id);
    return ++mapped > 0;
  }));
  EXPECT_EQ(mapped, 1);
  EXPECT_TRUE(s().GetStats(a.iid)->empty());
  EXPECT_EQ(s().GetStats(b.iid)->size(), 1u);  // the neighbour keeps its counters
  EXPECT_EQ(*s().CountPosts(), 1u);
  // Deleting nothing changes nothing.
  EXPECT_EQ(*s().DeletePost("a"), std::nullopt);
  EXPECT_EQ(s().LastSequence(), 3u);
  // Events on a deleted post: NOTFOUND, and no counter row comes back.
  const Status st = s().RecordEvent(Event("u1", a, EventType::kLike, "us"));
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_EQ(st.message(), "post");
  EXPECT_TRUE(s().GetStats(a.iid)->empty());
  // The same id added again takes back its internal id (so users' marks on
  // it apply again), with counters from zero; a new id gets a new one.
  EXPECT_EQ(Put("a", 3).iid, a.iid);
  EXPECT_TRUE(s().GetStats(a.iid)->empty());
  EXPECT_EQ(*s().CountPosts(), 2u);
  EXPECT_EQ(Put("c", 4).iid, 3u);
  ASSERT_OK(s().RecordEvent(Event("u1", a, EventType::kLike, "us")));
  EXPECT_EQ((*s().GetStats(a.iid))[0].positives, 1);
  Reopen();  // the retired id was consumed: a second delete retires it again
  ASSERT_RESULT_OK(s().DeletePost("a"));
  EXPECT_EQ(Put("a", 5).iid, a.iid);
}

TEST_F(StoreTest, EachUserCountsOncePerPostAndKind) {
  const PostRecord a = Put("a", 1);
  bool counted = false;
  ASSERT_OK(s().RecordEvent(Event("u", a, EventType::kView, "us", 10), &counted));
  EXPECT_TRUE(counted);
  ASSERT_OK(s().RecordEvent(Event("u", a, EventType::kView, "us", 20), &counted));
  EXPECT_FALSE(counted);
  EXPECT_TRUE(*s().HasEngaged("u", a.iid, EventType::kView));
  EXPECT_FALSE(*s().HasEngaged("u", a.iid, EventType::kLike));
  ASSERT_OK(s().RecordEvent(Event("u", a, EventType::kLike, "us", 30), &counted));
  EXPECT_TRUE(counted);
  ASSERT_OK(s().RecordEvent(Event("u", a, EventType::kSave, "us", 40), &counted));
  EXPECT_FALSE(counted);  // SAVE is a positive too
  EXPECT_TRUE(*s().HasEngaged("u", a.iid, EventType::kShare));
  EXPECT_FALSE(*s().HasEngaged("u", a.iid, EventType::kHide));
  EXPECT_FALSE(*s().HasEngaged("w", a.iid, EventType::kView));
  auto stats = s().GetStats(a.iid);
  ASSERT_EQ(stats->size(), 1u);
  EXPECT_EQ((*stats)[0].impressions, 1);
  EXPECT_EQ((*stats)[0].positives, 1);
  // Every event is logged, and the repeat refreshed the viewed mark's time.
  EXPECT_EQ(*s().CountEvents(), 4u);
  auto seen = s().GetSeen("u");
  ASSERT_EQ(seen->size(), 1u);
  EXPECT_EQ((*seen)[0].ts, 20);
  // Bulk RecordEvents: repeats inside one batch count once too.
  ASSERT_OK(s().RecordEvents({Event("w", a, EventType::kHide, "cn", 50),
                              Event("w", a, EventType::kReport, "cn", 51),
                              Event("w", a, EventType::kHide, "cn", 52)}));
  Reopen();  // marks are durable
  ASSERT_OK(s().RecordEvent(Event("u", a, EventType::kComment, "us", 60), &counted));
  EXPECT_FALSE(counted);
  stats = s().GetStats(a.iid);
  ASSERT_EQ(stats->size(), 2u);  // CN, US
  EXPECT_EQ((*stats)[0].negatives, 1);
  EXPECT_EQ((*stats)[1].positives, 1);

  // The import path: against stored marks and within its batch.
  std::vector<ImportedEvent> imported = {
      Imported(Event("u", a, EventType::kLike, "us", 70)),  // stored mark: not counted
      Imported(Event("v", a, EventType::kLike, "us", 71)),
      Imported(Event("v", a, EventType::kShare, "us", 72)),
      Imported(Event("v", a, EventType::kView, "us", 73)),
      Imported(Event("v", a, EventType::kView, "us", 74))};
  ASSERT_OK(s().ImportEvents(imported));
  stats = s().GetStats(a.iid);
  EXPECT_EQ((*stats)[1].impressions, 2);
  EXPECT_EQ((*stats)[1].positives, 2);
  EXPECT_EQ(*s().CountEvents(), 13u);
  ASSERT_OK(s().ImportEvents(imported));  // all repeats now
  EXPECT_EQ((*s().GetStats(a.iid))[1].positives, 2);
  EXPECT_EQ((*s().GetSeen("v"))[0].ts, 74);

  // USER.DEL takes the user's marks with it; a post's delete does not.
  ASSERT_RESULT_OK(s().DeleteUser("u"));
  EXPECT_FALSE(*s().HasEngaged("u", a.iid, EventType::kLike));
  ASSERT_RESULT_OK(s().DeletePost("a"));
  EXPECT_TRUE(*s().HasEngaged("v", a.iid, EventType::kLike));
  EXPECT_EQ(Put("a", 2).iid, a.iid);
  ASSERT_OK(s().RecordEvent(Event("v", a, EventType::kLike, "us", 80), &counted));
  EXPECT_FALSE(counted);
  ASSERT_OK(s().RecordEvent(Event("u", a, EventType::kLike, "us", 81), &counted));
  EXPECT_TRUE(counted);
}

TEST_F(StoreTest, ReopenReadsEverythingBack) {
  std::vector<PostRecord> posts;
  for (int i = 0; i < 20; ++i) {
    std::string id = test::Name("p", i);
    if (i % 3 == 0) id += std::string("\0\xff", 2);
    posts.push_back(Put(id, i, i % 2 ? "us" : "cn"));
  }
  ASSERT_TRUE(s().DeletePost(posts[4].id)->has_value());
  ASSERT_OK(s().RecordEvent(Event("viewer", posts[1], EventType::kView, "br")));
  ASSERT_OK(s().RecordEvent(Event("viewer", posts[2], EventType::kHide, "br", 7)));
  const uint64_t served[] = {posts[3].iid, posts[5].iid};
  ASSERT_OK(s().MarkServed("viewer", served, 9));
  auto jp = s().GetOrCreateCultureCode("jp");
  ASSERT_RESULT_OK(jp);
  UserRecord u;
  u.id = std::string("\0user", 5);
  u.culture = "de";
  u.langs = {"de", "en"};
  u.openness = 0.5f;
  u.vector = test::TestVector(kDim, 77);
  u.positives = 3;
  ASSERT_OK(s().PutUser(u));
  ASSERT_OK(s().PutMeta("index.spec", "HNSW32"));
  const uint64_t seq = s().LastSequence();
  const auto names = s().CultureNames();

  Reopen();
  EXPECT_EQ(s().LastSequence(), seq);
  EXPECT_EQ(s().CultureNames(), names);
  EXPECT_EQ(s().CultureCode("JP"), std::optional<uint16_t>(*jp));
  EXPECT_EQ(*s().CountPosts(), 19u);
  EXPECT_EQ(*s().CountUsers(), 2u);  // viewer (created by its events) and \0user
  EXPECT_EQ(*s().CountEvents(), 2u);
  for (size_t i = 0; i < posts.size(); ++i) {
    auto got = s().GetPost(posts[i].id);
    ASSERT_RESULT_OK(got);
    if (i == 4) {
      EXPECT_FALSE(got->has_value()) << "a deleted post came back";
      continue;
    }
    ASSERT_TRUE(got->has_value()) << i;
    ExpectSamePost(**got, posts[i]);
  }
  std::vector<uint64_t> order;
  ASSERT_OK(s().ForEachPost([&](const PostRecord& p) {
    order.push_back(p.iid);
    return true;
  }));
  EXPECT_EQ(order.size(), 19u);
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
  auto stats = s().GetStats(posts[2].iid);
  ASSERT_EQ(stats->size(), 1u);
  EXPECT_EQ((*stats)[0].culture, "BR");
  EXPECT_EQ((*stats)[0].negatives, 1);
  auto seen = s().GetSeen("viewer");
  ASSERT_RESULT_OK(seen);
  ASSERT_EQ(seen->size(), 4u);
  EXPECT_EQ((*seen)[1].iid, posts[2].iid);
  EXPECT_EQ((*seen)[1].kind, SeenKind::kHidden);
  EXPECT_EQ((*seen)[1].ts, 7);
  auto user = s().GetUser(u.id);
  ASSERT_TRUE(user->has_value());
  EXPECT_EQ((*user)->culture, "DE");
  EXPECT_EQ((*user)->langs, u.langs);
  EXPECT_EQ((*user)->openness, 0.5f);
  EXPECT_EQ((*user)->positives, 3);
  EXPECT_TRUE(test::SameBits((*user)->vector, u.vector));
  EXPECT_EQ(**s().GetMeta("index.spec"), "HNSW32");
  // The sequence keeps growing and internal ids are never reused.
  const PostRecord next = Put("new", 100);
  EXPECT_EQ(next.seq, seq + 1);
  EXPECT_EQ(next.iid, 21u);
}

TEST_F(StoreTest, WrongDimOnReopenIsInvalidAndChangesNothing) {
  const PostRecord a = Put("a", 1);
  Close();
  opts_.dim = 32;
  auto r = Store::Open(opts_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  EXPECT_EQ(r.status().message(), "database dimension is 8, not 32 (--dim)");
  opts_.dim = 0;  // accept the stored one
  Reopen();
  EXPECT_EQ(s().dim(), kDim);
  ExpectSamePost(**s().GetPost("a"), a);
  opts_.dim = kDim;
  Reopen();
  EXPECT_EQ(s().dim(), kDim);
}

TEST_F(StoreTest, NewDatabaseNeedsDimAndCreateIfMissing) {
  StoreOptions o = opts_;
  o.path = dir_ + "/new";
  o.dim = 0;
  auto r = Store::Open(o);
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  EXPECT_EQ(r.status().message(),
            "creating a database at " + o.path + " needs a dimension (--dim)");
  o.dim = 4;
  o.create_if_missing = false;
  r = Store::Open(o);
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().message(), "no database at " + o.path);
  o.dim = kMaxDim + 1;
  EXPECT_EQ(Store::Open(o).status().code(), Code::kInvalid);
}

TEST_F(StoreTest, SecondPrimaryOpenFailsWithIOError) {
  auto r = Store::Open(opts_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kIOError);
  EXPECT_NE(r.status().message().find("data dir " + opts_.path + " is in use by another process"),
            std::string::npos)
      << r.status().ToString();
  // The first one is unaffected.
  Put("still-works", 1);
}

TEST_F(StoreTest, ReadOnlySecondarySeesPrimaryAfterCatchUp) {
  Put("before", 1);
  StoreOptions ro = opts_;
  ro.read_only = true;
  ro.dim = 0;
  ro.secondary_path = dir_ + "/secondary";
  auto sec_r = Store::Open(ro);
  ASSERT_RESULT_OK(sec_r);
  Store& sec = **sec_r;
  EXPECT_EQ(sec.db_id(), s().db_id());
  EXPECT_TRUE(sec.GetPost("before")->has_value());

  const PostRecord after = Put("after", 2, "ke");
  ASSERT_OK(s().PutMeta("k", "v"));
  ASSERT_OK(sec.CatchUp());
  auto got = sec.GetPost("after");
  ASSERT_RESULT_OK(got);
  ASSERT_TRUE(got->has_value());
  ExpectSamePost(**got, after);
  EXPECT_EQ(sec.LastSequence(), 2u);
  EXPECT_EQ(*sec.CountPosts(), 2u);
  EXPECT_EQ(sec.CultureCode("KE"), std::optional<uint16_t>(after.culture_code));
  EXPECT_EQ(**sec.GetMeta("k"), "v");

  const std::string msg = "store is read-only";
  EXPECT_EQ(sec.PutPost(test::TestPost("x", kDim, 1)).status().message(), msg);
  std::vector<PostRecord> many{test::TestPost("y", kDim, 1)};
  EXPECT_EQ(sec.PutPosts(many).message(), msg);
  EXPECT_EQ(sec.DeletePost("before").status().message(), msg);
  UserRecord u;
  u.id = "u";
  EXPECT_EQ(sec.PutUser(u).message(), msg);
  EXPECT_EQ(sec.DeleteUser("u").status().message(), msg);
  EXPECT_EQ(sec.RecordEvent(Event("u", after, EventType::kLike, "us")).message(), msg);
  EXPECT_EQ(sec.MarkServed("u", {}, 1).message(), msg);
  EXPECT_EQ(sec.PutMeta("k", "w").message(), msg);
  EXPECT_EQ(sec.GetOrCreateCultureCode("zz").status().message(), msg);
  EXPECT_EQ(sec.PutMeta("k", "w").code(), Code::kInvalid);
  EXPECT_EQ(*sec.GetOrCreateCultureCode("ke"), after.culture_code);  // existing: fine
  EXPECT_TRUE(s().GetPost("before")->has_value());
}

TEST_F(StoreTest, ReadOnlyOnMissingDatabaseIsNotFound) {
  StoreOptions ro = opts_;
  ro.read_only = true;
  ro.path = dir_ + "/missing";
  EXPECT_EQ(Store::Open(ro).status().code(), Code::kNotFound);
  EXPECT_FALSE(fs::exists(ro.path));
}

TEST_F(StoreTest, HiddenMarkIsNeverDowngraded) {
  const PostRecord a = Put("a", 1);
  const PostRecord b = Put("b", 2);
  ASSERT_OK(s().RecordEvent(Event("u", a, EventType::kHide, "us", 10)));
  const uint64_t both[] = {a.iid, b.iid};
  ASSERT_OK(s().MarkServed("u", both, 20));
  ASSERT_OK(s().RecordEvent(Event("u", a, EventType::kView, "us", 30)));
  ASSERT_OK(s().RecordEvent(Event("u", b, EventType::kView, "us", 40)));
  auto seen = s().GetSeen("u");
  ASSERT_RESULT_OK(seen);
  ASSERT_EQ(seen->size(), 2u);
  EXPECT_EQ((*seen)[0].iid, a.iid);
  EXPECT_EQ((*seen)[0].kind, SeenKind::kHidden);
  EXPECT_EQ((*seen)[0].ts, 10);
  EXPECT_EQ((*seen)[1].iid, b.iid);
  EXPECT_EQ((*seen)[1].kind, SeenKind::kViewed);  // served -> viewed is fine
  EXPECT_EQ((*seen)[1].ts, 40);
  // Hidden then report: still hidden, newer time.
  ASSERT_OK(s().RecordEvent(Event("u", a, EventType::kReport, "us", 50)));
  EXPECT_EQ((*s().GetSeen("u"))[0].ts, 50);
  // Within one bulk call too.
  ASSERT_OK(s().RecordEvents({Event("v", a, EventType::kHide, "us", 1),
                              Event("v", a, EventType::kView, "us", 2)}));
  EXPECT_EQ((*s().GetSeen("v"))[0].kind, SeenKind::kHidden);
}

TEST_F(StoreTest, EventsMoveCountersUsersAndLog) {
  const PostRecord a = Put("a", 1);
  ASSERT_OK(s().RecordEvent(Event("u1", a, EventType::kView, "us")));
  ASSERT_OK(s().RecordEvent(Event("u1", a, EventType::kLike, "us")));
  ASSERT_OK(s().RecordEvent(Event("u2", a, EventType::kView, "cn")));
  ASSERT_OK(s().RecordEvent(Event("u2", a, EventType::kSave, "cn")));
  ASSERT_OK(s().RecordEvent(Event("u2", a, EventType::kReport, "cn")));
  EventWrite anon = Event("u3", a, EventType::kView, "");
  ASSERT_OK(s().RecordEvent(anon));
  auto stats = s().GetStats(a.iid);
  ASSERT_RESULT_OK(stats);
  ASSERT_EQ(stats->size(), 3u);  // "", CN, US: ascending by name
  EXPECT_EQ((*stats)[0].culture, "");
  EXPECT_EQ((*stats)[0].impressions, 1);
  EXPECT_EQ((*stats)[1].culture, "CN");
  EXPECT_EQ((*stats)[1].impressions, 1);
  EXPECT_EQ((*stats)[1].positives, 1);
  EXPECT_EQ((*stats)[1].negatives, 1);
  EXPECT_EQ((*stats)[2].culture, "US");
  EXPECT_EQ((*stats)[2].positives, 1);
  int rows = 0;
  ASSERT_OK(s().ForEachStats([&](uint64_t iid, const CultureCounts&) {
    EXPECT_EQ(iid, a.iid);
    return ++rows < 2;  // stops early
  }));
  EXPECT_EQ(rows, 2);
  EXPECT_EQ(*s().CountEvents(), 6u);
  EXPECT_EQ(*s().CountUsers(), 3u);
  EXPECT_TRUE(s().GetUser("u3")->has_value());
  // The post's own sequence is untouched by events.
  EXPECT_EQ(s().LastSequence(), 1u);
  EventWrite bad = Event("u1", a, EventType::kLike, "not a culture");
  EXPECT_EQ(s().RecordEvent(bad).code(), Code::kInvalid);
  EXPECT_EQ(*s().CountEvents(), 6u);
}

TEST_F(StoreTest, DeleteUserRemovesProfileSeenAndEvents) {
  const PostRecord a = Put("a", 1);
  // Length-prefixed keys: "ab" and "a\0" do not fall inside "a"'s range.
  for (const std::string& user : {std::string("a"), std::string("ab"), std::string("a\0", 2)}) {
    ASSERT_OK(s().RecordEvent(Event(user, a, EventType::kView, "us")));
    const uint64_t iids[] = {a.iid + 100};
    ASSERT_OK(s().MarkServed(user, iids, 5));
  }
  EXPECT_EQ(*s().CountEvents(), 3u);
  auto del = s().DeleteUser("a");
  ASSERT_RESULT_OK(del);
  EXPECT_TRUE(*del);
  EXPECT_FALSE(s().GetUser("a")->has_value());
  EXPECT_TRUE(s().GetSeen("a")->empty());
  EXPECT_EQ(*s().CountEvents(), 2u);
  EXPECT_EQ(*s().CountUsers(), 2u);
  EXPECT_EQ(s().GetSeen("ab")->size(), 2u);
  EXPECT_EQ(s().GetSeen(std::string("a\0", 2))->size(), 2u);
  EXPECT_FALSE(*s().DeleteUser("a"));
  EXPECT_FALSE(*s().DeleteUser("nobody"));
  // The counters the user's events moved stay (they belong to the post).
  EXPECT_EQ((*s().GetStats(a.iid))[0].impressions, 3);
  Reopen();
  EXPECT_EQ(*s().CountEvents(), 2u);
  EXPECT_TRUE(s().GetSeen("a")->empty());
}

TEST_F(StoreTest, CultureCodesAreStableAndNeverReused) {
  EXPECT_EQ(s().CultureCode("us"), std::nullopt);
  EXPECT_EQ(s().CultureCode(""), std::optional<uint16_t>(0));
  EXPECT_EQ(*s().GetOrCreateCultureCode("us"), 1);
  EXPECT_EQ(*s().GetOrCreateCultureCode("US"), 1);
  EXPECT_EQ(*s().GetOrCreateCultureCode("br"), 2);
  EXPECT_EQ(*s().GetOrCreateCultureCode(""), 0);
  EXPECT_EQ(s().GetOrCreateCultureCode("b r").status().code(), Code::kInvalid);
  EXPECT_EQ(Put("p", 1, "cn").culture_code, 3);
  UserRecord u;
  u.id = "u";
  u.culture = "fr";  // a user's culture gets a code too
  ASSERT_OK(s().PutUser(u));
  const std::vector<std::string> want{"", "US", "BR", "CN", "FR"};
  EXPECT_EQ(s().CultureNames(), want);
  Reopen();
  EXPECT_EQ(s().CultureNames(), want);
  EXPECT_EQ(s().CultureCode("br"), std::optional<uint16_t>(2));
  EXPECT_EQ(*s().GetOrCreateCultureCode("jp"), 5);
}

TEST_F(StoreTest, BulkPutPostsAndForEachPost) {
  std::vector<PostRecord> posts;
  for (int i = 0; i < 2500; ++i) posts.push_back(test::TestPost(test::Name("p", i), kDim, i));
  posts.push_back(test::TestPost("p7", kDim, 9999));  // same id twice in one call
  ASSERT_OK(s().PutPosts(posts));
  EXPECT_EQ(*s().CountPosts(), 2500u);
  EXPECT_EQ(s().LastSequence(), 2501u);
  EXPECT_EQ(posts.back().iid, posts[7].iid);
  for (size_t i = 1; i < posts.size(); ++i) EXPECT_EQ(posts[i].seq, posts[i - 1].seq + 1);
  ExpectSamePost(**s().GetPost("p7"), posts.back());
  uint64_t visited = 0, last = 0;
  ASSERT_OK(s().ForEachPost([&](const PostRecord& p) {
    EXPECT_GT(p.iid, last);
    last = p.iid;
    return ++visited < 2000;
  }));
  EXPECT_EQ(visited, 2000u);
  // ScanPosts: the same posts, each once, with their iids; stops when told.
  std::map<uint64_t, std::string> by_iid, scanned;
  ASSERT_OK(s().ForEachPost([&](const PostRecord& p) { return by_iid.emplace(p.iid, p.id).second; }));
  ASSERT_OK(s().ScanPosts([&](const PostRecord& p) {
    EXPECT_EQ(p.vector.size(), size_t(kDim));
    return scanned.emplace(p.iid, p.id).second;
  }));
  EXPECT_EQ(scanned, by_iid);
  EXPECT_EQ(scanned.size(), 2500u);
  visited = 0;
  ASSERT_OK(s().ScanPosts([&](const PostRecord&) { return ++visited < 10; }));
  EXPECT_EQ(visited, 10u);
  // A bad record anywhere writes nothing.
  std::vector<PostRecord> bad{test::TestPost("q1", kDim, 1), test::TestPost("q2", kDim, 2)};
  bad[1].vector.pop_back();
  EXPECT_EQ(s().PutPosts(bad).code(), Code::kWrongDim);
  EXPECT_FALSE(s().GetPost("q1")->has_value());
}

TEST_F(StoreTest, UsersRoundTripAndValidate) {
  UserRecord u;
  u.id = "u";
  EXPECT_FALSE(s().GetUser("u")->has_value());
  ASSERT_OK(s().PutUser(u));
  auto got = s().GetUser("u");
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->openness, -1.0f);
  EXPECT_TRUE((*got)->vector.empty());
  ASSERT_OK(s().PutUsers({u, u}));
  EXPECT_EQ(*s().CountUsers(), 1u);
  u.openness = 1.5f;
  EXPECT_EQ(s().PutUser(u).message(), "openness must be in [0, 1]");
  u.openness = 0.3f;
  u.vector = {1.0f, 2.0f};
  EXPECT_EQ(s().PutUser(u).code(), Code::kWrongDim);
  u.vector.clear();
  u.id = std::string(129, 'u');
  EXPECT_EQ(s().PutUser(u).message(), "user id must be 1 to 128 bytes, got 129");
}

TEST_F(StoreTest, MetaKeysOfTheStoreAreReserved) {
  EXPECT_FALSE(s().GetMeta("missing")->has_value());
  ASSERT_OK(s().PutMeta("bf.index.spec", std::string("a\0b", 3)));
  EXPECT_EQ(**s().GetMeta("bf.index.spec"), std::string("a\0b", 3));
  const Status st = s().PutMeta("bf.store.dim", "x");
  EXPECT_EQ(st.code(), Code::kInvalid);
  EXPECT_EQ(st.message(), "meta keys starting with bf.store. are reserved for the store");
  EXPECT_EQ(s().PutMeta("", "x").code(), Code::kInvalid);
}

TEST_F(StoreTest, CheckpointIsAConsistentCopy) {
  const PostRecord a = Put("a", 1);
  const std::string cp = dir_ + "/cp";
  fs::create_directory(cp);  // an empty folder is accepted
  ASSERT_OK(s().Checkpoint(cp));
  Put("b", 2);
  EXPECT_EQ(s().Checkpoint(cp).code(), Code::kInvalid);  // not empty now
  StoreOptions o = opts_;
  o.path = cp;
  auto copy = Store::Open(o);
  ASSERT_RESULT_OK(copy);
  EXPECT_EQ((*copy)->db_id(), s().db_id());
  ExpectSamePost(**(*copy)->GetPost("a"), a);
  EXPECT_FALSE((*copy)->GetPost("b")->has_value());
  EXPECT_EQ((*copy)->LastSequence(), 1u);
}

TEST_F(StoreTest, DiskBytesAndSync) {
  const uint64_t before = s().DiskBytes();
  EXPECT_GT(before, 0u);
  for (int i = 0; i < 50; ++i) Put(test::Name("p", i), i);
  ASSERT_OK(s().Sync());
  EXPECT_GT(s().DiskBytes(), before);
}

TEST_F(StoreTest, EveryFsyncPolicyWorksAcrossReopen) {
  for (FsyncPolicy f : {FsyncPolicy::kAlways, FsyncPolicy::kEverysec, FsyncPolicy::kNo}) {
    opts_.fsync = f;
    Reopen();
    Put(test::Name("p", static_cast<int>(f)), 1);
  }
  Reopen();
  EXPECT_EQ(*s().CountPosts(), 3u);
}

TEST_F(StoreTest, ConcurrentWritersGetDistinctSequences) {
  constexpr int kThreads = 4, kPer = 100;
  std::vector<std::vector<PostRecord>> out(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        auto r = s().PutPost(test::TestPost(test::Name("t", t * 1000 + i),
                                            kDim, i, t % 2 ? "us" : test::Name("x", i % 5)));
        if (r.ok()) out[t].push_back(*r);
      }
    });
  for (auto& th : threads) th.join();
  std::set<uint64_t> seqs, iids;
  for (const auto& v : out)
    for (const auto& p : v) {
      seqs.insert(p.seq);
      iids.insert(p.iid);
    }
  EXPECT_EQ(seqs.size(), size_t{kThreads * kPer});
  EXPECT_EQ(iids.size(), size_t{kThreads * kPer});
  EXPECT_EQ(s().LastSequence(), uint64_t{kThreads * kPer});
  EXPECT_EQ(s().CultureNames().size(), 7u);  // "", US, X0..X4 in some order
}

// A database from before the engaged and retired column families: a writer
// adds them and keeps every counter; a reader asks for that first.
TEST_F(StoreTest, OlderDatabaseWithoutEngagementMarksUpgradesOnOpen) {
  const PostRecord a = Put("a", 1);
  ASSERT_OK(s().RecordEvent(Event("u", a, EventType::kLike, "us")));
  Close();
  {
    // The store's own options (merge operators), so the reopen keeps its data.
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> h;
    ASSERT_TRUE(rocksdb::DB::Open(internal::MakeDbOptions(), opts_.path,
                                  internal::MakeColumnFamilies(), &h, &raw)
                    .ok());
    for (auto* c : h) {
      if (c->GetName() == "engaged" || c->GetName() == "retired") {
        ASSERT_TRUE(raw->DropColumnFamily(c).ok());
      }
    }
    for (auto* c : h) (void)raw->DestroyColumnFamilyHandle(c);
    delete raw;
  }
  StoreOptions ro = opts_;
  ro.read_only = true;
  auto reader = Store::Open(ro);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), Code::kInvalid);
  EXPECT_EQ(reader.status().message(),
            opts_.path + " was written by an older bridgefeed: open it once with "
                         "bridgefeed-server or bridgefeed-import to upgrade it");
  Reopen();
  // The old counters stay; the user had no mark, so one more like counts once.
  ASSERT_EQ(s().GetStats(a.iid)->size(), 1u);
  EXPECT_EQ((*s().GetStats(a.iid))[0].positives, 1);
  bool counted = false;
  ASSERT_OK(s().RecordEvent(Event("u", a, EventType::kLike, "us"), &counted));
  EXPECT_TRUE(counted);
  ASSERT_OK(s().RecordEvent(Event("u", a, EventType::kLike, "us"), &counted));
  EXPECT_FALSE(counted);
  EXPECT_EQ((*s().GetStats(a.iid))[0].positives, 2);
  Close();
  EXPECT_TRUE(Store::Open(ro).ok());  // upgraded: a reader opens it now
}

// Garbage written straight into RocksDB comes back as Corruption.
TEST_F(StoreTest, DamagedRecordsAreCorruption) {
  Put("good", 1);
  Close();
  {
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* n : {"default", "meta", "posts", "post_ids", "stats", "users", "seen",
                          "events", "engaged", "retired"})
      cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> h;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), opts_.path, cfs, &h, &raw).ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), h[2], "bad", "\x01garbage").ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), h[5], "baduser", "\x09").ok());
    for (auto* c : h) (void)raw->DestroyColumnFamilyHandle(c);
    delete raw;
  }
  Reopen();
  auto p = s().GetPost("bad");
  EXPECT_EQ(p.status().code(), Code::kCorruption);
  EXPECT_EQ(p.status().message(), "damaged post record");
  EXPECT_EQ(s().GetUser("baduser").status().code(), Code::kCorruption);
  EXPECT_EQ(s().PutPost(test::TestPost("bad", kDim, 1)).status().code(), Code::kCorruption);
  EXPECT_TRUE(s().GetPost("good")->has_value());
}

// ImportEvents writes what RecordEvents writes, apart from user records.
TEST_F(StoreTest, ImportEventsMatchesRecordEvents) {
  const PostRecord a = Put("a", 1), b = Put("b", 2);
  const std::vector<EventWrite> events = {
      Event("u", a, EventType::kView, "us", 1),   Event("u", a, EventType::kLike, "us", 2),
      Event("u", b, EventType::kHide, "us", 3),   Event("u", b, EventType::kView, "us", 4),
      Event("w", a, EventType::kView, "jp", 5),   Event("w", a, EventType::kReport, "jp", 6),
      Event("w", b, EventType::kView, "", 7),     Event("w", b, EventType::kView, "", 8)};
  // A hidden mark stored before the import survives a later imported view.
  ASSERT_OK(s().RecordEvent(Event("x", a, EventType::kHide, "us", 0)));
  std::vector<ImportedEvent> imported;
  for (const auto& e : events) imported.push_back(Imported(e));
  imported.push_back(Imported(Event("x", a, EventType::kView, "us", 9)));
  ASSERT_OK(s().ImportEvents(imported));
  EXPECT_EQ(*s().CountEvents(), 10u);
  EXPECT_EQ(*s().CountUsers(), 1u);  // only x's, from RecordEvent
  auto sa = s().GetStats(a.iid);
  ASSERT_RESULT_OK(sa);
  auto sb = s().GetStats(b.iid);
  ASSERT_RESULT_OK(sb);
  auto seen_u = s().GetSeen("u");
  auto seen_w = s().GetSeen("w");
  auto seen_x = s().GetSeen("x");

  // The same through RecordEvents in a fresh database.
  Destroy();
  Reopen();
  const PostRecord a2 = Put("a", 1), b2 = Put("b", 2);
  ASSERT_EQ(a2.iid, a.iid);
  ASSERT_EQ(b2.iid, b.iid);
  ASSERT_OK(s().RecordEvent(Event("x", a, EventType::kHide, "us", 0)));
  ASSERT_OK(s().RecordEvents(events));
  ASSERT_OK(s().RecordEvent(Event("x", a, EventType::kView, "us", 9)));
  auto same_stats = [](const std::vector<CultureCounts>& x, const std::vector<CultureCounts>& y) {
    ASSERT_EQ(x.size(), y.size());
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i].culture, y[i].culture);
      EXPECT_EQ(x[i].impressions, y[i].impressions);
      EXPECT_EQ(x[i].positives, y[i].positives);
      EXPECT_EQ(x[i].negatives, y[i].negatives);
    }
  };
  same_stats(*sa, *s().GetStats(a.iid));
  same_stats(*sb, *s().GetStats(b.iid));
  auto same_seen = [](const std::vector<SeenMark>& x, const std::vector<SeenMark>& y) {
    ASSERT_EQ(x.size(), y.size());
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i].iid, y[i].iid);
      EXPECT_EQ(x[i].kind, y[i].kind);
      EXPECT_EQ(x[i].ts, y[i].ts);
    }
  };
  same_seen(*seen_u, *s().GetSeen("u"));
  same_seen(*seen_w, *s().GetSeen("w"));
  same_seen(*seen_x, *s().GetSeen("x"));
  EXPECT_EQ((*seen_x)[0].kind, SeenKind::kHidden);
  // w viewed b twice: one impression (people, not clicks), the later time.
  ASSERT_EQ(sb->size(), 2u);
  EXPECT_EQ((*sb)[0].culture, "");
  EXPECT_EQ((*sb)[0].impressions, 1);
  EXPECT_EQ((*seen_w)[1].ts, 8);
  EXPECT_EQ((*seen_u)[1].kind, SeenKind::kHidden);
  EXPECT_EQ((*seen_u)[1].ts, 3);
}

TEST_F(StoreTest, ImportEventsValidatesBeforeWriting) {
  const PostRecord a = Put("a", 1);
  const PostRecord gone = Put("gone", 2);
  ASSERT_RESULT_OK(s().DeletePost("gone"));
  ImportedEvent ok = Imported(Event("u", a, EventType::kView, "us"));
  ImportedEvent bad = ok;
  bad.post_iid = gone.iid;
  const std::vector<ImportedEvent> dead = {ok, bad};
  Status st = s().ImportEvents(dead);
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_EQ(st.message(), "post");
  bad = ok;
  bad.viewer_culture = "u s";
  const std::vector<ImportedEvent> culture = {ok, bad};
  st = s().ImportEvents(culture);
  EXPECT_EQ(st.code(), Code::kInvalid);
  EXPECT_EQ(st.message(), "culture must be 1 to 16 bytes of [A-Za-z0-9_-]");
  bad = ok;
  bad.user = "";
  const std::vector<ImportedEvent> user = {ok, bad};
  st = s().ImportEvents(user);
  EXPECT_EQ(st.code(), Code::kInvalid);
  EXPECT_EQ(st.message(), "user id must be 1 to 128 bytes, got 0");
  EXPECT_EQ(*s().CountEvents(), 0u);
  EXPECT_TRUE(s().GetStats(a.iid)->empty());
  EXPECT_TRUE(s().GetSeen("u")->empty());
}

TEST_F(StoreTest, BulkLoadWritesReachDiskOnSyncAndClose) {
  opts_.bulk_load = true;
  Reopen();
  const PostRecord a = Put("a", 1);
  ASSERT_OK(s().Sync());
  const PostRecord b = Put("b", 2);
  Reopen();  // closing flushes what the WAL does not hold
  ExpectSamePost(**s().GetPost("a"), a);
  ExpectSamePost(**s().GetPost("b"), b);
  EXPECT_EQ(*s().CountPosts(), 2u);
}

}  // namespace
}  // namespace bf
