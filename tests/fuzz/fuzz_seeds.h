// Shared by the fuzz targets and the replay driver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

// Valid inputs for a target, to start the fuzzer and to replay in ctest.
std::vector<std::vector<uint8_t>> fuzz_seeds();
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
