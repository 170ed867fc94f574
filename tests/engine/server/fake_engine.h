// FakeEngine: records calls and returns canned results, so the command layer
// and the server are tested without a store or an index.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace bf::testing {

class FakeEngine : public Engine {
 public:
  int dim() const override { return dim_; }

  Status SetUser(const UserUpdate& u) override {
    std::lock_guard l(mu_);
    last_user = u;
    calls.push_back("SetUser " + u.id);
    return next_status;
  }
  Result<std::optional<UserRecord>> GetUser(std::string_view id) const override {
    std::lock_guard l(mu_);
    if (id == "alice") return std::optional<UserRecord>(user);
    return std::optional<UserRecord>();
  }
  Result<bool> DeleteUser(std::string_view id) override { return id == "alice"; }
  Status AddPost(PostInput p) override {
    std::lock_guard l(mu_);
    last_post = std::move(p);
    calls.push_back("AddPost " + last_post.id);
    return next_status;
  }
  std::optional<text::TextModel::Info> text_info;  // INFO text; nullopt: no model
  // "cat" encodes to dim() copies of 0.5; anything else has no known word.
  Result<Vector> EmbedText(std::string_view text, std::string_view lang) const override {
    std::lock_guard l(mu_);
    last_embed_lang = std::string(lang);
    if (text != "cat") return Status::BadVector("no known words in text");
    return Vector(static_cast<size_t>(dim_), 0.5f);
  }
  std::optional<text::TextModel::Info> TextModelInfo() const override { return text_info; }
  Result<std::optional<PostInfo>> GetPost(std::string_view id) const override {
    if (id == "p1") return std::optional<PostInfo>(post);
    return std::optional<PostInfo>();
  }
  Result<bool> DeletePost(std::string_view id) override { return id == "p1"; }
  Status RecordEvent(std::string_view user, std::string_view p, EventType type,
                     std::optional<int64_t> ts) override {
    std::lock_guard l(mu_);
    if (p != "p1") return Status::NotFound("post");
    calls.push_back("RecordEvent " + std::string(user) + " " + std::string(p) + " " +
                    std::to_string(static_cast<int>(type)) + " " +
                    (ts ? std::to_string(*ts) : std::string("-")));
    return Status::OK();
  }
  // Each op through the single methods above (so calls records them), no
  // atomicity: the command layer's tests need the dispatch, not the store.
  Result<std::vector<WriteOutcome>> Write(std::span<const WriteOp> ops,
                                          const WriteOptions& options) override {
    std::vector<WriteOutcome> out(ops.size());
    for (size_t i = 0; i < ops.size(); ++i) {
      Status st;
      if (const auto* u = std::get_if<UserUpdate>(&ops[i])) {
        st = SetUser(*u);
      } else if (const auto* du = std::get_if<DeleteUserOp>(&ops[i])) {
        out[i].existed = *DeleteUser(du->id);
      } else if (const auto* p = std::get_if<PostInput>(&ops[i])) {
        st = AddPost(*p);
      } else if (const auto* dp = std::get_if<DeletePostOp>(&ops[i])) {
        out[i].existed = *DeletePost(dp->id);
      } else if (const auto* e = std::get_if<EventOp>(&ops[i])) {
        st = RecordEvent(e->user, e->post, e->type, e->ts);
      }
      if (!st.ok() && options.all_or_nothing) return st;
      out[i].status = std::move(st);
    }
    std::lock_guard l(mu_);
    writes.push_back(ops.size());
    if (options.applied_log_seq) applied_log_seq = *options.applied_log_seq;
    return out;
  }
  uint64_t AppliedLogSeq() const override { return applied_log_seq; }
  Result<std::vector<FeedItem>> Feed(const FeedRequest& r) override {
    std::lock_guard l(mu_);
    last_feed = r;
    return feed;
  }
  Result<std::vector<std::string>> Similar(std::string_view p, int count, bool cross) override {
    if (p != "p1") return Status::NotFound("post");
    std::lock_guard l(mu_);
    calls.push_back("Similar " + std::to_string(count) + (cross ? " cross" : ""));
    return std::vector<std::string>{"p2", "p3"};
  }
  IndexInfo GetIndexInfo() const override { return index; }
  Status StartRebuild() override { return Status::Busy("a rebuild is already running"); }
  Status LoadIndex(const std::string& path) override {
    std::lock_guard l(mu_);
    calls.push_back("LoadIndex " + path);
    return Status::OK();
  }
  Status Save() override { return Status::OK(); }
  Status Backup(const std::string& dir) override {
    std::lock_guard l(mu_);
    calls.push_back("Backup " + dir);
    return Status::IOError("disk full");
  }
  EngineCounters Counters() const override { return counters; }
  Result<std::vector<std::string>> ScanIds(IdKind kind, std::string_view after,
                                           size_t limit) const override {
    std::lock_guard l(mu_);
    if (scan_error) return Status::IOError("scan failed");
    std::vector<std::string> out;
    for (const std::string& id : kind == IdKind::kPost ? post_ids : user_ids) {
      if (out.size() < limit && (after.empty() || id > after)) out.push_back(id);
    }
    return out;
  }
  Result<TrainSummary> Train(bool wait) override {
    std::lock_guard l(mu_);
    calls.push_back(wait ? "Train wait" : "Train");
    if (!train_status.ok()) return train_status;
    return wait ? train : TrainSummary{};
  }
  Status LoadModel(const std::string& path) override {
    std::lock_guard l(mu_);
    calls.push_back("LoadModel " + path);
    return train_status;
  }
  ModelInfo GetModelInfo() const override { return model; }
  Status Close() override { return Status::OK(); }

  int dim_ = 3;
  std::vector<size_t> writes;  // the size of each Write group
  uint64_t applied_log_seq = 0;
  Status next_status;
  UserRecord user;
  PostInfo post;
  std::vector<FeedItem> feed;
  IndexInfo index;
  EngineCounters counters;
  std::vector<std::string> post_ids, user_ids;  // sorted, for ScanIds
  bool scan_error = false;
  Status train_status;  // Train and LoadModel
  TrainSummary train;
  ModelInfo model;

  mutable std::mutex mu_;
  std::vector<std::string> calls;
  UserUpdate last_user;
  PostInput last_post;
  FeedRequest last_feed;
  mutable std::string last_embed_lang;
};

}  // namespace bf::testing
