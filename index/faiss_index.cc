// FaissIndex's adds, removes and delta merges. Searches are in
// faiss_search.cc; creation, snapshots and the AnnIndex factories in
// faiss_index_io.cc.
#include "index/faiss_index.h"

#include <omp.h>

#include <algorithm>
#include <cstdio>
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
#include <faiss/IndexRefine.h>

namespace bf::internal {
namespace {

using faiss_idx_t = faiss::Index::idx_t;
static_assert(sizeof(faiss_idx_t) == sizeof(int64_t));

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
  faiss::Index* top = index_.get();
  if (auto* r = dynamic_cast<faiss::IndexRefine*>(top)) {  // Make/Load checked the parts
    refine_wrap_ = r;
    refine_ = dynamic_cast<faiss::IndexFlat*>(r->refine_index);
    BF_CHECK(refine_ != nullptr);
    top = r->base_index;
  }
  if (auto* f = dynamic_cast<faiss::IndexFlat*>(top)) {
    kind_ = Kind::kFlat;
    flat_ = f;
  } else if (auto* h = dynamic_cast<faiss::IndexHNSW*>(top)) {
    kind_ = Kind::kHnsw;
    hnsw_ = h;
    flat_ = dynamic_cast<const faiss::IndexFlat*>(h->storage);
  } else if (auto* v = dynamic_cast<faiss::IndexIVF*>(top)) {
    kind_ = Kind::kIvf;
    ivf_ = v;
    ivf_flat_ = v->code_size == sizeof(float) * options_.dim &&
                dynamic_cast<const faiss::IndexIVFFlat*>(v) != nullptr;
    ivf_walk_ = ivf_flat_ || HasScanner(*v);
    culture_lists_.Reset(static_cast<int64_t>(v->nlist), options_.dim);
  } else {
    BF_CHECK(false && "unsupported Faiss index type reached FaissIndex");
  }
  if (refine_ != nullptr) flat_ = refine_;  // the full vectors, for Vec() and the re-rank
}

int64_t FaissIndex::MainSlots() const { return index_->ntotal; }

int64_t FaissIndex::DeltaRows() const {
  std::shared_lock lock(mu_);
  return delta_.rows();
}

void FaissIndex::Tombstone(int64_t slot) {
  if (ivf_walk_) culture_lists_.Remove(slot, slots_.cultures[slot]);
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
  // IVF: assigned here, so each vector's list is known (CultureLists).
  std::vector<faiss_idx_t> lists(ivf_walk_ ? static_cast<size_t>(n) : 0, -1);
  std::vector<int64_t> offsets(lists.size(), 0);
  try {
    if (ivf_walk_) {
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
  if (refine_wrap_ != nullptr) {
    // What IndexRefine::add does, after our add_core: the full vectors of
    // whatever the IVF took (the rows stay in step with its slots).
    try {
      const int64_t have = refine_wrap_->refine_index->ntotal;
      refine_wrap_->refine_index->add(ivf_->ntotal - have, vectors + (have - base) * options_.dim);
    } catch (...) {  // only out of memory: the slots cannot be kept consistent
      BF_CHECK(false && "adding to the re-rank store failed");
    }
    refine_wrap_->ntotal = ivf_->ntotal;
  }
  // Faiss may have added part of the batch before failing: keep the slot
  // arrays in step with ntotal, with the unmapped part tombstoned.
  const int64_t added = index_->ntotal - base;
  for (int64_t i = 0; i < added; ++i) {
    if (ivf_walk_) {
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
  st.metric = MetricName(options_.metric);
  if (kind_ == Kind::kIvf) {
    st.search = "nprobe " + std::to_string(ivf_->nprobe);
    if (refine_ != nullptr) {
      char factor[32];
      std::snprintf(factor, sizeof(factor), "%g", std::max(1.0, options_.refine_k_factor));
      st.search += ", re-rank " + std::string(factor) + "x k";
    }
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

}  // namespace bf::internal
