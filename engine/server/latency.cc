#include "engine/server/latency.h"

#include <bit>
#include <cmath>

namespace bf {

int LatencyHistogram::BucketOf(uint64_t v) {
  if (v < kSub) return static_cast<int>(v);
  const int e = 63 - std::countl_zero(v);  // floor(log2 v) >= 3
  const int m = static_cast<int>((v >> (e - 3)) & (kSub - 1));
  return (e - 2) * kSub + m;
}

uint64_t LatencyHistogram::BucketUpper(int bucket) {
  if (bucket < kSub) return static_cast<uint64_t>(bucket);
  const int e = bucket / kSub + 2;
  const uint64_t m = bucket % kSub;
  const uint64_t lower = (kSub + m) << (e - 3);
  return lower + ((uint64_t{1} << (e - 3)) - 1);
}

void LatencyHistogram::Record(uint64_t usec) {
  counts_[BucketOf(usec)].fetch_add(1, std::memory_order_relaxed);
}

uint64_t LatencyHistogram::count() const {
  uint64_t n = 0;
  for (const auto& c : counts_) n += c.load(std::memory_order_relaxed);
  return n;
}

uint64_t LatencyHistogram::Percentile(double q) const {
  std::array<uint64_t, kBuckets> snap;
  uint64_t total = 0;
  for (int i = 0; i < kBuckets; ++i) {
    snap[i] = counts_[i].load(std::memory_order_relaxed);
    total += snap[i];
  }
  if (total == 0) return 0;
  uint64_t target = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  if (target < 1) target = 1;
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += snap[i];
    if (seen >= target) return BucketUpper(i);
  }
  return BucketUpper(kBuckets - 1);
}

}  // namespace bf
