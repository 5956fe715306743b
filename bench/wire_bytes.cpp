#include "bench/wire_bytes.h"

#include <fstream>
#include <sstream>
#include <string>

namespace ublkcrypt {

int64_t wire_bytes() {
  std::ifstream in("/proc/net/dev");
  if (!in) return -1;
  std::string line;
  int64_t total = 0;
  // "  lo: rx_bytes rx_packets ... (8 receive fields) tx_bytes ...", after two header lines.
  for (int n = 0; std::getline(in, line); ++n) {
    const size_t colon = line.find(':');
    if (n < 2 || colon == std::string::npos) continue;
    std::istringstream name_part(line.substr(0, colon));
    std::string name;
    name_part >> name;
    std::istringstream fields(line.substr(colon + 1));
    int64_t value[9] = {};
    for (int64_t& v : value) fields >> v;
    const int64_t rx = value[0], tx = value[8];
    total += name == "lo" ? tx : rx + tx;
  }
  return total;
}

}  // namespace ublkcrypt
