// FaissIndex: AnnIndex over a Faiss index that keeps Faiss's own sequential
// ids ("slots"). IndexIDMap would give us our ids but rejects search
// parameters, so the slot -> id mapping lives here, next to a culture code
// and a tombstone per slot. Every add takes new slots; replace and remove
// tombstone the old slot (HNSW cannot remove at all), and an IDSelector
// hides tombstoned, filtered and excluded slots inside Faiss's search.
#include <omp.h>
#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <queue>
#include <shared_mutex>
#include <unordered_map>

#include "embeddings/vector.h"
#include "index/ann_index.h"
#include "index/snapshot.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/utils/distances.h>

namespace bf {
namespace {

using faiss_idx_t = faiss::Index::idx_t;

// Filtered search policy (measurements in docs/index.md). Faiss's HNSW
// walk and IVF's probes both stay near the query; when a culture filter
// rejects that whole neighbourhood (a home-culture user asking for other
// cultures) they find few of the true best. So a culture-restricted search
// scans the allowed slots exactly while there are at most
// options.filtered_exact_max of them; above that, efSearch (or nprobe) grows
// by 1/share, capped.
constexpr int kMaxFilteredEf = 1024;
// Build adds in batches of this many vectors, reporting progress after each.
constexpr int64_t kBuildBatch = 32768;

enum class Kind { kFlat, kHnsw, kIvf };

// Sets OpenMP's thread count for this thread while in scope (0: unchanged).
class OmpThreads {
 public:
  explicit OmpThreads(int n) : old_(omp_get_max_threads()), set_(n > 0) {
    if (set_) omp_set_num_threads(n);
  }
  ~OmpThreads() {
    if (set_) omp_set_num_threads(old_);
  }
  OmpThreads(const OmpThreads&) = delete;
  OmpThreads& operator=(const OmpThreads&) = delete;

 private:
  int old_;
  bool set_;
};

// A reader-writer lock that lets a waiting writer in before new readers.
// std::shared_mutex on glibc prefers readers, so a steady stream of searches
// starved adds forever (seen in the concurrency test). Not recursive: a
// thread holding it shared must not take it again.
class WriterFirstMutex {
 public:
  WriterFirstMutex() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    BF_CHECK(pthread_rwlock_init(&lock_, &attr) == 0);
    pthread_rwlockattr_destroy(&attr);
  }
  ~WriterFirstMutex() { pthread_rwlock_destroy(&lock_); }
  WriterFirstMutex(const WriterFirstMutex&) = delete;
  WriterFirstMutex& operator=(const WriterFirstMutex&) = delete;
  void lock() { BF_CHECK(pthread_rwlock_wrlock(&lock_) == 0); }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { BF_CHECK(pthread_rwlock_rdlock(&lock_) == 0); }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

// Per-slot data, indexed by Faiss slot.
struct Slots {
  std::vector<uint64_t> ids;
  std::vector<uint16_t> cultures;
  std::vector<uint8_t> tomb;
};

// The slot test shared by Faiss's search (through SlotSelector) and ours.
class SlotFilter {
 public:
  SlotFilter(const Slots& slots, const SearchFilter& f) : s_(slots), f_(f) {}
  // Tombstone and culture: cheap array reads.
  bool Passes(int64_t slot) const {
    if (s_.tomb[slot]) return false;
    if (!f_.cultures.empty()) {
      const uint16_t c = s_.cultures[slot];
      if (c >= f_.cultures.size() || f_.cultures[c] == 0) return false;
    }
    return true;
  }
  bool Excluded(int64_t slot) const {
    return f_.exclude != nullptr && f_.exclude->count(s_.ids[slot]) != 0;
  }
  bool Allowed(int64_t slot) const { return Passes(slot) && !Excluded(slot); }

 private:
  const Slots& s_;
  const SearchFilter& f_;
};

class SlotSelector : public faiss::IDSelector {
 public:
  explicit SlotSelector(const SlotFilter& f) : f_(f) {}
  bool is_member(idx_t slot) const override { return f_.Allowed(slot); }

 private:
  const SlotFilter& f_;
};

class FaissIndex final : public AnnIndex {
 public:
  FaissIndex(const IndexOptions& options, std::string spec, bool auto_spec,
             std::unique_ptr<faiss::Index> index)
      : options_(options), spec_(std::move(spec)), auto_spec_(auto_spec), index_(std::move(index)) {
    Classify();
  }

  // Creates the Faiss index for spec. Invalid for a spec Faiss cannot
  // build or that we cannot filter (see docs/index.md).
  static Result<std::unique_ptr<FaissIndex>> Make(const IndexOptions& options,
                                                  const std::string& spec, bool auto_spec);
  // Rebuilds the id map and counters from the slot arrays (after Load).
  Status AdoptSlots(internal::SlotArrays slots, uint64_t train_size);
  // AddBatch without validation or locking; progress after each batch.
  Status AddLocked(int64_t n, const uint64_t* ids, const uint16_t* cultures, const float* vectors);
  static Status CheckBatch(int dim, int64_t n, const float* vectors);
  // Invalid when n is too few for the spec's k-means.
  Status TrainLocked(int64_t n, const float* vectors);

  Status Add(uint64_t id, uint16_t culture, std::span<const float> v) override {
    if (static_cast<int>(v.size()) != options_.dim) {
      return Status::WrongDim("expected " + std::to_string(options_.dim) + ", got " +
                              std::to_string(v.size()));
    }
    return AddBatch(1, &id, &culture, v.data());
  }

  Status AddBatch(int64_t n, const uint64_t* ids, const uint16_t* cultures,
                  const float* vectors) override {
    BF_RETURN_IF_ERROR(CheckBatch(options_.dim, n, vectors));
    OmpThreads omp(options_.omp_threads);
    std::unique_lock lock(mu_);
    return AddLocked(n, ids, cultures, vectors);
  }

  bool Remove(uint64_t id) override {
    std::unique_lock lock(mu_);
    auto it = id_to_slot_.find(id);
    if (it == id_to_slot_.end()) return false;
    Tombstone(it->second);
    id_to_slot_.erase(it);
    return true;
  }

  bool Contains(uint64_t id) const override {
    std::shared_lock lock(mu_);
    return id_to_slot_.count(id) != 0;
  }

  Result<std::vector<Hit>> Search(std::span<const float> query, int k,
                                  const SearchFilter& filter) const override;
  Result<std::vector<Hit>> SearchExact(std::span<const float> query, int k,
                                       const SearchFilter& filter) const override;
  Status Save(const std::string& path, const SnapshotStamp& stamp) const override;

  IndexStats Stats() const override {
    std::shared_lock lock(mu_);
    IndexStats st;
    st.type = spec_;
    st.dim = options_.dim;
    st.ntotal = static_cast<int64_t>(slots_.ids.size());
    st.live = static_cast<int64_t>(id_to_slot_.size());
    st.tombstones = tombstones_;
    st.trained = index_->is_trained;
    return st;
  }

  bool NeedsRebuild() const override {
    std::shared_lock lock(mu_);
    const auto ntotal = static_cast<double>(slots_.ids.size());
    const auto live = static_cast<int64_t>(id_to_slot_.size());
    if (ntotal > 0 && static_cast<double>(tombstones_) / ntotal > options_.rebuild_tombstone_ratio) {
      return true;
    }
    // IVF centroids describe the corpus they were trained on.
    if (kind_ == Kind::kIvf && train_size_ > 0 && live > 4 * train_size_) return true;
    // "auto" chose Flat for a small corpus that has since grown.
    if (auto_spec_ && kind_ == Kind::kFlat && live > options_.auto_hnsw_threshold) return true;
    return false;
  }

  void ForEachLive(const std::function<void(uint64_t, uint16_t, std::span<const float>)>& fn)
      const override {
    std::shared_lock lock(mu_);
    std::vector<float> buf(static_cast<size_t>(options_.dim));
    for (size_t slot = 0; slot < slots_.ids.size(); ++slot) {
      if (slots_.tomb[slot]) continue;
      fn(slots_.ids[slot], slots_.cultures[slot], {Vec(static_cast<int64_t>(slot), buf.data()),
                                                   buf.size()});
    }
  }

 private:
  void Classify();
  void Tombstone(int64_t slot) {
    slots_.tomb[slot] = 1;
    ++tombstones_;
    --culture_live_[slots_.cultures[slot]];
  }
  void CountLive(uint16_t culture) {
    if (culture >= culture_live_.size()) culture_live_.resize(culture + 1u, 0);
    ++culture_live_[culture];
  }
  // Live vectors a filter's cultures keep (exclusions not subtracted).
  int64_t AllowedLive(const SearchFilter& f) const {
    if (f.cultures.empty()) return static_cast<int64_t>(id_to_slot_.size());
    int64_t n = 0;
    const size_t m = std::min(f.cultures.size(), culture_live_.size());
    for (size_t c = 0; c < m; ++c) n += f.cultures[c] ? culture_live_[c] : 0;
    return n;
  }
  // Slot's vector: a pointer into flat storage, or decoded into buf.
  const float* Vec(int64_t slot, float* buf) const {
    if (flat_ != nullptr) return flat_->get_xb() + slot * options_.dim;
    index_->reconstruct(slot, buf);
    return buf;
  }
  std::vector<Hit> ExactLocked(const float* q, int k, const SearchFilter& filter) const;
  std::vector<Hit> ToHits(int64_t n, const faiss_idx_t* labels, const float* scores) const;

  // Fixed after construction.
  const IndexOptions options_;
  const std::string spec_;  // resolved factory string
  const bool auto_spec_;    // spec_ was chosen by "auto"

  mutable WriterFirstMutex mu_;  // searches shared; adds and removes exclusive
  // All below GUARDED_BY(mu_); the typed pointers alias index_.
  std::unique_ptr<faiss::Index> index_;
  Kind kind_ = Kind::kFlat;
  faiss::IndexHNSW* hnsw_ = nullptr;
  faiss::IndexIVF* ivf_ = nullptr;
  const faiss::IndexFlat* flat_ = nullptr;  // raw vectors when stored uncompressed
  Slots slots_;
  std::unordered_map<uint64_t, int64_t> id_to_slot_;  // live ids only
  std::vector<int64_t> culture_live_;                 // live count per culture code
  int64_t tombstones_ = 0;
  int64_t train_size_ = 0;
};

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
  } else {
    BF_CHECK(false && "unsupported Faiss index type reached FaissIndex");
  }
}

Result<std::unique_ptr<FaissIndex>> FaissIndex::Make(const IndexOptions& options,
                                                     const std::string& spec, bool auto_spec) {
  std::unique_ptr<faiss::Index> index;
  try {
    index.reset(faiss::index_factory(options.dim, spec.c_str(), faiss::METRIC_INNER_PRODUCT));
  } catch (const std::exception& e) {
    return Status::Invalid("invalid index spec '" + spec + "': " + FirstLine(e.what()));
  }
  faiss::Index* raw = index.get();
  if (dynamic_cast<faiss::IndexFlat*>(raw) == nullptr &&
      dynamic_cast<faiss::IndexHNSW*>(raw) == nullptr &&
      dynamic_cast<faiss::IndexIVF*>(raw) == nullptr) {
    return Status::Invalid("unsupported index spec '" + spec +
                           "': use Flat, HNSW<M>[,storage] or IVF<n>,<codec>");
  }
  if (auto* h = dynamic_cast<faiss::IndexHNSW*>(raw)) {
    h->hnsw.efConstruction = options.hnsw_ef_construction;
    h->hnsw.efSearch = options.hnsw_ef_search;
  }
  if (auto* v = dynamic_cast<faiss::IndexIVF*>(raw)) {
    v->nprobe = static_cast<size_t>(std::max(1, options.ivf_nprobe));
    // Slots are sequential, so an array direct map serves reconstruct().
    try {
      v->set_direct_map_type(faiss::DirectMap::Array);
    } catch (const std::exception& e) {
      return Status::Internal(std::string("IVF direct map: ") + FirstLine(e.what()));
    }
  }
  return std::make_unique<FaissIndex>(options, spec, auto_spec, std::move(index));
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

Status FaissIndex::AddLocked(int64_t n, const uint64_t* ids, const uint16_t* cultures,
                             const float* vectors) {
  if (n == 0) return Status::OK();
  if (!index_->is_trained) BF_RETURN_IF_ERROR(TrainLocked(n, vectors));
  const int64_t base = index_->ntotal;
  BF_CHECK(static_cast<size_t>(base) == slots_.ids.size());
  Status status;
  try {
    index_->add(n, vectors);
  } catch (const std::exception& e) {
    status = Status::Internal("adding to '" + spec_ + "' failed: " + FirstLine(e.what()));
  }
  // Faiss may have added part of the batch before failing: keep the slot
  // arrays in step with ntotal, with the unmapped part tombstoned.
  const int64_t added = index_->ntotal - base;
  for (int64_t i = 0; i < added; ++i) {
    const int64_t slot = base + i;
    slots_.ids.push_back(ids[i]);
    slots_.cultures.push_back(cultures[i]);
    slots_.tomb.push_back(0);
    CountLive(cultures[i]);
    if (!status.ok()) {
      Tombstone(slot);
      continue;
    }
    auto [it, inserted] = id_to_slot_.try_emplace(ids[i], slot);
    if (!inserted) {  // replace: the old slot goes, even within this batch
      Tombstone(it->second);
      it->second = slot;
    }
  }
  return status;
}

std::vector<Hit> FaissIndex::ToHits(int64_t n, const faiss_idx_t* labels,
                                    const float* scores) const {
  std::vector<Hit> hits;
  hits.reserve(static_cast<size_t>(n));
  std::vector<int64_t> seen;
  for (int64_t i = 0; i < n; ++i) {
    const faiss_idx_t slot = labels[i];
    // -1 pads a short result; the tombstone test is a second line of defence.
    if (slot < 0 || slot >= static_cast<faiss_idx_t>(slots_.ids.size()) || slots_.tomb[slot]) {
      continue;
    }
    if (std::find(seen.begin(), seen.end(), slot) != seen.end()) continue;
    seen.push_back(slot);
    hits.push_back({slots_.ids[slot], scores[i]});
  }
  return hits;
}

std::vector<Hit> FaissIndex::ExactLocked(const float* q, int k, const SearchFilter& filter) const {
  const SlotFilter sf(slots_, filter);
  const auto d = static_cast<size_t>(options_.dim);
  // Min-heap of the best k (score, slot) pairs.
  using Entry = std::pair<float, int64_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
  std::vector<float> buf(d);
  const auto ntotal = static_cast<int64_t>(slots_.ids.size());
  for (int64_t slot = 0; slot < ntotal; ++slot) {
    if (!sf.Passes(slot)) continue;
    const float score = faiss::fvec_inner_product(q, Vec(slot, buf.data()), d);
    if (static_cast<int>(heap.size()) == k && score <= heap.top().first) continue;
    if (sf.Excluded(slot)) continue;  // hash lookup only for would-be results
    heap.emplace(score, slot);
    if (static_cast<int>(heap.size()) > k) heap.pop();
  }
  std::vector<Hit> hits(heap.size());
  for (size_t i = hits.size(); i-- > 0;) {
    hits[i] = {slots_.ids[heap.top().second], heap.top().first};
    heap.pop();
  }
  return hits;
}

Result<std::vector<Hit>> FaissIndex::Search(std::span<const float> query, int k,
                                            const SearchFilter& filter) const {
  if (static_cast<int>(query.size()) != options_.dim) {
    return Status::WrongDim("expected " + std::to_string(options_.dim) + ", got " +
                            std::to_string(query.size()));
  }
  if (k <= 0) return Status::Invalid("k must be positive, got " + std::to_string(k));
  OmpThreads omp(options_.omp_threads);
  std::shared_lock lock(mu_);
  const auto live = static_cast<int64_t>(id_to_slot_.size());
  if (live == 0) return std::vector<Hit>{};
  const int64_t allowed = AllowedLive(filter);
  if (allowed == 0) return std::vector<Hit>{};
  const double share = static_cast<double>(allowed) / static_cast<double>(live);
  const bool culture_filter = !filter.cultures.empty() && allowed < live;
  if (kind_ != Kind::kFlat && culture_filter && allowed <= options_.filtered_exact_max) {
    return ExactLocked(query.data(), k, filter);
  }

  const SlotFilter sf(slots_, filter);
  SlotSelector selector(sf);
  // The selector costs a virtual call per visited vector: skip it when it
  // would accept everything.
  const bool select = tombstones_ > 0 || !filter.cultures.empty() ||
                      (filter.exclude != nullptr && !filter.exclude->empty());
  faiss::IDSelector* sel = select ? &selector : nullptr;
  const int64_t kk = std::min<int64_t>(k, static_cast<int64_t>(slots_.ids.size()));
  std::vector<faiss_idx_t> labels(static_cast<size_t>(kk), -1);
  std::vector<float> scores(static_cast<size_t>(kk));
  try {
    if (kind_ == Kind::kHnsw) {
      faiss::SearchParametersHNSW p;
      int ef = std::max(options_.hnsw_ef_search, k);
      if (share < 1.0) ef = std::max(ef, std::min(kMaxFilteredEf, static_cast<int>(ef / share)));
      p.efSearch = ef;
      p.sel = sel;
      index_->search(1, query.data(), kk, scores.data(), labels.data(), &p);
    } else if (kind_ == Kind::kIvf) {
      faiss::SearchParametersIVF p;
      auto nprobe = static_cast<double>(std::max(1, options_.ivf_nprobe));
      if (share < 1.0) nprobe /= share;
      p.nprobe = std::min(ivf_->nlist, static_cast<size_t>(nprobe));
      p.sel = sel;
      index_->search(1, query.data(), kk, scores.data(), labels.data(), &p);
    } else {
      faiss::SearchParameters p;
      p.sel = sel;
      index_->search(1, query.data(), kk, scores.data(), labels.data(), sel ? &p : nullptr);
    }
  } catch (const std::exception& e) {
    return Status::Internal("search in '" + spec_ + "' failed: " + FirstLine(e.what()));
  }
  return ToHits(kk, labels.data(), scores.data());
}

Result<std::vector<Hit>> FaissIndex::SearchExact(std::span<const float> query, int k,
                                                 const SearchFilter& filter) const {
  if (static_cast<int>(query.size()) != options_.dim) {
    return Status::WrongDim("expected " + std::to_string(options_.dim) + ", got " +
                            std::to_string(query.size()));
  }
  if (k <= 0) return Status::Invalid("k must be positive, got " + std::to_string(k));
  std::shared_lock lock(mu_);
  try {
    return ExactLocked(query.data(), k, filter);
  } catch (const std::exception& e) {  // reconstruct() on an unusual codec
    return Status::Internal("exact search in '" + spec_ + "' failed: " + FirstLine(e.what()));
  }
}

Status FaissIndex::Save(const std::string& path, const SnapshotStamp& stamp) const {
  std::shared_lock lock(mu_);
  faiss::VectorIOWriter writer;
  try {
    faiss::write_index(index_.get(), &writer);
  } catch (const std::exception& e) {
    return Status::Internal("serialising '" + spec_ + "' failed: " + FirstLine(e.what()));
  }
  internal::SnapshotMeta meta;
  meta.dim = static_cast<uint32_t>(options_.dim);
  meta.db_id = stamp.db_id;
  meta.seq = stamp.seq;
  meta.spec = spec_;
  meta.train_size = static_cast<uint64_t>(train_size_);
  internal::SlotArrays arrays{slots_.ids, slots_.cultures, slots_.tomb};
  return internal::WriteSnapshotFile(path, meta, arrays, writer.data);
}

Status FaissIndex::AdoptSlots(internal::SlotArrays slots, uint64_t train_size) {
  const size_t n = slots.ids.size();
  if (static_cast<int64_t>(n) != index_->ntotal) {
    return Status::Corruption("index file holds " + std::to_string(n) + " slots but " +
                              std::to_string(index_->ntotal) + " vectors");
  }
  slots_.ids = std::move(slots.ids);
  slots_.cultures = std::move(slots.cultures);
  slots_.tomb = std::move(slots.tombstones);
  id_to_slot_.reserve(n);
  for (size_t slot = 0; slot < n; ++slot) {
    if (slots_.tomb[slot]) {
      ++tombstones_;
      continue;
    }
    CountLive(slots_.cultures[slot]);
    if (!id_to_slot_.emplace(slots_.ids[slot], static_cast<int64_t>(slot)).second) {
      return Status::Corruption("index file has two live slots for id " +
                                std::to_string(slots_.ids[slot]));
    }
  }
  train_size_ = static_cast<int64_t>(train_size);
  return Status::OK();
}

Status CheckOptions(const IndexOptions& options) {
  if (options.dim <= 0 || options.dim > kMaxDim) {
    return Status::Invalid("dimension must be in [1, " + std::to_string(kMaxDim) + "], got " +
                           std::to_string(options.dim));
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<AnnIndex>> AnnIndex::Create(const IndexOptions& options,
                                                   int64_t expected_size) {
  BF_RETURN_IF_ERROR(CheckOptions(options));
  const bool is_auto = options.spec == "auto";
  const std::string spec =
      !is_auto ? options.spec : (expected_size >= options.auto_hnsw_threshold ? "HNSW32" : "Flat");
  auto made = FaissIndex::Make(options, spec, is_auto);
  if (!made.ok()) return made.status();
  return std::unique_ptr<AnnIndex>(std::move(made).value());
}

Result<std::unique_ptr<AnnIndex>> AnnIndex::Build(const IndexOptions& options, int64_t n,
                                                  const uint64_t* ids, const uint16_t* cultures,
                                                  const float* vectors, const Progress& progress) {
  BF_RETURN_IF_ERROR(CheckOptions(options));
  BF_RETURN_IF_ERROR(FaissIndex::CheckBatch(options.dim, n, vectors));
  const bool is_auto = options.spec == "auto";
  const std::string spec =
      !is_auto ? options.spec : (n >= options.auto_hnsw_threshold ? "HNSW32" : "Flat");
  auto made = FaissIndex::Make(options, spec, is_auto);
  if (!made.ok()) return made.status();
  std::unique_ptr<FaissIndex> index = std::move(made).value();
  OmpThreads omp(options.omp_threads);
  // Not yet shared: no lock needed. Training sees all n vectors (Faiss
  // samples what k-means needs); adds go in batches for progress reports.
  if (!index->Stats().trained) BF_RETURN_IF_ERROR(index->TrainLocked(n, vectors));
  for (int64_t done = 0; done < n;) {
    const int64_t step = std::min(kBuildBatch, n - done);
    BF_RETURN_IF_ERROR(index->AddLocked(step, ids + done, cultures + done,
                                        vectors + done * options.dim));
    done += step;
    if (progress) progress(done, n);
  }
  return std::unique_ptr<AnnIndex>(std::move(index));
}

Result<std::unique_ptr<AnnIndex>> AnnIndex::Load(const std::string& path,
                                                 const std::string& expected_db_id,
                                                 const IndexOptions& options,
                                                 SnapshotStamp* stamp) {
  BF_RETURN_IF_ERROR(CheckOptions(options));
  auto read = internal::ReadSnapshotFile(path);
  if (!read.ok()) return read.status();
  internal::SnapshotContents& c = read.value();
  if (c.meta.db_id != expected_db_id) {
    return Status::Invalid("index file " + path + " belongs to database '" + c.meta.db_id +
                           "', expected '" + expected_db_id + "'");
  }
  if (static_cast<int>(c.meta.dim) != options.dim) {
    return Status::Invalid("index file " + path + " has dimension " + std::to_string(c.meta.dim) +
                           ", expected " + std::to_string(options.dim));
  }
  // Hand the whole buffer to Faiss's reader, positioned at the Faiss bytes.
  faiss::VectorIOReader reader;
  reader.data = std::move(c.file);
  reader.rp = c.faiss_offset;
  std::unique_ptr<faiss::Index> raw;
  try {
    raw.reset(faiss::read_index(&reader));
  } catch (const std::exception& e) {
    return Status::Corruption("index file " + path + ": Faiss cannot read it: " +
                              FirstLine(e.what()));
  }
  reader.data = {};
  if (raw->d != options.dim || raw->metric_type != faiss::METRIC_INNER_PRODUCT ||
      (dynamic_cast<faiss::IndexFlat*>(raw.get()) == nullptr &&
       dynamic_cast<faiss::IndexHNSW*>(raw.get()) == nullptr &&
       dynamic_cast<faiss::IndexIVF*>(raw.get()) == nullptr)) {
    return Status::Corruption("index file " + path + " holds a Faiss index of another kind");
  }
  IndexOptions opts = options;
  if (auto* h = dynamic_cast<faiss::IndexHNSW*>(raw.get())) h->hnsw.efSearch = opts.hnsw_ef_search;
  if (auto* v = dynamic_cast<faiss::IndexIVF*>(raw.get())) {
    v->nprobe = static_cast<size_t>(std::max(1, opts.ivf_nprobe));
  }
  auto index = std::make_unique<FaissIndex>(opts, c.meta.spec, options.spec == "auto",
                                            std::move(raw));
  BF_RETURN_IF_ERROR(index->AdoptSlots(std::move(c.slots), c.meta.train_size));
  if (stamp != nullptr) *stamp = {c.meta.db_id, c.meta.seq};
  return std::unique_ptr<AnnIndex>(std::move(index));
}

}  // namespace bf
