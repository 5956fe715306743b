// ublkcrypt open DEVICE NAME: unlock a volume and serve it as /dev/ublkbN.
//
// The verb forks first; the child becomes the daemon and does everything (reads the key,
// unlocks, starts the disk), so key material only ever lives in the process that keeps
// it, in memory locked there. The parent waits on a pipe for one line — the disk path or
// the failure — prints it and exits with the matching code. With --foreground there is no
// fork: the same process serves until close or SIGTERM (debugging, service managers).
//
// --recover takes over the disk NAME's previous server left, or hands over from a live
// one (tools/serve/recovery.h): `ublkcrypt open --recover NAME`.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tools/command.h"
#include "tools/header_device.h"
#include "tools/serve/daemon_start.h"
#include "tools/serve/recovery.h"
#include "tools/serve/run_state.h"
#include "tools/serve/service_notify.h"
#include "tools/serve/volume_server.h"

namespace ublkcrypt {
namespace {

class ForegroundReport final : public ReadyReport {
 public:
  void ready(const std::string& disk) override {
    std::printf("%s\n", disk.c_str());
    std::fflush(stdout);
    notify_service_ready();
  }
  void failed(const Status&) override {}
  void handed_over() override { handed_over_ = true; }
  bool was_handed_over() const { return handed_over_; }

 private:
  bool handed_over_ = false;
};

// --key-file as cryptsetup takes it: once, the passphrase or key file, for every type but
// tcrypt, where each one is a TrueCrypt keyfile and "-" the passphrase from standard input.
Status sort_key_files(const std::vector<std::string>& files, OpenOptions* o) {
  if (o->type != "tcrypt") {
    if (files.size() > 1)
      return Status(Errc::invalid_argument,
                    fmt::format("open: --key-file given {} times: only --type tcrypt takes several "
                                "(TrueCrypt keyfiles)", files.size()));
    if (!files.empty()) o->key.key_file = files.front();
    return Status::Ok();
  }
  for (const std::string& file : files) {
    if (file != "-") {
      o->tcrypt.keyfiles.push_back(file);
    } else if (o->key.key_file.empty()) {
      o->key.key_file = file;
    } else {
      return Status(Errc::invalid_argument, "open: --key-file - given twice: standard input holds one passphrase");
    }
  }
  return Status::Ok();
}

void run_open(const OpenOptions& o, bool foreground) {
  if (foreground) {
    ForegroundReport report;
    Status s = serve_volume(o, &report, false);
    if (!s.ok()) fail(s);
    if (report.was_handed_over()) {
      std::fflush(nullptr);
      std::exit(kHandedOverExitStatus);
    }
    return;
  }
  std::string disk;
  if (Status s = start_volume_daemon(o, &disk); !s.ok()) fail(s);
  std::printf("%s\n", disk.c_str());
}

}  // namespace

UBLKCRYPT_COMMAND("open", 20, [](CLI::App& app) {
  auto* cmd = app.add_subcommand("open", "Unlock DEVICE and serve it as /dev/ublkbN (/dev/ublkcrypt/NAME)");
  auto o = std::make_shared<OpenOptions>();
  auto foreground = std::make_shared<bool>(false);
  cmd->add_option("device", o->device, "LUKS2, LUKS1, plain or TrueCrypt volume (image file, block device or rbd:POOL/IMAGE)");
  cmd->add_option("name", o->name, "name under /dev/ublkcrypt");
  cmd->add_option("--type,-M", o->type, "luks (either version), luks1 or luks2 (that version only), plain (no header) or tcrypt (TrueCrypt/VeraCrypt)")
      ->capture_default_str();
  add_header_option(cmd, &o->header, "luks: " + std::string(kHeaderOptionHelp));
  auto key_files = std::make_shared<std::vector<std::string>>();
  add_key_file_options(cmd, &o->key, key_files.get());
  cmd->get_option("--key-file")
      ->description("luks: passphrase file; plain: raw key file (- = stdin: a passphrase, hashed); tcrypt: a "
                    "TrueCrypt keyfile, repeatable (- = the passphrase from stdin); never on argv");
  cmd->add_option("--key-slot,-S", o->key_slot, "luks: try only this keyslot");
  // cryptsetup's plain options, names and defaults (volume/plain_volume.h); -h stays help.
  PlainParams& plain = o->plain;
  cmd->add_option("--cipher,-c", plain.cipher, "plain: cipher (aes-cbc-essiv:sha256, aes-xts-plain64)")
      ->capture_default_str();
  cmd->add_option("--key-size,-s", plain.key_bits, "plain: key size in bits")->capture_default_str();
  cmd->add_option("--hash", plain.hash, "plain: passphrase hash (plain = none; a key file is never hashed)")
      ->capture_default_str();
  cmd->add_option("--sector-size", plain.sector_size, "plain: encryption sector size in bytes")
      ->capture_default_str();
  cmd->add_option("--offset,-o", plain.offset, "plain: start of the data on DEVICE, 512-byte sectors");
  cmd->add_option("--skip,-p", plain.skip, "plain: IV offset (sectors skipped from the IV count), 512-byte sectors");
  cmd->add_option("--size,-b", plain.size, "plain: size in 512-byte sectors (0 = to the end)");
  // cryptsetup's tcrypt options, same names (volume/tcrypt_volume.h).
  cmd->add_flag("--veracrypt", o->tcrypt.veracrypt, "tcrypt: also try VeraCrypt's header and key derivation");
  cmd->add_option("--veracrypt-pim", o->tcrypt.veracrypt_pim, "tcrypt: VeraCrypt's personal iterations multiplier");
  cmd->add_flag("--tcrypt-hidden", o->tcrypt.hidden, "tcrypt: open the hidden volume");
  cmd->add_flag("--tcrypt-system", o->tcrypt.system, "tcrypt: system encryption (the header in the disk's first track)");
  cmd->add_flag("--allow-null-cipher", o->allow_null_cipher,
                "accept cipher_null-ecb, with --type plain or in a LUKS header (no encryption; datapath "
                "measurements only)");
  cmd->add_option("--queues", o->queues, "ublk queues (default: one per CPU)");
  cmd->add_option("--depth", o->depth, "requests in flight per queue")->capture_default_str();
  cmd->add_flag("--allow-discards", o->allow_discards,
                "pass discards to the backing (leaks usage); also on when a LUKS2 header's persistent flags say so");
  cmd->add_flag("--persistent", o->persistent,
                "luks2: store this open's flags (--allow-discards or none) in the header for the next open");
  cmd->add_flag("--readonly,-r", o->read_only, "read-only device");
  cmd->add_option("--backend", o->backend, "crypto provider (software, kernel, kernel:DRIVER)");
  cmd->add_flag("--foreground", *foreground, "serve in this process, do not daemonise");
  cmd->add_option("--recovery-timeout", o->recovery_timeout_s,
                  "seconds the disk waits for 'open --recover' after its server dies, then its I/O fails "
                  "(0: no recovery, the disk goes with its server)")
      ->capture_default_str();
  cmd->add_flag("--recover", o->recover,
                "take over NAME's disk from a dead server, or from a live one (upgrade), without a passphrase; "
                "with DEVICE too, open DEVICE when nothing waits");
  cmd->callback([o, foreground, key_files] {
    // `open --recover NAME`: the one positional is the name.
    if (o->recover && o->name.empty()) std::swap(o->device, o->name);
    if (o->name.empty())
      fail(Status(Errc::invalid_argument, o->recover ? "open --recover: NAME is required"
                                                     : "open: DEVICE and NAME are required"));
    if (Status s = sort_key_files(*key_files, o.get()); !s.ok()) fail(s);
    run_open(*o, *foreground);
  });
});

}  // namespace ublkcrypt
