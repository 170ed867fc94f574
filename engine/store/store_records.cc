// Store on RocksDB: posts, counters, users, seen marks and events.
#include <algorithm>
#include <chrono>
#include <map>

#include "engine/store/internal/store_impl.h"

namespace bf::internal {
namespace {

int64_t WallSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void CountDelta(EventType t, int64_t* imp, int64_t* pos, int64_t* neg) {
  *imp = t == EventType::kView ? 1 : 0;
  *pos = IsPositive(t) ? 1 : 0;
  *neg = IsNegative(t) ? 1 : 0;
}

// The seen mark an event leaves, if any.
std::optional<SeenKind> SeenKindOf(EventType t) {
  if (t == EventType::kView) return SeenKind::kViewed;
  if (IsNegative(t)) return SeenKind::kHidden;
  return std::nullopt;
}

Status CheckVectorDim(const Vector& v, int dim) {
  if (v.size() != static_cast<size_t>(dim))
    return Status::WrongDim("expected " + std::to_string(dim) + ", got " +
                            std::to_string(v.size()));
  return CheckVector(v);
}


}  // namespace

// Posts ---------------------------------------------------------------------

Status StoreImpl::ValidatePost(PostRecord* post) const {
  BF_RETURN_IF_ERROR(CheckStoredId(post->id, "post"));
  BF_RETURN_IF_ERROR(CheckStoredId(post->author, "author"));
  auto culture = CanonicalCulture(post->culture);
  if (!culture.ok()) return culture.status();
  post->culture = std::move(*culture);
  if (!post->prior.empty()) BF_RETURN_IF_ERROR(CheckVectorDim(post->prior, dim_));
  if (post->vector.empty()) return Status::OK();
  return CheckVectorDim(post->vector, dim_);
}

Status StoreImpl::ApplyPost(Txn& t, PostRecord* post) {
  bool reborn = false;  // takes back a retired iid
  auto old = t.Get(kPosts, post->id);
  if (!old.ok()) return old.status();
  if (old->has_value()) {
    PostRecord prev;  // a replace keeps the internal id, so counters survive
    BF_RETURN_IF_ERROR(DecodePost(**old, &prev));
    post->iid = prev.iid;
    if (post->ts == kKeepTs) post->ts = prev.ts;
  } else {
    // A deleted post's id takes back its internal id, so the marks users
    // left on it (hidden, served, engaged) apply to the re-added post.
    auto retired = t.Get(kRetired, post->id);
    if (!retired.ok()) return retired.status();
    if (retired->has_value()) {
      if ((**retired).size() != 8) return Status::Corruption("damaged retired post id");
      post->iid = DecodeBigEndian64(**retired);
      reborn = true;
    } else {
      post->iid = t.counters.next_iid++;
    }
    ++t.counters.posts;
  }
  if (post->ts == kKeepTs) post->ts = WallSeconds();
  post->seq = ++t.counters.seq;
  auto code = t.Culture(post->culture);
  if (!code.ok()) return code.status();
  post->culture_code = *code;
  // Staged only now: a failing op leaves nothing in the batch.
  if (reborn) t.Delete(kRetired, post->id);
  t.Put(kPosts, post->id, EncodePost(*post));
  t.Put(kPostIds, BigEndian64(post->iid), post->id);
  return Status::OK();
}

Result<PostRecord> StoreImpl::PutPost(PostRecord post) {
  if (read_only_) return ReadOnly();
  BF_RETURN_IF_ERROR(ValidatePost(&post));
  std::lock_guard lock(write_mu_);
  Txn t(this);
  BF_RETURN_IF_ERROR(ApplyPost(t, &post));
  BF_RETURN_IF_ERROR(t.Commit());
  return post;
}

Status StoreImpl::PutPosts(std::vector<PostRecord>& posts) {
  if (read_only_) return ReadOnly();
  // Validate everything first, so bad input writes nothing.
  for (auto& p : posts) BF_RETURN_IF_ERROR(ValidatePost(&p));
  for (size_t begin = 0; begin < posts.size(); begin += kBulkChunk) {
    const size_t end = std::min(posts.size(), begin + kBulkChunk);
    std::lock_guard lock(write_mu_);
    Txn t(this);
    for (size_t i = begin; i < end; ++i) BF_RETURN_IF_ERROR(ApplyPost(t, &posts[i]));
    BF_RETURN_IF_ERROR(t.Commit());
  }
  return Status::OK();
}

Result<std::optional<PostRecord>> StoreImpl::GetPost(std::string_view id) const {
  BF_RETURN_IF_ERROR(CheckStoredId(id, "post"));
  auto raw = Get(kPosts, id);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<PostRecord>();
  PostRecord p;
  BF_RETURN_IF_ERROR(DecodeStoredPost(**raw, &p));
  return std::optional<PostRecord>(std::move(p));
}

Result<std::vector<std::optional<PostRecord>>> StoreImpl::GetPosts(
    std::span<const std::string> ids) const {
  for (const std::string& id : ids) BF_RETURN_IF_ERROR(CheckStoredId(id, "post"));
  std::vector<std::optional<PostRecord>> out;
  // One MultiGet reads every key at one sequence: a consistent view without a snapshot.
  BF_RETURN_IF_ERROR(MultiGetPosts(rocksdb::ReadOptions(), ids, &out));
  return out;
}

Status StoreImpl::MultiGetPosts(const rocksdb::ReadOptions& ro, std::span<const std::string> ids,
                                std::vector<std::optional<PostRecord>>* out) const {
  out->assign(ids.size(), std::nullopt);
  if (ids.empty()) return Status::OK();
  std::vector<rocksdb::Slice> keys(ids.begin(), ids.end());
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(keys.size(), cf(kPosts));
  std::vector<std::string> values;
  const auto statuses = db_->MultiGet(ro, cfs, keys, &values);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    BF_RETURN_IF_ERROR(FromRocks(statuses[i], "read post"));
    PostRecord p;
    BF_RETURN_IF_ERROR(DecodeStoredPost(values[i], &p));
    (*out)[i] = std::move(p);
  }
  return Status::OK();
}

Result<std::optional<uint64_t>> StoreImpl::DeletePost(std::string_view id) {
  if (read_only_) return ReadOnly();
  BF_RETURN_IF_ERROR(CheckStoredId(id, "post"));
  std::lock_guard lock(write_mu_);
  Txn t(this);
  auto gone = ApplyDeletePost(t, id);
  if (!gone.ok() || !gone->has_value()) return gone;
  BF_RETURN_IF_ERROR(t.Commit());
  return gone;
}

Result<std::optional<uint64_t>> StoreImpl::ApplyDeletePost(Txn& t, std::string_view id) {
  auto old = t.Get(kPosts, id);
  if (!old.ok()) return old.status();
  if (!old->has_value()) return std::optional<uint64_t>();
  PostRecord prev;
  BF_RETURN_IF_ERROR(DecodePost(**old, &prev));
  t.Delete(kPosts, id);
  t.Delete(kPostIds, BigEndian64(prev.iid));
  t.Put(kRetired, id, BigEndian64(prev.iid));
  // Every counter row of the post: keys iid + culture.
  const std::string lo = BigEndian64(prev.iid);
  t.batch.DeleteRange(cf(kStats), lo, PrefixSuccessor(lo));
  ++t.counters.seq;
  --t.counters.posts;
  return std::optional<uint64_t>(prev.iid);
}

Status StoreImpl::DecodeStoredPost(std::string_view bytes, PostRecord* p) const {
  BF_RETURN_IF_ERROR(DecodePost(bytes, p));
  const auto wrong = [&](const Vector& v) {
    return !v.empty() && v.size() != static_cast<size_t>(dim_);
  };
  if (wrong(p->vector) || wrong(p->prior))
    return Status::Corruption("post record has a vector of the wrong size");
  return Status::OK();
}

Status StoreImpl::ForEachPost(const std::function<bool(const PostRecord&)>& fn) const {
  Snap snap(db_, !read_only_);
  rocksdb::ReadOptions ro;
  ro.snapshot = snap.get();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(kPostIds)));
  // Records live under their string ids: fetch them in chunks with MultiGet.
  constexpr size_t kChunk = 256;
  std::vector<std::string> ids;
  bool stop = false;
  std::vector<std::optional<PostRecord>> posts;
  auto flush = [&]() -> Status {
    BF_RETURN_IF_ERROR(MultiGetPosts(ro, ids, &posts));
    for (size_t i = 0; i < posts.size() && !stop; ++i) {
      if (!posts[i]) return Status::Corruption("post_ids names a missing post");
      stop = !fn(*posts[i]);
    }
    ids.clear();
    return Status::OK();
  };
  for (it->SeekToFirst(); it->Valid() && !stop; it->Next()) {
    if (it->key().size() != 8) return Status::Corruption("damaged post_ids key");
    ids.emplace_back(ToView(it->value()));
    if (ids.size() == kChunk) BF_RETURN_IF_ERROR(flush());
  }
  BF_RETURN_IF_ERROR(FromRocks(it->status(), "scan posts"));
  if (!stop && !ids.empty()) BF_RETURN_IF_ERROR(flush());
  return Status::OK();
}

Status StoreImpl::ScanPosts(const std::function<bool(const PostRecord&)>& fn) const {
  Snap snap(db_, !read_only_);
  rocksdb::ReadOptions ro;
  ro.snapshot = snap.get();
  ro.readahead_size = 2 << 20;  // sequential: read ahead on a cold page cache
  ro.fill_cache = false;        // one pass; keep the block cache for serving
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(kPosts)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    PostRecord p;
    BF_RETURN_IF_ERROR(DecodeStoredPost(ToView(it->value()), &p));
    if (!fn(p)) return Status::OK();
  }
  return FromRocks(it->status(), "scan posts");
}

// Counters ------------------------------------------------------------------

Result<std::vector<CultureCounts>> StoreImpl::GetStats(uint64_t iid) const {
  const std::string lo = BigEndian64(iid), hi = PrefixSuccessor(lo);
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper(hi);
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(kStats)));
  std::vector<CultureCounts> out;
  for (it->Seek(lo); it->Valid(); it->Next()) {
    CultureCounts c;
    BF_RETURN_IF_ERROR(DecodeCounts(ToView(it->value()), &c));
    c.culture = std::string(ToView(it->key()).substr(8));
    out.push_back(std::move(c));
  }
  BF_RETURN_IF_ERROR(FromRocks(it->status(), "read stats"));
  return out;
}

Status StoreImpl::ForEachStats(
    const std::function<bool(uint64_t, const CultureCounts&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kStats)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() < 8) return Status::Corruption("damaged stats key");
    CultureCounts c;
    BF_RETURN_IF_ERROR(DecodeCounts(ToView(it->value()), &c));
    c.culture = std::string(ToView(it->key()).substr(8));
    if (!fn(DecodeBigEndian64(ToView(it->key())), c)) return Status::OK();
  }
  return FromRocks(it->status(), "scan stats");
}

// Users ---------------------------------------------------------------------

Status StoreImpl::ValidateUser(UserRecord* user) const {
  BF_RETURN_IF_ERROR(CheckStoredId(user->id, "user"));
  if (!user->culture.empty()) {
    auto culture = CanonicalCulture(user->culture);
    if (!culture.ok()) return culture.status();
    user->culture = std::move(*culture);
  }
  if (!(user->openness <= 1.0f))  // also catches NaN
    return Status::Invalid("openness must be in [0, 1]");
  if (!user->vector.empty()) BF_RETURN_IF_ERROR(CheckVectorDim(user->vector, dim_));
  if (!user->prior.empty()) BF_RETURN_IF_ERROR(CheckVectorDim(user->prior, dim_));
  return Status::OK();
}

Status StoreImpl::ApplyUser(Txn& t, const UserRecord& user) {
  auto old = t.Get(kUsers, user.id);
  if (!old.ok()) return old.status();
  if (!old->has_value()) ++t.counters.users;
  if (!user.culture.empty()) {
    auto code = t.Culture(user.culture);
    if (!code.ok()) return code.status();
  }
  t.Put(kUsers, user.id, EncodeUser(user));
  return Status::OK();
}

Status StoreImpl::PutUser(const UserRecord& user) { return PutUsers({user}); }

Status StoreImpl::PutUsers(const std::vector<UserRecord>& users) {
  if (read_only_) return ReadOnly();
  std::vector<UserRecord> valid = users;
  for (auto& u : valid) BF_RETURN_IF_ERROR(ValidateUser(&u));
  for (size_t begin = 0; begin < valid.size(); begin += kBulkChunk) {
    const size_t end = std::min(valid.size(), begin + kBulkChunk);
    std::lock_guard lock(write_mu_);
    Txn t(this);
    for (size_t i = begin; i < end; ++i) BF_RETURN_IF_ERROR(ApplyUser(t, valid[i]));
    BF_RETURN_IF_ERROR(t.Commit());
  }
  return Status::OK();
}

Result<std::optional<UserRecord>> StoreImpl::GetUser(std::string_view id) const {
  BF_RETURN_IF_ERROR(CheckStoredId(id, "user"));
  auto raw = Get(kUsers, id);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<UserRecord>();
  UserRecord u;
  BF_RETURN_IF_ERROR(DecodeUser(**raw, &u));
  if ((!u.vector.empty() && u.vector.size() != static_cast<size_t>(dim_)) ||
      (!u.prior.empty() && u.prior.size() != static_cast<size_t>(dim_)))
    return Status::Corruption("user record has a vector of the wrong size");
  return std::optional<UserRecord>(std::move(u));
}

Result<bool> StoreImpl::DeleteUser(std::string_view id) {
  if (read_only_) return ReadOnly();
  BF_RETURN_IF_ERROR(CheckStoredId(id, "user"));
  std::lock_guard lock(write_mu_);
  Txn t(this);
  auto existed = ApplyDeleteUser(t, id);
  if (!existed.ok()) return existed;
  BF_RETURN_IF_ERROR(t.Commit());
  return existed;
}

Result<bool> StoreImpl::ApplyDeleteUser(Txn& t, std::string_view id) {
  auto old = t.Get(kUsers, id);
  if (!old.ok()) return old.status();
  const bool existed = old->has_value();
  const std::string lo = UserPrefix(id), hi = PrefixSuccessor(lo);
  // The event count in meta must drop by the events removed: count them
  // (stored ones, plus those staged earlier in this batch).
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper(hi);
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(kEvents)));
  uint64_t events = 0;
  for (it->Seek(lo); it->Valid(); it->Next()) ++events;
  BF_RETURN_IF_ERROR(FromRocks(it->status(), "scan events"));
  if (auto staged = t.staged_events.find(std::string(id)); staged != t.staged_events.end()) {
    events += staged->second;
    t.staged_events.erase(staged);
  }

  if (existed) {
    t.Delete(kUsers, id);
    --t.counters.users;
  }
  t.batch.DeleteRange(cf(kSeen), lo, hi);
  t.batch.DeleteRange(cf(kEngaged), lo, hi);
  if (events > 0) t.batch.DeleteRange(cf(kEvents), lo, hi);
  t.counters.events -= events;
  return existed;
}

// Feedback ------------------------------------------------------------------

void StoreImpl::ApplySeen(Txn& t, std::string_view user, uint64_t iid, SeenKind kind,
                          int64_t ts) {
  // A merge, not a read-modify-write: the seen operator keeps hidden marks.
  t.batch.Merge(cf(kSeen), SeenKey(user, iid), EncodeSeen(kind, ts));
}

Result<uint64_t> StoreImpl::ApplyEvent(Txn& t, const EventWrite& e, bool* counted) {
  uint64_t iid = e.post_iid;
  if (iid == 0) {  // a post written earlier in the same batch: find it by id
    auto raw = t.Get(kPosts, e.post_id);
    if (!raw.ok()) return raw.status();
    if (!raw->has_value()) return Status::NotFound("post");
    PostRecord p;
    BF_RETURN_IF_ERROR(DecodePost(**raw, &p));
    iid = p.iid;
  } else {
    auto mapped = t.Get(kPostIds, BigEndian64(iid));
    if (!mapped.ok()) return mapped.status();
    // Checked under the lock: a post deleted meanwhile gets no counter row back.
    if (!mapped->has_value()) return Status::NotFound("post");
  }
  if (e.counters_only) {
    if (!e.viewer_culture.empty()) {
      auto code = t.Culture(e.viewer_culture);
      if (!code.ok()) return code.status();
    }
  } else {
    BF_RETURN_IF_ERROR(ApplyUser(t, e.user));
  }

  // People, not clicks: only the user's first event of a kind counts; a
  // repeat refreshes the mark's time. Nodes that keep only the counters
  // (cluster, counters_only) keep the marks too, so they count alike.
  const std::string mark = EngagedKey(e.user.id, iid, EngagementOf(e.type));
  auto engaged = t.Get(kEngaged, mark);
  if (!engaged.ok()) return engaged.status();
  *counted = !engaged->has_value();
  if (*counted) {
    int64_t imp, pos, neg;
    CountDelta(e.type, &imp, &pos, &neg);
    t.batch.Merge(cf(kStats), StatsKey(iid, e.viewer_culture), EncodeCounts(imp, pos, neg));
  }
  t.Put(kEngaged, mark, EncodeTs(e.ts));
  if (!e.counters_only) {
    if (auto kind = SeenKindOf(e.type)) ApplySeen(t, e.user.id, iid, *kind, e.ts);
  }

  // Every node logs every event, its users' or not: TRAIN reads the whole
  // log, so that all nodes of a cluster learn the same post factors.
  EventEntry entry{e.post_id, iid, e.type, e.ts, e.viewer_culture};
  t.batch.Put(cf(kEvents), EventKey(e.user.id, t.counters.next_event++), EncodeEvent(entry));
  ++t.counters.events;
  ++t.staged_events[e.user.id];
  return iid;
}

Status StoreImpl::ValidateEvent(EventWrite* e) const {
  if (e->counters_only) {
    BF_RETURN_IF_ERROR(CheckStoredId(e->user.id, "user"));
  } else {
    BF_RETURN_IF_ERROR(ValidateUser(&e->user));
  }
  if (static_cast<uint8_t>(e->type) > static_cast<uint8_t>(kLastEventType))
    return Status::Invalid("unknown event type");
  if (e->post_iid == 0) BF_RETURN_IF_ERROR(CheckStoredId(e->post_id, "post"));
  if (!e->viewer_culture.empty()) {
    auto c = CanonicalCulture(e->viewer_culture);
    if (!c.ok()) return c.status();
    e->viewer_culture = std::move(*c);
  }
  return Status::OK();
}

Status StoreImpl::RecordEvent(const EventWrite& event, bool* counted) {
  auto done = Write(std::span<const StoreOp>(std::vector<StoreOp>{event}), StoreWriteOptions{});
  if (!done.ok()) return done.status();
  if (counted != nullptr) *counted = (*done)[0].counted;
  return Status::OK();
}

Result<bool> StoreImpl::HasEngaged(std::string_view user, uint64_t iid, EventType type) const {
  BF_RETURN_IF_ERROR(CheckStoredId(user, "user"));
  auto mark = Get(kEngaged, EngagedKey(user, iid, EngagementOf(type)));
  if (!mark.ok()) return mark.status();
  return mark->has_value();
}

Status StoreImpl::RecordEvents(const std::vector<EventWrite>& events) {
  if (read_only_) return ReadOnly();
  std::vector<EventWrite> valid = events;
  for (auto& e : valid) BF_RETURN_IF_ERROR(ValidateEvent(&e));
  for (size_t begin = 0; begin < valid.size(); begin += kBulkChunk) {
    const size_t end = std::min(valid.size(), begin + kBulkChunk);
    std::lock_guard lock(write_mu_);
    Txn t(this);
    bool counted;
    for (size_t i = begin; i < end; ++i) {
      auto applied = ApplyEvent(t, valid[i], &counted);
      if (!applied.ok()) return applied.status();
    }
    BF_RETURN_IF_ERROR(t.Commit());
  }
  return Status::OK();
}

Status StoreImpl::KeysExist(Cf c, const std::vector<std::string>& keys,
                            std::vector<bool>* found) const {
  constexpr size_t kChunk = 1024;
  found->assign(keys.size(), false);
  for (size_t begin = 0; begin < keys.size(); begin += kChunk) {
    const size_t end = std::min(keys.size(), begin + kChunk);
    std::vector<rocksdb::Slice> slices(keys.begin() + begin, keys.begin() + end);
    std::vector<rocksdb::PinnableSlice> values(slices.size());
    std::vector<rocksdb::Status> statuses(slices.size());
    // Sorted keys: the batched MultiGet reads each block once.
    db_->MultiGet(rocksdb::ReadOptions(), cf(c), slices.size(), slices.data(), values.data(),
                  statuses.data(), /*sorted_input=*/true);
    for (size_t i = 0; i < statuses.size(); ++i) {
      if (statuses[i].IsNotFound()) continue;
      BF_RETURN_IF_ERROR(FromRocks(statuses[i], "read keys"));
      (*found)[begin + i] = true;
    }
  }
  return Status::OK();
}

Status StoreImpl::CheckLivePosts(const std::vector<uint64_t>& iids) const {
  std::vector<std::string> keys;
  keys.reserve(iids.size());
  for (uint64_t iid : iids) keys.push_back(BigEndian64(iid));
  std::vector<bool> live;
  BF_RETURN_IF_ERROR(KeysExist(kPostIds, keys, &live));
  if (std::find(live.begin(), live.end(), false) != live.end()) return Status::NotFound("post");
  return Status::OK();
}

Status StoreImpl::ImportEvents(std::span<const ImportedEvent> events) {
  if (read_only_) return ReadOnly();
  std::vector<std::string> cultures(events.size());
  std::vector<uint64_t> iids;
  iids.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    const ImportedEvent& e = events[i];
    BF_RETURN_IF_ERROR(CheckStoredId(e.user, "user"));
    if (static_cast<uint8_t>(e.type) > static_cast<uint8_t>(kLastEventType))
      return Status::Invalid("unknown event type");
    if (!e.viewer_culture.empty()) {
      auto c = CanonicalCulture(e.viewer_culture);
      if (!c.ok()) return c.status();
      cultures[i] = std::move(*c);
    }
    iids.push_back(e.post_iid);
  }
  std::sort(iids.begin(), iids.end());
  iids.erase(std::unique(iids.begin(), iids.end()), iids.end());

  // Aggregate in memory: one stats merge per (post, culture), one seen mark
  // per (user, post). Sorted maps, because memtable inserts in key order
  // are several times cheaper than random ones.
  std::map<std::string, CultureCounts> stats;
  std::map<std::string, std::pair<SeenKind, int64_t>> seen;
  std::vector<std::pair<std::string, std::string>> log;  // event key, entry
  log.reserve(events.size());
  // Engaged marks: key -> (latest ts, may still count).
  std::vector<std::string> marks(events.size());
  std::map<std::string, std::pair<int64_t, bool>> engaged;
  for (size_t i = 0; i < events.size(); ++i) {
    const ImportedEvent& e = events[i];
    marks[i] = EngagedKey(e.user, e.post_iid, EngagementOf(e.type));
    engaged.try_emplace(marks[i], e.ts, false);
  }
  std::lock_guard lock(write_mu_);
  BF_RETURN_IF_ERROR(CheckLivePosts(iids));  // under the lock, as RecordEvents
  // A user counts once per post and kind, also against marks already stored.
  std::vector<std::string> mark_keys;
  mark_keys.reserve(engaged.size());
  for (const auto& [key, mark] : engaged) mark_keys.push_back(key);
  std::vector<bool> stored;
  BF_RETURN_IF_ERROR(KeysExist(kEngaged, mark_keys, &stored));
  std::vector<bool>::const_iterator was_stored = stored.begin();
  for (auto& [key, mark] : engaged) mark.second = !*was_stored++;  // still may count
  Txn t(this);
  for (size_t i = 0; i < events.size(); ++i) {
    const ImportedEvent& e = events[i];
    auto& mark = engaged.find(marks[i])->second;
    mark.first = e.ts;  // a repeat refreshes the time, not the counters
    if (mark.second) {
      mark.second = false;
      int64_t imp, pos, neg;
      CountDelta(e.type, &imp, &pos, &neg);
      CultureCounts& c = stats[StatsKey(e.post_iid, cultures[i])];
      c.impressions += imp;
      c.positives += pos;
      c.negatives += neg;
    }
    if (auto kind = SeenKindOf(e.type)) {
      auto [it, added] = seen.try_emplace(SeenKey(e.user, e.post_iid), *kind, e.ts);
      if (!added && !SeenKeepsOld(it->second.first, *kind)) it->second = {*kind, e.ts};
    }
    EventEntry entry{e.post_id, e.post_iid, e.type, e.ts, cultures[i]};
    log.emplace_back(EventKey(e.user, t.counters.next_event++), EncodeEvent(entry));
  }
  t.counters.events += events.size();
  std::sort(log.begin(), log.end());
  for (const auto& [key, value] : log) t.batch.Put(cf(kEvents), key, value);
  for (const auto& [key, c] : stats)
    t.batch.Merge(cf(kStats), key, EncodeCounts(c.impressions, c.positives, c.negatives));
  for (const auto& [key, mark] : seen)
    t.batch.Merge(cf(kSeen), key, EncodeSeen(mark.first, mark.second));
  for (const auto& [key, mark] : engaged) t.batch.Put(cf(kEngaged), key, EncodeTs(mark.first));
  return t.Commit();
}

Status StoreImpl::MarkServed(std::string_view user, std::span<const uint64_t> iids, int64_t ts) {
  if (read_only_) return ReadOnly();
  BF_RETURN_IF_ERROR(CheckStoredId(user, "user"));
  std::lock_guard lock(write_mu_);
  Txn t(this);
  for (uint64_t iid : iids) ApplySeen(t, user, iid, SeenKind::kServed, ts);
  return t.Commit();
}

Result<std::vector<SeenMark>> StoreImpl::GetSeen(std::string_view user) const {
  BF_RETURN_IF_ERROR(CheckStoredId(user, "user"));
  const std::string lo = UserPrefix(user), hi = PrefixSuccessor(lo);
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper(hi);
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(kSeen)));
  std::vector<SeenMark> out;
  for (it->Seek(lo); it->Valid(); it->Next()) {
    const std::string_view key = ToView(it->key());
    if (key.size() != lo.size() + 8) return Status::Corruption("damaged seen key");
    SeenMark m{DecodeBigEndian64(key.substr(lo.size())), SeenKind::kServed, 0};
    BF_RETURN_IF_ERROR(DecodeSeen(ToView(it->value()), &m.kind, &m.ts));
    out.push_back(m);
  }
  BF_RETURN_IF_ERROR(FromRocks(it->status(), "read seen marks"));
  return out;
}

Result<std::vector<StoredEvent>> StoreImpl::GetEvents(std::string_view user) const {
  BF_RETURN_IF_ERROR(CheckStoredId(user, "user"));
  const std::string lo = UserPrefix(user), hi = PrefixSuccessor(lo);
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper(hi);
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(kEvents)));
  std::vector<StoredEvent> out;
  EventEntry e;
  for (it->Seek(lo); it->Valid(); it->Next()) {
    BF_RETURN_IF_ERROR(DecodeEvent(ToView(it->value()), &e));
    out.push_back({e.post_iid, e.type, e.ts});
  }
  BF_RETURN_IF_ERROR(FromRocks(it->status(), "read events"));
  return out;
}

}  // namespace bf::internal
