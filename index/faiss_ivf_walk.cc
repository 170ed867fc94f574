// The walk over an IVF index's inverted lists that every IVF search but
// IVF,Flat's unfiltered one goes through: which lists each top-k list reads
// (PlanIvf) and one pass over their union scoring vectors in place
// (WalkIvf). Searches that use it are in faiss_search.cc.
#include <algorithm>
#include <memory>

#include "index/faiss_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVF.h>
#include <faiss/invlists/InvertedLists.h>

namespace bf::internal {
namespace {

using faiss_idx_t = faiss::Index::idx_t;

// The filtered walk scores at least this many allowed vectors per result.
constexpr int64_t kFilteredMinPerK = 16;

// Calls fn(p) for each pool index p set in the bit mask.
template <typename Fn>
void ForEachBit(uint32_t mask, Fn fn) {
  for (int p = 0; mask != 0; ++p, mask >>= 1) {
    if (mask & 1u) fn(p);
  }
}

}  // namespace

std::vector<int64_t> FaissIndex::CentroidOrder(const float* q, int64_t count) const {
  if (count <= 0) return {};
  const auto n = std::min<int64_t>(count, static_cast<int64_t>(ivf_->nlist));
  std::vector<faiss_idx_t> order(static_cast<size_t>(n), -1);
  std::vector<float> scores(static_cast<size_t>(n));
  ivf_->quantizer->search(1, q, n, scores.data(), order.data());
  std::erase(order, -1);
  return order;
}

int64_t FaissIndex::FilteredBudget(int k) const {
  // As many vectors as an unfiltered search scores (nprobe average lists),
  // and never fewer than kFilteredMinPerK per result wanted.
  // (Scoring as many allowed vectors as an unfiltered search scores of them,
  // nprobe * allowed / nlist, was measured: recall 0.90 for the home search
  // at 1M and 0.64 on the unit test's data, for little time saved.)
  const double per_list =
      static_cast<double>(id_to_slot_.size()) / static_cast<double>(ivf_->nlist);
  return std::max<int64_t>(static_cast<int64_t>(static_cast<double>(ivf_->nprobe) * per_list),
                           kFilteredMinPerK * static_cast<int64_t>(k));
}

int64_t FaissIndex::PoolProbeBudget(int k, double share) const {
  if (!(share > 0)) return 0;  // NaN too
  return static_cast<int64_t>(std::min(share, 1.0) * static_cast<double>(FilteredBudget(k)));
}

int64_t FaissIndex::LiveOf(const std::vector<uint8_t>& cultures, int64_t list) const {
  const int64_t m =
      std::min<int64_t>(static_cast<int64_t>(cultures.size()), culture_lists_.cultures());
  int64_t n = 0;
  for (int64_t c = 0; c < m; ++c) {
    if (cultures[c] != 0) n += culture_lists_.Live(static_cast<uint16_t>(c), list);
  }
  return n;
}

bool FaissIndex::PlanIvf(const float* q, const std::vector<float>* culture_scores,
                         std::span<const int64_t> centroid_order, WalkPool* pool) const {
  const size_t nlist = ivf_->nlist;
  pool->lists.assign(nlist, 0);
  pool->order.clear();
  const int64_t allowed = AllowedLive(pool->cultures);
  if (pool->cultures.empty() || allowed >= static_cast<int64_t>(id_to_slot_.size())) {
    PlanNearest(centroid_order, pool);  // unfiltered: the lists Faiss would probe
    return true;
  }
  std::vector<int64_t> order;
  const bool tracked = culture_scores != nullptr
                           ? culture_lists_.Order(*culture_scores, pool->cultures, &order)
                           : culture_lists_.Order(q, pool->cultures, &order);
  if (!tracked) return false;
  // The lists the budgeted walk would read: up to the one where the live
  // allowed vectors scored reach the budget (exclusions count as scored).
  const int64_t budget = FilteredBudget(pool->k);
  int64_t scored = 0;
  for (const int64_t l : order) {
    if (scored >= budget) break;
    pool->lists[l] = 1;
    pool->order.push_back(l);
    scored += LiveOf(pool->cultures, l);
  }
  pool->by_culture = true;
  return true;
}

void FaissIndex::PlanNearest(std::span<const int64_t> centroid_order, WalkPool* pool) const {
  const size_t nlist = ivf_->nlist;
  pool->lists.assign(nlist, 0);
  pool->order.clear();
  const auto nprobe = std::min<size_t>(std::max<size_t>(1, ivf_->nprobe), nlist);
  for (size_t i = 0; i < nprobe && i < centroid_order.size(); ++i) {
    pool->lists[centroid_order[i]] = 1;
    pool->order.push_back(centroid_order[i]);
  }
  pool->by_culture = false;
}

void FaissIndex::PoolsIvf(const float* q, std::span<const int> mins, double min_probe_share,
                          std::vector<WalkPool>& pools,
                          const std::unordered_set<uint64_t>* exclude, PoolHits* out) const {
  const int64_t live = static_cast<int64_t>(id_to_slot_.size());
  const std::vector<int64_t> centroids = CentroidOrder(q, static_cast<int64_t>(ivf_->nprobe));
  // The culture-to-list scores, once for both pools, only when a filtered plan needs them.
  std::vector<float> culture_scores;
  auto plan_filtered = [&](WalkPool* p) {
    if (culture_scores.empty() && !p->cultures.empty() && AllowedLive(p->cultures) < live) {
      culture_scores = culture_lists_.Scores(q);
    }
    BF_CHECK(PlanIvf(q, &culture_scores, centroids, p));
  };
  for (size_t i = 0; i < pools.size(); ++i) {
    WalkPool& p = pools[i];
    if (mins[i] <= 0) {
      plan_filtered(&p);
      continue;
    }
    PlanNearest(centroids, &p);
    // The pool's own best lists, up to its probe budget, join the walk: a
    // pool that is a minority of the nearest lists (cross, for a user whose
    // neighbourhood is home posts) finds its best vectors there, not in the
    // nearest lists (docs/index.md, "Pools with a min").
    const int64_t budget = PoolProbeBudget(p.k, min_probe_share);
    if (budget <= 0 || p.cultures.empty() || AllowedLive(p.cultures) >= live) continue;
    if (culture_scores.empty()) culture_scores = culture_lists_.Scores(q);
    std::vector<int64_t> order;
    BF_CHECK(culture_lists_.Order(culture_scores, p.cultures, &order));
    int64_t counted = 0;
    for (const int64_t l : order) {
      if (counted >= budget) break;
      counted += LiveOf(p.cultures, l);
      if (p.lists[l]) continue;
      p.lists[l] = 1;
      p.order.push_back(l);
    }
    p.by_culture = true;
  }
  out->scored = WalkIvf(q, pools, exclude);
  out->passes = 1;
  // A pool short of its min reads the lists its filtered plan adds; the
  // nearest lists are in its heap already, and every other pool sits out.
  bool widen = false;
  for (size_t i = 0; i < pools.size(); ++i) {
    WalkPool& p = pools[i];
    const bool short_of_min = mins[i] > 0 && p.top.size() < static_cast<size_t>(mins[i]);
    if (short_of_min) {
      const std::vector<uint8_t> read = p.lists;  // the nearest lists, in its heap
      plan_filtered(&p);
      std::erase_if(p.order, [&](int64_t l) { return read[l] != 0; });
      for (size_t l = 0; l < p.lists.size(); ++l) p.lists[l] = p.lists[l] && !read[l];
      ++out->widened;
      widen = widen || !p.order.empty();
    } else {
      p.lists.assign(ivf_->nlist, 0);
      p.order.clear();
    }
  }
  if (!widen) return;
  out->scored += WalkIvf(q, pools, exclude);
  out->passes = 2;
}

float FaissIndex::CoarseScore(const float* q, int64_t list) const {
  if (const auto* flat = dynamic_cast<const faiss::IndexFlat*>(ivf_->quantizer)) {
    return InnerProduct(q, flat->get_xb() + list * options_.dim, options_.dim);
  }
  std::vector<float> centroid(static_cast<size_t>(options_.dim));
  ivf_->quantizer->reconstruct(list, centroid.data());
  return InnerProduct(q, centroid.data(), options_.dim);
}

int64_t FaissIndex::WalkIvf(const float* q, std::span<WalkPool> pools,
                            const std::unordered_set<uint64_t>* exclude) const {
  int64_t scored = 0;
  BF_CHECK(pools.size() <= 32);
  std::unique_ptr<faiss::InvertedListScanner> scanner;
  if (!ivf_flat_) {
    scanner.reset(ivf_->get_InvertedListScanner(false, nullptr));
    BF_CHECK(scanner != nullptr);
    scanner->set_query(q);
  }
  // Lists in each pool's own order (nearest first: the heaps fill with good
  // scores early), each list once.
  std::vector<int64_t> order;
  std::vector<uint8_t> queued(ivf_->nlist, 0);
  for (const WalkPool& p : pools) {
    for (const int64_t l : p.order) {
      if (!queued[l]) order.push_back(l);
      queued[l] = 1;
    }
  }
  const faiss::InvertedLists* lists = ivf_->invlists;
  const bool tombstones = tombstones_ > 0;
  const auto code_size = static_cast<size_t>(ivf_->code_size);
  const int64_t tracked = culture_lists_.cultures();
  for (const int64_t l : order) {
    uint32_t readers = 0;  // pools reading this list
    for (size_t p = 0; p < pools.size(); ++p) readers |= pools[p].lists[l] ? 1u << p : 0u;
    const size_t n = lists->list_size(static_cast<size_t>(l));
    if (n == 0) continue;
    faiss::InvertedLists::ScopedCodes codes(lists, static_cast<size_t>(l));
    faiss::InvertedLists::ScopedIds ids(lists, static_cast<size_t>(l));
    const uint8_t* code = codes.get();
    if (scanner) scanner->set_list(l, CoarseScore(q, l));
    auto score_at = [&](size_t j) {
      return scanner ? scanner->distance_to_code(code + j * code_size)
                     : InnerProduct(q, reinterpret_cast<const float*>(code) + j * options_.dim,
                                    options_.dim);
    };
    // Scores position j and offers it to the pools in `takers`.
    auto visit = [&](size_t j, int64_t slot, uint32_t takers) {
      ++scored;
      const float score = score_at(j);
      int excluded = -1;
      ForEachBit(takers, [&](int p) {
        WalkPool& pool = pools[static_cast<size_t>(p)];
        if (excluded == 1 || !pool.top.WouldEnter(score)) return;
        if (excluded < 0) excluded = exclude != nullptr && exclude->count(slots_.ids[slot]) != 0;
        if (excluded == 0) pool.top.Push(score, slot);
      });
    };
    // Where a reader wants the whole list, or its cultures fill a good part
    // of it, one sequential pass reads memory in order; else each reader
    // jumps to its cultures' positions.
    bool sequential = false;
    ForEachBit(readers, [&](int p) {
      const WalkPool& pool = pools[static_cast<size_t>(p)];
      if (!pool.by_culture) {
        sequential = true;
        return;
      }
      size_t positions = 0;
      const int64_t m = std::min<int64_t>(static_cast<int64_t>(pool.cultures.size()), tracked);
      for (int64_t c = 0; c < m; ++c) {
        if (pool.cultures[c] != 0) positions += culture_lists_.Offsets(c, l).size();
      }
      sequential = sequential || positions * 4 >= n;
    });
    if (sequential) {
      const std::vector<uint8_t>& pos_culture = culture_lists_.PositionCultures(l);
      for (size_t j = 0; j < n; ++j) {
        const int64_t slot = ids[j];
        if (tombstones && slots_.tomb[slot]) continue;
        const uint16_t c = j < pos_culture.size() && pos_culture[j] != CultureLists::kUntracked
                               ? pos_culture[j]
                               : slots_.cultures[slot];
        uint32_t takers = 0;
        ForEachBit(readers, [&](int p) {
          if (pools[static_cast<size_t>(p)].Takes(c)) takers |= 1u << p;
        });
        if (takers != 0) visit(j, slot, takers);
      }
      continue;
    }
    ForEachBit(readers, [&](int p) {
      const WalkPool& pool = pools[static_cast<size_t>(p)];
      const int64_t m = std::min<int64_t>(static_cast<int64_t>(pool.cultures.size()), tracked);
      for (int64_t c = 0; c < m; ++c) {
        if (pool.cultures[c] == 0) continue;
        for (const uint32_t j : culture_lists_.Offsets(static_cast<uint16_t>(c), l)) {
          // A failed batch add can leave a stale position.
          if (j >= n) continue;
          const int64_t slot = ids[j];
          if (tombstones && slots_.tomb[slot]) continue;
          visit(j, slot, 1u << p);
        }
      }
    });
  }
  return scored;
}

void FaissIndex::WalkIvfBudget(const float* q, WalkPool* pool,
                               const std::unordered_set<uint64_t>* exclude,
                               std::span<const int64_t> order, int64_t budget) const {
  std::unique_ptr<faiss::InvertedListScanner> scanner;
  if (!ivf_flat_) {
    scanner.reset(ivf_->get_InvertedListScanner(false, nullptr));
    BF_CHECK(scanner != nullptr);
    scanner->set_query(q);
  }
  const faiss::InvertedLists* lists = ivf_->invlists;
  const auto code_size = static_cast<size_t>(ivf_->code_size);
  int64_t scored = 0;
  for (const int64_t l : order) {
    if (scored >= budget) break;
    const size_t n = lists->list_size(static_cast<size_t>(l));
    if (n == 0) continue;
    faiss::InvertedLists::ScopedCodes codes(lists, static_cast<size_t>(l));
    faiss::InvertedLists::ScopedIds ids(lists, static_cast<size_t>(l));
    if (scanner) scanner->set_list(l, CoarseScore(q, l));
    for (size_t j = 0; j < n; ++j) {
      const int64_t slot = ids[j];
      if (slots_.tomb[slot] || !pool->Takes(slots_.cultures[slot])) continue;
      ++scored;
      const float score =
          scanner ? scanner->distance_to_code(codes.get() + j * code_size)
                  : InnerProduct(q, reinterpret_cast<const float*>(codes.get()) + j * options_.dim,
                                 options_.dim);
      if (!pool->top.WouldEnter(score)) continue;
      if (exclude != nullptr && exclude->count(slots_.ids[slot]) != 0) continue;
      pool->top.Push(score, slot);
    }
  }
}

}  // namespace bf::internal
