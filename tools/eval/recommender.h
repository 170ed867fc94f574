// What bridgefeed-eval measures: anything that turns a user into a ranked
// list of items. This round: the model's factors scored directly (inner
// product or cosine), most-popular, and exact search on given vectors; the
// engine's Feed plugs in later behind the same interface.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "embeddings/learn/als.h"

namespace bf::eval {

class Recommender {
 public:
  virtual ~Recommender() = default;
  virtual std::string Name() const = 0;
  // At most k items for user, best first, none of `exclude` (ascending).
  // Thread-safe: called for many users at once.
  virtual std::vector<int32_t> Recommend(int32_t user, int k,
                                         std::span<const int32_t> exclude) const = 0;
};

// A recommender from a score per item: the top k scores, -inf never picked,
// ties to the lower index.
class ScoringRecommender : public Recommender {
 public:
  std::vector<int32_t> Recommend(int32_t user, int k,
                                 std::span<const int32_t> exclude) const override;
  // Fills scores (one per item); false when the user cannot be ranked.
  virtual bool Score(int32_t user, std::span<float> scores) const = 0;
  virtual int32_t items() const = 0;
};

enum class Metric { kInnerProduct, kCosine };
const char* MetricName(Metric m);

// Users against items by their factors. Keeps references: the factors must
// outlive it. Items without a factor (kNone) are never recommended; a user
// without one gets an empty list.
class FactorRecommender : public ScoringRecommender {
 public:
  FactorRecommender(std::string name, const learn::Factors& users, const learn::Factors& items,
                    Metric metric);
  std::string Name() const override { return name_; }
  bool Score(int32_t user, std::span<float> scores) const override;
  int32_t items() const override { return items_.rows; }

 private:
  std::string name_;
  const learn::Factors& users_;
  const learn::Factors& items_;
  Metric metric_;
  std::vector<float> inv_norm_;  // per item, for cosine (0 without a factor)
};

// Items by their number of positive training events (LIKE SAVE SHARE COMMENT).
class PopularRecommender : public ScoringRecommender {
 public:
  PopularRecommender(std::span<const learn::Interaction> train, int32_t items);
  std::string Name() const override { return "most-popular"; }
  bool Score(int32_t user, std::span<float> scores) const override;
  int32_t items() const override { return static_cast<int32_t>(count_.size()); }

 private:
  std::vector<float> count_;
};

// Exact search by cosine on the given vectors: the user's given vector, else
// the normalised mean of the given vectors of the items they reacted to
// positively in training. Items without a given vector are never picked.
struct GivenRows {  // built before the FactorRecommender that reads them
  learn::Factors users, items;
};
class GivenVectorRecommender : private GivenRows, public FactorRecommender {
 public:
  GivenVectorRecommender(const learn::Priors& user_vectors, const learn::Priors& item_vectors,
                         int dim, std::span<const learn::Interaction> train, int32_t users,
                         int32_t items);

 private:
  static GivenRows Rows(const learn::Priors& user_vectors, const learn::Priors& item_vectors,
                        int dim, std::span<const learn::Interaction> train, int32_t users,
                        int32_t items);
};

}  // namespace bf::eval
