#include "tools/eval/split.h"

#include <algorithm>
#include <cmath>

namespace bf::eval {

int64_t Split::held_out_users() const {
  int64_t n = 0;
  for (const auto& h : held_out) n += h.empty() ? 0 : 1;
  return n;
}

Split TemporalSplit(std::span<const learn::Interaction> events, int32_t users,
                    double train_share) {
  std::vector<std::vector<uint32_t>> by_user(static_cast<size_t>(users));
  for (uint32_t k = 0; k < events.size(); ++k) by_user[events[k].user].push_back(k);
  Split s;
  s.held_out.resize(static_cast<size_t>(users));
  s.seen.resize(static_cast<size_t>(users));
  for (int32_t u = 0; u < users; ++u) {
    std::vector<uint32_t>& mine = by_user[u];
    std::stable_sort(mine.begin(), mine.end(),
                     [&](uint32_t a, uint32_t b) { return events[a].ts < events[b].ts; });
    const auto cut = static_cast<size_t>(std::ceil(train_share * static_cast<double>(mine.size()) - 1e-9));
    for (size_t k = 0; k < mine.size(); ++k) {
      const learn::Interaction& e = events[mine[k]];
      if (k < cut) {
        s.train.push_back(e);
        s.seen[u].push_back(e.item);
      } else if (IsPositiveKind(e.kind)) {
        s.held_out[u].push_back(e.item);
      }
    }
    for (auto* v : {&s.seen[u], &s.held_out[u]}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    std::erase_if(s.held_out[u], [&](int32_t item) {
      return std::binary_search(s.seen[u].begin(), s.seen[u].end(), item);
    });
  }
  return s;
}

}  // namespace bf::eval
