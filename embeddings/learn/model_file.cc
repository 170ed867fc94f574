#include "embeddings/learn/model_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace bf::learn {
namespace {

static_assert(std::endian::native == std::endian::little, "the file format is little-endian");

constexpr char kMagic[8] = {'B', 'F', 'M', 'O', 'D', 'E', 'L', '\0'};
constexpr char kEnd[8] = {'B', 'F', 'E', 'N', 'D', '\0', '\0', '\0'};
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8 + 8 + 4 + 4 + 8 + 8 + 8;

template <typename T>
void Put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

template <typename T>
T Get(const char*& p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  p += sizeof(T);
  return v;
}

uint32_t Crc(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const Bytef*>(data);
  while (n > 0) {  // zlib takes uInt lengths
    const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = static_cast<uint32_t>(crc32(crc, p, chunk));
    p += chunk;
    n -= chunk;
  }
  return crc;
}

std::string OsError(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

Status CheckSide(const std::vector<std::string>& keys, const Factors& f, uint32_t dim,
                 const char* what) {
  if (keys.size() != static_cast<size_t>(f.rows) || f.state.size() != keys.size() ||
      f.values.size() != keys.size() * dim || (f.rows > 0 && f.dim != static_cast<int>(dim))) {
    return Status::Invalid(std::string(what) + ": keys, states and factors of dimension " +
                           std::to_string(dim) + " must match row for row");
  }
  for (const std::string& k : keys) {
    if (k.size() > UINT32_MAX) return Status::Invalid(std::string(what) + ": key too long");
  }
  for (float v : f.values) {
    if (!std::isfinite(v)) return Status::Invalid(std::string(what) + ": factor not finite");
  }
  return Status::OK();
}

// Appends one side's rows to the file, updating crc.
bool WriteRows(std::FILE* f, const std::vector<std::string>& keys, const Factors& rows,
               uint32_t dim, uint32_t& crc) {
  std::string buf;
  for (size_t r = 0; r < keys.size(); ++r) {
    buf.clear();
    Put<uint32_t>(buf, static_cast<uint32_t>(keys[r].size()));
    buf += keys[r];
    Put<uint8_t>(buf, static_cast<uint8_t>(rows.state[r]));
    buf.append(reinterpret_cast<const char*>(rows.values.data() + r * dim), dim * sizeof(float));
    crc = Crc(crc, buf.data(), buf.size());
    if (std::fwrite(buf.data(), 1, buf.size(), f) != buf.size()) return false;
  }
  return true;
}

}  // namespace

Status WriteModelFile(const std::string& path, const ModelFile& m) {
  const uint32_t dim = m.header.dim;
  if (dim < 1 || dim > 4096) return Status::Invalid("model dimension must be in [1, 4096]");
  BF_RETURN_IF_ERROR(CheckSide(m.user_keys, m.users, dim, "users"));
  BF_RETURN_IF_ERROR(CheckSide(m.item_keys, m.items, dim, "items"));

  std::string head(kMagic, sizeof kMagic);
  Put<uint32_t>(head, kModelFileVersion);
  Put<uint32_t>(head, dim);
  Put<uint64_t>(head, m.header.database_id);
  Put<uint64_t>(head, m.header.events_seq);
  Put<int64_t>(head, m.header.trained_at);
  Put<uint32_t>(head, m.header.iterations);
  Put<uint32_t>(head, 0);  // flags
  Put<double>(head, m.header.loss);
  Put<uint64_t>(head, m.user_keys.size());
  Put<uint64_t>(head, m.item_keys.size());
  Put<uint32_t>(head, Crc(0, head.data(), head.size()));

  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  File f(std::fopen(tmp.c_str(), "wb"));
  if (!f) return Status::IOError(OsError("cannot create", tmp));
  uint32_t crc = 0;
  std::string tail;
  bool ok = std::fwrite(head.data(), 1, head.size(), f.get()) == head.size() &&
            WriteRows(f.get(), m.user_keys, m.users, dim, crc) &&
            WriteRows(f.get(), m.item_keys, m.items, dim, crc);
  Put<uint32_t>(tail, crc);
  tail.append(kEnd, sizeof kEnd);
  ok = ok && std::fwrite(tail.data(), 1, tail.size(), f.get()) == tail.size() &&
       std::fflush(f.get()) == 0 && ::fsync(::fileno(f.get())) == 0;
  if (!ok) {
    const Status s = Status::IOError(OsError("cannot write", tmp));
    f.reset();
    std::remove(tmp.c_str());
    return s;
  }
  if (std::fclose(f.release()) != 0) {
    const Status s = Status::IOError(OsError("cannot close", tmp));
    std::remove(tmp.c_str());
    return s;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const Status s = Status::IOError(OsError("cannot rename to", path));
    std::remove(tmp.c_str());
    return s;
  }
  // The rename is durable once the folder is synced.
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0 || ::fsync(fd) != 0) {
    const Status s = Status::IOError(OsError("cannot sync folder", dir));
    if (fd >= 0) ::close(fd);
    return s;
  }
  ::close(fd);
  return Status::OK();
}

namespace {

// Reads exactly n bytes or explains why not.
Status ReadExactly(std::FILE* f, void* out, size_t n, const std::string& path,
                   const char* where) {
  if (std::fread(out, 1, n, f) == n) return Status::OK();
  if (std::ferror(f)) return Status::IOError(OsError("cannot read", path));
  return Status::Corruption(std::string("truncated model file (ends in the ") + where + ")");
}

Status ReadRows(std::FILE* f, const std::string& path, uint64_t count, uint32_t dim,
                uint64_t& remaining, uint32_t& crc, std::vector<std::string>& keys,
                Factors& rows, const char* where) {
  const uint64_t min_row = 4 + 1 + uint64_t{dim} * 4;
  if (count > remaining / min_row) {
    return Status::Corruption(std::string("truncated model file (ends in the ") + where + ")");
  }
  keys.resize(count);
  rows.dim = static_cast<int>(dim);
  rows.rows = static_cast<int32_t>(count);
  rows.values.resize(count * dim);
  rows.state.resize(count);
  for (uint64_t r = 0; r < count; ++r) {
    uint32_t len = 0;
    BF_RETURN_IF_ERROR(ReadExactly(f, &len, 4, path, where));
    if (len > remaining) {
      return Status::Corruption(std::string("truncated model file (ends in the ") + where + ")");
    }
    remaining -= std::min<uint64_t>(remaining, min_row + len);
    keys[r].resize(len);
    uint8_t state = 0;
    BF_RETURN_IF_ERROR(ReadExactly(f, keys[r].data(), len, path, where));
    BF_RETURN_IF_ERROR(ReadExactly(f, &state, 1, path, where));
    float* v = rows.values.data() + r * dim;
    BF_RETURN_IF_ERROR(ReadExactly(f, v, dim * sizeof(float), path, where));
    crc = Crc(crc, &len, 4);
    crc = Crc(crc, keys[r].data(), len);
    crc = Crc(crc, &state, 1);
    crc = Crc(crc, v, dim * sizeof(float));
    if (state > static_cast<uint8_t>(RowState::kTrained)) {
      return Status::Corruption(std::string("bad row state in the ") + where);
    }
    rows.state[r] = static_cast<RowState>(state);
  }
  return Status::OK();
}

}  // namespace

Result<ModelFile> ReadModelFile(const std::string& path, const ReadModelOptions& options) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    if (errno == ENOENT) return Status::NotFound("no model file " + path);
    return Status::IOError(OsError("cannot open", path));
  }
  struct stat st {};
  if (::fstat(::fileno(f.get()), &st) != 0) return Status::IOError(OsError("cannot stat", path));
  const auto size = static_cast<uint64_t>(st.st_size);

  char head[kHeaderBytes + 4];
  const size_t got = std::fread(head, 1, sizeof head, f.get());
  if (std::memcmp(head, kMagic, std::min(got, sizeof kMagic)) != 0 || got == 0) {
    return Status::Corruption("not a bridgefeed model file");
  }
  if (got < sizeof head) return Status::Corruption("truncated model file (ends in the header)");
  const char* p = head + sizeof kMagic;
  const auto version = Get<uint32_t>(p);
  if (version != kModelFileVersion) {
    return Status::Corruption("unsupported model file version " + std::to_string(version));
  }
  uint32_t stored_crc;
  std::memcpy(&stored_crc, head + kHeaderBytes, 4);
  if (Crc(0, head, kHeaderBytes) != stored_crc) return Status::Corruption("header checksum mismatch");

  ModelFile m;
  m.header.dim = Get<uint32_t>(p);
  m.header.database_id = Get<uint64_t>(p);
  m.header.events_seq = Get<uint64_t>(p);
  m.header.trained_at = Get<int64_t>(p);
  m.header.iterations = Get<uint32_t>(p);
  Get<uint32_t>(p);  // flags
  m.header.loss = Get<double>(p);
  const auto users = Get<uint64_t>(p);
  const auto items = Get<uint64_t>(p);
  const uint32_t dim = m.header.dim;
  if (dim < 1 || dim > 4096 || users > INT32_MAX || items > INT32_MAX) {
    return Status::Corruption("model file header out of range");
  }
  if (options.expected_dim != 0 && dim != options.expected_dim) {
    return Status::WrongDim("model has dimension " + std::to_string(dim) + ", expected " +
                            std::to_string(options.expected_dim));
  }
  if (options.expected_database_id && m.header.database_id != *options.expected_database_id) {
    return Status::Invalid("model is of another database");
  }

  uint64_t remaining = size - std::min<uint64_t>(size, sizeof head);
  uint32_t crc = 0;
  BF_RETURN_IF_ERROR(ReadRows(f.get(), path, users, dim, remaining, crc, m.user_keys, m.users,
                              "users"));
  BF_RETURN_IF_ERROR(ReadRows(f.get(), path, items, dim, remaining, crc, m.item_keys, m.items,
                              "items"));
  char tail[4 + sizeof kEnd];
  BF_RETURN_IF_ERROR(ReadExactly(f.get(), tail, sizeof tail, path, "trailer"));
  uint32_t stored_rows_crc;
  std::memcpy(&stored_rows_crc, tail, 4);
  if (stored_rows_crc != crc || std::memcmp(tail + 4, kEnd, sizeof kEnd) != 0) {
    return Status::Corruption("checksum mismatch");
  }
  if (std::fgetc(f.get()) != EOF) return Status::Corruption("trailing bytes after the model");
  for (float v : m.users.values) {
    if (!std::isfinite(v)) return Status::Corruption("model has a factor that is not finite");
  }
  for (float v : m.items.values) {
    if (!std::isfinite(v)) return Status::Corruption("model has a factor that is not finite");
  }
  return m;
}

}  // namespace bf::learn
