// FaissIndex::Memory: heap bytes per part, read from the Faiss structures
// (code and id arrays, direct map, graph) and from our slot bookkeeping.
#include <faiss/IndexFlatCodes.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexRefine.h>
#include <faiss/invlists/DirectMap.h>
#include <faiss/invlists/InvertedLists.h>

#include <mutex>
#include <shared_mutex>

#include "embeddings/heap_bytes.h"
#include "index/faiss_index.h"

namespace bf::internal {
namespace {

// Codes of a Flat-like index (IndexFlat, the HNSW storage, the refine store,
// the IVF quantizer); 0 for another kind.
uint64_t FlatCodes(const faiss::Index* index) {
  const auto* f = dynamic_cast<const faiss::IndexFlatCodes*>(index);
  return f != nullptr ? heap::Of(f->codes) : 0;
}

uint64_t GraphBytes(const faiss::HNSW& g) {
  return heap::Of(g.neighbors) + heap::Of(g.offsets) + heap::Of(g.levels) +
         heap::Of(g.assign_probas) + heap::Of(g.cum_nneighbor_per_level);
}

void IvfBytes(const faiss::IndexIVF& ivf, IndexMemory* m) {
  m->graph += FlatCodes(ivf.quantizer);
  // Other list stores (on-disk) hold nothing on the heap we could count.
  if (const auto* lists = dynamic_cast<const faiss::ArrayInvertedLists*>(ivf.invlists)) {
    m->vectors += heap::Of(lists->codes);
    m->ids += heap::Of(lists->ids);
    for (const auto& c : lists->codes) m->vectors += heap::Of(c);
    for (const auto& i : lists->ids) m->ids += heap::Of(i);
  }
  const faiss::DirectMap& dm = ivf.direct_map;
  m->direct_map += heap::Of(dm.array) + heap::HashNodes(dm.hashtable, false);
}

}  // namespace

IndexMemory FaissIndex::Memory() const {
  std::shared_lock lock(mu_);
  IndexMemory m;
  const faiss::Index* base = index_.get();
  if (refine_wrap_ != nullptr) {
    m.refine = FlatCodes(refine_wrap_->refine_index);
    base = refine_wrap_->base_index;
  }
  switch (kind_) {
    case Kind::kFlat:
      m.vectors = FlatCodes(base);
      break;
    case Kind::kHnsw:
      m.vectors = FlatCodes(hnsw_->storage);
      m.graph = GraphBytes(hnsw_->hnsw);
      break;
    case Kind::kIvf:
      IvfBytes(*ivf_, &m);
      break;
  }
  m.slots = heap::Of(slots_.ids) + heap::Of(slots_.cultures) + heap::Of(slots_.tomb) +
            heap::HashNodes(id_to_slot_, false) + heap::Of(culture_live_) +
            heap::Of(delta_.floats());
  if (ivf_walk_) m.slots += culture_lists_.HeapBytes();
  return m;
}

}  // namespace bf::internal
