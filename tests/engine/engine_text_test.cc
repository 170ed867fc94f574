// The engine with a text model: posts without a vector take their text's
// vector, EMBED's engine side, and the refusals at Open (missing or corrupt
// lexicon, a database of another dimension). A tiny lexicon built here.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "embeddings/text/lexicon.h"
#include "embeddings/text/lexicon_builder.h"
#include "embeddings/text/text_model.h"
#include "engine/engine.h"
#include "tests/test_util.h"

namespace bf {
namespace {

namespace fs = std::filesystem;
constexpr int kDim = 6;

// cat on axis 0, dog on axis 1, sun on axis 2, function words on axis 5.
text::Lexicon CatDogLexicon() {
  const std::vector<std::string> words = {"the", "my", "cat", "dog", "sun"};
  const std::vector<float> vectors = {0, 0, 0, 0, 0, 1,  0, 0, 0, 0, 0.2f, 1,
                                      1, 0, 0, 0, 0, 0,  0, 1, 0, 0, 0, 0,
                                      0, 0, 1, 0, 0, 0};
  text::BuildOptions options;
  options.common_component = false;  // in five words it would be a topic axis
  text::LexiconBuilder b(kDim, words, vectors, options);
  b.AddEntry("zh", "猫", {{"cat"}});
  b.AddEntry("zh", "狗", {{"dog"}});
  b.AddEntry("zh", "我的", {{"my"}});
  b.AddEntry("es", "gato", {{"cat"}});
  b.AddEntry("es", "perro", {{"dog"}});
  b.AddEntry("es", "mi", {{"my"}});
  auto lex = b.Build();
  EXPECT_TRUE(lex.ok());
  return std::move(lex).value();
}

class EngineTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("bf_engine_text_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    lexicon_ = (dir_ / "lexicon.bin").string();
    ASSERT_OK(text::WriteLexicon(CatDogLexicon(), lexicon_));
  }
  void TearDown() override {
    if (engine_) EXPECT_OK(engine_->Close());
    engine_.reset();
    fs::remove_all(dir_);
  }

  EngineOptions Options(int dim = 0, std::string model = "") {
    EngineOptions o;
    o.data_dir = (dir_ / "db").string();
    o.dim = dim;
    o.text_model = model.empty() ? lexicon_ : model;
    o.index.spec = "Flat";
    o.snapshot_interval_s = 0;
    return o;
  }
  void Open(const EngineOptions& o) {
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }
  Status AddText(const std::string& id, const std::string& culture, const std::string& title,
                 std::optional<std::string> lang = std::nullopt) {
    PostInput p;
    p.id = id;
    p.author = "a_" + id;
    p.culture = culture;
    p.title = title;
    p.lang = std::move(lang);
    return engine_->AddPost(std::move(p));
  }
  Vector StoredVector(const std::string& id) {
    auto r = engine_->GetPost(id);
    EXPECT_TRUE(r.ok() && r->has_value()) << id;
    return r.ok() && r->has_value() ? (**r).record.vector : Vector{};
  }

  fs::path dir_;
  std::string lexicon_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTextTest, PostsWithoutVectorTakeTheirTextVector) {
  Open(Options());
  EXPECT_EQ(engine_->dim(), kDim);  // dim 0: the model's
  ASSERT_OK(AddText("zh_cat", "CN", "我的猫"));
  ASSERT_OK(AddText("en_cat", "US", "my cat", "en"));
  ASSERT_OK(AddText("en_dog", "US", "the dog"));
  ASSERT_OK(AddText("es_dog", "ES", "mi perro", "es"));

  auto want = engine_->EmbedText("我的猫", "");
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  const Vector got = StoredVector("zh_cat");
  ASSERT_EQ(got.size(), static_cast<size_t>(kDim));
  for (int i = 0; i < kDim; ++i) EXPECT_NEAR(got[i], (*want)[i], 1e-6) << i;
  EXPECT_GT(got[0], 0.8f);  // the cat axis, with some of "my"
  EXPECT_LT(got[5], 0.6f);

  auto similar = engine_->Similar("zh_cat", 3, true);
  ASSERT_TRUE(similar.ok()) << similar.status().ToString();
  ASSERT_FALSE(similar->empty());
  EXPECT_EQ(similar->front(), "en_cat");
  similar = engine_->Similar("en_dog", 1, true);
  ASSERT_TRUE(similar.ok());
  EXPECT_EQ(*similar, std::vector<std::string>{"es_dog"});

  // TEXT is encoded with the title; a given VECTOR wins over both.
  PostInput p;
  p.id = "body";
  p.author = "b";
  p.culture = "US";
  p.text = "sun sun sun";
  ASSERT_OK(engine_->AddPost(p));
  EXPECT_GT(StoredVector("body")[2], 0.9f);
  p.id = "given";
  p.title = "my cat";
  p.vector = {0, 0, 0, 3, 0, 0};
  ASSERT_OK(engine_->AddPost(p));
  EXPECT_EQ(StoredVector("given"), (Vector{0, 0, 0, 1, 0, 0}));

  // The vector survives a restart (it is the stored one, not re-encoded).
  ASSERT_OK(engine_->Close());
  engine_.reset();
  Open(Options());
  EXPECT_EQ(StoredVector("zh_cat"), got);
}

TEST_F(EngineTextTest, BadTextIsRefusedAndNothingIsWritten) {
  Open(Options());
  Status s = AddText("unknown", "US", "xyzzy plugh");
  EXPECT_EQ(s.code(), Code::kBadVector);
  EXPECT_EQ(s.message(), "no known words in text");
  auto r = engine_->GetPost("unknown");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  EXPECT_EQ(engine_->Counters().posts, 0u);

  // No text and no VECTOR: a post without a vector (docs/learning.md), served
  // by fresh and bridging until a TRAIN gives it one.
  ASSERT_OK(AddText("empty", "US", ""));
  r = engine_->GetPost("empty");
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_TRUE((*r)->record.vector.empty());

  s = AddText("long", "US", std::string(text::kMaxTextBytes + 1, 'a'));
  EXPECT_EQ(s.code(), Code::kInvalid) << s.ToString();

  // An unknown LANG falls back to detection from the script.
  auto detected = engine_->EmbedText("我的猫", "");
  auto unknown = engine_->EmbedText("我的猫", "xx");
  ASSERT_TRUE(detected.ok() && unknown.ok());
  EXPECT_EQ(*detected, *unknown);
  EXPECT_EQ(engine_->EmbedText("cat", std::string(17, 'e')).status().code(), Code::kInvalid);
  EXPECT_EQ(engine_->EmbedText("???", "").status().code(), Code::kBadVector);
}

TEST_F(EngineTextTest, WithoutTextModelTextGivesNoVector) {
  EngineOptions o = Options(kDim);
  o.text_model.clear();
  Open(o);
  // A title is only a title without a text model: the post has no vector.
  ASSERT_OK(AddText("p", "US", "my cat"));
  auto r = engine_->GetPost("p");
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_TRUE((*r)->record.vector.empty());
  EXPECT_EQ((*r)->record.title, "my cat");
  auto e = engine_->EmbedText("my cat", "");
  EXPECT_EQ(e.status().code(), Code::kInvalid);
  EXPECT_EQ(e.status().message(), "no text model loaded: start the server with --text-model FILE");
}

TEST_F(EngineTextTest, OpenRefusesMissingOrCorruptLexicon) {
  auto e = Engine::Open(Options(0, (dir_ / "nope.bin").string()));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kIOError);
  EXPECT_NE(e.status().message().find("nope.bin"), std::string::npos) << e.status().ToString();

  const std::string bad = (dir_ / "bad.bin").string();
  std::ofstream(bad, std::ios::binary) << "BFTXTLX1 but not really a lexicon";
  e = Engine::Open(Options(0, bad));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kCorruption);
  EXPECT_NE(e.status().message().find("bad.bin"), std::string::npos) << e.status().ToString();
  EXPECT_FALSE(fs::exists(dir_ / "db"));  // refused before the database is touched
}

TEST_F(EngineTextTest, OpenRefusesAnotherDimension) {
  // A database made with dim 64 (the default without a model).
  EngineOptions plain = Options(64);
  plain.text_model.clear();
  Open(plain);
  ASSERT_OK(engine_->Close());
  engine_.reset();

  auto e = Engine::Open(Options());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kInvalid);
  EXPECT_NE(e.status().message().find("database dimension is 64"), std::string::npos)
      << e.status().ToString();
  EXPECT_NE(e.status().message().find("makes 6-d vectors"), std::string::npos)
      << e.status().ToString();

  // A dim given next to the model must be the model's.
  e = Engine::Open(Options(64));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kInvalid);
  EXPECT_NE(e.status().message().find("dim is 64 but the text model"), std::string::npos)
      << e.status().ToString();
}

}  // namespace
}  // namespace bf
