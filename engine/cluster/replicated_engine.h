// ReplicatedEngine: the Engine a cluster node's server calls. Reads go to the node's own
// engine; every write (USER.SET, USER.DEL, POST.ADD, POST.DEL, EVENT) is validated, resolved
// into a log entry (a missing TS becomes this node's "now", an EVENT carries its viewer's
// culture), published with a fresh message id, and answered once the log acknowledged it AND
// this node's Replicator applied it (read-your-writes). The Applier (engine_applier.h), not
// this class, changes the node's state.
//
// Errors: the inner engine's validation errors (nothing published); ClusterDown / TryAgain
// from the log (log.h); ClusterDown when this node stopped applying the log (nothing
// published); TryAgain when the entry is in the log but this node has not applied
// it within the wait (it will be); the Replicator's stop error when it stopped.
// Index, snapshot and backup calls stay local: each node keeps its own index of the same posts.
// Thread safety: as Engine. Ownership: borrows the engine, the log and the replicator, which
// must outlive it.
#pragma once

#include <memory>

#include "engine/cluster/entry.h"
#include "engine/cluster/log.h"
#include "engine/cluster/replicator.h"
#include "engine/engine.h"

namespace bf::cluster {

class ReplicatedEngine final : public Engine {
 public:
  // apply_wait_ms: how long a write waits for this node to apply its acknowledged entry.
  // train: this node's TRAIN settings, which a TRAIN it accepts carries to every node.
  ReplicatedEngine(Engine* inner, Log* log, Replicator* replicator, std::string_view node_id,
                   int apply_wait_ms, const learn::AlsOptions& train);

  int dim() const override { return inner_->dim(); }
  Status SetUser(const UserUpdate& update) override;
  Result<std::optional<UserRecord>> GetUser(std::string_view id) const override {
    return inner_->GetUser(id);
  }
  Result<bool> DeleteUser(std::string_view id) override;
  // A post given text and no vector gets its text vector here, so the entry carries it.
  Status AddPost(PostInput post) override;
  Result<Vector> EmbedText(std::string_view text, std::string_view lang) const override {
    return inner_->EmbedText(text, lang);
  }
  std::optional<text::TextModel::Info> TextModelInfo() const override {
    return inner_->TextModelInfo();
  }
  Result<std::optional<PostInfo>> GetPost(std::string_view id) const override {
    return inner_->GetPost(id);
  }
  Result<bool> DeletePost(std::string_view id) override;
  Status RecordEvent(std::string_view user, std::string_view post, EventType type,
                     std::optional<int64_t> ts) override;
  // One op: as the single method. Several (MULTI/EXEC): Invalid, since a group is not one
  // log entry in this version and its users may live on several nodes.
  Result<std::vector<WriteOutcome>> Write(std::span<const WriteOp> ops,
                                          const WriteOptions& options) override;
  uint64_t AppliedLogSeq() const override { return inner_->AppliedLogSeq(); }
  Result<std::vector<FeedItem>> Feed(const FeedRequest& request) override {
    return inner_->Feed(request);
  }
  Result<std::vector<std::string>> Similar(std::string_view post, int count,
                                           bool cross) override {
    return inner_->Similar(post, count, cross);
  }
  IndexInfo GetIndexInfo() const override { return inner_->GetIndexInfo(); }
  Status StartRebuild() override { return inner_->StartRebuild(); }
  Status LoadIndex(const std::string& path) override { return inner_->LoadIndex(path); }
  Status Save() override { return inner_->Save(); }
  // The store checkpoint holds the applied sequence, so a node restored from it resumes there.
  Status Backup(const std::string& dir) override { return inner_->Backup(dir); }
  EngineCounters Counters() const override { return inner_->Counters(); }
  MemoryBreakdown Memory() const override { return inner_->Memory(); }
  Result<std::vector<std::string>> ScanIds(IdKind kind, std::string_view after,
                                           size_t limit) const override {
    return inner_->ScanIds(kind, after, limit);  // what this node stores
  }
  // TRAIN goes through the log (a TrainEntry with this node's settings and clock): every
  // node trains on its store as of the entry, so all serve the same post factors. Busy when
  // a train runs on this node; wait: returns when THIS node has swapped in (Internal when
  // its train failed: see its log).
  Result<TrainSummary> Train(bool wait) override;
  // The periodic TRAIN: publishes one under `message_id`; every node publishes the same id
  // for an interval and the log's dedupe keeps one. Returns once the log acked it.
  Status PublishTrain(const std::string& message_id);
  // Invalid: a model file is local to one node, and a model loaded on one node only would
  // make its post vectors differ from the other nodes'. TRAIN is the cluster's way.
  Status LoadModel(const std::string& path) override;
  ModelInfo GetModelInfo() const override { return inner_->GetModelInfo(); }
  // Closes nothing: the node's owner stops the Replicator, then closes the inner engine.
  Status Close() override { return Status::OK(); }

 private:
  // Publishes `entry` (under message_id, else a fresh one) and waits until this node
  // applied it.
  Result<ApplyOutcome> Replicate(const Entry& entry, std::string message_id = "");
  TrainEntry NewTrainEntry() const;

  Engine* const inner_;
  Log* const log_;
  Replicator* const replicator_;
  MessageIds ids_;
  const int apply_wait_ms_;
  const learn::AlsOptions train_;
};

}  // namespace bf::cluster
