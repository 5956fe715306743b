// The options of the verbs that drive the engine over a scratch image (roundtrip,
// engine-bench): where the image goes, its cipher and the sequential pass. One place, so
// the two verbs accept the same spelling and meaning.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "tools/engine_benchmark.h"

namespace ublkcrypt {

struct ScratchImageArgs {
  std::string path;
  uint64_t size = 0;
  std::string cipher = "aes-xts-plain64";
  uint32_t key_bits = 512;
  uint32_t sector_size = 4096;
  std::string backend;
  SequentialOptions pass{128 * 1024, 32, false};
  bool buffered = false;
};

inline void add_scratch_image_options(CLI::App* cmd, ScratchImageArgs& args,
                                      const char* path_help) {
  cmd->add_option("--path", args.path, path_help)->capture_default_str();
  cmd->add_option("--size", args.size, "Image size (bytes, or with K/M/G)")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  cmd->add_option("-c,--cipher", args.cipher, "Cipher")->capture_default_str();
  cmd->add_option("-s,--key-size", args.key_bits, "Key size in bits")->capture_default_str();
  cmd->add_option("--sector-size", args.sector_size, "Sector size in bytes")
      ->capture_default_str();
  cmd->add_option("--backend", args.backend,
                  "Provider (software, kernel[:driver], ...); default: by priority");
  cmd->add_option("--block-size", args.pass.block_bytes, "Request size")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  cmd->add_option("--queue-depth", args.pass.depth, "Requests in flight")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_flag("--buffered", args.buffered, "Page-cache I/O instead of O_DIRECT");
}

}  // namespace ublkcrypt
