#include "bench/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ublkcrypt {

// Bucket layout: [0, 64) one bucket per value; then for each power of two 2^e (e >= 6),
// 32 buckets of width 2^(e-5).
unsigned LatencyHistogram::bucket_of(uint64_t v) {
  if (v < kLinear) return unsigned(v);
  const unsigned e = 63 - unsigned(std::countl_zero(v));  // v in [2^e, 2^(e+1))
  const unsigned sub = unsigned(v >> (e - kSubBits)) & ((1u << kSubBits) - 1);
  return kLinear + (e - (kSubBits + 1)) * (1u << kSubBits) + sub;
}

// The middle of `bucket`'s values: where a percentile that falls in it is put.
uint64_t LatencyHistogram::midpoint_of(unsigned bucket) {
  if (bucket < kLinear) return bucket;
  const unsigned e = (bucket - kLinear) / (1u << kSubBits) + kSubBits + 1;
  const unsigned sub = (bucket - kLinear) % (1u << kSubBits);
  const uint64_t width = uint64_t{1} << (e - kSubBits);
  return (uint64_t{1} << e) + sub * width + width / 2;
}

void LatencyHistogram::record(uint64_t nanoseconds) {
  ++counts_[bucket_of(nanoseconds)];
  ++count_;
  sum_ += nanoseconds;
  min_ = std::min(min_, nanoseconds);
  max_ = std::max(max_, nanoseconds);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (unsigned i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::percentile(double percent) const {
  if (count_ == 0) return 0;
  const double p = std::clamp(percent, 0.0, 100.0);
  const uint64_t rank = std::max<uint64_t>(1, uint64_t(std::ceil(p / 100.0 * double(count_))));
  uint64_t seen = 0;
  for (unsigned i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank)
      return std::clamp(midpoint_of(i), min_, max_);  // never outside what was recorded
  }
  return max_;
}

}  // namespace ublkcrypt
