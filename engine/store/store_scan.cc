// Store: SCAN's walk over post and user ids in key order.
#include "engine/store/internal/store_impl.h"

namespace bf::internal {

Result<std::vector<std::string>> StoreImpl::ScanIds(IdKind kind, std::string_view after,
                                                    size_t limit) const {
  rocksdb::ReadOptions ro;  // the iterator reads one implicit snapshot
  ro.fill_cache = false;    // a tool's walk; keep the block cache for serving
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(ro, cf(kind == IdKind::kPost ? kPosts : kUsers)));
  std::vector<std::string> out;
  if (limit == 0) return out;
  if (after.empty()) {
    it->SeekToFirst();
  } else {
    it->Seek(rocksdb::Slice(after.data(), after.size()));
    if (it->Valid() && ToView(it->key()) == after) it->Next();
  }
  for (; it->Valid() && out.size() < limit; it->Next()) out.emplace_back(ToView(it->key()));
  BF_RETURN_IF_ERROR(FromRocks(it->status(), "scan ids"));
  return out;
}

}  // namespace bf::internal
