// EngineImpl::Memory: INFO memory's bytes per structure, each asked of the
// structure that holds it.
#include <mutex>
#include <shared_mutex>

#include "engine/internal/engine_impl.h"

namespace bf {

MemoryBreakdown EngineImpl::Memory() const {
  MemoryBreakdown m;
  {
    std::shared_lock lock(table_mu_);
    const PostTableMemory t = table_.Memory();
    m.post_vectors = t.vectors;
    m.post_entries = t.entries;
    m.gramian = gramian_.HeapBytes();
  }
  {
    std::lock_guard lock(foldin_mu_);
    if (foldin_ != nullptr) m.gramian += foldin_->HeapBytes();
  }
  m.foldin_cache = foldins_.HeapBytes();
  if (text_model_ != nullptr) m.text_model = text_model_->HeapBytes();
  // Outside the table lock: a search never runs under it either.
  if (const std::shared_ptr<AnnIndex> ix = index()) m.index = ix->Memory();
  if (!closed_.load()) m.store = store_->Memory();
  return m;
}

}  // namespace bf
