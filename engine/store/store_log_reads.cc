// Whole-log reads for training (engine TRAIN, bridgefeed-train): the event
// log grouped by user, and every user record.
#include "engine/store/internal/store_impl.h"

namespace bf::internal {

Result<uint64_t> StoreImpl::ForEachEvent(
    const std::function<bool(std::string_view, const LoggedEvent&)>& fn) const {
  Snap snap(db_, !read_only_);
  // The counters at the same point in time say which numbers it covers.
  auto raw = Get(kMeta, kMetaCounters, snap.get());
  if (!raw.ok()) return raw.status();
  Counters counters;
  if (raw->has_value()) BF_RETURN_IF_ERROR(DecodeCounters(**raw, &counters));
  rocksdb::ReadOptions ro;
  ro.snapshot = snap.get();
  ro.readahead_size = 2 << 20;
  ro.fill_cache = false;  // one pass; keep the block cache for serving
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(kEvents)));
  std::string user;
  LoggedEvent ev;
  EventEntry entry;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view raw_key = ToView(it->key());
    Reader key(raw_key);  // UserPrefix(user), then the number big-endian
    if (!key.Str(&user) || key.remaining() != 8) return Status::Corruption("damaged event key");
    ev.number = DecodeBigEndian64(raw_key.substr(raw_key.size() - 8));
    BF_RETURN_IF_ERROR(DecodeEvent(ToView(it->value()), &entry));
    ev.post_iid = entry.post_iid;
    ev.post_id = std::move(entry.post_id);
    ev.type = entry.type;
    ev.ts = entry.ts;
    if (!fn(user, ev)) break;
  }
  BF_RETURN_IF_ERROR(FromRocks(it->status(), "scan events"));
  return counters.next_event - 1;
}

Status StoreImpl::ForEachUser(const std::function<bool(const UserRecord&)>& fn) const {
  Snap snap(db_, !read_only_);
  rocksdb::ReadOptions ro;
  ro.snapshot = snap.get();
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(kUsers)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    UserRecord u;
    BF_RETURN_IF_ERROR(DecodeUser(ToView(it->value()), &u));
    if (!fn(u)) return Status::OK();
  }
  return FromRocks(it->status(), "scan users");
}

}  // namespace bf::internal
