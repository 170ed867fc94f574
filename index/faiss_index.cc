// FaissIndex's adds, removes, delta merges and searches. Creation, snapshots
// and the AnnIndex factories are in faiss_index_io.cc.
#include "index/faiss_index.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <span>
#include <shared_mutex>

#include "embeddings/vector.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/invlists/InvertedLists.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/impl/IDSelector.h>

namespace bf::internal {
namespace {

using faiss_idx_t = faiss::Index::idx_t;
static_assert(sizeof(faiss_idx_t) == sizeof(int64_t));

// Filtered search policy (measurements in docs/index.md). Faiss's HNSW
// walk and IVF's probes both stay near the query; when a culture filter
// rejects that whole neighbourhood (a home-culture user asking for other
// cultures) they find few of the true best. IVF,Flat ranks its lists by the
// allowed cultures' part of each (CultureLists) and scans them in place until
// it has scored as many vectors as an unfiltered search. Other kinds scan the
// allowed slots exactly while there are at most options.filtered_exact_max
// of them; above that, efSearch (or nprobe) grows by 1/share, capped.
constexpr int kMaxFilteredEf = 1024;
// IVF,Flat instead walks its lists nearest first until it has scored enough
// allowed vectors (FilteredIvfFlat): at least this many per result wanted.
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

Status CheckQuery(int dim, std::span<const float> query, int k) {
  if (static_cast<int>(query.size()) != dim) {
    return Status::WrongDim("expected " + std::to_string(dim) + ", got " +
                            std::to_string(query.size()));
  }
  if (k <= 0) return Status::Invalid("k must be positive, got " + std::to_string(k));
  return Status::OK();
}

}  // namespace

OmpThreads::OmpThreads(int n) : old_(omp_get_max_threads()), set_(n > 0) {
  if (set_) omp_set_num_threads(n);
}
OmpThreads::~OmpThreads() {
  if (set_) omp_set_num_threads(old_);
}

WriterFirstMutex::WriterFirstMutex() {
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  BF_CHECK(pthread_rwlock_init(&lock_, &attr) == 0);
  pthread_rwlockattr_destroy(&attr);
}

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

FaissIndex::FaissIndex(const IndexOptions& options, std::string spec, bool auto_spec,
                       std::unique_ptr<faiss::Index> index)
    : options_(options),
      spec_(std::move(spec)),
      auto_spec_(auto_spec),
      index_(std::move(index)),
      delta_(options.dim) {
  Classify();
}

FaissIndex::~FaissIndex() = default;

void FaissIndex::Classify() {
  if (auto* f = dynamic_cast<faiss::IndexFlat*>(index_.get())) {
    kind_ = Kind::kFlat;
    flat_ = f;
  } else if (auto* h = dynamic_cast<faiss::IndexHNSW*>(index_.get())) {
    kind_ = Kind::kHnsw;
    hnsw_ = h;
    flat_ = dynamic_cast<const faiss::IndexFlat*>(h->storage);
  } else if (auto* v = dynamic_cast<faiss::IndexIVF*>(index_.get())) {
    kind_ = Kind::kIvf;
    ivf_ = v;
    ivf_flat_ = v->code_size == sizeof(float) * options_.dim &&
                dynamic_cast<const faiss::IndexIVFFlat*>(v) != nullptr;
    culture_lists_.Reset(static_cast<int64_t>(v->nlist), options_.dim);
  } else {
    BF_CHECK(false && "unsupported Faiss index type reached FaissIndex");
  }
}

int64_t FaissIndex::MainSlots() const { return index_->ntotal; }

int64_t FaissIndex::DeltaRows() const {
  std::shared_lock lock(mu_);
  return delta_.rows();
}

void FaissIndex::Tombstone(int64_t slot) {
  if (IvfFlat()) culture_lists_.Remove(slot, slots_.cultures[slot]);
  slots_.tomb[slot] = 1;
  ++tombstones_;
  --culture_live_[slots_.cultures[slot]];
}

void FaissIndex::CountLive(uint16_t culture) {
  if (culture >= culture_live_.size()) culture_live_.resize(culture + 1u, 0);
  ++culture_live_[culture];
}

void FaissIndex::RecordSlot(uint64_t id, uint16_t culture, bool ok) {
  const auto slot = static_cast<int64_t>(slots_.ids.size());
  slots_.ids.push_back(id);
  slots_.cultures.push_back(culture);
  slots_.tomb.push_back(0);
  CountLive(culture);
  if (!ok) {
    Tombstone(slot);
    return;
  }
  auto [it, inserted] = id_to_slot_.try_emplace(id, slot);
  if (!inserted) {  // replace: the old slot goes, even within this batch
    Tombstone(it->second);
    it->second = slot;
  }
}

Status FaissIndex::CheckBatch(int dim, int64_t n, const float* vectors) {
  if (n < 0) return Status::Invalid("negative batch size");
  for (int64_t i = 0; i < n; ++i) {
    Status s = CheckVector({vectors + i * dim, static_cast<size_t>(dim)});
    if (!s.ok()) return Status::BadVector("vector " + std::to_string(i) + ": " + s.message());
  }
  return Status::OK();
}

Status FaissIndex::TrainLocked(int64_t n, const float* vectors) {
  // Faiss's k-means warns below min_points_per_centroid per centroid and
  // fails below one: ask for enough up front, with a message that says so.
  int64_t need = 1;
  if (ivf_ != nullptr) {
    need = static_cast<int64_t>(ivf_->nlist) * ivf_->cp.min_points_per_centroid;
    if (auto* pq = dynamic_cast<faiss::IndexIVFPQ*>(ivf_)) {
      need = std::max(need, static_cast<int64_t>(pq->pq.ksub) * 39);
    }
  }
  if (n < need) {
    return Status::Invalid("index spec '" + spec_ + "' needs at least " + std::to_string(need) +
                           " training vectors in the first batch, got " + std::to_string(n));
  }
  try {
    index_->train(n, vectors);
  } catch (const std::exception& e) {
    return Status::Internal("training '" + spec_ + "' failed: " + FirstLine(e.what()));
  }
  train_size_ = n;
  return Status::OK();
}

Status FaissIndex::FlushDeltaLocked(int64_t n) {
  if (n == 0) return Status::OK();
  const int64_t base = index_->ntotal;
  Status status;
  try {
    index_->add(n, delta_.data());
  } catch (const std::exception& e) {
    status = Status::Internal("merging the delta into '" + spec_ + "' failed: " +
                              FirstLine(e.what()));
  }
  // Rows Faiss took are main slots now; any it did not stay in the delta.
  delta_.DropFront(index_->ntotal - base);
  return status;
}

Status FaissIndex::AddLocked(int64_t n, const uint64_t* ids, const uint16_t* cultures,
                             const float* vectors, bool allow_delta) {
  if (n == 0) return Status::OK();
  if (!index_->is_trained) BF_RETURN_IF_ERROR(TrainLocked(n, vectors));
  if (allow_delta && UsesDelta() && n < options_.delta_max_batch) {
    delta_.Append(n, vectors);
    for (int64_t i = 0; i < n; ++i) RecordSlot(ids[i], cultures[i], true);
    return Status::OK();
  }
  // Faiss numbers new vectors after its last one: the delta's slots first.
  BF_RETURN_IF_ERROR(FlushDeltaLocked(delta_.rows()));
  const int64_t base = index_->ntotal;
  BF_CHECK(static_cast<size_t>(base) == slots_.ids.size());
  Status status;
  // IVF,Flat: assigned here, so each vector's list is known (CultureLists).
  std::vector<faiss_idx_t> lists(IvfFlat() ? static_cast<size_t>(n) : 0, -1);
  std::vector<int64_t> offsets(lists.size(), 0);
  try {
    if (IvfFlat()) {
      ivf_->quantizer->assign(n, vectors, lists.data());
      // Faiss appends each list's rows in input order.
      std::unordered_map<faiss_idx_t, int64_t> next;
      for (int64_t i = 0; i < n; ++i) {
        if (lists[i] < 0) continue;
        auto [it, fresh] = next.try_emplace(lists[i], 0);
        if (fresh) it->second = static_cast<int64_t>(ivf_->invlists->list_size(lists[i]));
        offsets[i] = it->second++;
      }
      ivf_->add_core(n, vectors, nullptr, lists.data());
    } else {
      index_->add(n, vectors);
    }
  } catch (const std::exception& e) {
    status = Status::Internal("adding to '" + spec_ + "' failed: " + FirstLine(e.what()));
  }
  // Faiss may have added part of the batch before failing: keep the slot
  // arrays in step with ntotal, with the unmapped part tombstoned.
  const int64_t added = index_->ntotal - base;
  for (int64_t i = 0; i < added; ++i) {
    if (IvfFlat()) {
      culture_lists_.Add(base + i, lists[i], offsets[i], cultures[i], vectors + i * options_.dim);
    }
    RecordSlot(ids[i], cultures[i], status.ok());
  }
  return status;
}

Status FaissIndex::MaybeMergeDelta() {
  std::unique_lock merging(merge_mu_, std::try_to_lock);
  if (!merging.owns_lock()) return Status::OK();  // another writer is on it
  int64_t left = 0;
  {
    std::shared_lock lock(mu_);
    left = delta_.rows();
  }
  if (left < options_.delta_merge_threshold) return Status::OK();
  OmpThreads omp(options_.omp_threads);
  const int64_t chunk = std::max<int64_t>(1, options_.delta_merge_chunk);
  // Only the rows present now: adds arriving meanwhile wait for the next merge.
  while (left > 0) {
    std::unique_lock lock(mu_);
    const int64_t step = std::min({chunk, left, delta_.rows()});
    if (step == 0) break;  // a large batch flushed the delta meanwhile
    BF_RETURN_IF_ERROR(FlushDeltaLocked(step));
    left -= step;
  }
  return Status::OK();
}

Status FaissIndex::Add(uint64_t id, uint16_t culture, std::span<const float> v) {
  if (static_cast<int>(v.size()) != options_.dim) {
    return Status::WrongDim("expected " + std::to_string(options_.dim) + ", got " +
                            std::to_string(v.size()));
  }
  return AddBatch(1, &id, &culture, v.data());
}

Status FaissIndex::AddBatch(int64_t n, const uint64_t* ids, const uint16_t* cultures,
                            const float* vectors) {
  BF_RETURN_IF_ERROR(CheckBatch(options_.dim, n, vectors));
  bool merge = false;
  {
    OmpThreads omp(options_.omp_threads);
    std::unique_lock lock(mu_);
    BF_RETURN_IF_ERROR(AddLocked(n, ids, cultures, vectors, true));
    merge = UsesDelta() && delta_.rows() >= options_.delta_merge_threshold;
  }
  // The vectors are searchable already; a failed merge leaves rows in the
  // delta (still searched) and is retried by the next add.
  if (merge) return MaybeMergeDelta();
  return Status::OK();
}

bool FaissIndex::Remove(uint64_t id) {
  std::unique_lock lock(mu_);
  auto it = id_to_slot_.find(id);
  if (it == id_to_slot_.end()) return false;
  Tombstone(it->second);
  id_to_slot_.erase(it);
  return true;
}

bool FaissIndex::Contains(uint64_t id) const {
  std::shared_lock lock(mu_);
  return id_to_slot_.count(id) != 0;
}

IndexStats FaissIndex::Stats() const {
  std::shared_lock lock(mu_);
  IndexStats st;
  st.type = spec_;
  if (kind_ == Kind::kIvf) {
    st.search = "nprobe " + std::to_string(ivf_->nprobe);
  } else if (kind_ == Kind::kHnsw) {
    st.search = "efSearch " + std::to_string(options_.hnsw_ef_search) + " (at least k)";
  } else {
    st.search = "exact";
  }
  st.dim = options_.dim;
  st.ntotal = static_cast<int64_t>(slots_.ids.size());
  st.live = static_cast<int64_t>(id_to_slot_.size());
  st.tombstones = tombstones_;
  st.trained = index_->is_trained;
  return st;
}

bool FaissIndex::NeedsRebuild() const {
  std::shared_lock lock(mu_);
  const auto ntotal = static_cast<double>(slots_.ids.size());
  const auto live = static_cast<int64_t>(id_to_slot_.size());
  if (ntotal > 0 && static_cast<double>(tombstones_) / ntotal > options_.rebuild_tombstone_ratio) {
    return true;
  }
  // IVF centroids describe the corpus they were trained on.
  if (kind_ == Kind::kIvf && train_size_ > 0 && live > 4 * train_size_) return true;
  // "auto" chose Flat for a small corpus that has since grown.
  if (auto_spec_ && kind_ == Kind::kFlat && live > options_.auto_ann_threshold) return true;
  return false;
}

void FaissIndex::ForEachLive(
    const std::function<void(uint64_t, uint16_t, std::span<const float>)>& fn) const {
  std::shared_lock lock(mu_);
  std::vector<float> buf(static_cast<size_t>(options_.dim));
  for (size_t slot = 0; slot < slots_.ids.size(); ++slot) {
    if (slots_.tomb[slot]) continue;
    fn(slots_.ids[slot], slots_.cultures[slot],
       {Vec(static_cast<int64_t>(slot), buf.data()), buf.size()});
  }
}

int64_t FaissIndex::AllowedLive(const SearchFilter& f) const {
  if (f.cultures.empty()) return static_cast<int64_t>(id_to_slot_.size());
  int64_t n = 0;
  const size_t m = std::min(f.cultures.size(), culture_live_.size());
  for (size_t c = 0; c < m; ++c) n += f.cultures[c] ? culture_live_[c] : 0;
  return n;
}

const float* FaissIndex::Vec(int64_t slot, float* buf) const {
  const int64_t main = index_->ntotal;
  if (slot >= main) return delta_.Row(slot - main);
  if (flat_ != nullptr) return flat_->get_xb() + slot * options_.dim;
  index_->reconstruct(slot, buf);
  return buf;
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

std::vector<Hit> FaissIndex::ExactLocked(const float* q, int k,
                                         const SearchFilter& filter) const {
  const int64_t slots = static_cast<int64_t>(slots_.ids.size());
  if (IvfFlat()) {
    std::vector<faiss_idx_t> all(ivf_->nlist);
    std::iota(all.begin(), all.end(), 0);
    std::vector<Hit> main = ScanIvfLists(q, k, filter, all, INT64_MAX);
    if (index_->ntotal == slots) return main;
    return MergeHits(main, ExactRange(q, k, filter, index_->ntotal, slots), k);
  }
  return ExactRange(q, k, filter, 0, slots);
}

std::vector<Hit> FaissIndex::FilteredIvfFlat(const float* q, int k,
                                             const SearchFilter& filter) const {
  const size_t nlist = ivf_->nlist;
  std::vector<faiss_idx_t> order;
  const bool by_culture = culture_lists_.Order(q, filter.cultures, &order);
  if (!by_culture) {  // untracked culture codes: centroid order, whole lists
    order.resize(nlist);
    std::vector<float> centroid_scores(nlist);
    ivf_->quantizer->search(1, q, static_cast<faiss_idx_t>(nlist), centroid_scores.data(),
                            order.data());
  }
  // As many vectors as an unfiltered search scores (nprobe average lists),
  // and never fewer than kFilteredMinPerK per result.
  // (Scoring as many allowed vectors as an unfiltered search scores of them,
  // nprobe * allowed / nlist, was measured: recall 0.90 for the home search
  // at 1M and 0.64 on the unit test's data, for little time saved.)
  const double per_list = static_cast<double>(id_to_slot_.size()) / static_cast<double>(nlist);
  const auto budget = std::max<int64_t>(
      static_cast<int64_t>(static_cast<double>(ivf_->nprobe) * per_list),
      kFilteredMinPerK * static_cast<int64_t>(k));
  return ScanIvfLists(q, k, filter, order, budget, by_culture);
}

std::vector<Hit> FaissIndex::ScanIvfLists(const float* q, int k, const SearchFilter& filter,
                                          std::span<const faiss_idx_t> order, int64_t budget,
                                          bool by_culture) const {
  const SlotFilter sf(slots_, filter);
  TopK top(k);
  const faiss::InvertedLists* lists = ivf_->invlists;
  const int64_t cultures =
      std::min<int64_t>(static_cast<int64_t>(filter.cultures.size()), culture_lists_.cultures());
  int64_t scored = 0;
  const bool tombstones = tombstones_ > 0;
  for (const faiss_idx_t l : order) {
    if (scored >= budget) break;
    if (l < 0) continue;
    const size_t n = lists->list_size(static_cast<size_t>(l));
    if (n == 0) continue;
    faiss::InvertedLists::ScopedCodes codes(lists, static_cast<size_t>(l));
    faiss::InvertedLists::ScopedIds ids(lists, static_cast<size_t>(l));
    const float* vecs = reinterpret_cast<const float*>(codes.get());
    // known_allowed: the position holds an allowed culture, so only the
    // tombstone needs a look (two random reads fewer per vector).
    auto visit = [&](size_t j, bool known_allowed) {
      const int64_t slot = ids[j];
      if (known_allowed ? tombstones && slots_.tomb[slot] : !sf.Passes(slot)) return;
      ++scored;
      const float score = InnerProduct(q, vecs + j * options_.dim, options_.dim);
      if (!top.WouldEnter(score)) return;
      if (sf.Excluded(slot)) return;
      top.Push(score, slot);
    };
    size_t positions = 0;  // of allowed cultures in this list
    for (int64_t c = 0; by_culture && c < cultures; ++c) {
      if (filter.cultures[c] != 0) positions += culture_lists_.Offsets(c, l).size();
    }
    // Where the allowed cultures fill a good part of the list, one sequential
    // pass reads memory in order instead of jumping between positions.
    if (!by_culture || positions * 4 >= n) {
      const bool pure = by_culture && positions == n;  // every vector allowed
      for (size_t j = 0; j < n; ++j) visit(j, pure);
      continue;
    }
    for (int64_t c = 0; c < cultures; ++c) {
      if (filter.cultures[c] == 0) continue;
      for (const uint32_t j : culture_lists_.Offsets(static_cast<uint16_t>(c), l)) {
        if (j < n) visit(j, true);  // a failed batch add can leave a stale position
      }
    }
  }
  std::vector<Hit> hits;
  for (const auto& [score, slot] : top.Take()) hits.push_back({slots_.ids[slot], score});
  return hits;
}

std::vector<Hit> FaissIndex::ExactRange(const float* q, int k, const SearchFilter& filter,
                                        int64_t begin, int64_t end) const {
  const SlotFilter sf(slots_, filter);
  TopK top(k);
  std::vector<float> buf(static_cast<size_t>(options_.dim));
  for (int64_t slot = begin; slot < end; ++slot) {
    if (!sf.Passes(slot)) continue;
    const float score = InnerProduct(q, Vec(slot, buf.data()), options_.dim);
    if (!top.WouldEnter(score)) continue;
    if (sf.Excluded(slot)) continue;  // hash lookup only for would-be results
    top.Push(score, slot);
  }
  std::vector<Hit> hits;
  for (const auto& [score, slot] : top.Take()) hits.push_back({slots_.ids[slot], score});
  return hits;
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
  const bool select = tombstones_ > 0 || !filter.cultures.empty() || (excluded > 0 && !exclude_after);
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

Result<std::vector<Hit>> FaissIndex::Search(std::span<const float> query, int k,
                                            const SearchFilter& filter) const {
  BF_RETURN_IF_ERROR(CheckQuery(options_.dim, query, k));
  OmpThreads omp(options_.omp_threads);
  std::shared_lock lock(mu_);
  const auto live = static_cast<int64_t>(id_to_slot_.size());
  if (live == 0) return std::vector<Hit>{};
  const int64_t allowed = AllowedLive(filter);
  if (allowed == 0) return std::vector<Hit>{};
  const double share = static_cast<double>(allowed) / static_cast<double>(live);
  const bool culture_filter = !filter.cultures.empty() && allowed < live;
  std::vector<Hit> hits;
  if (culture_filter && IvfFlat()) {
    try {
      hits = FilteredIvfFlat(query.data(), k, filter);
    } catch (const std::exception& e) {
      return Status::Internal("search in '" + spec_ + "' failed: " + FirstLine(e.what()));
    }
  } else if (kind_ != Kind::kFlat && culture_filter && allowed <= options_.filtered_exact_max) {
    return ExactLocked(query.data(), k, filter);
  } else if (index_->ntotal > 0) {
    auto main = SearchMain(query.data(), k, filter, share);
    if (!main.ok()) return main.status();
    hits = std::move(main).value();
  }
  if (delta_.rows() == 0) return hits;
  // Each live id has one slot, so the two lists never share an id.
  const std::vector<Hit> recent = ExactRange(query.data(), k, filter, index_->ntotal,
                                             static_cast<int64_t>(slots_.ids.size()));
  return MergeHits(hits, recent, k);
}

Result<std::vector<Hit>> FaissIndex::SearchExact(std::span<const float> query, int k,
                                                 const SearchFilter& filter) const {
  BF_RETURN_IF_ERROR(CheckQuery(options_.dim, query, k));
  std::shared_lock lock(mu_);
  try {
    return ExactLocked(query.data(), k, filter);
  } catch (const std::exception& e) {  // reconstruct() on an unusual codec
    return Status::Internal("exact search in '" + spec_ + "' failed: " + FirstLine(e.what()));
  }
}

}  // namespace bf::internal
