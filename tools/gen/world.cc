#include "tools/gen/world.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <unordered_set>
#include <vector>

#include "embeddings/text/text_model.h"
#include "embeddings/vector.h"
#include "tools/gen/catalog.h"
#include "tools/gen/rng.h"

namespace bf::gen {
namespace {

// Geometry of the embedding space (lengths relative to a unit topic centre).
constexpr double kCultureShift = 0.35;  // same topic, another culture
constexpr double kAuthorStyle = 0.15;   // an author's own look
constexpr double kPostNoise = 0.30;
constexpr double kUserNoise = 0.15;
constexpr int64_t kPostsPerAuthor = 12;  // average
constexpr size_t kFlushBytes = 8 << 20;

// Independent random streams, one per phase.
enum Stream : uint64_t { kGeometry, kAuthors, kPosts, kUsers, kEvents };

// Buffered writer for one output file.
class FileWriter {
 public:
  Status Open(const std::string& path) {
    path_ = path;
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) return Status::IOError("cannot create " + path);
    buf_.reserve(kFlushBytes + (1 << 16));
    return Status::OK();
  }
  ~FileWriter() {
    if (file_ != nullptr) std::fclose(file_);
  }
  std::string& buf() { return buf_; }
  uint64_t bytes() const { return bytes_ + buf_.size(); }
  Status MaybeFlush() { return buf_.size() >= kFlushBytes ? Flush() : Status::OK(); }
  Status Flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size()) {
      return Status::IOError("cannot write " + path_);
    }
    bytes_ += buf_.size();
    buf_.clear();
    return Status::OK();
  }
  Status Close() {
    BF_RETURN_IF_ERROR(Flush());
    const int rc = std::fclose(file_);
    file_ = nullptr;
    return rc == 0 ? Status::OK() : Status::IOError("cannot close " + path_);
  }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::string buf_;
  uint64_t bytes_ = 0;
};

std::vector<float> RandomUnit(Rng& rng, int dim) {
  std::vector<float> v(static_cast<size_t>(dim));
  do {
    for (float& x : v) x = static_cast<float>(rng.Normal());
  } while (!CheckVector(v).ok());
  Normalize(v);
  return v;
}

// out += scale * v
void AddScaled(std::vector<float>& out, const std::vector<float>& v, double scale) {
  for (size_t i = 0; i < out.size(); ++i) out[i] += static_cast<float>(scale * v[i]);
}

void AddNoise(std::vector<float>& out, Rng& rng, double length) {
  const double sigma = length / std::sqrt(static_cast<double>(out.size()));
  for (float& x : out) x += static_cast<float>(sigma * rng.Normal());
}

// Picks an index with probability proportional to weights[i].
size_t PickWeighted(Rng& rng, const std::vector<double>& weights) {
  double total = 0;
  for (double w : weights) total += w;
  double r = rng.Uniform() * total;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (r < weights[i]) return i;
    r -= weights[i];
  }
  return weights.size() - 1;
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void AppendVector(std::string& out, const std::vector<float>& v) {
  out += '[';
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ',';
    AppendFloat(out, v[i]);
  }
  out += ']';
}

// Replaces "{n}" (at most once) with n.
std::string FillTemplate(std::string_view text, int n) {
  std::string s(text);
  if (const size_t at = s.find("{n}"); at != std::string::npos) {
    s.replace(at, 3, std::to_string(n));
  }
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct Author {
  int topic1 = 0;
  int topic2 = -1;  // -1: posts on one topic only
  std::vector<float> style;
};

// What the event simulation needs to know about a post.
struct PostMeta {
  int64_t ts;
  float quality;  // 0.5 .. 1.5: how likeable, on top of the topic's rate
  uint8_t culture;
  uint8_t topic;
};

struct UserMeta {
  uint8_t culture;
  float openness;
  std::vector<int> interests;  // first = strongest
  std::vector<std::string_view> langs;
};

struct Event {
  int64_t ts;
  uint64_t seq;  // tie-breaker: keeps the sort a total order
  uint32_t user;
  uint32_t post;
  const char* type;
};

class WorldBuilder {
 public:
  WorldBuilder(const WorldOptions& options, const ProgressFn& progress)
      : opt_(options), progress_(progress) {
    for (const Culture& c : Cultures()) culture_shares_.push_back(c.share);
    Rng rng(MixSeed(opt_.seed, kGeometry));
    for (int t = 0; t < kTopicCount; ++t) centres_.push_back(RandomUnit(rng, opt_.dim));
    if (opt_.text_model != nullptr) TextCentres();
    // Each culture leans one way; each topic bends that lean a little.
    std::vector<std::vector<float>> lean;
    for (size_t c = 0; c < Cultures().size(); ++c) lean.push_back(RandomUnit(rng, opt_.dim));
    shifts_.resize(kTopicCount);
    for (int t = 0; t < kTopicCount; ++t) {
      for (size_t c = 0; c < Cultures().size(); ++c) {
        std::vector<float> s = RandomUnit(rng, opt_.dim);
        for (size_t i = 0; i < s.size(); ++i) s[i] = 0.6f * lean[c][i] + 0.8f * s[i];
        Normalize(s);
        for (float& x : s) x *= static_cast<float>(kCultureShift);
        shifts_[t].push_back(std::move(s));
      }
    }
    buckets_.assign(kTopicCount, std::vector<std::vector<uint32_t>>(Cultures().size()));
  }

  Status WritePosts(FileWriter& out);
  Status WriteUsers(FileWriter& out);
  Status WriteEvents(FileWriter& out, int64_t* count);

 private:
  void Report(std::string_view phase, int64_t done, int64_t total) {
    if (progress_) progress_(phase, done, total);
  }
  std::vector<double> TopicWeights(size_t culture) const {
    std::vector<double> w;
    for (int t = 0; t < kTopicCount; ++t) w.push_back(TopicWeight(t, Cultures()[culture].code));
    return w;
  }
  void MakeAuthors();
  // Topic centres in the text model's space: the mean of the topic's titles.
  void TextCentres();
  // A post of `topic` a user of `home` culture sees; nullopt if none exists.
  std::optional<uint32_t> PickPost(Rng& rng, int topic, size_t culture);

  const WorldOptions& opt_;
  const ProgressFn& progress_;
  std::vector<double> culture_shares_;
  std::vector<std::vector<float>> centres_;              // [topic]
  std::vector<std::vector<std::vector<float>>> shifts_;  // [topic][culture]
  std::vector<std::vector<Author>> authors_;             // [culture]
  std::vector<PostMeta> posts_;
  std::vector<std::vector<std::vector<uint32_t>>> buckets_;  // [topic][culture] -> posts
  std::vector<UserMeta> users_;
};

void WorldBuilder::TextCentres() {
  for (int t = 0; t < kTopicCount; ++t) {
    std::vector<float> sum(static_cast<size_t>(opt_.dim), 0.0f);
    for (const Culture& c : Cultures()) {
      for (const Title& title : Titles(t, c.lang)) {
        auto v = opt_.text_model->Encode(FillTemplate(title.text, 3), c.lang);
        if (v.ok()) AddScaled(sum, *v, 1.0);
      }
    }
    if (CheckVector(sum).ok()) {
      Normalize(sum);
      centres_[t] = std::move(sum);
    }
  }
}

void WorldBuilder::MakeAuthors() {
  Rng rng(MixSeed(opt_.seed, kAuthors));
  const int64_t total = std::max<int64_t>(1, opt_.posts / kPostsPerAuthor);
  for (size_t c = 0; c < Cultures().size(); ++c) {
    const auto n = std::max<int64_t>(1, std::llround(Cultures()[c].share * total));
    const std::vector<double> weights = TopicWeights(c);
    std::vector<Author> pool(static_cast<size_t>(n));
    for (Author& a : pool) {
      a.topic1 = static_cast<int>(PickWeighted(rng, weights));
      if (rng.Chance(0.5)) {
        a.topic2 = static_cast<int>(PickWeighted(rng, weights));
        if (a.topic2 == a.topic1) a.topic2 = -1;
      }
      a.style = RandomUnit(rng, opt_.dim);
      for (float& x : a.style) x *= static_cast<float>(kAuthorStyle);
    }
    authors_.push_back(std::move(pool));
  }
}

Status WorldBuilder::WritePosts(FileWriter& out) {
  MakeAuthors();
  Rng rng(MixSeed(opt_.seed, kPosts));
  const int64_t span = int64_t{opt_.days} * 86400;
  posts_.reserve(static_cast<size_t>(opt_.posts));
  std::vector<float> v(static_cast<size_t>(opt_.dim));
  std::string& buf = out.buf();
  for (int64_t i = 0; i < opt_.posts; ++i) {
    const size_t c = PickWeighted(rng, culture_shares_);
    const Culture& culture = Cultures()[c];
    // Some authors post far more than others: u^2 favours the pool's head.
    const double u = rng.Uniform();
    const size_t a = static_cast<size_t>(u * u * static_cast<double>(authors_[c].size()));
    const Author& author = authors_[c][a];
    const int topic = author.topic2 >= 0 && rng.Chance(0.3) ? author.topic2 : author.topic1;
    const Topic& info = Topics()[topic];

    std::fill(v.begin(), v.end(), 0.0f);
    AddScaled(v, centres_[topic], 1.0);
    AddScaled(v, shifts_[topic][c], 1.0);
    AddScaled(v, author.style, 1.0);
    AddNoise(v, rng, kPostNoise);
    if (!CheckVector(v).ok()) v = centres_[topic];  // vanishingly unlikely
    Normalize(v);

    const int64_t ts = opt_.now - static_cast<int64_t>(rng.Below(static_cast<uint64_t>(span)));
    const auto titles = Titles(topic, culture.lang);
    const Title& title = titles[rng.Below(titles.size())];
    const int n = 2 + static_cast<int>(rng.Below(99));
    std::string text = FillTemplate(title.text, n);
    if (opt_.text_model != nullptr) {
      // The title in the author's language, without the English gloss; a
      // title with no known word keeps the synthetic vector drawn above.
      auto tv = opt_.text_model->Encode(text, culture.lang);
      if (tv.ok()) {
        v = std::move(tv).value();
        if (opt_.text_noise > 0) {
          AddNoise(v, rng, opt_.text_noise);
          if (CheckVector(v).ok()) Normalize(v);
        }
      }
    }
    if (!title.gloss.empty()) text += " (" + FillTemplate(title.gloss, n) + ")";

    buf += "{\"id\":\"p:";
    AppendInt(buf, i);
    buf += "\",\"author\":\"a:";
    buf += Lower(culture.code);
    buf += ':';
    AppendInt(buf, static_cast<int64_t>(a));
    buf += "\",\"culture\":\"";
    buf += culture.code;
    buf += "\",\"lang\":\"";
    buf += culture.lang;
    buf += "\",\"ts\":";
    AppendInt(buf, ts);
    buf += ",\"tags\":[";
    AppendJsonString(buf, info.tags[0]);
    const size_t extra = 1 + rng.Below(info.tags.size() - 1);
    buf += ',';
    AppendJsonString(buf, info.tags[extra]);
    if (culture.code == "US" && rng.Chance(0.15)) buf += ",\"tiktokrefugee\"";
    buf += "],\"title\":";
    AppendJsonString(buf, text);
    buf += ",\"vector\":";
    AppendVector(buf, v);
    buf += "}\n";
    BF_RETURN_IF_ERROR(out.MaybeFlush());

    const auto quality = static_cast<float>(0.5 + rng.Uniform());
    posts_.push_back({ts, quality, static_cast<uint8_t>(c), static_cast<uint8_t>(topic)});
    buckets_[topic][c].push_back(static_cast<uint32_t>(i));
    if ((i + 1) % 65536 == 0) Report("posts", i + 1, opt_.posts);
  }
  Report("posts", opt_.posts, opt_.posts);
  return Status::OK();
}

Status WorldBuilder::WriteUsers(FileWriter& out) {
  Rng rng(MixSeed(opt_.seed, kUsers));
  users_.reserve(static_cast<size_t>(opt_.users));
  std::vector<float> v(static_cast<size_t>(opt_.dim));
  std::string& buf = out.buf();
  for (int64_t i = 0; i < opt_.users; ++i) {
    UserMeta u;
    const size_t c = PickWeighted(rng, culture_shares_);
    const Culture& culture = Cultures()[c];
    u.culture = static_cast<uint8_t>(c);
    u.langs.push_back(culture.lang);
    if (!culture.second_lang.empty() && rng.Chance(culture.second_lang_rate)) {
      u.langs.push_back(culture.second_lang);
    }
    std::vector<double> weights = TopicWeights(c);
    const int n_interests = 1 + static_cast<int>(rng.Below(3));
    for (int k = 0; k < n_interests; ++k) {
      const auto t = static_cast<int>(PickWeighted(rng, weights));
      weights[t] = 0;  // distinct interests
      u.interests.push_back(t);
    }
    // Two decimals: openness is a setting people type, not a measurement.
    const int openness_pct = 10 + static_cast<int>(rng.Below(51));
    u.openness = static_cast<float>(openness_pct) / 100.0f;
    const bool has_vector = rng.Chance(opt_.user_vector_rate);
    if (has_vector) {
      std::fill(v.begin(), v.end(), 0.0f);
      for (size_t k = 0; k < u.interests.size(); ++k) {
        const int t = u.interests[k];
        AddScaled(v, centres_[t], k == 0 ? 1.0 : 0.6);
        AddScaled(v, shifts_[t][c], k == 0 ? 0.5 : 0.3);
      }
      AddNoise(v, rng, kUserNoise);
      if (!CheckVector(v).ok()) v = centres_[u.interests[0]];
      Normalize(v);
    }

    buf += "{\"id\":\"u:";
    AppendInt(buf, i);
    buf += "\",\"culture\":\"";
    buf += culture.code;
    buf += "\",\"langs\":[";
    for (size_t k = 0; k < u.langs.size(); ++k) {
      if (k > 0) buf += ',';
      AppendJsonString(buf, u.langs[k]);
    }
    buf += "],\"openness\":";
    buf += openness_pct == 100 ? "1" : "0.";
    if (openness_pct < 100) {
      buf += static_cast<char>('0' + openness_pct / 10);
      if (openness_pct % 10 != 0) buf += static_cast<char>('0' + openness_pct % 10);
    }
    if (has_vector) {
      buf += ",\"vector\":";
      AppendVector(buf, v);
    }
    buf += "}\n";
    BF_RETURN_IF_ERROR(out.MaybeFlush());
    users_.push_back(std::move(u));
    if ((i + 1) % 65536 == 0) Report("users", i + 1, opt_.users);
  }
  Report("users", opt_.users, opt_.users);
  return Status::OK();
}

std::optional<uint32_t> WorldBuilder::PickPost(Rng& rng, int topic, size_t culture) {
  const std::vector<uint32_t>* bucket = &buckets_[topic][culture];
  if (bucket->empty()) {
    // Nobody of that culture posts on it: take the largest culture that does.
    bucket = nullptr;
    for (const auto& b : buckets_[topic]) {
      if (!b.empty() && (bucket == nullptr || b.size() > bucket->size())) bucket = &b;
    }
    if (bucket == nullptr) return std::nullopt;
  }
  // Attention is skewed: u^3 sends most views to the bucket's head, so head
  // posts collect enough impressions per culture for a bridging score.
  const double u = rng.Uniform();
  return (*bucket)[static_cast<size_t>(u * u * u * static_cast<double>(bucket->size()))];
}

Status WorldBuilder::WriteEvents(FileWriter& out, int64_t* count) {
  Rng rng(MixSeed(opt_.seed, kEvents));
  const int64_t mean_views =
      std::clamp<int64_t>(opt_.users > 0 ? 4 * opt_.posts / opt_.users : 0, 20, 150);
  std::vector<Event> events;
  events.reserve(static_cast<size_t>(std::min<int64_t>(opt_.users * mean_views * 13 / 10,
                                                       int64_t{1} << 31)));
  uint64_t seq = 0;
  std::unordered_set<uint32_t> seen;
  for (size_t ui = 0; ui < users_.size(); ++ui) {
    const UserMeta& u = users_[ui];
    const auto user = static_cast<uint32_t>(ui);
    const int64_t views = mean_views / 2 + static_cast<int64_t>(rng.Below(mean_views + 1));
    const double cross_rate = std::min(0.8, u.openness + 0.1);
    std::vector<double> other_shares = culture_shares_;
    other_shares[u.culture] = 0;
    seen.clear();
    for (int64_t k = 0; k < views; ++k) {
      // The first interest draws half of the attention.
      const int topic = rng.Chance(0.5) ? u.interests[0]
                                        : u.interests[rng.Below(u.interests.size())];
      const size_t culture =
          rng.Chance(cross_rate) ? PickWeighted(rng, other_shares) : size_t{u.culture};
      const std::optional<uint32_t> post = PickPost(rng, topic, culture);
      if (!post || !seen.insert(*post).second) continue;
      const PostMeta& p = posts_[*post];
      const Topic& info = Topics()[p.topic];
      const bool cross = p.culture != u.culture;
      const int64_t ts = p.ts + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(opt_.now - p.ts + 1)));
      events.push_back({ts, seq++, user, *post, "VIEW"});
      const int64_t later = std::min(opt_.now, ts + 5 + static_cast<int64_t>(rng.Below(600)));
      const std::string_view post_lang = Cultures()[p.culture].lang;
      const bool reads = std::find(u.langs.begin(), u.langs.end(), post_lang) != u.langs.end();
      double like = info.like_rate * p.quality * (cross ? info.cross_factor : 1.0);
      if (cross && reads) like *= 1.15;  // understanding the caption helps a little
      if (rng.Chance(std::min(0.95, like))) {
        const double r = rng.Uniform();
        const char* type = r < 0.70 ? "LIKE" : r < 0.85 ? "SAVE" : r < 0.93 ? "SHARE" : "COMMENT";
        events.push_back({later, seq++, user, *post, type});
      } else if (rng.Chance(cross ? info.cross_hide_rate : info.cross_hide_rate / 4)) {
        events.push_back({later, seq++, user, *post, rng.Chance(0.85) ? "HIDE" : "REPORT"});
      }
    }
    if ((ui + 1) % 4096 == 0) Report("events", static_cast<int64_t>(ui + 1), opt_.users);
  }
  // A history reads in time order; seq keeps a view before its like.
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq;
  });
  std::string& buf = out.buf();
  for (const Event& e : events) {
    buf += "{\"user\":\"u:";
    AppendInt(buf, e.user);
    buf += "\",\"post\":\"p:";
    AppendInt(buf, e.post);
    buf += "\",\"type\":\"";
    buf += e.type;
    buf += "\",\"ts\":";
    AppendInt(buf, e.ts);
    buf += "}\n";
    BF_RETURN_IF_ERROR(out.MaybeFlush());
  }
  Report("events", opt_.users, opt_.users);
  *count = static_cast<int64_t>(events.size());
  return Status::OK();
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
}

void AppendFloat(std::string& out, float v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 4);
  out.append(buf, end);
}

Status ValidateOptions(const WorldOptions& o) {
  constexpr int64_t kMaxCount = 100'000'000;
  if (o.posts < 1 || o.posts > kMaxCount) return Status::Invalid("posts must be 1 to 100000000");
  if (o.users < 0 || o.users > kMaxCount) return Status::Invalid("users must be 0 to 100000000");
  if (o.dim < 1 || o.dim > kMaxDim) {
    return Status::Invalid("dim must be 1 to " + std::to_string(kMaxDim));
  }
  if (o.days < 1 || o.days > 3650) return Status::Invalid("days must be 1 to 3650");
  if (o.now < int64_t{o.days} * 86400) return Status::Invalid("now must be after 1970 + days");
  if (!(o.text_noise >= 0 && o.text_noise <= 2)) {
    return Status::Invalid("text noise must be 0 to 2");
  }
  if (o.text_model != nullptr && o.dim != o.text_model->dim()) {
    return Status::Invalid("dim must be the text model's dimension (" +
                           std::to_string(o.text_model->dim()) + ")");
  }
  if (!(o.user_vector_rate >= 0 && o.user_vector_rate <= 1)) {
    return Status::Invalid("user_vector_rate must be in [0, 1]");
  }
  return Status::OK();
}

Result<WorldCounts> GenerateWorld(const WorldOptions& options, const std::string& out_dir,
                                  const ProgressFn& progress) {
  BF_RETURN_IF_ERROR(ValidateOptions(options));
  WorldBuilder world(options, progress);
  WorldCounts counts;
  FileWriter posts, users, events;
  BF_RETURN_IF_ERROR(posts.Open(out_dir + "/posts.jsonl"));
  BF_RETURN_IF_ERROR(world.WritePosts(posts));
  BF_RETURN_IF_ERROR(posts.Close());
  BF_RETURN_IF_ERROR(users.Open(out_dir + "/users.jsonl"));
  BF_RETURN_IF_ERROR(world.WriteUsers(users));
  BF_RETURN_IF_ERROR(users.Close());
  BF_RETURN_IF_ERROR(events.Open(out_dir + "/events.jsonl"));
  BF_RETURN_IF_ERROR(world.WriteEvents(events, &counts.events));
  BF_RETURN_IF_ERROR(events.Close());
  counts.posts = options.posts;
  counts.users = options.users;
  counts.posts_bytes = posts.bytes();
  counts.users_bytes = users.bytes();
  counts.events_bytes = events.bytes();
  return counts;
}

}  // namespace bf::gen
