// Small worlds for the learning tests: users and items in groups, users
// liking items of their own group.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "embeddings/learn/interactions.h"

namespace bf::learn::testing {

struct GroupWorld {
  int32_t users = 0;
  int32_t items = 0;
  int groups = 0;
  std::vector<Interaction> train;
  std::vector<std::pair<int32_t, int32_t>> held_out;  // (user, item) in-group, not trained
  int GroupOfUser(int32_t u) const { return u % groups; }
  int GroupOfItem(int32_t i) const { return i % groups; }
};

// Each user LIKEs each item of their group with probability `density`; a
// `held_out` share of those likes is kept out of training.
inline GroupWorld MakeGroupWorld(int32_t users, int32_t items, int groups, double density,
                                 double held_out, uint64_t seed) {
  GroupWorld w;
  w.users = users;
  w.items = items;
  w.groups = groups;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u01(0, 1);
  int64_t ts = 1'700'000'000;
  for (int32_t u = 0; u < users; ++u) {
    for (int32_t i = 0; i < items; ++i) {
      if (w.GroupOfItem(i) != w.GroupOfUser(u) || u01(rng) >= density) continue;
      if (u01(rng) < held_out) {
        w.held_out.emplace_back(u, i);
      } else {
        w.train.push_back({u, i, EventKind::kLike, ts++});
      }
    }
  }
  return w;
}

}  // namespace bf::learn::testing
