// Store on RocksDB: open and create, meta, maintenance and culture codes.
// Posts, users and feedback are in engine/store_records.cc; the layout of
// keys and values in engine/store/internal/records.h.
#include <stdlib.h>

#include <filesystem>
#include <random>

#include <rocksdb/utilities/checkpoint.h>
#include <spdlog/spdlog.h>

#include "engine/store/internal/store_impl.h"
#include "engine/store/layout.h"

namespace bf {
namespace {

namespace fs = std::filesystem;

// 2: seen marks are written as merge operands (NewSeenMarkOperator), which a
// build without that operator cannot read.
constexpr uint32_t kSchemaVersion = 2;

std::string U32Bytes(uint32_t v) {
  std::string s;
  internal::Writer(&s).U32(v);
  return s;
}

std::string RandomHexId() {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    const auto b = static_cast<uint8_t>(rd());
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::shared_ptr<spdlog::logger> Log() {
  static const std::shared_ptr<spdlog::logger> log = [] {
    if (auto l = spdlog::get("store")) return l;
    auto l = spdlog::default_logger()->clone("store");
    spdlog::register_logger(l);
    return l;
  }();
  return log;
}

}  // namespace

namespace internal {

Status CheckStoredId(std::string_view id, const char* what) {
  if (!ValidId(id))
    return Status::Invalid(std::string(what) + " id must be 1 to " + std::to_string(kMaxIdBytes) + " bytes, got " +
                           std::to_string(id.size()));
  return Status::OK();
}

// Open, close, meta ---------------------------------------------------------

Result<std::unique_ptr<Store>> StoreImpl::Open(const StoreOptions& options) {
  const std::string& path = options.path;
  if (path.empty()) return Status::Invalid("store path is empty");
  if (options.dim < 0 || options.dim > kMaxDim)
    return Status::Invalid("dimension must be 0 to " + std::to_string(kMaxDim) + ", got " +
                           std::to_string(options.dim));
  std::error_code ec;
  if (!fs::exists(fs::path(path) / "CURRENT", ec)) {
    if (options.read_only || !options.create_if_missing)
      return Status::NotFound("no database at " + path);
    if (options.dim == 0)
      return Status::Invalid("creating a database at " + path + " needs a dimension (--dim)");
  } else {
    std::vector<std::string> names;
    BF_RETURN_IF_ERROR(FromRocks(
        rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names), "open " + path));
    if (std::find(names.begin(), names.end(), "meta") == names.end() && names.size() > 1)
      return Status::Invalid(path + " is a RocksDB database but not a bridgefeed one");
    // A writer adds the column families newer builds have; a reader cannot.
    if (options.read_only && names.size() < CfNames().size())
      return Status::Invalid(path + " was written by an older bridgefeed: open it once with "
                             "bridgefeed-server or bridgefeed-import to upgrade it");
  }

  std::unique_ptr<StoreImpl> store(new StoreImpl);
  store->path_ = path;
  store->read_only_ = options.read_only;
  store->fsync_ = options.fsync;
  store->bulk_load_ = options.bulk_load && !options.read_only;
  store->write_options_.sync = options.fsync == FsyncPolicy::kAlways && !store->bulk_load_;
  store->write_options_.disableWAL = store->bulk_load_;

  rocksdb::DBOptions dbo = MakeDbOptions();
  dbo.create_if_missing = options.create_if_missing;
  rocksdb::Status s;
  if (options.read_only) {
    dbo.max_open_files = -1;  // required by secondary instances
    std::string secondary = options.secondary_path;
    if (secondary.empty()) {
      std::string tmpl = (fs::temp_directory_path(ec) / "bridgefeed-secondary-XXXXXX").string();
      if (mkdtemp(tmpl.data()) == nullptr)
        return Status::IOError("cannot create a folder for the secondary instance: " + tmpl);
      secondary = store->temp_secondary_ = tmpl;
    }
    s = rocksdb::DB::OpenAsSecondary(dbo, path, secondary, MakeColumnFamilies(),
                                     &store->handles_, &store->db_);
  } else {
    s = rocksdb::DB::Open(dbo, path, MakeColumnFamilies(), &store->handles_,
                          &store->db_);
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos)
      return Status::IOError("data dir " + path + " is in use by another process (" +
                             s.ToString() + ")");
  }
  BF_RETURN_IF_ERROR(FromRocks(s, "open " + path));

  BF_RETURN_IF_ERROR(store->InitOrCheckMeta(options));
  BF_RETURN_IF_ERROR(store->LoadState());
  if (!options.read_only && !store->bulk_load_ && options.fsync == FsyncPolicy::kEverysec)
    store->sync_thread_ = std::thread([p = store.get()] { p->SyncLoop(); });
  Log()->debug("opened {} (dim {}, db_id {}, {} posts{})", path, store->dim_, store->db_id_,
               store->n_posts_.load(), options.read_only ? ", read-only" : "");
  return std::unique_ptr<Store>(std::move(store));
}

StoreImpl::~StoreImpl() {
  if (sync_thread_.joinable()) {
    {
      std::lock_guard lock(sync_mu_);
      stop_sync_ = true;
    }
    sync_cv_.notify_all();
    sync_thread_.join();
  }
  if (db_ != nullptr) {
    // A clean close keeps the promise of kEverysec without waiting a second.
    if (!read_only_ && fsync_ == FsyncPolicy::kEverysec && !bulk_load_) (void)db_->SyncWAL();
    if (bulk_load_) (void)Sync();  // nothing in the WAL: the memtables must reach disk
    for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
    (void)db_->Close();
    delete db_;
  }
  if (!temp_secondary_.empty()) {
    std::error_code ec;
    fs::remove_all(temp_secondary_, ec);
  }
}

void StoreImpl::SyncLoop() {
  std::unique_lock lock(sync_mu_);
  while (!sync_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_sync_; })) {
    lock.unlock();
    const rocksdb::Status s = db_->SyncWAL();
    if (!s.ok()) Log()->warn("WAL sync of {} failed: {}", path_, s.ToString());
    lock.lock();
  }
}

Status StoreImpl::InitOrCheckMeta(const StoreOptions& options) {
  auto dim = Get(kMeta, kMetaDim);
  if (!dim.ok()) return dim.status();
  if (!dim->has_value()) {
    // A new database (or one whose creation was cut short before this batch).
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), cf(kMeta)));
    it->SeekToFirst();
    if (it->Valid() || read_only_)
      return Status::Corruption("meta of " + path_ + " has no dimension");
    if (options.dim == 0)
      return Status::Invalid("creating a database at " + path_ + " needs a dimension (--dim)");
    rocksdb::WriteBatch b;
    b.Put(cf(kMeta), kMetaDim, U32Bytes(static_cast<uint32_t>(options.dim)));
    b.Put(cf(kMeta), kMetaSchema, U32Bytes(kSchemaVersion));
    b.Put(cf(kMeta), kMetaDbId, RandomHexId());
    b.Put(cf(kMeta), kMetaCounters, EncodeCounters(Counters{}));
    rocksdb::WriteOptions sync;
    sync.sync = true;
    BF_RETURN_IF_ERROR(FromRocks(db_->Write(sync, &b), "create " + path_));
    StoreOptions created = options;
    created.dim = 0;  // now stored: read it back like any reopen
    return InitOrCheckMeta(created);
  }

  uint32_t stored = 0, schema = 0;
  if (!Reader(**dim).U32(&stored) || (**dim).size() != 4 || stored == 0)
    return Status::Corruption("damaged dimension in meta of " + path_);
  if (options.dim != 0 && static_cast<uint32_t>(options.dim) != stored)
    return Status::Invalid("database dimension is " + std::to_string(stored) + ", not " +
                           std::to_string(options.dim) + " (--dim)");
  dim_ = static_cast<int>(stored);

  auto sv = Get(kMeta, kMetaSchema);
  if (!sv.ok()) return sv.status();
  if (!sv->has_value() || (**sv).size() != 4 || !Reader(**sv).U32(&schema))
    return Status::Corruption("damaged schema version in meta of " + path_);
  if (schema > kSchemaVersion)
    return Status::Invalid("database schema version " + std::to_string(schema) +
                           " is newer than this build supports (" +
                           std::to_string(kSchemaVersion) + ")");
  auto id = Get(kMeta, kMetaDbId);
  if (!id.ok()) return id.status();
  if (!id->has_value()) return Status::Corruption("no db_id in meta of " + path_);
  db_id_ = **id;
  return Status::OK();
}

Status StoreImpl::LoadState() {
  auto raw = Get(kMeta, kMetaCounters);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return Status::Corruption("no counters in meta of " + path_);
  Counters c;
  BF_RETURN_IF_ERROR(DecodeCounters(**raw, &c));

  std::unordered_map<std::string, uint16_t> codes;
  std::vector<std::string> names(1);  // code 0: no culture
  const std::string upper = PrefixSuccessor(kMetaCulturePrefix);
  rocksdb::ReadOptions ro;
  rocksdb::Slice ub(upper);
  ro.iterate_upper_bound = &ub;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(kMeta)));
  for (it->Seek(kMetaCulturePrefix); it->Valid(); it->Next()) {
    const std::string name(ToView(it->key()).substr(kMetaCulturePrefix.size()));
    uint16_t code = 0;
    if (it->value().size() != 2 || !Reader(ToView(it->value())).U16(&code) ||
        code == 0 || code >= c.next_culture || !CanonicalCulture(name).ok() ||
        (code < names.size() && !names[code].empty()))
      return Status::Corruption("damaged culture code for '" + name + "' in meta of " + path_);
    codes[name] = code;
    if (names.size() <= code) names.resize(code + 1);
    names[code] = name;
  }
  BF_RETURN_IF_ERROR(FromRocks(it->status(), "read cultures"));

  auto applied = Get(kMeta, kMetaAppliedLogSeq);
  if (!applied.ok()) return applied.status();
  uint64_t applied_seq = 0;
  if (applied->has_value() &&
      ((*applied)->size() != 8 || !Reader(**applied).U64(&applied_seq)))
    return Status::Corruption("damaged applied log sequence in meta of " + path_);

  counters_ = c;
  Publish(c);
  applied_log_seq_ = applied_seq;
  std::unique_lock lock(culture_mu_);
  culture_codes_ = std::move(codes);
  culture_names_ = std::move(names);
  return Status::OK();
}

void StoreImpl::Publish(const Counters& c) {
  last_seq_ = c.seq;
  n_posts_ = c.posts;
  n_users_ = c.users;
  n_events_ = c.events;
  last_event_ = c.next_event - 1;
}

Result<std::optional<std::string>> StoreImpl::Get(Cf c, std::string_view key,
                                                  const rocksdb::Snapshot* snap) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  std::string value;
  const rocksdb::Status s = db_->Get(ro, cf(c), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  BF_RETURN_IF_ERROR(FromRocks(s, "read"));
  return std::optional<std::string>(std::move(value));
}

Status StoreImpl::PutMeta(std::string_view key, std::string_view value) {
  if (read_only_) return ReadOnly();
  if (key.empty()) return Status::Invalid("meta key is empty");
  if (key.starts_with(kReservedPrefix))
    return Status::Invalid("meta keys starting with bf.store. are reserved for the store");
  return FromRocks(db_->Put(write_options_, cf(kMeta), ToSlice(key), ToSlice(value)),
                   "put meta");
}

Result<std::optional<std::string>> StoreImpl::GetMeta(std::string_view key) const {
  return Get(kMeta, key);
}

Status StoreImpl::Sync() {
  if (read_only_) return Status::OK();
  if (bulk_load_) {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    return FromRocks(db_->Flush(fo, handles_), "flush");
  }
  return FromRocks(db_->SyncWAL(), "sync WAL");
}

Status StoreImpl::Checkpoint(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    // RocksDB wants a new folder; an empty one is as good.
    if (!fs::is_directory(dir, ec) || !fs::is_empty(dir, ec))
      return Status::Invalid("checkpoint folder " + dir + " exists and is not empty");
    fs::remove(dir, ec);
  }
  rocksdb::Checkpoint* raw = nullptr;
  BF_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_, &raw), "checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  return FromRocks(cp->CreateCheckpoint(dir), "checkpoint to " + dir);
}

Status StoreImpl::CatchUp() {
  if (!read_only_) return Status::OK();  // a primary is always current
  BF_RETURN_IF_ERROR(FromRocks(db_->TryCatchUpWithPrimary(), "catch up with primary"));
  std::lock_guard lock(write_mu_);
  return LoadState();
}

uint64_t StoreImpl::DiskBytes() const {
  uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(path_, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code fe;
    if (it->is_regular_file(fe)) {
      const auto n = it->file_size(fe);
      if (!fe) total += n;
    }
  }
  return total;
}

// Cultures ----------------------------------------------------------------

std::optional<uint16_t> StoreImpl::CultureCode(std::string_view culture) const {
  if (culture.empty()) return 0;
  auto canon = CanonicalCulture(culture);
  if (!canon.ok()) return std::nullopt;
  std::shared_lock lock(culture_mu_);
  auto it = culture_codes_.find(*canon);
  if (it == culture_codes_.end()) return std::nullopt;
  return it->second;
}

Result<uint16_t> StoreImpl::GetOrCreateCultureCode(std::string_view culture) {
  if (culture.empty()) return uint16_t{0};
  auto canon = CanonicalCulture(culture);
  if (!canon.ok()) return canon.status();
  if (auto code = CultureCode(*canon)) return *code;
  if (read_only_) return ReadOnly();
  std::lock_guard lock(write_mu_);
  Txn t(this);
  auto code = t.Culture(*canon);
  if (!code.ok()) return code.status();
  BF_RETURN_IF_ERROR(t.Commit());
  return *code;
}

std::vector<std::string> StoreImpl::CultureNames() const {
  std::shared_lock lock(culture_mu_);
  return culture_names_;
}

}  // namespace internal

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  return internal::StoreImpl::Open(options);
}

Result<std::string> CanonicalCulture(std::string_view culture) {
  const std::string rule =
      "culture must be 1 to " + std::to_string(kMaxCultureBytes) + " bytes of [A-Za-z0-9_-]";
  if (culture.empty() || culture.size() > kMaxCultureBytes)
    return Status::Invalid(rule + ", got " + std::to_string(culture.size()) + " bytes");
  std::string out(culture);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    } else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
      return Status::Invalid(rule);
    }
  }
  return out;
}

Result<std::unique_ptr<Store>> Store::OpenReadOnly(const std::string& data_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(DbPath(data_dir), ec)) {
    return Status::NotFound("no database in " + data_dir);
  }
  StoreOptions so;
  so.path = DbPath(data_dir);
  so.dim = 0;  // whatever the database has
  so.read_only = true;
  so.create_if_missing = false;
  return Open(so);
}

}  // namespace bf
