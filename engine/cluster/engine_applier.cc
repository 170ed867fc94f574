#include "engine/cluster/engine_applier.h"

#include "engine/cluster/slots.h"

namespace bf::cluster {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;  // clang 14 has no aggregate deduction

}  // namespace

EngineApplier::EngineApplier(Engine* engine, const ClusterConfig* config, size_t self)
    : engine_(engine), config_(config), self_(self) {}

bool EngineApplier::OwnsUser(std::string_view user) const {
  return config_->slot_owner[KeySlot(user)] == self_;
}

Result<uint64_t> EngineApplier::AppliedSequence() { return engine_->AppliedLogSeq(); }

namespace {

// A TRAIN entry's run: every setting that decides the model comes from the entry (dim is
// the store's, threads the node's own). User priors stay out: only a user's own node holds
// them, and every node solves every user.
TrainRun RunOf(const TrainEntry& e) {
  TrainRun run;
  learn::AlsOptions als;
  als.seed = e.seed;
  als.iterations = static_cast<int>(e.iterations);
  als.regularization = e.regularization;
  als.prior_regularization = e.prior_regularization;
  als.init_stddev = e.init_stddev;
  for (size_t k = 0; k < als.confidence.weight.size() && k < e.weights.size(); ++k) {
    als.confidence.weight[k] = e.weights[k];
  }
  als.confidence.half_life_s = e.half_life_s;
  als.confidence.now = e.decay_now;
  als.solver = static_cast<learn::Solver>(e.solver);
  als.cg_steps = static_cast<int>(e.cg_steps);
  run.als = als;
  run.trained_at = e.trained_at;
  run.user_priors = false;
  run.resumable = true;  // a node killed before the model is applied trains it again at start
  return run;
}

}  // namespace

Result<ApplyOutcome> EngineApplier::Apply(uint64_t seq, const Entry& entry) {
  if (const auto* train = std::get_if<TrainEntry>(&entry)) return ApplyTrain(seq, *train);
  // The op this node applies for the entry; nullopt: only the sequence moves (a user of
  // another node).
  std::optional<WriteOp> op = std::visit(
      Overloaded{
          [&](const UserSetEntry& e) -> std::optional<WriteOp> {
            if (!OwnsUser(e.user)) return std::nullopt;
            UserUpdate u;
            u.id = e.user;
            u.culture = e.culture;
            u.langs = e.langs;
            u.openness = e.openness;
            if (e.vector) u.vector = Vector(e.vector->begin(), e.vector->end());
            return u;
          },
          // On every node: the user's logged events and engagement marks are on every
          // node (only the owner has a record to delete).
          [&](const UserDelEntry& e) -> std::optional<WriteOp> { return DeleteUserOp{e.user}; },
          [&](const PostAddEntry& e) -> std::optional<WriteOp> {
            PostInput p;
            p.id = e.post;
            p.author = e.author;
            p.culture = e.culture;
            p.vector = Vector(e.vector.begin(), e.vector.end());
            p.lang = e.lang;
            p.ts = e.ts;
            p.tags = e.tags;
            p.title = e.title.value_or("");
            return p;
          },
          [&](const PostDelEntry& e) -> std::optional<WriteOp> { return DeletePostOp{e.post}; },
          [&](const TrainEntry&) -> std::optional<WriteOp> { return std::nullopt; },
          [&](const EventEntry& e) -> std::optional<WriteOp> {
            EventOp ev;
            ev.user = e.user;
            ev.post = e.post;
            ev.type = e.type;
            ev.ts = e.ts;
            ev.viewer_culture = e.viewer_culture;
            ev.counters_only = !OwnsUser(e.user);
            return ev;
          },
      },
      entry);

  WriteOptions options;
  options.all_or_nothing = false;  // a caller's error is the outcome; the sequence still moves
  options.applied_log_seq = seq;
  std::vector<WriteOp> ops;
  if (op) ops.push_back(std::move(*op));
  auto done = engine_->Write(ops, options);
  if (!done.ok()) return done.status();
  ApplyOutcome out;
  if (!done->empty()) {
    out.reply = (*done)[0].status;
    out.count = (*done)[0].existed ? 1 : 0;
  }
  return out;
}

Result<ApplyOutcome> EngineApplier::ApplyTrain(uint64_t seq, const TrainEntry& e) {
  ApplyOutcome out;
  TrainRun run = RunOf(e);
  run.als.dim = engine_->dim();
  Status st = learn::CheckAlsOptions(run.als);
  if (st.ok() && e.solver > static_cast<uint8_t>(learn::Solver::kCholesky)) {
    st = Status::Invalid("unknown solver " + std::to_string(e.solver));
  }
  if (!st.ok()) {
    out.reply = Status::Invalid("TRAIN entry: " + st.message());
  } else {
    // Returns once the store is read: the entries after this one wait only for the read.
    out.reply = engine_->StartTrainRun(run);
  }
  // The sequence moves with an empty batch. The engine keeps the run (and the log position
  // it read at) until its model is applied, so a kill during the train does not lose it.
  WriteOptions options;
  options.all_or_nothing = false;
  options.applied_log_seq = seq;
  auto done = engine_->Write({}, options);
  if (!done.ok()) return done.status();
  return out;
}

}  // namespace bf::cluster
