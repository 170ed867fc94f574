// Engine: the runtime facade the server calls. It owns the store (source of
// truth), the in-memory post columns, the ANN index and the ranker.
//
// Errors: methods return a Status or Result whose codes map onto api.md's
// wire codes: Invalid for a caller's mistake (bad id, COUNT, openness,
// culture; and every call after Close: "engine is closed"), WrongDim and
// BadVector for vectors, NotFound("post") for an unknown post where a
// method says so, Busy for a second rebuild, IOError / Corruption from the
// store or an index file. A failed call changes nothing unless it says so,
// and returns no value.
// Thread safety: every method may be called from any thread at once, except
// Close: REQUIRES no other call in flight when it starts. Later calls return
// Invalid("engine is closed") and never touch the closed store; dim(),
// GetIndexInfo() and Counters() still answer (Counters() without users and
// disk_bytes, which need the store).
// Ownership: Open hands the caller the only Engine; destroying it closes it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "embeddings/learn/als.h"
#include "embeddings/status.h"
#include "embeddings/text/text_model.h"
#include "embeddings/vector.h"
#include "engine/ranking/ranking_options.h"
#include "engine/store/store.h"
#include "engine/write_op.h"
#include "index/ann_index.h"

namespace bf {

// TRAIN's and fold-in's settings as the engine ships them: the ALS library's
// generic defaults with the values chosen on MovieLens validation (VIEW 0.5,
// LIKE 2, the kinds MovieLens lacks in the same ratio to LIKE; regularisation
// 20; prior pull 5, chosen on the demo world). docs/learning.md.
learn::AlsOptions LearnDefaults();

struct EngineOptions {
  std::string data_dir = "./data";
  int dim = 64;  // 0: the text model's (text_model must be set)
  // Lexicon file of a text model (docs/embeddings.md); empty: none. With one,
  // a post given text and no vector gets its text vector, and EmbedText works.
  std::string text_model;
  FsyncPolicy fsync = FsyncPolicy::kEverysec;
  IndexOptions index;              // index.dim is set from dim
  RankingOptions ranking;
  int64_t snapshot_interval_s = 300;  // periodic index snapshot; 0 = never
  learn::AlsOptions learn = LearnDefaults();  // TRAIN's settings; dim is set from dim
  int64_t train_interval_s = 0;       // periodic TRAIN when events arrived; 0 = never
  // What an EVENT does to the user's vector: "foldin" re-solves it exactly
  // from the user's events against the current post factors (ALS fold-in,
  // docs/learning.md); "nudge" moves it toward a liked post and away from a
  // hidden one by ranking.feedback's rates.
  std::string feedback = "foldin";
  // Users whose incremental fold-in state stays in memory (about d*d*4 bytes
  // plus 40 per post in their history each); others re-solve from the event
  // log on their next event. 0: none.
  size_t foldin_cache_users = 1024;
};

struct PostInfo {
  PostRecord record;
  std::vector<CultureCounts> by_culture;
  int64_t impressions = 0, positives = 0, negatives = 0;
  double bridging = 0;
};

struct FeedRequest {
  std::string user;
  int count = 20;                 // 1..kMaxPageSize (500)
  std::optional<double> openness; // request override
  bool peek = false;              // rank without recording
  bool explain = false;
};

struct FeedItem {
  std::string post;
  double score = 0;
  std::string culture;
  std::string author;
  std::string source;  // interest | home | cross | bridging | fresh (docs/ranking.md)
  double relevance = 0;
  double bridging = 0;
  double freshness = 0;
  std::string title;  // EXPLAIN only; read from the store in one batch per FEED
};

struct IndexInfo {
  IndexStats stats;
  uint64_t snapshot_seq = 0;
  bool rebuilding = false;
  int64_t last_rebuild = 0;  // unix time, 0 = never
  int64_t last_save = 0;     // unix time of the snapshot written or loaded last, 0 = none
};

// What a TRAIN did (docs/learning.md).
struct TrainSummary {
  int iterations = 0;
  double loss = 0;
  int64_t users = 0;   // users with a learned factor
  int64_t posts = 0;   // posts with a learned factor
  int64_t events = 0;  // events trained on
  double seconds = 0;
};

// A TRAIN that must give the same model on every node of a cluster
// (engine/cluster: the TRAIN log entry carries these).
struct TrainRun {
  learn::AlsOptions als;     // dim is the engine's; threads stay the node's own
  int64_t trained_at = 0;    // the model's trained_at; 0: now
  bool user_priors = true;   // false: users train without their given vector as prior
  // Resumable (the cluster's TRAIN entries): StartTrainRun stores the run with
  // the log position it read at, until the model is applied; an engine opened
  // with one stored trains it again at that position (a node killed mid-TRAIN).
  bool resumable = false;
  uint64_t last_event = 0;  // train on events numbered up to this; 0: all
  uint64_t last_post_seq = 0;  // and on posts written up to this store sequence; 0: all
};

// The model in use (INFO model).
struct ModelInfo {
  bool loaded = false;         // a TRAIN or MODEL.LOAD gave the engine factors
  int64_t trained_at = 0;      // unix time
  int iterations = 0;
  double loss = 0;
  int64_t users_with_factors = 0;
  int64_t posts_with_factors = 0;
  double last_train_seconds = 0;
  int64_t last_train_events = 0;  // events the last TRAIN here trained on
  uint64_t events_seq = 0;     // the newest event the model covers
  bool training = false;
};

// Heap bytes per structure (INFO memory, docs/operations.md), each read from
// the structure itself.
struct MemoryBreakdown {
  uint64_t post_vectors = 0;  // the post table's vector column
  uint64_t post_entries = 0;  // its entries, ids, counters, maps and sets
  IndexMemory index;          // the serving ANN index
  uint64_t foldin_cache = 0;  // cached users' incremental fold-in states
  uint64_t gramian = 0;       // the item Gramian, its trained set and the FoldIn
  uint64_t text_model = 0;    // the loaded lexicon; 0 without one
  StoreMemory store;          // RocksDB; zeros once closed
};

struct EngineCounters {
  uint64_t users = 0;
  uint64_t posts = 0;
  uint64_t disk_bytes = 0;
  uint64_t feed_requests = 0;
  // ANN searches FEED made (interest, cross, home) and the time they took:
  // what a FEED costs beyond its searches is the rest of its latency.
  uint64_t feed_searches = 0;
  uint64_t feed_search_usec = 0;
  uint64_t events = 0;
};

class Engine {
 public:
  // Opens the store, loads the latest index snapshot and catches up, or
  // rebuilds the index from the store. Errors as Store::Open, plus IOError
  // for an unreadable data dir and Invalid for a dim outside 1..kMaxDim.
  // With options.text_model: the model's load errors (IOError, Corruption,
  // naming the file), and Invalid when dim or the database's dimension is
  // not the model's. Nothing is returned on error.
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  virtual ~Engine() = default;

  virtual int dim() const = 0;

  // Creates the user or changes the given fields. Invalid for a bad id,
  // culture, lang or openness; WrongDim / BadVector for the vector. A vector
  // becomes the user's prior; under fold-in their vector is re-solved from
  // their events with it (the prior itself when they have none).
  virtual Status SetUser(const UserUpdate& update) = 0;
  // nullopt for an unknown user.
  virtual Result<std::optional<UserRecord>> GetUser(std::string_view id) const = 0;
  // false for an unknown user. Removes the profile, seen marks and events.
  virtual Result<bool> DeleteUser(std::string_view id) = 0;

  // Creates or replaces a post. OK means durable and visible to Feed and
  // Similar. Invalid for a bad id, author, culture, lang or ts ("ts out of
  // range: ..."); WrongDim / BadVector for the vector. Without a vector the
  // post takes the text vector of its title and text (EmbedText's errors;
  // Invalid when there is no text model or no text). Nothing is written on
  // error.
  virtual Status AddPost(PostInput post) = 0;
  // The text model's unit vector for text (dim() floats); lang as PostInput's
  // (empty or unknown: detected from the script). Invalid when no text model
  // is loaded, for a bad lang or a text over the model's length limit;
  // BadVector("no known words in text") when no word is known.
  virtual Result<Vector> EmbedText(std::string_view text, std::string_view lang) const = 0;
  // The loaded text model's description (INFO text); nullopt without one.
  // Fixed after Open: thread-safe.
  virtual std::optional<text::TextModel::Info> TextModelInfo() const { return std::nullopt; }
  // nullopt for an unknown post.
  virtual Result<std::optional<PostInfo>> GetPost(std::string_view id) const = 0;
  // false for an unknown post. Once this returns, no Feed or Similar that
  // starts later returns the post.
  virtual Result<bool> DeletePost(std::string_view id) = 0;

  // Records feedback and updates the user's vector (api.md EVENT, by
  // options.feedback); an unknown user is created. Counters count people: a
  // user's repeat of an engagement kind on a post (Engagement, limits.h) is
  // logged and refreshes the seen time but changes no counter and no vector.
  // Fold-in never stores a NaN: a solve without a finite answer, or one with
  // no positive evidence (only HIDE/REPORT), keeps the vector the user had,
  // and the event is still recorded. NotFound("post") for an unknown post;
  // Invalid for a ts outside kMinTs .. now + kMaxTsAhead (limits.h).
  virtual Status RecordEvent(std::string_view user, std::string_view post, EventType type,
                             std::optional<int64_t> ts) = 0;

  // Applies ops in order, each seeing the ones before it, as ONE store
  // WriteBatch (all or nothing across a crash), then publishes them to the
  // post table and index together; no other write interleaves. Validation
  // and errors per op as the single methods above, which are this call with
  // one op. With options.all_or_nothing the first failing op fails the call
  // and nothing is written; otherwise result[i] holds ops[i]'s error and the
  // others are written. IOError from the store: nothing is written.
  virtual Result<std::vector<WriteOutcome>> Write(std::span<const WriteOp> ops,
                                                  const WriteOptions& options) = 0;
  // options.applied_log_seq of the last Write that had one, as stored (read
  // at open); 0 when none.
  virtual uint64_t AppliedLogSeq() const = 0;

  // One ranked page (docs/ranking.md). Invalid for a bad user id, a count
  // outside 1..kMaxPageSize or an openness outside 0..1. Unless request.peek,
  // the page is recorded as served: concurrent FEEDs of one user are
  // serialised from reading the seen set to recording the page, so they
  // never serve a post twice.
  virtual Result<std::vector<FeedItem>> Feed(const FeedRequest& request) = 0;
  // Up to count posts nearest to post's vector (other cultures only if
  // cross), nearest first. NotFound("post"), Invalid as Feed.
  virtual Result<std::vector<std::string>> Similar(std::string_view post, int count,
                                                   bool cross) = 0;

  virtual IndexInfo GetIndexInfo() const = 0;
  // Starts a background rebuild from the post table; the new index is
  // swapped in when done. Busy when a rebuild is already running.
  virtual Status StartRebuild() = 0;
  // Swaps in an index file written for this database (bridgefeed-rebuild),
  // caught up with the posts written since. Errors as AnnIndex::Load; the
  // serving index is kept on error.
  virtual Status LoadIndex(const std::string& path) = 0;
  // Writes the index snapshot now. IOError when the file cannot be written.
  virtual Status Save() = 0;
  // Store checkpoint plus index snapshot into dir (new or empty). Invalid
  // for a non-empty dir or a file; IOError for a failed write.
  virtual Status Backup(const std::string& dir) = 0;
  virtual EngineCounters Counters() const = 0;
  // Takes the post table's read lock briefly: O(authors), not O(posts).
  virtual MemoryBreakdown Memory() const { return {}; }
  // SCAN: up to `limit` post or user ids after `after`, in key order (see
  // Store::ScanIds). Invalid once closed; IOError on a read failure.
  virtual Result<std::vector<std::string>> ScanIds(IdKind kind, std::string_view after,
                                                   size_t limit) const = 0;

  // Learning (docs/learning.md). Train: weighted ALS over the stored event
  // log in the background while serving the old model, then swaps the post
  // factors, the index and the fold-in Gramian in at once and writes the
  // users' factors. wait: returns the summary when done; else returns an
  // empty summary once started. Busy while a TRAIN or an index rebuild runs;
  // Invalid "no events to train on" (nothing changes). The model is written
  // to the data dir first, so it survives a kill (docs/operations.md).
  virtual Result<TrainSummary> Train(bool wait) = 0;
  // Swaps in a model file (bridgefeed-train) of this database and dimension,
  // as TRAIN does, catching up with the events since it was trained.
  // NotFound, Corruption (truncated, damaged), WrongDim, Invalid (another
  // database) from the file, Busy as Train; the model in use is kept on error.
  virtual Status LoadModel(const std::string& path) = 0;
  // The cluster's TRAIN (engine/cluster/engine_applier.h): first waits for a
  // TRAIN or rebuild running here to finish, then reads the store as of now and
  // returns once it is read; trains with run's settings and swaps in as Train
  // does, in the background. Errors before the train starts: Invalid "no events
  // to train on", "engine is closed", the store's read errors (nothing changes).
  // Engines that do not learn: Invalid.
  virtual Status StartTrainRun(const TrainRun& run) {
    (void)run;
    return Status::Invalid("this engine does not train");
  }
  virtual ModelInfo GetModelInfo() const = 0;
  // Stops the background threads, writes the final snapshot and closes the
  // store. Returns the snapshot's or the sync's error, if any; the engine is
  // closed either way. Later calls return Invalid("engine is closed"); a
  // second Close returns OK. REQUIRES: no other call in flight.
  virtual Status Close() = 0;
};


}  // namespace bf
