#include "tools/import/import_parse.h"

#include <cctype>
#include <algorithm>
#include <cmath>
#include <ctime>
#include <vector>

#include <simdjson.h>

#include "embeddings/vector.h"
#include "engine/store/store.h"

namespace bf {
namespace {

namespace dom = simdjson::dom;


std::string Quoted(std::string_view field) { return "field \"" + std::string(field) + "\""; }

Status MustBe(std::string_view field, std::string_view what) {
  return Status::Invalid(Quoted(field) + " must be " + std::string(what));
}

bool IsNumber(const dom::element& e) {
  const dom::element_type t = e.type();
  return t == dom::element_type::INT64 || t == dom::element_type::UINT64 ||
         t == dom::element_type::DOUBLE;
}

// The fields of one object; nullopt when absent or null.
class Fields {
 public:
  explicit Fields(dom::object obj) : obj_(obj) {}

  std::optional<dom::element> Get(std::string_view key) const {
    dom::element e;
    if (obj_.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
    return e;
  }

  // Required string field (ids, culture, type).
  Status String(std::string_view key, std::string_view* out) const {
    const auto e = Get(key);
    if (!e) return Status::Invalid("missing " + Quoted(key));
    return AsString(key, *e, out);
  }
  // Optional string field: `*present` says whether it was given.
  Status OptString(std::string_view key, std::string_view* out, bool* present) const {
    const auto e = Get(key);
    *present = e.has_value();
    return *present ? AsString(key, *e, out) : Status::OK();
  }
  // Optional integer field; `*out` keeps its value when absent.
  Status OptInt(std::string_view key, int64_t* out) const {
    const auto e = Get(key);
    if (!e) return Status::OK();
    if (e->get_int64().get(*out) != simdjson::SUCCESS) return MustBe(key, "an integer");
    return Status::OK();
  }
  Status OptStrings(std::string_view key, std::vector<std::string>* out) const {
    const auto e = Get(key);
    if (!e) return Status::OK();
    dom::array arr;
    if (e->get_array().get(arr) != simdjson::SUCCESS) return MustBe(key, "an array of strings");
    out->clear();
    for (dom::element item : arr) {
      std::string_view s;
      if (item.get_string().get(s) != simdjson::SUCCESS) {
        return MustBe(key, "an array of strings");
      }
      out->emplace_back(s);
    }
    return Status::OK();
  }

 private:
  static Status AsString(std::string_view key, dom::element e, std::string_view* out) {
    if (e.get_string().get(*out) != simdjson::SUCCESS) return MustBe(key, "a string");
    return Status::OK();
  }
  dom::object obj_;
};

// A required id-like field (id, author, user, post): 1 to 128 bytes.
Status IdField(const Fields& f, std::string_view key, std::string* out) {
  std::string_view s;
  BF_RETURN_IF_ERROR(f.String(key, &s));
  if (!ValidId(s)) return MustBe(key, "1 to " + std::to_string(kMaxIdBytes) + " bytes");
  *out = s;
  return Status::OK();
}

// The "culture" field, canonical; left as it is when optional and absent.
Status CultureField(const Fields& f, bool required, std::string* out) {
  std::string_view s;
  bool present = true;
  BF_RETURN_IF_ERROR(required ? f.String("culture", &s) : f.OptString("culture", &s, &present));
  if (!present) return Status::OK();
  auto culture = ImportCanonicalCulture(s);
  if (!culture.ok()) return culture.status();
  *out = std::move(*culture);
  return Status::OK();
}

Status CheckLangField(std::string_view lang, bool list) {
  if (!ValidLang(lang)) {
    const std::string bytes = "1 to " + std::to_string(kMaxLangBytes) + " bytes";
    return Status::Invalid(list ? "field \"langs\" items must be " + bytes
                                : "field \"lang\" must be " + bytes);
  }
  return Status::OK();
}

// Reads, checks and normalises the "vector" field. REQUIRES: present.
Status ParseVector(const dom::element& e, int dim, Vector* out) {
  dom::array arr;
  if (e.get_array().get(arr) != simdjson::SUCCESS) {
    return MustBe("vector", "an array of numbers");
  }
  if (arr.size() != static_cast<size_t>(dim)) {
    return Status::WrongDim("expected " + std::to_string(dim) + ", got " +
                            std::to_string(arr.size()));
  }
  out->resize(static_cast<size_t>(dim));
  size_t i = 0;
  for (dom::element item : arr) {
    double d;
    if (!IsNumber(item) || item.get_double().get(d) != simdjson::SUCCESS) {
      return Status::Invalid("field \"vector\" position " + std::to_string(i + 1) +
                             " is not a number");
    }
    // The wire's rule: beyond float32 is BADVECTOR, underflow is 0.
    auto c = ToComponent(d, i + 1);
    if (!c.ok()) return c.status();
    (*out)[i++] = *c;
  }
  BF_RETURN_IF_ERROR(CheckVector(*out));
  Normalize(*out);
  return Status::OK();
}

}  // namespace

Result<std::string> ImportCanonicalCulture(std::string_view culture) {
  // The store's rule, with the import's field wording.
  auto canonical = CanonicalCulture(culture);
  if (!canonical.ok()) {
    return MustBe("culture", "1 to " + std::to_string(kMaxCultureBytes) + " bytes of [A-Za-z0-9_-]");
  }
  return canonical;
}

struct ImportParser::Impl {
  dom::parser parser;

  // Parses `line` as one JSON object.
  Result<dom::object> Object(std::string_view line) {
    // Lines read with std::getline may keep a '\r' (CRLF files): ignore it.
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    size_t start = 0;
    while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) ++start;
    if (start == line.size()) return Status::Invalid("empty line");
    dom::element doc;
    if (parser.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS) {
      return Status::Invalid("invalid JSON");
    }
    dom::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) {
      return Status::Invalid("expected a JSON object");
    }
    return obj;
  }
};

ImportParser::ImportParser(int dim, int64_t default_ts)
    : dim_(dim),
      default_ts_(default_ts),
      clock_(std::max(default_ts, static_cast<int64_t>(std::time(nullptr)))),
      impl_(std::make_unique<Impl>()) {
  BF_CHECK(dim >= 1 && dim <= kMaxDim);
}

ImportParser::~ImportParser() = default;

Result<PostRecord> ImportParser::ParsePost(std::string_view line) {
  auto obj = impl_->Object(line);
  if (!obj.ok()) return obj.status();
  const Fields f(*obj);
  PostRecord post;
  std::string_view s;
  bool present = false;
  BF_RETURN_IF_ERROR(IdField(f, "id", &post.id));
  BF_RETURN_IF_ERROR(IdField(f, "author", &post.author));
  BF_RETURN_IF_ERROR(CultureField(f, true, &post.culture));
  BF_RETURN_IF_ERROR(f.OptString("lang", &s, &present));
  if (present) {
    BF_RETURN_IF_ERROR(CheckLangField(s, false));
    post.lang = s;
  }
  // As POST.ADD: without ts a replace keeps the stored ts, a new post gets now.
  post.ts = kKeepTs;
  if (f.Get("ts")) {
    BF_RETURN_IF_ERROR(f.OptInt("ts", &post.ts));
    BF_RETURN_IF_ERROR(CheckTs(post.ts, clock_));
  }
  BF_RETURN_IF_ERROR(f.OptStrings("tags", &post.tags));
  BF_RETURN_IF_ERROR(f.OptString("title", &s, &present));
  if (present) post.title = s;
  std::string_view body;
  BF_RETURN_IF_ERROR(f.OptString("text", &body, &present));
  const auto vec = f.Get("vector");
  if (vec) {
    BF_RETURN_IF_ERROR(ParseVector(*vec, dim_, &post.vector));
  } else if (text_model_ == nullptr) {
    return Status::Invalid("missing field \"vector\"");
  } else if (post.title.empty() && body.empty()) {
    return Status::Invalid("missing field \"vector\" (or \"title\" or \"text\" to encode)");
  } else {
    auto v = text::EncodePost(*text_model_, post.title, body, post.lang);
    if (!v.ok()) return v.status();
    post.vector = std::move(v).value();
  }
  post.prior = post.vector;  // the given (or text) vector is the prior (docs/learning.md)
  return post;
}

Result<UserRecord> ImportParser::ParseUser(std::string_view line) {
  auto obj = impl_->Object(line);
  if (!obj.ok()) return obj.status();
  const Fields f(*obj);
  UserRecord user;
  BF_RETURN_IF_ERROR(IdField(f, "id", &user.id));
  BF_RETURN_IF_ERROR(CultureField(f, false, &user.culture));
  BF_RETURN_IF_ERROR(f.OptStrings("langs", &user.langs));
  for (const std::string& lang : user.langs) BF_RETURN_IF_ERROR(CheckLangField(lang, true));
  if (const auto e = f.Get("openness")) {
    double v;
    if (!IsNumber(*e) || e->get_double().get(v) != simdjson::SUCCESS) {
      return MustBe("openness", "a number");
    }
    if (!(v >= 0.0 && v <= 1.0)) return MustBe("openness", "in [0, 1]");
    user.openness = static_cast<float>(v);
  }
  if (const auto e = f.Get("vector")) BF_RETURN_IF_ERROR(ParseVector(*e, dim_, &user.vector));
  user.prior = user.vector;
  return user;
}

Result<ImportEvent> ImportParser::ParseEvent(std::string_view line) {
  auto obj = impl_->Object(line);
  if (!obj.ok()) return obj.status();
  const Fields f(*obj);
  ImportEvent event;
  BF_RETURN_IF_ERROR(IdField(f, "user", &event.user));
  BF_RETURN_IF_ERROR(IdField(f, "post", &event.post));
  std::string_view s;
  BF_RETURN_IF_ERROR(f.String("type", &s));
  const auto type = ParseEventType(s);
  if (!type) return Status::Invalid("unknown event type \"" + std::string(s) + "\"");
  event.type = *type;
  event.ts = default_ts_;
  BF_RETURN_IF_ERROR(f.OptInt("ts", &event.ts));
  BF_RETURN_IF_ERROR(CheckTs(event.ts, clock_));
  return event;
}

std::optional<int> ImportParser::PeekVectorDim(std::string_view line) {
  auto obj = impl_->Object(line);
  if (!obj.ok()) return std::nullopt;
  dom::array arr;
  if (obj->at_key("vector").get_array().get(arr) != simdjson::SUCCESS) return std::nullopt;
  return static_cast<int>(arr.size());
}

}  // namespace bf
