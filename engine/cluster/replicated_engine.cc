#include "engine/cluster/replicated_engine.h"

#include <chrono>
#include <thread>

#include "embeddings/vector.h"
#include "engine/store/limits.h"

namespace bf::cluster {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;  // clang 14 has no aggregate deduction

int64_t NowUnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The engine's checks of a caller's vector, run before publishing so that a bad one never
// enters the log (the engine normalises it when applying).
Status CheckCallerVector(const Vector& v, int dim) {
  if (v.size() != static_cast<size_t>(dim)) {
    return Status::WrongDim("expected " + std::to_string(dim) + ", got " +
                            std::to_string(v.size()));
  }
  return CheckVector(v);
}

}  // namespace

ReplicatedEngine::ReplicatedEngine(Engine* inner, Log* log, Replicator* replicator,
                                   std::string_view node_id, int apply_wait_ms,
                                   const learn::AlsOptions& train)
    : inner_(inner), log_(log), replicator_(replicator), ids_(node_id),
      apply_wait_ms_(apply_wait_ms), train_(train) {}

Result<ApplyOutcome> ReplicatedEngine::Replicate(const Entry& entry, std::string message_id) {
  // A node that stopped applying (an entry it cannot decode or apply) publishes nothing more:
  // its writes could not be answered.
  const ReplicatorStats stats = replicator_->Stats();
  if (!stats.running) {
    return Status::ClusterDown("this node stopped applying the log (" + stats.error +
                               "); nothing stored");
  }
  const std::string id = message_id.empty() ? ids_.Next() : std::move(message_id);
  replicator_->Expect(id);
  auto ack = log_->Publish(id, EncodeEntry(entry));
  if (!ack.ok()) {
    replicator_->Cancel(id);
    return ack.status();
  }
  return replicator_->Await(id, apply_wait_ms_);
}

Status ReplicatedEngine::SetUser(const UserUpdate& u) {
  BF_RETURN_IF_ERROR(CheckId("user", u.id));
  UserSetEntry e;
  e.user = u.id;
  if (u.culture) {
    auto c = CanonicalCulture(*u.culture);
    if (!c.ok()) return c.status();
    e.culture = std::move(c).value();
  }
  if (u.langs) {
    for (const std::string& l : *u.langs) BF_RETURN_IF_ERROR(CheckLang(l));
    e.langs = *u.langs;
  }
  if (u.openness) {
    BF_RETURN_IF_ERROR(CheckOpenness(*u.openness));
    e.openness = *u.openness;
  }
  if (u.vector) {
    BF_RETURN_IF_ERROR(CheckCallerVector(*u.vector, dim()));
    e.vector = *u.vector;
  }
  auto out = Replicate(e);
  if (!out.ok()) return out.status();
  return out->reply;
}

Result<bool> ReplicatedEngine::DeleteUser(std::string_view id) {
  BF_RETURN_IF_ERROR(CheckId("user", id));
  auto out = Replicate(UserDelEntry{std::string(id)});
  if (!out.ok()) return out.status();
  if (!out->reply.ok()) return out->reply;
  return out->count != 0;
}

Status ReplicatedEngine::AddPost(PostInput in) {
  BF_RETURN_IF_ERROR(CheckId("post", in.id));
  BF_RETURN_IF_ERROR(CheckId("author", in.author));
  auto culture = CanonicalCulture(in.culture);
  if (!culture.ok()) return culture.status();
  if (in.lang) BF_RETURN_IF_ERROR(CheckLang(*in.lang));
  if (in.vector.empty()) {
    // As the engine's text vector: title and text, one per line.
    if (in.title.empty() && in.text.empty()) {
      return Status::Invalid("POST.ADD needs VECTOR, or TITLE or TEXT for its text vector");
    }
    std::string all = in.title;
    if (!in.text.empty()) all += (all.empty() ? "" : "\n") + in.text;
    auto v = inner_->EmbedText(all, in.lang.value_or(""));
    if (!v.ok()) return v.status();
    in.vector = std::move(v).value();
  }
  BF_RETURN_IF_ERROR(CheckCallerVector(in.vector, dim()));
  PostAddEntry e;
  e.post = std::move(in.id);
  e.author = std::move(in.author);
  e.culture = std::move(culture).value();
  e.vector = std::move(in.vector);
  e.ts = in.ts.value_or(NowUnixSeconds());
  e.lang = std::move(in.lang);
  e.tags = std::move(in.tags);
  if (!in.title.empty()) e.title = std::move(in.title);
  auto out = Replicate(e);
  if (!out.ok()) return out.status();
  return out->reply;
}

Result<bool> ReplicatedEngine::DeletePost(std::string_view id) {
  BF_RETURN_IF_ERROR(CheckId("post", id));
  auto out = Replicate(PostDelEntry{std::string(id)});
  if (!out.ok()) return out.status();
  if (!out->reply.ok()) return out->reply;
  return out->count != 0;
}

Status ReplicatedEngine::RecordEvent(std::string_view user, std::string_view post,
                                     EventType type, std::optional<int64_t> ts) {
  BF_RETURN_IF_ERROR(CheckId("user", user));
  BF_RETURN_IF_ERROR(CheckId("post", post));
  // An unknown post is refused here, before the log; one deleted meanwhile is the
  // applier's NotFound, the same on every node.
  auto found = inner_->GetPost(post);
  if (!found.ok()) return found.status();
  if (!found->has_value()) return Status::NotFound("post");
  // This node owns the user (the server routes EVENT by the user's slot): its culture is
  // the one every node counts the event under.
  auto viewer = inner_->GetUser(user);
  if (!viewer.ok()) return viewer.status();
  EventEntry e;
  e.user = std::string(user);
  e.post = std::string(post);
  e.type = type;
  e.ts = ts.value_or(NowUnixSeconds());
  if (viewer->has_value()) e.viewer_culture = (*viewer)->culture;
  auto out = Replicate(e);
  if (!out.ok()) return out.status();
  return out->reply;
}

TrainEntry ReplicatedEngine::NewTrainEntry() const {
  TrainEntry e;
  e.trained_at = NowUnixSeconds();
  e.seed = train_.seed;
  e.iterations = static_cast<uint32_t>(train_.iterations);
  e.regularization = train_.regularization;
  e.prior_regularization = train_.prior_regularization;
  e.init_stddev = train_.init_stddev;
  e.weights.assign(train_.confidence.weight.begin(), train_.confidence.weight.end());
  e.half_life_s = train_.confidence.half_life_s;
  e.decay_now = train_.confidence.now;
  e.solver = static_cast<uint8_t>(train_.solver);
  e.cg_steps = static_cast<uint32_t>(train_.cg_steps);
  return e;
}

Result<TrainSummary> ReplicatedEngine::Train(bool wait) {
  if (inner_->GetModelInfo().training) return Status::Busy("a TRAIN is already running");
  const TrainEntry e = NewTrainEntry();
  auto out = Replicate(e);
  if (!out.ok()) return out.status();
  BF_RETURN_IF_ERROR(out->reply);
  if (!wait) return TrainSummary{};
  // Applying the entry started this node's train; it is done when the flag drops (a later
  // TRAIN queued behind it only makes this wait longer).
  ModelInfo info = inner_->GetModelInfo();
  while (info.training) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    info = inner_->GetModelInfo();
  }
  if (info.trained_at != e.trained_at) {
    return Status::Internal("TRAIN failed on this node (see its log); the model in use is kept");
  }
  TrainSummary s;
  s.iterations = info.iterations;
  s.loss = info.loss;
  s.users = info.users_with_factors;
  s.posts = info.posts_with_factors;
  s.events = info.last_train_events;
  s.seconds = info.last_train_seconds;
  return s;
}

Status ReplicatedEngine::PublishTrain(const std::string& message_id) {
  // No wait for this node to apply it: when another node published the id first, the log
  // acks a duplicate that this node may have applied already.
  if (!replicator_->Stats().running) return Status::ClusterDown("this node stopped applying the log");
  auto ack = log_->Publish(message_id, EncodeEntry(NewTrainEntry()));
  return ack.ok() ? Status::OK() : ack.status();
}

Status ReplicatedEngine::LoadModel(const std::string&) {
  return Status::Invalid("MODEL.LOAD is not available in cluster mode (a model file is local "
                         "to one node, and every node must serve the same post vectors); "
                         "use TRAIN, which every node runs on the same events");
}

Result<std::vector<WriteOutcome>> ReplicatedEngine::Write(std::span<const WriteOp> ops,
                                                         const WriteOptions& options) {
  if (ops.size() > 1) {
    return Status::Invalid("a group of writes (MULTI/EXEC) is not available in cluster mode; "
                           "send the writes one by one");
  }
  if (options.applied_log_seq) return Status::Invalid("applied_log_seq is the applier's");
  std::vector<WriteOutcome> out(ops.size());
  if (ops.empty()) return out;
  WriteOutcome& o = out[0];
  std::visit(Overloaded{
                 [&](const UserUpdate& u) { o.status = SetUser(u); },
                 [&](const DeleteUserOp& d) {
                   auto r = DeleteUser(d.id);
                   if (r.ok()) o.existed = *r; else o.status = r.status();
                 },
                 [&](const PostInput& p) { o.status = AddPost(p); },
                 [&](const DeletePostOp& d) {
                   auto r = DeletePost(d.id);
                   if (r.ok()) o.existed = *r; else o.status = r.status();
                 },
                 [&](const EventOp& e) { o.status = RecordEvent(e.user, e.post, e.type, e.ts); },
             },
             ops[0]);
  if (!o.status.ok() && options.all_or_nothing) return o.status;
  return out;
}

}  // namespace bf::cluster
