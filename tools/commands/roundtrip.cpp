// ublkcrypt roundtrip: the main job until the ublk device exists. Makes an encrypted image
// file, writes a pattern through the engine at queue depth 32, flushes, reads it back and
// verifies every byte, and prints throughput and which provider served. The key is random
// and lives only in locked memory: the image is a scratch volume, unreadable afterwards.
#include <unistd.h>

#include <fmt/format.h>

#include "bench/cpu_clock.h"
#include "tools/command.h"
#include "tools/engine_benchmark.h"
#include "tools/scratch_image_args.h"

namespace ublkcrypt {

namespace {

struct RoundtripArgs : ScratchImageArgs {
  RoundtripArgs() {
    path = "/var/tmp/ublkcrypt-roundtrip.img";
    size = 256ull << 20;
    pass.verify = true;
  }
  bool keep = false;
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
             mb_per_second(times.bytes, times.write_seconds));
  fmt::print("read      {:.0f} MB/s, every byte verified\n",
             mb_per_second(times.bytes, times.read_seconds));
  return Status::Ok();
}

}  // namespace

UBLKCRYPT_COMMAND("roundtrip", 80, [](CLI::App& app) {
  auto args = std::make_shared<RoundtripArgs>();
  CLI::App* cmd = app.add_subcommand(
      "roundtrip",
      "Write, flush, read back and verify an encrypted image through the engine");
  add_scratch_image_options(cmd, *args, "Image file to create");
  cmd->add_flag("--keep", args->keep, "Keep the image afterwards (its key is gone)");
  cmd->add_flag("--force", args->force, "Overwrite an existing file at --path");
  cmd->callback([args] {
    if (Status s = roundtrip(*args); !s.ok()) fail(s);
  });
});

}  // namespace ublkcrypt
