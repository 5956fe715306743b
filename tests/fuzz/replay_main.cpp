// Replays a fuzz target without libFuzzer: its seeds, every truncation and every single-byte
// flip of them, and any files given on the command line. With --write-seeds DIR, writes the
// seeds as a corpus for libFuzzer instead; with --write-inputs FILE, writes every input the
// replay would run into one file, each as a 4-byte little-endian length and its bytes (the
// VM feeds the control request corpus to a live daemon this way).
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_seeds.h"

int main(int argc, char** argv) {
  auto seeds = fuzz_seeds();
  if (argc == 3 && std::string(argv[1]) == "--write-seeds") {
    for (size_t i = 0; i < seeds.size(); ++i) {
      std::ofstream out(std::string(argv[2]) + "/seed-" + std::to_string(i), std::ios::binary);
      out.write(reinterpret_cast<const char*>(seeds[i].data()), std::streamsize(seeds[i].size()));
    }
    return 0;
  }
  std::ofstream inputs;
  if (argc == 3 && std::string(argv[1]) == "--write-inputs") {
    inputs.open(argv[2], std::ios::binary);
    argc = 1;
  }
  size_t runs = 0;
  auto run = [&runs, &inputs](const std::vector<uint8_t>& input) {
    if (inputs.is_open()) {
      const uint32_t n = static_cast<uint32_t>(input.size());
      const char length[4] = {char(n), char(n >> 8), char(n >> 16), char(n >> 24)};
      inputs.write(length, 4);
      inputs.write(reinterpret_cast<const char*>(input.data()), std::streamsize(input.size()));
      ++runs;
      return;
    }
    LLVMFuzzerTestOneInput(input.data(), input.size());
    ++runs;
  };
  for (const auto& seed : seeds) {
    run(seed);
    for (size_t n = 0; n < seed.size(); ++n) run(std::vector<uint8_t>(seed.begin(), seed.begin() + long(n)));
    for (size_t i = 0; i < seed.size(); ++i) {
      for (uint8_t mask : {0x01, 0x80, 0xFF}) {
        auto mutated = seed;
        mutated[i] ^= mask;
        run(mutated);
      }
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    run(std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {}));
  }
  std::printf("%s %zu inputs from %zu seeds\n", inputs.is_open() ? "wrote" : "replayed", runs, seeds.size());
  return 0;
}
