#include "embeddings/learn/interactions.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace bf::learn {

Status CheckConfidenceOptions(const ConfidenceOptions& options) {
  for (int k = 0; k < kEventKinds; ++k) {
    const float w = options.weight[k];
    if (!std::isfinite(w) || w < 0) {
      return Status::Invalid("confidence weight of event kind " + std::to_string(k) +
                             " must be a finite number >= 0");
    }
  }
  if (!std::isfinite(options.half_life_s) || options.half_life_s < 0) {
    return Status::Invalid("half-life must be a finite number of seconds >= 0");
  }
  return Status::OK();
}

double DecayWeight(const ConfidenceOptions& options, int64_t now, int64_t ts) {
  if (options.half_life_s <= 0) return 1.0;
  const double age = ts >= now ? 0.0 : static_cast<double>(now - ts);
  return std::exp2(-age / options.half_life_s);
}

Result<FeedbackMatrix> BuildFeedbackMatrix(int32_t users, int32_t items,
                                           std::span<const Interaction> interactions,
                                           const ConfidenceOptions& options) {
  if (users < 0 || items < 0) return Status::Invalid("users and items must be >= 0");
  if (interactions.size() >= (size_t{1} << 32)) {
    return Status::Invalid("at most 2^32 - 1 interactions per matrix");
  }
  BF_RETURN_IF_ERROR(CheckConfidenceOptions(options));
  int64_t now = options.now;
  for (size_t n = 0; n < interactions.size(); ++n) {
    const Interaction& e = interactions[n];
    if (e.user < 0 || e.user >= users) {
      return Status::Invalid("interaction " + std::to_string(n) + ": user " +
                             std::to_string(e.user) + " out of range [0, " +
                             std::to_string(users) + ")");
    }
    if (e.item < 0 || e.item >= items) {
      return Status::Invalid("interaction " + std::to_string(n) + ": item " +
                             std::to_string(e.item) + " out of range [0, " +
                             std::to_string(items) + ")");
    }
    if (static_cast<int>(e.kind) >= kEventKinds) {
      return Status::Invalid("interaction " + std::to_string(n) + ": unknown event kind");
    }
    if (options.now == 0) now = std::max(now, e.ts);
  }

  // Counting sort by user, then by item within each user: O(n) plus small sorts.
  std::vector<int64_t> start(static_cast<size_t>(users) + 1, 0);
  for (const Interaction& e : interactions) ++start[e.user + 1];
  for (int32_t u = 0; u < users; ++u) start[u + 1] += start[u];
  std::vector<int64_t> fill(start.begin(), start.end() - 1);
  std::vector<uint32_t> order(interactions.size());
  for (size_t n = 0; n < interactions.size(); ++n) {
    order[fill[interactions[n].user]++] = static_cast<uint32_t>(n);
  }

  FeedbackMatrix m;
  m.users = users;
  m.items = items;
  m.user_start.assign(static_cast<size_t>(users) + 1, 0);
  m.user_cells.reserve(interactions.size());
  for (int32_t u = 0; u < users; ++u) {
    auto first = order.begin() + start[u], last = order.begin() + start[u + 1];
    std::sort(first, last, [&](uint32_t a, uint32_t b) {
      return interactions[a].item != interactions[b].item
                 ? interactions[a].item < interactions[b].item
                 : a < b;
    });
    for (auto it = first; it != last;) {
      const int32_t item = interactions[*it].item;
      double pos = 0, neg = 0;
      for (; it != last && interactions[*it].item == item; ++it) {
        const Interaction& e = interactions[*it];
        const double w = options.weight[static_cast<int>(e.kind)] * DecayWeight(options, now, e.ts);
        (IsNegativeKind(e.kind) ? neg : pos) += w;
      }
      m.user_cells.push_back(MakeCell(item, pos, neg));
    }
    m.user_start[u + 1] = static_cast<int64_t>(m.user_cells.size());
  }

  // The item view: a counting sort of the cells by item (users stay ascending).
  m.item_start.assign(static_cast<size_t>(items) + 1, 0);
  for (const Cell& c : m.user_cells) ++m.item_start[c.col + 1];
  for (int32_t i = 0; i < items; ++i) m.item_start[i + 1] += m.item_start[i];
  m.item_cells.resize(m.user_cells.size());
  std::vector<int64_t> pos(m.item_start.begin(), m.item_start.end() - 1);
  for (int32_t u = 0; u < users; ++u) {
    for (const Cell& c : m.UserRow(u)) {
      Cell t = c;
      t.col = u;
      m.item_cells[pos[c.col]++] = t;
    }
  }
  return m;
}

}  // namespace bf::learn
