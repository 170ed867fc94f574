#include "embeddings/text/lexicon.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>

namespace bf::text {
namespace {

constexpr char kMagic[8] = {'B', 'F', 'T', 'X', 'T', 'L', 'X', '1'};
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8;
constexpr int kMaxDim = 4096;

uint64_t Checksum(std::string_view data) {
  uint64_t h = 1469598103934665603ULL;
  size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, data.data() + i, 8);
    h = (h ^ w) * 1099511628211ULL;
  }
  for (; i < data.size(); ++i) h = (h ^ static_cast<unsigned char>(data[i])) * 1099511628211ULL;
  return h;
}

template <typename T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <typename T>
void PutArray(std::string& out, const std::vector<T>& v) {
  out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// Bounds-checked reads from the body; any short read marks the reader failed.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == data_.size(); }
  template <typename T>
  T Get() {
    T v{};
    if (!Need(sizeof(T))) return v;
    std::memcpy(&v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  template <typename T>
  void GetArray(std::vector<T>& v, uint64_t n) {
    if (n > (data_.size() - pos_) / sizeof(T) || !Need(n * sizeof(T))) return;
    v.resize(n);
    if (n == 0) return;  // v.data() may be null: memcpy must not see it
    std::memcpy(v.data(), data_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
  }
  std::string_view GetBytes(uint64_t n) {
    if (!Need(n)) return {};
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  bool Need(uint64_t n) {
    if (!ok_ || n > data_.size() - pos_) ok_ = false;
    return ok_;
  }
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

Status CheckLanguage(const LexiconLanguage& l, int dim) {
  const size_t d = static_cast<size_t>(dim);
  if (l.code.empty() || l.code.size() > 255) return Status::Invalid("bad language code");
  if (l.common.size() != d || l.vectors.size() % d != 0 || l.weight.size() != l.words.size() ||
      l.vector_of.size() != l.words.size()) {
    return Status::Invalid("inconsistent sizes in language " + l.code);
  }
  const size_t rows = l.vectors.size() / d;
  for (uint32_t v : l.vector_of) {
    if (v >= rows) return Status::Invalid("vector index out of range in language " + l.code);
  }
  return Status::OK();
}

}  // namespace

Status WriteLexicon(const Lexicon& lexicon, const std::string& path) {
  if (lexicon.dim <= 0 || lexicon.dim > kMaxDim) return Status::Invalid("bad dimension");
  std::string body;
  for (const LexiconLanguage& l : lexicon.languages) {
    BF_RETURN_IF_ERROR(CheckLanguage(l, lexicon.dim));
    Put<uint8_t>(body, static_cast<uint8_t>(l.code.size()));
    body += l.code;
    Put<uint32_t>(body, static_cast<uint32_t>(l.words.size()));
    Put<uint32_t>(body, static_cast<uint32_t>(l.vectors.size() / lexicon.dim));
    PutArray(body, l.common);
    PutArray(body, l.vectors);
    PutArray(body, l.weight);
    PutArray(body, l.vector_of);
    uint32_t end = 0;
    std::string blob;
    for (const std::string& w : l.words) {
      blob += w;
      end += static_cast<uint32_t>(w.size());
      Put<uint32_t>(body, end);
    }
    Put<uint32_t>(body, static_cast<uint32_t>(blob.size()));
    body += blob;
  }
  std::string head(kMagic, sizeof(kMagic));
  Put<uint32_t>(head, static_cast<uint32_t>(lexicon.dim));
  Put<uint32_t>(head, static_cast<uint32_t>(lexicon.languages.size()));
  Put<uint64_t>(head, body.size());
  Put<uint64_t>(head, Checksum(body));

  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Status::IOError("cannot create " + tmp);
  const bool written = std::fwrite(head.data(), 1, head.size(), f) == head.size() &&
                       std::fwrite(body.data(), 1, body.size(), f) == body.size();
  if (std::fclose(f) != 0 || !written) {
    std::remove(tmp.c_str());
    return Status::IOError("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::IOError("cannot rename " + tmp + " to " + path + ": " + ec.message());
  return Status::OK();
}

Result<Lexicon> ReadLexicon(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::IOError("cannot open text model " + path);
  // One read into a buffer of the file's size: growing it chunk by chunk
  // copied the 400+ MiB file over again as it grew.
  std::string data;
  std::error_code size_error;
  const auto size = std::filesystem::file_size(path, size_error);
  if (!size_error) data.resize(static_cast<size_t>(size));
  size_t got = data.empty() ? 0 : std::fread(data.data(), 1, data.size(), f);
  data.resize(got);
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) data.append(buf, n);  // grew meanwhile
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Status::IOError("cannot read text model " + path);

  auto corrupt = [&](const std::string& why) {
    return Status::Corruption("text model " + path + " is not a valid lexicon file: " + why);
  };
  if (data.size() < kHeaderBytes || std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) {
    return corrupt("bad header");
  }
  Reader head(std::string_view(data).substr(8, kHeaderBytes - 8));
  Lexicon lex;
  const uint32_t dim = head.Get<uint32_t>();
  const uint32_t langs = head.Get<uint32_t>();
  const uint64_t body_bytes = head.Get<uint64_t>();
  const uint64_t sum = head.Get<uint64_t>();
  if (dim == 0 || dim > kMaxDim) return corrupt("bad dimension");
  if (body_bytes != data.size() - kHeaderBytes) return corrupt("truncated or extended");
  const std::string_view body = std::string_view(data).substr(kHeaderBytes);
  if (Checksum(body) != sum) return corrupt("checksum mismatch");
  lex.dim = static_cast<int>(dim);
  Reader r(body);
  for (uint32_t li = 0; li < langs && r.ok(); ++li) {
    LexiconLanguage l;
    l.code = std::string(r.GetBytes(r.Get<uint8_t>()));
    const uint32_t words = r.Get<uint32_t>();
    const uint32_t rows = r.Get<uint32_t>();
    r.GetArray(l.common, dim);
    r.GetArray(l.vectors, static_cast<uint64_t>(rows) * dim);
    r.GetArray(l.weight, words);
    r.GetArray(l.vector_of, words);
    std::vector<uint32_t> ends;
    r.GetArray(ends, words);
    const std::string_view blob = r.GetBytes(r.Get<uint32_t>());
    if (!r.ok()) break;
    l.words.reserve(words);
    uint32_t start = 0;
    for (uint32_t end : ends) {
      if (end < start || end > blob.size()) return corrupt("bad word offsets in " + l.code);
      l.words.emplace_back(blob.substr(start, end - start));
      start = end;
    }
    if (!CheckLanguage(l, lex.dim).ok()) return corrupt("inconsistent language " + l.code);
    lex.languages.push_back(std::move(l));
  }
  if (!r.ok()) return corrupt("truncated body");
  if (!r.done()) return corrupt("trailing bytes");
  return lex;
}

}  // namespace bf::text
