#include "tools/import/import_parse.h"

#include <cmath>
#include <ctime>
#include <string>

#include <gtest/gtest.h>

#include "embeddings/text/lexicon_builder.h"
#include "embeddings/text/text_model.h"
#include "tests/test_util.h"

namespace bf {
namespace {

constexpr int64_t kDefaultTs = 1700000000;

// Expects `r` to fail with `code` and exactly `message`.
template <typename T>
void ExpectError(const Result<T>& r, Code code, const std::string& message) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_EQ(r.status().message(), message);
}

class ImportParseTest : public ::testing::Test {
 protected:
  ImportParser parser_{3, kDefaultTs};
  // A valid post line with one field replaced (or removed when value is "").
  static std::string Post(const std::string& field = "", const std::string& value = "") {
    const std::pair<std::string, std::string> fields[] = {
        {"id", "\"p:1\""},       {"author", "\"a:cn:7\""}, {"culture", "\"cn\""},
        {"lang", "\"zh\""},      {"ts", "1737000000"},     {"tags", "[\"cats\",\"pets\"]"},
        {"title", "\"我家猫咪 (my cat)\""}, {"vector", "[3,0,4]"},
    };
    std::string out = "{";
    for (const auto& [k, v] : fields) {
      const std::string& val = k == field ? value : v;
      if (val.empty()) continue;
      if (out.size() > 1) out += ',';
      out += "\"" + k + "\":" + val;
    }
    return out + "}";
  }
};

TEST_F(ImportParseTest, ValidPost) {
  auto r = parser_.ParsePost(Post());
  ASSERT_RESULT_OK(r);
  EXPECT_EQ(r->id, "p:1");
  EXPECT_EQ(r->author, "a:cn:7");
  EXPECT_EQ(r->culture, "CN");
  EXPECT_EQ(r->lang, "zh");
  EXPECT_EQ(r->ts, 1737000000);
  EXPECT_EQ(r->tags, (std::vector<std::string>{"cats", "pets"}));
  EXPECT_EQ(r->title, "我家猫咪 (my cat)");
  ASSERT_EQ(r->vector.size(), 3u);
  EXPECT_FLOAT_EQ(r->vector[0], 0.6f);
  EXPECT_FLOAT_EQ(r->vector[1], 0.0f);
  EXPECT_FLOAT_EQ(r->vector[2], 0.8f);
}

TEST_F(ImportParseTest, PostOptionalFields) {
  auto r = parser_.ParsePost(
      R"({"id":"p","author":"a","culture":"us","vector":[1,1,0],"lang":null,"extra":{"x":1}})");
  ASSERT_RESULT_OK(r);
  EXPECT_EQ(r->lang, "");
  EXPECT_EQ(r->ts, kKeepTs);  // the store keeps a replaced post's ts, or takes now
  EXPECT_TRUE(r->tags.empty());
  EXPECT_EQ(r->title, "");
  // CRLF line endings and surrounding blanks are tolerated.
  ASSERT_RESULT_OK(parser_.ParsePost("  " + Post() + " \r"));
}

TEST_F(ImportParseTest, SyntaxErrors) {
  ExpectError(parser_.ParsePost(""), Code::kInvalid, "empty line");
  ExpectError(parser_.ParsePost(" \r"), Code::kInvalid, "empty line");
  ExpectError(parser_.ParsePost("{\"id\":"), Code::kInvalid, "invalid JSON");
  ExpectError(parser_.ParsePost(Post() + " {}"), Code::kInvalid, "invalid JSON");
  ExpectError(parser_.ParsePost("[1,2]"), Code::kInvalid, "expected a JSON object");
  ExpectError(parser_.ParsePost("\"p:1\""), Code::kInvalid, "expected a JSON object");
  // Invalid UTF-8 is rejected by the JSON parser.
  ExpectError(parser_.ParsePost(Post("title", "\"\xff\"")), Code::kInvalid, "invalid JSON");
}

TEST_F(ImportParseTest, PostMissingFields) {
  for (const char* f : {"id", "author", "culture", "vector"}) {
    ExpectError(parser_.ParsePost(Post(f, "")), Code::kInvalid,
                std::string("missing field \"") + f + "\"");
  }
  ExpectError(parser_.ParsePost(Post("id", "null")), Code::kInvalid,
              "missing field \"id\"");
}

TEST_F(ImportParseTest, PostWrongTypes) {
  ExpectError(parser_.ParsePost(Post("id", "12")), Code::kInvalid,
              "field \"id\" must be a string");
  ExpectError(parser_.ParsePost(Post("author", "[]")), Code::kInvalid,
              "field \"author\" must be a string");
  ExpectError(parser_.ParsePost(Post("culture", "true")), Code::kInvalid,
              "field \"culture\" must be a string");
  ExpectError(parser_.ParsePost(Post("lang", "1")), Code::kInvalid,
              "field \"lang\" must be a string");
  ExpectError(parser_.ParsePost(Post("title", "{}")), Code::kInvalid,
              "field \"title\" must be a string");
  ExpectError(parser_.ParsePost(Post("ts", "\"1737000000\"")), Code::kInvalid,
              "field \"ts\" must be an integer");
  ExpectError(parser_.ParsePost(Post("ts", "1.5")), Code::kInvalid,
              "field \"ts\" must be an integer");
  ExpectError(parser_.ParsePost(Post("ts", "18446744073709551615")), Code::kInvalid,
              "field \"ts\" must be an integer");
  const std::string range =
      "ts out of range: expected seconds since the Unix epoch from 946684800 (2000-01-01) to "
      "now + 86400 (1 day)";
  ExpectError(parser_.ParsePost(Post("ts", "1733000000000")), Code::kInvalid,
              range + "; 1733000000000 looks like milliseconds");
  ExpectError(parser_.ParsePost(Post("ts", "9223372036854775807")), Code::kInvalid, range);
  ExpectError(parser_.ParsePost(Post("ts", "946684799")), Code::kInvalid, range);
  ExpectError(parser_.ParsePost(Post("ts", "-9223372036854775808")), Code::kInvalid, range);
  // The range ends a day past the clock (or default_ts, when later).
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  ExpectError(parser_.ParsePost(Post("ts", std::to_string(now + 86400 + 120))),
              Code::kInvalid, range);
  ASSERT_RESULT_OK(parser_.ParsePost(Post("ts", std::to_string(now + 86400 - 120))));
  ASSERT_RESULT_OK(parser_.ParsePost(Post("ts", "946684800")));
  ExpectError(parser_.ParseEvent(R"({"user":"u","post":"p","type":"LIKE","ts":5})"),
              Code::kInvalid, range);
  ExpectError(parser_.ParsePost(Post("tags", "\"cats\"")), Code::kInvalid,
              "field \"tags\" must be an array of strings");
  ExpectError(parser_.ParsePost(Post("tags", "[\"cats\",1]")), Code::kInvalid,
              "field \"tags\" must be an array of strings");
}

TEST_F(ImportParseTest, IdLimits) {
  const std::string max(128, 'x');
  ASSERT_RESULT_OK(parser_.ParsePost(Post("id", "\"" + max + "\"")));
  ExpectError(parser_.ParsePost(Post("id", "\"" + max + "y\"")), Code::kInvalid,
              "field \"id\" must be 1 to 128 bytes");
  ExpectError(parser_.ParsePost(Post("id", "\"\"")), Code::kInvalid,
              "field \"id\" must be 1 to 128 bytes");
  ExpectError(parser_.ParsePost(Post("author", "\"\"")), Code::kInvalid,
              "field \"author\" must be 1 to 128 bytes");
  // Any bytes are fine in an id, as on the wire (here: UTF-8 and a space).
  ASSERT_RESULT_OK(parser_.ParsePost(Post("id", "\"猫 1\"")));
}

TEST_F(ImportParseTest, CultureAndLang) {
  ASSERT_EQ(parser_.ParsePost(Post("culture", "\"zh-Hans_2\""))->culture, "ZH-HANS_2");
  ASSERT_EQ(parser_.ParsePost(Post("culture", "\"ABCDEFGHIJKLMNOP\""))->culture,
            "ABCDEFGHIJKLMNOP");
  const std::string bad = "field \"culture\" must be 1 to 16 bytes of [A-Za-z0-9_-]";
  for (const char* c : {"\"\"", "\"ABCDEFGHIJKLMNOPQ\"", "\"U S\"", "\"U.S\"", "\"中国\""}) {
    ExpectError(parser_.ParsePost(Post("culture", c)), Code::kInvalid, bad);
  }
  ASSERT_EQ(parser_.ParsePost(Post("lang", "\"zh-Hans\""))->lang, "zh-Hans");
  ExpectError(parser_.ParsePost(Post("lang", "\"\"")), Code::kInvalid,
              "field \"lang\" must be 1 to 16 bytes");
  ExpectError(parser_.ParsePost(Post("lang", "\"abcdefghijklmnopq\"")), Code::kInvalid,
              "field \"lang\" must be 1 to 16 bytes");
}

TEST_F(ImportParseTest, Vectors) {
  ExpectError(parser_.ParsePost(Post("vector", "[1,2]")), Code::kWrongDim, "expected 3, got 2");
  ExpectError(parser_.ParsePost(Post("vector", "[]")), Code::kWrongDim, "expected 3, got 0");
  ExpectError(parser_.ParsePost(Post("vector", "[0,0,0]")), Code::kBadVector,
              "all-zero vector");
  ExpectError(parser_.ParsePost(Post("vector", "[0.0,-0.0,0e5]")), Code::kBadVector,
              "all-zero vector");
  // Positions are 1-based, as on the wire.
  ExpectError(parser_.ParsePost(Post("vector", "[1,1e39,0]")), Code::kBadVector,
              "value 2 is beyond the float32 range (magnitude above 3.4e38)");
  ExpectError(parser_.ParsePost(Post("vector", "[1,\"2\",3]")), Code::kInvalid,
              "field \"vector\" position 2 is not a number");
  ExpectError(parser_.ParsePost(Post("vector", "[1,2,null]")), Code::kInvalid,
              "field \"vector\" position 3 is not a number");
  // Underflow is 0, not infinity: alone it leaves an all-zero vector.
  ExpectError(parser_.ParsePost(Post("vector", "[1e-46,0,-1e-40]")), Code::kBadVector,
              "all-zero vector");
  ExpectError(parser_.ParsePost(Post("vector", "{\"0\":1}")), Code::kInvalid,
              "field \"vector\" must be an array of numbers");
  ExpectError(parser_.ParsePost(Post("vector", "\"AAAA\"")), Code::kInvalid,
              "field \"vector\" must be an array of numbers");
  // Large but finite components normalise fine; integers are numbers too.
  auto r = parser_.ParsePost(Post("vector", "[1e30,-1e30,0]"));
  ASSERT_RESULT_OK(r);
  EXPECT_NEAR(r->vector[0], std::sqrt(0.5f), 1e-6);
  ASSERT_RESULT_OK(parser_.ParsePost(Post("vector", "[18446744073709551615,-5,0.25]")));
}

TEST_F(ImportParseTest, Users) {
  auto r = parser_.ParseUser(
      R"({"id":"u:1","culture":"us","langs":["en","zh"],"openness":0.35,"vector":[0,2,0]})");
  ASSERT_RESULT_OK(r);
  EXPECT_EQ(r->id, "u:1");
  EXPECT_EQ(r->culture, "US");
  EXPECT_EQ(r->langs, (std::vector<std::string>{"en", "zh"}));
  EXPECT_FLOAT_EQ(r->openness, 0.35f);
  EXPECT_EQ(r->vector, (Vector{0, 1, 0}));
  EXPECT_EQ(r->positives, 0);

  auto bare = parser_.ParseUser(R"({"id":"u:2"})");
  ASSERT_RESULT_OK(bare);
  EXPECT_EQ(bare->culture, "");
  EXPECT_TRUE(bare->langs.empty());
  EXPECT_LT(bare->openness, 0.0f);
  EXPECT_TRUE(bare->vector.empty());
  ASSERT_EQ(parser_.ParseUser(R"({"id":"u","openness":1})")->openness, 1.0f);
  ASSERT_EQ(parser_.ParseUser(R"({"id":"u","openness":0})")->openness, 0.0f);

  ExpectError(parser_.ParseUser(R"({"culture":"US"})"), Code::kInvalid, "missing field \"id\"");
  ExpectError(parser_.ParseUser(R"({"id":""})"), Code::kInvalid,
              "field \"id\" must be 1 to 128 bytes");
  ExpectError(parser_.ParseUser(R"({"id":"u","culture":"U S"})"), Code::kInvalid,
              "field \"culture\" must be 1 to 16 bytes of [A-Za-z0-9_-]");
  ExpectError(parser_.ParseUser(R"({"id":"u","langs":"en"})"), Code::kInvalid,
              "field \"langs\" must be an array of strings");
  ExpectError(parser_.ParseUser(R"({"id":"u","langs":["en",""]})"), Code::kInvalid,
              "field \"langs\" items must be 1 to 16 bytes");
  ExpectError(parser_.ParseUser(R"({"id":"u","openness":"0.5"})"), Code::kInvalid,
              "field \"openness\" must be a number");
  ExpectError(parser_.ParseUser(R"({"id":"u","openness":1.01})"), Code::kInvalid,
              "field \"openness\" must be in [0, 1]");
  ExpectError(parser_.ParseUser(R"({"id":"u","openness":-0.1})"), Code::kInvalid,
              "field \"openness\" must be in [0, 1]");
  ExpectError(parser_.ParseUser(R"({"id":"u","vector":[1,2,3,4]})"), Code::kWrongDim,
              "expected 3, got 4");
  ExpectError(parser_.ParseUser(R"({"id":"u","vector":[0,0,0]})"), Code::kBadVector,
              "all-zero vector");
}

TEST_F(ImportParseTest, Events) {
  auto r = parser_.ParseEvent(R"({"user":"u:1","post":"p:2","type":"LIKE","ts":1737000001})");
  ASSERT_RESULT_OK(r);
  EXPECT_EQ(r->user, "u:1");
  EXPECT_EQ(r->post, "p:2");
  EXPECT_EQ(r->type, EventType::kLike);
  EXPECT_EQ(r->ts, 1737000001);
  const std::pair<const char*, EventType> types[] = {
      {"VIEW", EventType::kView},   {"like", EventType::kLike},
      {"Save", EventType::kSave},   {"SHARE", EventType::kShare},
      {"comment", EventType::kComment}, {"HIDE", EventType::kHide},
      {"report", EventType::kReport},
  };
  for (const auto& [name, type] : types) {
    auto e = parser_.ParseEvent(std::string(R"({"user":"u","post":"p","type":")") + name + "\"}");
    ASSERT_RESULT_OK(e);
    EXPECT_EQ(e->type, type) << name;
    EXPECT_EQ(e->ts, kDefaultTs);
  }
  ExpectError(parser_.ParseEvent(R"({"user":"u","post":"p","type":"LOVE"})"), Code::kInvalid,
              "unknown event type \"LOVE\"");
  ExpectError(parser_.ParseEvent(R"({"user":"u","post":"p","type":"VIEWS"})"), Code::kInvalid,
              "unknown event type \"VIEWS\"");
  ExpectError(parser_.ParseEvent(R"({"user":"u","post":"p","type":3})"), Code::kInvalid,
              "field \"type\" must be a string");
  ExpectError(parser_.ParseEvent(R"({"post":"p","type":"VIEW"})"), Code::kInvalid,
              "missing field \"user\"");
  ExpectError(parser_.ParseEvent(R"({"user":"u","type":"VIEW"})"), Code::kInvalid,
              "missing field \"post\"");
  ExpectError(parser_.ParseEvent(R"({"user":"u","post":"p"})"), Code::kInvalid,
              "missing field \"type\"");
  ExpectError(parser_.ParseEvent(R"({"user":"","post":"p","type":"VIEW"})"), Code::kInvalid,
              "field \"user\" must be 1 to 128 bytes");
  ExpectError(parser_.ParseEvent(R"({"user":"u","post":"p","type":"VIEW","ts":"now"})"),
              Code::kInvalid, "field \"ts\" must be an integer");
}

TEST_F(ImportParseTest, PeekVectorDim) {
  EXPECT_EQ(parser_.PeekVectorDim(R"({"id":"p","vector":[1,2,3,4,5]})"), 5);
  EXPECT_EQ(parser_.PeekVectorDim(R"({"id":"u"})"), std::nullopt);
  EXPECT_EQ(parser_.PeekVectorDim("not json"), std::nullopt);
  EXPECT_EQ(parser_.PeekVectorDim(R"({"vector":"x"})"), std::nullopt);
}

TEST_F(ImportParseTest, PostWithoutVectorTakesItsTextVector) {
  // cat on axis 0, dog on axis 1, "my" on axis 2.
  text::BuildOptions options;
  options.common_component = false;
  text::LexiconBuilder b(3, {"my", "cat", "dog"}, {0, 0, 1, 1, 0, 0, 0, 1, 0}, options);
  b.AddEntry("zh", "猫", {{"cat"}});
  auto lex = b.Build();
  ASSERT_RESULT_OK(lex);
  auto model = text::TextModel::FromLexicon(std::move(lex).value());
  ASSERT_RESULT_OK(model);

  const std::string head = R"j({"id":"p","author":"a","culture":"cn",)j";
  const std::string title_only = head + R"j("title":"我家猫咪 (my cat)"})j";
  ExpectError(parser_.ParsePost(title_only), Code::kInvalid, "missing field \"vector\"");
  parser_.UseTextModel(model->get());
  auto r = parser_.ParsePost(title_only);
  ASSERT_RESULT_OK(r);
  EXPECT_EQ(r->title, "我家猫咪 (my cat)");
  ASSERT_EQ(r->vector.size(), 3u);
  EXPECT_GT(r->vector[0], r->vector[2]);  // 猫 and "cat" outweigh "my"
  EXPECT_NEAR(r->vector[0] * r->vector[0] + r->vector[1] * r->vector[1] +
                  r->vector[2] * r->vector[2], 1.0, 1e-5);
  // "text" alone is encoded (and not stored); a given vector wins.
  r = parser_.ParsePost(head + R"j("text":"dog"})j");
  ASSERT_RESULT_OK(r);
  EXPECT_FLOAT_EQ(r->vector[1], 1.0f);
  EXPECT_EQ(r->title, "");
  r = parser_.ParsePost(head + R"j("title":"cat","vector":[3,0,4]})j");
  ASSERT_RESULT_OK(r);
  EXPECT_FLOAT_EQ(r->vector[2], 0.8f);
  ExpectError(parser_.ParsePost(head + R"j("title":"xyzzy"})j"), Code::kBadVector,
              "no known words in text");
  ExpectError(parser_.ParsePost(head + R"j("lang":"zh"})j"), Code::kInvalid,
              "missing field \"vector\" (or \"title\" or \"text\" to encode)");
  ExpectError(parser_.ParsePost(head + R"j("title":"cat","text":7})j"), Code::kInvalid,
              "field \"text\" must be a string");
}

TEST(ImportCanonicalCultureTest, Rule) {
  EXPECT_EQ(*ImportCanonicalCulture("br"), "BR");
  EXPECT_EQ(*ImportCanonicalCulture("a-b_9"), "A-B_9");
  ExpectError(ImportCanonicalCulture("a/b"), Code::kInvalid,
              "field \"culture\" must be 1 to 16 bytes of [A-Za-z0-9_-]");
}

}  // namespace
}  // namespace bf
