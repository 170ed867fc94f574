// Training over a stored database, shared by the engine's TRAIN and the
// offline bridgefeed-train: every post is an item row (its prior: the vector
// it was given), every user with events a user row (its prior: the vector
// given with USER.SET), the event log the interactions. Weighted ALS
// (embeddings/learn/als.h) does the rest.
//
// Model file keys (embeddings/learn/model_file.h): users by their id; posts
// by ItemKey(seq, id), so a loader applies a factor only to the post record
// it was trained on (a post replaced since keeps its new prior).
//
// Thread safety: TrainFromStore only reads the store (at one point in time
// per scan), so it runs beside a serving engine or on a read-only store.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "embeddings/learn/als.h"
#include "embeddings/learn/model_file.h"
#include "embeddings/status.h"
#include "engine/store/store.h"

namespace bf {

// The u64 a model file records for a database: the first 16 hex digits of
// its db id (or a hash of it when it is not hex). Never 0.
uint64_t DatabaseFingerprint(const std::string& db_id);

// seq (8 bytes, big-endian) + post id.
std::string ItemKey(uint64_t seq, std::string_view post_id);
// false for a key shorter than 9 bytes.
bool ParseItemKey(std::string_view key, uint64_t* seq, std::string_view* post_id);

struct StoreTraining {
  learn::ModelFile model;  // header filled: dim, database_id, events_seq, trained_at, ...
  std::vector<float> item_gramian;  // the trained items' Y^T Y (dim x dim)
  uint64_t post_seq = 0;  // the store's LastSequence before the posts were read
  int64_t events = 0;     // events trained on (on live posts)
  double seconds = 0;     // the whole call
};

// What a cluster's TRAIN changes (engine/cluster): the same model on every node.
struct StoreTrainingOptions {
  // false: users train without their USER.SET vector as prior (a node holds only its own
  // users' records, but every node must solve every user the same way).
  bool user_priors = true;
  int64_t trained_at = 0;  // the model's trained_at; 0: now
  // Called once every read is done, before the training (the caller may let writes go on).
  std::function<void()> on_read;
  // Read as of an earlier point (a resumed TRAIN): only events numbered up to
  // last_event and posts written at a store sequence up to last_post_seq; 0: all.
  // The model's events_seq is then last_event.
  uint64_t last_event = 0;
  uint64_t last_post_seq = 0;
};

// Reads posts, users and events of `store` and trains. options.dim is set
// from the store. Errors: Invalid "no events to train on" when the log has no
// event on a stored post (nothing else happens); the store's read errors;
// TrainAls's. on_iteration as TrainAls's.
Result<StoreTraining> TrainFromStore(const Store& store, learn::AlsOptions options,
                                     const learn::IterationCallback& on_iteration = nullptr,
                                     const StoreTrainingOptions& how = {});

}  // namespace bf
