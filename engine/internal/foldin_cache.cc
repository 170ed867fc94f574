#include "engine/internal/foldin_cache.h"

#include "embeddings/heap_bytes.h"

namespace bf {

std::shared_ptr<UserFoldIn> FoldInCache::Get(std::string_view user) {
  std::lock_guard lock(mu_);
  auto it = slots_.find(std::string(user));
  if (it == slots_.end()) return nullptr;
  order_.splice(order_.begin(), order_, it->second.pos);
  return it->second.state;
}

void FoldInCache::Put(std::string_view user, std::shared_ptr<UserFoldIn> state) {
  if (capacity_ == 0) return;
  const uint64_t bytes = state != nullptr ? state->state.HeapBytes() : 0;
  std::lock_guard lock(mu_);
  auto [it, inserted] = slots_.try_emplace(std::string(user));
  if (inserted) {
    order_.push_front(it->first);
    it->second.pos = order_.begin();
  } else {
    order_.splice(order_.begin(), order_, it->second.pos);
  }
  it->second.state = std::move(state);
  it->second.bytes = bytes;
  while (slots_.size() > capacity_) {
    slots_.erase(order_.back());
    order_.pop_back();
  }
}

void FoldInCache::Erase(std::string_view user) {
  std::lock_guard lock(mu_);
  auto it = slots_.find(std::string(user));
  if (it == slots_.end()) return;
  order_.erase(it->second.pos);
  slots_.erase(it);
}

void FoldInCache::Clear() {
  std::lock_guard lock(mu_);
  slots_.clear();
  order_.clear();
}

size_t FoldInCache::size() const {
  std::lock_guard lock(mu_);
  return slots_.size();
}

FoldInGroup::~FoldInGroup() {
  if (cache == nullptr) return;
  for (auto& [user, state] : states) {
    if (stored && state != nullptr) {
      cache->Put(user, std::move(state));
    } else {
      cache->Erase(user);
    }
  }
}

uint64_t FoldInCache::HeapBytes() const {
  std::lock_guard lock(mu_);
  // A list node: two pointers and the name; a state: the shared_ptr's
  // control block holds the UserFoldIn (make_shared) or points to it.
  uint64_t b = heap::HashNodes(slots_, true) + order_.size() * heap::Chunk(16 + sizeof(std::string));
  for (const auto& [name, slot] : slots_) {
    b += 2 * heap::Of(name);  // the map's key and the list's copy
    if (slot.state != nullptr) b += heap::Chunk(16 + sizeof(UserFoldIn)) + slot.bytes;
  }
  return b;
}

}  // namespace bf
