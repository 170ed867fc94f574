#include "tools/eval/dataset.h"

#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include <simdjson.h>

#include "engine/store/limits.h"

namespace bf::eval {
namespace {

// learn's kinds are the store's event types in the store's order.
static_assert(static_cast<int>(EventType::kView) == static_cast<int>(learn::EventKind::kView));
static_assert(static_cast<int>(EventType::kReport) == static_cast<int>(learn::EventKind::kReport));
static_assert(static_cast<int>(kLastEventType) + 1 == learn::kEventKinds);

namespace od = simdjson::ondemand;

// Dense indexes for string ids, in order of first appearance.
class Ids {
 public:
  explicit Ids(std::vector<std::string>& names) : names_(names) {}
  int32_t Get(std::string_view id) {
    auto it = index_.find(std::string(id));
    if (it != index_.end()) return it->second;
    const auto n = static_cast<int32_t>(names_.size());
    names_.emplace_back(id);
    index_.emplace(names_.back(), n);
    return n;
  }

 private:
  std::vector<std::string>& names_;
  std::unordered_map<std::string, int32_t> index_;
};

Status Where(const std::string& file, int64_t line, const std::string& why) {
  return Status::Invalid(file + ":" + std::to_string(line) + ": " + why);
}

Status OpenFile(const std::string& path, std::ifstream& in) {
  in.open(path);
  if (!in) return Status::NotFound("cannot open " + path);
  return Status::OK();
}

// Calls fn(object, line number) for each non-empty line of a JSON Lines file; stops at the
// first error, an invalid line's or fn's.
template <typename Fn>
Status ForEachObject(const std::string& path, Fn fn) {
  std::ifstream in;
  BF_RETURN_IF_ERROR(OpenFile(path, in));
  od::parser parser;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    simdjson::padded_string padded(line);
    od::document doc;
    od::object obj;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(obj) != simdjson::SUCCESS) {
      return Where(path, n, "invalid JSON");
    }
    BF_RETURN_IF_ERROR(fn(obj, n));
  }
  return Status::OK();
}

Status StringField(od::object& obj, const char* name, std::string_view& out) {
  od::value v;
  if (obj.find_field_unordered(name).get(v) != simdjson::SUCCESS) {
    return Status::Invalid(std::string("missing field \"") + name + "\"");
  }
  if (v.get_string().get(out) != simdjson::SUCCESS) {
    return Status::Invalid(std::string("field \"") + name + "\" must be a string");
  }
  return Status::OK();
}

// The profile lines (posts, users): id, culture, vector; each line's vector goes into
// `vectors` at the id's index.
struct Profile {
  std::string culture;
  std::vector<float> vector;
};

Status ReadProfiles(const std::string& path, Ids& ids, int& dim,
                    std::unordered_map<int32_t, Profile>& out) {
  return ForEachObject(path, [&](od::object& obj, int64_t n) -> Status {
    std::string_view id;
    if (Status s = StringField(obj, "id", id); !s.ok()) return Where(path, n, s.message());
    Profile p;
    const std::string id_copy(id);
    std::string_view culture;
    od::value v;
    if (obj.find_field_unordered("culture").get(v) == simdjson::SUCCESS &&
        v.get_string().get(culture) == simdjson::SUCCESS) {
      p.culture.assign(culture);
      for (char& c : p.culture) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    od::array arr;
    if (obj.find_field_unordered("vector").get(v) == simdjson::SUCCESS &&
        v.get_array().get(arr) == simdjson::SUCCESS) {
      double norm = 0;
      for (auto x : arr) {
        double d;
        if (x.get_double().get(d) != simdjson::SUCCESS || !std::isfinite(d)) {
          return Where(path, n, "field \"vector\" must be an array of finite numbers");
        }
        p.vector.push_back(static_cast<float>(d));
        norm += d * d;
      }
      if (dim == 0) dim = static_cast<int>(p.vector.size());
      if (static_cast<int>(p.vector.size()) != dim) {
        return Where(path, n, "vector of length " + std::to_string(p.vector.size()) +
                                  ", expected " + std::to_string(dim));
      }
      if (norm == 0) return Where(path, n, "all-zero vector");
      for (float& x : p.vector) x = static_cast<float>(x / std::sqrt(norm));
    }
    out[ids.Get(id_copy)] = std::move(p);
    return Status::OK();
  });
}

void FillProfiles(const std::unordered_map<int32_t, Profile>& profiles, int32_t rows, int dim,
                  learn::Priors& vectors, std::vector<std::string>& cultures) {
  bool any_vector = false, any_culture = false;
  for (const auto& [r, p] : profiles) {
    any_vector |= !p.vector.empty();
    any_culture |= !p.culture.empty();
  }
  if (any_vector) {
    vectors.values.assign(static_cast<size_t>(rows) * dim, 0.0f);
    vectors.present.assign(rows, 0);
  }
  if (any_culture) cultures.assign(rows, "");
  for (const auto& [r, p] : profiles) {
    if (!p.vector.empty()) {
      vectors.present[r] = 1;
      std::copy(p.vector.begin(), p.vector.end(), vectors.values.begin() + static_cast<size_t>(r) * dim);
    }
    if (any_culture) cultures[r] = p.culture;
  }
}

}  // namespace

Result<Dataset> LoadJsonLines(const std::string& events, const std::string& posts,
                              const std::string& users) {
  Dataset d;
  d.name = events;
  Ids user_ids(d.user_ids), item_ids(d.item_ids);
  std::unordered_map<int32_t, Profile> user_profiles, item_profiles;
  if (!posts.empty()) BF_RETURN_IF_ERROR(ReadProfiles(posts, item_ids, d.dim, item_profiles));
  if (!users.empty()) BF_RETURN_IF_ERROR(ReadProfiles(users, user_ids, d.dim, user_profiles));

  BF_RETURN_IF_ERROR(ForEachObject(events, [&](od::object& obj, int64_t n) -> Status {
    std::string_view user, post, type;
    for (auto [name, out] : {std::pair{"user", &user}, {"post", &post}, {"type", &type}}) {
      // The views point into the parser's string buffer, valid for this line.
      if (Status s = StringField(obj, name, *out); !s.ok()) return Where(events, n, s.message());
    }
    learn::Interaction e;
    e.user = user_ids.Get(user);
    e.item = item_ids.Get(post);
    auto kind = ParseEventType(type);
    if (!kind) return Where(events, n, "unknown event type \"" + std::string(type) + "\"");
    e.kind = static_cast<learn::EventKind>(*kind);
    od::value v;
    int64_t ts = 0;
    if (obj.find_field_unordered("ts").get(v) == simdjson::SUCCESS &&
        v.get_int64().get(ts) != simdjson::SUCCESS) {
      return Where(events, n, "field \"ts\" must be an integer");
    }
    e.ts = ts;
    d.events.push_back(e);
    return Status::OK();
  }));
  FillProfiles(user_profiles, d.users(), d.dim, d.user_vectors, d.user_culture);
  FillProfiles(item_profiles, d.items(), d.dim, d.item_vectors, d.item_culture);
  return d;
}

Result<Dataset> LoadMovieLensCsv(const std::string& path) {
  std::ifstream in;
  BF_RETURN_IF_ERROR(OpenFile(path, in));
  Dataset d;
  d.name = path;
  Ids user_ids(d.user_ids), item_ids(d.item_ids);
  std::string line;
  if (!std::getline(in, line)) return Where(path, 1, "empty file");
  auto split = [](const std::string& s) {
    std::vector<std::string> cols;
    std::string cell;
    std::stringstream ss(s);
    while (std::getline(ss, cell, ',')) {
      if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') {
        cell = cell.substr(1, cell.size() - 2);
      }
      cols.push_back(cell);
    }
    return cols;
  };
  const std::vector<std::string> header = split(line);
  int cu = -1, ci = -1, cr = -1, ct = -1;
  for (int k = 0; k < static_cast<int>(header.size()); ++k) {
    if (header[k] == "userId") cu = k;
    if (header[k] == "movieId") ci = k;
    if (header[k] == "rating") cr = k;
    if (header[k] == "timestamp") ct = k;
  }
  if (cu < 0 || ci < 0 || cr < 0 || ct < 0) {
    return Where(path, 1, "header must name userId, movieId, rating and timestamp");
  }
  const int need = std::max({cu, ci, cr, ct});
  for (int64_t n = 2; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const std::vector<std::string> cols = split(line);
    if (static_cast<int>(cols.size()) <= need) return Where(path, n, "too few columns");
    learn::Interaction e;
    e.user = user_ids.Get(cols[cu]);
    e.item = item_ids.Get(cols[ci]);
    char* end = nullptr;
    const double rating = std::strtod(cols[cr].c_str(), &end);
    if (end == cols[cr].c_str() || !std::isfinite(rating)) {
      return Where(path, n, "rating is not a number");
    }
    e.ts = std::strtoll(cols[ct].c_str(), &end, 10);
    if (end == cols[ct].c_str()) return Where(path, n, "timestamp is not an integer");
    e.kind = rating >= 4.0 ? learn::EventKind::kLike : learn::EventKind::kView;
    d.events.push_back(e);
  }
  return d;
}

}  // namespace bf::eval
