// The temporal split: each user's events sorted by time; the earlier share
// trains, and the items the user reacted positively to (LIKE SAVE SHARE
// COMMENT) in the later part, and never in the earlier one, are held out.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "embeddings/learn/interactions.h"

namespace bf::eval {

struct Split {
  std::vector<learn::Interaction> train;
  // Per user, the held-out positive items, ascending; empty for users with none.
  std::vector<std::vector<int32_t>> held_out;
  // Per user, the items of its training events, ascending (excluded when ranking).
  std::vector<std::vector<int32_t>> seen;
  int64_t held_out_users() const;
};

// REQUIRES: 0 < train_share <= 1; every event's user in [0, users).
// A user with n events keeps ceil(train_share * n) of them for training;
// ties in time keep the input order.
Split TemporalSplit(std::span<const learn::Interaction> events, int32_t users,
                    double train_share);

inline bool IsPositiveKind(learn::EventKind k) {
  return k == learn::EventKind::kLike || k == learn::EventKind::kSave ||
         k == learn::EventKind::kShare || k == learn::EventKind::kComment;
}

}  // namespace bf::eval
