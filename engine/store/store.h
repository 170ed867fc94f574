// Store: the durable source of truth, on RocksDB. Everything the engine keeps
// in memory can be rebuilt from it.
//
// Column families:
//   meta      dimension, schema version, database id, counters, culture codes
//   posts     string id -> post record (with its internal 64-bit id and seq)
//   post_ids  internal id (8 bytes, big-endian) -> string id
//   stats     internal id + culture -> impressions/positives/negatives (merge)
//   users     string id -> user record
//   seen      user + internal id -> kind and time
//   events    user + event number -> event (append-only feedback log)
//   engaged   user + internal id + engagement kind -> time of the latest such
//             event (counters count each user once per post and kind)
//   retired   string id of a deleted post -> its internal id, which a re-add
//             takes back (so seen, hidden and engaged marks still apply)
//
// Errors: every method that can fail returns a Status or Result with the
// codes of embeddings/status.h: Invalid for a caller's mistake (bad id,
// culture, type; a write to a read_only store: "store is read-only"),
// NotFound where a method says so, IOError for a disk or RocksDB failure,
// Corruption when stored bytes fail a check. A failed read returns no value;
// out-parameters are unspecified on failure. A failed write writes nothing
// unless the method says otherwise (bulk calls, below).
// Thread-safety: all methods may be called concurrently; writes that must be
// ordered (sequence numbers, id allocation) are serialised inside.
// Ownership: Open hands the caller the only Store; destroying it closes the
// database. Records are returned by value; callbacks (ForEach*, ScanPosts)
// get references valid only during the call and must not call back into
// the store's writes.
// Bulk calls (PutPosts, PutUsers, RecordEvents) validate all their input
// first (bad input writes nothing), then write batches of 1000 records; an
// I/O error part-way leaves the earlier batches written. ImportEvents is the
// offline importer's faster path for feedback.
// RocksDB types never appear in this header.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "embeddings/status.h"
#include "embeddings/vector.h"
#include "engine/store/limits.h"

namespace bf {

enum class FsyncPolicy {
  kAlways,    // every acknowledged write is synced to disk: survives power loss
  kEverysec,  // WAL synced once a second: survives a killed process, may lose
              // up to a second on power loss (default)
  kNo,        // the OS decides when to sync: survives a killed process
};

struct StoreOptions {
  std::string path;
  // Dimension of a new database; an existing one must match it unless 0
  // (0 means "use whatever the database has").
  int dim = 64;
  bool create_if_missing = true;
  FsyncPolicy fsync = FsyncPolicy::kEverysec;
  // Open without taking the lock, for tools reading a database that a server
  // has open (RocksDB secondary instance). Writes then fail.
  bool read_only = false;
  // Folder for the secondary instance's own files (read_only only); empty
  // picks a temporary folder.
  std::string secondary_path;
  // Offline bulk loading (bridgefeed-import): writes skip the WAL and Sync()
  // flushes the memtables to table files instead of syncing the WAL, so a
  // reopen has no log to replay. A crash loses every write since the last
  // Sync() (closing the store flushes too). fsync is ignored.
  bool bulk_load = false;
};

// PostRecord::ts for PutPost/PutPosts: keep the ts of the post being
// replaced; a new post gets the current time.
inline constexpr int64_t kKeepTs = INT64_MIN;

struct PostRecord {
  uint64_t iid = 0;           // internal id; assigned by PutPost
  uint64_t seq = 0;           // store sequence of the write; assigned by PutPost
  std::string id;             // external id, 1..128 bytes
  std::string author;
  std::string culture;        // canonical upper case
  uint16_t culture_code = 0;  // code of culture (never kNoCulture); assigned by PutPost
  std::string lang;
  int64_t ts = 0;             // seconds since the epoch; kKeepTs in a write (above)
  std::vector<std::string> tags;
  std::string title;
  // The vector the index and ranking use: dim components, or empty for a
  // post with no vector yet (served by the fresh and bridging sources only).
  Vector vector;
  // The vector the caller gave (POST.ADD VECTOR, or from its text): the
  // prior training pulls the post's factor toward. Empty when none.
  Vector prior;
};

struct CultureCounts {
  std::string culture;
  int64_t impressions = 0;
  int64_t positives = 0;
  int64_t negatives = 0;
};

struct UserRecord {
  std::string id;
  std::string culture;              // canonical upper case; empty = none
  std::vector<std::string> langs;
  float openness = -1.0f;           // < 0: not set, use the server default
  Vector vector;                    // the vector FEED uses; empty = none yet
  int64_t positives = 0;
  int64_t negatives = 0;
  // The vector given with USER.SET (unit length): the prior training and
  // fold-in pull the user's vector toward; empty = none.
  Vector prior;
};

enum class SeenKind : uint8_t { kServed = 1, kViewed = 2, kHidden = 3 };

struct SeenMark {
  uint64_t iid;
  SeenKind kind;
  int64_t ts;
};

// One entry of a user's event log (Store::GetEvents).
struct StoredEvent {
  uint64_t post_iid = 0;  // may name a post deleted since
  EventType type = EventType::kView;
  int64_t ts = 0;
};

// One feedback event and everything it changes, written atomically.
struct EventWrite {
  UserRecord user;          // the user's record after the event (counters, vector)
  uint64_t post_iid = 0;
  std::string post_id;
  std::string viewer_culture;  // the culture whose counters move; empty: "" bucket
  EventType type = EventType::kView;
  int64_t ts = 0;
  // Cluster mode on a node that does not own the user: the post's counters move (the
  // viewer culture gets its code) and the event is logged (TRAIN reads every event), but
  // there is no user record or seen mark. user.id names the user for validation only.
  bool counters_only = false;
};

// One feedback event for the offline bulk path (Store::ImportEvents): an
// EventWrite without the user record, which the importer writes once.
struct ImportedEvent {
  std::string user;
  uint64_t post_iid = 0;
  std::string post_id;
  std::string viewer_culture;  // the culture whose counters move; empty: "" bucket
  EventType type = EventType::kView;
  int64_t ts = 0;
};

// One entry of the event log, as ForEachEvent reads it.
struct LoggedEvent {
  uint64_t number = 0;  // event number: increases with every event recorded
  uint64_t post_iid = 0;
  std::string post_id;
  EventType type = EventType::kView;
  int64_t ts = 0;
};

// Store::Write's ops: the single-record writes, applied in order to one
// WriteBatch. A UserRecord is PutUser, a PostRecord PutPost, an EventWrite
// RecordEvent (post_iid 0: resolve post_id as of the earlier ops).
struct DeleteUserWrite {
  std::string id;
};
struct DeletePostWrite {
  std::string id;
};
using StoreOp = std::variant<UserRecord, DeleteUserWrite, PostRecord, DeletePostWrite, EventWrite>;

// What one op of Store::Write did.
struct StoreOpResult {
  Status status;          // this op's error (skip_failed only; the op wrote nothing)
  PostRecord post;        // PostRecord: the record as stored (iid, seq, culture_code)
  uint64_t iid = 0;       // DeletePostWrite: the deleted post; EventWrite: the post
  bool existed = false;   // DeleteUserWrite / DeletePostWrite: there was one
  bool counted = false;   // EventWrite: it moved the counters (the user's first of its kind)
};

struct StoreWriteOptions {
  // false: the first failing op fails the call and nothing is written.
  // true: a failing op gets its error in its result and is left out; the
  // others are still written (one batch either way).
  bool skip_failed = false;
  // Stored in the same batch (cluster: the applied stream sequence).
  std::optional<uint64_t> applied_log_seq;
};

// RocksDB's memory (INFO memory), from its own properties; 0 where a figure
// cannot be read.
struct StoreMemory {
  uint64_t memtables = 0;      // every family: rocksdb.cur-size-all-mem-tables
  uint64_t table_readers = 0;  // index and filter blocks outside the block cache
                               // (rocksdb.estimate-table-readers-mem)
  uint64_t block_cache = 0;    // the shared block cache's usage (GetUsage)
  uint64_t block_cache_pinned = 0;  // of which pinned (L0 index and filters)
  // The users' seen and engaged marks (FEED's served set): the memtables of
  // their two families. Part of memtables; on disk the rest of them is read
  // through the block cache.
  uint64_t seen_memtables = 0;
  uint64_t total() const { return memtables + table_readers + block_cache; }
};

// What SCAN walks: the posts column family or the users one.
enum class IdKind { kPost, kUser };

class Store {
 public:
  // Opens or creates the database at options.path. Errors: Invalid when the
  // stored dimension differs from options.dim (message names both; nothing
  // is changed), IOError when the folder is locked by another process or
  // unreadable, Corruption when meta is damaged, NotFound when there is no
  // database and create_if_missing is false or read_only is set; Invalid when
  // a new database would be created with dim 0.
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);
  // The database of a live data dir, read-only beside a running server (the
  // offline tools: bridgefeed-rebuild, bridgefeed-train), at its own dim.
  // NotFound "no database in DIR" when there is none; otherwise Open's errors.
  static Result<std::unique_ptr<Store>> OpenReadOnly(const std::string& data_dir);
  virtual ~Store() = default;

  virtual int dim() const = 0;
  // Random id created with the database; index snapshots carry it.
  virtual const std::string& db_id() const = 0;
  // The highest sequence assigned to a post write or delete so far.
  virtual uint64_t LastSequence() const = 0;

  // Posts ------------------------------------------------------------------
  // Creates or replaces the post `post.id`. A replaced post keeps its
  // internal id (so its counters survive); a post id that was deleted takes
  // back its old internal id (its counters start at zero, but its users'
  // seen, hidden and engaged marks apply again). Assigns iid, seq and culture_code
  // (and ts when it is kKeepTs) and returns the record as stored. Post record and id mapping are one batch.
  virtual Result<PostRecord> PutPost(PostRecord post) = 0;
  // Many posts in large batches (bulk import). Same rules as PutPost.
  virtual Status PutPosts(std::vector<PostRecord>& posts) = 0;
  // nullopt when there is no such post; Invalid for a bad id.
  virtual Result<std::optional<PostRecord>> GetPost(std::string_view id) const = 0;
  // The posts named by ids in one batched read (RocksDB MultiGet), all at one
  // point in time: result[i] is ids[i]'s record, nullopt where there is none.
  // Invalid when any id is bad (nothing is read).
  virtual Result<std::vector<std::optional<PostRecord>>> GetPosts(
      std::span<const std::string> ids) const = 0;
  // Deletes post, id mapping and counters in one batch, and remembers the
  // internal id under the post id (retired) for a re-add; bumps the
  // sequence. Returns the deleted internal id, or nullopt if there was no
  // such post. Seen and engaged marks are the users' and stay.
  virtual Result<std::optional<uint64_t>> DeletePost(std::string_view id) = 0;
  // Visits every post in internal-id order; stop early by returning false.
  virtual Status ForEachPost(const std::function<bool(const PostRecord&)>& fn) const = 0;
  // Visits every post in storage order (by external id): one sequential
  // read, for loads that need no order. A cold start at 1M posts reads its
  // posts this way instead of one random read per post.
  virtual Status ScanPosts(const std::function<bool(const PostRecord&)>& fn) const = 0;
  virtual Result<uint64_t> CountPosts() const = 0;
  // SCAN: up to `limit` ids of `kind` in key order, each greater than
  // `after` ("" starts at the first). Fewer than limit only at the end.
  // Keys only: no record is decoded. IOError on a read failure.
  virtual Result<std::vector<std::string>> ScanIds(IdKind kind, std::string_view after,
                                                   size_t limit) const = 0;

  // Per-culture counters of a post (culture order: ascending by name).
  virtual Result<std::vector<CultureCounts>> GetStats(uint64_t iid) const = 0;
  // Visits every counter row: (iid, counts).
  virtual Status ForEachStats(
      const std::function<bool(uint64_t, const CultureCounts&)>& fn) const = 0;

  // Cultures: stable small codes, assigned on first use and never reused.
  // Code kNoCulture (0, limits.h) is the empty culture; real cultures start
  // at 1. Names are canonicalised first ("us" and "US" share a code).
  // nullopt for a culture without a code yet or an invalid name.
  virtual std::optional<uint16_t> CultureCode(std::string_view culture) const = 0;
  // Invalid for an invalid name; IOError when the new code cannot be written.
  virtual Result<uint16_t> GetOrCreateCultureCode(std::string_view culture) = 0;
  // Code -> name for every assigned code; [0] is "".
  virtual std::vector<std::string> CultureNames() const = 0;

  // Users ------------------------------------------------------------------
  // Creates or replaces a user and assigns a code to its culture, so every
  // stored user's culture has one. Invalid for a bad id or culture.
  virtual Status PutUser(const UserRecord& user) = 0;
  virtual Status PutUsers(const std::vector<UserRecord>& users) = 0;  // bulk
  virtual Result<std::optional<UserRecord>> GetUser(std::string_view id) const = 0;
  // Removes the profile, its seen marks, engaged marks and events. false if
  // unknown. Counters the user moved stay.
  virtual Result<bool> DeleteUser(std::string_view id) = 0;
  virtual Result<uint64_t> CountUsers() const = 0;

  // Feedback ---------------------------------------------------------------
  // One batch: user record, counter merge (VIEW: impression; LIKE, SAVE,
  // SHARE, COMMENT: positive; HIDE, REPORT: negative), seen mark (VIEW:
  // viewed; HIDE, REPORT: hidden), engaged mark and the event log entry.
  // Counters count people, not clicks: the merge is written only when the
  // user has no engaged mark of the event's Engagement kind on the post
  // (limits.h); a repeat refreshes the engaged and seen marks' times and is
  // logged, but counts nothing. *counted (when not null) says whether it
  // counted. NotFound("post") when post_iid is not a live post (checked
  // under the write lock, so a concurrently deleted post gets no counters
  // back). PutUser also assigns a code to the user's culture.
  virtual Status RecordEvent(const EventWrite& event, bool* counted = nullptr) = 0;
  virtual Status RecordEvents(const std::vector<EventWrite>& events) = 0;  // bulk
  // Whether user has an engaged mark of type's kind on post iid: whether an
  // event of that type would count nothing. Invalid for a bad user id.
  virtual Result<bool> HasEngaged(std::string_view user, uint64_t iid, EventType type) const = 0;
  // Offline bulk path: the counters, seen marks and event log entries that
  // RecordEvents would write for `events` in order, aggregated into one
  // WriteBatch: one counter merge per (post, culture) counting each user
  // once per post and kind (as RecordEvent, also against stored marks), one
  // seen mark per (user, post) (hidden wins, also over a stored mark), one
  // engaged mark per (user, post, kind), one log entry per event. User
  // records are NOT written: the caller applies the events to
  // them (counters, vectors) and writes each once with PutUsers, so until
  // then a user may have events but no record. Validation first: Invalid for
  // a bad user id, type or culture; NotFound("post") when a post_iid is not a
  // live post; either way nothing is written.
  virtual Status ImportEvents(std::span<const ImportedEvent> events) = 0;
  // Marks posts as served to a user (FEED without PEEK).
  virtual Status MarkServed(std::string_view user, std::span<const uint64_t> iids,
                            int64_t ts) = 0;
  // Every seen mark of a user. A hidden mark is never overwritten by a later
  // served or viewed mark.
  virtual Result<std::vector<SeenMark>> GetSeen(std::string_view user) const = 0;
  virtual Result<uint64_t> CountEvents() const = 0;
  // The number of the newest event recorded (0 before any).
  virtual uint64_t LastEventNumber() const = 0;
  // Visits the event log at one point in time, grouped by user (users in
  // key order, each user's events oldest first); stop early by returning
  // false. Returns the newest event number at that point: every event
  // numbered up to it that still exists (USER.DEL removes some) was visited
  // unless fn stopped. Corruption for a damaged entry. Safe on a read-only store.
  virtual Result<uint64_t> ForEachEvent(
      const std::function<bool(std::string_view user, const LoggedEvent&)>& fn) const = 0;
  // Visits every user record at one point in time, in key order.
  virtual Status ForEachUser(const std::function<bool(const UserRecord&)>& fn) const = 0;
  // A user's event log in the order written (empty for an unknown user).
  // Invalid for a bad id; Corruption for a damaged entry.
  virtual Result<std::vector<StoredEvent>> GetEvents(std::string_view user) const = 0;

  // Atomic groups ----------------------------------------------------------
  // Applies ops in order, each seeing the ones before it, as ONE RocksDB
  // WriteBatch: after a crash either all of them are there or none. Same
  // validation and errors as the single calls; result[i] is ops[i]'s. An
  // I/O error writes nothing. Read-only stores: Invalid.
  virtual Result<std::vector<StoreOpResult>> Write(std::span<const StoreOp> ops,
                                                   const StoreWriteOptions& options) = 0;
  // The applied_log_seq of the last Write that had one (read at open); 0 if none.
  virtual uint64_t AppliedLogSeq() const = 0;

  // Maintenance ------------------------------------------------------------
  // Free-form meta values (e.g. index settings); keys starting "bf." are ours.
  // Keys starting "bf.store." belong to the store itself: PutMeta refuses
  // them with Invalid (GetMeta may read them).
  virtual Status PutMeta(std::string_view key, std::string_view value) = 0;
  virtual Result<std::optional<std::string>> GetMeta(std::string_view key) const = 0;
  // Syncs the WAL to disk now; a bulk_load store flushes its memtables.
  virtual Status Sync() = 0;
  // A consistent copy of the database in `dir` (RocksDB checkpoint).
  virtual Status Checkpoint(const std::string& dir) = 0;
  // read_only stores: catch up with the primary's latest writes.
  virtual Status CatchUp() = 0;
  // Bytes the database takes on disk.
  virtual uint64_t DiskBytes() const = 0;
  // Bytes RocksDB holds in memory. Thread-safe.
  virtual StoreMemory Memory() const { return {}; }
};

// Canonical form of a culture ("us" -> "US"). Invalid when it is not 1..16
// bytes of [A-Za-z0-9_-].
Result<std::string> CanonicalCulture(std::string_view culture);

}  // namespace bf
