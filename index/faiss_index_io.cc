// FaissIndex creation and snapshots, and the AnnIndex factories.
#include <algorithm>
#include <shared_mutex>

#include "embeddings/vector.h"
#include "index/faiss_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexRefine.h>
#include <faiss/impl/io.h>
#include <faiss/invlists/InvertedLists.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

namespace bf {
namespace internal {

// Build adds in batches of this many vectors, reporting progress after each.
constexpr int64_t kBuildBatch = 32768;

namespace {

// The IVF inside index (itself, or an IndexRefine's base), else null.
faiss::IndexIVF* IvfOf(faiss::Index* index) {
  if (auto* r = dynamic_cast<faiss::IndexRefine*>(index)) index = r->base_index;
  return dynamic_cast<faiss::IndexIVF*>(index);
}

// What FaissIndex can serve: Flat, HNSW, or IVF whose codes Faiss can score
// one by one, optionally under an exact re-rank store (",RFlat"). Empty when
// supported, else why not.
std::string Unsupported(faiss::Index* index) {
  faiss::Index* base = index;
  if (auto* r = dynamic_cast<faiss::IndexRefine*>(index)) {
    if (dynamic_cast<faiss::IndexFlat*>(r->refine_index) == nullptr) {
      return "the re-rank store must be RFlat (full vectors)";
    }
    base = r->base_index;
    if (dynamic_cast<faiss::IndexIVF*>(base) == nullptr) {
      return "RFlat is supported over IVF only (Flat and HNSW already hold full vectors)";
    }
  }
  if (auto* v = dynamic_cast<faiss::IndexIVF*>(base)) {
    if (!HasScanner(*v)) {
      // IndexIVFFastScan in Faiss 1.7.3 takes no search parameters (so no
      // IDSelector for tombstones) and has no InvertedListScanner (codes are
      // packed 32 to a block), so neither Faiss nor our walk can filter it.
      return "its IVF codes cannot be scanned one by one (fast-scan 'x4fs' codes in Faiss 1.7.3 "
             "take no filter); use IVF<n>,SQ8,RFlat";
    }
    return "";
  }
  if (dynamic_cast<faiss::IndexFlat*>(base) != nullptr ||
      dynamic_cast<faiss::IndexHNSW*>(base) != nullptr) {
    return "";
  }
  return "use Flat, HNSW<M>[,storage] or IVF<n>,<codec>[,RFlat]";
}

}  // namespace

Result<std::unique_ptr<FaissIndex>> FaissIndex::Make(const IndexOptions& options,
                                                     const std::string& spec, bool auto_spec) {
  std::unique_ptr<faiss::Index> index;
  try {
    index.reset(faiss::index_factory(options.dim, spec.c_str(), faiss::METRIC_INNER_PRODUCT));
  } catch (const std::exception& e) {
    return Status::Invalid("invalid index spec '" + spec + "': " + FirstLine(e.what()));
  }
  faiss::Index* raw = index.get();
  if (const std::string why = Unsupported(raw); !why.empty()) {
    return Status::Invalid("unsupported index spec '" + spec + "': " + why);
  }
  if (auto* h = dynamic_cast<faiss::IndexHNSW*>(raw)) {
    h->hnsw.efConstruction = options.hnsw_ef_construction;
    h->hnsw.efSearch = options.hnsw_ef_search;
  }
  if (auto* v = IvfOf(raw)) {
    v->nprobe = static_cast<size_t>(std::max(1, options.ivf_nprobe));
    // auto keeps probing about 1/16 of the lists: recall held >= 0.95 at
    // K = 200 on the demo world only at that share (docs/index.md).
    if (auto_spec) v->nprobe = std::max<size_t>(v->nprobe, v->nlist / 16);
    // Slots are sequential, so an array direct map serves reconstruct().
    try {
      v->set_direct_map_type(faiss::DirectMap::Array);
    } catch (const std::exception& e) {
      return Status::Internal(std::string("IVF direct map: ") + FirstLine(e.what()));
    }
  }
  return std::make_unique<FaissIndex>(options, spec, auto_spec, std::move(index));
}

Status FaissIndex::Save(const std::string& path, const SnapshotStamp& stamp) const {
  // Shared lock: the delta travels in the file as it is, so saving neither
  // merges nor blocks searches.
  std::shared_lock lock(mu_);
  faiss::VectorIOWriter writer;
  try {
    faiss::write_index(index_.get(), &writer);
  } catch (const std::exception& e) {
    return Status::Internal("serialising '" + spec_ + "' failed: " + FirstLine(e.what()));
  }
  SnapshotMeta meta;
  meta.dim = static_cast<uint32_t>(options_.dim);
  meta.db_id = stamp.db_id;
  meta.seq = stamp.seq;
  meta.spec = spec_;
  meta.train_size = static_cast<uint64_t>(train_size_);
  meta.metric = static_cast<uint8_t>(options_.metric);
  SlotArrays arrays{slots_.ids, slots_.cultures, slots_.tomb};
  return WriteSnapshotFile(path, meta, arrays, delta_.floats(), writer.data);
}

Status FaissIndex::AdoptSlots(SlotArrays slots, uint64_t train_size, std::vector<float> delta) {
  const size_t n = slots.ids.size();
  const auto delta_rows = static_cast<int64_t>(delta.size() / static_cast<size_t>(options_.dim));
  if (static_cast<int64_t>(n) != index_->ntotal + delta_rows) {
    return Status::Corruption("index file holds " + std::to_string(n) + " slots but " +
                              std::to_string(index_->ntotal) + " vectors and " +
                              std::to_string(delta_rows) + " delta rows");
  }
  slots_.ids = std::move(slots.ids);
  slots_.cultures = std::move(slots.cultures);
  slots_.tomb = std::move(slots.tombstones);
  delta_.Assign(std::move(delta));
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
  if (ivf_walk_) {  // where each culture lies: rebuilt from the lists, not stored
    const faiss::InvertedLists* lists = ivf_->invlists;
    std::vector<float> buf(static_cast<size_t>(options_.dim));
    for (size_t l = 0; l < lists->nlist; ++l) {
      const size_t size = lists->list_size(l);
      if (size == 0) continue;
      faiss::InvertedLists::ScopedCodes codes(lists, l);
      faiss::InvertedLists::ScopedIds ids(lists, l);
      for (size_t j = 0; j < size; ++j) {
        const int64_t slot = ids[j];
        if (slot < 0 || static_cast<size_t>(slot) >= n) {
          return Status::Corruption("index file has a vector for slot " + std::to_string(slot) +
                                    " of " + std::to_string(n));
        }
        // Full vectors: in the list (IVF,Flat), in the re-rank store, or decoded.
        const float* v = nullptr;
        if (IvfFlat()) {
          v = reinterpret_cast<const float*>(codes.get()) + j * static_cast<size_t>(options_.dim);
        } else if (refine_ != nullptr) {
          v = refine_->get_xb() + slot * options_.dim;
        } else {
          ivf_->reconstruct_from_offset(static_cast<int64_t>(l), static_cast<int64_t>(j),
                                        buf.data());
          v = buf.data();
        }
        // As the live index had it: sums keep removed vectors, counts do not.
        culture_lists_.Add(slot, static_cast<int64_t>(l), static_cast<int64_t>(j),
                           slots_.cultures[slot], v);
        if (slots_.tomb[slot]) culture_lists_.Remove(slot, slots_.cultures[slot]);
      }
    }
  }
  // Options without a delta (or a kind that never has one): merge it now.
  if (!UsesDelta()) BF_RETURN_IF_ERROR(FlushDeltaLocked(delta_.rows()));
  return Status::OK();
}

Status CheckOptions(const IndexOptions& options) {
  if (options.dim <= 0 || options.dim > kMaxDim) {
    return Status::Invalid("dimension must be in [1, " + std::to_string(kMaxDim) + "], got " +
                           std::to_string(options.dim));
  }
  return Status::OK();
}

}  // namespace internal

using internal::FaissIndex;
using internal::FirstLine;

const char* MetricName(Metric m) { return m == Metric::kInnerProduct ? "ip" : "cosine"; }

std::string AutoSpec(const IndexOptions& options, int64_t n) {
  if (n < options.auto_ann_threshold) return "Flat";
  int64_t nlist = 256;
  while (nlist * nlist < 4 * n) nlist *= 2;  // about 2 * sqrt(n), rounded up
  if (nlist > 256) nlist /= 2;               // ... then down: IVF trains on 39 per list
  return "IVF" + std::to_string(nlist) + ",Flat";
}

Result<std::unique_ptr<AnnIndex>> AnnIndex::Create(const IndexOptions& options,
                                                   int64_t expected_size) {
  BF_RETURN_IF_ERROR(internal::CheckOptions(options));
  const bool is_auto = options.spec == "auto";
  // IVF needs training vectors: an empty auto index starts as Flat and the
  // owner rebuilds it once NeedsRebuild() says it outgrew Flat.
  const std::string spec = !is_auto ? options.spec : AutoSpec(options, 0);
  (void)expected_size;
  auto made = FaissIndex::Make(options, spec, is_auto);
  if (!made.ok()) return made.status();
  return std::unique_ptr<AnnIndex>(std::move(made).value());
}

Result<std::unique_ptr<AnnIndex>> AnnIndex::Build(const IndexOptions& options, int64_t n,
                                                  const uint64_t* ids, const uint16_t* cultures,
                                                  const float* vectors, const Progress& progress) {
  BF_RETURN_IF_ERROR(internal::CheckOptions(options));
  BF_RETURN_IF_ERROR(FaissIndex::CheckBatch(options.dim, n, vectors));
  const bool is_auto = options.spec == "auto";
  const std::string spec = !is_auto ? options.spec : AutoSpec(options, n);
  auto made = FaissIndex::Make(options, spec, is_auto);
  if (!made.ok()) return made.status();
  std::unique_ptr<FaissIndex> index = std::move(made).value();
  internal::OmpThreads omp(options.build_threads);
  // Not yet shared: no lock needed. Training sees all n vectors (Faiss
  // samples what k-means needs); adds go in batches for progress reports,
  // straight into the main index (a build leaves the delta empty).
  if (!index->Stats().trained) BF_RETURN_IF_ERROR(index->TrainLocked(n, vectors));
  for (int64_t done = 0; done < n;) {
    const int64_t step = std::min(internal::kBuildBatch, n - done);
    BF_RETURN_IF_ERROR(index->AddLocked(step, ids + done, cultures + done,
                                        vectors + done * options.dim, false));
    done += step;
    if (progress) progress(done, n);
  }
  return std::unique_ptr<AnnIndex>(std::move(index));
}

Result<std::unique_ptr<AnnIndex>> AnnIndex::Load(const std::string& path,
                                                 const std::string& expected_db_id,
                                                 const IndexOptions& options,
                                                 SnapshotStamp* stamp) {
  BF_RETURN_IF_ERROR(internal::CheckOptions(options));
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
      !internal::Unsupported(raw.get()).empty()) {
    return Status::Corruption("index file " + path + " holds a Faiss index of another kind");
  }
  if (c.meta.metric > static_cast<uint8_t>(Metric::kInnerProduct)) {
    return Status::Corruption("index file " + path + " names an unknown metric " +
                              std::to_string(c.meta.metric));
  }
  const auto metric = static_cast<Metric>(c.meta.metric);
  if (metric != options.metric) {
    return Status::Invalid("index file " + path + " has metric " + MetricName(metric) +
                           ", expected " + MetricName(options.metric));
  }
  if (auto* h = dynamic_cast<faiss::IndexHNSW*>(raw.get())) {
    h->hnsw.efSearch = options.hnsw_ef_search;
  }
  if (auto* v = internal::IvfOf(raw.get())) {
    v->nprobe = static_cast<size_t>(std::max(1, options.ivf_nprobe));
    if (options.spec == "auto") v->nprobe = std::max<size_t>(v->nprobe, v->nlist / 16);
  }
  auto index = std::make_unique<FaissIndex>(options, c.meta.spec, options.spec == "auto",
                                            std::move(raw));
  internal::OmpThreads omp(options.omp_threads);
  BF_RETURN_IF_ERROR(
      index->AdoptSlots(std::move(c.slots), c.meta.train_size, std::move(c.delta)));
  if (stamp != nullptr) *stamp = {c.meta.db_id, c.meta.seq};
  return std::unique_ptr<AnnIndex>(std::move(index));
}

}  // namespace bf
