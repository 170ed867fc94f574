// The delta buffer of an index whose single adds are expensive (HNSW), and
// the exact top-k helpers shared with brute-force search.
//
// Faiss 1.7.3's IndexHNSW::add initialises one OpenMP lock per existing node
// on every call, so a one-vector add costs O(ntotal) (about 1 ms at 100k
// vectors). Real-time adds therefore land in a DeltaBuffer: a plain
// row-major array searched exactly next to the graph, and moved into the
// graph in batched adds that pay that setup once per batch (docs/index.md).
// No Faiss header here: the scan's distance kernel lives in delta.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

#include "embeddings/status.h"
#include "index/ann_index.h"

namespace bf::internal {

// Rows of dim floats, appended at the back and merged away from the front.
// Row r belongs to the slot just past the main index's last slot plus r, so
// merging rows in order keeps every slot number unchanged.
class DeltaBuffer {
 public:
  explicit DeltaBuffer(int dim) : dim_(dim) {}

  int64_t rows() const { return static_cast<int64_t>(data_.size()) / dim_; }
  const float* data() const { return data_.data(); }
  const float* Row(int64_t r) const { return data_.data() + r * dim_; }

  void Append(int64_t n, const float* vectors) {
    data_.insert(data_.end(), vectors, vectors + n * dim_);
  }
  // Drops the first n rows (they are in the main index now). Rows are few
  // (the merge threshold), so moving the rest is cheap next to the merge.
  void DropFront(int64_t n) {
    BF_CHECK(n >= 0 && n <= rows());
    data_.erase(data_.begin(), data_.begin() + n * dim_);
    if (data_.empty()) data_.shrink_to_fit();
  }
  void Assign(std::vector<float> data) {
    BF_CHECK(data.size() % static_cast<size_t>(dim_) == 0);
    data_ = std::move(data);
  }
  // The rows' floats, for a snapshot.
  const std::vector<float>& floats() const { return data_; }

 private:
  int dim_;
  std::vector<float> data_;
};

// The best k (score, slot) pairs seen, kept in a min-heap.
class TopK {
 public:
  explicit TopK(int k) : k_(k) {}
  // Whether a result scoring `score` would enter the top k now.
  bool WouldEnter(float score) const {
    return static_cast<int>(heap_.size()) < k_ || score > heap_.top().first;
  }
  size_t size() const { return heap_.size(); }
  void Push(float score, int64_t slot) {
    heap_.emplace(score, slot);
    if (static_cast<int>(heap_.size()) > k_) heap_.pop();
  }
  // Best first; empties the heap.
  std::vector<std::pair<float, int64_t>> Take();

 private:
  using Entry = std::pair<float, int64_t>;
  int k_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
};

// Inner product of two dim-float vectors (Faiss's SIMD kernel).
float InnerProduct(const float* a, const float* b, int dim);

// The best k of two best-first lists that share no id, best first.
std::vector<Hit> MergeHits(const std::vector<Hit>& a, const std::vector<Hit>& b, int k);

}  // namespace bf::internal
