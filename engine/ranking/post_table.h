// PostTable: the in-memory columns the ranker touches per candidate
// (culture, author, time, counters, bridging score, vector), indexed by the
// store's internal post id. RocksDB stays the source of truth; this table is
// rebuilt from it on start.
//
// Errors: none are returned. Lookups of unknown ids answer "absent"
// (nullopt, false, kNoAuthor); a broken precondition (a vector of the wrong
// size) aborts with BF_CHECK.
// Thread safety: not thread-safe. Const methods may run concurrently with
// each other; any non-const call needs exclusive access (the engine holds a
// reader/writer lock). References and spans it returns stay valid until the
// next non-const call.
// Ownership: the table copies what it is given; it holds no pointers in.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/store/store.h"

namespace bf {

// Author code of a name no post has.
inline constexpr uint32_t kNoAuthor = std::numeric_limits<uint32_t>::max();

struct BridgingParams {
  double a = 1.0;  // smoothing: (pos + a) / (imp + a + b)
  double b = 4.0;
  int64_t min_impressions = 5;
};

struct CultureStat {
  uint16_t culture = kNoCulture;
  int64_t impressions = 0;
  int64_t positives = 0;
  int64_t negatives = 0;
};

// Fields ordered widest first: no padding (88 bytes, not 96).
struct PostEntry {
  std::string id;
  std::vector<CultureStat> stats;  // one per viewer culture seen
  int64_t ts = 0;
  uint64_t seq = 0;
  uint32_t author = 0;
  float norm = 0;  // of its vector; 0 without one
  float bridging = 0;
  uint16_t culture = 0;
  bool live = false;
  bool has_vector = false;  // false: zeros in the vector column, not in the index
};

// The bridging score of a post: for each culture with at least
// min_impressions impressions, a smoothed positive rate (pos + a) /
// (imp + a + b); the minimum over those cultures when there are at least
// two, else 0. Viewers without a culture do not form a group.
double BridgingScore(std::span<const CultureStat> stats, const BridgingParams& params);

// Heap bytes of the table (INFO memory), from its containers' sizes.
struct PostTableMemory {
  // The vector column: slots reserved x dim x 4 (zeros for posts without a
  // vector and deleted slots included).
  uint64_t vectors = 0;
  // Everything else: entries, their ids and counters, the id and author
  // maps, the newest-first and bridging sets.
  uint64_t entries = 0;
};

class PostTable {
 public:
  PostTable(int dim, BridgingParams params);

  // Inserts or replaces a post. REQUIRES: record.vector has dim components
  // or is empty (a post without a vector: its column holds zeros).
  void Upsert(const PostRecord& record);
  // Replaces the vector of a live post (a learned factor, a prior); an empty
  // span leaves it without one. false when iid is not live. REQUIRES: v is
  // empty or has dim components.
  bool SetVector(uint64_t iid, std::span<const float> v);
  // Marks iid deleted. false when it was not live.
  bool Remove(uint64_t iid);
  // A bulk load (the engine's start): Upserts between BeginBulk and EndBulk
  // queue their newest-first entries, and EndBulk inserts them in order,
  // each at the end of its set, instead of one tree search per post.
  // expected: posts coming, for the id map. fresh() is incomplete until EndBulk.
  void BeginBulk(size_t expected);
  void EndBulk();
  // Adds counter deltas from one viewer culture and refreshes the bridging
  // score. Ignored for a post that is not live.
  void AddStats(uint64_t iid, uint16_t viewer_culture, int64_t impressions, int64_t positives,
                int64_t negatives);
  // Replaces a post's counters wholesale (loading from the store).
  void SetStats(uint64_t iid, uint16_t viewer_culture, const CultureCounts& counts);

  bool IsLive(uint64_t iid) const { return iid < posts_.size() && posts_[iid].live; }
  // REQUIRES: IsLive(iid) or a slot that once held a post.
  const PostEntry& Get(uint64_t iid) const { return posts_[iid]; }
  // Zeros for a post without a vector.
  std::span<const float> VectorOf(uint64_t iid) const {
    return {vectors_.data() + iid * static_cast<size_t>(dim_), static_cast<size_t>(dim_)};
  }
  // Cosine of two posts' vectors; 0 when either has none (MMR and the
  // diversity terms treat a post without a vector as dissimilar).
  double Cosine(uint64_t a, uint64_t b) const;
  // Internal id of a live post.
  std::optional<uint64_t> Find(std::string_view id) const;
  // Author code for a name, or kNoAuthor when no post has that author.
  uint32_t FindAuthor(std::string_view author) const;
  const std::string& AuthorName(uint32_t code) const { return authors_[code]; }

  int64_t live() const { return live_; }

  // Newest first: (ts, iid), and highest bridging first: (score, iid).
  // One newest-first set for every culture: a culture's newest posts are
  // read from it by skipping the others (a set per culture cost another
  // 64 bytes per post).
  using FreshSet = std::set<std::pair<int64_t, uint64_t>, std::greater<>>;
  using BridgeSet = std::set<std::pair<float, uint64_t>, std::greater<>>;
  const FreshSet& fresh() const { return fresh_; }
  // Live posts of a culture (0 for an unknown code).
  int64_t live_of(uint16_t culture) const {
    return culture < live_by_culture_.size() ? live_by_culture_[culture] : 0;
  }
  const BridgeSet& top_bridging() const { return bridging_; }

  PostTableMemory Memory() const;  // O(authors + cultures): the rest is counted as it changes

  // Visits every live post: (iid, entry, vector); entry.has_vector says
  // whether the vector is real (else zeros).
  void ForEachLive(
      const std::function<void(uint64_t, const PostEntry&, std::span<const float>)>& fn) const;

 private:
  void SetBridging(uint64_t iid, float score);
  // The entry's counters for a viewer culture, added when missing.
  CultureStat& StatOf(PostEntry& e, uint16_t viewer_culture);
  // by_id_ changes, keeping heap_ in step.
  void MapId(const std::string& id, uint64_t iid);
  void UnmapId(const std::string& id);
  void CountLive(uint16_t culture, int64_t delta);

  const int dim_;
  const BridgingParams params_;
  std::vector<PostEntry> posts_;
  std::vector<float> vectors_;
  std::unordered_map<std::string, uint64_t> by_id_;
  std::unordered_map<std::string, uint32_t> author_codes_;
  std::vector<std::string> authors_;
  FreshSet fresh_;
  std::vector<int64_t> live_by_culture_;  // by culture code
  BridgeSet bridging_;  // only posts with a score above 0
  int64_t live_ = 0;
  // Heap bytes of the id strings (entries' and by_id_'s keys) and counter
  // arrays, kept as they change so Memory() need not walk every post.
  uint64_t heap_ = 0;
  bool bulk_ = false;
  std::vector<std::pair<int64_t, uint64_t>> pending_;  // (ts, iid) queued by a bulk load
  void FlushPending();
};

}  // namespace bf
