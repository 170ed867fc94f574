// Ranker: turns a FEED's candidates into one page. Pure: it reads the post
// table and the candidates (candidates.h), and decides nothing about storage.
//
// Steps (design.md "Serving path for FEED"): drop the ineligible (deleted,
// excluded, own posts), score, then fill each slot greedily from the
// cross-cultural or home pool so the running cross share tracks the
// openness, picking within a pool by MMR under an author cap. A pool that
// runs dry while the share still wants it is widened from the table's fresh
// lists; a page is short only when eligible posts run out.
//
// Thread safety: REQUIRES the table read-locked for the whole call; calls
// on different tables or under a shared lock may run concurrently.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/ranking/candidates.h"
#include "engine/ranking/post_table.h"
#include "engine/ranking/ranking_options.h"

namespace bf {

enum Source : uint8_t {
  kSourceInterest = 1,
  kSourceHome = 2,
  kSourceCross = 4,
  kSourceBridging = 8,
  kSourceFresh = 16,
};
// The name EXPLAIN shows, by priority: interest, home, cross, bridging, fresh.
const char* SourceName(uint8_t sources);

struct Ranked {
  uint64_t iid = 0;
  uint8_t sources = 0;
  bool cross = false;
  double score = 0;
  double relevance = 0;
  double bridging = 0;
  double freshness = 0;
};

// Best first; fewer than query.count only when eligible posts run out.
std::vector<Ranked> RankFeed(const PostTable& table, const FeedQuery& query,
                             const Candidates& candidates, const RankingOptions& options);

}  // namespace bf
