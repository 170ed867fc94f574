// The engine's learning state (engine_learn.cc): the model in use, its
// fold-in (the item Gramian), and TRAIN's threads.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "embeddings/learn/fold_in.h"
#include "embeddings/learn/model_file.h"
#include "engine/engine.h"

namespace bf {

struct LearnState {
  std::atomic<bool> training{false};
  std::thread train_thread;     // TRAIN without WAIT
  std::thread interval_thread;  // --train-interval-s

  mutable std::mutex mu;
  ModelInfo info;  // GUARDED_BY(mu)
  // Fold-in against the item factors in use (their Gramian); null before a
  // model. Replaced, never changed, on TRAIN and MODEL.LOAD. GUARDED_BY(mu)
  std::shared_ptr<const learn::FoldIn> fold_in;

  // Set by the start (LoadModelAtStart) for OpenIndex and Init.
  bool index_stale = false;  // the index snapshot does not hold the model's factors
  std::optional<learn::ModelFile> users_pending;  // model whose users are still to write
};

}  // namespace bf
