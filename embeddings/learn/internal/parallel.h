// Runs fn over [0, n) in fixed blocks on up to `threads` threads. Which thread
// runs a block varies; what a block computes must not depend on it, so
// results are the same for any thread count.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace bf::learn::internal {

inline int ResolveThreads(int threads) {
  if (threads > 0) return threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

// fn(worker, begin, end): worker in [0, threads) names the caller's scratch.
template <typename Fn>
void ParallelBlocks(int64_t n, int64_t block, int threads, Fn&& fn) {
  const int64_t blocks = (n + block - 1) / block;
  threads = static_cast<int>(std::min<int64_t>(std::max(1, threads), std::max<int64_t>(1, blocks)));
  std::atomic<int64_t> next{0};
  auto work = [&](int worker) {
    for (int64_t b; (b = next.fetch_add(1, std::memory_order_relaxed)) < blocks;) {
      fn(worker, b * block, std::min(n, (b + 1) * block));
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads) - 1);
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (std::thread& t : pool) t.join();
}

}  // namespace bf::learn::internal
