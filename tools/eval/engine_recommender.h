// The engine's FEED as a Recommender: bridgefeed-eval measures through the
// same Feed code the server runs (candidate sources, score formula, MMR
// diversity, author cap, openness), at the default ranking settings.
//
// Create opens a temporary Engine in `dir` and writes the training part into
// it: every item with a factor as a post (its factor as VECTOR; an item
// without one cannot be a post yet), the training events through EVENT, and
// then, in kModelFactors mode, each user's trained factor with USER.SET
// VECTOR. In kFoldIn mode the users keep the vectors the engine's live fold-in
// gave them from those events (what a server without a TRAIN serves). In
// kTrainedInEngine mode the model is not used: every item of the data is a
// post without a vector, the training events go in through EVENT, and the
// engine's own TRAIN (its default ALS settings) gives posts and users their
// factors, scored by inner product: the whole path from raw events.
// Recommend asks FEED ... PEEK for enough posts to fill k after dropping
// `exclude`.
//
// Errors: Create returns the engine's error (IOError for the folder, Invalid
// for an id the engine refuses). Thread safety: Recommend may be called from
// many threads at once (Engine::Feed is thread-safe).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>

#include "engine/engine.h"
#include "tools/eval/dataset.h"
#include "tools/eval/recommender.h"
#include "tools/eval/split.h"

namespace bf::eval {

enum class UserVectors { kModelFactors, kFoldIn, kTrainedInEngine };

class EngineRecommender : public Recommender {
 public:
  // model.items gives the posts' vectors; model.users the users' in
  // kModelFactors mode. ranking: the FEED settings (defaults unless tuning).
  static Result<std::unique_ptr<EngineRecommender>> Create(const Dataset& d, const Split& part,
                                                           const learn::AlsModel& model,
                                                           UserVectors users,
                                                           const RankingOptions& ranking,
                                                           const std::string& dir);
  ~EngineRecommender() override;

  std::string Name() const override { return name_; }
  std::vector<int32_t> Recommend(int32_t user, int k,
                                 std::span<const int32_t> exclude) const override;
  // Users FEED failed for (counted, their list left empty).
  int64_t errors() const { return errors_; }

 private:
  EngineRecommender() = default;
  std::string name_;
  std::string dir_;
  std::unique_ptr<Engine> engine_;
  const Dataset* d_ = nullptr;
  std::unordered_map<std::string, int32_t> item_of_;
  mutable std::atomic<int64_t> errors_{0};
};

}  // namespace bf::eval
