// Ranker: turns candidate posts into one feed page. Pure: it reads the post
// table and the candidates the engine retrieved, and decides nothing about
// storage. The caller holds the table's read lock.
//
// Steps (design.md "Serving path for FEED"): gather candidates (interest and
// cross from the ANN index, fresh and bridging from the table), drop the
// ineligible (deleted, excluded, own posts), score, then fill each slot
// greedily from the cross-cultural or home pool so the running cross share
// tracks the openness, picking within a pool by MMR under an author cap.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_set>
#include <vector>

#include "engine/ranking/post_table.h"
#include "engine/ranking/ranking_options.h"
#include "index/ann_index.h"

namespace bf {

enum Source : uint8_t { kSourceInterest = 1, kSourceCross = 2, kSourceBridging = 4, kSourceFresh = 8 };
// The name shown by EXPLAIN for the first source that found a post.
const char* SourceName(uint8_t sources);

struct RankInput {
  std::span<const float> user_vector;  // empty: cold start (no relevance)
  // Viewer's culture; nullopt: no culture, so no cross/home split.
  std::optional<uint16_t> user_culture;
  uint32_t own_author = UINT32_MAX;  // author code of the user's own posts
  const std::unordered_set<uint64_t>* exclude = nullptr;  // seen, hidden
  std::vector<Hit> interest;  // ANN over all posts
  std::vector<Hit> cross;     // ANN restricted to other cultures
  int count = 20;
  double openness = 0.3;
  int64_t now = 0;
};

struct Ranked {
  uint64_t iid = 0;
  uint8_t sources = 0;
  bool cross = false;
  double score = 0;
  double relevance = 0;
  double bridging = 0;
  double freshness = 0;
};

// Best first; fewer than input.count only when eligible posts run out.
std::vector<Ranked> RankFeed(const PostTable& table, const RankInput& input,
                             const RankingOptions& options);

}  // namespace bf
