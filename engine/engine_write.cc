// Engine::Write, the one write path: every write (the single-write methods
// too) is prepared (validated; users' read-modify-writes against the store
// and the group's earlier ops), stored as one WriteBatch, then published to
// the post table and the index.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "engine/internal/engine_impl.h"

namespace bf {

// Users and posts as the group's earlier ops leave them; nullopt: deleted.
struct EngineImpl::PendingWrites {
  std::unordered_map<std::string, std::optional<UserRecord>> users;
  std::unordered_map<std::string, std::optional<Vector>> posts;  // unit vectors
  // Engagements the group's earlier events made (EngagementKey), and users
  // it deleted (their stored marks are gone).
  std::unordered_set<std::string> engaged;
  std::unordered_set<std::string> deleted_users;
  FoldInGroup foldins;  // users' fold-in states this group changed (engine_feedback.cc)
};

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
// clang 14 has no class template argument deduction for aggregates.
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// Validates and normalises a vector given by a caller.
Status PrepareVector(Vector& v, int dim) {
  if (v.size() != static_cast<size_t>(dim)) {
    return Status::WrongDim("expected " + std::to_string(dim) + ", got " + std::to_string(v.size()));
  }
  BF_RETURN_IF_ERROR(CheckVector(v));
  Normalize(v);
  return Status::OK();
}

// The user id an op reads and writes, if any.
const std::string* UserOf(const WriteOp& op) {
  if (const auto* u = std::get_if<UserUpdate>(&op)) return &u->id;
  if (const auto* d = std::get_if<DeleteUserOp>(&op)) return &d->id;
  if (const auto* e = std::get_if<EventOp>(&op)) return &e->user;
  return nullptr;
}

// User, post and engagement kind, for PendingWrites::engaged.
std::string EngagementKey(const EventOp& e) {
  std::string k = e.user;
  k.push_back('\0');
  k += e.post;
  k.push_back(static_cast<char>(EngagementOf(e.type)));
  return k;
}

bool WritesPosts(const WriteOp& op) {
  return std::holds_alternative<PostInput>(op) || std::holds_alternative<DeletePostOp>(op);
}

}  // namespace

Status EngineImpl::PrepareOp(const WriteOp& op, PendingWrites& pending, StoreOp* out) {
  // The user as the group has it so far: a fresh record when there is none.
  auto user_of = [&](const std::string& id) -> Result<UserRecord> {
    if (auto it = pending.users.find(id); it != pending.users.end()) {
      UserRecord rec = it->second.value_or(UserRecord{});
      rec.id = id;
      return rec;
    }
    auto stored = store_->GetUser(id);
    if (!stored.ok()) return stored.status();
    UserRecord rec = stored->value_or(UserRecord{});
    rec.id = id;
    return rec;
  };

  return std::visit(
      Overloaded{
          [&](const UserUpdate& u) -> Status {
            BF_RETURN_IF_ERROR(CheckId("user", u.id));
            std::optional<std::string> culture;
            if (u.culture) {
              auto c = CanonicalCulture(*u.culture);
              if (!c.ok()) return c.status();
              culture = *c;
            }
            if (u.langs) {
              for (const std::string& l : *u.langs) BF_RETURN_IF_ERROR(CheckLang(l));
            }
            if (u.openness) BF_RETURN_IF_ERROR(CheckOpenness(*u.openness));
            std::optional<Vector> vec = u.vector;
            if (vec) BF_RETURN_IF_ERROR(PrepareVector(*vec, options_.dim));
            auto rec = user_of(u.id);
            if (!rec.ok()) return rec.status();
            if (culture) rec->culture = *culture;
            if (u.langs) rec->langs = *u.langs;
            if (u.openness) rec->openness = static_cast<float>(*u.openness);
            if (vec) BF_RETURN_IF_ERROR(SetPrior(*rec, std::move(*vec), pending.foldins));
            pending.users[u.id] = *rec;
            *out = std::move(rec).value();
            return Status::OK();
          },
          [&](const DeleteUserOp& d) -> Status {
            BF_RETURN_IF_ERROR(CheckId("user", d.id));
            pending.users[d.id] = std::nullopt;
            pending.deleted_users.insert(d.id);
            pending.foldins.cache = &foldins_;
            pending.foldins.states[d.id] = nullptr;
            *out = DeleteUserWrite{d.id};
            return Status::OK();
          },
          [&](const PostInput& in) -> Status {
            BF_RETURN_IF_ERROR(CheckId("post", in.id));
            BF_RETURN_IF_ERROR(CheckId("author", in.author));
            auto culture = CanonicalCulture(in.culture);
            if (!culture.ok()) return culture.status();
            if (in.lang) BF_RETURN_IF_ERROR(CheckLang(*in.lang));
            if (in.ts) BF_RETURN_IF_ERROR(CheckTs(*in.ts, NowSeconds()));
            PostRecord rec;
            rec.vector = in.vector;
            if (rec.vector.empty() && text_model_ != nullptr &&
                (!in.title.empty() || !in.text.empty())) {
              PostInput text = in;
              BF_RETURN_IF_ERROR(TextVector(text));
              rec.vector = std::move(text.vector);
            }
            // No vector: served by the fresh and bridging sources until a
            // TRAIN gives it one (docs/learning.md).
            if (!rec.vector.empty()) BF_RETURN_IF_ERROR(PrepareVector(rec.vector, options_.dim));
            rec.prior = rec.vector;  // the given (or text) vector is the prior
            rec.id = in.id;
            rec.author = in.author;
            rec.culture = std::move(culture).value();
            rec.lang = in.lang.value_or("");
            rec.ts = in.ts.value_or(kKeepTs);  // a replace without TS keeps the post's ts
            rec.tags = in.tags;
            rec.title = in.title;
            pending.posts[rec.id] = rec.vector;
            *out = std::move(rec);
            return Status::OK();
          },
          [&](const DeletePostOp& d) -> Status {
            BF_RETURN_IF_ERROR(CheckId("post", d.id));
            pending.posts[d.id] = std::nullopt;
            *out = DeletePostWrite{d.id};
            return Status::OK();
          },
          [&](const EventOp& e) -> Status {
            BF_RETURN_IF_ERROR(CheckId("user", e.user));
            BF_RETURN_IF_ERROR(CheckId("post", e.post));
            if (e.ts) BF_RETURN_IF_ERROR(CheckTs(*e.ts, NowSeconds()));
            EventWrite ev;
            Vector post_vec;
            std::optional<uint64_t> known_iid;  // for the stored engagement marks
            if (auto it = pending.posts.find(e.post); it != pending.posts.end()) {
              if (!it->second) return Status::NotFound("post");
              post_vec = *it->second;  // post_iid 0: the store finds the post by id
              std::shared_lock lock(table_mu_);
              known_iid = table_.Find(e.post);  // replaced in the group: same iid
            } else {
              std::shared_lock lock(table_mu_);
              auto iid = table_.Find(e.post);
              if (!iid) return Status::NotFound("post");
              ev.post_iid = *iid;
              known_iid = *iid;
              if (table_.Get(*iid).has_vector) {
                auto v = table_.VectorOf(*iid);
                post_vec.assign(v.begin(), v.end());
              }
            }
            ev.post_id = e.post;
            ev.type = e.type;
            ev.ts = e.ts.value_or(NowSeconds());
            if (e.counters_only) {
              ev.user.id = e.user;
              ev.viewer_culture = e.viewer_culture.value_or("");
              ev.counters_only = true;
              *out = std::move(ev);
              return Status::OK();
            }
            auto rec = user_of(e.user);
            if (!rec.ok()) return rec.status();
            // People, not clicks: a repeat of an engagement kind on a post
            // (this group's or a stored mark) is logged and refreshes recency
            // but moves neither the user's counters nor vector; the store
            // applies the same rule to the post's counters.
            std::string engagement = EngagementKey(e);
            bool repeat = pending.engaged.count(engagement) > 0;
            if (!repeat && known_iid && pending.deleted_users.count(e.user) == 0) {
              auto stored = store_->HasEngaged(e.user, *known_iid, e.type);
              if (!stored.ok()) return stored.status();
              repeat = *stored;
            }
            pending.engaged.insert(std::move(engagement));
            if (!repeat) {  // a repeat writes the record unchanged
              if (IsPositive(e.type)) ++rec->positives;
              if (IsNegative(e.type)) ++rec->negatives;
              BF_RETURN_IF_ERROR(
                  ApplyFeedback(*rec, ev.post_iid, post_vec, e.type, ev.ts, pending.foldins));
            }
            pending.users[e.user] = *rec;
            ev.viewer_culture = e.viewer_culture.value_or(rec->culture);
            ev.user = std::move(rec).value();
            *out = std::move(ev);
            return Status::OK();
          },
      },
      op);
}

Result<std::vector<WriteOutcome>> EngineImpl::Write(std::span<const WriteOp> ops,
                                                    const WriteOptions& options) {
  BF_RETURN_IF_ERROR(CheckOpen());
  uint64_t post_writes = 0;
  auto outcomes = WriteLocked(ops, options, &post_writes);
  // Adds, replaces and deletes all leave tombstones or grow the corpus.
  if (post_writes > 0) MaybeRebuild(post_writes);
  return outcomes;
}

Result<std::vector<WriteOutcome>> EngineImpl::WriteLocked(std::span<const WriteOp> ops,
                                                          const WriteOptions& options,
                                                          uint64_t* adds) {
  // Every user's stripe, in address order so two groups cannot deadlock;
  // then write_mu_ when posts change (store, table, index in that order) or
  // when the group has several ops, so no post an event names is deleted
  // between its check here and the commit.
  std::vector<std::mutex*> stripes;
  bool posts = ops.size() > 1;
  for (const WriteOp& op : ops) {
    if (const std::string* user = UserOf(op)) stripes.push_back(&UserLock(*user));
    posts = posts || WritesPosts(op);
  }
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  std::vector<std::unique_lock<std::mutex>> held;
  held.reserve(stripes.size());
  for (std::mutex* m : stripes) held.emplace_back(*m);
  std::unique_lock<std::mutex> write;
  if (posts) write = std::unique_lock(write_mu_);

  std::vector<WriteOutcome> outcomes(ops.size());
  std::vector<StoreOp> prepared;
  std::vector<size_t> op_of;  // prepared[j] is ops[op_of[j]]
  prepared.reserve(ops.size());
  PendingWrites pending;
  for (size_t i = 0; i < ops.size(); ++i) {
    StoreOp out;
    Status st = PrepareOp(ops[i], pending, &out);
    if (!st.ok()) {
      if (options.all_or_nothing) return st;
      outcomes[i].status = std::move(st);
      continue;
    }
    prepared.push_back(std::move(out));
    op_of.push_back(i);
  }
  if (prepared.empty() && !options.applied_log_seq) return outcomes;

  auto stored = CommitAndPublish(prepared, options);
  if (!stored.ok()) return stored.status();
  pending.foldins.stored = true;
  for (size_t j = 0; j < prepared.size(); ++j) {
    StoreOpResult& r = (*stored)[j];
    WriteOutcome& o = outcomes[op_of[j]];
    o.status = std::move(r.status);
    o.existed = r.existed;
    if (const auto* ev = std::get_if<EventWrite>(&prepared[j]); ev && !o.status.ok()) {
      pending.foldins.states[ev->user.id] = nullptr;  // not stored: its state counts it
    }
    if (o.status.ok() && (std::holds_alternative<PostRecord>(prepared[j]) ||
                          (std::holds_alternative<DeletePostWrite>(prepared[j]) && r.existed))) {
      ++*adds;
    }
  }
  return outcomes;
}

Result<std::vector<StoreOpResult>> EngineImpl::CommitAndPublish(std::span<const StoreOp> ops,
                                                                const WriteOptions& options) {
  StoreWriteOptions so;
  so.skip_failed = !options.all_or_nothing;
  so.applied_log_seq = options.applied_log_seq;
  auto stored = store_->Write(ops, so);
  if (!stored.ok()) return stored.status();

  // Stored: now the table, in one critical section so a FEED sees all of
  // the group or none of it; viewer codes first (the store assigned new ones).
  std::vector<uint16_t> viewers(ops.size(), kNoCulture);
  uint64_t events = 0;
  for (size_t j = 0; j < ops.size(); ++j) {
    const auto* ev = std::get_if<EventWrite>(&ops[j]);
    if (ev != nullptr && (*stored)[j].status.ok()) viewers[j] = ViewerCulture(ev->viewer_culture);
  }
  {
    std::unique_lock lock(table_mu_);
    for (size_t j = 0; j < ops.size(); ++j) {
      const StoreOpResult& r = (*stored)[j];
      if (!r.status.ok()) continue;
      if (std::holds_alternative<PostRecord>(ops[j])) {
        // A replaced or deleted post's trained factor leaves the fold-in Gramian.
        if (table_.IsLive(r.post.iid)) gramian_.Forget(r.post.iid, table_.VectorOf(r.post.iid));
        table_.Upsert(r.post);
      } else if (std::holds_alternative<DeletePostWrite>(ops[j]) && r.existed) {
        if (table_.IsLive(r.iid)) gramian_.Forget(r.iid, table_.VectorOf(r.iid));
        table_.Remove(r.iid);
      } else if (const auto* ev = std::get_if<EventWrite>(&ops[j])) {
        const EventType t = ev->type;
        if (r.counted) {  // the store decided, under its write lock
          table_.AddStats(r.iid, viewers[j], t == EventType::kView ? 1 : 0,
                          IsPositive(t) ? 1 : 0, IsNegative(t) ? 1 : 0);
        }
        ++events;
      }
    }
  }
  events_ += events;

  // The index last (write_mu_ is held when there are post writes).
  Status index_status;
  for (size_t j = 0; j < ops.size(); ++j) {
    const StoreOpResult& r = (*stored)[j];
    if (!r.status.ok()) continue;
    if (std::holds_alternative<PostRecord>(ops[j])) {
      if (r.post.vector.empty()) {
        index()->Remove(r.post.iid);  // a replace that dropped the vector
        continue;
      }
      Status st = index()->Add(r.post.iid, r.post.culture_code, r.post.vector);
      if (!st.ok() && index_status.ok()) index_status = std::move(st);
    } else if (std::holds_alternative<DeletePostWrite>(ops[j]) && r.existed) {
      index()->Remove(r.iid);
      if (rebuilding_) deleted_during_rebuild_.push_back(r.iid);
    }
  }
  if (!index_status.ok()) return index_status;
  return stored;
}

Result<WriteOutcome> EngineImpl::WriteOne(WriteOp op) {
  auto outcomes = Write(std::span<const WriteOp>(&op, 1), WriteOptions{});
  if (!outcomes.ok()) return outcomes.status();
  return std::move((*outcomes)[0]);
}

uint64_t EngineImpl::AppliedLogSeq() const { return store_->AppliedLogSeq(); }

}  // namespace bf
