// LatencyHistogram: lock-free log-bucket histogram of durations in
// microseconds, for the INFO latency section. Each power of two is split in
// 8 buckets, so a reported percentile is at most 12.5% above the true value.
//
// Errors: none (a value past the last bucket lands in it). Thread safety:
// Record and Percentile may run concurrently (relaxed atomics; a percentile
// read during updates is approximate, never torn). Owns only its counters.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace bf {

class LatencyHistogram {
 public:
  void Record(uint64_t usec);
  // Upper bound of the bucket that holds the q-quantile, q in [0, 1]; 0 when
  // nothing was recorded.
  uint64_t Percentile(double q) const;
  uint64_t count() const;

  static int BucketOf(uint64_t usec);
  static uint64_t BucketUpper(int bucket);

 private:
  static constexpr int kSub = 8;
  static constexpr int kBuckets = 64 * kSub;
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
};

}  // namespace bf
