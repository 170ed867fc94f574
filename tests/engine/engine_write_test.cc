// Engine::Write: a group of writes applied as one WriteBatch, each op seeing
// the ones before it; all or nothing, or per-op errors; the applied log
// sequence stored with it.
#include <gtest/gtest.h>

#include "engine/engine.h"
#include "tests/engine/engine_fixture.h"
#include "tests/test_util.h"

namespace bf {
namespace {

constexpr int kDim = 4;

class EngineWriteTest : public testing::EngineFixture {
 protected:
  EngineWriteTest() : EngineFixture(kDim) {}
  static PostInput Post(const std::string& id, float x) {
    PostInput p;
    p.id = id;
    p.author = "a_" + id;
    p.culture = "US";
    p.vector = {x, 1, 0, 0};
    return p;
  }
  static UserUpdate User(const std::string& id, const std::string& culture) {
    UserUpdate u;
    u.id = id;
    u.culture = culture;
    return u;
  }
  static EventOp Like(const std::string& user, const std::string& post) {
    return EventOp{user, post, EventType::kLike, std::nullopt, std::nullopt, false};
  }
};

TEST_F(EngineWriteTest, GroupOpsSeeEarlierOpsAndSurviveReopen) {
  // The event names a post and a user created earlier in the same group.
  std::vector<WriteOp> ops = {User("u1", "br"), Post("p1", 0), Like("u1", "p1"),
                              Post("p2", 1), DeletePostOp{"p2"}, DeleteUserOp{"nobody"}};
  auto r = engine_->Write(ops, WriteOptions{});
  ASSERT_RESULT_OK(r);
  ASSERT_EQ(r->size(), 6u);
  for (const WriteOutcome& o : *r) EXPECT_OK(o.status);
  EXPECT_TRUE((*r)[4].existed);   // p2, added two ops before
  EXPECT_FALSE((*r)[5].existed);  // never was

  Reopen();
  auto u = engine_->GetUser("u1");
  ASSERT_RESULT_OK(u);
  ASSERT_TRUE(u->has_value());
  EXPECT_EQ((*u)->culture, "BR");
  EXPECT_EQ((*u)->positives, 1);
  EXPECT_EQ((*u)->vector.size(), static_cast<size_t>(kDim));  // moved to the liked post
  EXPECT_EQ(Positives("p1"), 1);
  auto p2 = engine_->GetPost("p2");
  ASSERT_RESULT_OK(p2);
  EXPECT_FALSE(p2->has_value());
  EXPECT_EQ(engine_->Counters().posts, 1u);
  auto sim = engine_->Similar("p1", 5, false);
  ASSERT_RESULT_OK(sim);
  EXPECT_TRUE(sim->empty());  // p2 is gone from the index too
}

TEST_F(EngineWriteTest, AllOrNothingWritesNothingOnAnyError) {
  std::vector<WriteOp> ops = {User("u1", "BR"), Post("p1", 0), Like("u1", "no_such_post")};
  auto r = engine_->Write(ops, WriteOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().message(), "post");
  auto u = engine_->GetUser("u1");
  ASSERT_RESULT_OK(u);
  EXPECT_FALSE(u->has_value());
  auto p = engine_->GetPost("p1");
  ASSERT_RESULT_OK(p);
  EXPECT_FALSE(p->has_value());
  EXPECT_EQ(engine_->Counters().posts, 0u);

  // A bad vector is caught before anything is written as well.
  PostInput bad = Post("p3", 0);
  bad.vector = {1, 2};
  std::vector<WriteOp> ops2 = {Post("p2", 0), bad};
  auto r2 = engine_->Write(ops2, WriteOptions{});
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), Code::kWrongDim);
  EXPECT_EQ(engine_->Counters().posts, 0u);
}

TEST_F(EngineWriteTest, PerOpErrorsLeaveTheRestWritten) {
  ASSERT_OK(engine_->AddPost(Post("p1", 0)));
  std::vector<WriteOp> ops = {Like("u1", "p1"), Like("u1", "missing"), User("", "BR"),
                              DeletePostOp{"p1"}, Like("u2", "p1")};
  WriteOptions options;
  options.all_or_nothing = false;
  auto r = engine_->Write(ops, options);
  ASSERT_RESULT_OK(r);
  EXPECT_OK((*r)[0].status);
  EXPECT_EQ((*r)[1].status.code(), Code::kNotFound);
  EXPECT_EQ((*r)[2].status.code(), Code::kInvalid);
  EXPECT_OK((*r)[3].status);
  EXPECT_TRUE((*r)[3].existed);
  EXPECT_EQ((*r)[4].status.code(), Code::kNotFound);  // deleted by the op before it
  auto u1 = engine_->GetUser("u1");
  ASSERT_RESULT_OK(u1);
  ASSERT_TRUE(u1->has_value());
  EXPECT_EQ((*u1)->positives, 1);  // the failed like on "missing" counted nothing
  auto u2 = engine_->GetUser("u2");
  ASSERT_RESULT_OK(u2);
  EXPECT_FALSE(u2->has_value());
}

TEST_F(EngineWriteTest, DeleteAndReAddInOneGroupGetsAFreshPost) {
  ASSERT_OK(engine_->AddPost(Post("p1", 0)));
  ASSERT_OK(engine_->RecordEvent("u1", "p1", EventType::kLike, std::nullopt));
  ASSERT_EQ(Positives("p1"), 1);
  std::vector<WriteOp> ops = {DeletePostOp{"p1"}, Post("p1", 1), Like("u2", "p1"),
                              Like("u3", "p1")};
  ASSERT_RESULT_OK(engine_->Write(ops, WriteOptions{}));
  EXPECT_EQ(Positives("p1"), 2);  // the old counters went with the delete
  Reopen();
  EXPECT_EQ(Positives("p1"), 2);
  EXPECT_EQ(engine_->Counters().posts, 1u);
}

TEST_F(EngineWriteTest, AppliedLogSeqIsStoredWithTheBatch) {
  EXPECT_EQ(engine_->AppliedLogSeq(), 0u);
  WriteOptions options;
  options.applied_log_seq = 41;
  std::vector<WriteOp> ops = {Post("p1", 0)};
  ASSERT_RESULT_OK(engine_->Write(ops, options));
  EXPECT_EQ(engine_->AppliedLogSeq(), 41u);
  // A group whose only op fails still records the sequence (it was applied).
  options.applied_log_seq = 42;
  options.all_or_nothing = false;
  std::vector<WriteOp> bad = {Like("u1", "missing")};
  auto r = engine_->Write(bad, options);
  ASSERT_RESULT_OK(r);
  EXPECT_EQ((*r)[0].status.code(), Code::kNotFound);
  EXPECT_EQ(engine_->AppliedLogSeq(), 42u);
  // All or nothing: a failed group records nothing, the sequence included.
  options.applied_log_seq = 43;
  options.all_or_nothing = true;
  EXPECT_FALSE(engine_->Write(bad, options).ok());
  EXPECT_EQ(engine_->AppliedLogSeq(), 42u);
  Reopen();
  EXPECT_EQ(engine_->AppliedLogSeq(), 42u);
}

TEST_F(EngineWriteTest, ClosedEngineRefusesWrites) {
  ASSERT_OK(engine_->Close());
  std::vector<WriteOp> ops = {Post("p1", 0)};
  auto r = engine_->Write(ops, WriteOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "engine is closed");
}

// Cluster mode on a node that does not own the user: the event moves the post's
// counters and is logged (TRAIN reads every event on every node), but the user
// gets no record; USER.DEL, applied on every node, removes the logged event.
TEST_F(EngineWriteTest, CountersOnlyEventIsLoggedWithoutAUserRecord) {
  std::vector<WriteOp> add = {Post("p1", 0)};
  ASSERT_RESULT_OK(engine_->Write(add, WriteOptions{}));
  EventOp like = Like("far", "p1");
  like.counters_only = true;
  like.viewer_culture = "BR";
  std::vector<WriteOp> ops = {like};
  auto r = engine_->Write(ops, WriteOptions{});
  ASSERT_RESULT_OK(r);
  EXPECT_OK((*r)[0].status);
  EXPECT_EQ(Positives("p1"), 1);
  EXPECT_EQ(engine_->Counters().users, 0u);
  auto u = engine_->GetUser("far");
  ASSERT_RESULT_OK(u);
  EXPECT_FALSE(u->has_value());

  Reopen();
  // TRAIN reads the logged event.
  auto trained = engine_->Train(true);
  ASSERT_RESULT_OK(trained);
  EXPECT_EQ(trained->events, 1);
  EXPECT_EQ(trained->users, 1);
  u = engine_->GetUser("far");
  ASSERT_RESULT_OK(u);
  EXPECT_FALSE(u->has_value());  // trained, but no record written for it here

  std::vector<WriteOp> del = {DeleteUserOp{"far"}};
  r = engine_->Write(del, WriteOptions{});
  ASSERT_RESULT_OK(r);
  EXPECT_OK((*r)[0].status);
  EXPECT_FALSE((*r)[0].existed);  // no record here, only its events
  auto again = engine_->Train(true);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().message(), "no events to train on");
}

}  // namespace
}  // namespace bf
