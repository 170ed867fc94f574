// Ranking settings: weights and constants of the FEED score, with defaults.
// Each is a config key of the same name (see docs/configuration.md).
// Plain values, checked by the server's config; the engine copies them at
// Open and never changes them, so they are read without locks.
#pragma once

#include <cstdint>

#include "embeddings/vector.h"

namespace bf {

struct RankingOptions {
  double w_rel = 1.0;        // weight of cosine(user, post)
  double w_bridge = 0.5;     // weight of the bridging score
  double w_fresh = 0.2;      // weight of exp(-age / fresh_tau_s)
  double fresh_tau_s = 3 * 86400.0;
  double bridge_a = 1.0;     // smoothing: (pos + a) / (imp + a + b)
  double bridge_b = 4.0;
  int64_t bridge_min_impressions = 5;  // a culture counts once it has this many
  double mmr_lambda = 0.9;   // lambda * score - (1 - lambda) * max sim to picked
                             // (0.9: chosen on MovieLens validation, docs/ranking.md)
  int max_per_author = 2;
  double default_openness = 0.3;
  int64_t seen_window_s = 7 * 86400;
  int candidates_per_slot = 10;  // ANN K = this * page size (at least 100)
  FeedbackRates feedback;
};

}  // namespace bf
