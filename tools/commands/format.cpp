// ublkcrypt format <device> [<key file>]: like `cryptsetup luksFormat`.
#include <unistd.h>

#include <fmt/format.h>

#include "tools/command.h"
#include "tools/confirmation.h"
#include "tools/header_device.h"
#include "tools/opal/opal_volume.h"
#include "tools/passphrase.h"
#include "tools/pbkdf_options.h"
#include "tools/serve/served_backing.h"
#include "volume/existing_content.h"
#include "volume/format.h"

namespace ublkcrypt {
namespace {

struct FormatArgs {
  std::string device;
  std::string key_file_positional;
  KeyFileOptions key;
  FormatOptions options;
  int keyslot = -1;
  uint64_t offset = 0;  // --offset, when given
  bool batch = false;
  OpalFormatOptions opal;
};

void run_format(FormatArgs& a, bool offset_given) {
  if (!a.key_file_positional.empty()) a.key.key_file = a.key_file_positional;
  if (a.keyslot >= 0) a.options.keyslot = a.keyslot;
  if (offset_given) a.options.data_offset_sectors = a.offset;
  Status s = check_format_options(a.options);
  if (!s.ok()) fail(s);
  // An Opal volume's header sits on the drive before its range, which sets the data offset.
  if (a.opal.enabled() && !a.options.header.empty())
    fail(Status(Errc::invalid_argument, "--header " + a.options.header +
                                            ": an Opal volume keeps its header on the drive, before its range"));
  if (a.opal.enabled() && offset_given)
    fail(Status(Errc::invalid_argument, "--offset: an Opal volume's data starts where its range does"));
  if (a.opal.enabled()) {  // self-encrypting drive: tools/opal/opal_volume.h
    s = format_opal_volume(a.device, a.options, a.opal, a.key, a.batch);
    if (!s.ok()) fail(s);
    return;
  }
  // Never underneath a volume in use: served by ublkcrypt, mounted, or under device-mapper
  // (cryptsetup refuses a device in use the same way, exit 5), before anything is read or
  // asked for. The claim on what format overwrites is held to the end, so an open racing
  // this one is refused in turn; a block device's exclusive open is dropped again, because
  // libcryptsetup takes its own. A detached header that does not exist yet holds nothing.
  const std::string& target = a.options.header.empty() ? a.device : a.options.header;
  const bool target_exists = a.options.header.empty() || ::access(target.c_str(), F_OK) == 0;
  std::unique_ptr<BackingClaim> claim;
  if (target_exists) {
    s = claim_volume_backing(target, false, "", &claim);
    if (!s.ok()) fail(s.in("format"));
    if (claim->block_device()) claim.reset();
  }
  std::unique_ptr<HeaderDevice> header;
  s = HeaderDevice::open(a.device, a.options.header, &header);
  if (!s.ok()) fail(s);
  if (header->is_rbd()) {
    // As librbd's own LUKS2: 4096-byte sectors, data in objects of its own.
    if (a.options.sector_size == 0 && a.options.type == "luks2") a.options.sector_size = 4096;
    a.options.data_alignment_bytes = header->data_alignment();
  }
  // What format overwrites: the device, or with --header the header only (the data device
  // is not written; a header file that does not exist yet holds nothing to lose).
  std::string existing;
  if (target_exists) {
    // On an image the shadow holds only a LUKS header area, so only a LUKS header is seen.
    s = describe_existing_content(a.options.header.empty() ? header->path() : target, &existing);
    if (!s.ok()) fail(header->named(s));
  }
  // Like cryptsetup, always ask on a terminal; without one, refuse only to destroy
  // something recognisable (a blank device needs no confirmation from a script).
  if (!existing.empty() || ::isatty(STDIN_FILENO)) {
    std::string warning = existing.empty()
                              ? fmt::format("This will overwrite data on {} irrevocably.", target)
                              : fmt::format("{} already holds {}. This will overwrite data on "
                                            "{} irrevocably.",
                                            target, existing, target);
    s = confirm_destruction(a.batch, warning, "format " + target);
    if (!s.ok()) fail(s);
  }
  SecureBytes passphrase;
  s = read_passphrase(a.key, fmt::format("Enter passphrase for {}: ", a.device), Verify::yes,
                      &passphrase);
  if (s.ok()) s = format_volume(header->path(), a.options, passphrase.view(), nullptr);
  passphrase.reset();
  if (s.ok()) s = header->commit();
  if (!s.ok()) fail(header->named(s));
}

}  // namespace

UBLKCRYPT_COMMAND("format", 10, [](CLI::App& app) {
  auto a = std::make_shared<FormatArgs>();
  auto* cmd = app.add_subcommand("format", "<device> [<key file>] formats a LUKS device");
  cmd->alias("luksFormat");
  cmd->add_option("device", a->device, "block device, image file or rbd:POOL/IMAGE to format")->required();
  cmd->add_option("key_file", a->key_file_positional, "passphrase file (same as --key-file)");
  add_key_file_options(cmd, &a->key);
  cmd->add_option("--type,-M", a->options.type, "on-disk format: luks2 or luks1")
      ->capture_default_str();
  cmd->add_option("--cipher,-c", a->options.cipher,
                  "aes-xts-plain64 or aes-cbc-essiv:sha256")->capture_default_str();
  cmd->add_option("--key-size,-s", a->options.key_bits, "volume key size in bits")
      ->capture_default_str();
  cmd->add_option("--sector-size", a->options.sector_size,
                  "encryption sector size: 512, 1024, 2048 or 4096 (default: 512, 4096 on 4K "
                  "devices)");
  add_pbkdf_options(cmd, &a->options.pbkdf);
  cmd->add_option("--label", a->options.label, "LUKS2 label");
  cmd->add_option("--key-slot,-S", a->keyslot, "key slot for the passphrase (default: 0)");
  cmd->add_flag("--batch-mode,-q", a->batch, "do not ask for confirmation");
  add_header_option(cmd, &a->options.header,
                    "detached LUKS header: write the header and keyslots to this file (created, mode 0600, if "
                    "missing) or device; DEVICE holds only data, from offset 0 unless --offset");
  auto* offset = cmd->add_option("--offset,-o", a->offset,
                                 "where the data starts on DEVICE, in 512-byte sectors (default: after the header; "
                                 "0 with --header)");
  add_opal_format_options(cmd, &a->opal);
  cmd->callback([a, offset] { run_format(*a, offset->count() > 0); });
});

}  // namespace ublkcrypt
