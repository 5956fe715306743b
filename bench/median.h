// The median of a run's rounds, as every benchmark here picks it: the round whose key is the
// median, the lower middle for an even count (a round, not an average of two, so its other
// figures stay that round's).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace ublkcrypt {

// The index of the median of `items` by `key(item)`; `items` is not empty.
template <typename T, typename Key>
size_t median_index(const std::vector<T>& items, Key key) {
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(items[a]) < key(items[b]); });
  return order[(order.size() - 1) / 2];
}

}  // namespace ublkcrypt
