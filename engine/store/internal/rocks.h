// RocksDB plumbing for the store: column family layout, tuned options, the
// stats merge operator, and the translation of rocksdb::Status into bf::Status.
// Only engine/store.cc includes this header.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>

#include "embeddings/status.h"

namespace bf::internal {

// Order of the column family handles the store keeps (index into its array).
enum Cf : int {
  kDefault = 0, kMeta, kPosts, kPostIds, kStats, kUsers, kSeen, kEvents,
  kEngaged,  // user + iid + engagement kind -> ts of the latest such event
  kRetired,  // post id -> internal id of a deleted post (a re-add takes it back)
  kNumCf
};

// Names, in Cf order ("default" first, as RocksDB requires it to exist).
const std::vector<std::string>& CfNames();

// Translates at the edge, once: `what` says what we were doing ("put post").
Status FromRocks(const rocksdb::Status& s, std::string_view what);

// Adds 24-byte values of three little-endian int64 counters.
std::shared_ptr<rocksdb::MergeOperator> NewCountersAddOperator();
// Seen marks: the later mark wins unless it would replace a hidden one
// (SeenKeepsOld), so the result is the last hidden mark, else the last mark.
std::shared_ptr<rocksdb::MergeOperator> NewSeenMarkOperator();

// Options for a serving workload; see rocks.cc for the reasons.
rocksdb::DBOptions MakeDbOptions();
std::vector<rocksdb::ColumnFamilyDescriptor> MakeColumnFamilies();

}  // namespace bf::internal
