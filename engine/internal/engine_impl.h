// The Engine implementation, split across engine.cc (users, posts, events,
// feeds) and engine_index.cc (the index lifecycle: load, build, catch-up,
// rebuild, snapshots, backups).
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <functional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "embeddings/learn/fold_in.h"
#include "embeddings/text/text_model.h"
#include "engine/engine.h"
#include "engine/internal/learn_state.h"
#include "engine/internal/foldin_cache.h"
#include "engine/internal/item_gramian.h"
#include "engine/ranking/post_table.h"

namespace bf {

// engine_text.cc: loads options->text_model (if any) into *model and sets
// options->dim from it (0: the model's; another value must equal it).
Status ResolveTextModel(EngineOptions* options, std::unique_ptr<const text::TextModel>* model);

class EngineImpl final : public Engine {
 public:
  // options.dim is resolved (ResolveTextModel); text_model may be null.
  EngineImpl(const EngineOptions& options, std::unique_ptr<const text::TextModel> text_model);
  ~EngineImpl() override;

  Status Init();

  int dim() const override { return options_.dim; }
  Status SetUser(const UserUpdate& update) override;
  Result<std::optional<UserRecord>> GetUser(std::string_view id) const override;
  Result<bool> DeleteUser(std::string_view id) override;
  Status AddPost(PostInput post) override;
  Result<Vector> EmbedText(std::string_view text, std::string_view lang) const override;
  std::optional<text::TextModel::Info> TextModelInfo() const override;
  Result<std::optional<PostInfo>> GetPost(std::string_view id) const override;
  Result<bool> DeletePost(std::string_view id) override;
  Status RecordEvent(std::string_view user, std::string_view post, EventType type,
                     std::optional<int64_t> ts) override;
  Result<std::vector<WriteOutcome>> Write(std::span<const WriteOp> ops,
                                          const WriteOptions& options) override;
  uint64_t AppliedLogSeq() const override;
  Result<std::vector<FeedItem>> Feed(const FeedRequest& request) override;
  Result<std::vector<std::string>> Similar(std::string_view post, int count, bool cross) override;
  IndexInfo GetIndexInfo() const override;
  Status StartRebuild() override;
  Status LoadIndex(const std::string& path) override;
  Status Save() override;
  Status Backup(const std::string& dir) override;
  EngineCounters Counters() const override;
  MemoryBreakdown Memory() const override;  // engine_memory.cc
  Result<std::vector<std::string>> ScanIds(IdKind kind, std::string_view after,
                                           size_t limit) const override {
    BF_RETURN_IF_ERROR(CheckOpen());
    return store_->ScanIds(kind, after, limit);
  }
  Result<TrainSummary> Train(bool wait) override;
  Status LoadModel(const std::string& path) override;
  ModelInfo GetModelInfo() const override;
  Status Close() override;

 private:
  // engine_text.cc: the vector of a post given without one; Invalid when
  // there is no text model or no text.
  Status TextVector(PostInput& post) const;
  // Adds what a text model needs said to a store's refusal (its dimension).
  Status TextModelContext(const Status& store_error) const;
  // engine_learn.cc (state in learn_state.h)
  Status LoadModelAtStart();
  Status FinishModelAtStart();
  // Trains again, in the background, a resumable TRAIN the store still holds
  // (a stop before its model was applied).
  Status ResumeTrainAtStart();
  Status StartTrainRun(const TrainRun& run) override;
  // on_read: called once the store is read (StartTrainRun returns then).
  Result<TrainSummary> TrainMain(const TrainRun& run, const std::function<void()>& on_read);
  // Puts a model's post factors in the table with its fold-in Gramian (empty:
  // computed here); swap_index: also builds an index from them and swaps it
  // in under the write lock (false at the start, before the index is opened).
  Status ApplyModel(const learn::ModelFile& m, std::vector<float> gramian, TrainSummary* out,
                    bool swap_index);
  // Writes the users' factors; users with events newer than m are solved
  // again by fold-in (the catch-up).
  Status ApplyUsers(const learn::ModelFile& m, const learn::FoldIn& fold_in);
  void TrainLoop();
  void StopLearning();
  std::unique_ptr<LearnState> learn_;

  // engine_index.cc
  Status OpenIndex();
  Result<std::unique_ptr<AnnIndex>> BuildFromTable(const std::string& why);
  // Brings `index` up to date with the table: adds posts written after
  // `seq`, removes ids that are no longer live. REQUIRES: write_mu_ held.
  Status CatchUp(AnnIndex& index, uint64_t seq);
  Status SaveLocked(const std::string& path, uint64_t* seq);
  // Save without the closed check (Close and the snapshot thread use it).
  Status SaveNow();
  void RebuildMain();
  void SnapshotLoop();
  // After `writes` post adds, replaces or deletes: starts a rebuild when the
  // index NeedsRebuild (O(1)).
  void MaybeRebuild(uint64_t writes);
  std::shared_ptr<AnnIndex> index() const;
  void SwapIndex(std::shared_ptr<AnnIndex> next);
  std::string SnapshotPath() const;

  // engine_write.cc
  struct PendingWrites;
  // Validates op and turns it into its store write, against the users and
  // posts as the group's earlier ops leave them (pending). On error pending
  // is unchanged.
  Status PrepareOp(const WriteOp& op, PendingWrites& pending, StoreOp* out);
  // Write's work under its locks; *adds counts the posts added, replaced or deleted.
  Result<std::vector<WriteOutcome>> WriteLocked(std::span<const WriteOp> ops,
                                                const WriteOptions& options, uint64_t* adds);
  // Stores the prepared ops and publishes them to the table and index.
  // REQUIRES: the users' stripes held, and write_mu_ when ops write posts.
  Result<std::vector<StoreOpResult>> CommitAndPublish(std::span<const StoreOp> ops,
                                                      const WriteOptions& options);
  // One op through Write, all or nothing.
  Result<WriteOutcome> WriteOne(WriteOp op);
  // engine_feedback.cc: what an EVENT does to the user's vector (PrepareOp
  // calls these). Updates rec.vector for an event on post iid, whose vector
  // is post_vec; iid 0: a post written earlier in the same group (the nudge
  // rule uses post_vec; fold-in leaves the vector and re-solves on the
  // user's next event). REQUIRES: UserLock(rec.id) held. Errors only from
  // reading the store.
  Status ApplyFeedback(UserRecord& rec, uint64_t iid, const Vector& post_vec, EventType type,
                       int64_t ts, FoldInGroup& group);
  // USER.SET ... VECTOR: prior (unit length) becomes rec's prior, and its
  // vector the re-solve of its stored events with it.
  Status SetPrior(UserRecord& rec, Vector prior, FoldInGroup& group);
  // Re-solves rec.vector from the user's whole event log and rec.prior (the
  // prior itself when nothing else counts). REQUIRES: UserLock(rec.id) held.
  Status RefoldUser(UserRecord& rec);
  // The full solve over the stored history plus `extra` (events not yet
  // stored).
  // pending_post: the vector of the item kPendingItem (a post not in the
  // table yet), or null.
  Result<Vector> SolveHistory(const UserRecord& rec, std::span<const learn::UserEvent> extra,
                              const Vector* pending_post = nullptr);
  // The FoldIn for the current Gramian. REQUIRES: table_mu_ held (shared).
  std::shared_ptr<const learn::FoldIn> FoldInModel() const;

  // One of user_mu_'s stripes: serialises a user's read-modify-writes
  // (profile, events) and a recorded FEED from its seen set to MarkServed.
  std::mutex& UserLock(std::string_view user);
  // Invalid("engine is closed") once Close has begun.
  Status CheckOpen() const;
  // The code viewers of `culture` count under; kNoCulture for "" or one without a code.
  uint16_t ViewerCulture(std::string_view culture) const;
  // EXPLAIN titles, read in one batch.
  Status AddTitles(std::vector<FeedItem>& items) const;

  const EngineOptions options_;
  const std::unique_ptr<const text::TextModel> text_model_;  // null: none; immutable
  std::unique_ptr<Store> store_;

  // Guards the table: Feed and Similar read (never across an ANN search),
  // post writes and events write.
  mutable std::shared_mutex table_mu_;
  PostTable table_;
  ItemGramian gramian_;  // guarded by table_mu_: the table's trained factors

  // Fixed at Init from options_.
  bool nudge_ = false;
  learn::AlsOptions als_;  // options_.learn with dim set
  // The FoldIn built for gramian_.version() foldin_version_, rebuilt on change.
  mutable std::mutex foldin_mu_;
  mutable std::shared_ptr<const learn::FoldIn> foldin_;  // guarded by foldin_mu_
  mutable uint64_t foldin_version_ = 0;                 // guarded by foldin_mu_
  FoldInCache foldins_;

  // Serialises post writes (store, table, index in that order) with index
  // swaps and snapshots, so a snapshot's sequence covers exactly its posts.
  std::mutex write_mu_;
  std::vector<uint64_t> deleted_during_rebuild_;  // guarded by write_mu_

  mutable std::mutex index_ptr_mu_;
  std::shared_ptr<AnnIndex> index_;  // guarded by index_ptr_mu_

  // Striped: a FEED holds its stripe across its searches, so enough stripes
  // that two users rarely share one.
  std::array<std::mutex, 256> user_mu_;

  std::atomic<uint64_t> snapshot_seq_{0};
  std::atomic<bool> rebuilding_{false};
  std::atomic<int64_t> last_rebuild_{0};
  std::atomic<int64_t> last_save_{0};  // LASTSAVE: unix time of the snapshot in use
  std::thread rebuild_thread_;
  std::atomic<uint64_t> feed_requests_{0};
  std::atomic<uint64_t> feed_searches_{0};
  std::atomic<uint64_t> feed_search_usec_{0};
  std::atomic<uint64_t> events_{0};
  // MaybeRebuild: post writes so far, and the count before which it does
  // not start another rebuild after one failed (an "auto" threshold too
  // small to train IVF, say), instead of retrying on every write.
  std::atomic<uint64_t> post_writes_{0};
  std::atomic<uint64_t> rebuild_retry_at_{0};

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by stop_mu_
  std::thread snapshot_thread_;
  std::atomic<bool> closed_{false};
};

int64_t NowSeconds();

}  // namespace bf
