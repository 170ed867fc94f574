#include "engine/internal/item_gramian.h"

#include <utility>

#include "embeddings/heap_bytes.h"

namespace bf {

ItemGramian::ItemGramian(int dim) : dim_(dim), sum_(static_cast<size_t>(dim) * dim, 0.0) {}

void ItemGramian::Reset(std::vector<double> gramian, std::unordered_set<uint64_t> trained) {
  sum_ = std::move(gramian);
  trained_ = std::move(trained);
  ++epoch_;
  ++version_;
}

void ItemGramian::Accumulate(std::span<const float> y, double sign) {
  for (int r = 0; r < dim_; ++r) {
    const double yr = sign * y[r];
    double* row = sum_.data() + static_cast<size_t>(r) * dim_;
    for (int c = 0; c < dim_; ++c) row[c] += yr * y[c];
  }
}

void ItemGramian::Add(uint64_t iid, std::span<const float> y) {
  if (!trained_.insert(iid).second) return;
  Accumulate(y, 1.0);
  ++epoch_;
  ++version_;
}

void ItemGramian::Forget(uint64_t iid, std::span<const float> y) {
  ++epoch_;
  if (trained_.erase(iid) == 0) return;
  Accumulate(y, -1.0);
  ++version_;
}

std::vector<float> ItemGramian::Matrix() const {
  if (trained_.empty()) return std::vector<float>(sum_.size(), 0.0f);  // no rounding residue
  return std::vector<float>(sum_.begin(), sum_.end());
}

uint64_t ItemGramian::HeapBytes() const {
  return heap::Of(sum_) + heap::HashNodes(trained_, false);
}

}  // namespace bf
