// The engine's learned vectors (docs/learning.md): TRAIN and MODEL.LOAD swap
// a model's post factors, a rebuilt index and the fold-in Gramian in under
// the write lock, then write the users' factors; the model file in the data
// dir and a store meta marker make that survive a kill (docs/operations.md).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "engine/internal/engine_impl.h"
#include "engine/internal/train_marker.h"
#include "engine/learn_from_store.h"
#include "engine/store/layout.h"
#include "index/index_builder.h"

namespace bf {

namespace fs = std::filesystem;

learn::AlsOptions LearnDefaults() {
  learn::AlsOptions o;
  // VIEW LIKE SAVE SHARE COMMENT HIDE REPORT. MovieLens has only the first
  // two; the others keep the library's ratio to LIKE (8 there, 2 here).
  o.confidence.weight = {0.5f, 2.0f, 2.5f, 2.5f, 1.5f, 5.0f, 10.0f};
  o.regularization = 20.0f;
  o.prior_regularization = 5.0f;
  return o;
}

namespace {

// Names a model: what the applied marker records.
std::string ModelId(const learn::ModelHeader& h) {
  return std::to_string(h.trained_at) + "/" + std::to_string(h.events_seq) + "/" +
         std::to_string(h.iterations) + "/" + std::to_string(h.loss);
}

// The vector ranking uses for a model row: its factor (unit length under
// the cosine metric: ip keeps the norm, docs/ranking.md), or nothing for a
// row without one or a degenerate (zero, non-finite) one.
Vector ServedVector(std::span<const float> row, learn::RowState state, Metric metric) {
  if (state == learn::RowState::kNone) return {};
  Vector v(row.begin(), row.end());
  if (!CheckVector(v).ok()) return {};
  if (metric == Metric::kCosine) Normalize(v);
  return v;
}

// Item factors of a model found by the engine's internal post ids.
class ItemsByIid final : public learn::ItemFactorSource {
 public:
  ItemsByIid(const learn::Factors& items, std::unordered_map<uint64_t, int32_t> rows)
      : items_(items), rows_(std::move(rows)) {}
  const float* Find(int64_t item, bool* in_gramian) const override {
    auto it = rows_.find(static_cast<uint64_t>(item));
    if (it == rows_.end()) return nullptr;
    const learn::RowState s = items_.state[static_cast<size_t>(it->second)];
    if (s == learn::RowState::kNone) return nullptr;
    *in_gramian = s == learn::RowState::kTrained;
    return items_.Row(it->second).data();
  }

 private:
  const learn::Factors& items_;
  const std::unordered_map<uint64_t, int32_t> rows_;
};

}  // namespace

// Start --------------------------------------------------------------------

Status EngineImpl::LoadModelAtStart() {
  learn_ = std::make_unique<LearnState>();
  const std::string path = ModelPath(options_.data_dir);
  auto applied = store_->GetMeta(kModelAppliedMetaKey);
  if (!applied.ok()) return applied.status();
  // The snapshot holds the factors of the model the marker names (none: "").
  const bool marked = applied->has_value() && !(*applied)->empty();
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    learn_->index_stale = marked;  // model.bfm deleted: back to the given vectors
    return Status::OK();
  }
  learn::ReadModelOptions ro;
  ro.expected_dim = static_cast<uint32_t>(options_.dim);
  ro.expected_database_id = DatabaseFingerprint(store_->db_id());
  auto model = learn::ReadModelFile(path, ro);
  if (!model.ok()) {
    // Serve the priors; a snapshot that held this model's factors is rebuilt.
    spdlog::error("model: {} unusable ({}); serving without it", path, model.status().ToString());
    learn_->index_stale = marked;
    return Status::OK();
  }
  TrainSummary summary;
  BF_RETURN_IF_ERROR(ApplyModel(*model, {}, &summary, /*swap_index=*/false));
  if (!marked || **applied != ModelId(model->header)) {
    // Killed between writing the model and finishing its swap: do it again.
    spdlog::info("model: {} was not fully applied; applying it again", path);
    learn_->index_stale = true;
    learn_->users_pending = std::move(model).value();
  }
  return Status::OK();
}

Status EngineImpl::FinishModelAtStart() {
  if (!learn_->users_pending) {
    if (learn_->index_stale) {
      BF_RETURN_IF_ERROR(SaveNow());
      BF_RETURN_IF_ERROR(store_->PutMeta(kModelAppliedMetaKey, ""));
    }
    learn_->index_stale = false;
    return Status::OK();
  }
  learn::ModelFile m = std::move(*learn_->users_pending);
  learn_->users_pending.reset();
  std::shared_ptr<const learn::FoldIn> fold_in;
  {
    std::lock_guard lock(learn_->mu);
    fold_in = learn_->fold_in;
  }
  if (fold_in) BF_RETURN_IF_ERROR(ApplyUsers(m, *fold_in));
  BF_RETURN_IF_ERROR(SaveNow());
  learn_->index_stale = false;
  return store_->PutMeta(kModelAppliedMetaKey, ModelId(m.header));
}

// TRAIN ----------------------------------------------------------------------

Result<TrainSummary> EngineImpl::Train(bool wait) {
  BF_RETURN_IF_ERROR(CheckOpen());
  if (store_->LastEventNumber() == 0) return Status::Invalid("no events to train on");
  bool expected = false;
  if (!learn_->training.compare_exchange_strong(expected, true)) {
    return Status::Busy("a TRAIN is already running");
  }
  if (rebuilding_) {
    learn_->training = false;
    return Status::Busy("an index rebuild is running");
  }
  TrainRun run;
  run.als = options_.learn;
  if (wait) {
    auto r = TrainMain(run, nullptr);
    learn_->training = false;
    return r;
  }
  if (learn_->train_thread.joinable()) learn_->train_thread.join();
  learn_->train_thread = std::thread([this, run] {
    auto r = TrainMain(run, nullptr);
    if (!r.ok()) spdlog::error("model: TRAIN failed: {}", r.status().ToString());
    learn_->training = false;
  });
  return TrainSummary{};
}

Result<TrainSummary> EngineImpl::TrainMain(const TrainRun& run,
                                           const std::function<void()>& on_read) {
  const auto t0 = std::chrono::steady_clock::now();
  spdlog::info("model: TRAIN started ({} events logged)", store_->LastEventNumber());
  learn::AlsOptions als = run.als;
  als.threads = options_.learn.threads;  // the result does not depend on it (als.h)
  const int every = std::max(1, als.iterations / 10);  // about ten lines per TRAIN
  StoreTrainingOptions how;
  how.user_priors = run.user_priors;
  how.trained_at = run.trained_at;
  how.on_read = on_read;
  how.last_event = run.last_event;
  how.last_post_seq = run.last_post_seq;
  auto trained = TrainFromStore(*store_, als, [every](const learn::IterationReport& r) {
    if (r.iteration % every == 0 || r.iteration == 1) {
      spdlog::info("model: iteration {} loss {:.6g} ({:.2f} s)", r.iteration, r.loss, r.seconds);
    }
  }, how);
  if (!trained.ok()) return trained.status();
  // The model file first: a kill after this applies it again at start.
  BF_RETURN_IF_ERROR(learn::WriteModelFile(ModelPath(options_.data_dir), trained->model));
  TrainSummary summary;
  summary.events = trained->events;
  BF_RETURN_IF_ERROR(
      ApplyModel(trained->model, std::move(trained->item_gramian), &summary, /*swap_index=*/true));
  std::shared_ptr<const learn::FoldIn> fold_in;
  {
    std::lock_guard lock(learn_->mu);
    fold_in = learn_->fold_in;
  }
  BF_RETURN_IF_ERROR(ApplyUsers(trained->model, *fold_in));
  BF_RETURN_IF_ERROR(SaveNow());
  BF_RETURN_IF_ERROR(store_->PutMeta(kModelAppliedMetaKey, ModelId(trained->model.header)));
  if (run.resumable) BF_RETURN_IF_ERROR(store_->PutMeta(kTrainPendingMetaKey, ""));
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  {
    std::lock_guard lock(learn_->mu);
    learn_->info.last_train_seconds = summary.seconds;
    learn_->info.last_train_events = summary.events;
  }
  spdlog::info("model: TRAIN done in {:.2f} s: {} users, {} posts with factors, loss {:.6g}",
               summary.seconds, summary.users, summary.posts, summary.loss);
  return summary;
}

Status EngineImpl::StartTrainRun(const TrainRun& run) {
  // One train at a time: the cluster's TRAIN waits for the one running here,
  // so that every node trains on the same log position.
  for (;;) {
    BF_RETURN_IF_ERROR(CheckOpen());
    bool expected = false;
    if (learn_->training.compare_exchange_strong(expected, true)) {
      if (!rebuilding_) break;
      learn_->training = false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (store_->LastEventNumber() == 0) {
    learn_->training = false;
    return Status::Invalid("no events to train on");
  }
  TrainRun bounded = run;
  if (run.resumable) {
    // Kept until the model is applied: a node killed before then trains this
    // again at start, on the same events and posts (ResumeTrainAtStart).
    bounded.last_event = store_->LastEventNumber();
    bounded.last_post_seq = store_->LastSequence();
    if (Status st = store_->PutMeta(kTrainPendingMetaKey, internal::EncodeTrainRun(bounded));
        !st.ok()) {
      learn_->training = false;
      return st;
    }
  }
  if (learn_->train_thread.joinable()) learn_->train_thread.join();
  auto read = std::make_shared<std::promise<Status>>();
  std::future<Status> read_done = read->get_future();
  learn_->train_thread = std::thread([this, run = std::move(bounded), read] {
    bool told = false;
    auto r = TrainMain(run, [&] {
      told = true;
      read->set_value(Status::OK());
    });
    if (!r.ok()) {
      spdlog::error("model: TRAIN from the log failed: {}", r.status().ToString());
      if (!told) read->set_value(r.status());
    }
    learn_->training = false;
  });
  return read_done.get();
}

Status EngineImpl::ResumeTrainAtStart() {
  auto pending = store_->GetMeta(kTrainPendingMetaKey);
  if (!pending.ok()) return pending.status();
  if (!pending->has_value() || (*pending)->empty()) return Status::OK();
  auto run = internal::DecodeTrainRun(**pending);
  if (!run.ok()) {
    spdlog::error("model: unreadable pending TRAIN dropped ({})", run.status().ToString());
    return store_->PutMeta(kTrainPendingMetaKey, "");
  }
  {
    std::lock_guard lock(learn_->mu);
    if (learn_->info.loaded && learn_->info.trained_at == run->trained_at &&
        learn_->info.events_seq == run->last_event) {
      return store_->PutMeta(kTrainPendingMetaKey, "");  // applied before the stop
    }
  }
  spdlog::info("model: the TRAIN of the log's trained_at {} did not finish before the stop; "
               "training it again on events up to {}", run->trained_at, run->last_event);
  learn_->training = true;
  learn_->train_thread = std::thread([this, r = std::move(run).value()] {
    auto done = TrainMain(r, nullptr);
    if (!done.ok()) {  // tried once: a failure here would fail at every start
      spdlog::error("model: resumed TRAIN failed: {}", done.status().ToString());
      (void)store_->PutMeta(kTrainPendingMetaKey, "");
    }
    learn_->training = false;
  });
  return Status::OK();
}

// MODEL.LOAD -----------------------------------------------------------------

Status EngineImpl::LoadModel(const std::string& path) {
  BF_RETURN_IF_ERROR(CheckOpen());
  learn::ReadModelOptions ro;
  ro.expected_dim = static_cast<uint32_t>(options_.dim);
  ro.expected_database_id = DatabaseFingerprint(store_->db_id());
  auto model = learn::ReadModelFile(path, ro);
  if (!model.ok()) return model.status();
  bool expected = false;
  if (!learn_->training.compare_exchange_strong(expected, true)) {
    return Status::Busy("a TRAIN is already running");
  }
  struct Done {
    std::atomic<bool>& flag;
    ~Done() { flag = false; }
  } done{learn_->training};
  if (rebuilding_) return Status::Busy("an index rebuild is running");
  BF_RETURN_IF_ERROR(learn::WriteModelFile(ModelPath(options_.data_dir), *model));
  TrainSummary summary;
  BF_RETURN_IF_ERROR(ApplyModel(*model, {}, &summary, /*swap_index=*/true));
  std::shared_ptr<const learn::FoldIn> fold_in;
  {
    std::lock_guard lock(learn_->mu);
    fold_in = learn_->fold_in;
  }
  BF_RETURN_IF_ERROR(ApplyUsers(*model, *fold_in));
  BF_RETURN_IF_ERROR(SaveNow());
  spdlog::info("model: loaded {} (events up to {})", path, model->header.events_seq);
  return store_->PutMeta(kModelAppliedMetaKey, ModelId(model->header));
}

// Applying a model -----------------------------------------------------------

Status EngineImpl::ApplyModel(const learn::ModelFile& m, std::vector<float> gramian,
                              TrainSummary* out, bool swap_index) {
  const Metric metric = options_.index.metric;
  // The served vector of each post row still holding the record it was
  // trained on (same id, same seq); a post replaced since keeps its prior.
  struct Row {
    uint64_t iid;
    uint16_t culture;
    Vector v;
    bool trained;  // a learned factor, not the prior
  };
  std::vector<Row> rows;
  rows.reserve(static_cast<size_t>(m.items.rows));
  int64_t posts = 0;
  uint64_t seq = 0;  // posts written after it keep their own vector (CatchUp adds them)
  {
    std::shared_lock lock(table_mu_);
    seq = store_->LastSequence();
    for (int32_t r = 0; r < m.items.rows; ++r) {
      uint64_t seq = 0;
      std::string_view id;
      if (!ParseItemKey(m.item_keys[static_cast<size_t>(r)], &seq, &id)) {
        return Status::Corruption("model item key " + std::to_string(r) + " is damaged");
      }
      auto iid = table_.Find(id);
      if (!iid) continue;  // deleted since
      const PostEntry& e = table_.Get(*iid);
      if (e.seq != seq) continue;
      const learn::RowState state = m.items.state[static_cast<size_t>(r)];
      rows.push_back({*iid, e.culture, ServedVector(m.items.Row(r), state, metric),
                      state == learn::RowState::kTrained});
      if (state == learn::RowState::kTrained) ++posts;
    }
  }
  // EVENT's fold-in reads the table's (served) vectors, so its Gramian sums
  // those of the trained rows (item_gramian.h).
  const size_t d = static_cast<size_t>(options_.dim);
  std::vector<double> table_gramian(d * d, 0.0);
  std::unordered_set<uint64_t> trained;
  auto accumulate = [&](const Vector& y, double sign) {
    for (size_t i = 0; i < d; ++i) {
      for (size_t j = 0; j < d; ++j) table_gramian[i * d + j] += sign * y[i] * y[j];
    }
  };
  for (const Row& row : rows) {
    if (row.trained) {
      trained.insert(row.iid);
      accumulate(row.v, 1.0);
    }
  }
  if (gramian.empty()) gramian = learn::TrainedGramian(m.items, options_.learn.threads);
  learn::AlsOptions fo = options_.learn;
  fo.dim = options_.dim;
  auto fold_in = learn::FoldIn::Create(std::move(gramian), fo);
  if (!fold_in.ok()) return fold_in.status();

  int64_t users = 0;
  for (int32_t u = 0; u < m.users.rows; ++u) {
    if (m.users.state[static_cast<size_t>(u)] == learn::RowState::kTrained) ++users;
  }
  out->iterations = static_cast<int>(m.header.iterations);
  out->loss = m.header.loss;
  out->users = users;
  out->posts = posts;
  auto publish = [&] {
    std::lock_guard lock(learn_->mu);
    learn_->fold_in = std::make_shared<const learn::FoldIn>(std::move(fold_in).value());
    ModelInfo& info = learn_->info;
    info.loaded = true;
    info.trained_at = m.header.trained_at;
    info.iterations = static_cast<int>(m.header.iterations);
    info.loss = m.header.loss;
    info.users_with_factors = users;
    info.posts_with_factors = posts;
    info.events_seq = m.header.events_seq;
  };
  if (!swap_index) {
    // The start: no index yet, nothing serving; OpenIndex loads or builds it next.
    for (const Row& row : rows) table_.SetVector(row.iid, row.v);
    gramian_.Reset(std::move(table_gramian), std::move(trained));
    publish();
    return Status::OK();
  }

  // The new index, built beside the serving one (the table is not locked).
  IndexOptions io = options_.index;
  io.dim = options_.dim;
  IndexBuilder builder(std::move(io));
  builder.Reserve(static_cast<int64_t>(rows.size()));
  for (const Row& row : rows) {
    if (!row.v.empty()) builder.Add(row.iid, row.culture, row.v);
  }
  auto b = builder.Build();
  if (!b.ok()) return b.status();
  std::shared_ptr<AnnIndex> built = std::move(b->index);

  // The swap: post vectors, index and Gramian together.
  {
    std::lock_guard write(write_mu_);
    {
      std::unique_lock lock(table_mu_);
      for (const Row& row : rows) {
        if (table_.IsLive(row.iid) && table_.Get(row.iid).seq <= seq) {
          table_.SetVector(row.iid, row.v);
        } else if (row.trained) {
          trained.erase(row.iid);  // deleted or replaced since: not a trained factor
          accumulate(row.v, -1.0);
        }
      }
      gramian_.Reset(std::move(table_gramian), std::move(trained));
    }
    {
      // Posts written while the index was built (and any the model did not
      // cover) come from the table; deleted ones go.
      std::shared_lock lock(table_mu_);
      BF_RETURN_IF_ERROR(CatchUp(*built, seq));
    }
    SwapIndex(built);
    publish();
  }
  last_rebuild_ = NowSeconds();
  return Status::OK();
}

Status EngineImpl::ApplyUsers(const learn::ModelFile& m, const learn::FoldIn& fold_in) {
  const Metric metric = options_.index.metric;
  std::unordered_map<std::string_view, int32_t> user_rows;
  user_rows.reserve(static_cast<size_t>(m.users.rows));
  for (int32_t u = 0; u < m.users.rows; ++u) user_rows.emplace(m.user_keys[static_cast<size_t>(u)], u);
  // Item rows by internal id, for the catch-up fold-ins.
  std::unordered_map<uint64_t, int32_t> iid_rows;
  {
    std::shared_lock lock(table_mu_);
    for (int32_t r = 0; r < m.items.rows; ++r) {
      uint64_t seq = 0;
      std::string_view id;
      if (!ParseItemKey(m.item_keys[static_cast<size_t>(r)], &seq, &id)) continue;
      if (auto iid = table_.Find(id)) iid_rows.emplace(*iid, r);
    }
  }
  const ItemsByIid items(m.items, std::move(iid_rows));

  // The log grouped by user: a user with events newer than the model is
  // solved again from their whole history against the new items.
  std::string user;
  std::vector<learn::UserEvent> history;
  bool newer = false;
  int64_t written = 0, caught_up = 0;
  Status st;
  auto finish = [&]() {
    if (user.empty() || !st.ok()) return;
    auto row = user_rows.find(user);
    if (!newer && row == user_rows.end()) return;
    std::lock_guard lock(UserLock(user));
    auto rec = store_->GetUser(user);
    if (!rec.ok()) {
      st = rec.status();
      return;
    }
    if (!rec->has_value()) return;  // deleted since
    Vector v;
    if (newer) {
      auto solved = fold_in.Solve(history, items, (*rec)->prior);
      if (solved.ok()) v = std::move(solved).value();
      ++caught_up;
    } else {
      v = ServedVector(m.users.Row(row->second), m.users.state[static_cast<size_t>(row->second)],
                       metric);
    }
    if (!CheckVector(v).ok()) return;  // none, or degenerate: never write a NaN
    if (metric == Metric::kCosine) Normalize(v);
    (*rec)->vector = std::move(v);
    st = store_->PutUser(**rec);
    ++written;
  };
  auto covered = store_->ForEachEvent([&](std::string_view u, const LoggedEvent& e) {
    if (u != user) {
      finish();
      user.assign(u);
      history.clear();
      newer = false;
    }
    history.push_back({static_cast<int64_t>(e.post_iid), static_cast<learn::EventKind>(e.type),
                       e.ts});
    newer |= e.number > m.header.events_seq;
    return st.ok();
  });
  finish();
  if (!covered.ok()) return covered.status();
  BF_RETURN_IF_ERROR(st);
  spdlog::info("model: {} user vectors written, {} caught up with newer events", written,
               caught_up);
  return Status::OK();
}

ModelInfo EngineImpl::GetModelInfo() const {
  std::lock_guard lock(learn_->mu);
  ModelInfo info = learn_->info;
  info.training = learn_->training;
  return info;
}

// Periodic TRAIN ---------------------------------------------------------------

void EngineImpl::TrainLoop() {
  std::unique_lock lock(stop_mu_);
  const auto interval = std::chrono::seconds(options_.train_interval_s);
  while (!stop_cv_.wait_for(lock, interval, [this] { return stopping_; })) {
    if (store_->LastEventNumber() <= GetModelInfo().events_seq) continue;
    lock.unlock();
    auto r = Train(true);
    if (!r.ok() && r.status().code() != Code::kBusy) {
      spdlog::error("model: periodic TRAIN failed: {}", r.status().ToString());
    }
    lock.lock();
  }
}

void EngineImpl::StopLearning() {
  if (!learn_) return;
  if (learn_->interval_thread.joinable()) learn_->interval_thread.join();
  if (learn_->train_thread.joinable()) learn_->train_thread.join();
}

}  // namespace bf
