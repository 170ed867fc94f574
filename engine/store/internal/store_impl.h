// The RocksDB implementation of Store, shared by engine/store.cc (open,
// meta, maintenance, cultures) and engine/store_records.cc (posts, users,
// feedback).
//
// Writes take write_mu_ for their whole read-modify-write: sequence numbers,
// internal ids, event numbers and culture codes come from counters kept in
// memory (and in meta, rewritten in the same WriteBatch as the data), and the
// in-memory copies are updated only after the batch is written, so a failed
// write leaves memory and disk agreeing. Reads do not take the mutex.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include <rocksdb/db.h>

#include "engine/store/internal/codec.h"
#include "engine/store/internal/records.h"
#include "engine/store/internal/rocks.h"
#include "engine/store/store.h"

namespace bf::internal {

inline constexpr size_t kBulkChunk = 1000;  // records per WriteBatch in bulk calls

inline rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view ToView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }
inline Status ReadOnly() { return Status::Invalid("store is read-only"); }
// Meta keys of the store itself; PutMeta refuses this prefix.
inline constexpr std::string_view kReservedPrefix = "bf.store.";
inline const std::string kMetaDim = "bf.store.dim";
inline const std::string kMetaSchema = "bf.store.schema";
inline const std::string kMetaDbId = "bf.store.db_id";
inline const std::string kMetaCounters = "bf.store.counters";
inline const std::string kMetaCulturePrefix = "bf.store.culture/";
inline const std::string kMetaAppliedLogSeq = "bf.store.applied_log_seq";

// A snapshot for reads that span several lookups. Secondary instances do
// not need one: they change only in CatchUp.
class Snap {
 public:
  Snap(rocksdb::DB* db, bool use) : db_(db), snap_(use ? db->GetSnapshot() : nullptr) {}
  ~Snap() {
    if (snap_ != nullptr) db_->ReleaseSnapshot(snap_);
  }
  Snap(const Snap&) = delete;
  Snap& operator=(const Snap&) = delete;
  const rocksdb::Snapshot* get() const { return snap_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
};

// Invalid unless id is 1..128 bytes; `what` names it ("post").
Status CheckStoredId(std::string_view id, const char* what);

class StoreImpl final : public Store {
 public:
  ~StoreImpl() override;

  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);

  int dim() const override { return dim_; }
  const std::string& db_id() const override { return db_id_; }
  uint64_t LastSequence() const override { return last_seq_.load(); }

  Result<PostRecord> PutPost(PostRecord post) override;
  Status PutPosts(std::vector<PostRecord>& posts) override;
  Result<std::optional<PostRecord>> GetPost(std::string_view id) const override;
  Result<std::vector<std::optional<PostRecord>>> GetPosts(
      std::span<const std::string> ids) const override;
  Result<std::optional<uint64_t>> DeletePost(std::string_view id) override;
  Status ForEachPost(const std::function<bool(const PostRecord&)>& fn) const override;
  Status ScanPosts(const std::function<bool(const PostRecord&)>& fn) const override;
  // DecodePost plus the dimension check every full read makes.
  Status DecodeStoredPost(std::string_view bytes, PostRecord* p) const;
  // Reads the posts named by ids with one MultiGet; (*out)[i] is nullopt where ids[i] has no
  // post. On error *out is unspecified.
  Status MultiGetPosts(const rocksdb::ReadOptions& ro, std::span<const std::string> ids,
                       std::vector<std::optional<PostRecord>>* out) const;
  Result<uint64_t> CountPosts() const override { return n_posts_.load(); }
  Result<std::vector<std::string>> ScanIds(IdKind kind, std::string_view after,
                                           size_t limit) const override;  // store_scan.cc

  Result<std::vector<CultureCounts>> GetStats(uint64_t iid) const override;
  Status ForEachStats(
      const std::function<bool(uint64_t, const CultureCounts&)>& fn) const override;

  std::optional<uint16_t> CultureCode(std::string_view culture) const override;
  Result<uint16_t> GetOrCreateCultureCode(std::string_view culture) override;
  std::vector<std::string> CultureNames() const override;

  Status PutUser(const UserRecord& user) override;
  Status PutUsers(const std::vector<UserRecord>& users) override;
  Result<std::optional<UserRecord>> GetUser(std::string_view id) const override;
  Result<bool> DeleteUser(std::string_view id) override;
  Result<uint64_t> CountUsers() const override { return n_users_.load(); }

  Status RecordEvent(const EventWrite& event, bool* counted = nullptr) override;
  Result<bool> HasEngaged(std::string_view user, uint64_t iid, EventType type) const override;
  Status RecordEvents(const std::vector<EventWrite>& events) override;
  Status ImportEvents(std::span<const ImportedEvent> events) override;
  Status MarkServed(std::string_view user, std::span<const uint64_t> iids,
                    int64_t ts) override;
  Result<std::vector<SeenMark>> GetSeen(std::string_view user) const override;
  Result<uint64_t> CountEvents() const override { return n_events_.load(); }
  uint64_t LastEventNumber() const override { return last_event_.load(); }
  Result<uint64_t> ForEachEvent(
      const std::function<bool(std::string_view, const LoggedEvent&)>& fn) const override;
  Status ForEachUser(const std::function<bool(const UserRecord&)>& fn) const override;
  Result<std::vector<StoredEvent>> GetEvents(std::string_view user) const override;

  Result<std::vector<StoreOpResult>> Write(std::span<const StoreOp> ops,
                                           const StoreWriteOptions& options) override;
  uint64_t AppliedLogSeq() const override { return applied_log_seq_.load(); }

  Status PutMeta(std::string_view key, std::string_view value) override;
  Result<std::optional<std::string>> GetMeta(std::string_view key) const override;
  Status Sync() override;
  Status Checkpoint(const std::string& dir) override;
  Status CatchUp() override;
  uint64_t DiskBytes() const override;
  StoreMemory Memory() const override;  // store_memory.cc

 private:
  class Txn;

  rocksdb::ColumnFamilyHandle* cf(Cf c) const { return handles_[c]; }
  // Point read; nullopt when absent.
  Result<std::optional<std::string>> Get(Cf c, std::string_view key,
                                         const rocksdb::Snapshot* snap = nullptr) const;
  Status InitOrCheckMeta(const StoreOptions& options);
  // Loads counters and culture codes from meta into memory.
  Status LoadState();
  void Publish(const Counters& c);
  Status ValidatePost(PostRecord* post) const;
  Status ValidateUser(UserRecord* user) const;
  Status ValidateEvent(EventWrite* e) const;
  Status ApplyPost(Txn& t, PostRecord* post);
  Status ApplyUser(Txn& t, const UserRecord& user);
  // Resolves e.post_iid 0 from e.post_id; returns the post's iid.
  // *counted: whether the event moved the counters (the user's first of its kind).
  Result<uint64_t> ApplyEvent(Txn& t, const EventWrite& e, bool* counted);
  // Returns the deleted iid, nullopt when there was no such post.
  Result<std::optional<uint64_t>> ApplyDeletePost(Txn& t, std::string_view id);
  // false when there was no such user.
  Result<bool> ApplyDeleteUser(Txn& t, std::string_view id);
  // One op of Write, validated (a copy) and staged into t.
  Status ApplyOp(Txn& t, const StoreOp& op, StoreOpResult* result);
  void ApplySeen(Txn& t, std::string_view user, uint64_t iid, SeenKind kind, int64_t ts);
  // NotFound("post") unless every iid in `iids` (sorted, unique) is a live post.
  Status CheckLivePosts(const std::vector<uint64_t>& iids) const;
  // (*found)[i]: whether keys[i] (sorted, unique) is in column family c.
  Status KeysExist(Cf c, const std::vector<std::string>& keys, std::vector<bool>* found) const;
  void SyncLoop();

  // Fixed after Open.
  std::string path_;
  int dim_ = 0;
  std::string db_id_;
  bool read_only_ = false;
  bool bulk_load_ = false;
  FsyncPolicy fsync_ = FsyncPolicy::kEverysec;
  std::string temp_secondary_;  // removed on close when we created it
  rocksdb::WriteOptions write_options_;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;

  std::mutex write_mu_;
  Counters counters_;  // GUARDED_BY(write_mu_)
  // Published copies of counters_ for lock-free reads.
  std::atomic<uint64_t> last_seq_{0}, n_posts_{0}, n_users_{0}, n_events_{0}, last_event_{0};
  std::atomic<uint64_t> applied_log_seq_{0};  // meta kMetaAppliedLogSeq

  mutable std::shared_mutex culture_mu_;
  std::unordered_map<std::string, uint16_t> culture_codes_;  // GUARDED_BY(culture_mu_)
  std::vector<std::string> culture_names_;                   // GUARDED_BY(culture_mu_)

  // kEverysec: a thread syncing the WAL once a second.
  std::thread sync_thread_;
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool stop_sync_ = false;  // GUARDED_BY(sync_mu_)
};

// One WriteBatch being built under write_mu_, with pending counters and
// culture codes, and an overlay so later records in the same batch see
// earlier ones (a bulk call that puts the same post twice, say).
class StoreImpl::Txn {
 public:
  explicit Txn(StoreImpl* s) : counters(s->counters_), s_(s), before_(s->counters_) {}

  Result<std::optional<std::string>> Get(Cf c, std::string_view key) {
    auto it = overlay_.find(OverlayKey(c, key));
    if (it != overlay_.end()) return it->second;
    return s_->Get(c, key);
  }
  void Put(Cf c, std::string_view key, std::string_view value) {
    batch.Put(s_->cf(c), ToSlice(key), ToSlice(value));
    overlay_[OverlayKey(c, key)] = std::string(value);
  }
  void Delete(Cf c, std::string_view key) {
    batch.Delete(s_->cf(c), ToSlice(key));
    overlay_[OverlayKey(c, key)] = std::nullopt;
  }

  // Code of a canonical culture, assigning the next one when it is new.
  Result<uint16_t> Culture(const std::string& name) {
    if (auto code = s_->CultureCode(name)) return *code;
    for (const auto& [n, code] : new_cultures_)
      if (n == name) return code;
    if (counters.next_culture > 0xffff) return Status::Invalid("too many cultures (65535)");
    const auto code = static_cast<uint16_t>(counters.next_culture++);
    std::string v;
    Writer(&v).U16(code);
    Put(kMeta, kMetaCulturePrefix + name, v);
    new_cultures_.emplace_back(name, code);
    return code;
  }

  Status Commit() {
    if (!(counters == before_))
      batch.Put(s_->cf(kMeta), kMetaCounters, EncodeCounters(counters));
    if (batch.Count() == 0) return Status::OK();
    BF_RETURN_IF_ERROR(FromRocks(s_->db_->Write(s_->write_options_, &batch), "write"));
    s_->counters_ = counters;
    s_->Publish(counters);
    if (!new_cultures_.empty()) {
      std::unique_lock lock(s_->culture_mu_);
      for (auto& [name, code] : new_cultures_) {
        s_->culture_codes_[name] = code;
        if (s_->culture_names_.size() <= code) s_->culture_names_.resize(code + 1);
        s_->culture_names_[code] = name;
      }
    }
    return Status::OK();
  }

  rocksdb::WriteBatch batch;
  Counters counters;
  // Events staged in this batch per user, so a later DeleteUser in the same
  // batch takes them off the event count too.
  std::unordered_map<std::string, uint64_t> staged_events;

 private:
  static std::string OverlayKey(Cf c, std::string_view key) {
    std::string k(1, static_cast<char>(c));
    k.append(key);
    return k;
  }
  StoreImpl* s_;
  Counters before_;
  std::unordered_map<std::string, std::optional<std::string>> overlay_;
  std::vector<std::pair<std::string, uint16_t>> new_cultures_;
};

}  // namespace bf::internal
