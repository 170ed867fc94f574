// FaissIndex: AnnIndex over a Faiss index that keeps Faiss's own sequential
// ids ("slots"). IndexIDMap would give us our ids but rejects search
// parameters, so the slot -> id mapping lives here, next to a culture code
// and a tombstone per slot. Every add takes new slots; replace and remove
// tombstone the old slot (HNSW cannot remove at all), and an IDSelector
// hides tombstoned, filtered and excluded slots inside Faiss's search.
//
// HNSW keeps its newest slots in a DeltaBuffer (index/delta.h): slots
// [main->ntotal, slots) are delta rows, searched exactly and merged into the
// graph in batches. Internal to index/ (tests reach it for DeltaRows()).
#pragma once

#include <pthread.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "index/ann_index.h"
#include "index/culture_lists.h"
#include "index/delta.h"
#include "index/snapshot.h"

namespace faiss {
struct Index;
struct IndexHNSW;
struct IndexIVF;
struct IndexFlat;
struct IndexRefine;
struct InvertedListScanner;
}  // namespace faiss

namespace bf::internal {

enum class Kind { kFlat, kHnsw, kIvf };

// Sets OpenMP's thread count for this thread while in scope (0: unchanged).
class OmpThreads {
 public:
  explicit OmpThreads(int n);
  ~OmpThreads();
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
  WriterFirstMutex();
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

std::string FirstLine(const std::string& s);

// Whether Faiss can score the IVF's codes one by one (InvertedListScanner):
// IVF,Flat, SQ and PQ codes; not fast scan ("PQ..x4fs"), whose codes are
// packed 32 to a block.
bool HasScanner(const faiss::IndexIVF& ivf);

// Per-slot data, indexed by slot (main index and delta alike).
struct Slots {
  std::vector<uint64_t> ids;
  std::vector<uint16_t> cultures;
  std::vector<uint8_t> tomb;
};

// The slot test shared by Faiss's search (through an IDSelector) and ours.
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

// One top-k list of a walk over the index (Search has one, SearchPools up
// to three): which vectors it takes, which IVF lists it reads, and its heap.
struct WalkPool {
  WalkPool(int k, int capacity, std::vector<uint8_t> cultures)
      : k(k), cultures(std::move(cultures)), top(capacity) {}
  // Whether the pool takes culture code c (empty: every culture).
  bool Takes(uint16_t c) const {
    return cultures.empty() || (c < cultures.size() && cultures[c] != 0);
  }
  int k;                          // results wanted
  std::vector<uint8_t> cultures;  // as SearchFilter::cultures
  // IVF: the lists this pool reads (flags by list number), and whether it
  // reads only its cultures' positions in them (CultureLists).
  std::vector<uint8_t> lists;
  std::vector<int64_t> order;  // the same lists, nearest first
  bool by_culture = false;
  TopK top;  // k, or k * refine_k_factor candidates with a re-rank
};

class FaissIndex final : public AnnIndex {
 public:
  FaissIndex(const IndexOptions& options, std::string spec, bool auto_spec,
             std::unique_ptr<faiss::Index> index);
  ~FaissIndex() override;

  // Creates the Faiss index for spec. Invalid for a spec Faiss cannot
  // build or that we cannot filter (see docs/index.md).
  static Result<std::unique_ptr<FaissIndex>> Make(const IndexOptions& options,
                                                  const std::string& spec, bool auto_spec);
  // Rebuilds the id map and counters from a snapshot's slot arrays and delta
  // rows (after Load).
  Status AdoptSlots(SlotArrays slots, uint64_t train_size, std::vector<float> delta);
  // AddBatch without validation or locking. allow_delta: small batches may
  // go to the delta (false for Build, which wants everything in the graph).
  Status AddLocked(int64_t n, const uint64_t* ids, const uint16_t* cultures, const float* vectors,
                   bool allow_delta);
  static Status CheckBatch(int dim, int64_t n, const float* vectors);
  // Invalid when n is too few for the spec's k-means.
  Status TrainLocked(int64_t n, const float* vectors);
  // Rows waiting in the delta (for tests and the benchmark's reasoning).
  int64_t DeltaRows() const;

  Status Add(uint64_t id, uint16_t culture, std::span<const float> v) override;
  Status AddBatch(int64_t n, const uint64_t* ids, const uint16_t* cultures,
                  const float* vectors) override;
  bool Remove(uint64_t id) override;
  bool Contains(uint64_t id) const override;
  Result<std::vector<Hit>> Search(std::span<const float> query, int k,
                                  const SearchFilter& filter) const override;
  Result<std::vector<Hit>> SearchExact(std::span<const float> query, int k,
                                       const SearchFilter& filter) const override;
  Result<PoolHits> SearchPools(std::span<const float> query, const PoolRequest& req) const override;
  Status Save(const std::string& path, const SnapshotStamp& stamp) const override;
  IndexStats Stats() const override;
  IndexMemory Memory() const override;  // faiss_memory.cc
  bool NeedsRebuild() const override;
  void ForEachLive(const std::function<void(uint64_t, uint16_t, std::span<const float>)>& fn)
      const override;

 private:
  void Classify();
  bool UsesDelta() const { return kind_ == Kind::kHnsw && options_.delta_merge_threshold > 0; }
  int64_t MainSlots() const;  // slots in the Faiss index; the rest are delta rows
  // Appends one slot's bookkeeping; a failed add leaves it tombstoned.
  void RecordSlot(uint64_t id, uint16_t culture, bool ok);
  void Tombstone(int64_t slot);
  void CountLive(uint16_t culture);
  // Moves the first n delta rows into the Faiss index (one batched add).
  Status FlushDeltaLocked(int64_t n);
  // Merges the delta once it holds delta_merge_threshold rows, in chunks of
  // delta_merge_chunk, taking mu_ exclusively per chunk only. Called
  // without mu_; one merge at a time (others skip it).
  Status MaybeMergeDelta();
  // Live vectors a filter's cultures keep (exclusions not subtracted).
  int64_t AllowedLive(const SearchFilter& f) const;
  int64_t AllowedLive(const std::vector<uint8_t>& cultures) const;
  // Slot's vector: a pointer into flat storage or the delta, or decoded into buf.
  const float* Vec(int64_t slot, float* buf) const;
  std::vector<Hit> ToHits(int64_t n, const int64_t* labels, const float* scores) const;
  // Search under the shared lock (faiss_search.cc).
  Result<std::vector<Hit>> SearchLocked(const float* q, int k, const SearchFilter& filter) const;
  // Exact top k over every slot. IVF,Flat scans its inverted lists in
  // place (reconstructing each vector would copy the whole corpus per call).
  std::vector<Hit> ExactLocked(const float* q, int k, const SearchFilter& filter) const;
  // A pool for k results of the given cultures, its heap sized for the re-rank.
  WalkPool MakePool(int k, std::vector<uint8_t> cultures) const;
  // Exact scores of slots [begin, end) into every pool that takes them.
  void WalkRange(const float* q, std::span<WalkPool> pools,
                 const std::unordered_set<uint64_t>* exclude, int64_t begin, int64_t end) const;
  // IVF: sets pool->lists. Unfiltered (or a filter keeping every live
  // vector): the nprobe lists nearest by centroid, as Faiss probes.
  // Filtered: the lists holding the pool's cultures, ranked by CultureLists,
  // up to the one where as many allowed vectors are reached as an unfiltered
  // search scores (and at least kFilteredMinPerK per result). False when a
  // culture code is untracked (then only WalkIvfBudget can serve it).
  // culture_scores: CultureLists::Scores(q) when the caller has them (null:
  // computed here). centroid_order: at least nprobe lists, nearest first.
  bool PlanIvf(const float* q, const std::vector<float>* culture_scores,
               std::span<const int64_t> centroid_order, WalkPool* pool) const;
  // IVF: sets pool->lists to the nprobe lists nearest by centroid (what an
  // unfiltered search reads), whatever the pool's cultures.
  void PlanNearest(std::span<const int64_t> centroid_order, WalkPool* pool) const;
  // SearchPools over IVF with CultureLists: pools with a min read the
  // nearest lists first and widen only when short (see PoolRequest).
  void PoolsIvf(const float* q, std::span<const int> mins, double min_probe_share,
                std::vector<WalkPool>& pools, const std::unordered_set<uint64_t>* exclude,
                PoolHits* out) const;
  // The count lists with the highest centroid score, best first.
  std::vector<int64_t> CentroidOrder(const float* q, int64_t count) const;
  // q . centroid of the list: the coarse part of a compressed code's score.
  float CoarseScore(const float* q, int64_t list) const;
  // One pass over the union of the pools' lists: each vector is scored once
  // (in place: floats for IVF,Flat, Faiss's scanner for compressed codes) and
  // pushed into every pool that reads its list and takes its culture.
  // Returns the number of vectors scored.
  int64_t WalkIvf(const float* q, std::span<WalkPool> pools,
                  const std::unordered_set<uint64_t>* exclude) const;
  // The untracked-culture fallback: lists in order until `budget` vectors
  // passing the pool's filter were scored.
  void WalkIvfBudget(const float* q, WalkPool* pool, const std::unordered_set<uint64_t>* exclude,
                     std::span<const int64_t> order, int64_t budget) const;
  // Best first ids of a walked pool; with a refine store, re-ranked exactly.
  std::vector<Hit> Finish(const float* q, WalkPool* pool) const;
  // The filtered-search budget: vectors an unfiltered search scores.
  int64_t FilteredBudget(int k) const;
  // What a pool with a min reads of its own best lists besides the nearest
  // ones: share of FilteredBudget(k), in live vectors of its cultures.
  int64_t PoolProbeBudget(int k, double share) const;
  // Live vectors of the given cultures in one list (CultureLists' counts).
  int64_t LiveOf(const std::vector<uint8_t>& cultures, int64_t list) const;
  // Whether a culture-filtered Search uses the exact walk (HNSW).
  bool ExactFiltered(const SearchFilter& f) const;
  bool IvfFlat() const { return ivf_flat_; }  // IVF, uncompressed vectors in its lists
  // The approximate search over the Faiss index only (Flat, HNSW, IVF,Flat).
  Result<std::vector<Hit>> SearchMain(const float* q, int k, const SearchFilter& filter,
                                      double share) const;

  // Fixed after construction.
  const IndexOptions options_;
  const std::string spec_;  // resolved factory string
  const bool auto_spec_;    // spec_ was chosen by "auto"

  std::mutex merge_mu_;          // held by the one writer merging the delta
  mutable WriterFirstMutex mu_;  // searches shared; adds, removes, merge steps exclusive
  // All below GUARDED_BY(mu_); the typed pointers alias index_.
  std::unique_ptr<faiss::Index> index_;
  Kind kind_ = Kind::kFlat;
  faiss::IndexHNSW* hnsw_ = nullptr;
  faiss::IndexIVF* ivf_ = nullptr;
  bool ivf_flat_ = false;
  // IVF with a culture map (CultureLists) and our own list walk: IVF,Flat
  // and codecs with a Faiss scanner (SQ, PQ); not fast scan.
  bool ivf_walk_ = false;
  // The exact re-rank store of an IndexRefine ("...,RFlat"), else null.
  faiss::IndexRefine* refine_wrap_ = nullptr;  // index_ itself when it is one
  const faiss::IndexFlat* refine_ = nullptr;
  const faiss::IndexFlat* flat_ = nullptr;  // raw vectors when stored uncompressed
  DeltaBuffer delta_;
  CultureLists culture_lists_;  // IVF with ivf_walk_ only
  Slots slots_;
  std::unordered_map<uint64_t, int64_t> id_to_slot_;  // live ids only
  std::vector<int64_t> culture_live_;                 // live count per culture code
  int64_t tombstones_ = 0;
  int64_t train_size_ = 0;
};

Status CheckOptions(const IndexOptions& options);

}  // namespace bf::internal
