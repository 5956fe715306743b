#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "bench/latency_histogram.h"

namespace ublkcrypt {

TEST_CASE("small values are exact: nearest-rank percentiles of 1..50") {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 50; ++v) h.record(v);
  CHECK(h.count() == 50);
  CHECK(h.percentile(50) == 25);
  CHECK(h.percentile(99) == 50);  // rank ceil(49.5) = 50
  CHECK(h.percentile(2) == 1);
  CHECK(h.min() == 1);
  CHECK(h.max() == 50);
  CHECK(h.mean() == doctest::Approx(25.5));
}

TEST_CASE("percentiles of a known sample are within the bucket precision (1/32)") {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(11.0, 1.0);  // ~60 us median, long tail
  std::vector<uint64_t> sample;
  LatencyHistogram h;
  for (int i = 0; i < 200000; ++i) {
    uint64_t v = uint64_t(dist(rng));
    sample.push_back(v);
    h.record(v);
  }
  std::sort(sample.begin(), sample.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const uint64_t exact = sample[size_t(std::ceil(p / 100 * double(sample.size()))) - 1];
    CAPTURE(p);
    CHECK(double(h.percentile(p)) == doctest::Approx(double(exact)).epsilon(1.0 / 32));
  }
}

TEST_CASE("merging histograms equals recording into one") {
  LatencyHistogram a, b, both;
  for (uint64_t v : {100u, 2000u, 30000u}) {
    a.record(v);
    both.record(v);
  }
  for (uint64_t v : {5u, 7000000u}) {
    b.record(v);
    both.record(v);
  }
  a.merge(b);
  CHECK(a.count() == both.count());
  CHECK(a.min() == 5);
  CHECK(a.max() == 7000000);
  for (double p : {20.0, 50.0, 80.0, 100.0}) CHECK(a.percentile(p) == both.percentile(p));
}

TEST_CASE("an empty histogram reports zeros") {
  LatencyHistogram h;
  CHECK(h.percentile(50) == 0);
  CHECK(h.mean() == 0);
  CHECK(h.min() == 0);
}

}  // namespace ublkcrypt
