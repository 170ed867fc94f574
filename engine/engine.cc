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

BridgingParams BridgingFrom(const RankingOptions& r) {
  return {r.bridge_a, r.bridge_b, r.bridge_min_impressions};
}

// A SearchFilter culture mask over `codes` assigned codes: only `code`, or
// every code but it.
std::vector<uint8_t> CultureMask(size_t codes, uint16_t code, bool only) {
  std::vector<uint8_t> allowed(codes, only ? 0 : 1);
  if (code < allowed.size()) allowed[code] = only ? 1 : 0;
  return allowed;
}

}  // namespace

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}


Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& given) {
  EngineOptions options = given;
  std::unique_ptr<const text::TextModel> text_model;
  BF_RETURN_IF_ERROR(ResolveTextModel(&options, &text_model));
  if (options.dim < 1 || options.dim > kMaxDim) {
    return Status::Invalid("dim must be 1 to " + std::to_string(kMaxDim));
  }
  auto engine = std::make_unique<EngineImpl>(options, std::move(text_model));
  BF_RETURN_IF_ERROR(engine->Init());
  return std::unique_ptr<Engine>(std::move(engine));
}

EngineImpl::EngineImpl(const EngineOptions& options,
                       std::unique_ptr<const text::TextModel> text_model)
    : options_(options),
      text_model_(std::move(text_model)),
      table_(options.dim, BridgingFrom(options.ranking)),
      gramian_(options.dim),
      foldins_(options.foldin_cache_users) {}

EngineImpl::~EngineImpl() { (void)Close(); }

Status EngineImpl::Init() {
  if (options_.feedback != "foldin" && options_.feedback != "nudge") {
    return Status::Invalid("feedback must be foldin or nudge");
  }
  nudge_ = options_.feedback == "nudge";
  als_ = options_.learn;
  als_.dim = options_.dim;
  BF_RETURN_IF_ERROR(learn::CheckAlsOptions(als_));
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
  if (!store.ok()) return TextModelContext(store.status());
  store_ = std::move(store).value();
  BF_RETURN_IF_ERROR(store_->PutMeta(kIndexSpecMetaKey, options_.index.spec));

  // The in-memory columns, from the store.
  auto expected = store_->CountPosts();
  table_.BeginBulk(expected.ok() ? static_cast<size_t>(*expected) : 0);
  BF_RETURN_IF_ERROR(store_->ScanPosts([&](const PostRecord& p) {
    table_.Upsert(p);
    return true;
  }));
  table_.EndBulk();
  BF_RETURN_IF_ERROR(store_->ForEachStats([&](uint64_t iid, const CultureCounts& c) {
    table_.SetStats(iid, ViewerCulture(c.culture), c);
    return true;
  }));
  spdlog::info("engine: {} posts loaded from {}", table_.live(), so.path);

  BF_RETURN_IF_ERROR(LoadModelAtStart());  // engine_learn.cc
  BF_RETURN_IF_ERROR(OpenIndex());
  BF_RETURN_IF_ERROR(FinishModelAtStart());
  BF_RETURN_IF_ERROR(ResumeTrainAtStart());
  if (options_.train_interval_s > 0) learn_->interval_thread = std::thread([this] { TrainLoop(); });
  if (options_.snapshot_interval_s > 0) {
    snapshot_thread_ = std::thread([this] { SnapshotLoop(); });
  }
  return Status::OK();
}

std::mutex& EngineImpl::UserLock(std::string_view user) {
  return user_mu_[std::hash<std::string_view>()(user) % user_mu_.size()];
}

Status EngineImpl::CheckOpen() const {
  if (closed_) return Status::Invalid("engine is closed");
  return Status::OK();
}

uint16_t EngineImpl::ViewerCulture(std::string_view culture) const {
  return store_->CultureCode(culture).value_or(kNoCulture);
}

// Users ---------------------------------------------------------------------

// The writes go through Write (engine_write.cc): one path for single writes
// and atomic groups.
Status EngineImpl::SetUser(const UserUpdate& u) {
  auto done = WriteOne(u);
  return done.ok() ? Status::OK() : done.status();
}

Result<std::optional<UserRecord>> EngineImpl::GetUser(std::string_view id) const {
  BF_RETURN_IF_ERROR(CheckOpen());
  BF_RETURN_IF_ERROR(CheckId("user", id));
  return store_->GetUser(id);
}

Result<bool> EngineImpl::DeleteUser(std::string_view id) {
  auto done = WriteOne(DeleteUserOp{std::string(id)});
  if (!done.ok()) return done.status();
  return done->existed;
}

// Posts ---------------------------------------------------------------------

Status EngineImpl::AddPost(PostInput in) {
  auto done = WriteOne(std::move(in));
  return done.ok() ? Status::OK() : done.status();
}

Result<std::optional<PostInfo>> EngineImpl::GetPost(std::string_view id) const {
  BF_RETURN_IF_ERROR(CheckOpen());
  BF_RETURN_IF_ERROR(CheckId("post", id));
  auto rec = store_->GetPost(id);
  if (!rec.ok()) return rec.status();
  if (!rec->has_value()) return std::optional<PostInfo>();
  PostInfo info;
  info.record = std::move(**rec);
  {
    // The vector ranking uses lives in the table (a learned factor is not
    // written back to the post record).
    std::shared_lock lock(table_mu_);
    auto iid = table_.Find(id);
    if (iid && *iid == info.record.iid) {
      const auto v = table_.VectorOf(*iid);
      if (table_.Get(*iid).has_vector) {
        info.record.vector.assign(v.begin(), v.end());
      } else {
        info.record.vector.clear();
      }
    }
  }
  auto stats = store_->GetStats(info.record.iid);
  if (!stats.ok()) return stats.status();
  info.by_culture = std::move(stats).value();
  std::vector<CultureStat> cs;
  for (const CultureCounts& c : info.by_culture) {
    info.impressions += c.impressions;
    info.positives += c.positives;
    info.negatives += c.negatives;
    cs.push_back({ViewerCulture(c.culture), c.impressions, c.positives, c.negatives});
  }
  // Computed from the stored counters so it is current even mid-update.
  info.bridging = BridgingScore(cs, BridgingFrom(options_.ranking));
  return std::optional<PostInfo>(std::move(info));
}

Result<bool> EngineImpl::DeletePost(std::string_view id) {
  auto done = WriteOne(DeletePostOp{std::string(id)});
  if (!done.ok()) return done.status();
  return done->existed;
}

// Feedback ------------------------------------------------------------------

Status EngineImpl::RecordEvent(std::string_view user, std::string_view post, EventType type,
                               std::optional<int64_t> ts) {
  auto done = WriteOne(EventOp{std::string(user), std::string(post), type, ts, std::nullopt, false});
  return done.ok() ? Status::OK() : done.status();
}

// Feeds ---------------------------------------------------------------------

namespace {

// The engine's ANN index as the candidate policy's search (one SearchPools
// call); counts and times every search for INFO stats.
class IndexSearch final : public CandidateSearch {
 public:
  IndexSearch(std::shared_ptr<AnnIndex> index, std::atomic<uint64_t>& searches,
              std::atomic<uint64_t>& usec)
      : index_(std::move(index)), searches_(searches), usec_(usec) {}

  Status Search(const AnnQuery& q, AnnHits* hits) override {
    PoolRequest req;
    req.interest_k = q.interest_k;
    req.exclude = q.exclude;
    if (q.culture != kNoCulture) {
      req.home_culture = q.culture;
      req.home_k = q.home_k;
      req.cross_k = q.cross_k;
      req.home_min = q.home_min;
      req.cross_min = q.cross_min;
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto found = index_->SearchPools(q.vector, req);
    usec_ += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::steady_clock::now() - t0)
                                       .count());
    ++searches_;
    if (!found.ok()) return found.status();
    hits->passes = found->passes;
    for (auto [from, to] : {std::pair{&found->interest, &hits->interest},
                            std::pair{&found->home, &hits->home},
                            std::pair{&found->cross, &hits->cross}}) {
      to->reserve(from->size());
      for (const Hit& h : *from) to->push_back({h.id, h.score});
    }
    return Status::OK();
  }

 private:
  const std::shared_ptr<AnnIndex> index_;
  std::atomic<uint64_t>& searches_;
  std::atomic<uint64_t>& usec_;
};

}  // namespace

Result<std::vector<FeedItem>> EngineImpl::Feed(const FeedRequest& req) {
  BF_RETURN_IF_ERROR(CheckOpen());
  BF_RETURN_IF_ERROR(CheckId("user", req.user));
  BF_RETURN_IF_ERROR(CheckCount(req.count));
  if (req.openness) BF_RETURN_IF_ERROR(CheckOpenness(*req.openness));
  ++feed_requests_;
  const RankingOptions& ro = options_.ranking;
  const int64_t now = NowSeconds();

  // A recorded FEED holds the user's lock from reading the seen set to
  // marking the page served, so two concurrent FEEDs of one user never serve
  // a post twice. PEEK records nothing and needs no lock.
  std::unique_lock<std::mutex> user_lock;
  if (!req.peek) user_lock = std::unique_lock(UserLock(req.user));

  auto user = store_->GetUser(req.user);
  if (!user.ok()) return user.status();
  auto seen = store_->GetSeen(req.user);
  if (!seen.ok()) return seen.status();
  std::unordered_set<uint64_t> exclude;
  exclude.reserve(seen->size());
  for (const SeenMark& m : *seen) {
    if (m.kind == SeenKind::kHidden || now - m.ts <= ro.seen_window_s) exclude.insert(m.iid);
  }

  FeedQuery q;
  q.count = req.count;
  q.now = now;
  q.exclude = &exclude;
  q.openness = ro.default_openness;
  const UserRecord* u = user->has_value() ? &**user : nullptr;
  if (u != nullptr) {
    if (u->openness >= 0) q.openness = u->openness;
    q.user_vector = u->vector;
    // PutUser gives every stored user's culture a code; assign one for a
    // record that predates that rule. No post has it: every post is cross.
    auto code = store_->GetOrCreateCultureCode(u->culture);
    if (!code.ok()) return code.status();
    q.user_culture = *code;
  }
  if (req.openness) q.openness = *req.openness;

  IndexSearch search(index(), feed_searches_, feed_search_usec_);
  auto cands = SearchCandidates(q, ro, search);
  if (!cands.ok()) return cands.status();

  std::vector<Ranked> ranked;
  std::vector<FeedItem> items;
  {
    // Deleted posts are dropped here: the ranker checks IsLive under the lock.
    std::shared_lock lock(table_mu_);
    q.own_author = table_.FindAuthor(req.user);
    AddListCandidates(q, table_, &*cands);
    ranked = RankFeed(table_, q, *cands, ro);
    const std::vector<std::string> names = store_->CultureNames();
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
  if (req.explain) BF_RETURN_IF_ERROR(AddTitles(items));
  if (!req.peek && !ranked.empty()) {
    std::vector<uint64_t> iids;
    iids.reserve(ranked.size());
    for (const Ranked& r : ranked) iids.push_back(r.iid);
    BF_RETURN_IF_ERROR(store_->MarkServed(req.user, iids, now));
  }
  return items;
}

Status EngineImpl::AddTitles(std::vector<FeedItem>& items) const {
  // One batched read per FEED rather than a title column in memory
  // (docs/architecture.md: the memory budget). A post deleted since ranking
  // keeps an empty title.
  std::vector<std::string> ids;
  ids.reserve(items.size());
  for (const FeedItem& item : items) ids.push_back(item.post);
  auto posts = store_->GetPosts(ids);
  if (!posts.ok()) return posts.status();
  for (size_t i = 0; i < items.size(); ++i) {
    if ((*posts)[i]) items[i].title = std::move((*posts)[i]->title);
  }
  return Status::OK();
}

Result<std::vector<std::string>> EngineImpl::Similar(std::string_view post, int count,
                                                     bool cross) {
  BF_RETURN_IF_ERROR(CheckOpen());
  BF_RETURN_IF_ERROR(CheckId("post", post));
  BF_RETURN_IF_ERROR(CheckCount(count));
  std::shared_ptr<AnnIndex> idx = index();
  std::unordered_set<uint64_t> self;
  Vector query;
  uint16_t culture = kNoCulture;
  {
    std::shared_lock lock(table_mu_);
    auto iid = table_.Find(post);
    if (!iid) return Status::NotFound("post");
    self.insert(*iid);
    if (!table_.Get(*iid).has_vector) return std::vector<std::string>();  // nothing to compare
    const auto v = table_.VectorOf(*iid);
    query.assign(v.begin(), v.end());
    culture = table_.Get(*iid).culture;
  }
  // The search runs without the table lock (as FEED's): writers wait for neither.
  SearchFilter filter;
  filter.exclude = &self;
  if (cross) filter.cultures = CultureMask(store_->CultureNames().size(), culture, false);
  auto hits = idx->Search(query, count, filter);
  if (!hits.ok()) return hits.status();
  std::vector<std::string> out;
  std::shared_lock lock(table_mu_);
  for (const Hit& h : *hits) {
    if (table_.IsLive(h.id)) out.push_back(table_.Get(h.id).id);
  }
  return out;
}

EngineCounters EngineImpl::Counters() const {
  EngineCounters c;
  if (!closed_) {
    auto users = store_->CountUsers();
    c.users = users.ok() ? *users : 0;
    c.disk_bytes = store_->DiskBytes();
  }
  {
    std::shared_lock lock(table_mu_);
    c.posts = static_cast<uint64_t>(table_.live());
  }
  c.feed_requests = feed_requests_;
  c.feed_searches = feed_searches_;
  c.feed_search_usec = feed_search_usec_;
  c.events = events_;
  return c;
}

}  // namespace bf
