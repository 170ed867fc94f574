// bridgefeed-import: fast offline bulk load of the JSON Lines files that
// bridgefeed-gen writes (format: tools/import/import_parse.h) into a database the
// server is not running on.
//
// All or nothing, by default: every file is parsed and validated in full
// (events also checked against the posts they name) before the first write,
// so the first invalid line stops the import and leaves the database as it
// was. A disk failure in the write pass can still leave a partial import;
// re-running it is safe for posts and users (create or replace) but counts
// events again. --skip-invalid does a single pass: valid lines are loaded,
// invalid ones reported (the first 20) and counted.
//
// Semantics match the wire commands: a post line is POST.ADD (a replace keeps
// its counters); a user line is USER.SET (fields it leaves out keep their
// values, counters are kept); an event line is EVENT: an unknown user is
// created, VIEW/positive/negative counters move for the user's culture, and
// the user's vector moves toward liked posts and away from hidden ones at the
// server's default rates (--keep-user-vectors leaves imported vectors alone).
// Files load in the order posts, users, events.
#include <sys/stat.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <future>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <CLI/CLI.hpp>

#include "embeddings/vector.h"
#include "tools/import/import_parse.h"
#include "engine/store/layout.h"
#include "engine/store/store.h"
#include "index/ann_index.h"

namespace bf {
namespace {

constexpr size_t kBatch = 10000;       // records per Store bulk call
// Events per Store::ImportEvents call: larger batches fold more counter and
// seen writes together.
constexpr size_t kEventBatch = 50000;
constexpr int kMaxReportedErrors = 20;  // with --skip-invalid

struct ImportOptions {
  std::string data_dir;
  std::string posts, users, events;
  int dim = 0;  // 0: the database's, else the first vector's, else 64
  bool skip_invalid = false;
  bool keep_user_vectors = false;
  bool quiet = false;
  std::string index;  // spec of the index built at the end; empty: the database's, else auto
};

enum class Kind { kPosts, kUsers, kEvents };
const char* KindName(Kind k) {
  return k == Kind::kPosts ? "posts" : k == Kind::kUsers ? "users" : "events";
}

// Reads a file line by line (POSIX getline) and reports progress by bytes.
class LineReader {
 public:
  ~LineReader() {
    if (file_ != nullptr) std::fclose(file_);
    std::free(buf_);
  }
  Status Open(const std::string& path) {
    file_ = std::fopen(path.c_str(), "rb");
    if (file_ == nullptr) return Status::IOError("cannot open " + path);
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
    std::error_code ec;
    size_ = std::filesystem::file_size(path, ec);
    return Status::OK();
  }
  bool Next(std::string_view* line) {
    const ssize_t n = ::getline(&buf_, &cap_, file_);
    if (n < 0) return false;
    ++number_;
    read_ += static_cast<uint64_t>(n);
    *line = std::string_view(buf_, static_cast<size_t>(n));
    if (!line->empty() && line->back() == '\n') line->remove_suffix(1);
    return true;
  }
  bool failed() const { return std::ferror(file_) != 0; }
  int64_t number() const { return number_; }
  uint64_t read() const { return read_; }
  uint64_t size() const { return size_; }

 private:
  std::FILE* file_ = nullptr;
  char* buf_ = nullptr;
  size_t cap_ = 0;
  int64_t number_ = 0;
  uint64_t read_ = 0, size_ = 0;
};

bool Blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// "[#####.....]  45%  123456 lines  85.1k lines/s" on stderr.
class ProgressBar {
 public:
  ProgressBar(std::string label, bool quiet) : label_(std::move(label)), quiet_(quiet) {}
  void Update(const LineReader& r, bool force = false) {
    // Redrawn in place on a terminal; a log file gets only the final line.
    if (quiet_ || (!force && (r.number() % 8192 != 0 || !tty_))) return;
    const double frac = r.size() > 0 ? static_cast<double>(r.read()) / r.size() : 1.0;
    const int filled = static_cast<int>(frac * 30);
    const double secs = Seconds();
    std::fprintf(stderr, "\r%-16s [%-30s] %3.0f%% %10lld lines %8.1fk lines/s", label_.c_str(),
                 std::string(static_cast<size_t>(filled), '#').c_str(), 100 * frac,
                 static_cast<long long>(r.number()),
                 secs > 0 ? static_cast<double>(r.number()) / secs / 1000 : 0.0);
  }
  void Done(const LineReader& r) {
    Update(r, true);
    if (!quiet_) std::fprintf(stderr, " %.1fs\n", Seconds());
  }

 private:
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  std::string label_;
  bool quiet_;
  bool tty_ = ::isatty(STDERR_FILENO) != 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

class Importer {
 public:
  explicit Importer(const ImportOptions& o) : opt_(o) {}
  int Run();

 private:
  std::string PathOf(Kind k) const {
    return k == Kind::kPosts ? opt_.posts : k == Kind::kUsers ? opt_.users : opt_.events;
  }
  // Reports one invalid line; returns true when the import must stop.
  bool Reject(const std::string& path, int64_t line, const Status& s) {
    ++rejected_;
    if (!opt_.skip_invalid || rejected_ <= kMaxReportedErrors) {
      // A newline first ends the progress bar's line.
      std::fprintf(stderr, "%s%s:%lld: %s\n", opt_.quiet ? "" : "\n", path.c_str(),
                   static_cast<long long>(line), s.ToString().c_str());
    }
    return !opt_.skip_invalid;
  }
  int DecideDim();
  Status Check(Kind kind, bool* stop);
  Status Load(Kind kind, bool* stop);
  Status BuildIndex();
  // After the events file: writes the users that events touched.
  Status WriteEventUsers();
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

  const ImportOptions& opt_;
  std::unique_ptr<ImportParser> parser_;
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
  FeedbackRates rates_;
  int64_t rejected_ = 0;
  int64_t loaded_[3] = {0, 0, 0};
};

int Importer::DecideDim() {
  if (opt_.dim > 0) return opt_.dim;
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

Result<bool> Importer::PostExists(std::string_view id) {
  if (file_posts_.count(std::string(id)) > 0) return true;
  if (!store_) return false;
  auto post = store_->GetPost(id);
  if (!post.ok()) return post.status();
  return post->has_value();
}

Status UnknownPost(std::string_view id) {
  return Status::NotFound("unknown post \"" + std::string(id) + "\"");
}

// Check pass: parses every line, writes nothing.
Status Importer::Check(Kind kind, bool* stop) {
  const std::string path = PathOf(kind);
  LineReader r;
  BF_RETURN_IF_ERROR(r.Open(path));
  ProgressBar bar(std::string("check ") + KindName(kind), opt_.quiet);
  std::string_view line;
  while (r.Next(&line)) {
    bar.Update(r);
    if (Blank(line)) continue;
    Status s;
    if (kind == Kind::kPosts) {
      auto p = parser_->ParsePost(line);
      if (p.ok() && !opt_.events.empty()) file_posts_.insert(std::move(p->id));
      if (!p.ok()) s = p.status();
    } else if (kind == Kind::kUsers) {
      auto u = parser_->ParseUser(line);
      if (!u.ok()) s = u.status();
    } else {
      auto e = parser_->ParseEvent(line);
      if (!e.ok()) {
        s = e.status();
      } else {
        auto exists = PostExists(e->post);
        if (!exists.ok()) return exists.status();
        if (!*exists) s = UnknownPost(e->post);
        if (MovesUser(e->type)) vector_posts_.insert(std::move(e->post));
      }
    }
    if (!s.ok() && Reject(path, r.number(), s)) {
      *stop = true;
      return Status::OK();
    }
  }
  if (r.failed()) return Status::IOError("cannot read " + path);
  bar.Done(r);
  return Status::OK();
}

Result<const Importer::PostRef*> Importer::EventPost(const std::string& id, bool need_vector) {
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

Status Importer::LoadEvent(const ImportEvent& e, std::vector<ImportedEvent>* batch,
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
  switch (e.type) {
    case EventType::kView:
      break;
    case EventType::kLike: case EventType::kSave: case EventType::kShare:
    case EventType::kComment:
      ++u.positives;
      if (opt_.keep_user_vectors) break;
      if (u.vector.empty()) {
        u.vector = p.vector;
      } else {
        MoveToward(u.vector, p.vector, rates_.toward);
      }
      break;
    case EventType::kHide: case EventType::kReport:
      ++u.negatives;
      if (!opt_.keep_user_vectors && !u.vector.empty()) MoveAway(u.vector, p.vector, rates_.away);
      break;
  }
  batch->push_back(ImportedEvent{e.user, p.iid, e.post, u.culture, e.type, e.ts});
  return Status::OK();
}

// Write pass.
Status Importer::Load(Kind kind, bool* stop) {
  const std::string path = PathOf(kind);
  LineReader r;
  BF_RETURN_IF_ERROR(r.Open(path));
  ProgressBar bar(std::string("load ") + KindName(kind), opt_.quiet);
  std::vector<PostRecord> posts, writing_posts;
  std::vector<UserRecord> users;
  std::unordered_map<std::string, size_t> pending_users;  // id -> index in users
  std::vector<ImportedEvent> events, writing_events;
  // Posts and events are written on a second thread while the next batch is
  // parsed. Declared after the buffers it uses, so it is joined first.
  std::future<Status> writing;
  int64_t& loaded = loaded_[static_cast<int>(kind)];
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
  auto finish = [&]() -> Status {
    BF_RETURN_IF_ERROR(flush());
    BF_RETURN_IF_ERROR(wait());
    return WriteEventUsers();
  };
  std::string_view line;
  while (r.Next(&line)) {
    bar.Update(r);
    if (Blank(line)) continue;
    Status invalid;
    if (kind == Kind::kPosts) {
      auto p = parser_->ParsePost(line);
      if (p.ok()) posts.push_back(std::move(*p));
      else invalid = p.status();
    } else if (kind == Kind::kUsers) {
      auto u = parser_->ParseUser(line);
      if (!u.ok()) {
        invalid = u.status();
      } else {
        // USER.SET semantics: start from the stored (or pending) record.
        UserRecord base;
        if (auto pi = pending_users.find(u->id); pi != pending_users.end()) {
          base = users[pi->second];
        } else if (auto stored = store_->GetUser(u->id); !stored.ok()) {
          return stored.status();
        } else if (stored->has_value()) {
          base = std::move(**stored);
        }
        base.id = u->id;
        if (!u->culture.empty()) base.culture = u->culture;
        if (!u->langs.empty()) base.langs = u->langs;
        if (u->openness >= 0) base.openness = u->openness;
        if (!u->vector.empty()) base.vector = u->vector;
        if (auto pi = pending_users.find(base.id); pi != pending_users.end()) {
          users[pi->second] = std::move(base);
        } else {
          pending_users[base.id] = users.size();
          users.push_back(std::move(base));
        }
      }
    } else {
      auto e = parser_->ParseEvent(line);
      if (!e.ok()) invalid = e.status();
      else BF_RETURN_IF_ERROR(LoadEvent(*e, &events, &invalid));
    }
    if (!invalid.ok() && Reject(path, r.number(), invalid)) {
      *stop = true;
      return finish();
    }
    if (posts.size() + users.size() >= kBatch || events.size() >= kEventBatch)
      BF_RETURN_IF_ERROR(flush());
  }
  if (r.failed()) return Status::IOError("cannot read " + path);
  BF_RETURN_IF_ERROR(finish());
  bar.Done(r);
  return Status::OK();
}

Status Importer::WriteEventUsers() {
  if (users_.empty()) return Status::OK();
  // The users that events touched, each written once.
  std::vector<UserRecord> users;
  users.reserve(users_.size());
  for (auto& [id, u] : users_) users.push_back(std::move(u));
  users_.clear();
  return store_->PutUsers(users);
}

// Builds the ANN index over every stored post and writes it as the data
// dir's snapshot, stamped with the store sequence, so the server starts
// serving at once instead of building it first.
Status Importer::BuildIndex() {
  auto count = store_->CountPosts();
  if (!count.ok()) return count.status();
  if (*count == 0) return Status::OK();
  const int dim = store_->dim();
  const uint64_t seq = store_->LastSequence();
  std::vector<uint64_t> ids;
  std::vector<uint16_t> cultures;
  std::vector<float> vectors;
  ids.reserve(*count);
  cultures.reserve(*count);
  vectors.reserve(*count * dim);
  BF_RETURN_IF_ERROR(store_->ForEachPost([&](const PostRecord& p) {
    ids.push_back(p.iid);
    cultures.push_back(p.culture_code);
    vectors.insert(vectors.end(), p.vector.begin(), p.vector.end());
    return true;
  }));
  IndexOptions io;
  io.dim = dim;
  io.spec = opt_.index;
  if (io.spec.empty()) {
    auto meta = store_->GetMeta(kIndexSpecMetaKey);
    io.spec = meta.ok() && meta->has_value() ? **meta : "auto";
  }
  const auto start = std::chrono::steady_clock::now();
  auto index = AnnIndex::Build(io, static_cast<int64_t>(ids.size()), ids.data(),
                               cultures.data(), vectors.data());
  if (!index.ok()) return index.status();
  BF_RETURN_IF_ERROR((*index)->Save(SnapshotPath(opt_.data_dir), {store_->db_id(), seq}));
  if (!opt_.quiet) {
    std::fprintf(stderr, "index            %s over %zu posts built in %.1fs\n",
                 (*index)->Stats().type.c_str(), ids.size(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return Status::OK();
}

int Importer::Run() {
  const auto start = std::chrono::steady_clock::now();
  const Kind kinds[] = {Kind::kPosts, Kind::kUsers, Kind::kEvents};
  std::error_code ec;
  const bool existing = std::filesystem::exists(std::filesystem::path(DbPath(opt_.data_dir)) / "CURRENT", ec);
  StoreOptions so;
  so.path = DbPath(opt_.data_dir);
  so.bulk_load = true;  // no WAL; each file ends with a flush (Sync)
  // An existing database is opened (and locked) first: it fixes the dimension
  // and refuses a database the server has open before any work is done.
  if (existing) {
    so.dim = opt_.dim;
    auto store = Store::Open(so);
    if (!store.ok()) {
      std::fprintf(stderr, "bridgefeed-import: %s\n", store.status().message().c_str());
      return 1;
    }
    store_ = std::move(*store);
  }
  const int dim = store_ ? store_->dim() : DecideDim();
  parser_ = std::make_unique<ImportParser>(dim, static_cast<int64_t>(std::time(nullptr)));

  bool stop = false;
  if (!opt_.skip_invalid) {
    for (Kind k : kinds) {
      if (PathOf(k).empty()) continue;
      if (Status s = Check(k, &stop); !s.ok()) {
        std::fprintf(stderr, "bridgefeed-import: %s\n", s.ToString().c_str());
        return 1;
      }
      if (stop) {
        std::fprintf(stderr, "bridgefeed-import: nothing was written (--skip-invalid loads "
                             "the valid lines)\n");
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
    auto store = Store::Open(so);
    if (!store.ok()) {
      std::fprintf(stderr, "bridgefeed-import: %s\n", store.status().message().c_str());
      return 1;
    }
    store_ = std::move(*store);
  }
  for (Kind k : kinds) {
    if (PathOf(k).empty()) continue;
    Status s = Load(k, &stop);
    if (s.ok()) s = store_->Sync();
    if (!s.ok()) {
      std::fprintf(stderr, "bridgefeed-import: %s (the import is partial)\n",
                   s.ToString().c_str());
      return 1;
    }
  }
  if (Status s = BuildIndex(); !s.ok()) {
    // The store is complete: the server builds the index at its next start.
    std::fprintf(stderr, "bridgefeed-import: warning: index not built (%s); the server "
                 "builds it at start\n", s.ToString().c_str());
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr,
               "imported into %s (dim %d): %lld posts, %lld users, %lld events in %.1fs",
               opt_.data_dir.c_str(), dim, static_cast<long long>(loaded_[0]),
               static_cast<long long>(loaded_[1]), static_cast<long long>(loaded_[2]), secs);
  if (opt_.skip_invalid) {
    std::fprintf(stderr, "; %lld invalid lines skipped", static_cast<long long>(rejected_));
  }
  std::fputc('\n', stderr);
  return 0;
}

}  // namespace
}  // namespace bf

int main(int argc, char** argv) {
  bf::ImportOptions o;
  CLI::App app{"bridgefeed-import: bulk-loads posts, users and events (JSON Lines, the format\n"
               "bridgefeed-gen writes) into a database that no server has open."};
  app.add_option("--data-dir", o.data_dir, "Database folder (created if missing)")->required();
  app.add_option("--posts", o.posts, "posts.jsonl")->check(CLI::ExistingFile);
  app.add_option("--users", o.users, "users.jsonl")->check(CLI::ExistingFile);
  app.add_option("--events", o.events, "events.jsonl")->check(CLI::ExistingFile);
  app.add_option("--dim", o.dim,
                 "Vector dimension of a new database (default: the first vector's length); "
                 "must match an existing one")
      ->check(CLI::Range(1, bf::kMaxDim));
  app.add_flag("--skip-invalid", o.skip_invalid,
               "Load the valid lines, report and count the others (default: the first "
               "invalid line stops the import before anything is written)");
  app.add_flag("--keep-user-vectors", o.keep_user_vectors,
               "Events count but do not move user vectors");
  app.add_flag("--quiet", o.quiet, "No progress bar");
  app.add_option("--index", o.index,
                 "Index built at the end (Faiss factory string or auto; default: the "
                 "database's --index, else auto)");
  CLI11_PARSE(app, argc, argv);
  if (o.posts.empty() && o.users.empty() && o.events.empty()) {
    std::fprintf(stderr, "bridgefeed-import: nothing to import: give --posts, --users or --events\n");
    return 2;
  }
  return bf::Importer(o).Run();
}
