// The Importer in-process: what it loads, what it prints, and what it leaves
// behind when a line is bad. (import_test.cc runs the real binary.)
#include "tools/import/importer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "engine/store/layout.h"
#include "engine/store/store.h"
#include "index/ann_index.h"
#include "tests/engine/store/store_test_util.h"
#include "tests/test_util.h"
#include "tests/tools/tools_test_util.h"

namespace bf {
namespace {

namespace fs = std::filesystem;

constexpr char kNothingWritten[] =
    "bridgefeed-import: nothing was written (--skip-invalid loads the valid lines)\n";

std::string PostLine(const std::string& id, const std::string& culture, const std::string& vec) {
  return "{\"id\":\"" + id + "\",\"author\":\"a:" + id + "\",\"culture\":\"" + culture +
         "\",\"ts\":1700000010,\"vector\":[" + vec + "]}\n";
}

class ImporterTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::MakeTempDir(); }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    return test::WriteFile(dir_ + "/" + name, text);
  }
  std::string Data() const { return dir_ + "/data"; }
  ImportOptions Options() {
    ImportOptions o;
    o.data_dir = Data();
    o.quiet = true;
    o.out = out_.file();
    return o;
  }
  // Runs one import; its output is appended to out_.
  int Run(const ImportOptions& o, ImportReport* report = nullptr) {
    Importer importer(o);
    const int rc = importer.Run();
    if (report != nullptr) *report = importer.report();
    return rc;
  }
  std::unique_ptr<Store> Open() { return test::OpenDatabase(Data()); }
  // Posts (id iid author culture vector bits) and users (every field).
  std::string Records() {
    auto s = Open();
    if (!s) return "";
    std::ostringstream out;
    EXPECT_OK(s->ForEachPost([&](const PostRecord& p) {
      out << p.id << " " << p.iid << " " << p.author << " " << p.culture << " " << p.ts;
      for (float x : p.vector) out << " " << x;
      out << "\n";
      return true;
    }));
    for (const char* id : {"u:1", "u:2"}) {
      auto u = s->GetUser(id);
      EXPECT_TRUE(u.ok());
      if (!u.ok() || !u->has_value()) continue;
      const UserRecord& r = **u;
      out << r.id << " " << r.culture << " " << r.openness << " " << r.positives << " "
          << r.negatives;
      for (float x : r.vector) out << " " << x;
      out << "\n";
    }
    return out.str();
  }

  std::string dir_;
  test::Capture out_;
};

TEST_F(ImporterTest, LoadsPostsUsersEventsAndBuildsTheIndex) {
  ImportOptions o = Options();
  o.quiet = false;
  o.posts = Write("posts.jsonl", PostLine("p:1", "us", "1,0,0") + PostLine("p:2", "cn", "0,1,0") +
                                     PostLine("p:3", "cn", "0,0,1"));
  o.users = Write("users.jsonl", "{\"id\":\"u:1\",\"culture\":\"cn\",\"openness\":0.5}\n"
                                 "{\"id\":\"u:2\",\"culture\":\"us\",\"vector\":[0,0,1]}\n");
  o.events = Write("events.jsonl", "{\"user\":\"u:1\",\"post\":\"p:1\",\"type\":\"LIKE\"}\n"
                                   "{\"user\":\"u:2\",\"post\":\"p:2\",\"type\":\"hide\"}\n"
                                   "{\"user\":\"u:2\",\"post\":\"p:3\",\"type\":\"VIEW\"}\n");
  ImportReport report;
  ASSERT_EQ(Run(o, &report), 0) << out_.Text();
  EXPECT_EQ(report.posts, 3);
  EXPECT_EQ(report.users, 2);
  EXPECT_EQ(report.events, 3);
  EXPECT_EQ(report.invalid, 0);
  EXPECT_TRUE(report.index_built);

  // Six passes with their bars (final lines only: out is not a terminal),
  // the index, the summary.
  const std::string text = out_.Text();
  for (const char* label : {"\rcheck posts      [", "\rcheck users      [",
                            "\rcheck events     [", "\rload posts       [",
                            "\rload users       [", "\rload events      ["}) {
    EXPECT_NE(text.find(std::string(label) + std::string(30, '#') + "] 100% "),
              std::string::npos)
        << label << "\n" << text;
  }
  EXPECT_NE(text.find("\nindex            Flat over 3 posts built in "), std::string::npos)
      << text;
  const std::string summary = "imported into " + Data() + " (dim 3): 3 posts, 2 users, 3 events in ";
  const size_t at = text.rfind(summary);
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_TRUE(text.ends_with("s\n")) << text;

  auto s = Open();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(*s->CountPosts(), 3u);
  EXPECT_EQ(*s->CountEvents(), 3u);
  auto u1 = s->GetUser("u:1");
  ASSERT_RESULT_OK(u1);
  EXPECT_EQ((*u1)->positives, 1);
  EXPECT_TRUE(test::SameBits((*u1)->vector, Vector{1, 0, 0}));  // a first like: the post's
  auto u2 = s->GetUser("u:2");
  ASSERT_RESULT_OK(u2);
  EXPECT_EQ((*u2)->negatives, 1);
  // The snapshot covers the store as the import left it.
  IndexOptions io;
  io.dim = 3;
  SnapshotStamp stamp;
  auto index = AnnIndex::Load(SnapshotPath(Data()), s->db_id(), io, &stamp);
  ASSERT_RESULT_OK(index);
  EXPECT_EQ((*index)->Stats().live, 3);
  EXPECT_EQ(stamp.seq, s->LastSequence());
}

TEST_F(ImporterTest, BadLineStopsBeforeAnyWrite) {
  ImportOptions o = Options();
  o.posts = Write("posts.jsonl", PostLine("p:1", "us", "1,0,0") +
                                     "{\"id\":\"p:2\",\"culture\":\"us\",\"vector\":[1,0,0]}\n" +
                                     PostLine("p:3", "us", "0,1,0"));
  ImportReport report;
  EXPECT_EQ(Run(o, &report), 1);
  EXPECT_EQ(out_.Text(), o.posts + ":2: Invalid: missing field \"author\"\n" + kNothingWritten);
  EXPECT_EQ(report.posts, 0);
  EXPECT_EQ(report.invalid, 1);
  EXPECT_FALSE(report.index_built);
  EXPECT_FALSE(fs::exists(Data()));  // not even a new database
}

TEST_F(ImporterTest, BadEventLineLeavesAnExistingDatabaseAsItWas) {
  ImportOptions o = Options();
  o.posts = Write("posts.jsonl", PostLine("p:1", "us", "1,0,0"));
  ASSERT_EQ(Run(o), 0) << out_.Text();
  const std::string before = Records();
  const uint64_t seq = Open()->LastSequence();

  ImportOptions again = Options();
  again.posts = Write("more.jsonl", PostLine("p:2", "cn", "0,1,0"));
  again.events = Write("events.jsonl", "{\"user\":\"u:1\",\"post\":\"p:2\",\"type\":\"LIKE\"}\n"
                                       "\n"
                                       "{\"user\":\"u:1\",\"post\":\"p:9\",\"type\":\"LIKE\"}\n");
  test::Capture out;
  again.out = out.file();
  EXPECT_EQ(Run(again), 1);
  // Line numbers count blank lines; p:2 is known from the posts file.
  EXPECT_EQ(out.Text(), again.events + ":3: NotFound: unknown post \"p:9\"\n" + kNothingWritten);
  EXPECT_EQ(Records(), before);
  EXPECT_EQ(Open()->LastSequence(), seq);
}

TEST_F(ImporterTest, SkipInvalidLoadsTheValidLines) {
  ImportOptions o = Options();
  o.skip_invalid = true;
  o.posts = Write("posts.jsonl", PostLine("p:1", "us", "1,0,0") + "not json\n" +
                                     PostLine("p:2", "us", "0,0,0") + PostLine("p:3", "u s", "1,1,0") +
                                     PostLine("p:4", "cn", "1,1,1"));
  ImportReport report;
  ASSERT_EQ(Run(o, &report), 0) << out_.Text();
  const std::string text = out_.Text();
  const std::string errors = o.posts + ":2: Invalid: invalid JSON\n" + o.posts +
                             ":3: BadVector: all-zero vector\n" + o.posts +
                             ":4: Invalid: field \"culture\" must be 1 to 16 bytes of [A-Za-z0-9_-]\n";
  ASSERT_EQ(text.substr(0, errors.size()), errors) << text;
  EXPECT_TRUE(text.substr(errors.size()).starts_with("imported into " + Data() +
                                                     " (dim 3): 2 posts, 0 users, 0 events in "))
      << text;
  EXPECT_TRUE(text.ends_with("s; 3 invalid lines skipped\n")) << text;
  EXPECT_EQ(report.posts, 2);
  EXPECT_EQ(report.invalid, 3);
  EXPECT_TRUE(report.index_built);
  EXPECT_EQ(*Open()->CountPosts(), 2u);
}

TEST_F(ImporterTest, SkipInvalidReportsTheFirstTwentyAndCountsAll) {
  ImportOptions o = Options();
  o.skip_invalid = true;
  std::string lines = PostLine("p:1", "us", "1,0,0");
  for (int i = 0; i < 25; ++i) lines += "{}\n";
  o.posts = Write("posts.jsonl", lines);
  ImportReport report;
  ASSERT_EQ(Run(o, &report), 0);
  const std::string text = out_.Text();
  size_t reported = 0;
  for (size_t at = text.find(": Invalid: missing field"); at != std::string::npos;
       at = text.find(": Invalid: missing field", at + 1)) {
    ++reported;
  }
  EXPECT_EQ(reported, 20u) << text;
  EXPECT_NE(text.find(o.posts + ":21: Invalid: missing field \"id\"\n"), std::string::npos);
  EXPECT_EQ(text.find(o.posts + ":22: "), std::string::npos);
  EXPECT_TRUE(text.ends_with("s; 25 invalid lines skipped\n")) << text;
  EXPECT_EQ(report.invalid, 25);
  EXPECT_EQ(report.posts, 1);
}

// No resume: a re-run loads everything again. That is harmless for posts
// and users (create or replace); events are logged twice but count once,
// as each user counts once per post and kind.
TEST_F(ImporterTest, RerunReplacesPostsAndUsersAndLogsEventsAgainCountingThemOnce) {
  ImportOptions o = Options();
  o.posts = Write("posts.jsonl", PostLine("p:1", "us", "1,0,0") + PostLine("p:2", "cn", "0,1,0"));
  o.users = Write("users.jsonl", "{\"id\":\"u:1\",\"culture\":\"cn\",\"vector\":[0,0,1]}\n");
  ASSERT_EQ(Run(o), 0) << out_.Text();
  const std::string once = Records();
  ASSERT_EQ(Run(o), 0) << out_.Text();
  EXPECT_EQ(Records(), once);  // same iids, same records

  ImportOptions events = Options();
  events.keep_user_vectors = true;
  events.events = Write("events.jsonl", "{\"user\":\"u:1\",\"post\":\"p:1\",\"type\":\"LIKE\"}\n");
  ASSERT_EQ(Run(events), 0) << out_.Text();
  ASSERT_EQ(Run(events), 0) << out_.Text();
  auto s = Open();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(*s->CountEvents(), 2u);
  EXPECT_EQ((*s->GetUser("u:1"))->positives, 1);
  auto stats = s->GetStats((*s->GetPost("p:1"))->iid);
  ASSERT_RESULT_OK(stats);
  ASSERT_EQ(stats->size(), 1u);
  EXPECT_EQ((*stats)[0].positives, 1);
}

TEST_F(ImporterTest, FailedIndexBuildIsAWarning) {
  ImportOptions o = Options();
  o.index = "IVF64,Flat";  // 3 posts cannot train 64 lists
  o.posts = Write("posts.jsonl", PostLine("p:1", "us", "1,0,0") + PostLine("p:2", "cn", "0,1,0") +
                                     PostLine("p:3", "cn", "0,0,1"));
  ImportReport report;
  ASSERT_EQ(Run(o, &report), 0);
  const std::string warning =
      "bridgefeed-import: warning: index not built (Invalid: index spec 'IVF64,Flat' needs at least "
      "2496 training vectors in the first batch, got 3); the server builds it at start\n";
  EXPECT_TRUE(out_.Text().starts_with(warning)) << out_.Text();
  EXPECT_FALSE(report.index_built);
  EXPECT_EQ(report.posts, 3);
  EXPECT_FALSE(fs::exists(SnapshotPath(Data())));
  EXPECT_EQ(*Open()->CountPosts(), 3u);
}

TEST_F(ImporterTest, UsersOnlyBuildsNoIndex) {
  ImportOptions o = Options();
  o.users = Write("users.jsonl", "{\"id\":\"u:1\",\"vector\":[0,1]}\n");
  ImportReport report;
  ASSERT_EQ(Run(o, &report), 0) << out_.Text();
  EXPECT_FALSE(report.index_built);
  EXPECT_FALSE(fs::exists(SnapshotPath(Data())));
  EXPECT_EQ(Open()->dim(), 2);  // from the first vector
}

TEST_F(ImporterTest, OtherDimensionIsRefused) {
  ImportOptions o = Options();
  o.posts = Write("posts.jsonl", PostLine("p:1", "us", "1,0,0"));
  ASSERT_EQ(Run(o), 0);
  test::Capture out;
  ImportOptions wrong = Options();
  wrong.out = out.file();
  wrong.dim = 4;
  wrong.posts = Write("p4.jsonl", PostLine("p:2", "us", "1,0,0,0"));
  EXPECT_EQ(Run(wrong), 1);
  EXPECT_EQ(out.Text(), "bridgefeed-import: database dimension is 3, not 4 (--dim)\n");
}

}  // namespace
}  // namespace bf
