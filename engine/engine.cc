#include "engine/engine.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "engine/internal/engine_impl.h"
#include "engine/store/layout.h"
#include "engine/ranking/ranker.h"

namespace bf {
namespace {

// Validates and normalises a vector given by a caller.
Status PrepareVector(Vector& v, int dim) {
  if (v.size() != static_cast<size_t>(dim)) {
    return Status::WrongDim("expected " + std::to_string(dim) + ", got " + std::to_string(v.size()));
  }
  BF_RETURN_IF_ERROR(CheckVector(v));
  Normalize(v);
  return Status::OK();
}

BridgingParams BridgingFrom(const RankingOptions& r) {
  return {r.bridge_a, r.bridge_b, r.bridge_min_impressions};
}

}  // namespace

Status CountError() {
  return Status::Invalid("COUNT must be an integer from 1 to " + std::to_string(kMaxCount));
}

Status OpennessError() { return Status::Invalid("OPENNESS must be a number from 0 to 1"); }

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}


Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  if (options.dim < 1 || options.dim > kMaxDim) {
    return Status::Invalid("dim must be 1 to " + std::to_string(kMaxDim));
  }
  auto engine = std::make_unique<EngineImpl>(options);
  BF_RETURN_IF_ERROR(engine->Init());
  return std::unique_ptr<Engine>(std::move(engine));
}

EngineImpl::EngineImpl(const EngineOptions& options)
    : options_(options), table_(options.dim, BridgingFrom(options.ranking)) {}

EngineImpl::~EngineImpl() { (void)Close(); }

Status EngineImpl::Init() {
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec) return Status::IOError("cannot create data dir " + options_.data_dir + ": " + ec.message());
  // The data dir holds everything users told us: private to its owner.
  ::chmod(options_.data_dir.c_str(), 0700);

  StoreOptions so;
  so.path = DbPath(options_.data_dir);
  so.dim = options_.dim;
  so.fsync = options_.fsync;
  auto store = Store::Open(so);
  if (!store.ok()) return store.status();
  store_ = std::move(store).value();
  BF_RETURN_IF_ERROR(store_->PutMeta(kIndexSpecMetaKey, options_.index.spec));

  // The in-memory columns, from the store.
  std::vector<std::string> cultures = store_->CultureNames();
  auto expected = store_->CountPosts();
  table_.BeginBulk(expected.ok() ? static_cast<size_t>(*expected) : 0);
  BF_RETURN_IF_ERROR(store_->ScanPosts([&](const PostRecord& p) {
    table_.Upsert(p);
    return true;
  }));
  table_.EndBulk();
  BF_RETURN_IF_ERROR(store_->ForEachStats([&](uint64_t iid, const CultureCounts& c) {
    auto code = c.culture.empty() ? std::optional<uint16_t>(kNoCulture)
                                  : store_->CultureCode(c.culture);
    table_.SetStats(iid, code.value_or(kNoCulture), c);
    return true;
  }));
  spdlog::info("engine: {} posts loaded from {}", table_.live(), so.path);

  BF_RETURN_IF_ERROR(OpenIndex());
  if (options_.snapshot_interval_s > 0) {
    snapshot_thread_ = std::thread([this] { SnapshotLoop(); });
  }
  return Status::OK();
}

std::mutex& EngineImpl::UserLock(std::string_view user) {
  return user_mu_[std::hash<std::string_view>()(user) % user_mu_.size()];
}

std::vector<uint8_t> EngineImpl::CultureMask(uint16_t code, bool only) const {
  std::vector<uint8_t> allowed(store_->CultureNames().size(), only ? 0 : 1);
  if (code < allowed.size()) allowed[code] = only ? 1 : 0;
  return allowed;
}


// Users ---------------------------------------------------------------------

Status EngineImpl::SetUser(const UserUpdate& u) {
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
  if (u.openness && !(*u.openness >= 0.0 && *u.openness <= 1.0)) {
    return OpennessError();
  }
  std::optional<Vector> vec = u.vector;
  if (vec) BF_RETURN_IF_ERROR(PrepareVector(*vec, options_.dim));
  if (culture) {
    auto code = store_->GetOrCreateCultureCode(*culture);
    if (!code.ok()) return code.status();
  }

  std::lock_guard lock(UserLock(u.id));
  auto existing = store_->GetUser(u.id);
  if (!existing.ok()) return existing.status();
  UserRecord rec = existing->value_or(UserRecord{});
  rec.id = u.id;
  if (culture) rec.culture = *culture;
  if (u.langs) rec.langs = *u.langs;
  if (u.openness) rec.openness = static_cast<float>(*u.openness);
  if (vec) rec.vector = std::move(*vec);
  return store_->PutUser(rec);
}

Result<std::optional<UserRecord>> EngineImpl::GetUser(std::string_view id) const {
  BF_RETURN_IF_ERROR(CheckId("user", id));
  return store_->GetUser(id);
}

Result<bool> EngineImpl::DeleteUser(std::string_view id) {
  BF_RETURN_IF_ERROR(CheckId("user", id));
  std::lock_guard lock(UserLock(id));
  return store_->DeleteUser(id);
}

// Posts ---------------------------------------------------------------------

Status EngineImpl::AddPost(PostInput in) {
  BF_RETURN_IF_ERROR(CheckId("post", in.id));
  BF_RETURN_IF_ERROR(CheckId("author", in.author));
  auto culture = CanonicalCulture(in.culture);
  if (!culture.ok()) return culture.status();
  if (in.lang) BF_RETURN_IF_ERROR(CheckLang(*in.lang));
  BF_RETURN_IF_ERROR(PrepareVector(in.vector, options_.dim));

  PostRecord rec;
  rec.id = std::move(in.id);
  rec.author = std::move(in.author);
  rec.culture = std::move(culture).value();
  rec.lang = std::move(in.lang).value_or("");
  rec.ts = in.ts.value_or(NowSeconds());
  rec.tags = std::move(in.tags);
  rec.title = std::move(in.title);
  rec.vector = std::move(in.vector);
  {
    std::lock_guard write(write_mu_);
    auto stored = store_->PutPost(std::move(rec));
    if (!stored.ok()) return stored.status();
    {
      std::unique_lock lock(table_mu_);
      table_.Upsert(*stored);
    }
    BF_RETURN_IF_ERROR(index()->Add(stored->iid, stored->culture_code, stored->vector));
  }
  if (++adds_since_check_ % 1024 == 0) MaybeRebuild();
  return Status::OK();
}

Result<std::optional<PostInfo>> EngineImpl::GetPost(std::string_view id) const {
  BF_RETURN_IF_ERROR(CheckId("post", id));
  auto rec = store_->GetPost(id);
  if (!rec.ok()) return rec.status();
  if (!rec->has_value()) return std::optional<PostInfo>();
  PostInfo info;
  info.record = std::move(**rec);
  auto stats = store_->GetStats(info.record.iid);
  if (!stats.ok()) return stats.status();
  info.by_culture = std::move(stats).value();
  std::vector<CultureStat> cs;
  for (const CultureCounts& c : info.by_culture) {
    info.impressions += c.impressions;
    info.positives += c.positives;
    info.negatives += c.negatives;
    auto code = c.culture.empty() ? std::optional<uint16_t>(kNoCulture)
                                  : store_->CultureCode(c.culture);
    cs.push_back({code.value_or(kNoCulture), c.impressions, c.positives, c.negatives});
  }
  // Computed from the stored counters so it is current even mid-update.
  info.bridging = BridgingScore(cs, BridgingFrom(options_.ranking));
  return std::optional<PostInfo>(std::move(info));
}

Result<bool> EngineImpl::DeletePost(std::string_view id) {
  BF_RETURN_IF_ERROR(CheckId("post", id));
  std::lock_guard write(write_mu_);
  auto gone = store_->DeletePost(id);
  if (!gone.ok()) return gone.status();
  if (!gone->has_value()) return false;
  const uint64_t iid = **gone;
  {
    std::unique_lock lock(table_mu_);
    table_.Remove(iid);
  }
  index()->Remove(iid);
  if (rebuilding_) deleted_during_rebuild_.push_back(iid);
  return true;
}

// Feedback ------------------------------------------------------------------

Status EngineImpl::RecordEvent(std::string_view user, std::string_view post, EventType type,
                               std::optional<int64_t> ts) {
  BF_RETURN_IF_ERROR(CheckId("user", user));
  BF_RETURN_IF_ERROR(CheckId("post", post));
  EventWrite ev;
  Vector post_vec;
  {
    std::shared_lock lock(table_mu_);
    auto iid = table_.Find(post);
    if (!iid) return Status::NotFound("post");
    ev.post_iid = *iid;
    auto v = table_.VectorOf(*iid);
    post_vec.assign(v.begin(), v.end());
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
    const FeedbackRates& rates = options_.ranking.feedback;
    if (IsPositive(type)) {
      ++rec.positives;
      if (rec.vector.empty()) {
        rec.vector = post_vec;
      } else {
        MoveToward(rec.vector, post_vec, rates.toward);
      }
    } else if (IsNegative(type)) {
      ++rec.negatives;
      if (!rec.vector.empty()) MoveAway(rec.vector, post_vec, rates.away);
    }
    if (!rec.culture.empty()) viewer = store_->CultureCode(rec.culture).value_or(kNoCulture);
    ev.viewer_culture = rec.culture;
    ev.user = std::move(rec);
    BF_RETURN_IF_ERROR(store_->RecordEvent(ev));
  }
  {
    std::unique_lock lock(table_mu_);
    table_.AddStats(ev.post_iid, viewer, type == EventType::kView ? 1 : 0, IsPositive(type) ? 1 : 0,
                    IsNegative(type) ? 1 : 0);
  }
  ++events_;
  return Status::OK();
}

// Feeds ---------------------------------------------------------------------

Result<std::vector<FeedItem>> EngineImpl::Feed(const FeedRequest& req) {
  BF_RETURN_IF_ERROR(CheckId("user", req.user));
  if (req.count < 1 || req.count > kMaxCount) return CountError();
  if (req.openness && !(*req.openness >= 0.0 && *req.openness <= 1.0)) {
    return OpennessError();
  }
  ++feed_requests_;
  const RankingOptions& ro = options_.ranking;
  const int64_t now = NowSeconds();

  auto user = store_->GetUser(req.user);
  if (!user.ok()) return user.status();
  auto seen = store_->GetSeen(req.user);
  if (!seen.ok()) return seen.status();
  std::unordered_set<uint64_t> exclude;
  exclude.reserve(seen->size());
  for (const SeenMark& m : *seen) {
    if (m.kind == SeenKind::kHidden || now - m.ts <= ro.seen_window_s) exclude.insert(m.iid);
  }

  RankInput in;
  in.count = req.count;
  in.now = now;
  in.exclude = &exclude;
  in.openness = ro.default_openness;
  const UserRecord* u = user->has_value() ? &**user : nullptr;
  if (u != nullptr && u->openness >= 0) in.openness = u->openness;
  if (req.openness) in.openness = *req.openness;
  if (u != nullptr && !u->culture.empty()) {
    // A culture no post has yet still splits the feed: every post is cross.
    in.user_culture = store_->CultureCode(u->culture).value_or(kNoCulture - 1);
  }

  std::vector<Ranked> ranked;
  std::vector<FeedItem> items;
  std::shared_ptr<AnnIndex> idx = index();
  // Every ANN search of this FEED, counted and timed for INFO stats.
  auto search = [&](std::span<const float> v, int k, const SearchFilter& filter) {
    const auto t0 = std::chrono::steady_clock::now();
    auto hits = idx->Search(v, k, filter);
    const auto took = std::chrono::steady_clock::now() - t0;
    feed_search_usec_ += static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(took).count());
    ++feed_searches_;
    return hits;
  };
  {
    std::shared_lock lock(table_mu_);
    in.own_author = table_.FindAuthor(req.user);
    if (u != nullptr && !u->vector.empty()) {
      in.user_vector = u->vector;
      const int k = std::max(100, ro.candidates_per_slot * req.count);
      SearchFilter all;
      all.exclude = &exclude;
      auto interest = search(u->vector, k, all);
      if (!interest.ok()) return interest.status();
      in.interest = std::move(interest).value();
      // The interest results usually hold enough posts of both pools for the
      // page; a pool that falls short (a user whose neighbourhood is all one
      // culture) gets its own culture-filtered search. Most calls pay one.
      if (in.user_culture) {
        const int target_cross =
            static_cast<int>(std::lround(std::clamp(in.openness, 0.0, 1.0) * req.count));
        const int target_home = req.count - target_cross;
        int cross_found = 0;
        for (const Hit& h : in.interest) cross_found += table_.Get(h.id).culture != *in.user_culture;
        const int home_found = static_cast<int>(in.interest.size()) - cross_found;
        if (target_cross > 0 && cross_found < 3 * target_cross) {
          SPDLOG_DEBUG("feed {}: cross search ({} cross-cultural of {} interest hits)", req.user,
                       cross_found, in.interest.size());
          SearchFilter other;
          other.exclude = &exclude;
          other.cultures = CultureMask(*in.user_culture, /*only=*/false);
          auto cross = search(u->vector, k, other);
          if (!cross.ok()) return cross.status();
          in.cross = std::move(cross).value();
        }
        if (target_home > 0 && home_found < 3 * target_home) {
          SPDLOG_DEBUG("feed {}: home search ({} home of {} interest hits)", req.user, home_found,
                       in.interest.size());
          SearchFilter mine;
          mine.exclude = &exclude;
          mine.cultures = CultureMask(*in.user_culture, /*only=*/true);
          // A culture no post has: nothing to search (an empty mask would mean all).
          if (*in.user_culture < mine.cultures.size()) {
            auto home = search(u->vector, k, mine);
            if (!home.ok()) return home.status();
            in.interest.insert(in.interest.end(), home->begin(), home->end());
          }
        }
      }
    }
    ranked = RankFeed(table_, in, ro);
    std::vector<std::string> names = store_->CultureNames();
    items.reserve(ranked.size());
    for (const Ranked& r : ranked) {
      const PostEntry& e = table_.Get(r.iid);
      FeedItem item;
      item.post = e.id;
      item.score = r.score;
      item.culture = e.culture < names.size() ? names[e.culture] : std::string();
      item.author = table_.AuthorName(e.author);
      item.source = SourceName(r.sources);
      item.relevance = r.relevance;
      item.bridging = r.bridging;
      item.freshness = r.freshness;
      items.push_back(std::move(item));
    }
  }
  if (req.explain) {
    for (FeedItem& item : items) {
      auto rec = store_->GetPost(item.post);
      if (rec.ok() && rec->has_value()) item.title = (*rec)->title;
    }
  }
  if (!req.peek && !ranked.empty()) {
    std::vector<uint64_t> iids;
    iids.reserve(ranked.size());
    for (const Ranked& r : ranked) iids.push_back(r.iid);
    BF_RETURN_IF_ERROR(store_->MarkServed(req.user, iids, now));
  }
  return items;
}

Result<std::vector<std::string>> EngineImpl::Similar(std::string_view post, int count,
                                                     bool cross) {
  BF_RETURN_IF_ERROR(CheckId("post", post));
  if (count < 1 || count > kMaxCount) return CountError();
  std::shared_ptr<AnnIndex> idx = index();
  std::shared_lock lock(table_mu_);
  auto iid = table_.Find(post);
  if (!iid) return Status::NotFound("post");
  std::unordered_set<uint64_t> self = {*iid};
  SearchFilter filter;
  filter.exclude = &self;
  if (cross) filter.cultures = CultureMask(table_.Get(*iid).culture, /*only=*/false);
  auto hits = idx->Search(table_.VectorOf(*iid), count, filter);
  if (!hits.ok()) return hits.status();
  std::vector<std::string> out;
  for (const Hit& h : *hits) {
    if (table_.IsLive(h.id)) out.push_back(table_.Get(h.id).id);
  }
  return out;
}

EngineCounters EngineImpl::Counters() const {
  EngineCounters c;
  auto users = store_->CountUsers();
  c.users = users.ok() ? *users : 0;
  {
    std::shared_lock lock(table_mu_);
    c.posts = static_cast<uint64_t>(table_.live());
  }
  c.disk_bytes = store_->DiskBytes();
  c.feed_requests = feed_requests_;
  c.feed_searches = feed_searches_;
  c.feed_search_usec = feed_search_usec_;
  c.events = events_;
  return c;
}

}  // namespace bf
