// Offline ranking metrics over a temporal split, for any Recommender.
//   recall@K   hits / min(K, held-out items), averaged over users with any
//   ndcg@K     binary-relevance DCG over the ideal DCG of min(K, held-out)
//   coverage   distinct items recommended to anyone / items in the catalogue
//   ils        intra-list similarity: mean pairwise cosine of each list's
//              items under `similarity` (NaN without), averaged over users
//   cross      share of recommended items whose culture differs from the
//              user's, over users and items with a known culture (NaN when
//              there are none)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embeddings/learn/als.h"
#include "tools/eval/recommender.h"
#include "tools/eval/split.h"

namespace bf::eval {

struct Metrics {
  std::string name;
  int k = 0;
  int64_t users = 0;  // users evaluated (with held-out positives)
  double recall = 0;
  double ndcg = 0;
  double coverage = 0;
  double ils = 0;
  double cross = 0;
  double seconds = 0;
};

struct EvalSetup {
  const Split* split = nullptr;
  int32_t items = 0;                      // the catalogue's size
  int k = 20;
  const learn::Factors* similarity = nullptr;      // item vectors for ils; may be null
  const std::vector<std::string>* user_culture = nullptr;  // may be null or empty
  const std::vector<std::string>* item_culture = nullptr;
  int threads = 0;                        // 0: hardware concurrency
};

// Recommends k items to every user with held-out positives (excluding the
// items of their training events) and scores the lists.
Metrics Evaluate(const Recommender& r, const EvalSetup& setup);

// One user's recall and NDCG for a list against held-out items (ascending).
double RecallAtK(const std::vector<int32_t>& list, const std::vector<int32_t>& held_out, int k);
double NdcgAtK(const std::vector<int32_t>& list, const std::vector<int32_t>& held_out, int k);

}  // namespace bf::eval
