#include "engine/ranking/candidates.h"

#include <algorithm>
#include <cmath>

namespace bf {
namespace {

// A pool needs its own walk when the interest search's lists hold fewer than
// this many times its slots: enough to choose from after MMR and the author cap.
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
                                    CandidateSearch& search) {
  Candidates c;
  if (query.user_vector.empty()) return c;
  AnnQuery ann;
  ann.vector = query.user_vector;
  ann.exclude = query.exclude;
  ann.interest_k = std::max(100, options.candidates_per_slot * query.count);
  if (query.user_culture != kNoCulture) {
    // Each pool as deep as the interest list; taken from the interest
    // walk's lists when they hold enough to choose from after MMR and the
    // author cap, searched on its own only when short.
    const int cross_slots = CrossSlots(query.openness, query.count);
    const int home_slots = query.count - cross_slots;
    ann.culture = query.user_culture;
    ann.home_k = home_slots > 0 ? ann.interest_k : 0;
    ann.cross_k = cross_slots > 0 ? ann.interest_k : 0;
    ann.home_min = kPoolMargin * home_slots;
    ann.cross_min = kPoolMargin * cross_slots;
  }
  AnnHits hits;
  c.searches = 1;
  BF_RETURN_IF_ERROR(search.Search(ann, &hits));
  c.interest = std::move(hits.interest);
  c.home = std::move(hits.home);
  c.cross = std::move(hits.cross);
  c.passes = hits.passes;
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
