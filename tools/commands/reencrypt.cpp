// ublkcrypt reencrypt <device>: like `cryptsetup reencrypt` on a LUKS2 volume that is not
// open: a new volume key (and cipher or key size if given) for every sector, in place,
// resumable after a crash or an interruption (volume/reencrypt.h). --encrypt makes data in
// the clear a LUKS2 volume (its header in a new file, --header, or at the start of the device,
// --reduce-device-size), --decrypt the reverse (a header on the device moves to --header).
#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>

#include "engine/rbd_storage.h"
#include "tools/command.h"
#include "tools/header_device.h"
#include "tools/passphrase.h"
#include "tools/pbkdf_options.h"
#include "tools/serve/served_backing.h"
#include "volume/reencrypt.h"

namespace ublkcrypt {
namespace {

struct ReencryptArgs {
  std::string device;
  KeyFileOptions key;
  ReencryptOptions options;
  PbkdfOptions pbkdf;
  int keyslot = -1;
  bool pbkdf_given = false;
  bool encrypt = false, decrypt = false;
};

void run_reencrypt(ReencryptArgs& a) {
  if (a.keyslot >= 0) a.options.keyslot = a.keyslot;
  if (a.pbkdf_given) a.options.pbkdf = a.pbkdf;
  if (a.encrypt && a.decrypt) fail(Status(Errc::invalid_argument, "reencrypt: --encrypt and --decrypt exclude each other"));
  if (a.encrypt) a.options.mode = ReencryptMode::encrypt;
  if (a.decrypt) a.options.mode = ReencryptMode::decrypt;
  // libcryptsetup rewrites the data through a device it opens itself, which an image has
  // not: the header's shadow (tools/header_device.h) holds the header area only.
  if (is_rbd_name(a.device))
    fail(Status(Errc::unsupported, "reencrypt " + a.device +
                                       ": rbd images are not supported (libcryptsetup rewrites the data through a "
                                       "device of its own)"));
  // Offline only: a volume a ublkcrypt server serves, a mounted filesystem or a dm-crypt
  // mapping on the device is refused here, before any passphrase is asked for. The claim
  // is held to the end on an image file (its lock keeps servers away); a block device's
  // exclusive open is dropped again, because libcryptsetup takes its own.
  std::unique_ptr<BackingClaim> claim;
  Status s = claim_volume_backing(a.device, false, "", &claim);
  if (!s.ok()) fail(s.in("reencrypt"));
  if (claim->block_device()) claim.reset();
  SecureBytes passphrase;
  // A new volume's passphrase is typed twice, as format asks for it.
  s = read_passphrase(a.key, fmt::format("Enter passphrase for {}: ", a.device),
                      a.encrypt ? Verify::yes : Verify::no, &passphrase);
  if (!s.ok()) fail(s);
  ReencryptProgress progress;
  if (::isatty(STDERR_FILENO)) {
    progress = [](uint64_t done, uint64_t total) {
      std::fprintf(stderr, "\rReencrypting: %3u%%", total ? unsigned(done * 100 / total) : 100);
      if (done >= total) std::fputc('\n', stderr);
    };
  }
  s = reencrypt_volume(a.device, passphrase.view(), a.options, progress);
  passphrase.reset();
  if (!s.ok()) fail(s);
}

}  // namespace

UBLKCRYPT_COMMAND("reencrypt", 64, [](CLI::App& app) {
  auto a = std::make_shared<ReencryptArgs>();
  auto* cmd = app.add_subcommand(
      "reencrypt", "<device> reencrypts a LUKS2 device that is not open, in place");
  cmd->add_option("device", a->device, "LUKS2 block device or image file (--encrypt: data in the clear)")
      ->required();
  cmd->add_flag("--encrypt,--new,-N", a->encrypt,
                "encrypt data in the clear into a new LUKS2 volume whose header is the new file --header");
  cmd->add_option("--reduce-device-size", a->options.reduce_device_bytes,
                  "--encrypt with the header at the start of the device: the data ends this many "
                  "bytes before the device's end and moves half of it towards the end")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_flag("--decrypt", a->decrypt,
                "decrypt a LUKS2 volume in place: its detached header is --header, or the header "
                "on the device moves to the new file --header and the data to the device's start");
  cmd->add_option("--sector-size", a->options.sector_size, "--encrypt: sector size of the new volume")
      ->capture_default_str();
  add_key_file_options(cmd, &a->key);
  cmd->add_option("--cipher,-c", a->options.cipher,
                  "new cipher (default: keep the current one)");
  cmd->add_option("--key-size,-s", a->options.key_bits,
                  "new volume key size in bits (default: keep, or the new cipher's default)");
  cmd->add_option("--key-slot,-S", a->keyslot,
                  "the key slot to keep (required when several are active; the others are "
                  "removed)");
  cmd->add_option("--resilience", a->options.resilience,
                  "crash protection of the hotzone: checksum, journal or none")
      ->capture_default_str();
  cmd->add_option("--hotzone-size", a->options.hotzone_bytes,
                  "most bytes reencrypted per step (default: libcryptsetup's)");
  cmd->add_flag("--resume-only", a->options.resume_only,
                "only finish a reencryption already in progress");
  // cryptsetup's scripts say -q to skip its question whether to resume a reencryption in
  // progress; this one asks nothing (a run on a volume in progress resumes it, or is
  // refused when it names a new cipher), so the flag is taken and changes nothing.
  cmd->add_flag("--batch-mode,-q")->description("accepted as cryptsetup takes it: reencrypt asks no question");
  add_pbkdf_options(cmd, &a->pbkdf);
  add_header_option(cmd, &a->options.header);
  cmd->callback([a, cmd] {
    a->pbkdf_given = cmd->count("--pbkdf") + cmd->count("--iter-time") +
                         cmd->count("--pbkdf-force-iterations") + cmd->count("--pbkdf-memory") >
                     0;
    run_reencrypt(*a);
  });
});

}  // namespace ublkcrypt
