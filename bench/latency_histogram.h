// LatencyHistogram: completion latencies in nanoseconds, log-linear buckets (HdrHistogram's
// layout): values below 64 ns exactly, above that 32 buckets per power of two, so any
// percentile is within 1/32 (3%) of the true sample value. Fixed size, no allocation per
// sample, and merging is adding counts — each job records into its own and the report
// merges them.
#pragma once

#include <array>
#include <cstdint>

namespace ublkcrypt {

class LatencyHistogram {
 public:
  void record(uint64_t nanoseconds);
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? double(sum_) / double(count_) : 0; }
  // The smallest recorded value v such that at least `percent`% of samples are <= v (the
  // nearest-rank definition fio uses), as the midpoint of its bucket; 0 when empty.
  uint64_t percentile(double percent) const;

 private:
  static constexpr unsigned kSubBits = 5;  // 32 sub-buckets per power of two
  static constexpr unsigned kLinear = 2u << kSubBits;  // 0..63 recorded exactly
  static constexpr unsigned kBuckets = kLinear + (64 - kSubBits - 1) * (1u << kSubBits);
  static unsigned bucket_of(uint64_t v);
  static uint64_t midpoint_of(unsigned bucket);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace ublkcrypt
