#include "engine/ranking/candidates.h"

#include <algorithm>
#include <cmath>
#include <mutex>

namespace bf {
namespace {

// A pool needs its own search when the interest hits hold fewer than this
// many times its slots: enough to choose from after MMR and the author cap.
constexpr int kPoolMargin = 3;

// Up to n eligible posts from a best-first list of (key, iid) pairs, skipping `taken`.
template <typename List>
void TakeEligible(const List& list, size_t n, const PostTable& table, const FeedQuery& query,
                  std::unordered_set<uint64_t>& taken, std::vector<uint64_t>* out) {
  for (auto it = list.begin(); it != list.end() && out->size() < n; ++it) {
    const uint64_t iid = it->second;
    if (Eligible(table, query, iid) && taken.insert(iid).second) out->push_back(iid);
  }
}

}  // namespace

int CrossSlots(double openness, int count) {
  return static_cast<int>(std::lround(std::clamp(openness, 0.0, 1.0) * count));
}

bool Eligible(const PostTable& table, const FeedQuery& query, uint64_t iid) {
  if (!table.IsLive(iid)) return false;
  if (query.exclude != nullptr && query.exclude->count(iid) != 0) return false;
  return table.Get(iid).author != query.own_author;
}

Result<Candidates> SearchCandidates(const FeedQuery& query, const RankingOptions& options,
                                    CandidateSearch& search, const PostTable& table,
                                    std::shared_mutex& table_mu) {
  Candidates c;
  if (query.user_vector.empty()) return c;
  AnnQuery ann;
  ann.vector = query.user_vector;
  ann.k = std::max(100, options.candidates_per_slot * query.count);
  ann.exclude = query.exclude;
  auto run = [&](CultureScope scope, std::vector<Match>* hits) {
    ann.scope = scope;
    ann.culture = query.user_culture;
    ++c.searches;
    return search.Search(ann, hits);
  };
  BF_RETURN_IF_ERROR(run(CultureScope::kAll, &c.interest));
  if (query.user_culture == kNoCulture) return c;

  // The interest hits usually hold enough of both pools for the page; a pool
  // that falls short (a user whose neighbourhood is all one culture) gets its
  // own culture-filtered search. Most FEEDs pay one search.
  const int cross_slots = CrossSlots(query.openness, query.count);
  const int home_slots = query.count - cross_slots;
  int cross_found = 0, home_found = 0;
  {
    std::shared_lock lock(table_mu);
    for (const Match& m : c.interest) {
      if (!table.IsLive(m.iid)) continue;
      (table.Get(m.iid).culture == query.user_culture ? home_found : cross_found) += 1;
    }
  }
  if (cross_slots > 0 && cross_found < kPoolMargin * cross_slots) {
    BF_RETURN_IF_ERROR(run(CultureScope::kExcept, &c.cross));
  }
  if (home_slots > 0 && home_found < kPoolMargin * home_slots) {
    BF_RETURN_IF_ERROR(run(CultureScope::kOnly, &c.home));
  }
  return c;
}

void AddListCandidates(const FeedQuery& query, const PostTable& table, Candidates* c) {
  const size_t n = static_cast<size_t>(std::max(50, 5 * query.count));
  std::unordered_set<uint64_t> taken;
  taken.reserve(c->interest.size() + c->home.size() + c->cross.size() + 2 * n);
  for (const auto* hits : {&c->interest, &c->home, &c->cross}) {
    for (const Match& m : *hits) taken.insert(m.iid);
  }
  TakeEligible(table.top_bridging(), n, table, query, taken, &c->bridging);
  TakeEligible(table.fresh(), n, table, query, taken, &c->fresh);
}

}  // namespace bf
