#include "tools/import/importer.h"

#include <sys/stat.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "embeddings/vector.h"
#include "engine/index_from_store.h"
#include "engine/store/layout.h"
#include "engine/store/store.h"
#include "tools/import/import_parse.h"
#include "tools/import/line_reader.h"
#include "tools/import/progress_bar.h"

namespace bf {
namespace {

constexpr size_t kBatch = 10000;       // records per Store bulk call
// Events per Store::ImportEvents call: larger batches fold more counter and
// seen writes together.
constexpr size_t kEventBatch = 50000;
constexpr int kMaxReportedErrors = 20;  // with skip_invalid
constexpr int kLabelWidth = 16;         // of the progress bars and the index line

enum class Kind { kPosts, kUsers, kEvents };
constexpr Kind kKinds[] = {Kind::kPosts, Kind::kUsers, Kind::kEvents};

const char* KindName(Kind k) {
  return k == Kind::kPosts ? "posts" : k == Kind::kUsers ? "users" : "events";
}

bool Blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

Status UnknownPost(std::string_view id) {
  return Status::NotFound("unknown post \"" + std::string(id) + "\"");
}

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

class Importer::Impl {
 public:
  explicit Impl(ImportOptions o) : opt_(std::move(o)) {}
  int Run();
  ImportReport report_;

 private:
  // Handles one non-blank line; sets *invalid for a line to reject, returns
  // an error to abort the file.
  using LineFn = std::function<Status(std::string_view line, Status* invalid)>;

  const std::string& PathOf(Kind k) const {
    return k == Kind::kPosts ? opt_.posts : k == Kind::kUsers ? opt_.users : opt_.events;
  }
  void Print(const char* prefix, const std::string& message) {
    std::fprintf(opt_.out, "bridgefeed-import: %s%s\n", prefix, message.c_str());
  }
  // Reports one invalid line; returns true when the import must stop.
  bool Reject(const std::string& path, int64_t line, const Status& s) {
    ++report_.invalid;
    if (!opt_.skip_invalid || report_.invalid <= kMaxReportedErrors) {
      // A newline first ends the progress bar's line.
      std::fprintf(opt_.out, "%s%s:%lld: %s\n", opt_.quiet ? "" : "\n", path.c_str(),
                   static_cast<long long>(line), s.ToString().c_str());
    }
    return !opt_.skip_invalid;
  }
  // One pass over a file ("check" or "load"): fn for each non-blank line,
  // then finish (also when an invalid line stops it, *stop then set).
  Status EachLine(Kind kind, const char* pass, const LineFn& fn,
                  const std::function<Status()>& finish, bool* stop);
  int DecideDim();
  // Loads opt_.text_model (if any) and makes its dim the one wanted.
  Status LoadTextModel();
  Status OpenStore(StoreOptions so);
  Status Check(Kind kind, bool* stop);
  Status Load(Kind kind, bool* stop);
  Status BuildIndex();
  // After the events file: writes the users that events touched.
  Status WriteEventUsers();
  Status LoadUser(const UserRecord& u, std::vector<UserRecord>* users,
                  std::unordered_map<std::string, size_t>* pending);
  Status LoadEvent(const ImportEvent& e, std::vector<ImportedEvent>* batch, Status* invalid);
  Result<bool> PostExists(std::string_view id);
  // Whether an event of this type moves the user's vector.
  bool MovesUser(EventType t) const { return !opt_.keep_user_vectors && t != EventType::kView; }
  // The post an event names (nullptr when there is none), with its vector
  // when `need_vector`.
  struct PostRef {
    uint64_t iid = 0;
    Vector vector;  // empty until an event needs it
  };
  Result<const PostRef*> EventPost(const std::string& id, bool need_vector);

  const ImportOptions opt_;
  std::unique_ptr<ImportParser> parser_;
  int want_dim_ = 0;  // opt_.dim, or the text model's
  std::unique_ptr<text::TextModel> text_model_;  // null: none
  std::unique_ptr<Store> store_;
  std::unordered_set<std::string> file_posts_;  // check pass: post ids in the posts file
  // Check pass: posts whose vectors events need; the load pass keeps them
  // from the posts file instead of reading them back.
  std::unordered_set<std::string> vector_posts_;
  // Load pass, when there are events: posts by id with iid (from the posts
  // file or the store) and vector (fetched once, for likes and hides only),
  // so most events need no read.
  std::unordered_map<std::string, PostRef> event_posts_;
  // Users touched by events, written once at the end of the events file.
  std::unordered_map<std::string, UserRecord> users_;
  // Counters count people: per user, the (iid << 2 | Engagement) pairs the
  // import has counted, so a repeat moves neither counters nor vectors (the
  // store applies the same rule to the post counters).
  std::unordered_map<std::string, std::unordered_set<uint64_t>> engaged_;
  // Whether the store held events before this import (then it is asked
  // about marks the import has not seen); decided at the first event.
  std::optional<bool> had_events_;
  FeedbackRates rates_;
};

Status Importer::Impl::LoadTextModel() {
  if (opt_.text_model.empty()) return Status::OK();
  auto m = text::TextModel::Load(opt_.text_model);
  if (!m.ok()) return m.status();
  const int d = (*m)->dim();
  if (opt_.dim != 0 && opt_.dim != d) {
    return Status::Invalid("--dim " + std::to_string(opt_.dim) + " but the text model " +
                           opt_.text_model + " makes " + std::to_string(d) + "-d vectors");
  }
  want_dim_ = d;  // a new database's; an existing one must have it
  text_model_ = std::move(m).value();
  return Status::OK();
}

int Importer::Impl::DecideDim() {
  if (want_dim_ > 0) return want_dim_;
  // A new database takes the first vector's length: posts first, then users.
  ImportParser peek(1, 0);
  for (const std::string& path : {opt_.posts, opt_.users}) {
    if (path.empty()) continue;
    LineReader r;
    if (!r.Open(path).ok()) continue;
    std::string_view line;
    for (int i = 0; i < 1000 && r.Next(&line); ++i) {
      if (auto d = peek.PeekVectorDim(line); d && *d >= 1 && *d <= kMaxDim) return *d;
    }
  }
  return 64;
}

Result<bool> Importer::Impl::PostExists(std::string_view id) {
  if (file_posts_.count(std::string(id)) > 0) return true;
  if (!store_) return false;
  auto post = store_->GetPost(id);
  if (!post.ok()) return post.status();
  return post->has_value();
}

Status Importer::Impl::EachLine(Kind kind, const char* pass, const LineFn& fn,
                                const std::function<Status()>& finish, bool* stop) {
  const std::string& path = PathOf(kind);
  LineReader r;
  BF_RETURN_IF_ERROR(r.Open(path));
  ProgressBar bar(std::string(pass) + " " + KindName(kind), kLabelWidth, opt_.out, opt_.quiet);
  std::string_view line;
  while (r.Next(&line)) {
    bar.Lines(r.read(), r.size(), r.number());
    if (Blank(line)) continue;
    Status invalid;
    BF_RETURN_IF_ERROR(fn(line, &invalid));
    if (!invalid.ok() && Reject(path, r.number(), invalid)) {
      *stop = true;
      return finish();
    }
  }
  if (r.failed()) return Status::IOError("cannot read " + path);
  BF_RETURN_IF_ERROR(finish());
  bar.LinesDone(r.read(), r.size(), r.number());
  return Status::OK();
}

// Check pass: parses every line, writes nothing.
Status Importer::Impl::Check(Kind kind, bool* stop) {
  auto check = [&](std::string_view line, Status* invalid) -> Status {
    if (kind == Kind::kPosts) {
      auto p = parser_->ParsePost(line);
      if (!p.ok()) *invalid = p.status();
      else if (!opt_.events.empty()) file_posts_.insert(std::move(p->id));
    } else if (kind == Kind::kUsers) {
      auto u = parser_->ParseUser(line);
      if (!u.ok()) *invalid = u.status();
    } else {
      auto e = parser_->ParseEvent(line);
      if (!e.ok()) {
        *invalid = e.status();
        return Status::OK();
      }
      auto exists = PostExists(e->post);
      if (!exists.ok()) return exists.status();
      if (!*exists) *invalid = UnknownPost(e->post);
      if (MovesUser(e->type)) vector_posts_.insert(std::move(e->post));
    }
    return Status::OK();
  };
  return EachLine(kind, "check", check, [] { return Status::OK(); }, stop);
}

Result<const Importer::Impl::PostRef*> Importer::Impl::EventPost(const std::string& id,
                                                                bool need_vector) {
  auto it = event_posts_.find(id);
  if (it != event_posts_.end() && (!need_vector || !it->second.vector.empty()))
    return &it->second;
  auto post = store_->GetPost(id);
  if (!post.ok()) return post.status();
  if (!post->has_value()) return nullptr;
  PostRecord& p = **post;
  PostRef ref;
  ref.iid = p.iid;
  if (need_vector) ref.vector = std::move(p.vector);
  auto [slot, added] = event_posts_.insert_or_assign(id, std::move(ref));
  return &slot->second;
}

Status Importer::Impl::LoadUser(const UserRecord& u, std::vector<UserRecord>* users,
                                std::unordered_map<std::string, size_t>* pending) {
  // USER.SET semantics: start from the stored (or pending) record.
  UserRecord base;
  const auto pi = pending->find(u.id);
  if (pi != pending->end()) {
    base = (*users)[pi->second];
  } else if (auto stored = store_->GetUser(u.id); !stored.ok()) {
    return stored.status();
  } else if (stored->has_value()) {
    base = std::move(**stored);
  }
  base.id = u.id;
  if (!u.culture.empty()) base.culture = u.culture;
  if (!u.langs.empty()) base.langs = u.langs;
  if (u.openness >= 0) base.openness = u.openness;
  if (!u.vector.empty()) base.vector = u.vector;
  if (!u.prior.empty()) base.prior = u.prior;
  if (pi != pending->end()) {
    (*users)[pi->second] = std::move(base);
  } else {
    (*pending)[base.id] = users->size();
    users->push_back(std::move(base));
  }
  return Status::OK();
}

Status Importer::Impl::LoadEvent(const ImportEvent& e, std::vector<ImportedEvent>* batch,
                                 Status* invalid) {
  auto post = EventPost(e.post, MovesUser(e.type));
  if (!post.ok()) return post.status();
  if (*post == nullptr) {
    *invalid = UnknownPost(e.post);
    return Status::OK();
  }
  const PostRef& p = **post;
  auto it = users_.find(e.user);
  if (it == users_.end()) {
    auto stored = store_->GetUser(e.user);
    if (!stored.ok()) return stored.status();
    UserRecord fresh;
    fresh.id = e.user;
    it = users_.emplace(e.user, stored->has_value() ? std::move(**stored) : fresh).first;
  }
  UserRecord& u = it->second;
  if (!had_events_) had_events_ = *store_->CountEvents() > 0;
  const uint64_t mark = p.iid << 2 | static_cast<uint64_t>(EngagementOf(e.type));
  bool repeat = !engaged_[e.user].insert(mark).second;
  if (!repeat && *had_events_) {
    auto stored = store_->HasEngaged(e.user, p.iid, e.type);
    if (!stored.ok()) return stored.status();
    repeat = *stored;
  }
  if (repeat) {
    // Logged, counted nothing (as EVENT).
  } else if (IsPositive(e.type)) {
    ++u.positives;
    if (MovesUser(e.type) && !p.vector.empty()) {  // a post without a vector moves nobody
      if (u.vector.empty()) u.vector = p.vector;
      else MoveToward(u.vector, p.vector, rates_.toward);
    }
  } else if (IsNegative(e.type)) {
    ++u.negatives;
    if (MovesUser(e.type) && !u.vector.empty() && !p.vector.empty()) MoveAway(u.vector, p.vector, rates_.away);
  }
  batch->push_back(ImportedEvent{e.user, p.iid, e.post, u.culture, e.type, e.ts});
  return Status::OK();
}

// Write pass.
Status Importer::Impl::Load(Kind kind, bool* stop) {
  std::vector<PostRecord> posts, writing_posts;
  std::vector<UserRecord> users;
  std::unordered_map<std::string, size_t> pending_users;  // id -> index in users
  std::vector<ImportedEvent> events, writing_events;
  // Posts and events are written on a second thread while the next batch is
  // parsed. Declared after the buffers it uses, so it is joined first.
  std::future<Status> writing;
  int64_t& loaded = kind == Kind::kPosts ? report_.posts
                    : kind == Kind::kUsers ? report_.users : report_.events;
  auto wait = [&]() -> Status {
    if (!writing.valid()) return Status::OK();
    BF_RETURN_IF_ERROR(writing.get());
    // Events will name these posts: remember their internal ids.
    if (!opt_.events.empty()) {
      for (auto& p : writing_posts) {
        Vector v;
        if (vector_posts_.count(p.id) > 0) v = std::move(p.vector);
        event_posts_.insert_or_assign(std::move(p.id), PostRef{p.iid, std::move(v)});
      }
    }
    writing_posts.clear();
    writing_events.clear();
    return Status::OK();
  };
  auto flush = [&]() -> Status {
    BF_RETURN_IF_ERROR(wait());
    loaded += static_cast<int64_t>(posts.size() + users.size() + events.size());
    // Users stay synchronous: the next user line reads the stored record.
    if (!users.empty()) BF_RETURN_IF_ERROR(store_->PutUsers(users));
    users.clear();
    pending_users.clear();
    if (posts.empty() && events.empty()) return Status::OK();
    posts.swap(writing_posts);
    events.swap(writing_events);
    writing = std::async(std::launch::async, [&]() -> Status {
      if (!writing_posts.empty()) BF_RETURN_IF_ERROR(store_->PutPosts(writing_posts));
      if (!writing_events.empty()) return store_->ImportEvents(writing_events);
      return Status::OK();
    });
    return Status::OK();
  };
  auto load = [&](std::string_view line, Status* invalid) -> Status {
    if (kind == Kind::kPosts) {
      auto p = parser_->ParsePost(line);
      if (p.ok()) posts.push_back(std::move(*p));
      else *invalid = p.status();
    } else if (kind == Kind::kUsers) {
      auto u = parser_->ParseUser(line);
      if (!u.ok()) *invalid = u.status();
      else BF_RETURN_IF_ERROR(LoadUser(*u, &users, &pending_users));
    } else {
      auto e = parser_->ParseEvent(line);
      if (!e.ok()) *invalid = e.status();
      else BF_RETURN_IF_ERROR(LoadEvent(*e, &events, invalid));
    }
    if (posts.size() + users.size() >= kBatch || events.size() >= kEventBatch) return flush();
    return Status::OK();
  };
  auto finish = [&]() -> Status {
    BF_RETURN_IF_ERROR(flush());
    BF_RETURN_IF_ERROR(wait());
    return WriteEventUsers();
  };
  return EachLine(kind, "load", load, finish, stop);
}

Status Importer::Impl::WriteEventUsers() {
  engaged_.clear();
  if (users_.empty()) return Status::OK();
  // The users that events touched, each written once.
  std::vector<UserRecord> users;
  users.reserve(users_.size());
  for (auto& [id, u] : users_) users.push_back(std::move(u));
  users_.clear();
  return store_->PutUsers(users);
}

// Builds the index over every stored post and writes it as the data dir's
// snapshot, so the server starts serving at once instead of building it.
Status Importer::Impl::BuildIndex() {
  IndexOptions io;
  io.spec = opt_.index;
  auto builder = ReadStoredPosts(*store_, io);
  if (!builder.ok()) return builder.status();
  if (builder->size() == 0) return Status::OK();
  auto built = builder->Build();
  if (!built.ok()) return built.status();
  BF_RETURN_IF_ERROR(built->index->Save(SnapshotPath(opt_.data_dir), builder->covers()));
  report_.index_built = true;
  if (!opt_.quiet) {
    std::fprintf(opt_.out, "%-*s %s over %lld posts built in %.1fs\n", kLabelWidth, "index",
                 built->index->Stats().type.c_str(), static_cast<long long>(builder->size()),
                 built->seconds);
  }
  return Status::OK();
}

Status Importer::Impl::OpenStore(StoreOptions so) {
  auto store = Store::Open(so);
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
  return Status::OK();
}

int Importer::Impl::Run() {
  const auto start = std::chrono::steady_clock::now();
  std::error_code ec;
  StoreOptions so;
  so.path = DbPath(opt_.data_dir);
  so.bulk_load = true;  // no WAL; each file ends with a flush (Sync)
  // An existing database is opened (and locked) first: it fixes the dimension
  // and refuses a database the server has open before any work is done.
  want_dim_ = opt_.dim;
  if (Status s = LoadTextModel(); !s.ok()) {
    Print("", s.message());
    return 1;
  }
  if (std::filesystem::exists(std::filesystem::path(so.path) / "CURRENT", ec)) {
    so.dim = want_dim_;
    if (Status s = OpenStore(so); !s.ok()) {
      Print("", s.message() + (text_model_ ? " (the dimension of the text model " +
                                                   opt_.text_model + ")"
                                             : std::string()));
      return 1;
    }
  }
  const int dim = store_ ? store_->dim() : DecideDim();
  parser_ = std::make_unique<ImportParser>(dim, static_cast<int64_t>(std::time(nullptr)));
  parser_->UseTextModel(text_model_.get());

  bool stop = false;
  if (!opt_.skip_invalid) {
    for (Kind k : kKinds) {
      if (PathOf(k).empty()) continue;
      if (Status s = Check(k, &stop); !s.ok()) {
        Print("", s.ToString());
        return 1;
      }
      if (stop) {
        Print("", "nothing was written (--skip-invalid loads the valid lines)");
        return 1;
      }
    }
    file_posts_.clear();
  }
  if (!store_) {
    so.dim = dim;
    // A new data dir holds users' data: private to its owner, as the server makes it.
    std::filesystem::create_directories(opt_.data_dir, ec);
    ::chmod(opt_.data_dir.c_str(), 0700);
    if (Status s = OpenStore(so); !s.ok()) {
      Print("", s.message());
      return 1;
    }
  }
  for (Kind k : kKinds) {
    if (PathOf(k).empty()) continue;
    Status s = Load(k, &stop);
    if (s.ok()) s = store_->Sync();
    if (!s.ok()) {
      Print("", s.ToString() + " (the import is partial)");
      return 1;
    }
  }
  if (Status s = BuildIndex(); !s.ok()) {
    // The store is complete: the server builds the index at its next start.
    Print("warning: ", "index not built (" + s.ToString() + "); the server builds it at start");
  }
  std::fprintf(opt_.out, "imported into %s (dim %d): %lld posts, %lld users, %lld events in %.1fs",
               opt_.data_dir.c_str(), dim, static_cast<long long>(report_.posts),
               static_cast<long long>(report_.users), static_cast<long long>(report_.events),
               Since(start));
  if (opt_.skip_invalid) {
    std::fprintf(opt_.out, "; %lld invalid lines skipped", static_cast<long long>(report_.invalid));
  }
  std::fputc('\n', opt_.out);
  return 0;
}

Importer::Importer(ImportOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Importer::~Importer() = default;
int Importer::Run() { return impl_->Run(); }
const ImportReport& Importer::report() const { return impl_->report_; }

}  // namespace bf
