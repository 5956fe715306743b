// ublkcrypt roundtrip: the main job until the ublk device exists. Makes an encrypted image
// file, writes a pattern through the engine at queue depth 32, flushes, reads it back and
// verifies every byte, and prints throughput and which provider served. The key is random
// and lives only in locked memory: the image is a scratch volume, unreadable afterwards.
#include <unistd.h>

#include <fmt/format.h>

#include "tools/command.h"
#include "tools/engine_benchmark.h"

namespace ublkcrypt {

namespace {

struct RoundtripArgs {
  std::string path = "/var/tmp/ublkcrypt-roundtrip.img";
  uint64_t size = 256ull << 20;
  std::string cipher = "aes-xts-plain64";
  uint32_t key_bits = 512;
  uint32_t sector_size = 4096;
  std::string backend;
  SequentialOptions pass{128 * 1024, 32, true};
  bool keep = false;
  bool buffered = false;
  bool force = false;
};

Status roundtrip(const RoundtripArgs& args) {
  CipherSpec spec;
  if (Status s = CipherSpec::parse(args.cipher, args.key_bits, args.sector_size, &spec); !s.ok())
    return s;
  SecureBytes key;
  if (Status s = make_random_key(spec.key_bytes, &key); !s.ok()) return s;
  if (Status s = create_image(args.path, args.size, args.force); !s.ok()) return s;
  std::unique_ptr<Engine> engine;
  Status s = open_image_engine(args.path, spec, key.view(), args.backend, !args.buffered, &engine);
  PassTimes times;
  if (s.ok()) {
    const SessionState state = engine->session().state();
    const StorageInfo& storage = engine->storage_info();
    fmt::print("image     {} ({} MiB, {} I/O)\n", storage.name, engine->size_bytes() >> 20,
               storage.direct_io ? "O_DIRECT" : "buffered");
    fmt::print("cipher    {}, {}-bit key, {}-byte sectors\n", spec.name(), args.key_bits,
               spec.sector_size);
    fmt::print("provider  {} ({})\n", state.provider,
               engine->session().provider()->info().description);
    fmt::print("requests  {} KiB sequential, queue depth {}\n", args.pass.block_bytes / 1024,
               args.pass.depth);
    s = run_sequential(*engine, args.pass, &times);
  }
  engine.reset();
  if (!args.keep) ::unlink(args.path.c_str());
  if (!s.ok()) return s;
  fmt::print("write     {:.0f} MB/s (including the final flush)\n",
             megabytes_per_second(times.bytes, times.write_seconds));
  fmt::print("read      {:.0f} MB/s, every byte verified\n",
             megabytes_per_second(times.bytes, times.read_seconds));
  return Status::Ok();
}

}  // namespace

UBLKCRYPT_COMMAND("roundtrip", 80, [](CLI::App& app) {
  auto args = std::make_shared<RoundtripArgs>();
  CLI::App* cmd = app.add_subcommand(
      "roundtrip",
      "Write, flush, read back and verify an encrypted image through the engine");
  cmd->add_option("--path", args->path, "Image file to create")->capture_default_str();
  cmd->add_option("--size", args->size, "Image size (bytes, or with K/M/G)")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  cmd->add_option("-c,--cipher", args->cipher, "Cipher")->capture_default_str();
  cmd->add_option("-s,--key-size", args->key_bits, "Key size in bits")->capture_default_str();
  cmd->add_option("--sector-size", args->sector_size, "Sector size in bytes")
      ->capture_default_str();
  cmd->add_option("--backend", args->backend,
                  "Provider (software, kernel[:driver], ...); default: by priority");
  cmd->add_option("--block-size", args->pass.block_bytes, "Request size")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  cmd->add_option("--queue-depth", args->pass.depth, "Requests in flight")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_flag("--buffered", args->buffered, "Page-cache I/O instead of O_DIRECT");
  cmd->add_flag("--keep", args->keep, "Keep the image afterwards (its key is gone)");
  cmd->add_flag("--force", args->force, "Overwrite an existing file at --path");
  cmd->callback([args] {
    if (Status s = roundtrip(*args); !s.ok()) fail(s);
  });
});

}  // namespace ublkcrypt
