// Drives the real bridgefeed-gen and bridgefeed-import binaries on small
// files written by the test, then opens the store to check what landed.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "embeddings/vector.h"
#include "tools/import/import_parse.h"
#include "engine/store/layout.h"
#include "engine/store/store.h"
#include "index/ann_index.h"
#include "tests/engine/store/store_test_util.h"
#include "tests/test_util.h"
#include "tests/tools/tools_test_util.h"

namespace bf {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

struct RunResult {
  int rc = -1;
  std::string err;  // everything the command wrote to stderr
};

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::MakeTempDir(); }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string Write(const std::string& name, const std::string& text) {
    return test::WriteFile(Path(name), text);
  }
  // Runs a shell command line; stderr is captured.
  RunResult Exec(const std::string& cmd) {
    const std::string err = Path("stderr.txt");
    const int status = std::system((cmd + " 2>" + err).c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(err)};
  }
  // bridgefeed-import --quiet --data-dir <data> ARGS
  RunResult Import(const std::string& args) {
    return Exec(std::string(BF_IMPORT_BIN) + " --quiet --data-dir " + Data() + " " + args);
  }
  std::string Data() const { return Path("data"); }

  std::unique_ptr<Store> Open() { return test::OpenDatabase(Data()); }

  // Everything a failed import could have touched, as one string.
  std::string Digest() {
    auto s = Open();
    if (!s) return "";
    std::ostringstream out;
    out << "seq " << s->LastSequence() << " posts " << *s->CountPosts() << " users "
        << *s->CountUsers() << " events " << *s->CountEvents() << "\n";
    EXPECT_OK(s->ForEachPost([&](const PostRecord& p) {
      out << p.id << " " << p.iid << " " << p.seq << " " << p.author << " " << p.title << "\n";
      return true;
    }));
    EXPECT_OK(s->ForEachStats([&](uint64_t iid, const CultureCounts& c) {
      out << iid << c.culture << " " << c.impressions << c.positives << c.negatives << "\n";
      return true;
    }));
    return out.str();
  }

  // A small database: dim 3, posts p:1 (US) and p:2 (CN), user u:1 (CN).
  void MakeBase() {
    Write("base_posts.jsonl",
          "{\"id\":\"p:1\",\"author\":\"a:1\",\"culture\":\"us\",\"ts\":1700000010,\"vector\":[1,0,0]}\n"
          "{\"id\":\"p:2\",\"author\":\"a:2\",\"culture\":\"cn\",\"ts\":1700000020,\"vector\":[0,1,0]}\n");
    Write("base_users.jsonl", "{\"id\":\"u:1\",\"culture\":\"cn\",\"vector\":[0,0,1]}\n");
    RunResult r =
        Import("--posts " + Path("base_posts.jsonl") + " --users " + Path("base_users.jsonl"));
    ASSERT_EQ(r.rc, 0) << r.err;
  }

  std::string dir_;
};

constexpr char kNothingWritten[] =
    "bridgefeed-import: nothing was written (--skip-invalid loads the valid lines)\n";


TEST_F(ImportTest, GeneratedWorldRoundTrips) {
  const std::string world = Path("world");
  RunResult gen = Exec(std::string(BF_GEN_BIN) + " --out-dir " + world +
                 " --posts 300 --users 30 --dim 8 --seed 7");
  ASSERT_EQ(gen.rc, 0) << gen.err;
  // Vectors kept, so users' vectors must come back as the file has them.
  RunResult r = Import("--keep-user-vectors --posts " + world + "/posts.jsonl --users " + world +
                 "/users.jsonl --events " + world + "/events.jsonl");
  ASSERT_EQ(r.rc, 0) << r.err;
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(store->dim(), 8);
  {  // The index is built at the end, so the server starts without building it.
    IndexOptions io;
    io.dim = 8;
    SnapshotStamp stamp;
    auto index = AnnIndex::Load(SnapshotPath(Data()), store->db_id(), io, &stamp);
    ASSERT_RESULT_OK(index);
    EXPECT_EQ((*index)->Stats().live, 300);
    EXPECT_EQ(stamp.seq, store->LastSequence());
  }
  ImportParser parser(8, static_cast<int64_t>(std::time(nullptr)));

  const auto post_lines = Lines(world + "/posts.jsonl");
  EXPECT_EQ(*store->CountPosts(), post_lines.size());
  std::map<std::string, uint64_t> iids;
  for (const auto& line : post_lines) {
    auto want = parser.ParsePost(line);
    ASSERT_RESULT_OK(want);
    auto got = store->GetPost(want->id);
    ASSERT_RESULT_OK(got);
    ASSERT_TRUE(got->has_value()) << want->id;
    const PostRecord& p = **got;
    EXPECT_EQ(p.author, want->author);
    EXPECT_EQ(p.culture, want->culture);
    EXPECT_EQ(p.lang, want->lang);
    EXPECT_EQ(p.ts, want->ts);
    EXPECT_EQ(p.tags, want->tags);
    EXPECT_EQ(p.title, want->title);
    EXPECT_TRUE(test::SameBits(p.vector, want->vector)) << want->id;
    iids[p.id] = p.iid;
  }

  // Expected counters from the events file: per user, and per (post, culture).
  std::map<std::string, UserRecord> users;
  for (const auto& line : Lines(world + "/users.jsonl")) {
    auto u = parser.ParseUser(line);
    ASSERT_RESULT_OK(u);
    users[u->id] = *u;
  }
  std::map<std::pair<uint64_t, std::string>, std::array<int64_t, 3>> stats;
  // Each user counts once per post and kind (docs/ranking.md).
  std::set<std::tuple<std::string, std::string, Engagement>> engaged;
  size_t repeats = 0;
  const auto event_lines = Lines(world + "/events.jsonl");
  for (const auto& line : event_lines) {
    auto e = parser.ParseEvent(line);
    ASSERT_RESULT_OK(e);
    if (!engaged.emplace(e->user, e->post, EngagementOf(e->type)).second) {
      ++repeats;
      continue;
    }
    UserRecord& u = users[e->user];
    auto& c = stats[{iids.at(e->post), u.culture}];
    c[0] += e->type == EventType::kView;
    if (IsPositive(e->type)) ++u.positives, ++c[1];
    if (IsNegative(e->type)) ++u.negatives, ++c[2];
  }
  ASSERT_GT(event_lines.size(), 100u);
  RecordProperty("repeated_engagements", static_cast<int>(repeats));
  EXPECT_EQ(*store->CountEvents(), event_lines.size());
  EXPECT_EQ(*store->CountUsers(), users.size());
  for (const auto& [id, want] : users) {
    auto got = store->GetUser(id);
    ASSERT_RESULT_OK(got);
    ASSERT_TRUE(got->has_value()) << id;
    EXPECT_EQ((*got)->culture, want.culture);
    EXPECT_EQ((*got)->langs, want.langs);
    EXPECT_EQ((*got)->openness, want.openness);
    EXPECT_TRUE(test::SameBits((*got)->vector, want.vector)) << id;
    EXPECT_EQ((*got)->positives, want.positives) << id;
    EXPECT_EQ((*got)->negatives, want.negatives) << id;
  }
  size_t rows = 0;
  ASSERT_OK(store->ForEachStats([&](uint64_t iid, const CultureCounts& c) {
    auto it = stats.find({iid, c.culture});
    EXPECT_NE(it, stats.end()) << iid << " " << c.culture;
    if (it != stats.end()) {
      EXPECT_EQ(c.impressions, it->second[0]);
      EXPECT_EQ(c.positives, it->second[1]);
      EXPECT_EQ(c.negatives, it->second[2]);
    }
    ++rows;
    return true;
  }));
  EXPECT_EQ(rows, stats.size());
  EXPECT_GT(rows, 10u);
}

// As EVENT: each user counts once per post and kind, within a file and
// against the marks an earlier import (or server) stored.
TEST_F(ImportTest, RepeatedEngagementCountsOnce) {
  MakeBase();
  const std::string events = Write(
      "events.jsonl",
      "{\"user\":\"u:1\",\"post\":\"p:1\",\"type\":\"LIKE\",\"ts\":1700000100}\n"
      "{\"user\":\"u:1\",\"post\":\"p:1\",\"type\":\"LIKE\",\"ts\":1700000101}\n"
      "{\"user\":\"u:1\",\"post\":\"p:1\",\"type\":\"SAVE\",\"ts\":1700000102}\n"
      "{\"user\":\"u:1\",\"post\":\"p:1\",\"type\":\"VIEW\",\"ts\":1700000103}\n"
      "{\"user\":\"u:1\",\"post\":\"p:1\",\"type\":\"VIEW\",\"ts\":1700000104}\n");
  for (int run = 0; run < 2; ++run) {
    RunResult r = Import("--events " + events);
    ASSERT_EQ(r.rc, 0) << r.err;
  }
  auto s = Open();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(*s->CountEvents(), 10u);  // every event is logged
  const uint64_t iid1 = (*s->GetPost("p:1"))->iid;
  auto st = s->GetStats(iid1);
  ASSERT_RESULT_OK(st);
  ASSERT_EQ(st->size(), 1u);
  EXPECT_EQ((*st)[0].impressions, 1);
  EXPECT_EQ((*st)[0].positives, 1);
  auto u = s->GetUser("u:1");
  ASSERT_RESULT_OK(u);
  EXPECT_EQ((*u)->positives, 1);
  const FeedbackRates rates;
  Vector p1 = {1, 0, 0}, u1 = {0, 0, 1};
  MoveToward(u1, p1, rates.toward);  // once
  EXPECT_TRUE(test::SameBits((*u)->vector, u1));
  EXPECT_EQ((*s->GetSeen("u:1"))[0].ts, 1700000104);
}

TEST_F(ImportTest, EventsFollowTheWireSemantics) {
  MakeBase();
  const std::string events = Write(
      "events.jsonl",
      "{\"user\":\"u:1\",\"post\":\"p:1\",\"type\":\"LIKE\",\"ts\":1700000100}\n"
      "{\"user\":\"u:1\",\"post\":\"p:2\",\"type\":\"HIDE\",\"ts\":1700000101}\n"
      "{\"user\":\"u:1\",\"post\":\"p:2\",\"type\":\"VIEW\",\"ts\":1700000102}\n"  // hidden stays
      "{\"user\":\"u:1\",\"post\":\"p:1\",\"type\":\"VIEW\",\"ts\":1700000103}\n"
      "{\"user\":\"u:new\",\"post\":\"p:2\",\"type\":\"save\",\"ts\":1700000104}\n");
  RunResult r = Import("--events " + events);
  ASSERT_EQ(r.rc, 0) << r.err;
  auto s = Open();
  ASSERT_NE(s, nullptr);

  const FeedbackRates rates;
  Vector p1 = {1, 0, 0}, p2 = {0, 1, 0}, u1 = {0, 0, 1};
  MoveToward(u1, p1, rates.toward);
  MoveAway(u1, p2, rates.away);
  auto got = s->GetUser("u:1");
  ASSERT_RESULT_OK(got);
  EXPECT_TRUE(test::SameBits((*got)->vector, u1));
  EXPECT_EQ((*got)->positives, 1);
  EXPECT_EQ((*got)->negatives, 1);
  // An unknown user is created; a first like gives it the post's vector.
  auto fresh = s->GetUser("u:new");
  ASSERT_RESULT_OK(fresh);
  ASSERT_TRUE(fresh->has_value());
  EXPECT_TRUE(test::SameBits((*fresh)->vector, p2));
  EXPECT_EQ((*fresh)->positives, 1);
  EXPECT_EQ(*s->CountUsers(), 2u);
  EXPECT_EQ(*s->CountEvents(), 5u);

  const uint64_t iid1 = (*s->GetPost("p:1"))->iid, iid2 = (*s->GetPost("p:2"))->iid;
  auto seen = s->GetSeen("u:1");
  ASSERT_RESULT_OK(seen);
  ASSERT_EQ(seen->size(), 2u);
  EXPECT_EQ((*seen)[0].iid, iid1);
  EXPECT_EQ((*seen)[0].kind, SeenKind::kViewed);
  EXPECT_EQ((*seen)[0].ts, 1700000103);
  EXPECT_EQ((*seen)[1].iid, iid2);
  EXPECT_EQ((*seen)[1].kind, SeenKind::kHidden);
  EXPECT_EQ((*seen)[1].ts, 1700000101);
  EXPECT_TRUE(s->GetSeen("u:new")->empty());

  // Counters go to the viewer's culture ("" for a user without one).
  auto st1 = s->GetStats(iid1);
  ASSERT_RESULT_OK(st1);
  ASSERT_EQ(st1->size(), 1u);
  EXPECT_EQ((*st1)[0].culture, "CN");
  EXPECT_EQ((*st1)[0].impressions, 1);
  EXPECT_EQ((*st1)[0].positives, 1);
  auto st2 = s->GetStats(iid2);
  ASSERT_RESULT_OK(st2);
  ASSERT_EQ(st2->size(), 2u);
  EXPECT_EQ((*st2)[0].culture, "");
  EXPECT_EQ((*st2)[0].positives, 1);
  EXPECT_EQ((*st2)[1].culture, "CN");
  EXPECT_EQ((*st2)[1].impressions, 1);
  EXPECT_EQ((*st2)[1].negatives, 1);
}

TEST_F(ImportTest, InvalidLineWritesNothing) {
  MakeBase();
  const std::string before = Digest();
  const std::string posts = Write(
      "posts.jsonl",
      "{\"id\":\"p:3\",\"author\":\"a:3\",\"culture\":\"us\",\"vector\":[1,1,0]}\n"
      "{\"id\":\"p:1\",\"author\":\"changed\",\"culture\":\"us\",\"vector\":[1,1,0]}\n"
      "{\"id\":\"p:4\"}\n");
  RunResult r = Import("--posts " + posts);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, posts + ":3: Invalid: missing field \"author\"\n" + kNothingWritten);
  EXPECT_EQ(Digest(), before);

  // A bad user or event line stops the posts before it too.
  const std::string users = Write("users.jsonl", "{\"id\":\"u:2\",\"openness\":2}\n");
  r = Import("--posts " + posts + " --users " + users);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, posts + ":3: Invalid: missing field \"author\"\n" + kNothingWritten);
  const std::string good_posts = Write("good.jsonl", "{\"id\":\"p:5\",\"author\":\"a\","
                                                     "\"culture\":\"us\",\"vector\":[1,0,1]}\n");
  r = Import("--posts " + good_posts + " --users " + users);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, users + ":1: Invalid: field \"openness\" must be in [0, 1]\n" + kNothingWritten);
  const std::string events = Write(
      "events.jsonl", "{\"user\":\"u:1\",\"post\":\"p:1\",\"type\":\"VIEW\"}\n"
                      "{\"user\":\"u:1\",\"post\":\"p:1\",\"type\":\"POKE\"}\n");
  r = Import("--posts " + good_posts + " --events " + events);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, events + ":2: Invalid: unknown event type \"POKE\"\n" + kNothingWritten);
  EXPECT_EQ(Digest(), before);
}

TEST_F(ImportTest, InvalidLineCreatesNoDatabase) {
  const std::string posts = Write("posts.jsonl", "not json\n");
  RunResult r = Import("--posts " + posts);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, posts + ":1: Invalid: invalid JSON\n" + kNothingWritten);
  EXPECT_FALSE(fs::exists(Data()));
}

TEST_F(ImportTest, SkipInvalidLoadsTheValidLines) {
  MakeBase();
  const std::string posts = Write(
      "posts.jsonl",
      "{\"id\":\"p:3\",\"author\":\"a:3\",\"culture\":\"us\",\"vector\":[1,1,0]}\n"
      "{\"id\":\"p:4\"}\n"
      "\n"
      "{\"id\":\"p:5\",\"author\":\"a:5\",\"culture\":\"us\",\"vector\":[0,0,0]}\n");
  const std::string events = Write(
      "events.jsonl", "{\"user\":\"u:1\",\"post\":\"p:3\",\"type\":\"LIKE\"}\n"
                      "{\"user\":\"u:1\",\"post\":\"p:5\",\"type\":\"LIKE\"}\n");
  RunResult r = Import("--skip-invalid --posts " + posts + " --events " + events);
  EXPECT_EQ(r.rc, 0);
  const std::string want_errors = posts + ":2: Invalid: missing field \"author\"\n" + posts +
                                  ":4: BadVector: all-zero vector\n" + events +
                                  ":2: NotFound: unknown post \"p:5\"\n";
  ASSERT_EQ(r.err.substr(0, want_errors.size()), want_errors);
  const std::string summary = r.err.substr(want_errors.size());
  EXPECT_TRUE(summary.starts_with("imported into " + Data() +
                                  " (dim 3): 1 posts, 0 users, 1 events in "))
      << summary;
  EXPECT_TRUE(summary.ends_with("s; 3 invalid lines skipped\n")) << summary;
  auto s = Open();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(*s->CountPosts(), 3u);
  EXPECT_EQ(*s->CountEvents(), 1u);
  EXPECT_EQ((*s->GetUser("u:1"))->positives, 1);
}

TEST_F(ImportTest, EventForUnknownPostWritesNothing) {
  MakeBase();
  const std::string before = Digest();
  const std::string events = Write(
      "events.jsonl", "{\"user\":\"u:1\",\"post\":\"p:1\",\"type\":\"VIEW\"}\n"
                      "{\"user\":\"u:1\",\"post\":\"p:9\",\"type\":\"VIEW\"}\n");
  RunResult r = Import("--events " + events);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, events + ":2: NotFound: unknown post \"p:9\"\n" + kNothingWritten);
  EXPECT_EQ(Digest(), before);
}

TEST_F(ImportTest, WrongDimensionIsRefused) {
  MakeBase();
  const std::string before = Digest();
  const std::string posts = Write(
      "posts.jsonl", "{\"id\":\"p:3\",\"author\":\"a\",\"culture\":\"us\",\"vector\":[1,0,0,0]}\n");
  RunResult r = Import("--posts " + posts);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, posts + ":1: WrongDim: expected 3, got 4\n" + kNothingWritten);
  r = Import("--dim 4 --posts " + posts);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "bridgefeed-import: database dimension is 3, not 4 (--dim)\n");
  EXPECT_EQ(Digest(), before);
}

TEST_F(ImportTest, LockedDatabaseIsRefused) {
  MakeBase();
  const std::string before = Digest();
  const std::string posts = Write(
      "posts.jsonl", "{\"id\":\"p:3\",\"author\":\"a\",\"culture\":\"us\",\"vector\":[1,0,0]}\n");
  {
    auto holder = Open();  // as a running server would
    ASSERT_NE(holder, nullptr);
    RunResult r = Import("--posts " + posts);
    EXPECT_EQ(r.rc, 1);
    const std::string want =
        "bridgefeed-import: data dir " + DbPath(Data()) + " is in use by another process (";
    EXPECT_EQ(r.err.substr(0, want.size()), want) << r.err;
  }
  EXPECT_EQ(Digest(), before);
}

}  // namespace
}  // namespace bf
