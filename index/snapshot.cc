#include "index/snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace bf::internal {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the snapshot format is written in host order and assumes little-endian");

constexpr char kMagic[5] = {'B', 'F', 'I', 'D', 'X'};
constexpr size_t kHeaderSize = 5 + 4 + 8 + 8;

template <typename T>
void Put(std::vector<uint8_t>* out, const T& v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  out->insert(out->end(), p, p + sizeof(T));
}

void PutBytes(std::vector<uint8_t>* out, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + n);
}

std::string ErrnoText(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

Status WriteAll(int fd, const uint8_t* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(ErrnoText("write", path));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::OK();
}

// Bounds-checked reader over the body; any overrun means a damaged file.
class Cursor {
 public:
  Cursor(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  template <typename T>
  bool Get(T* v) {
    if (n_ - pos_ < sizeof(T)) return false;
    std::memcpy(v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetString(std::string* s) {
    uint32_t len = 0;
    if (!Get(&len) || n_ - pos_ < len) return false;
    s->assign(reinterpret_cast<const char*>(p_ + pos_), len);
    pos_ += len;
    return true;
  }
  template <typename T>
  bool GetArray(std::vector<T>* v, uint64_t count) {
    if (count > (n_ - pos_) / sizeof(T)) return false;
    v->resize(count);
    // An empty vector's data() may be null, and memcpy from/to null is undefined even for 0.
    if (count > 0) std::memcpy(v->data(), p_ + pos_, count * sizeof(T));
    pos_ += count * sizeof(T);
    return true;
  }
  bool Skip(uint64_t n) {
    if (n > n_ - pos_) return false;
    pos_ += n;
    return true;
  }
  size_t pos() const { return pos_; }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
};

}  // namespace

uint64_t Fnv1a64(std::span<const uint8_t> data, uint64_t seed) {
  uint64_t h = seed;
  for (uint8_t b : data) {
    h ^= b;
    h *= 0x100000001b3ULL;
  }
  return h;
}

Status WriteSnapshotFile(const std::string& path, const SnapshotMeta& meta,
                         const SlotArrays& slots, std::span<const float> delta,
                         std::span<const uint8_t> faiss_bytes) {
  const uint64_t n = slots.ids.size();
  BF_CHECK(slots.cultures.size() == n && slots.tombstones.size() == n);
  BF_CHECK(meta.dim > 0 && delta.size() % meta.dim == 0 && delta.size() / meta.dim <= n);

  // Everything in the body except the Faiss bytes, which are written as they are.
  std::vector<uint8_t> prefix;
  prefix.reserve(72 + meta.db_id.size() + meta.spec.size() + n * 11 + delta.size_bytes());
  Put(&prefix, meta.dim);
  Put(&prefix, static_cast<uint32_t>(meta.db_id.size()));
  PutBytes(&prefix, meta.db_id.data(), meta.db_id.size());
  Put(&prefix, meta.seq);
  Put(&prefix, static_cast<uint32_t>(meta.spec.size()));
  PutBytes(&prefix, meta.spec.data(), meta.spec.size());
  Put(&prefix, meta.train_size);
  Put(&prefix, meta.metric);
  Put(&prefix, n);
  PutBytes(&prefix, slots.ids.data(), n * sizeof(uint64_t));
  PutBytes(&prefix, slots.cultures.data(), n * sizeof(uint16_t));
  PutBytes(&prefix, slots.tombstones.data(), n);
  Put(&prefix, static_cast<uint64_t>(delta.size() / meta.dim));
  PutBytes(&prefix, delta.data(), delta.size_bytes());
  Put(&prefix, static_cast<uint64_t>(faiss_bytes.size()));

  const uint64_t body_len = prefix.size() + faiss_bytes.size();
  const uint64_t checksum = Fnv1a64(faiss_bytes, Fnv1a64(prefix));
  std::array<uint8_t, kHeaderSize> header{};
  std::memcpy(header.data(), kMagic, sizeof(kMagic));
  std::memcpy(header.data() + 5, &kSnapshotVersion, 4);
  std::memcpy(header.data() + 9, &body_len, 8);
  std::memcpy(header.data() + 17, &checksum, 8);

  // A unique temporary name in the target folder, so rename() is atomic.
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                          std::to_string(counter.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(ErrnoText("cannot create", tmp));

  Status s = WriteAll(fd, header.data(), header.size(), tmp);
  if (s.ok()) s = WriteAll(fd, prefix.data(), prefix.size(), tmp);
  if (s.ok()) s = WriteAll(fd, faiss_bytes.data(), faiss_bytes.size(), tmp);
  if (s.ok() && ::fsync(fd) != 0) s = Status::IOError(ErrnoText("fsync", tmp));
  if (::close(fd) != 0 && s.ok()) s = Status::IOError(ErrnoText("close", tmp));
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = Status::IOError(ErrnoText("rename to", path));
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  // Make the rename itself durable.
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::OK();
}

Result<SnapshotContents> ReadSnapshotFile(const std::string& path) {
  SnapshotContents out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(ErrnoText("cannot open", path));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = Status::IOError(ErrnoText("stat", path));
    ::close(fd);
    return s;
  }
  out.file.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.file.size()) {
    ssize_t r = ::read(fd, out.file.data() + got, out.file.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      Status s = Status::IOError(ErrnoText("read", path));
      ::close(fd);
      return s;
    }
    if (r == 0) break;  // shrank while reading: caught by the length check
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  out.file.resize(got);

  const std::vector<uint8_t>& f = out.file;
  if (f.size() < kHeaderSize || std::memcmp(f.data(), kMagic, sizeof(kMagic)) != 0) {
    return Status::Corruption("not a bridgefeed index file: " + path);
  }
  uint32_t version = 0;
  uint64_t body_len = 0, checksum = 0;
  std::memcpy(&version, f.data() + 5, 4);
  std::memcpy(&body_len, f.data() + 9, 8);
  std::memcpy(&checksum, f.data() + 17, 8);
  if (version < 1 || version > kSnapshotVersion) {
    return Status::Corruption("unsupported index file version " + std::to_string(version) +
                              " (this build reads 1 to " + std::to_string(kSnapshotVersion) +
                              "): " + path);
  }
  if (body_len != f.size() - kHeaderSize) {
    return Status::Corruption("index file is truncated or has trailing bytes: " + path +
                              " (expected " + std::to_string(body_len + kHeaderSize) +
                              " bytes, found " + std::to_string(f.size()) + ")");
  }
  const std::span<const uint8_t> body(f.data() + kHeaderSize, body_len);
  if (Fnv1a64(body) != checksum) {
    return Status::Corruption("index file checksum mismatch: " + path);
  }

  Cursor c(body.data(), body.size());
  uint64_t n = 0, delta_rows = 0, faiss_len = 0;
  SnapshotMeta& m = out.meta;
  bool ok = c.Get(&m.dim) && c.GetString(&m.db_id) && c.Get(&m.seq) && c.GetString(&m.spec) &&
            c.Get(&m.train_size) && (version < 3 || c.Get(&m.metric)) &&
            c.Get(&n) && c.GetArray(&out.slots.ids, n) && c.GetArray(&out.slots.cultures, n) &&
            c.GetArray(&out.slots.tombstones, n);
  if (ok && version >= 2) {
    ok = c.Get(&delta_rows) && delta_rows <= n && m.dim > 0 &&
         c.GetArray(&out.delta, delta_rows * m.dim);
  }
  ok = ok && c.Get(&faiss_len);
  const size_t faiss_at = c.pos();
  ok = ok && c.Skip(faiss_len) && c.pos() == body.size();
  if (!ok) return Status::Corruption("index file has an inconsistent layout: " + path);
  out.faiss_offset = kHeaderSize + faiss_at;
  out.faiss_size = faiss_len;
  return out;
}

}  // namespace bf::internal
