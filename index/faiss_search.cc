// FaissIndex's searches: Search, SearchPools and SearchExact, and the walks
// over slots and inverted lists they share. Adds and removes are in
// faiss_index.cc.
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <shared_mutex>

#include "index/faiss_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexRefine.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/invlists/InvertedLists.h>

namespace bf::internal {
namespace {

using faiss_idx_t = faiss::Index::idx_t;

// Filtered search policy (measurements in docs/index.md). Faiss's HNSW
// walk and IVF's probes both stay near the query; when a culture filter
// rejects that whole neighbourhood (a home-culture user asking for other
// cultures) they find few of the true best. IVF ranks its lists by the
// allowed cultures' part of each (CultureLists) and scans them in place until
// it has scored as many vectors as an unfiltered search. HNSW scans the
// allowed slots exactly while there are at most options.filtered_exact_max
// of them; above that, efSearch grows by 1/share, capped.
constexpr int kMaxFilteredEf = 1024;
// The IVF filtered walk scores at least this many allowed vectors per result.
constexpr int64_t kFilteredMinPerK = 16;

class SlotSelector : public faiss::IDSelector {
 public:
  SlotSelector(const SlotFilter& f, bool check_exclude) : f_(f), check_exclude_(check_exclude) {}
  bool is_member(idx_t slot) const override {
    return check_exclude_ ? f_.Allowed(slot) : f_.Passes(slot);
  }

 private:
  const SlotFilter& f_;
  const bool check_exclude_;
};

Status CheckQuery(int dim, std::span<const float> query) {
  if (static_cast<int>(query.size()) != dim) {
    return Status::WrongDim("expected " + std::to_string(dim) + ", got " +
                            std::to_string(query.size()));
  }
  return Status::OK();
}

Status CheckK(int k, const char* what = "k") {
  if (k <= 0) return Status::Invalid(std::string(what) + " must be positive, got " + std::to_string(k));
  return Status::OK();
}

// Calls fn(p) for each pool index p set in the bit mask.
template <typename Fn>
void ForEachBit(uint32_t mask, Fn fn) {
  for (int p = 0; mask != 0; ++p, mask >>= 1) {
    if (mask & 1u) fn(p);
  }
}

}  // namespace

bool HasScanner(const faiss::IndexIVF& ivf) {
  try {
    std::unique_ptr<faiss::InvertedListScanner> s(ivf.get_InvertedListScanner(false, nullptr));
    return s != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

std::vector<Hit> FaissIndex::ToHits(int64_t n, const int64_t* labels, const float* scores) const {
  std::vector<Hit> hits;
  hits.reserve(static_cast<size_t>(n));
  std::vector<int64_t> seen;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t slot = labels[i];
    // -1 pads a short result; the tombstone test is a second line of defence.
    if (slot < 0 || slot >= static_cast<int64_t>(slots_.ids.size()) || slots_.tomb[slot]) {
      continue;
    }
    if (std::find(seen.begin(), seen.end(), slot) != seen.end()) continue;
    seen.push_back(slot);
    hits.push_back({slots_.ids[slot], scores[i]});
  }
  return hits;
}

int64_t FaissIndex::AllowedLive(const SearchFilter& f) const { return AllowedLive(f.cultures); }

int64_t FaissIndex::AllowedLive(const std::vector<uint8_t>& cultures) const {
  if (cultures.empty()) return static_cast<int64_t>(id_to_slot_.size());
  int64_t n = 0;
  const size_t m = std::min(cultures.size(), culture_live_.size());
  for (size_t c = 0; c < m; ++c) n += cultures[c] ? culture_live_[c] : 0;
  return n;
}

const float* FaissIndex::Vec(int64_t slot, float* buf) const {
  const int64_t main = index_->ntotal;
  if (slot >= main) return delta_.Row(slot - main);
  if (flat_ != nullptr) return flat_->get_xb() + slot * options_.dim;
  index_->reconstruct(slot, buf);
  return buf;
}

WalkPool FaissIndex::MakePool(int k, std::vector<uint8_t> cultures) const {
  int capacity = k;
  if (refine_ != nullptr) {
    const double wide = std::ceil(static_cast<double>(k) * std::max(1.0, options_.refine_k_factor));
    capacity = static_cast<int>(std::min(wide, 1e8));
  }
  return WalkPool(k, capacity, std::move(cultures));
}

std::vector<Hit> FaissIndex::Finish(const float* q, WalkPool* pool) const {
  std::vector<std::pair<float, int64_t>> best = pool->top.Take();
  if (refine_ != nullptr && kind_ == Kind::kIvf) {
    // The exact re-rank: full vectors for the candidates the codes chose.
    for (auto& [score, slot] : best) {
      score = InnerProduct(q, refine_->get_xb() + slot * options_.dim, options_.dim);
    }
    std::sort(best.begin(), best.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
  }
  if (best.size() > static_cast<size_t>(pool->k)) best.resize(static_cast<size_t>(pool->k));
  std::vector<Hit> hits;
  hits.reserve(best.size());
  for (const auto& [score, slot] : best) hits.push_back({slots_.ids[slot], score});
  return hits;
}

void FaissIndex::WalkRange(const float* q, std::span<WalkPool> pools,
                           const std::unordered_set<uint64_t>* exclude, int64_t begin,
                           int64_t end) const {
  std::vector<float> buf(static_cast<size_t>(options_.dim));
  for (int64_t slot = begin; slot < end; ++slot) {
    if (slots_.tomb[slot]) continue;
    const uint16_t c = slots_.cultures[slot];
    bool wanted = false;
    for (const WalkPool& p : pools) wanted = wanted || p.Takes(c);
    if (!wanted) continue;
    const float score = InnerProduct(q, Vec(slot, buf.data()), options_.dim);
    int excluded = -1;  // looked up once, for would-be results only
    for (WalkPool& p : pools) {
      if (!p.Takes(c) || !p.top.WouldEnter(score)) continue;
      if (excluded < 0) excluded = exclude != nullptr && exclude->count(slots_.ids[slot]) != 0;
      if (excluded) break;
      p.top.Push(score, slot);
    }
  }
}

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

bool FaissIndex::PlanIvf(const float* q, const std::vector<float>* culture_scores,
                         std::span<const int64_t> centroid_order, WalkPool* pool) const {
  const size_t nlist = ivf_->nlist;
  pool->lists.assign(nlist, 0);
  pool->order.clear();
  const int64_t allowed = AllowedLive(pool->cultures);
  if (pool->cultures.empty() || allowed >= static_cast<int64_t>(id_to_slot_.size())) {
    // Unfiltered: the lists Faiss would probe.
    const auto nprobe = std::min<size_t>(std::max<size_t>(1, ivf_->nprobe), nlist);
    for (size_t i = 0; i < nprobe && i < centroid_order.size(); ++i) {
      pool->lists[centroid_order[i]] = 1;
      pool->order.push_back(centroid_order[i]);
    }
    pool->by_culture = false;
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
  const int64_t cultures =
      std::min<int64_t>(static_cast<int64_t>(pool->cultures.size()), culture_lists_.cultures());
  int64_t scored = 0;
  for (const int64_t l : order) {
    if (scored >= budget) break;
    pool->lists[l] = 1;
    pool->order.push_back(l);
    for (int64_t c = 0; c < cultures; ++c) {
      if (pool->cultures[c] != 0) scored += culture_lists_.Live(static_cast<uint16_t>(c), l);
    }
  }
  pool->by_culture = true;
  return true;
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

std::vector<Hit> FaissIndex::ExactLocked(const float* q, int k, const SearchFilter& filter) const {
  const int64_t slots = static_cast<int64_t>(slots_.ids.size());
  WalkPool pool = MakePool(k, filter.cultures);
  if (IvfFlat()) {  // in place, every list
    pool.lists.assign(ivf_->nlist, 1);
    pool.order.resize(ivf_->nlist);
    std::iota(pool.order.begin(), pool.order.end(), 0);
    WalkIvf(q, {&pool, 1}, filter.exclude);
    WalkRange(q, {&pool, 1}, filter.exclude, index_->ntotal, slots);
  } else {
    WalkRange(q, {&pool, 1}, filter.exclude, 0, slots);
  }
  return Finish(q, &pool);
}

Result<std::vector<Hit>> FaissIndex::SearchMain(const float* q, int k, const SearchFilter& filter,
                                                double share) const {
  const SlotFilter sf(slots_, filter);
  // A small exclude set (a user's recently seen posts) is cheaper to drop
  // from a few extra results than to look up in a hash set for every vector
  // Faiss visits; a large one goes into the selector.
  const size_t excluded = filter.exclude != nullptr ? filter.exclude->size() : 0;
  const bool exclude_after = excluded > 0 && excluded <= 4 * static_cast<size_t>(k);
  SlotSelector selector(sf, excluded > 0 && !exclude_after);
  // The selector costs a virtual call per visited vector: skip it when it
  // would accept everything.
  const bool select =
      tombstones_ > 0 || !filter.cultures.empty() || (excluded > 0 && !exclude_after);
  faiss::IDSelector* sel = select ? &selector : nullptr;
  const int64_t want = exclude_after ? k + static_cast<int64_t>(excluded) : k;
  const int64_t kk = std::min<int64_t>(want, index_->ntotal);
  std::vector<faiss_idx_t> labels(static_cast<size_t>(kk), -1);
  std::vector<float> scores(static_cast<size_t>(kk));
  try {
    if (kind_ == Kind::kHnsw) {
      faiss::SearchParametersHNSW p;
      int ef = std::max(options_.hnsw_ef_search, k);
      if (share < 1.0) ef = std::max(ef, std::min(kMaxFilteredEf, static_cast<int>(ef / share)));
      p.efSearch = ef;
      p.sel = sel;
      index_->search(1, q, kk, scores.data(), labels.data(), &p);
    } else if (kind_ == Kind::kIvf) {
      faiss::SearchParametersIVF p;
      // The index's own nprobe: the options' value, raised by "auto".
      auto nprobe = static_cast<double>(std::max<size_t>(1, ivf_->nprobe));
      if (share < 1.0) nprobe /= share;
      p.nprobe = std::min(ivf_->nlist, static_cast<size_t>(nprobe));
      p.sel = sel;
      index_->search(1, q, kk, scores.data(), labels.data(), &p);
    } else {
      faiss::SearchParameters p;
      p.sel = sel;
      index_->search(1, q, kk, scores.data(), labels.data(), sel ? &p : nullptr);
    }
  } catch (const std::exception& e) {
    return Status::Internal("search in '" + spec_ + "' failed: " + FirstLine(e.what()));
  }
  std::vector<Hit> hits = ToHits(kk, labels.data(), scores.data());
  if (exclude_after) {
    std::erase_if(hits, [&](const Hit& h) { return filter.exclude->count(h.id) != 0; });
    if (hits.size() > static_cast<size_t>(k)) hits.resize(static_cast<size_t>(k));
  }
  return hits;
}

bool FaissIndex::ExactFiltered(const SearchFilter& f) const {
  const int64_t allowed = AllowedLive(f);
  const bool culture_filter =
      !f.cultures.empty() && allowed < static_cast<int64_t>(id_to_slot_.size());
  return culture_filter && kind_ == Kind::kHnsw && allowed <= options_.filtered_exact_max;
}

Result<std::vector<Hit>> FaissIndex::SearchLocked(const float* q, int k,
                                                  const SearchFilter& filter) const {
  const auto live = static_cast<int64_t>(id_to_slot_.size());
  if (live == 0) return std::vector<Hit>{};
  const int64_t allowed = AllowedLive(filter);
  if (allowed == 0) return std::vector<Hit>{};
  const double share = static_cast<double>(allowed) / static_cast<double>(live);
  const bool culture_filter = !filter.cultures.empty() && allowed < live;
  std::vector<Hit> hits;
  try {
    if (kind_ == Kind::kIvf && (culture_filter || !IvfFlat())) {
      // Our own walk: filtered searches, and every search over compressed
      // codes (Faiss's IndexRefine takes no search parameters).
      WalkPool pool = MakePool(k, filter.cultures);
      const std::vector<int64_t> centroids =
          CentroidOrder(q, culture_filter ? 0 : static_cast<int64_t>(ivf_->nprobe));
      if (PlanIvf(q, nullptr, centroids, &pool)) {
        WalkIvf(q, {&pool, 1}, filter.exclude);
      } else {  // an untracked culture code: centroid order, whole lists
        const std::vector<int64_t> all = CentroidOrder(q, static_cast<int64_t>(ivf_->nlist));
        WalkIvfBudget(q, &pool, filter.exclude, all, FilteredBudget(k));
      }
      hits = Finish(q, &pool);
    } else if (ExactFiltered(filter)) {
      return ExactLocked(q, k, filter);
    } else if (index_->ntotal > 0) {
      auto main = SearchMain(q, k, filter, share);
      if (!main.ok()) return main.status();
      hits = std::move(main).value();
    }
  } catch (const std::exception& e) {
    return Status::Internal("search in '" + spec_ + "' failed: " + FirstLine(e.what()));
  }
  if (delta_.rows() == 0) return hits;
  // Each live id has one slot, so the two lists never share an id.
  WalkPool recent = MakePool(k, filter.cultures);
  WalkRange(q, {&recent, 1}, filter.exclude, index_->ntotal,
            static_cast<int64_t>(slots_.ids.size()));
  return MergeHits(hits, Finish(q, &recent), k);
}

Result<std::vector<Hit>> FaissIndex::Search(std::span<const float> query, int k,
                                            const SearchFilter& filter) const {
  BF_RETURN_IF_ERROR(CheckQuery(options_.dim, query));
  BF_RETURN_IF_ERROR(CheckK(k));
  OmpThreads omp(options_.omp_threads);
  std::shared_lock lock(mu_);
  return SearchLocked(query.data(), k, filter);
}

Result<std::vector<Hit>> FaissIndex::SearchExact(std::span<const float> query, int k,
                                                 const SearchFilter& filter) const {
  BF_RETURN_IF_ERROR(CheckQuery(options_.dim, query));
  BF_RETURN_IF_ERROR(CheckK(k));
  std::shared_lock lock(mu_);
  try {
    return ExactLocked(query.data(), k, filter);
  } catch (const std::exception& e) {  // reconstruct() on an unusual codec
    return Status::Internal("exact search in '" + spec_ + "' failed: " + FirstLine(e.what()));
  }
}

Result<PoolHits> FaissIndex::SearchPools(std::span<const float> query,
                                         const PoolRequest& req) const {
  BF_RETURN_IF_ERROR(CheckQuery(options_.dim, query));
  if (req.interest_k < 0 || req.home_k < 0 || req.cross_k < 0) {
    return Status::Invalid("pool sizes must not be negative, got interest " +
                           std::to_string(req.interest_k) + ", home " +
                           std::to_string(req.home_k) + ", cross " + std::to_string(req.cross_k));
  }
  if (req.interest_k == 0 && req.home_k == 0 && req.cross_k == 0) {
    return Status::Invalid("a pool search needs interest_k, home_k or cross_k above 0");
  }
  const float* q = query.data();
  OmpThreads omp(options_.omp_threads);
  std::shared_lock lock(mu_);
  PoolHits out;
  if (id_to_slot_.empty()) return out;

  // The three filters, as Search would get them.
  const uint16_t home = req.home_culture;
  std::vector<uint8_t> home_only(static_cast<size_t>(home) + 1, 0);
  home_only[home] = 1;
  std::vector<uint8_t> others(std::max<size_t>(culture_live_.size(), home + 1u), 1);
  others[home] = 0;
  struct Want {
    int k;
    std::vector<uint8_t> cultures;
    std::vector<Hit>* out;
  };
  std::vector<Want> wants;
  if (req.interest_k > 0) wants.push_back({req.interest_k, {}, &out.interest});
  if (req.home_k > 0) wants.push_back({req.home_k, std::move(home_only), &out.home});
  if (req.cross_k > 0) wants.push_back({req.cross_k, std::move(others), &out.cross});
  // A pool no live vector can enter is empty, as Search would answer.
  std::erase_if(wants, [&](const Want& w) { return AllowedLive(w.cultures) == 0; });
  if (wants.empty()) return out;

  try {
    if (kind_ == Kind::kIvf && !culture_lists_.untracked()) {
      std::vector<WalkPool> pools;
      for (Want& w : wants) pools.push_back(MakePool(w.k, w.cultures));
      const std::vector<int64_t> centroids =
          CentroidOrder(q, static_cast<int64_t>(ivf_->nprobe));
      bool filtered = false;
      for (const WalkPool& p : pools) {
        filtered = filtered || (!p.cultures.empty() && AllowedLive(p.cultures) <
                                                          static_cast<int64_t>(id_to_slot_.size()));
      }
      // The culture-to-list scores once, shared by the home and cross plans.
      std::vector<float> culture_scores;
      if (filtered) culture_scores = culture_lists_.Scores(q);
      for (WalkPool& p : pools) BF_CHECK(PlanIvf(q, &culture_scores, centroids, &p));
      out.scored = WalkIvf(q, pools, req.exclude);
      for (size_t i = 0; i < pools.size(); ++i) *wants[i].out = Finish(q, &pools[i]);
      out.passes = 1;
      return out;
    }
    if (kind_ == Kind::kFlat) {  // exact: one walk of the array for every list
      std::vector<WalkPool> pools;
      for (Want& w : wants) pools.push_back(MakePool(w.k, w.cultures));
      WalkRange(q, pools, req.exclude, 0, static_cast<int64_t>(slots_.ids.size()));
      for (size_t i = 0; i < pools.size(); ++i) *wants[i].out = Finish(q, &pools[i]);
      out.passes = 1;
      return out;
    }
  } catch (const std::exception& e) {
    return Status::Internal("search in '" + spec_ + "' failed: " + FirstLine(e.what()));
  }

  // HNSW (and IVF with culture codes past CultureLists' range): the graph
  // walk serves one filter at a time, so each list is its own search, except
  // that the pools taking the exact path share one walk over the slots.
  std::vector<WalkPool> exact;
  std::vector<std::vector<Hit>*> exact_out;
  for (Want& w : wants) {
    SearchFilter f;
    f.cultures = w.cultures;
    f.exclude = req.exclude;
    if (ExactFiltered(f)) {
      exact.push_back(MakePool(w.k, std::move(f.cultures)));
      exact_out.push_back(w.out);
      continue;
    }
    auto hits = SearchLocked(q, w.k, f);
    if (!hits.ok()) return hits.status();
    *w.out = std::move(hits).value();
    ++out.passes;
  }
  if (!exact.empty()) {
    WalkRange(q, exact, req.exclude, 0, static_cast<int64_t>(slots_.ids.size()));
    for (size_t i = 0; i < exact.size(); ++i) *exact_out[i] = Finish(q, &exact[i]);
    ++out.passes;
  }
  return out;
}

}  // namespace bf::internal
