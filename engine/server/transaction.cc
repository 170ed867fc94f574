#include "engine/server/transaction.h"

namespace bf {

std::shared_lock<std::shared_mutex> WatchRegistry::SharedHold() {
  { std::lock_guard gate(gate_); }  // waits behind an ExclusiveHold that is waiting
  return std::shared_lock(exec_mu_);
}

std::unique_lock<std::shared_mutex> WatchRegistry::ExclusiveHold() {
  std::lock_guard gate(gate_);  // new writers queue here while this waits
  return std::unique_lock(exec_mu_);
}

uint64_t WatchRegistry::Watch(const std::string& key) {
  std::lock_guard lock(mu_);
  Entry& e = keys_[key];
  ++e.watchers;
  n_keys_.store(keys_.size(), std::memory_order_relaxed);
  return e.version;
}

void WatchRegistry::Release(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key);
  if (it == keys_.end()) return;
  if (--it->second.watchers == 0) keys_.erase(it);
  n_keys_.store(keys_.size(), std::memory_order_relaxed);
}

void WatchRegistry::Touch(std::string_view key) {
  // Watch changes n_keys_ only under ExclusiveHold, which the caller's hold
  // excludes: a zero here means no one watches key.
  if (n_keys_.load(std::memory_order_relaxed) == 0) return;
  std::lock_guard lock(mu_);
  auto it = keys_.find(std::string(key));
  if (it != keys_.end()) ++it->second.version;
}

uint64_t WatchRegistry::Version(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key);
  return it == keys_.end() ? 0 : it->second.version;
}

void Transaction::End() {
  active_ = false;
  dirty_ = false;
  wrote_ = false;
  read_after_write_ = false;
  queued_.clear();
  Unwatch();
}

void Transaction::Watch(WatchRegistry* registry, const std::string& key) {
  registry_ = registry;
  for (const auto& [k, v] : watched_) {
    if (k == key) return;  // once per connection, as Redis
  }
  watched_.emplace_back(key, registry->Watch(key));
}

void Transaction::Unwatch() {
  if (registry_ == nullptr) return;
  for (const auto& [k, v] : watched_) registry_->Release(k);
  watched_.clear();
}

bool Transaction::WatchedChanged() const {
  for (const auto& [k, v] : watched_) {
    if (registry_->Version(k) != v) return true;
  }
  return false;
}

}  // namespace bf
