#include "index/culture_lists.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "embeddings/heap_bytes.h"
#include "index/delta.h"  // InnerProduct

namespace bf::internal {

void CultureLists::Reset(int64_t nlist, int dim) {
  *this = CultureLists();
  nlist_ = nlist;
  dim_ = dim;
  codes_.resize(static_cast<size_t>(nlist));
}

void CultureLists::Add(int64_t slot, int64_t list, int64_t offset, uint16_t culture,
                       const float* v) {
  if (slot >= static_cast<int64_t>(slot_list_.size())) slot_list_.resize(slot + 1, -1);
  if (list >= 0 && list < nlist_) {
    std::vector<uint8_t>& codes = codes_[list];
    if (offset >= static_cast<int64_t>(codes.size())) codes.resize(offset + 1, kUntracked);
    codes[offset] = culture < kMaxCultures ? static_cast<uint8_t>(culture) : kUntracked;
  }
  if (culture >= kMaxCultures || list < 0 || list >= nlist_) {
    untracked_ = untracked_ || culture >= kMaxCultures;
    return;
  }
  slot_list_[slot] = static_cast<int32_t>(list);
  if (culture >= cultures_) {  // a new column block per culture: no re-layout
    cultures_ = culture + 1;
    sums_.resize(cultures_ * nlist_ * dim_, 0.f);
    norms_.resize(cultures_ * nlist_, 0.f);
    counts_.resize(cultures_ * nlist_, 0);
    offsets_.resize(cultures_ * nlist_);
  }
  float* sum = Sum(culture, list);
  for (int64_t j = 0; j < dim_; ++j) sum[j] += v[j];
  const int64_t at = culture * nlist_ + list;
  norms_[at] = std::sqrt(InnerProduct(sum, sum, static_cast<int>(dim_)));
  ++counts_[at];
  offsets_[at].push_back(static_cast<uint32_t>(offset));
}

void CultureLists::Remove(int64_t slot, uint16_t culture) {
  if (slot >= static_cast<int64_t>(slot_list_.size()) || culture >= cultures_) return;
  const int32_t list = std::exchange(slot_list_[slot], -1);
  if (list >= 0) --counts_[culture * nlist_ + list];
}

std::vector<float> CultureLists::Scores(const float* q, const std::vector<uint8_t>* only) const {
  constexpr float kNone = -std::numeric_limits<float>::infinity();
  std::vector<float> scores(static_cast<size_t>(cultures_ * nlist_), kNone);
  for (int64_t at = 0; at < cultures_ * nlist_; ++at) {
    const int64_t c = at / nlist_;
    if (only != nullptr && (c >= static_cast<int64_t>(only->size()) || (*only)[c] == 0)) continue;
    if (counts_[at] <= 0) continue;
    scores[at] = InnerProduct(q, &sums_[at * dim_], static_cast<int>(dim_)) /
                 std::max(norms_[at], 1e-12f);
  }
  return scores;
}

bool CultureLists::Order(const float* q, const std::vector<uint8_t>& allowed,
                         std::vector<int64_t>* out) const {
  if (untracked_) return false;
  return Order(Scores(q, &allowed), allowed, out);
}

bool CultureLists::Order(const std::vector<float>& scores, const std::vector<uint8_t>& allowed,
                         std::vector<int64_t>* out) const {
  if (untracked_) return false;
  constexpr float kNone = -std::numeric_limits<float>::infinity();
  std::vector<float> best(static_cast<size_t>(nlist_), kNone);
  const auto n = static_cast<int64_t>(std::min<size_t>(allowed.size(), cultures_));
  for (int64_t c = 0; c < n; ++c) {
    if (allowed[c] == 0) continue;
    for (int64_t l = 0; l < nlist_; ++l) best[l] = std::max(best[l], scores[c * nlist_ + l]);
  }
  out->clear();
  for (int64_t l = 0; l < nlist_; ++l) {
    if (best[l] != kNone) out->push_back(l);
  }
  std::sort(out->begin(), out->end(), [&](int64_t a, int64_t b) {
    return best[a] != best[b] ? best[a] > best[b] : a < b;
  });
  return true;
}

uint64_t CultureLists::HeapBytes() const {
  uint64_t b = heap::Of(sums_) + heap::Of(norms_) + heap::Of(counts_) + heap::Of(offsets_) +
               heap::Of(codes_) + heap::Of(slot_list_);
  for (const auto& o : offsets_) b += heap::Of(o);
  for (const auto& c : codes_) b += heap::Of(c);
  return b;
}

}  // namespace bf::internal
