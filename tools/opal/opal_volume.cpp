#include "tools/opal/opal_volume.h"

#include <openssl/rand.h>

#include <fmt/format.h>

#include "tools/confirmation.h"
#include "tools/opal/header_window.h"

namespace ublkcrypt {

using opal::Authority;
using opal::Credential;

void add_opal_format_options(CLI::App* cmd, OpalFormatOptions* o) {
  auto* only = cmd->add_flag("--hw-opal-only", o->hw_opal_only,
                             "self-encrypting drive alone: an Opal range holds the data, the keyslot its key "
                             "(segment cipher_null, no host crypto)");
  cmd->add_flag("--hw-opal", o->hw_opal, "Opal range plus the software cipher (defence in depth)")->excludes(only);
  cmd->add_option("--opal-admin-key-file", o->admin_key.key_file,
                  "file with the drive's Admin1 password (- = stdin; default: ask on the terminal)");
  cmd->add_option("--opal-range", o->range, "Opal locking range (and UserN) for the volume")->capture_default_str();
  cmd->add_option("--opal-length", o->length, "range length in drive blocks (default: to the end of the drive)");
}

namespace {

Status random_key(size_t bytes, SecureBytes* out) {
  if (Status s = SecureBytes::allocate(bytes, out); !s.ok()) return s;
  if (RAND_bytes(out->data(), int(bytes)) != 1) return Status(Errc::io_error, "RAND_bytes failed");
  return Status::Ok();
}

// Messages from libcryptsetup name the window's temporary file; the user named the drive.
Status name_device(Status s, const HeaderWindow& window, const std::string& device) {
  if (s.ok() || window.path() == device) return s;
  std::string m = s.message();
  for (size_t at; (at = m.find(window.path())) != std::string::npos;) m.replace(at, window.path().size(), device);
  return Status(s.code(), m);
}

// Range, crypto erase, UserN and its ACEs, then locked: the state open expects.
Status set_up_range(opal::Drive& drive, const Credential& admin, const OpalSegment& seg, const SecureBytes& user_password) {
  opal::RangeSetup setup;
  setup.index = seg.range;
  setup.start = seg.start;
  setup.length = seg.length;
  if (Status s = drive.setup_range(admin, setup); !s.ok()) return s;
  if (Status s = drive.erase_range(admin, seg.range); !s.ok()) return s;
  if (Status s = drive.set_user_password(admin, seg.user, user_password); !s.ok()) return s;
  if (Status s = drive.grant_range(admin, seg.user, seg.range); !s.ok()) return s;
  // Locking as the user proves the password and the ACEs before the header names them.
  return drive.lock(Credential{Authority::user(seg.user), user_password}, seg.range);
}

}  // namespace

Status format_opal_volume(const std::string& device, const FormatOptions& options, const OpalFormatOptions& opal,
                          const KeyFileOptions& passphrase_source, bool batch) {
  if (options.type != "luks2") return Status(Errc::invalid_argument, "--hw-opal needs --type luks2");
  std::unique_ptr<OpalDevice> dev;
  if (Status s = OpalDevice::open(device, &dev); !s.ok()) return s;
  opal::Drive& drive = dev->drive();
  const opal::Discovery& d = drive.discovery();
  if (!d.manageable()) {
    return Status(Errc::unsupported, fmt::format("opal {}: no Opal or Ruby feature set (drive reports: {})", device,
                                                 d.feature_sets()));
  }
  bool active = false;
  if (Status s = drive.locking_active(&active); !s.ok()) return s;
  if (!active) {
    return Status(Errc::invalid_argument, fmt::format("opal {}: Locking SP not active: run `ublkcrypt opal setup {}` "
                                                      "first", device, device));
  }
  if (opal.range == 0 || (d.user_authorities != 0 && opal.range > d.user_authorities)) {
    return Status(Errc::invalid_argument, fmt::format("opal {}: --opal-range {}: must be 1..{} (one User per range)",
                                                      device, opal.range, d.user_authorities));
  }
  uint64_t blocks = 0;
  uint32_t bs = 0;
  if (Status s = dev->geometry(&blocks, &bs); !s.ok()) return s;
  OpalSegment seg;
  seg.mode = opal.hw_opal_only ? "hw-opal-only" : "hw-opal";
  seg.drive = device;
  seg.range = seg.user = opal.range;
  seg.block_size = bs;
  seg.start = kDefaultHeaderWindow / bs;
  if (blocks <= seg.start) {
    return Status(Errc::invalid_argument, fmt::format("opal {}: {} blocks leave no room after the 16 MiB header",
                                                      device, blocks));
  }
  seg.length = opal.length ? opal.length : blocks - seg.start;
  if (seg.length > blocks - seg.start) {
    return Status(Errc::invalid_argument, fmt::format("opal {}: --opal-length {} runs past the drive's end ({} blocks "
                                                      "after the header)", device, seg.length, blocks - seg.start));
  }
  CipherSpec spec;
  if (Status s = CipherSpec::parse(opal.hw_opal_only ? "cipher_null-ecb" : options.cipher, options.key_bits, 512, &spec);
      !s.ok()) {
    return s;
  }

  if (Status s = confirm_destruction(batch, fmt::format("This will crypto-erase Opal locking range {} of {} and "
                                                        "overwrite its header irrevocably.", seg.range, device),
                                     "format " + device);
      !s.ok()) {
    return s;
  }
  SecureBytes admin_pw, passphrase;
  if (Status s = read_passphrase(opal.admin_key, fmt::format("Enter Opal Admin1 password for {}: ", device), Verify::no,
                                 &admin_pw);
      !s.ok()) {
    return s;
  }
  if (Status s = read_passphrase(passphrase_source, fmt::format("Enter passphrase for {}: ", device), Verify::yes,
                                 &passphrase);
      !s.ok()) {
    return s;
  }
  // hw-opal-only: the volume key only derives the range password; 256 bits like the
  // drive's own AES-256 media keys.
  SecureBytes volume_key, user_password;
  if (Status s = random_key(opal.hw_opal_only ? 32 : spec.key_bytes, &volume_key); !s.ok()) return s;
  if (Status s = derive_range_password(volume_key, &user_password); !s.ok()) return s;
  if (Status s = set_up_range(drive, Credential{Authority::admin(1), admin_pw}, seg, user_password); !s.ok()) return s;

  std::unique_ptr<HeaderWindow> window;
  if (Status s = HeaderWindow::open(*dev, seg.start * bs, false, &window); !s.ok()) return s;
  Status s = format_opal_header(window->path(), options, seg, volume_key, passphrase.view());
  if (s.ok()) s = window->commit();
  return name_device(s, *window, device);
}

// --- open / close ------------------------------------------------------------------------

OpalRangeHold::~OpalRangeHold() {
  if (unlocked_) (void)lock();
}

Status OpalRangeHold::open_storage(bool read_only, std::unique_ptr<Storage>* out) {
  return device_->open_storage(read_only, out);
}

Status OpalRangeHold::lock() {
  if (!unlocked_ || !segment_) return Status::Ok();
  Status s = device_->drive().lock(Credential{Authority::user(segment_->user), password_}, segment_->range);
  if (s.ok()) {
    unlocked_ = false;
    password_.reset();
  }
  return s;
}

Status unlock_backing_volume(const std::string& device, Passphrase passphrase, std::optional<int> keyslot,
                             UnlockedVolume* out, std::unique_ptr<OpalRangeHold>* hold, const std::string& header) {
  hold->reset();
  if (!header.empty()) return unlock_volume(device, passphrase, keyslot, out, header);
  const bool emulated = is_drive_image_path(device);
  OpalSegment seg;
  if (!emulated) {
    Status t = read_opal_segment(device, &seg);
    // Not ours (no token, LUKS1, no header at all): unlock_volume() says what it is.
    if (t.code() == Errc::not_found || (t.code() == Errc::corrupt && t.message().find("token") == std::string::npos)) {
      return unlock_volume(device, passphrase, keyslot, out);
    }
    if (!t.ok()) return t;
  }
  std::unique_ptr<OpalRangeHold> h(new OpalRangeHold);
  if (Status s = OpalDevice::open(device, &h->device_); !s.ok()) return s;
  std::unique_ptr<HeaderWindow> window;
  if (Status s = HeaderWindow::open(*h->device_, kDefaultHeaderWindow, true, &window); !s.ok()) return s;
  bool has_token = true;
  if (emulated) {
    Status t = read_opal_segment(window->path(), &seg);
    has_token = t.ok();
    if (!t.ok() && t.code() != Errc::not_found) return name_device(t, *window, device);
    // A header larger than the default (not made by us): widen the window to it.
    if (has_token && seg.start * seg.block_size > kDefaultHeaderWindow) {
      window.reset();
      if (Status s = HeaderWindow::open(*h->device_, seg.start * seg.block_size, true, &window); !s.ok()) return s;
    }
  }
  UnlockedVolume volume;
  if (Status s = unlock_volume(window->path(), passphrase, keyslot, &volume); !s.ok()) {
    return name_device(s, *window, device);
  }
  if (has_token) {
    if (volume.data_offset_bytes != seg.start * seg.block_size) {
      return Status(Errc::corrupt, fmt::format("device {}: data segment at byte {} but the Opal range starts at block "
                                               "{}", device, volume.data_offset_bytes, seg.start));
    }
    volume.size_bytes = seg.length * seg.block_size;
    if (Status s = derive_range_password(volume.key, &h->password_); !s.ok()) return s;
    Status s = h->device_->drive().unlock(Credential{Authority::user(seg.user), h->password_}, seg.range);
    if (!s.ok()) return s.in(fmt::format("unlock Opal range {} as User{}", seg.range, seg.user));
    h->segment_ = seg;
    h->unlocked_ = true;
    // cipher_null: the key only derived the password; the null session takes none.
    if (seg.hw_only()) volume.key.reset();
  }
  *out = std::move(volume);
  *hold = std::move(h);
  return Status::Ok();
}

}  // namespace ublkcrypt
