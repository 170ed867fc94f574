#include "engine/cluster/entry.h"

#include <bit>
#include <cstring>

#include "embeddings/learn/interactions.h"

namespace bf::cluster {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the entry encoding copies floats as little-endian bytes");

// Presence bits of the optional fields.
constexpr uint64_t kUserCulture = 1, kUserLangs = 2, kUserOpenness = 4, kUserVector = 8;
constexpr uint64_t kUserKnown = kUserCulture | kUserLangs | kUserOpenness | kUserVector;
constexpr uint64_t kPostLang = 1, kPostTitle = 2;
constexpr uint64_t kPostKnown = kPostLang | kPostTitle;

class Writer {
 public:
  void Byte(uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      Byte(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    Byte(static_cast<uint8_t>(v));
  }
  void Signed(int64_t v) {
    Varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  void Str(std::string_view s) {
    Varint(s.size());
    out_.append(s);
  }
  void Strs(const std::vector<std::string>& list) {
    Varint(list.size());
    for (const std::string& s : list) Str(s);
  }
  void Floats(const std::vector<float>& v) {
    Varint(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  }
  void Float(float f) {
    char b[4];
    std::memcpy(b, &f, 4);
    out_.append(b, 4);
  }
  void Double(double d) {
    char b[8];
    std::memcpy(b, &d, 8);
    out_.append(b, 8);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads fields; the first failure is kept and every later read fails too, so a decoder
// checks once at the end.
class Reader {
 public:
  // Reads `in` from byte `start`; error offsets count from the start of `in`.
  Reader(std::string_view in, size_t start) : in_(in), pos_(start) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t pos() const { return pos_; }
  size_t left() const { return in_.size() - pos_; }

  uint8_t Byte(const char* what) {
    if (!Need(1, what)) return 0;
    return static_cast<uint8_t>(in_[pos_++]);
  }
  uint64_t Varint(const char* what) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!Need(1, what)) return 0;
      const uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    Fail(std::string("varint too long in ") + what);
    return 0;
  }
  int64_t Signed(const char* what) {
    const uint64_t u = Varint(what);
    return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
  }
  std::string Str(const char* what) {
    const uint64_t n = Varint(what);
    if (!Need(n, what)) return {};
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::vector<std::string> Strs(const char* what) {
    const uint64_t n = Varint(what);
    std::vector<std::string> out;
    // Each item takes at least one byte: a count beyond what is left is malformed.
    if (!ok() || !Need(n, what)) return out;
    for (uint64_t i = 0; i < n && ok(); i++) out.push_back(Str(what));
    return out;
  }
  std::vector<float> Floats(const char* what) {
    const uint64_t n = Varint(what);
    std::vector<float> v;
    if (!ok() || n > left() / sizeof(float)) {
      Fail(std::string("truncated ") + what);
      return v;
    }
    if (n == 0) return v;  // memcpy to an empty vector's null data() is UB
    v.resize(n);
    std::memcpy(v.data(), in_.data() + pos_, n * sizeof(float));
    pos_ += n * sizeof(float);
    return v;
  }
  float Float(const char* what) {
    float f = 0;
    if (!Need(4, what)) return f;
    std::memcpy(&f, in_.data() + pos_, 4);
    pos_ += 4;
    return f;
  }
  double Double(const char* what) {
    double d = 0;
    if (!Need(8, what)) return d;
    std::memcpy(&d, in_.data() + pos_, 8);
    pos_ += 8;
    return d;
  }
  void Fail(std::string msg) {
    if (error_.empty()) error_ = msg + " at byte " + std::to_string(pos_);
  }

 private:
  bool Need(uint64_t n, const char* what) {
    if (!ok()) return false;
    if (n > left()) {
      Fail(std::string("truncated ") + what);
      return false;
    }
    return true;
  }

  std::string_view in_;
  size_t pos_;
  std::string error_;
};

void Encode(Writer& w, const UserSetEntry& e) {
  w.Varint((e.culture ? kUserCulture : 0) | (e.langs ? kUserLangs : 0) |
           (e.openness ? kUserOpenness : 0) | (e.vector ? kUserVector : 0));
  w.Str(e.user);
  if (e.culture) w.Str(*e.culture);
  if (e.langs) w.Strs(*e.langs);
  if (e.openness) w.Double(*e.openness);
  if (e.vector) w.Floats(*e.vector);
}
void Encode(Writer& w, const UserDelEntry& e) { w.Str(e.user); }
void Encode(Writer& w, const PostAddEntry& e) {
  w.Varint((e.lang ? kPostLang : 0) | (e.title ? kPostTitle : 0));
  w.Str(e.post);
  w.Str(e.author);
  w.Str(e.culture);
  w.Floats(e.vector);
  w.Signed(e.ts);
  if (e.lang) w.Str(*e.lang);
  w.Strs(e.tags);
  if (e.title) w.Str(*e.title);
}
void Encode(Writer& w, const PostDelEntry& e) { w.Str(e.post); }
void Encode(Writer& w, const EventEntry& e) {
  w.Str(e.user);
  w.Str(e.post);
  w.Byte(static_cast<uint8_t>(e.type));
  w.Signed(e.ts);
  w.Str(e.viewer_culture);
}

void Encode(Writer& w, const TrainEntry& e) {
  w.Signed(e.trained_at);
  w.Varint(e.seed);
  w.Varint(e.iterations);
  w.Float(e.regularization);
  w.Float(e.prior_regularization);
  w.Float(e.init_stddev);
  w.Floats(e.weights);
  w.Double(e.half_life_s);
  w.Signed(e.decay_now);
  w.Byte(e.solver);
  w.Varint(e.cg_steps);
}

uint64_t Presence(Reader& r, uint64_t known) {
  const uint64_t bits = r.Varint("presence bits");
  if (r.ok() && (bits & ~known) != 0) r.Fail("unknown optional fields " + std::to_string(bits & ~known));
  return bits;
}

Entry DecodeUserSet(Reader& r) {
  UserSetEntry e;
  const uint64_t bits = Presence(r, kUserKnown);
  e.user = r.Str("user id");
  if (bits & kUserCulture) e.culture = r.Str("culture");
  if (bits & kUserLangs) e.langs = r.Strs("langs");
  if (bits & kUserOpenness) e.openness = r.Double("openness");
  if (bits & kUserVector) e.vector = r.Floats("vector");
  return e;
}
Entry DecodePostAdd(Reader& r) {
  PostAddEntry e;
  const uint64_t bits = Presence(r, kPostKnown);
  e.post = r.Str("post id");
  e.author = r.Str("author");
  e.culture = r.Str("culture");
  e.vector = r.Floats("vector");
  e.ts = r.Signed("ts");
  if (bits & kPostLang) e.lang = r.Str("lang");
  e.tags = r.Strs("tags");
  if (bits & kPostTitle) e.title = r.Str("title");
  return e;
}
Entry DecodeEvent(Reader& r) {
  EventEntry e;
  e.user = r.Str("user id");
  e.post = r.Str("post id");
  const uint8_t type = r.Byte("event type");
  if (r.ok() && type > static_cast<uint8_t>(kLastEventType)) {
    r.Fail("unknown event type " + std::to_string(type));
  }
  e.type = static_cast<EventType>(type);
  e.ts = r.Signed("ts");
  e.viewer_culture = r.Str("viewer culture");
  return e;
}

Entry DecodeTrain(Reader& r) {
  TrainEntry e;
  e.trained_at = r.Signed("trained_at");
  e.seed = r.Varint("seed");
  const uint64_t iterations = r.Varint("iterations");
  if (r.ok() && iterations > UINT32_MAX) r.Fail("iterations out of range");
  e.iterations = static_cast<uint32_t>(iterations);
  e.regularization = r.Float("regularization");
  e.prior_regularization = r.Float("prior regularization");
  e.init_stddev = r.Float("init stddev");
  e.weights = r.Floats("confidence weights");
  if (r.ok() && e.weights.size() != static_cast<size_t>(learn::kEventKinds)) {
    r.Fail(std::to_string(e.weights.size()) + " confidence weights (this build has " +
           std::to_string(learn::kEventKinds) + " event kinds)");
  }
  e.half_life_s = r.Double("half-life");
  e.decay_now = r.Signed("decay reference time");
  e.solver = r.Byte("solver");
  const uint64_t cg = r.Varint("cg steps");
  if (r.ok() && cg > UINT32_MAX) r.Fail("cg steps out of range");
  e.cg_steps = static_cast<uint32_t>(cg);
  return e;
}

// The lowest version that has the kind: older readers stop only at what they lack.
uint8_t VersionOf(EntryKind kind) { return kind == EntryKind::kTrain ? 3 : 2; }

}  // namespace

EntryKind KindOf(const Entry& entry) {
  return static_cast<EntryKind>(entry.index() + 1);
}

std::string_view KindName(EntryKind kind) {
  switch (kind) {
    case EntryKind::kUserSet: return "USER.SET";
    case EntryKind::kUserDel: return "USER.DEL";
    case EntryKind::kPostAdd: return "POST.ADD";
    case EntryKind::kPostDel: return "POST.DEL";
    case EntryKind::kEvent: return "EVENT";
    case EntryKind::kTrain: return "TRAIN";
  }
  return "UNKNOWN";
}

std::string EncodeEntry(const Entry& entry) {
  Writer w;
  w.Byte(VersionOf(KindOf(entry)));
  w.Byte(static_cast<uint8_t>(KindOf(entry)));
  std::visit([&](const auto& e) { Encode(w, e); }, entry);
  return w.Take();
}

Status DecodeEntry(std::string_view bytes, Entry* out) {
  auto corrupt = [](const std::string& msg) { return Status::Corruption("log entry: " + msg); };
  if (bytes.size() < 2) return corrupt("too short (" + std::to_string(bytes.size()) + " bytes)");
  const uint8_t version = static_cast<uint8_t>(bytes[0]);
  if (version < kOldestEntryVersion || version > kEntryVersion) {
    return corrupt("unknown version " + std::to_string(version) + " (this build reads versions " +
                   std::to_string(kOldestEntryVersion) + " to " + std::to_string(kEntryVersion) +
                   ")");
  }
  const uint8_t kind = static_cast<uint8_t>(bytes[1]);
  if (kind == static_cast<uint8_t>(EntryKind::kTrain) && version < 3) {
    return corrupt("kind " + std::to_string(kind) + " in a version " + std::to_string(version) +
                   " entry");
  }
  Reader r(bytes, 2);
  switch (static_cast<EntryKind>(kind)) {
    case EntryKind::kUserSet: *out = DecodeUserSet(r); break;
    case EntryKind::kUserDel: *out = UserDelEntry{r.Str("user id")}; break;
    case EntryKind::kPostAdd: *out = DecodePostAdd(r); break;
    case EntryKind::kPostDel: *out = PostDelEntry{r.Str("post id")}; break;
    case EntryKind::kEvent: *out = DecodeEvent(r); break;
    case EntryKind::kTrain: *out = DecodeTrain(r); break;
    default: return corrupt("unknown kind " + std::to_string(kind));
  }
  if (!r.ok()) return corrupt(r.error());
  if (r.left() != 0) {
    return corrupt(std::to_string(r.left()) + " bytes left over after the " +
                   std::string(KindName(static_cast<EntryKind>(kind))) + " entry");
  }
  return Status::OK();
}

}  // namespace bf::cluster
