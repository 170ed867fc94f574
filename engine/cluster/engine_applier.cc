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

Result<ApplyOutcome> EngineApplier::Apply(uint64_t seq, const Entry& entry) {
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
          [&](const UserDelEntry& e) -> std::optional<WriteOp> {
            if (!OwnsUser(e.user)) return std::nullopt;
            return DeleteUserOp{e.user};
          },
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

}  // namespace bf::cluster
