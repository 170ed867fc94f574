#include "engine/index_from_store.h"

#include <algorithm>
#include <utility>

#include "engine/store/layout.h"

namespace bf {

std::string IndexSpecFor(const Store& store, const std::string& requested) {
  if (!requested.empty()) return requested;
  auto meta = store.GetMeta(kIndexSpecMetaKey);
  return meta.ok() && meta->has_value() ? **meta : "auto";
}

Result<IndexBuilder> ReadStoredPosts(const Store& store, IndexOptions options,
                                     const Progress& read) {
  options.dim = store.dim();
  options.spec = IndexSpecFor(store, options.spec);
  // Taken before the scan: the rows hold at least every write up to it.
  IndexBuilder builder(std::move(options), SnapshotStamp{store.db_id(), store.LastSequence()});
  const auto count = store.CountPosts();
  if (!count.ok()) return count.status();
  const auto total = static_cast<int64_t>(*count);
  builder.Reserve(total);
  int64_t reported = -1;
  BF_RETURN_IF_ERROR(store.ForEachPost([&](const PostRecord& p) {
    if (!p.vector.empty()) builder.Add(p.iid, p.culture_code, p.vector);
    if (read) {
      reported = std::min(builder.size(), total);
      read(reported, total);
    }
    return true;
  }));
  if (read && builder.size() > 0 && (reported != builder.size() || total != builder.size())) {
    read(builder.size(), builder.size());
  }
  return builder;
}

}  // namespace bf
