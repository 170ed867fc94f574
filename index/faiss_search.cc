// FaissIndex's searches: Search, SearchPools and SearchExact, and the exact
// walk over slots. The IVF list walk is in faiss_ivf_walk.cc; adds and
// removes in faiss_index.cc.
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
    int min;
  };
  std::vector<Want> wants;
  if (req.interest_k > 0) wants.push_back({req.interest_k, {}, &out.interest, 0});
  if (req.home_k > 0) {
    wants.push_back({req.home_k, std::move(home_only), &out.home, std::max(0, req.home_min)});
  }
  if (req.cross_k > 0) {
    wants.push_back({req.cross_k, std::move(others), &out.cross, std::max(0, req.cross_min)});
  }
  // A pool no live vector can enter is empty, as Search would answer.
  std::erase_if(wants, [&](const Want& w) { return AllowedLive(w.cultures) == 0; });
  if (wants.empty()) return out;

  try {
    if (kind_ == Kind::kIvf && !culture_lists_.untracked()) {
      std::vector<WalkPool> pools;
      std::vector<int> mins;
      for (Want& w : wants) {
        pools.push_back(MakePool(w.k, w.cultures));
        mins.push_back(w.min);
      }
      PoolsIvf(q, mins, req.min_probe_share, pools, req.exclude, &out);
      for (size_t i = 0; i < pools.size(); ++i) *wants[i].out = Finish(q, &pools[i]);
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
    // A pool with a min takes the interest hits of its cultures when they are enough.
    if (w.min > 0 && req.interest_k > 0) {
      std::vector<Hit> mine;
      for (const Hit& h : out.interest) {
        const auto it = id_to_slot_.find(h.id);
        if (it == id_to_slot_.end()) continue;
        const uint16_t c = slots_.cultures[it->second];
        if (c < w.cultures.size() && w.cultures[c] != 0) {
          mine.push_back(h);
        }
      }
      if (mine.size() >= static_cast<size_t>(w.min)) {
        if (mine.size() > static_cast<size_t>(w.k)) mine.resize(static_cast<size_t>(w.k));
        *w.out = std::move(mine);
        continue;
      }
      ++out.widened;
    }
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
