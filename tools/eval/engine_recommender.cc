#include "tools/eval/engine_recommender.h"

#include <algorithm>
#include <filesystem>

namespace bf::eval {

namespace {
// The engine wants a culture on every post; items without one share this.
constexpr const char* kNoItemCulture = "XX";
}  // namespace

Result<std::unique_ptr<EngineRecommender>> EngineRecommender::Create(
    const Dataset& d, const Split& part, const learn::AlsModel& model, UserVectors users,
    const RankingOptions& ranking, const std::string& dir) {
  std::unique_ptr<EngineRecommender> r(new EngineRecommender());
  r->d_ = &d;
  r->dir_ = dir;
  const bool trained = users == UserVectors::kTrainedInEngine;
  r->name_ = trained                           ? "feed (trained in engine, ip)"
             : users == UserVectors::kFoldIn ? "feed (live fold-in)"
                                             : "feed (model factors)";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  EngineOptions o;
  o.data_dir = dir;
  o.dim = model.items.dim;
  o.fsync = FsyncPolicy::kNo;
  o.index.spec = "Flat";  // exact: the figures measure ranking, not ANN recall
  o.snapshot_interval_s = 0;
  o.ranking = ranking;
  // Model factors are set after the events, which then must not move them.
  o.feedback = users == UserVectors::kModelFactors ? "nudge" : "foldin";
  if (trained) o.index.metric = bf::Metric::kInnerProduct;
  auto e = Engine::Open(o);
  if (!e.ok()) return e.status();
  r->engine_ = std::move(e).value();
  Engine& engine = *r->engine_;

  const bool cultures = !d.item_culture.empty();
  for (int32_t i = 0; i < d.items(); ++i) {
    PostInput p;
    if (!trained) {
      if (model.items.state[i] == learn::RowState::kNone) continue;
      const auto f = model.items.Row(i);
      if (!CheckVector(f).ok()) continue;  // a zero factor cannot be a post
      p.vector.assign(f.begin(), f.end());
    }
    p.id = d.item_ids[i];
    p.author = d.item_ids[i];  // no authors in the data: each post its own
    p.culture = cultures && !d.item_culture[i].empty() ? d.item_culture[i] : kNoItemCulture;
    BF_RETURN_IF_ERROR(engine.AddPost(std::move(p)));
    r->item_of_.emplace(d.item_ids[i], i);
  }
  for (int32_t u = 0; u < d.users(); ++u) {
    if (d.user_culture.empty() || d.user_culture[u].empty()) continue;
    UserUpdate up;
    up.id = d.user_ids[u];
    up.culture = d.user_culture[u];
    BF_RETURN_IF_ERROR(engine.SetUser(up));
  }
  // The training events in time order, stamped now so VIEWs mark posts seen.
  for (const learn::Interaction& ev : part.train) {
    if (r->item_of_.count(d.item_ids[ev.item]) == 0) continue;
    BF_RETURN_IF_ERROR(engine.RecordEvent(d.user_ids[ev.user], d.item_ids[ev.item],
                                          static_cast<EventType>(ev.kind), std::nullopt));
  }
  if (trained) {
    auto summary = engine.Train(/*wait=*/true);
    if (!summary.ok()) return summary.status();
  }
  if (users == UserVectors::kModelFactors) {
    for (int32_t u = 0; u < d.users(); ++u) {
      if (model.users.state[u] == learn::RowState::kNone) continue;
      const auto f = model.users.Row(u);
      if (!CheckVector(f).ok()) continue;
      UserUpdate up;
      up.id = d.user_ids[u];
      up.vector = Vector(f.begin(), f.end());
      BF_RETURN_IF_ERROR(engine.SetUser(up));
    }
  }
  return r;
}

EngineRecommender::~EngineRecommender() {
  if (engine_) (void)engine_->Close();
  engine_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<int32_t> EngineRecommender::Recommend(int32_t user, int k,
                                                  std::span<const int32_t> exclude) const {
  FeedRequest req;
  req.user = d_->user_ids[user];
  req.count = static_cast<int>(std::min<size_t>(kMaxPageSize, k + exclude.size()));
  req.peek = true;
  auto page = engine_->Feed(req);
  std::vector<int32_t> out;
  if (!page.ok()) {
    ++errors_;
    return out;
  }
  for (const FeedItem& item : *page) {
    auto it = item_of_.find(item.post);
    if (it == item_of_.end()) continue;
    if (std::binary_search(exclude.begin(), exclude.end(), it->second)) continue;
    out.push_back(it->second);
    if (static_cast<int>(out.size()) == k) break;
  }
  return out;
}

}  // namespace bf::eval
