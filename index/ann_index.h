// AnnIndex: approximate nearest-neighbour search over post vectors, behind
// our own interface. Faiss headers stay inside index/.
//
// Ids are the store's internal 64-bit post ids. Each vector carries a
// culture code so a search can be restricted to some cultures (the "cross"
// candidate source). The score is the inner product: with the default
// metric (kCosine) vectors are unit length, so it is cosine similarity; with
// kInnerProduct (learned factors) norms count.
//
// Internally every add takes a new Faiss slot; replacing or removing an id
// tombstones its old slot, and searches skip tombstones. Past a tombstone
// ratio the owner should rebuild (NeedsRebuild()).
//
// Errors: Faiss exceptions never leave index/; they come back as Internal
// with Faiss's first line. A caller's mistake is WrongDim (a vector of the
// wrong size), BadVector (NaN, infinity, zero) or Invalid (k <= 0, a bad
// spec, too few vectors to train). Methods that return a value return none
// on error; a failed Add or AddBatch may have added part of a batch.
// Thread-safety: every method may be called from any thread. Searches run
// concurrently with each other; adds and removes are exclusive, and a search
// never sees a half-done add.
// Ownership: Create, Build and Load hand the caller the only index (callers
// share it by shared_ptr). Nothing keeps pointers to arguments past a call:
// a SearchFilter's exclude set need only live during the search.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "embeddings/status.h"

namespace bf {

struct Hit {
  uint64_t id = 0;
  float score = 0;  // inner product with the query
};

struct SearchFilter {
  // Culture codes a result may have: cultures[c] != 0 keeps code c. Empty
  // keeps every culture. Codes past the end are dropped.
  std::vector<uint8_t> cultures;
  // Ids never to return (e.g. posts the user has seen). May be null.
  const std::unordered_set<uint64_t>* exclude = nullptr;
};

// How scores are meant. Both are Faiss's METRIC_INNER_PRODUCT: cosine is the
// inner product of unit vectors (the caller normalises), inner product keeps
// the norms (learned factors, where the norm carries popularity).
enum class Metric : uint8_t { kCosine = 0, kInnerProduct = 1 };
const char* MetricName(Metric m);  // "cosine", "ip"

struct IndexOptions {
  int dim = 64;
  // kCosine (default): REQUIRES unit-length vectors. kInnerProduct: any
  // finite non-zero vector. A snapshot records it; Load refuses a file of
  // the other metric.
  Metric metric = Metric::kCosine;
  // A Faiss factory string ("Flat", "HNSW32", "IVF1024,Flat",
  // "IVF1024,SQ8,RFlat": 8-bit codes with an exact re-rank, or another IVF
  // codec Faiss scores one code at a time; not fast scan "x4fs") or
  // "auto": Flat (exact) below auto_ann_threshold posts, else
  // "IVF<nlist>,Flat" with nlist about 2 * sqrt(n) (a power of two, at least
  // 256) and nprobe at least nlist / 16 (see AutoSpec and docs/index.md for
  // the measurements behind it).
  std::string spec = "auto";
  int64_t auto_ann_threshold = 20000;
  int hnsw_ef_search = 128;
  int hnsw_ef_construction = 40;
  int ivf_nprobe = 32;
  // Specs with an exact re-rank ("IVF<n>,SQ8,RFlat"): each search keeps
  // k * refine_k_factor candidates by their compressed scores, then re-ranks
  // them with the full vectors (docs/index.md has the recall it buys).
  double refine_k_factor = 2.0;
  // HNSW: a search restricted by culture scans the
  // allowed vectors exactly when there are at most this many, as the graph
  // loses most of its recall when the filter rejects the query's whole
  // neighbourhood. IVF,Flat has its own filtered walk (docs/index.md).
  int64_t filtered_exact_max = 200000;
  // NeedsRebuild() turns true once tombstones exceed this share of slots.
  double rebuild_tombstone_ratio = 0.25;
  // Threads Faiss may use inside one search or add (0: OpenMP's default).
  // One keeps concurrent searches from fighting over 2 cores.
  int omp_threads = 1;
  // Threads for Build (training and bulk adds); 0: one per core.
  int build_threads = 0;
  // HNSW only: a Faiss HNSW add costs O(ntotal) per call, so adds and
  // batches of fewer than delta_max_batch vectors go to an exact "delta"
  // buffer, searched next to the graph and merged into it in one batched add
  // once it holds delta_merge_threshold vectors (0: no delta, every add goes
  // to the graph). The merge takes the index exclusively for
  // delta_merge_chunk vectors at a time, bounding the stall a search sees.
  // Costs and measurements: docs/index.md.
  int64_t delta_merge_threshold = 4096;
  int64_t delta_max_batch = 1024;
  int64_t delta_merge_chunk = 64;
};

// What a snapshot file covers.
struct SnapshotStamp {
  std::string db_id;  // the store's database id
  uint64_t seq = 0;   // every post write with seq <= this is in the file
};

struct IndexStats {
  std::string type;   // the Faiss factory string in use
  std::string metric;  // "cosine" or "ip"
  std::string search;  // its search-time setting: "nprobe 64", "efSearch 128", "exact"
  int dim = 0;
  int64_t ntotal = 0;      // Faiss slots, tombstones included
  int64_t live = 0;        // ids searchable
  int64_t tombstones = 0;
  bool trained = true;
};

// A FEED's candidate searches, asked for together (SearchPools). Pools
// split the corpus by the user's culture: home = vectors of home_culture,
// cross = every other culture. A k of 0 skips that list.
struct PoolRequest {
  int interest_k = 0;  // top k over every culture
  int home_k = 0;
  int cross_k = 0;
  uint16_t home_culture = 0;  // used when home_k or cross_k > 0
  // Ids never to return in any list. May be null; must outlive the call.
  const std::unordered_set<uint64_t>* exclude = nullptr;
  // 0: the pool is the filtered Search it stands for. Above 0: the pool may
  // be answered from what an unfiltered search reads (IVF: the nprobe
  // nearest lists; HNSW: the interest hits) when that holds at least this
  // many vectors of its cultures; only a pool short of it gets its own
  // filtered walk (IVF: over the lists not read yet). Saves the filtered
  // walk for the common case of a neighbourhood mixing both pools.
  int home_min = 0;
  int cross_min = 0;
  // IVF, a pool with a min: besides the nprobe nearest lists, the pool reads
  // its own best lists (ranked as its filtered search ranks them) until they
  // hold this share of a filtered search's budget of its cultures' vectors,
  // in the same walk. A pool that is a minority of the nearest lists (cross,
  // for a user whose neighbourhood is home posts) finds its best vectors
  // there. 0: the nearest lists only. Clamped to [0, 1]. Recall and cost per
  // share: docs/index.md.
  double min_probe_share = 0.5;
};

struct PoolHits {
  std::vector<Hit> interest, home, cross;  // each best first
  // Walks over the index this call made: 1 for Flat and IVF (one pass; 2
  // when a pool with a min needed its own walk over further lists), more
  // for HNSW, whose graph walk cannot fill the culture pools.
  int passes = 0;
  // Pools with a min that were short of it and got their own walk.
  int widened = 0;
  // IVF: vectors the walk scored (its cost; 0 for other kinds).
  int64_t scored = 0;
};

// Heap bytes an index holds (INFO memory), read from its structures.
struct IndexMemory {
  uint64_t vectors = 0;     // the searched vectors: floats (Flat, IVF,Flat, HNSW
                            // storage) or codes (SQ, PQ), tombstoned slots included
  uint64_t ids = 0;         // IVF: the inverted lists' ids (8 bytes per slot)
  uint64_t direct_map = 0;  // IVF: slot -> list position (reconstruct)
  uint64_t refine = 0;      // the exact re-rank store of "...,RFlat"
  uint64_t graph = 0;       // IVF centroids, or HNSW's links and levels
  uint64_t slots = 0;       // ours: slot -> id and culture, id -> slot, tombstones,
                            // IVF per-culture lists, HNSW's delta rows
  uint64_t total() const { return vectors + ids + direct_map + refine + graph + slots; }
};

// Progress callback for long builds: (done, total).
using Progress = std::function<void(int64_t, int64_t)>;

class AnnIndex {
 public:
  virtual ~AnnIndex() = default;

  // An empty index. The spec "auto" resolves by expected_size. Errors:
  // Invalid for a spec Faiss cannot build or a non-positive dim. Specs
  // that need training (IVF, PQ) train on the first AddBatch.
  static Result<std::unique_ptr<AnnIndex>> Create(const IndexOptions& options,
                                                  int64_t expected_size = 0);

  // Builds a complete index (training first when the spec needs it).
  // ids, cultures: n each; vectors: n * dim, row-major.
  static Result<std::unique_ptr<AnnIndex>> Build(const IndexOptions& options, int64_t n,
                                                 const uint64_t* ids, const uint16_t* cultures,
                                                 const float* vectors,
                                                 const Progress& progress = nullptr);

  // Reads a file written by Save. Errors: IOError when unreadable; Corruption
  // when truncated or damaged; Invalid when it was made for another database
  // (expected_db_id) or dimension. On error nothing is returned.
  static Result<std::unique_ptr<AnnIndex>> Load(const std::string& path,
                                                const std::string& expected_db_id,
                                                const IndexOptions& options,
                                                SnapshotStamp* stamp);

  // Adds or replaces id. Searchable when this returns. WrongDim when
  // v.size() != dim; Internal when Faiss fails (id then not added).
  // REQUIRES: v unit length.
  virtual Status Add(uint64_t id, uint16_t culture, std::span<const float> v) = 0;
  // n ids; vectors n * dim.
  virtual Status AddBatch(int64_t n, const uint64_t* ids, const uint16_t* cultures,
                          const float* vectors) = 0;
  // Never returned by a search once this returns. false when id is absent.
  virtual bool Remove(uint64_t id) = 0;
  virtual bool Contains(uint64_t id) const = 0;

  // Top k live ids by score, best first, honouring the filter; fewer when
  // fewer match. WrongDim for a query of the wrong size, Invalid for k <= 0.
  virtual Result<std::vector<Hit>> Search(std::span<const float> query, int k,
                                          const SearchFilter& filter = {}) const = 0;
  // The three lists of req in one call, each (for a pool without a min)
  // the same as the Search it stands for: interest = Search(q, interest_k, {exclude}), home =
  // Search(q, home_k, {only home_culture, exclude}), cross = Search(q,
  // cross_k, {every other culture, exclude}). Flat and IVF (any codec with
  // a scanner) compute all three in one walk of the vectors or inverted
  // lists; HNSW makes the graph search and one exact walk for the pools
  // (or Faiss's filtered search above filtered_exact_max), see passes.
  // Errors: WrongDim for a query of another length, Invalid for a negative k
  // or a request with every k 0, Internal when Faiss throws.
  virtual Result<PoolHits> SearchPools(std::span<const float> query,
                                       const PoolRequest& req) const = 0;
  // Exact top k (brute force over the live vectors), for recall checks.
  virtual Result<std::vector<Hit>> SearchExact(std::span<const float> query, int k,
                                               const SearchFilter& filter = {}) const = 0;

  // Writes the index to path atomically (temporary file, fsync, rename).
  virtual Status Save(const std::string& path, const SnapshotStamp& stamp) const = 0;

  virtual IndexStats Stats() const = 0;
  // O(lists + hash buckets): takes the index shared, as a search does.
  virtual IndexMemory Memory() const { return {}; }
  virtual bool NeedsRebuild() const = 0;
  // Live (id, culture) pairs and vectors, e.g. to rebuild.
  virtual void ForEachLive(
      const std::function<void(uint64_t, uint16_t, std::span<const float>)>& fn) const = 0;
};

// The spec "auto" resolves to for a corpus of n vectors.
std::string AutoSpec(const IndexOptions& options, int64_t n);

// Share of exact top-k ids that the approximate results found, averaged
// over queries. approx and exact: one result list per query.
double RecallAtK(const std::vector<std::vector<Hit>>& approx,
                 const std::vector<std::vector<Hit>>& exact, int k);

}  // namespace bf
