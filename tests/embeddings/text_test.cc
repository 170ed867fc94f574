// Unit tests of bridgefeed::text on a tiny lexicon built here from a few
// dictionary lines (no download, no packages).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "embeddings/text/lexicon.h"
#include "embeddings/text/lexicon_builder.h"
#include "embeddings/text/script.h"
#include "embeddings/text/text_model.h"
#include "tests/test_util.h"

namespace bf::text {
namespace {

using ::testing::ElementsAre;

constexpr int kDim = 8;

// English words, most frequent first, on orthogonal axes where it matters:
// cat=axis 0, dog=1, sun=2, sleep=3, jack=4, hide=5; function words share axis 7.
struct English {
  std::vector<std::string> words = {"the", "of", "my", "i", "me", "to", "cat", "dog",
                                    "sun", "sleep", "jack", "hide", "kitten", "oneself"};
  std::vector<float> vectors;
  English() {
    auto axis = [](int k, float tail = 0.0f) {
      std::vector<float> v(kDim, 0.0f);
      v[k] = 1.0f;
      v[7] += tail;
      return v;
    };
    const std::vector<std::vector<float>> rows = {
        axis(7), axis(7), axis(7, 0.5f), axis(7), axis(7), axis(7),
        axis(0), axis(1), axis(2), axis(3), axis(4), axis(5),
        {0.9f, 0, 0, 0, 0, 0, 0.4f, 0}, axis(6)};
    for (const auto& r : rows) vectors.insert(vectors.end(), r.begin(), r.end());
  }
};

Senses Cedict(std::string_view line, std::string* simp = nullptr) {
  std::string t, s;
  Senses senses;
  EXPECT_TRUE(ParseCedictLine(line, t, s, senses)) << line;
  if (simp != nullptr) *simp = s;
  return senses;
}

Lexicon TinyLexicon(BuildOptions options = {}) {
  English en;
  LexiconBuilder b(kDim, en.words, en.vectors, options);
  for (std::string_view line : {
           "貓 猫 [mao1] /cat (CL:隻|只[zhi1])/(dialect) to hide oneself/",
           "狗 狗 [gou3] /dog (CL:隻|只[zhi1])/",
           "我 我 [wo3] /I; me; my/",
           "的 的 [de5] /of; ~'s (possessive particle)/",
           "小貓 小猫 [xiao3 mao1] /kitten/",
           "睡覺 睡觉 [shui4 jiao4] /to sleep/",
       }) {
    std::string simp;
    const Senses senses = Cedict(line, &simp);
    b.AddEntry("zh", simp, senses);
  }
  b.AddEntry("ja", "猫", ParseFreeDictEntry("猫 /x/, ねこ /neko/\n1. (noun (common))\ncat\n"));
  b.AddEntry("ja", "の", ParseFreeDictEntry("の /no/\n(particle)\nof\n"));
  b.AddEntry("ja", "うち", ParseFreeDictEntry("うち /uchi/\n(noun)\nmy\n"));
  b.AddEntry("es", "gato", ParseFreeDictEntry("gato /ɡˈato/\n1. cat\n2. jack\n"));
  b.AddEntry("es", "perro", ParseFreeDictEntry("perro /pˈero/ <n>\ndog\n"));
  b.AddEntry("es", "mi", ParseFreeDictEntry("mi /mi/\nmy\n"));
  b.AddForm("es", "gatos", "gato");
  b.AddForm("es", "perritos", "perrito");  // lemma not in the dictionary: dropped
  auto lex = b.Build();
  EXPECT_TRUE(lex.ok());
  return std::move(lex).value();
}

std::unique_ptr<TextModel> TinyModel(BuildOptions options = {}) {
  auto m = TextModel::FromLexicon(TinyLexicon(options));
  EXPECT_TRUE(m.ok());
  return std::move(m).value();
}

float Cos(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += double{a[i]} * b[i];
  return static_cast<float>(d);
}

std::vector<std::string> Words(const std::vector<TextModel::Token>& tokens) {
  std::vector<std::string> out;
  for (const auto& t : tokens) out.push_back(t.word + (t.table.empty() ? "?" : ""));
  return out;
}

TEST(ScriptTest, DetectsLanguageFromScript) {
  EXPECT_EQ(LanguageFromScript("我的猫"), "zh");
  EXPECT_EQ(LanguageFromScript("うちの猫がこたつから出ない"), "ja");
  EXPECT_EQ(LanguageFromScript("カワセミ"), "ja");
  EXPECT_EQ(LanguageFromScript("my cat 2025"), "");
  EXPECT_EQ(PrimaryLanguage("zh-Hans"), "zh");
  EXPECT_EQ(PrimaryLanguage("PT_br"), "pt");
  EXPECT_EQ(PrimaryLanguage(""), "");
}

TEST(ScriptTest, SplitsLetterWordsAndLowercases) {
  std::vector<std::string> w;
  LetterWords("J'apprends le CHINOIS, jour 3", w);
  EXPECT_THAT(w, ElementsAre("j", "apprends", "le", "chinois", "jour", "3"));
  w.clear();
  LetterWords("PÃO de Queijo ÑANDÚ Straße", w);
  EXPECT_THAT(w, ElementsAre("pão", "de", "queijo", "ñandú", "straße"));
  const auto runs = SplitRuns("我的猫 (my cat) うちの猫");
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_TRUE(runs[0].cjk);
  EXPECT_FALSE(runs[0].has_kana);
  EXPECT_EQ(runs[1].text, "my");
  EXPECT_FALSE(runs[1].cjk);
  EXPECT_EQ(runs[3].text, "うちの猫");
  EXPECT_TRUE(runs[3].has_kana);
}

TEST(ScriptTest, InvalidUtf8IsASeparator) {
  std::vector<std::string> w;
  LetterWords(std::string("cat\xff\xfe" "dog\xe4", 8), w);
  EXPECT_THAT(w, ElementsAre("cat", "dog"));
}

TEST(ScriptTest, LongestMatchSegmentsKnownSentence) {
  const std::vector<std::string> dict = {"我", "的", "小", "小猫", "猫", "睡觉"};
  auto known = [&](std::string_view w) {
    return std::find(dict.begin(), dict.end(), w) != dict.end();
  };
  std::vector<std::string> out, skipped;
  LongestMatch("我的小猫在睡觉", 8, known, [&](std::string_view w) { out.emplace_back(w); },
               [&](std::string_view w) { skipped.emplace_back(w); });
  EXPECT_THAT(out, ElementsAre("我", "的", "小猫", "睡觉"));
  EXPECT_THAT(skipped, ElementsAre("在"));
}

TEST(DictionaryTest, ParsesCedictLineAndDropsPointers) {
  std::string t, s;
  Senses senses;
  ASSERT_TRUE(ParseCedictLine(
      "貓 猫 [mao1] /cat (CL:隻|只[zhi1])/variant of 猫[mao1]/(dialect) to hide oneself/", t, s,
      senses));
  EXPECT_EQ(t, "貓");
  EXPECT_EQ(s, "猫");
  ASSERT_EQ(senses.size(), 2u);
  EXPECT_THAT(GlossWords(senses[0][0]), ElementsAre("cat"));
  EXPECT_THAT(GlossWords(senses[1][0]), ElementsAre("to", "hide", "oneself"));
  senses = Cedict("我 我 [wo3] /I; me; my/");
  ASSERT_EQ(senses.size(), 1u);
  EXPECT_THAT(senses[0], ElementsAre("I", "me", "my"));
  EXPECT_FALSE(ParseCedictLine("# CC-CEDICT", t, s, senses));
  EXPECT_FALSE(ParseCedictLine("broken line without slashes", t, s, senses));
}

TEST(DictionaryTest, ParsesFreeDictEntries) {
  EXPECT_EQ(ParseFreeDictEntry("gato /ɡˈato/\n1. cat\n2. jack\n"),
            (Senses{{"cat"}, {"jack"}}));
  EXPECT_EQ(ParseFreeDictEntry("熱 /x/, ねつ /netsu/\n1. (noun (common) (futsuumeishi))\nheat\n"
                               "2. fever, temperature\n"),
            (Senses{{"heat"}, {"fever", "temperature"}}));
  EXPECT_EQ(ParseFreeDictEntry("Katze /kˈatsə/ <fem, n, sg>\ncat <n>, puss <n>\n"
                               "   Synonym: {Mieze}\n\n see: {Kater}, {Katzen}\n"),
            (Senses{{"cat", "puss"}}));
  EXPECT_TRUE(ParseFreeDictEntry("lonely /headword/\n").empty());
}

TEST(BuilderTest, GlossMappingWeightsEarlierSensesMore) {
  BuildOptions o;
  o.common_component = false;
  const Lexicon lex = TinyLexicon(o);
  ASSERT_EQ(lex.languages.size(), 4u);  // en first, then in order of first use
  EXPECT_EQ(lex.languages[0].code, "en");
  const LexiconLanguage& es = lex.languages[3];
  ASSERT_EQ(es.code, "es");
  auto row = [&](const LexiconLanguage& l, std::string_view w) {
    for (size_t i = 0; i < l.words.size(); ++i) {
      if (l.words[i] == w) return std::vector<float>(&l.vectors[l.vector_of[i] * kDim],
                                                     &l.vectors[l.vector_of[i] * kDim] + kDim);
    }
    ADD_FAILURE() << "no word " << w;
    return std::vector<float>(kDim, 0.0f);
  };
  // gato = (1 * cat + 1/2 * jack) / |.|: cat on axis 0, jack on axis 4.
  const std::vector<float> gato = row(es, "gato");
  EXPECT_NEAR(gato[0], 1.0 / std::sqrt(1.25), 1e-5);
  EXPECT_NEAR(gato[4], 0.5 / std::sqrt(1.25), 1e-5);
  // An inflected form shares its lemma's vector; a form of an unknown lemma is dropped.
  EXPECT_EQ(row(es, "gatos"), gato);
  EXPECT_EQ(std::count(es.words.begin(), es.words.end(), "perritos"), 0);
  // SIF weights: "of" (rank 2) weighs far less than "cat" (rank 7), and 的 takes its gloss's.
  const LexiconLanguage& en = lex.languages[0];
  const double h = std::log(14.0) + 0.5772;
  EXPECT_NEAR(en.weight[6], 1e-3 / (1e-3 + 1.0 / (7 * h)), 1e-6);
  const LexiconLanguage& zh = lex.languages[1];
  const auto de = std::find(zh.words.begin(), zh.words.end(), "的") - zh.words.begin();
  const auto mao = std::find(zh.words.begin(), zh.words.end(), "猫") - zh.words.begin();
  EXPECT_LT(zh.weight[de] * 3, zh.weight[mao]);
}

TEST(TextModelTest, TranslationsLandTogether) {
  BuildOptions o;
  o.common_component = false;
  const auto m = TinyModel(o);
  auto zh = m->Encode("我的猫");
  auto en = m->Encode("my cat", "en");
  auto es = m->Encode("Mi gato", "es");
  auto ja = m->Encode("うちの猫");
  auto dog = m->Encode("狗");
  ASSERT_RESULT_OK(zh);
  ASSERT_RESULT_OK(en);
  ASSERT_RESULT_OK(es);
  ASSERT_RESULT_OK(ja);
  ASSERT_RESULT_OK(dog);
  EXPECT_GT(Cos(*zh, *en), 0.85f);
  EXPECT_GT(Cos(*ja, *en), 0.95f);
  EXPECT_GT(Cos(*es, *en), 0.85f);
  EXPECT_LT(Cos(*dog, *en), 0.1f);
  double norm = 0;
  for (float x : *zh) norm += double{x} * x;
  EXPECT_NEAR(norm, 1.0, 1e-5);
}

TEST(TextModelTest, SegmentsAndLooksUpPerLanguage) {
  const auto m = TinyModel();
  EXPECT_THAT(Words(m->Tokens("我的小猫在睡觉")), ElementsAre("我", "的", "小猫", "在?", "睡觉"));
  EXPECT_EQ(m->Language("我的小猫"), "zh");
  EXPECT_EQ(m->Language("うちの猫"), "ja");
  EXPECT_EQ(m->Language("mi gato"), "es");   // more known Spanish words than English
  EXPECT_EQ(m->Language("my cat"), "en");
  EXPECT_EQ(m->Language("xyz"), "en");       // nothing known: English
  EXPECT_EQ(m->Language("my cat", "es-MX"), "es");
  EXPECT_EQ(m->Language("我的猫", "tlh"), "zh");  // unknown tag: detected
  // Latin words in a Chinese text are English; a form reaches its lemma.
  const auto tokens = m->Tokens("我的猫 (my cat)");
  ASSERT_EQ(tokens.size(), 5u);
  EXPECT_EQ(tokens[3].table, "en");
  EXPECT_EQ(m->Tokens("gatos", "es")[0].table, "es");
}

TEST(TextModelTest, RemovesTheCommonComponent) {
  const Lexicon lex = TinyLexicon();
  const std::vector<float> common = lex.languages[0].common;
  auto m = TextModel::FromLexicon(lex);
  ASSERT_RESULT_OK(m);
  auto v = (*m)->Encode("the cat of my dog", "en");
  ASSERT_RESULT_OK(v);
  EXPECT_NEAR(Cos(*v, common), 0.0f, 1e-5);
}

TEST(TextModelTest, ErrorCases) {
  const auto m = TinyModel();
  auto none = m->Encode("qqq zzz!", "en");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Code::kBadVector);
  EXPECT_EQ(none.status().ToString(), "BadVector: no known words in text");
  EXPECT_EQ(m->Encode("", "").status().code(), Code::kBadVector);
  EXPECT_EQ(m->Encode("在", "zh").status().message(), kNoKnownWords);
  std::string big(kMaxTextBytes + 1, 'a');
  auto too_long = m->Encode(big);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().code(), Code::kInvalid);
  EXPECT_EQ(too_long.status().message(), "text longer than 1048576 bytes");
  big.resize(kMaxTextBytes - 4);
  big += " cat";
  EXPECT_TRUE(m->Encode(big).ok());
}

class LexiconFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bf_text_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "lexicon.bin").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Bytes() {
    std::ifstream f(path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  void Put(const std::string& bytes) {
    std::ofstream f(path_, std::ios::binary | std::ios::trunc);
    f << bytes;
  }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(LexiconFileTest, RoundTrips) {
  const Lexicon lex = TinyLexicon();
  ASSERT_OK(WriteLexicon(lex, path_));
  auto back = ReadLexicon(path_);
  ASSERT_RESULT_OK(back);
  ASSERT_EQ(back->languages.size(), lex.languages.size());
  for (size_t i = 0; i < lex.languages.size(); ++i) {
    EXPECT_EQ(back->languages[i].code, lex.languages[i].code);
    EXPECT_EQ(back->languages[i].words, lex.languages[i].words);
    EXPECT_EQ(back->languages[i].vectors, lex.languages[i].vectors);
    EXPECT_EQ(back->languages[i].weight, lex.languages[i].weight);
    EXPECT_EQ(back->languages[i].common, lex.languages[i].common);
  }
  auto m = TextModel::Load(path_);
  ASSERT_RESULT_OK(m);
  EXPECT_EQ((*m)->dim(), kDim);
  EXPECT_EQ((*m)->words("es"), 4u);  // gato, perro, mi, gatos
  auto a = (*m)->Encode("我的猫");
  ASSERT_RESULT_OK(a);
  EXPECT_EQ(*a, *TinyModel()->Encode("我的猫"));
}

TEST_F(LexiconFileTest, MissingFileIsAnIOError) {
  auto m = TextModel::Load(path_ + ".nope");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Code::kIOError);
  EXPECT_EQ(m.status().message(), "cannot open text model " + path_ + ".nope");
}

TEST_F(LexiconFileTest, CorruptFilesAreRefused) {
  ASSERT_OK(WriteLexicon(TinyLexicon(), path_));
  const std::string good = Bytes();
  auto expect_corrupt = [&](const std::string& bytes, const std::string& why) {
    Put(bytes);
    auto m = TextModel::Load(path_);
    ASSERT_FALSE(m.ok()) << why;
    EXPECT_EQ(m.status().code(), Code::kCorruption) << why;
    EXPECT_EQ(m.status().message(),
              "text model " + path_ + " is not a valid lexicon file: " + why);
  };
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x40;
  expect_corrupt(flipped, "checksum mismatch");
  expect_corrupt(good.substr(0, good.size() - 3), "truncated or extended");
  expect_corrupt("not a lexicon at all, just text that is long enough", "bad header");
  expect_corrupt("", "bad header");
}

TEST_F(LexiconFileTest, ModelWithoutEnglishIsRefused) {
  Lexicon lex = TinyLexicon();
  lex.languages.erase(lex.languages.begin());
  ASSERT_OK(WriteLexicon(lex, path_));
  auto m = TextModel::Load(path_);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Code::kCorruption);
  EXPECT_EQ(m.status().message(), "text model has no English table: " + path_);
}

TEST(TextModelConcurrencyTest, ConcurrentEncodesAgree) {
  const auto m = TinyModel();
  const std::vector<std::string> texts = {"我的猫", "うちの猫", "mi gato", "my dog", "睡觉"};
  std::vector<std::vector<float>> want;
  for (const auto& t : texts) want.push_back(*m->Encode(t));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        const size_t k = static_cast<size_t>(i + t) % texts.size();
        auto v = m->Encode(texts[k]);
        if (!v.ok() || *v != want[k]) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

TEST(DictionaryTest, KeepsJmdictGlossGluedToAUsageNote) {
  // jpn-eng runs JMdict's usage label into the gloss; the label goes, the gloss stays.
  EXPECT_EQ(ParseFreeDictEntry("こたつ /kotatsu/\n(noun (common) (futsuumeishi))\n\n"
                               "         Note: word usually written using kana alonekotatsu, "
                               "table over an electric heater (orig. a charcoal brazier)\n"),
            (Senses{{"kotatsu", "table over an electric heater"}}));
  EXPECT_EQ(ParseFreeDictEntry("うち /uchi/\n1. (noun (common) (futsuumeishi))\n"
                               "         Note: archaism (orig. meaning)imperial palace\n"
                               "2. my spouse\n"),
            (Senses{{"imperial palace"}, {"my spouse"}}));
  // A note that is no JMdict label (other dictionaries) is still dropped.
  EXPECT_EQ(ParseFreeDictEntry("Katze /k/\ncat\n Note: see the entry for Kater\n"),
            (Senses{{"cat"}}));
}

TEST(DictionaryTest, MarksParticlesConjunctionsAndAuxiliariesAsFunctionWords) {
  bool fw = false;
  EXPECT_FALSE(ParseFreeDictEntry("の /no/\n1. (particle)\nindicates possessive\n", &fw).empty());
  EXPECT_TRUE(fw);
  ParseFreeDictEntry("ない /nai/\n1. (adjective (keiyoushi))\nnonexistent\n"
                     "5. (auxiliary adjective)\nnot\n", &fw);
  EXPECT_TRUE(fw);
  ParseFreeDictEntry("しかし /shikashi/\n(conjunction)\nhowever, but\n", &fw);
  EXPECT_TRUE(fw);
  // A noun whose part-of-speech line merely mentions the particle no is no function word.
  ParseFreeDictEntry("うち /uchi/\n1. (noun (common) (futsuumeishi))\n"
                     " (nouns which may take the genitive case particle `no')\nhouse, home\n", &fw);
  EXPECT_FALSE(fw);
}

TEST(BuilderTest, FunctionWordsWeighAsFrequentEnglishWords) {
  English en;
  BuildOptions o;
  o.function_rank = 1;  // as much as "the"
  LexiconBuilder b(kDim, en.words, en.vectors, o);
  b.AddEntry("ja", "が", {{"dog"}}, /*function_word=*/true);
  b.AddEntry("ja", "犬", {{"dog"}});
  auto lex = b.Build();
  ASSERT_TRUE(lex.ok());
  const LexiconLanguage& ja = lex->languages[1];
  ASSERT_THAT(ja.words, ElementsAre("が", "犬"));
  EXPECT_FLOAT_EQ(ja.weight[0], lex->languages[0].weight[0]);  // "the"
  EXPECT_FLOAT_EQ(ja.weight[1], lex->languages[0].weight[7]);  // "dog"
  EXPECT_LT(ja.weight[0], ja.weight[1] / 5);
}

TEST(BuilderTest, CjkHeadwordWithoutAKnownGlossStaysKnownButEmpty) {
  English en;
  LexiconBuilder b(kDim, en.words, en.vectors);
  b.AddEntry("ja", "猫", {{"cat"}});
  b.AddEntry("ja", "こ", {{"kitten"}});
  b.AddEntry("ja", "たつ", {{"sleep"}});
  b.AddEntry("ja", "こたつ", {{"kotatsu"}});  // "kotatsu" is no English word here
  b.AddEntry("es", "zzz", {{"kotatsu"}});     // not a segmented language: dropped
  std::vector<BuildStats> stats;
  auto lex = b.Build(&stats);
  ASSERT_TRUE(lex.ok());
  ASSERT_EQ(stats.size(), 3u);
  EXPECT_EQ(stats[1].with_vector, 3u);
  EXPECT_EQ(stats[1].empty, 1u);
  EXPECT_EQ(stats[2].empty, 0u);
  // It survives the file, and the model reports it.
  const std::string path = ::testing::TempDir() + "/empty_words.lex";
  ASSERT_OK(WriteLexicon(*lex, path));
  auto m = TextModel::Load(path);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->info().path, path);
  ASSERT_EQ((*m)->info().languages.size(), 3u);
  EXPECT_EQ((*m)->info().languages[1].code, "ja");
  EXPECT_EQ((*m)->info().languages[1].words, 3u);
  EXPECT_EQ((*m)->info().languages[1].vectors, 3u);
  EXPECT_EQ((*m)->info().languages[1].empty, 1u);
  EXPECT_EQ((*m)->info().languages[2].words, 0u);
  std::remove(path.c_str());
  // Segmentation keeps こたつ whole; it adds nothing to the vector.
  EXPECT_THAT(Words((*m)->Tokens("猫がこたつ", "ja")), ElementsAre("猫", "が?", "こたつ"));
  auto with = (*m)->Encode("猫がこたつ", "ja");
  auto cat = (*m)->Encode("猫", "ja");
  ASSERT_TRUE(with.ok() && cat.ok());
  EXPECT_NEAR(Cos(*with, *cat), 1.0f, 1e-6);
  // Known words without a vector are no known words for the error.
  auto none = (*m)->Encode("こたつ", "ja");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Code::kBadVector);
  EXPECT_EQ(none.status().message(), kNoKnownWords);
}

TEST(BuilderTest, PartsOfLongerHeadwordsReadTheGlossTheyShare) {
  English en;
  auto build = [&](BuildOptions o) {
    o.common_component = false;
    LexiconBuilder b(kDim, en.words, en.vectors, o);
    b.AddEntry("zh", "电脑游戏", {{"cat jack"}});  // "computer game", as it were
    b.AddEntry("zh", "电脑病毒", {{"cat sun"}});   // "computer virus"
    b.AddEntry("zh", "电", {{"dog"}});
    b.AddEntry("zh", "脑", {{"sleep"}});
    std::vector<BuildStats> stats;
    auto lex = b.Build(&stats);
    EXPECT_TRUE(lex.ok());
    return std::make_pair(std::move(lex).value(), stats.at(1).parts);
  };
  auto row = [](const LexiconLanguage& l, std::string_view w) -> std::vector<float> {
    for (size_t i = 0; i < l.words.size(); ++i) {
      if (l.words[i] == w) {
        return {&l.vectors[l.vector_of[i] * kDim], &l.vectors[l.vector_of[i] * kDim] + kDim};
      }
    }
    return {};
  };
  BuildOptions o;
  o.parts_languages = {"zh"};
  o.parts_min_containing = 2;
  o.parts_context_share = 1.0;
  auto [lex, parts] = build(o);
  const LexiconLanguage& zh = lex.languages[1];
  // 电脑 is in both; 脑游, 游戏, 电脑游 ... are in one only.
  EXPECT_EQ(parts, 1u);
  EXPECT_TRUE(row(zh, "游戏").empty());
  const std::vector<float> part = row(zh, "电脑");
  ASSERT_EQ(part.size(), size_t{kDim});
  // The shared gloss word (cat, axis 0) leads the unshared ones (jack, sun).
  EXPECT_GT(part[0], part[4] + 0.1f);
  EXPECT_GT(part[0], part[2] + 0.1f);
  EXPECT_NEAR(part[1], 0.0f, 1e-6);  // nothing of 电 "dog" ...
  EXPECT_NEAR(part[3], 0.0f, 1e-6);  // ... or 脑 "sleep": context only
  // A text reads it as one word.
  auto m = TextModel::FromLexicon(lex);
  ASSERT_TRUE(m.ok());
  EXPECT_THAT(Words((*m)->Tokens("电脑", "zh")), ElementsAre("电脑"));

  // With no context share the part is its characters' composition.
  o.parts_context_share = 0.0;
  const std::vector<float> composed = row(build(o).first.languages[1], "电脑");
  ASSERT_EQ(composed.size(), size_t{kDim});
  EXPECT_NEAR(composed[0], 0.0f, 1e-6);
  EXPECT_GT(composed[1], 0.5f);
  EXPECT_GT(composed[3], 0.5f);

  // parts_min_containing 1 also takes the parts of one headword (电脑 脑游 游戏 脑病
  // 病毒; parts_max_chars 3 adds 电脑游 脑游戏 电脑病 脑病毒); 0 turns parts off.
  o.parts_context_share = 1.0;
  o.parts_min_containing = 1;
  o.parts_max_chars = 2;
  EXPECT_EQ(build(o).second, 5u);
  o.parts_max_chars = 3;
  EXPECT_EQ(build(o).second, 9u);
  o.parts_min_containing = 0;
  EXPECT_EQ(build(o).second, 0u);
  o.parts_min_containing = 2;
  o.parts_languages.clear();
  EXPECT_EQ(build(o).second, 0u);
}

TEST(BuilderTest, SecondDictionaryFillsOnlyWhatTheFirstLacks) {
  English en;
  BuildOptions o;
  o.common_component = false;
  o.parts_languages = {"zh"};
  o.parts_min_containing = 1;
  o.parts_max_chars = 2;
  LexiconBuilder b(kDim, en.words, en.vectors, o);
  b.AddEntry("zh", "猫", {{"cat"}});
  b.AddEntry("zh", "狗", {{"dog"}});
  b.AddSecondary("zh", "猫", {{"sun"}});           // the first dictionary's word stays
  b.AddSecondary("zh", "猫狗", {{"jack"}});        // a word only the second knows ...
  b.AddSecondary("zh", "猫狗", {{"hide"}});        // ... its senses merged, first first
  b.AddSecondary("zh", "太阳光线", {{"sun"}});     // no container of parts: no 太阳
  b.AddSecondary("zh", "狗狗", {{"kotatsu"}});     // no known gloss: left out, not kept empty
  std::vector<BuildStats> stats;
  auto lex = b.Build(&stats);
  ASSERT_TRUE(lex.ok());
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[1].entries, 2u);
  EXPECT_EQ(stats[1].secondary, 2u);
  EXPECT_EQ(stats[1].parts, 0u);
  EXPECT_EQ(stats[1].empty, 0u);
  auto m = TextModel::FromLexicon(std::move(lex).value());
  ASSERT_TRUE(m.ok());
  auto cat = (*m)->Encode("猫", "zh");
  ASSERT_TRUE(cat.ok());
  EXPECT_GT((*cat)[0], 0.99f);  // cat, not sun
  EXPECT_THAT(Words((*m)->Tokens("猫狗", "zh")), ElementsAre("猫狗"));
  auto pair = (*m)->Encode("猫狗", "zh");
  ASSERT_TRUE(pair.ok());
  EXPECT_GT((*pair)[4], (*pair)[5] + 0.2f);  // jack (sense 1) over hide (sense 2)
  EXPECT_GT((*pair)[5], 0.2f);
  EXPECT_NEAR((*pair)[0], 0.0f, 1e-6);       // nothing of its characters
  EXPECT_THAT(Words((*m)->Tokens("狗狗太阳", "zh")), ElementsAre("狗", "狗", "太?", "阳?"));
}

}  // namespace
}  // namespace bf::text
