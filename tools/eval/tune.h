// Training a model for an evaluation and choosing its settings on a
// validation split (never on the held-out part): coordinate search over the
// positive-event confidence, the VIEW confidence, the regularisation, the
// prior's pull, the iterations and the metric, two rounds.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "embeddings/learn/als.h"
#include "tools/eval/dataset.h"
#include "tools/eval/metrics.h"
#include "tools/eval/split.h"

namespace bf::eval {

struct Setting {
  learn::AlsOptions als;
  Metric metric = Metric::kInnerProduct;
  bool priors = false;  // train with the given vectors as priors
};

// The options with every positive kind's weight set from `like` (SAVE and
// SHARE 1.25x, COMMENT 0.75x, as in the defaults' ratios) and VIEW's.
learn::AlsOptions WithWeights(learn::AlsOptions o, float like, float view);
std::string Describe(const Setting& s);

// Trains on `train`. Errors: as BuildFeedbackMatrix and TrainAls.
Result<learn::AlsModel> TrainModel(const Dataset& d, std::span<const learn::Interaction> train,
                                   const Setting& s);

struct Trial {
  Setting setting;
  Metrics metrics;
};

struct TuneSpace {
  std::vector<float> like = {1, 2, 5, 10, 20, 40};
  std::vector<float> view = {0, 0.5f, 1, 3};
  std::vector<float> regularization = {0.1f, 1, 5, 20, 50};
  std::vector<float> prior_regularization = {0.1f, 1, 5, 20};
  std::vector<int> iterations = {5, 10, 15, 25};
};

// Coordinate search from `start`, scored by recall@K on `validation`.
// Returns every trial; the best is the one with the highest recall (the
// earliest on a tie). log, when set, gets a line per trial.
Result<std::vector<Trial>> Tune(const Dataset& d, const Split& validation, const Setting& start,
                                const TuneSpace& space, const EvalSetup& setup,
                                const std::function<void(const Trial&)>& log);

const Trial& Best(const std::vector<Trial>& trials);

}  // namespace bf::eval
