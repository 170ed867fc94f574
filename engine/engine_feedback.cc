// The EVENT path: counters, the event log and the user's vector, which is
// re-solved exactly by ALS fold-in on every event (docs/learning.md) or, with
// --feedback nudge, moved toward a liked post and away from a hidden one.
#include <algorithm>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "embeddings/learn/interactions.h"
#include "engine/internal/engine_impl.h"
#include "engine/store/limits.h"

namespace bf {
namespace {

static_assert(static_cast<int>(learn::EventKind::kView) == static_cast<int>(EventType::kView));
static_assert(static_cast<int>(learn::EventKind::kHide) == static_cast<int>(EventType::kHide));
static_assert(static_cast<int>(learn::EventKind::kReport) ==
              static_cast<int>(EventType::kReport));

learn::UserEvent ToUserEvent(uint64_t iid, EventType type, int64_t ts) {
  return {static_cast<int64_t>(iid), static_cast<learn::EventKind>(type), ts};
}

// A user's logged events as fold-in counts them: people, not clicks, so a
// post counts once per engagement kind (limits.h), by its first event, with
// the newest time (a repeat refreshes recency). The live path never passes a
// repeat on, so the cached state and a re-solve from the log agree.
void AppendOncePerEngagement(const std::vector<StoredEvent>& log,
                             std::vector<learn::UserEvent>* out) {
  std::unordered_map<uint64_t, size_t> first;  // (iid, engagement) -> index in out
  first.reserve(log.size());
  for (const StoredEvent& e : log) {
    const uint64_t key = (e.post_iid << 2) | static_cast<uint64_t>(EngagementOf(e.type));
    auto [it, added] = first.try_emplace(key, out->size());
    if (added) {
      out->push_back(ToUserEvent(e.post_iid, e.type, e.ts));
    } else {
      (*out)[it->second].ts = std::max((*out)[it->second].ts, e.ts);
    }
  }
}

// The post table's vectors as fold-in's item factors: live posts only, in
// the Gramian when trained. Valid while the caller holds the table lock.
class TableFactors final : public learn::ItemFactorSource {
 public:
  TableFactors(const PostTable& table, const ItemGramian& gramian)
      : table_(table), gramian_(gramian) {}
  const float* Find(int64_t item, bool* in_gramian) const override {
    const auto iid = static_cast<uint64_t>(item);
    // A post without a vector (no prior, not trained yet) has no factor.
    if (item < 0 || !table_.IsLive(iid) || !table_.Get(iid).has_vector) return nullptr;
    *in_gramian = gramian_.Contains(iid);
    return table_.VectorOf(iid).data();
  }

 private:
  const PostTable& table_;
  const ItemGramian& gramian_;
};

// A post written earlier in the same group, not in the table yet, as the
// item with key kPendingItem (never a real id).
constexpr int64_t kPendingItem = -1;
class WithPendingPost final : public learn::ItemFactorSource {
 public:
  WithPendingPost(const learn::ItemFactorSource& base, const Vector& y) : base_(base), y_(y) {}
  const float* Find(int64_t item, bool* in_gramian) const override {
    if (item != kPendingItem) return base_.Find(item, in_gramian);
    *in_gramian = false;  // a new post has no trained factor
    return y_.data();
  }

 private:
  const learn::ItemFactorSource& base_;
  const Vector& y_;
};

}  // namespace

Status EngineImpl::ApplyFeedback(UserRecord& rec, uint64_t iid, const Vector& post_vec,
                                 EventType type, int64_t ts, FoldInGroup& group) {
  if (post_vec.empty() && iid == 0) return Status::OK();  // a new post without a vector
  if (nudge_) {
    if (post_vec.empty()) return Status::OK();  // a post without a vector cannot move the user
    const FeedbackRates& rates = options_.ranking.feedback;
    if (IsPositive(type)) {
      if (rec.vector.empty()) {
        rec.vector = post_vec;
      } else {
        MoveToward(rec.vector, post_vec, rates.toward);
      }
    } else if (IsNegative(type) && !rec.vector.empty()) {
      MoveAway(rec.vector, post_vec, rates.away);
    }
    return Status::OK();
  }

  group.cache = &foldins_;
  const auto in_group = group.states.find(rec.id);
  if (in_group != group.states.end() && in_group->second == nullptr) {
    // The group already gave up on this user's state, and the log lacks the
    // group's earlier events: the vector stays, the next event re-solves.
    return Status::OK();
  }
  const learn::UserEvent event = ToUserEvent(iid, type, ts);
  Result<Vector> x = Status::NotFound("no evidence");
  if (iid == 0) {
    // The post is written earlier in this group: solve with its vector now;
    // the next event re-solves from the log, where it then has its id.
    if (in_group != group.states.end()) {
      group.states[rec.id] = nullptr;
      return Status::OK();
    }
    const learn::UserEvent pending{kPendingItem, event.kind, ts};
    x = SolveHistory(rec, std::span(&pending, 1), &post_vec);
    group.states[rec.id] = nullptr;
  } else if (als_.confidence.half_life_s > 0) {
    // Decayed weights change with the clock: no incremental state, re-solve.
    if (in_group != group.states.end()) return Status::OK();  // the log lacks the group's events
    x = SolveHistory(rec, std::span(&event, 1));
    group.states[rec.id] = nullptr;
  } else {
    std::shared_ptr<UserFoldIn> state =
        in_group != group.states.end() ? in_group->second : foldins_.Get(rec.id);
    std::vector<StoredEvent> stored;
    bool have_history = false;
    for (;;) {
      std::shared_lock lock(table_mu_);
      const TableFactors items(table_, gramian_);
      if (state == nullptr || state->epoch != gramian_.epoch()) {
        if (in_group != group.states.end()) {
          state = nullptr;  // the log lacks the group's earlier events: re-solve later
          break;
        }
        if (!have_history) {
          lock.unlock();  // read the log without holding up post writes
          auto log = store_->GetEvents(rec.id);
          if (!log.ok()) return log.status();
          stored = std::move(log).value();
          have_history = true;
          continue;  // the epoch is read again with the factors the start uses
        }
        std::vector<learn::UserEvent> history;
        history.reserve(stored.size());
        AppendOncePerEngagement(stored, &history);
        auto started = learn::IncrementalFoldIn::Start(*FoldInModel(), history, items, rec.prior);
        if (!started.ok()) {
          state = nullptr;
          x = started.status();
          break;
        }
        state = std::make_shared<UserFoldIn>(gramian_.epoch(), std::move(started).value());
      }
      x = state->state.Add(event, items);
      break;
    }
    const bool keep = state != nullptr && (x.ok() || x.status().code() != Code::kInternal);
    group.states[rec.id] = keep ? std::move(state) : nullptr;
  }
  if (!x.ok()) {
    // No positive evidence (only hides): the vector stays. No finite
    // solution: it stays too, and the operator hears of it.
    if (x.status().code() != Code::kNotFound) {
      spdlog::warn("fold-in for a user of {} events: {}; vector kept",
                   rec.positives + rec.negatives, x.status().message());
    }
    return Status::OK();
  }
  Vector v = std::move(x).value();
  if (options_.index.metric == Metric::kCosine && CheckVector(v).ok()) Normalize(v);
  if (!CheckVector(v).ok()) return Status::OK();  // underflowed to zero: keep the old one
  rec.vector = std::move(v);
  return Status::OK();
}

Status EngineImpl::SetPrior(UserRecord& rec, Vector prior, FoldInGroup& group) {
  rec.prior = std::move(prior);
  group.cache = &foldins_;
  group.states[rec.id] = nullptr;  // the prior is part of the state: start again
  return RefoldUser(rec);
}

Result<Vector> EngineImpl::SolveHistory(const UserRecord& rec,
                                        std::span<const learn::UserEvent> extra,
                                        const Vector* pending_post) {
  auto log = store_->GetEvents(rec.id);
  if (!log.ok()) return log.status();
  std::vector<learn::UserEvent> history;
  history.reserve(log->size() + extra.size());
  AppendOncePerEngagement(*log, &history);
  history.insert(history.end(), extra.begin(), extra.end());
  std::shared_lock lock(table_mu_);
  const TableFactors table(table_, gramian_);
  if (pending_post == nullptr) return FoldInModel()->Solve(history, table, rec.prior);
  return FoldInModel()->Solve(history, WithPendingPost(table, *pending_post), rec.prior);
}

Status EngineImpl::RefoldUser(UserRecord& rec) {
  if (nudge_) {
    if (!rec.prior.empty()) rec.vector = rec.prior;
    return Status::OK();
  }
  auto x = SolveHistory(rec, {});
  if (x.ok() && CheckVector(*x).ok()) {
    if (options_.index.metric == Metric::kCosine) Normalize(*x);
    if (CheckVector(*x).ok()) {
      rec.vector = std::move(x).value();
      return Status::OK();
    }
  }
  // Errors reading the log reach the caller; no evidence or no finite
  // solution leave the prior.
  if (!x.ok() && x.status().code() != Code::kNotFound && x.status().code() != Code::kInternal) {
    return x.status();
  }
  if (!rec.prior.empty()) rec.vector = rec.prior;
  return Status::OK();
}

std::shared_ptr<const learn::FoldIn> EngineImpl::FoldInModel() const {
  std::lock_guard lock(foldin_mu_);
  if (foldin_ == nullptr || foldin_version_ != gramian_.version()) {
    auto made = learn::FoldIn::Create(gramian_.Matrix(), als_);
    // Init checked the options and the Gramian is a sum of finite factors.
    BF_CHECK(made.ok());
    foldin_ = std::make_shared<const learn::FoldIn>(std::move(made).value());
    foldin_version_ = gramian_.version();
  }
  return foldin_;
}

}  // namespace bf
