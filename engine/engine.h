// Engine: the runtime facade the server calls. It owns the store (source of
// truth), the in-memory post columns, the ANN index and the ranker.
//
// Every method is thread-safe. Errors use the api.md codes (see Status).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "embeddings/status.h"
#include "embeddings/vector.h"
#include "engine/ranking/ranking_options.h"
#include "engine/store/store.h"
#include "index/ann_index.h"

namespace bf {

// COUNT of FEED and SIMILAR: 1 to kMaxCount.
inline constexpr int kMaxCount = 500;

// The engine's errors for a COUNT or an OPENNESS out of range; a parser in
// front of the engine gives the same for one that is not a number.
// Invalid "COUNT must be an integer from 1 to 500".
Status CountError();
// Invalid "OPENNESS must be a number from 0 to 1".
Status OpennessError();

struct EngineOptions {
  std::string data_dir = "./data";
  int dim = 64;
  FsyncPolicy fsync = FsyncPolicy::kEverysec;
  IndexOptions index;              // index.dim is set from dim
  RankingOptions ranking;
  int64_t snapshot_interval_s = 300;  // periodic index snapshot; 0 = never
};

struct UserUpdate {
  std::string id;
  std::optional<std::string> culture;
  std::optional<std::vector<std::string>> langs;
  std::optional<double> openness;  // 0 to 1; checked before it is stored as a float
  std::optional<Vector> vector;  // not yet normalised
};

struct PostInput {
  std::string id;
  std::string author;
  std::string culture;
  Vector vector;  // not yet normalised
  std::optional<std::string> lang;  // none when not given; if given, 1 to 16 bytes
  std::optional<int64_t> ts;  // default now
  std::vector<std::string> tags;
  std::string title;
};

struct PostInfo {
  PostRecord record;
  std::vector<CultureCounts> by_culture;
  int64_t impressions = 0, positives = 0, negatives = 0;
  double bridging = 0;
};

struct FeedRequest {
  std::string user;
  int count = 20;                 // 1..kMaxCount
  std::optional<double> openness; // request override
  bool peek = false;              // rank without recording
  bool explain = false;
};

struct FeedItem {
  std::string post;
  double score = 0;
  std::string culture;
  std::string author;
  std::string source;  // interest | cross | fresh | bridging
  double relevance = 0;
  double bridging = 0;
  double freshness = 0;
  std::string title;
};

struct IndexInfo {
  IndexStats stats;
  uint64_t snapshot_seq = 0;
  bool rebuilding = false;
  int64_t last_rebuild = 0;  // unix time, 0 = never
};

struct EngineCounters {
  uint64_t users = 0;
  uint64_t posts = 0;
  uint64_t disk_bytes = 0;
  uint64_t feed_requests = 0;
  // ANN searches FEED made (interest, cross, home) and the time they took:
  // what a FEED costs beyond its searches is the rest of its latency.
  uint64_t feed_searches = 0;
  uint64_t feed_search_usec = 0;
  uint64_t events = 0;
};

class Engine {
 public:
  // Opens the store, loads the latest index snapshot and catches up, or
  // rebuilds the index from the store. Errors as Store::Open, plus IOError
  // for an unreadable data dir.
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  virtual ~Engine() = default;

  virtual int dim() const = 0;

  virtual Status SetUser(const UserUpdate& update) = 0;
  virtual Result<std::optional<UserRecord>> GetUser(std::string_view id) const = 0;
  virtual Result<bool> DeleteUser(std::string_view id) = 0;

  // OK means durable and visible to Feed and Similar.
  virtual Status AddPost(PostInput post) = 0;
  virtual Result<std::optional<PostInfo>> GetPost(std::string_view id) const = 0;
  virtual Result<bool> DeletePost(std::string_view id) = 0;

  // NotFound("post") for an unknown post.
  virtual Status RecordEvent(std::string_view user, std::string_view post, EventType type,
                             std::optional<int64_t> ts) = 0;

  virtual Result<std::vector<FeedItem>> Feed(const FeedRequest& request) = 0;
  virtual Result<std::vector<std::string>> Similar(std::string_view post, int count,
                                                   bool cross) = 0;

  virtual IndexInfo GetIndexInfo() const = 0;
  // Busy when a rebuild is already running.
  virtual Status StartRebuild() = 0;
  virtual Status LoadIndex(const std::string& path) = 0;
  // Writes the index snapshot now.
  virtual Status Save() = 0;
  // Store checkpoint plus index snapshot into dir (new or empty).
  virtual Status Backup(const std::string& dir) = 0;
  virtual EngineCounters Counters() const = 0;
  // Writes the final snapshot and closes the store; later calls fail.
  virtual Status Close() = 0;
};


}  // namespace bf
