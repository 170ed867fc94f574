#include "index/delta.h"

#include <algorithm>

#include <faiss/utils/distances.h>

namespace bf::internal {

std::vector<std::pair<float, int64_t>> TopK::Take() {
  std::vector<Entry> out(heap_.size());
  for (size_t i = out.size(); i-- > 0;) {
    out[i] = heap_.top();
    heap_.pop();
  }
  return out;
}

float InnerProduct(const float* a, const float* b, int dim) {
  return faiss::fvec_inner_product(a, b, static_cast<size_t>(dim));
}

std::vector<Hit> MergeHits(const std::vector<Hit>& a, const std::vector<Hit>& b, int k) {
  std::vector<Hit> out;
  out.reserve(std::min(a.size() + b.size(), static_cast<size_t>(std::max(k, 0))));
  size_t i = 0, j = 0;
  while (static_cast<int>(out.size()) < k && (i < a.size() || j < b.size())) {
    // Ties go to the main index's hit: the order then matches a merged index.
    if (j == b.size() || (i < a.size() && a[i].score >= b[j].score)) {
      out.push_back(a[i++]);
    } else {
      out.push_back(b[j++]);
    }
  }
  return out;
}

}  // namespace bf::internal
