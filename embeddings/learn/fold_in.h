// Exact fold-in: one user's weighted least squares against fixed item
// factors, the same normal equations a full ALS sweep solves for that user:
//   (Y^T Y + lambda I + sum over the user's items of (c - 1) y y^T) x
//     = sum of c p y + lambda prior
// with Y^T Y cached once per model. Cost O(n d^2 + d^3) for n distinct items,
// so the engine can call it on every EVENT. An item with a factor that is
// not in the Gramian (a post with only its prior) enters with weight c in
// place of c - 1, since Y^T Y does not count it as unobserved.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "embeddings/learn/als.h"
#include "embeddings/learn/interactions.h"
#include "embeddings/status.h"
#include "embeddings/vector.h"

namespace bf::learn {

struct UserEvent {
  int64_t item = 0;  // the caller's item key, passed to ItemFactorSource::Find
  EventKind kind = EventKind::kView;
  int64_t ts = 0;
};

// Where fold-in reads item factors (the engine's post table, a trained
// model). Find must be safe to call from the thread running Solve.
class ItemFactorSource {
 public:
  virtual ~ItemFactorSource() = default;
  // The item's dim floats, or nullptr when it has no factor. Sets
  // *in_gramian to whether the Gramian given to FoldIn counts it.
  virtual const float* Find(int64_t item, bool* in_gramian) const = 0;
};

// The items of a trained model, keyed by row: kTrained rows are in the
// Gramian, kPrior rows are not, kNone rows have no factor.
class ModelItems : public ItemFactorSource {
 public:
  // Keeps a reference: f must outlive this.
  explicit ModelItems(const Factors& f) : f_(f) {}
  const float* Find(int64_t item, bool* in_gramian) const override;

 private:
  const Factors& f_;
};

class IncrementalFoldIn;

class FoldIn {
 public:
  // gramian: dim*dim floats, row-major (AlsModel::item_gramian, or
  // TrainedGramian after the item factors changed). Uses the options' dim,
  // regularisation and confidence settings. Errors (Invalid): the options
  // fail CheckAlsOptions; gramian has not dim*dim values or any that is not
  // finite.
  static Result<FoldIn> Create(std::vector<float> gramian, const AlsOptions& options);

  int dim() const { return options_.dim; }
  size_t HeapBytes() const;  // INFO memory: the Gramian it holds

  // The user's vector from their whole history (any order; repeated items
  // are summed as in training). prior: dim floats (the user's given vector),
  // or empty. now: the decay reference (0: the newest event), unused without
  // decay. Events on items without a factor are skipped; when none is left,
  // the result is the prior itself (training keeps such a row at its prior).
  // Errors: NotFound "no evidence" when no event names an item with a factor
  // and there is no prior; NotFound "no positive evidence" when the solution
  // is zero (only negative events and no prior); WrongDim when prior is not
  // empty and not dim floats; Invalid "unknown event kind" for a kind
  // outside EventKind; Internal when the system has no finite solution.
  // Never returns a NaN or infinite value.
  // Thread-safe: const, with per-thread scratch space.
  Result<Vector> Solve(std::span<const UserEvent> events, const ItemFactorSource& items,
                       std::span<const float> prior = {}, int64_t now = 0) const;

 private:
  friend class IncrementalFoldIn;
  FoldIn(std::vector<float> gramian, const AlsOptions& options);
  AlsOptions options_;
  std::vector<float> gramian_;  // dim*dim, symmetric
};

// The same solve kept up to date one event at a time: a new event changes one
// cell, so the user's normal matrix changes by a rank-one update of its
// Cholesky factor (confidence only grows) and the right-hand side by one
// vector: O(d^2) per event instead of O(n d^2 + d^3). Holds d*d + d floats
// and one entry per item of the history, so the engine keeps one for each
// recently active user, and starts it again after the item factors change.
// Exact up to float rounding (tested against FoldIn::Solve). Not thread-safe:
// one user, one caller at a time.
class IncrementalFoldIn {
 public:
  // Solves the history as FoldIn::Solve does. Errors: Invalid when the
  // options have a time decay (weights would change with the clock: use
  // Solve); WrongDim for a prior of another size; Internal when the system
  // has no finite solution. Unlike Solve, an empty history is fine: the
  // vector is then absent (has_vector() false) until a positive event.
  static Result<IncrementalFoldIn> Start(const FoldIn& base, std::span<const UserEvent> history,
                                         const ItemFactorSource& items,
                                         std::span<const float> prior = {});
  IncrementalFoldIn(IncrementalFoldIn&&) noexcept;
  IncrementalFoldIn& operator=(IncrementalFoldIn&&) noexcept;
  ~IncrementalFoldIn();

  // Adds one event and returns the user's new vector. An event on an item
  // without a factor changes nothing. Errors: NotFound "no positive
  // evidence" while the vector is zero (as Solve); Internal when the update
  // is not finite (then every later call fails too: start again).
  Result<Vector> Add(const UserEvent& event, const ItemFactorSource& items);

  bool has_vector() const;
  // INFO memory: the Cholesky factor, right side, vector and event cells.
  size_t HeapBytes() const;

 private:
  struct State;
  explicit IncrementalFoldIn(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace bf::learn
