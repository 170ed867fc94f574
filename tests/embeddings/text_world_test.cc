// bridgefeed-gen with a text model: posts get the text vectors of their titles,
// so cat posts of every language sit together. A tiny lexicon built here.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "embeddings/text/lexicon_builder.h"
#include "embeddings/text/text_model.h"
#include "tests/test_util.h"
#include "tools/gen/world.h"

namespace bf {
namespace {

constexpr int kDim = 6;

std::unique_ptr<text::TextModel> CatDogModel() {
  // cat on axis 0, dog on axis 1, function words on axis 5.
  const std::vector<std::string> words = {"the", "my", "cat", "dog", "kitties", "puppy"};
  const std::vector<float> vectors = {0, 0, 0, 0, 0, 1,  0, 0, 0, 0, 0.2f, 1,
                                      1, 0, 0, 0, 0, 0,  0, 1, 0, 0, 0, 0,
                                      0.9f, 0, 0.1f, 0, 0, 0,  0, 0.9f, 0.1f, 0, 0, 0};
  // No common component: in a six-word lexicon it would be the cat axis itself.
  text::BuildOptions options;
  options.common_component = false;
  text::LexiconBuilder b(kDim, words, vectors, options);
  b.AddEntry("zh", "猫", {{"cat"}});
  b.AddEntry("zh", "狗", {{"dog"}});
  b.AddEntry("ja", "猫", {{"cat"}});
  b.AddEntry("ja", "犬", {{"dog"}});
  b.AddEntry("pt", "gato", {{"cat"}});
  b.AddEntry("pt", "gatinho", {{"kitten", "cat"}});
  b.AddEntry("pt", "cachorro", {{"dog"}});
  b.AddEntry("fr", "chat", {{"cat"}});
  b.AddEntry("fr", "chien", {{"dog"}});
  b.AddEntry("fr", "chiot", {{"puppy"}});
  b.AddEntry("es", "gato", {{"cat"}});
  b.AddEntry("es", "michi", {{"cat"}});
  b.AddEntry("es", "perrito", {{"dog"}});
  auto lex = b.Build();
  EXPECT_TRUE(lex.ok());
  auto m = text::TextModel::FromLexicon(std::move(lex).value());
  EXPECT_TRUE(m.ok());
  return std::move(m).value();
}

struct Post {
  std::string culture, tag, title;
  std::vector<float> vec;
};

std::string Field(const std::string& line, const std::string& key) {
  const size_t at = line.find("\"" + key + "\":");
  if (at == std::string::npos) return "";
  size_t start = at + key.size() + 3;
  if (line[start] == '[') ++start;
  if (line[start] == '"') ++start;
  const size_t end = line.find_first_of("\"]", start);
  return line.substr(start, end - start);
}

TEST(TextWorldTest, CatPostsOfEveryLanguageSitTogether) {
  auto model = CatDogModel();
  gen::WorldOptions o;
  o.posts = 3000;
  o.users = 10;
  o.dim = kDim;
  o.text_model = model.get();
  const auto dir = std::filesystem::temp_directory_path() /
                   ("bf_text_world_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto counts = gen::GenerateWorld(o, dir.string());
  ASSERT_RESULT_OK(counts);
  std::ifstream in(dir / "posts.jsonl");
  std::vector<Post> posts;
  for (std::string line; std::getline(in, line);) {
    Post p{Field(line, "culture"), Field(line, "tags"), Field(line, "title"), {}};
    std::string v = Field(line, "vector");
    for (size_t i = 0; i < v.size();) {
      size_t j = v.find(',', i);
      if (j == std::string::npos) j = v.size();
      p.vec.push_back(std::stof(v.substr(i, j - i)));
      i = j + 1;
    }
    ASSERT_EQ(p.vec.size(), static_cast<size_t>(kDim)) << line;
    posts.push_back(std::move(p));
  }
  std::filesystem::remove_all(dir);
  // Every cat post is near the cat axis whatever its language, and its vector is
  // its title's (the same title, the same vector: no synthetic noise).
  std::map<std::string, int> cat_cultures;
  std::map<std::string, std::vector<float>> by_title;
  int cats = 0, near = 0, same = 0;
  for (const Post& p : posts) {
    if (p.tag != "cats") continue;
    ++cats;
    ++cat_cultures[p.culture];
    near += p.vec[0] > 0.7f && p.vec[0] > 3 * std::abs(p.vec[1]) ? 1 : 0;
    auto [it, first] = by_title.emplace(p.title, p.vec);
    same += first || it->second == p.vec ? 1 : 0;
  }
  EXPECT_GE(cat_cultures.size(), 5u);
  EXPECT_GT(cats, 100);
  EXPECT_EQ(near, cats);
  EXPECT_EQ(same, cats);
}

TEST(TextWorldTest, TextNoiseMakesOneTitlesPostsDiffer) {
  auto model = CatDogModel();
  gen::WorldOptions o;
  o.posts = 600;
  o.users = 10;
  o.dim = kDim;
  o.text_model = model.get();
  o.text_noise = 0.3;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("bf_text_noise_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ASSERT_RESULT_OK(gen::GenerateWorld(o, dir.string()));
  std::ifstream in(dir / "posts.jsonl");
  std::map<std::string, std::vector<std::string>> by_title;  // title -> vectors as written
  int cats = 0, near = 0;
  for (std::string line; std::getline(in, line);) {
    by_title[Field(line, "title")].push_back(Field(line, "vector"));
    if (Field(line, "tags") != "cats") continue;
    ++cats;
    near += std::stof(Field(line, "vector")) > 0.6f ? 1 : 0;  // the cat axis still leads
  }
  std::filesystem::remove_all(dir);
  size_t repeated = 0, distinct = 0;
  for (auto& [title, vecs] : by_title) {
    if (vecs.size() < 2) continue;
    repeated += vecs.size();
    std::sort(vecs.begin(), vecs.end());
    distinct += static_cast<size_t>(std::unique(vecs.begin(), vecs.end()) - vecs.begin());
  }
  EXPECT_GT(repeated, 100u);
  EXPECT_EQ(distinct, repeated);
  EXPECT_GT(cats, 10);
  EXPECT_GE(near, cats * 9 / 10);
  o.text_noise = 2.5;
  EXPECT_EQ(gen::ValidateOptions(o).code(), Code::kInvalid);
}

TEST(TextWorldTest, DimensionMustBeTheModels) {
  auto model = CatDogModel();
  gen::WorldOptions o;
  o.dim = 64;
  o.text_model = model.get();
  const Status s = gen::ValidateOptions(o);
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.message(), "dim must be the text model's dimension (6)");
}

}  // namespace
}  // namespace bf
