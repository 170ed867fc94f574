// The EVENT path: counters, the event log and the user's vector, which is
// re-solved exactly by ALS fold-in on every event (docs/learning.md) or, with
// --feedback nudge, moved toward a liked post and away from a hidden one.
#include <spdlog/spdlog.h>

#include "embeddings/learn/interactions.h"
#include "engine/internal/engine_impl.h"

namespace bf {
namespace {

static_assert(static_cast<int>(learn::EventKind::kView) == static_cast<int>(EventType::kView));
static_assert(static_cast<int>(learn::EventKind::kHide) == static_cast<int>(EventType::kHide));
static_assert(static_cast<int>(learn::EventKind::kReport) ==
              static_cast<int>(EventType::kReport));

learn::UserEvent ToUserEvent(uint64_t iid, EventType type, int64_t ts) {
  return {static_cast<int64_t>(iid), static_cast<learn::EventKind>(type), ts};
}

// The post table's vectors as fold-in's item factors: live posts only, in
// the Gramian when trained. Valid while the caller holds the table lock.
class TableFactors final : public learn::ItemFactorSource {
 public:
  TableFactors(const PostTable& table, const ItemGramian& gramian)
      : table_(table), gramian_(gramian) {}
  const float* Find(int64_t item, bool* in_gramian) const override {
    const auto iid = static_cast<uint64_t>(item);
    if (item < 0 || !table_.IsLive(iid)) return nullptr;
    *in_gramian = gramian_.Contains(iid);
    return table_.VectorOf(iid).data();
  }

 private:
  const PostTable& table_;
  const ItemGramian& gramian_;
};

}  // namespace

Status EngineImpl::RecordEvent(std::string_view user, std::string_view post, EventType type,
                               std::optional<int64_t> ts) {
  BF_RETURN_IF_ERROR(CheckOpen());
  BF_RETURN_IF_ERROR(CheckId("user", user));
  BF_RETURN_IF_ERROR(CheckId("post", post));
  EventWrite ev;
  {
    std::shared_lock lock(table_mu_);
    auto iid = table_.Find(post);
    if (!iid) return Status::NotFound("post");
    ev.post_iid = *iid;
  }
  ev.post_id = std::string(post);
  ev.type = type;
  ev.ts = ts.value_or(NowSeconds());

  uint16_t viewer = kNoCulture;
  {
    std::lock_guard lock(UserLock(user));
    auto existing = store_->GetUser(user);
    if (!existing.ok()) return existing.status();
    UserRecord rec = existing->value_or(UserRecord{});
    rec.id = std::string(user);
    if (IsPositive(type)) ++rec.positives;
    if (IsNegative(type)) ++rec.negatives;
    BF_RETURN_IF_ERROR(ApplyFeedback(rec, ev.post_iid, type, ev.ts));
    viewer = ViewerCulture(rec.culture);
    ev.viewer_culture = rec.culture;
    ev.user = std::move(rec);
    const Status st = store_->RecordEvent(ev);
    // The cached fold-in already counts the event: drop it so the next event
    // re-solves from what the log really holds.
    if (!st.ok()) foldins_.Erase(user);
    BF_RETURN_IF_ERROR(st);
  }
  {
    std::unique_lock lock(table_mu_);
    table_.AddStats(ev.post_iid, viewer, type == EventType::kView ? 1 : 0, IsPositive(type) ? 1 : 0,
                    IsNegative(type) ? 1 : 0);
  }
  ++events_;
  return Status::OK();
}

Status EngineImpl::ApplyFeedback(UserRecord& rec, uint64_t iid, EventType type, int64_t ts) {
  if (nudge_) {
    Vector post_vec;
    {
      std::shared_lock lock(table_mu_);
      if (!table_.IsLive(iid)) return Status::OK();  // deleted meanwhile: RecordEvent refuses it
      auto v = table_.VectorOf(iid);
      post_vec.assign(v.begin(), v.end());
    }
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

  const learn::UserEvent event = ToUserEvent(iid, type, ts);
  Result<Vector> x = Status::NotFound("no evidence");
  if (als_.confidence.half_life_s > 0) {
    // Decayed weights change with the clock: no incremental state, re-solve.
    x = SolveHistory(rec, std::span(&event, 1));
  } else {
    std::shared_ptr<UserFoldIn> state = foldins_.Get(rec.id);
    std::vector<StoredEvent> stored;
    bool have_history = false;
    for (;;) {
      std::shared_lock lock(table_mu_);
      const TableFactors items(table_, gramian_);
      if (state == nullptr || state->epoch != gramian_.epoch()) {
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
        for (const StoredEvent& e : stored) history.push_back(ToUserEvent(e.post_iid, e.type, e.ts));
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
    if (state != nullptr && (x.ok() || x.status().code() != Code::kInternal)) {
      foldins_.Put(rec.id, std::move(state));
    } else {
      foldins_.Erase(rec.id);
    }
  }
  if (!x.ok()) {
    // No positive evidence (only hides): the vector stays. No finite
    // solution: it stays too, and the operator hears of it.
    if (x.status().code() != Code::kNotFound) {
      spdlog::warn("fold-in for user of {} events: {}; vector kept",
                   rec.positives + rec.negatives, x.status().message());
    }
    return Status::OK();
  }
  Vector v = std::move(x).value();
  if (options_.index.metric == Metric::kCosine) {
    if (!CheckVector(v).ok()) return Status::OK();  // underflowed to zero: keep the old one
    Normalize(v);
  }
  if (!CheckVector(v).ok()) return Status::OK();
  rec.vector = std::move(v);
  return Status::OK();
}

Result<Vector> EngineImpl::SolveHistory(const UserRecord& rec,
                                        std::span<const learn::UserEvent> extra) {
  auto log = store_->GetEvents(rec.id);
  if (!log.ok()) return log.status();
  std::vector<learn::UserEvent> history;
  history.reserve(log->size() + extra.size());
  for (const StoredEvent& e : *log) history.push_back(ToUserEvent(e.post_iid, e.type, e.ts));
  history.insert(history.end(), extra.begin(), extra.end());
  std::shared_lock lock(table_mu_);
  const TableFactors items(table_, gramian_);
  return FoldInModel()->Solve(history, items, rec.prior);
}

Status EngineImpl::RefoldUser(UserRecord& rec) {
  foldins_.Erase(rec.id);
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

void EngineImpl::SetItemModel(std::vector<double> gramian, std::unordered_set<uint64_t> trained) {
  std::unique_lock lock(table_mu_);
  gramian_.Reset(std::move(gramian), std::move(trained));
}

}  // namespace bf
