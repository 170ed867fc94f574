// The fold-in model the engine keeps beside the post table: the item
// Gramian Y^T Y over the posts whose factor is trained (a post with only its
// given vector, its prior, is not counted: ALS treats nobody-has-seen-it
// posts as unobserved, learn/fold_in.h), and an epoch that changes whenever
// a factor a user's cached fold-in may hold changes.
//
// Thread safety: none; the engine guards it with the post table's lock
// (shared to read, exclusive to change), since the factors it sums are the
// table's vectors.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_set>
#include <vector>

namespace bf {

class ItemGramian {
 public:
  explicit ItemGramian(int dim);

  // Replaces the whole model (what TRAIN and MODEL.LOAD do after swapping
  // the factors): gramian holds dim*dim values, row-major, the sum of y y^T
  // over `trained`. REQUIRES: gramian.size() == dim*dim.
  void Reset(std::vector<double> gramian, std::unordered_set<uint64_t> trained);
  // Counts post iid with trained factor y (dim floats). REQUIRES: iid is
  // not counted (Forget its old factor first).
  void Add(uint64_t iid, std::span<const float> y);
  // A post is deleted or its factor replaced: stops counting its old factor
  // y when it was trained, and moves the epoch either way.
  void Forget(uint64_t iid, std::span<const float> y);

  bool Contains(uint64_t iid) const { return trained_.count(iid) != 0; }
  size_t trained() const { return trained_.size(); }
  // Moves whenever a factor or the Gramian changes: a cached fold-in built
  // at another epoch must be started again.
  uint64_t epoch() const { return epoch_; }
  // Moves only when the matrix changes.
  uint64_t version() const { return version_; }
  // The Gramian as FoldIn takes it: dim*dim floats, row-major.
  std::vector<float> Matrix() const;
  uint64_t HeapBytes() const;  // INFO memory

 private:
  void Accumulate(std::span<const float> y, double sign);

  int dim_;
  std::vector<double> sum_;  // dim*dim, double so adds and subtracts do not drift
  std::unordered_set<uint64_t> trained_;
  uint64_t epoch_ = 0;
  uint64_t version_ = 0;
};

}  // namespace bf
