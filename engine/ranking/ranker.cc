#include "engine/ranking/ranker.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "embeddings/vector.h"

namespace bf {
namespace {

struct Cand {
  Ranked r;
  uint32_t author = 0;
  float max_sim = 0;    // to the posts picked so far (MMR); never below 0
  uint32_t sims_done = 0;  // how many picked posts max_sim covers
  bool taken = false;
};

class FeedBuilder {
 public:
  FeedBuilder(const PostTable& table, const FeedQuery& in, const RankingOptions& opt)
      : table_(table), in_(in), opt_(opt), fresh_it_(table.fresh().begin()),
        home_it_(table.fresh().begin()) {}

  std::vector<Ranked> Run(const Candidates& c) {
    for (const Match& m : c.interest) Add(m.iid, kSourceInterest, m.score, true);
    for (const Match& m : c.home) Add(m.iid, kSourceHome, m.score, true);
    for (const Match& m : c.cross) Add(m.iid, kSourceCross, m.score, true);
    for (uint64_t iid : c.bridging) Add(iid, kSourceBridging, 0, false);
    for (uint64_t iid : c.fresh) Add(iid, kSourceFresh, 0, false);

    const bool split = in_.user_culture != kNoCulture;
    const int target_cross = split ? CrossSlots(in_.openness, in_.count) : 0;
    for (;;) {
      std::vector<Ranked> page = Select(split, target_cross);
      if (!cross_dry_ && !home_dry_) return page;
      // A pool ran dry while it was wanted: widen it from the fresh list.
      const size_t want = static_cast<size_t>(2 * in_.count);
      if (PullFresh(cross_dry_ ? want : 0, home_dry_ ? want : 0) == 0) return page;
    }
  }

 private:
  bool IsCross(const PostEntry& e) const {
    return in_.user_culture != kNoCulture && e.culture != in_.user_culture;
  }

  // Adds or merges a candidate; true when it is new and eligible.
  bool Add(uint64_t iid, uint8_t source, float ann_score, bool has_score) {
    auto it = index_.find(iid);
    if (it != index_.end()) {
      cands_[it->second].r.sources |= source;
      return false;
    }
    if (!Eligible(table_, in_, iid)) return false;
    const PostEntry& e = table_.Get(iid);
    Cand c;
    c.r.iid = iid;
    c.r.sources = source;
    c.r.cross = IsCross(e);
    c.author = e.author;
    if (has_score) {
      c.r.relevance = ann_score;
    } else if (!in_.user_vector.empty()) {
      c.r.relevance = Dot(in_.user_vector, table_.VectorOf(iid));
    }
    c.r.bridging = e.bridging;
    const double age = static_cast<double>(std::max<int64_t>(0, in_.now - e.ts));
    c.r.freshness = std::exp(-age / std::max(1.0, opt_.fresh_tau_s));
    c.r.score = opt_.w_rel * c.r.relevance + opt_.w_bridge * c.r.bridging +
                opt_.w_fresh * c.r.freshness;
    index_.emplace(iid, cands_.size());
    cands_.push_back(c);
    return true;
  }

  // The newest eligible posts of any culture not yet candidates.
  void PullNewest(size_t n) {
    const auto end = table_.fresh().end();
    for (size_t got = 0; fresh_it_ != end && got < n; ++fresh_it_) {
      if (Add(fresh_it_->second, kSourceFresh, 0, false)) ++got;
    }
  }

  // Widens the pools from the fresh lists: up to `cross` more cross-cultural
  // and `home` more home posts. Returns how many were added.
  size_t PullFresh(size_t cross, size_t home) {
    size_t added = 0;
    if (in_.user_culture == kNoCulture) {
      const size_t before = cands_.size();
      PullNewest(home);
      return cands_.size() - before;
    }
    const uint16_t mine = in_.user_culture;
    // Skip the scan when the culture has no live post.
    if (home > 0 && table_.live_of(mine) > 0) {
      const auto end = table_.fresh().end();
      for (size_t got = 0; home_it_ != end && got < home; ++home_it_) {
        if (table_.Get(home_it_->second).culture != mine) continue;
        if (Add(home_it_->second, kSourceFresh, 0, false)) ++got, ++added;
      }
    }
    // Skip the scan when every live post is a home post.
    if (cross > 0 && table_.live() > table_.live_of(mine)) {
      const auto end = table_.fresh().end();
      for (size_t got = 0; fresh_it_ != end && got < cross; ++fresh_it_) {
        if (table_.Get(fresh_it_->second).culture == mine) continue;
        if (Add(fresh_it_->second, kSourceFresh, 0, false)) ++got, ++added;
      }
    }
    return added;
  }

  // Greedy slot filling; sets cross_dry_/home_dry_ when a wanted pool was
  // empty, so the caller can widen it and try again.
  std::vector<Ranked> Select(bool split, int target_cross) {
    cross_dry_ = home_dry_ = false;
    for (Cand& c : cands_) {
      c.taken = false;
      c.max_sim = 0;
      c.sims_done = 0;
    }
    picked_.clear();
    std::vector<size_t> pool_cross, pool_home;
    for (size_t i = 0; i < cands_.size(); ++i) {
      (cands_[i].r.cross ? pool_cross : pool_home).push_back(i);
    }
    // Best score first, so Best() can stop once no later candidate can win.
    auto by_score = [this](size_t a, size_t b) {
      if (cands_[a].r.score != cands_[b].r.score) return cands_[a].r.score > cands_[b].r.score;
      return cands_[a].r.iid < cands_[b].r.iid;
    };
    std::sort(pool_cross.begin(), pool_cross.end(), by_score);
    std::sort(pool_home.begin(), pool_home.end(), by_score);
    std::unordered_map<uint32_t, int> per_author;
    std::vector<Ranked> page;
    int picked_cross = 0;
    const double lambda = opt_.mmr_lambda;
    const double o = std::clamp(in_.openness, 0.0, 1.0);
    const int n = in_.count;
    for (int slot = 1; slot <= n; ++slot) {
      // After this slot the page should hold between floor(o * slot) and
      // ceil(o * slot) cross-cultural posts, and still be able to end at
      // exactly target_cross. Within that band the better post wins.
      const int lo = std::max(static_cast<int>(std::floor(o * slot)), target_cross - (n - slot));
      const int hi = std::min(static_cast<int>(std::ceil(o * slot)), target_cross);
      const bool may_cross = !split || picked_cross + 1 <= hi;
      const bool may_home = !split || picked_cross >= lo;
      std::optional<Pick> best;
      if (may_cross) best = Best(pool_cross, per_author, lambda);
      if (may_home) {
        auto home = Best(pool_home, per_author, lambda);
        if (home && (!best || home->value > best->value)) best = home;
      }
      if (!best) {
        // The pool the share calls for is empty: note it, take the other.
        if (may_cross && !may_home) cross_dry_ = true;
        if (may_home && !may_cross) home_dry_ = true;
        if (may_home && may_cross) home_dry_ = cross_dry_ = true;
        if (!may_cross) best = Best(pool_cross, per_author, lambda);
        if (!may_home) best = Best(pool_home, per_author, lambda);
      }
      if (!best) break;
      Cand& c = cands_[best->index];
      c.taken = true;
      per_author[c.author]++;
      if (c.r.cross) ++picked_cross;
      page.push_back(c.r);
      picked_.push_back(c.r.iid);
    }
    // Nothing is missing when the page is full and the share is right.
    if (static_cast<int>(page.size()) == in_.count && (!split || picked_cross == target_cross)) {
      cross_dry_ = home_dry_ = false;
    }
    return page;
  }

  // The MMR pick of a pool sorted by score. max_sim is never below 0, so a
  // candidate's value is at most lambda * score: the scan stops once that
  // cannot beat the best so far, and similarities are computed lazily for
  // the few candidates actually considered.
  struct Pick {
    size_t index;
    double value;
  };
  std::optional<Pick> Best(const std::vector<size_t>& pool,
                           const std::unordered_map<uint32_t, int>& per_author, double lambda) {
    std::optional<size_t> best;
    double best_value = 0;
    for (size_t i : pool) {
      Cand& c = cands_[i];
      if (c.taken) continue;
      if (best && lambda * c.r.score <= best_value) break;
      auto a = per_author.find(c.author);
      if (a != per_author.end() && a->second >= opt_.max_per_author) continue;
      // Cosine whatever the metric: diversity is about direction, not norm.
      for (; c.sims_done < picked_.size(); ++c.sims_done) {
        c.max_sim = std::max(c.max_sim, static_cast<float>(table_.Cosine(c.r.iid, picked_[c.sims_done])));
      }
      const double value = lambda * c.r.score - (1.0 - lambda) * c.max_sim;
      if (!best || value > best_value) {
        best = i;
        best_value = value;
      }
    }
    if (!best) return std::nullopt;
    return Pick{*best, best_value};
  }

  const PostTable& table_;
  const FeedQuery& in_;
  const RankingOptions& opt_;
  PostTable::FreshSet::const_iterator fresh_it_;
  PostTable::FreshSet::const_iterator home_it_;  // the home posts' own walk of fresh()
  std::vector<Cand> cands_;
  std::vector<uint64_t> picked_;  // this page so far, in order
  std::unordered_map<uint64_t, size_t> index_;
  bool cross_dry_ = false, home_dry_ = false;
};

}  // namespace

const char* SourceName(uint8_t sources) {
  if (sources & kSourceInterest) return "interest";
  if (sources & kSourceHome) return "home";
  if (sources & kSourceCross) return "cross";
  if (sources & kSourceBridging) return "bridging";
  if (sources & kSourceFresh) return "fresh";
  return "none";
}

std::vector<Ranked> RankFeed(const PostTable& table, const FeedQuery& query,
                             const Candidates& candidates, const RankingOptions& options) {
  if (query.count <= 0) return {};
  return FeedBuilder(table, query, options).Run(candidates);
}

}  // namespace bf
