#include "engine/store/internal/rocks.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include "engine/store/internal/records.h"

namespace bf::internal {

const std::vector<std::string>& CfNames() {
  static const std::vector<std::string> names = {
      rocksdb::kDefaultColumnFamilyName, "meta", "posts", "post_ids", "stats",
      "users", "seen", "events", "engaged", "retired"};
  return names;
}

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  std::string msg(what);
  msg += ": ";
  msg += s.ToString();
  if (s.IsCorruption()) return Status::Corruption(std::move(msg));
  if (s.IsNotFound()) return Status::NotFound(std::move(msg));
  if (s.IsInvalidArgument() || s.IsNotSupported()) return Status::Invalid(std::move(msg));
  // Disk trouble, busy or timed out: a retry may succeed.
  if (s.IsIOError() || s.IsNoSpace() || s.IsBusy() || s.IsTryAgain() || s.IsTimedOut() ||
      s.IsIncomplete() || s.IsAborted())
    return Status::IOError(std::move(msg));
  return Status::Internal(std::move(msg));
}

namespace {

class CountersAdd : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* /*logger*/) const override {
    CultureCounts a, b;
    if (!DecodeCounts(std::string_view(value.data(), value.size()), &b).ok()) return false;
    if (existing != nullptr &&
        !DecodeCounts(std::string_view(existing->data(), existing->size()), &a).ok())
      return false;  // RocksDB reports a Corruption status to the reader
    *new_value = EncodeCounts(a.impressions + b.impressions, a.positives + b.positives,
                              a.negatives + b.negatives);
    return true;
  }
  const char* Name() const override { return "bf.CountersAdd"; }
};

// Associative: "last hidden mark, else last mark" gives the same answer
// however the operands are grouped.
class SeenMark : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* /*logger*/) const override {
    SeenKind next, prev;
    int64_t ts = 0;
    if (!DecodeSeen(std::string_view(value.data(), value.size()), &next, &ts).ok())
      return false;
    if (existing != nullptr) {
      const std::string_view old(existing->data(), existing->size());
      if (!DecodeSeen(old, &prev, &ts).ok()) return false;
      if (SeenKeepsOld(prev, next)) {
        new_value->assign(old);
        return true;
      }
    }
    new_value->assign(value.data(), value.size());
    return true;
  }
  const char* Name() const override { return "bf.SeenMark"; }
};

}  // namespace

std::shared_ptr<rocksdb::MergeOperator> NewCountersAddOperator() {
  return std::make_shared<CountersAdd>();
}

std::shared_ptr<rocksdb::MergeOperator> NewSeenMarkOperator() {
  return std::make_shared<SeenMark>();
}

rocksdb::DBOptions MakeDbOptions() {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  // Two cores are the norm here: one flush and one compaction at a time.
  o.IncreaseParallelism(2);
  o.max_background_jobs = 2;
  // All column families share one WAL; without a cap, a rarely written family
  // (meta, users) keeps old WAL files alive and restart replays them all.
  o.max_total_wal_size = 256ull << 20;
  // Memtables of all families together stay under this.
  o.db_write_buffer_size = 256ull << 20;
  // Smooth out writeback of new SST files instead of one big fsync.
  o.bytes_per_sync = 1 << 20;
  o.keep_log_file_num = 5;
  // WAL writes stay automatic (manual_wal_flush = false): a write() to the WAL
  // happens before a write is acknowledged, so a killed process loses nothing.
  return o;
}

std::vector<rocksdb::ColumnFamilyDescriptor> MakeColumnFamilies() {
  // One block cache for every family, so memory follows whichever is hot.
  static constexpr size_t kCacheBytes = 128ull << 20;
  auto cache = rocksdb::NewLRUCache(kCacheBytes);

  auto table = [&](bool bloom) {
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = cache;
    t.cache_index_and_filter_blocks = true;
    t.pin_l0_filter_and_index_blocks_in_cache = true;
    t.format_version = 5;
    // Bloom filters let point lookups of absent keys (new posts, seen checks,
    // new users) skip reading data blocks.
    if (bloom) t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    return rocksdb::NewBlockBasedTableFactory(t);
  };

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (int i = 0; i < kNumCf; ++i) {
    rocksdb::ColumnFamilyOptions o;
    // stats and events are read by scans only; the others by point lookups too.
    const bool point = i != kStats && i != kEvents;
    o.table_factory.reset(table(point));
    if (i == kStats) o.merge_operator = NewCountersAddOperator();
    if (i == kSeen) o.merge_operator = NewSeenMarkOperator();
    // Rarely written families need no large memtable.
    if (i == kDefault || i == kMeta) o.write_buffer_size = 4 << 20;
    cfs.emplace_back(CfNames()[i], o);
  }
  return cfs;
}

}  // namespace bf::internal
