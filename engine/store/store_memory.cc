// StoreImpl::Memory: RocksDB's own accounting of what it holds in memory.
#include "engine/store/internal/store_impl.h"

namespace bf::internal {

StoreMemory StoreImpl::Memory() const {
  StoreMemory m;
  if (db_ == nullptr) return m;
  auto sum = [&](const std::string& property) {
    uint64_t v = 0;
    return db_->GetAggregatedIntProperty(property, &v) ? v : 0;
  };
  // Per family: the block cache is one cache shared by every family, so
  // summing over families would count it once per family.
  auto one = [&](Cf c, const std::string& property) {
    uint64_t v = 0;
    return db_->GetIntProperty(cf(c), property, &v) ? v : 0;
  };
  m.memtables = sum(rocksdb::DB::Properties::kCurSizeAllMemTables);
  m.table_readers = sum(rocksdb::DB::Properties::kEstimateTableReadersMem);
  m.block_cache = one(kPosts, rocksdb::DB::Properties::kBlockCacheUsage);
  m.block_cache_pinned = one(kPosts, rocksdb::DB::Properties::kBlockCachePinnedUsage);
  m.seen_memtables = one(kSeen, rocksdb::DB::Properties::kCurSizeAllMemTables) +
                     one(kEngaged, rocksdb::DB::Properties::kCurSizeAllMemTables);
  return m;
}

}  // namespace bf::internal
