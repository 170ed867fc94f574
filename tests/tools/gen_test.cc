#include "tools/gen/world.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "tools/import/import_parse.h"
#include "tests/test_util.h"

namespace bf::gen {
namespace {

namespace fs = std::filesystem;

// A fresh folder per test, removed afterwards.
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(fs::temp_directory_path() /
              ("bf_gen_test_" + std::to_string(::getpid()) + "_" + name)) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

WorldOptions Small(uint64_t seed = 42) {
  WorldOptions o;
  o.posts = 2000;
  o.users = 300;
  o.dim = 16;
  o.seed = seed;
  return o;
}

void Generate(const WorldOptions& o, const TempDir& dir) {
  auto r = GenerateWorld(o, dir.str());
  ASSERT_RESULT_OK(r);
}

constexpr const char* kFiles[] = {"posts.jsonl", "users.jsonl", "events.jsonl"};

TEST(GenTest, SameSeedSameBytes) {
  TempDir a("same_a"), b("same_b");
  Generate(Small(), a);
  Generate(Small(), b);
  for (const char* f : kFiles) {
    const std::string x = ReadFile(a.str() + "/" + f);
    EXPECT_FALSE(x.empty()) << f;
    EXPECT_TRUE(x == ReadFile(b.str() + "/" + f)) << f << " differs between two runs";
  }
}

TEST(GenTest, DifferentSeedDifferentWorld) {
  TempDir a("seed_a"), b("seed_b");
  Generate(Small(1), a);
  Generate(Small(2), b);
  for (const char* f : kFiles) {
    EXPECT_FALSE(ReadFile(a.str() + "/" + f) == ReadFile(b.str() + "/" + f)) << f;
  }
}

// Parses the whole world with the importer's parser and checks the story.
class GenWorldTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("world");
    options_ = Small();
    auto r = GenerateWorld(options_, dir_->str());
    ASSERT_RESULT_OK(r);
    counts_ = *r;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static inline TempDir* dir_ = nullptr;
  static inline WorldOptions options_;
  static inline WorldCounts counts_;
};

TEST_F(GenWorldTest, EveryLineParsesAndIdsAreDense) {
  ImportParser parser(options_.dim, 0);
  const auto posts = ReadLines(dir_->str() + "/posts.jsonl");
  const auto users = ReadLines(dir_->str() + "/users.jsonl");
  const auto events = ReadLines(dir_->str() + "/events.jsonl");
  ASSERT_EQ(posts.size(), 2000u);
  ASSERT_EQ(users.size(), 300u);
  ASSERT_EQ(static_cast<int64_t>(events.size()), counts_.events);
  EXPECT_GT(events.size(), 300u * 20 / 2);
  std::map<std::string, int64_t> post_ts;
  const int64_t oldest = options_.now - 30 * 86400;
  for (size_t i = 0; i < posts.size(); ++i) {
    auto p = parser.ParsePost(posts[i]);
    ASSERT_RESULT_OK(p) << posts[i];
    EXPECT_EQ(p->id, "p:" + std::to_string(i));
    EXPECT_GE(p->ts, oldest);
    EXPECT_LE(p->ts, options_.now);
    EXPECT_FALSE(p->title.empty());
    EXPECT_FALSE(p->tags.empty());
    if (p->culture != "US" && p->culture != "NG") {
      EXPECT_NE(p->title.find(" ("), std::string::npos) << p->title;  // English gloss
    }
    post_ts[p->id] = p->ts;
  }
  int with_vector = 0;
  for (size_t i = 0; i < users.size(); ++i) {
    auto u = parser.ParseUser(users[i]);
    ASSERT_RESULT_OK(u) << users[i];
    EXPECT_EQ(u->id, "u:" + std::to_string(i));
    EXPECT_GE(u->openness, 0.1f);
    EXPECT_LE(u->openness, 0.6f);
    EXPECT_FALSE(u->langs.empty());
    with_vector += u->vector.empty() ? 0 : 1;
  }
  EXPECT_GT(with_vector, 240);
  EXPECT_LT(with_vector, 300);
  int64_t last_ts = 0;
  for (const std::string& line : events) {
    auto e = parser.ParseEvent(line);
    ASSERT_RESULT_OK(e) << line;
    ASSERT_TRUE(post_ts.count(e->post)) << line;
    EXPECT_GE(e->ts, post_ts[e->post]) << line;
    EXPECT_LE(e->ts, options_.now);
    EXPECT_GE(e->ts, last_ts) << "events are in time order";
    last_ts = e->ts;
  }
}

TEST_F(GenWorldTest, CultureShares) {
  ImportParser parser(options_.dim, 0);
  std::map<std::string, int> posts, users;
  for (const auto& line : ReadLines(dir_->str() + "/posts.jsonl")) {
    ++posts[parser.ParsePost(line)->culture];
  }
  for (const auto& line : ReadLines(dir_->str() + "/users.jsonl")) {
    ++users[parser.ParseUser(line)->culture];
  }
  EXPECT_NEAR(posts["CN"] / 2000.0, 0.55, 0.05);
  EXPECT_NEAR(posts["US"] / 2000.0, 0.30, 0.05);
  EXPECT_GE(posts.size(), 6u);  // the small cultures are there too
  EXPECT_NEAR(users["CN"] / 300.0, 0.55, 0.1);
  EXPECT_NEAR(users["US"] / 300.0, 0.30, 0.1);
}

// Cats and birds travel across cultures; humour mostly does not.
TEST_F(GenWorldTest, HistoryHasCrossCultureLikes) {
  ImportParser parser(options_.dim, 0);
  struct PostInfo {
    std::string culture, topic;
    std::set<std::string> liked_by;  // viewer cultures with a positive
  };
  std::unordered_map<std::string, PostInfo> posts;
  for (const auto& line : ReadLines(dir_->str() + "/posts.jsonl")) {
    auto p = parser.ParsePost(line);
    posts[p->id] = {p->culture, p->tags[0], {}};
  }
  std::unordered_map<std::string, std::string> user_culture;
  for (const auto& line : ReadLines(dir_->str() + "/users.jsonl")) {
    auto u = parser.ParseUser(line);
    user_culture[u->id] = u->culture;
  }
  // topic -> {cross views, cross positives}
  std::map<std::string, std::pair<int, int>> cross;
  for (const auto& line : ReadLines(dir_->str() + "/events.jsonl")) {
    auto e = parser.ParseEvent(line);
    PostInfo& p = posts[e->post];
    const std::string& viewer = user_culture[e->user];
    const bool positive = e->type == EventType::kLike || e->type == EventType::kSave ||
                          e->type == EventType::kShare || e->type == EventType::kComment;
    if (positive) p.liked_by.insert(viewer);
    if (viewer == p.culture) continue;
    if (e->type == EventType::kView) ++cross[p.topic].first;
    if (positive) ++cross[p.topic].second;
  }
  auto rate = [&](const std::string& topic) {
    const auto [views, likes] = cross[topic];
    EXPECT_GT(views, 50) << topic;
    return views > 0 ? static_cast<double>(likes) / views : 0.0;
  };
  EXPECT_GT(rate("cats"), 2.5 * rate("funny"));
  EXPECT_GT(rate("birds"), 2.5 * rate("funny"));
  int bridging_cats = 0, bridging_birds = 0;
  for (const auto& [id, p] : posts) {
    if (p.liked_by.size() < 2) continue;
    bridging_cats += p.topic == "cats";
    bridging_birds += p.topic == "birds";
  }
  EXPECT_GE(bridging_cats, 5);
  EXPECT_GE(bridging_birds, 5);
}

TEST(GenTest, TinyWorldAndOptions) {
  TempDir dir("tiny");
  WorldOptions o;
  o.posts = 1;
  o.users = 1;
  o.dim = 1;
  auto r = GenerateWorld(o, dir.str());
  ASSERT_RESULT_OK(r);
  EXPECT_EQ(r->posts, 1);
  EXPECT_EQ(ReadLines(dir.str() + "/users.jsonl").size(), 1u);

  o.posts = 0;
  EXPECT_EQ(ValidateOptions(o).message(), "posts must be 1 to 100000000");
  o.posts = 10;
  o.users = -1;
  EXPECT_EQ(ValidateOptions(o).message(), "users must be 0 to 100000000");
  o.users = 0;
  o.dim = 4097;
  EXPECT_EQ(ValidateOptions(o).message(), "dim must be 1 to 4096");
  o.dim = 8;
  EXPECT_OK(ValidateOptions(o));
  auto missing = GenerateWorld(o, dir.str() + "/no/such/dir");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kIOError);
}

TEST(GenTest, JsonAndFloatText) {
  std::string s;
  AppendJsonString(s, "a\"b\\c\n\x01猫");
  EXPECT_EQ(s, "\"a\\\"b\\\\c\\u000a\\u0001猫\"");
  s.clear();
  AppendFloat(s, 0.123456f);
  s += ',';
  AppendFloat(s, -1.0f);
  s += ',';
  AppendFloat(s, 0.00001234f);
  EXPECT_EQ(s, "0.1235,-1,1.234e-05");
}

}  // namespace
}  // namespace bf::gen
