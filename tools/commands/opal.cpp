// ublkcrypt opal ACTION DEVICE: manage a self-encrypting drive (TCG Opal 2) directly, as
// sedutil or `nvme sed` do. DEVICE is /dev/nvmeXnY (NVMe Security Send/Receive) or, in
// the test build only, emu:FILE (the emulated drive; `opal emu-create` makes one there:
// fixtures/test_build).
//
//   discover [--json]       Level 0 discovery: feature sets, locking state
//   setup                   take ownership (SID), activate the Locking SP (Admin1 gets the
//                           same password); with --length also configure --range
//   lock | unlock           a range, as Admin1 or --user N
//   status [--json]         discovery's locking state; with an admin password every range
//   erase-range             crypto erase (GenKey): the range's data becomes unreadable
//   revert                  SID revert: factory state, every range erased
//   psid-revert             the same with the PSID printed on the drive's label
//
// Passwords are asked on the terminal without echo, or read from --key-file (never argv).
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "backends/opal/drive.h"
#include "tools/command.h"
#include "tools/confirmation.h"
#include "tools/opal/opal_device.h"
#include "tools/passphrase.h"

namespace ublkcrypt {
namespace {

using opal::Authority;
using opal::Credential;

struct OpalArgs {
  std::string device;
  KeyFileOptions key;
  bool json = false;
  bool batch = false;
  uint32_t range = 1;
  uint32_t user = 0;  // 0: Admin1
  uint64_t start = 0, length = 0;
};

std::unique_ptr<OpalDevice> open_device(const std::string& path) {
  std::unique_ptr<OpalDevice> d;
  if (Status s = OpalDevice::open(path, &d); !s.ok()) fail(s);
  return d;
}

SecureBytes ask(const KeyFileOptions& key, const std::string& what, const std::string& device, Verify verify) {
  SecureBytes pw;
  if (Status s = read_passphrase(key, fmt::format("Enter {} for {}: ", what, device), verify, &pw); !s.ok()) fail(s);
  return pw;
}

void check(Status s) {
  if (!s.ok()) fail(s);
}

nlohmann::json discovery_json(const std::string& device, const opal::Discovery& d) {
  nlohmann::json features = nlohmann::json::array();
  for (uint16_t code : d.features) features.push_back({{"code", code}, {"name", opal::feature_name(code)}});
  return {{"device", device},
          {"opal", d.manageable()},
          {"ssc", d.ssc ? opal::feature_name(d.ssc) : "none"},
          {"feature_sets", d.feature_sets()},
          {"features", features},
          {"base_comid", d.base_comid},
          {"num_comids", d.num_comids},
          {"admin_authorities", d.admin_authorities},
          {"user_authorities", d.user_authorities},
          {"tper", {{"sync", d.tper.sync}, {"streaming", d.tper.streaming}, {"comid_mgmt", d.tper.comid_mgmt}}},
          {"locking",
           {{"supported", d.locking.supported},
            {"enabled", d.locking.enabled},
            {"locked", d.locking.locked},
            {"media_encryption", d.locking.media_encryption},
            {"mbr_enabled", d.locking.mbr_enabled},
            {"mbr_done", d.locking.mbr_done}}},
          {"geometry", {{"logical_block_size", d.geometry.logical_block_size}}}};
}

void run_discover(const OpalArgs& a) {
  auto dev = open_device(a.device);
  const opal::Discovery& d = dev->drive().discovery();
  if (a.json) {
    std::printf("%s\n", discovery_json(a.device, d).dump(2).c_str());
  } else {
    std::printf("%s: %s\n  feature sets: %s\n", a.device.c_str(),
                d.manageable() ? fmt::format("TCG {} drive", opal::feature_name(d.ssc)).c_str() : "no Opal",
                d.feature_sets().c_str());
    if (d.manageable()) {
      std::printf("  locking: %s, %s; admins %u, users %u; base ComID 0x%04X\n",
                  d.locking.enabled ? "enabled" : "not enabled", d.locking.locked ? "locked" : "unlocked",
                  d.admin_authorities, d.user_authorities, d.base_comid);
    }
  }
  // Scripts test the exit code: a drive we cannot manage is "wrong device".
  if (!d.manageable()) {
    fail(Status(Errc::unsupported, fmt::format("opal {}: no Opal or Ruby feature set (drive reports: {})", a.device,
                                               d.feature_sets())));
  }
}

void run_setup(const OpalArgs& a) {
  auto dev = open_device(a.device);
  opal::Drive& drive = dev->drive();
  SecureBytes pw = ask(a.key, "new Opal SID/Admin1 password", a.device, Verify::yes);
  Status s = drive.take_ownership(pw);
  // Owned already (by this password, it turns out below): setup continues, so that it can
  // be rerun to add a range.
  if (!s.ok() && s.message().find("already owned") == std::string::npos) fail(s);
  check(drive.activate_locking(pw));
  // activate_locking accepts an active SP without signing in: prove the password here.
  opal::LockingRange global;
  check(drive.read_range(Credential{Authority::admin(1), pw}, 0, &global));
  if (a.length != 0) {
    opal::RangeSetup r;
    r.index = a.range;
    r.start = a.start;
    r.length = a.length;
    check(drive.setup_range(Credential{Authority::admin(1), pw}, r));
    std::printf("%s: owned, Locking SP active, range %u = [%llu, %llu) read/write lock enabled\n", a.device.c_str(),
                a.range, (unsigned long long)a.start, (unsigned long long)(a.start + a.length));
  } else {
    std::printf("%s: owned, Locking SP active\n", a.device.c_str());
  }
}

Credential who(const OpalArgs& a, const SecureBytes& pw) {
  return Credential{a.user ? Authority::user(a.user) : Authority::admin(1), pw};
}

void run_lock(const OpalArgs& a, opal::LockState state) {
  auto dev = open_device(a.device);
  SecureBytes pw = ask(a.key, a.user ? fmt::format("Opal User{} password", a.user) : "Opal Admin1 password", a.device,
                       Verify::no);
  check(dev->drive().set_lock_state(who(a, pw), a.range, state));
}

void run_status(const OpalArgs& a) {
  auto dev = open_device(a.device);
  opal::Drive& drive = dev->drive();
  const opal::Discovery& d = drive.discovery();
  if (!d.manageable()) {
    fail(Status(Errc::unsupported, fmt::format("opal {}: no Opal or Ruby feature set (drive reports: {})", a.device,
                                               d.feature_sets())));
  }
  bool active = false;
  check(drive.locking_active(&active));
  std::vector<opal::LockingRange> ranges;
  const bool detail = !a.key.key_file.empty();
  if (detail && active) {
    SecureBytes pw = ask(a.key, "Opal Admin1 password", a.device, Verify::no);
    check(drive.read_ranges(Credential{Authority::admin(1), pw}, &ranges));
  }
  if (a.json) {
    nlohmann::json j = {{"device", a.device},
                        {"locking_sp_active", active},
                        {"locking_enabled", d.locking.enabled},
                        {"locked", d.locking.locked},
                        {"mbr_enabled", d.locking.mbr_enabled}};
    nlohmann::json rs = nlohmann::json::array();
    for (const auto& r : ranges) {
      rs.push_back({{"range", r.index},
                    {"start", r.start},
                    {"length", r.length},
                    {"read_lock_enabled", r.read_lock_enabled},
                    {"write_lock_enabled", r.write_lock_enabled},
                    {"read_locked", r.read_locked},
                    {"write_locked", r.write_locked}});
    }
    if (detail) j["ranges"] = rs;
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%s: Locking SP %s, locking %s, %s\n", a.device.c_str(), active ? "active" : "inactive",
              d.locking.enabled ? "enabled" : "not enabled", d.locking.locked ? "locked" : "unlocked");
  for (const auto& r : ranges) {
    if (r.index != 0 && r.length == 0) continue;
    std::printf("  %s: read %s write %s\n",
                r.index == 0 ? "global range"
                             : fmt::format("range {}: [{}, {})", r.index, r.start, r.start + r.length).c_str(),
                !r.read_lock_enabled ? "unlockable" : r.read_locked ? "LOCKED" : "unlocked",
                !r.write_lock_enabled ? "unlockable" : r.write_locked ? "LOCKED" : "unlocked");
  }
}

void confirm(const OpalArgs& a, const std::string& what) {
  check(confirm_destruction(a.batch, fmt::format("This will {} on {} irrevocably.", what, a.device),
                            "opal " + a.device));
}

void run_erase_range(const OpalArgs& a) {
  auto dev = open_device(a.device);
  confirm(a, fmt::format("crypto-erase every block of Opal range {}", a.range));
  SecureBytes pw = ask(a.key, "Opal Admin1 password", a.device, Verify::no);
  check(dev->drive().erase_range(Credential{Authority::admin(1), pw}, a.range));
}

void run_revert(const OpalArgs& a, bool psid) {
  auto dev = open_device(a.device);
  confirm(a, "return the drive to factory state and erase all its data");
  SecureBytes pw = ask(a.key, psid ? "the PSID from the drive's label" : "Opal SID password", a.device, Verify::no);
  check(psid ? dev->drive().psid_revert(pw) : dev->drive().revert(pw));
}

// Adds one action with DEVICE and the password source.
CLI::App* action(CLI::App* opal, const char* name, const char* help, OpalArgs* a, const char* key_help) {
  auto* cmd = opal->add_subcommand(name, help);
  cmd->add_option("device", a->device, "/dev/nvmeXnY (emu:FILE in the test build)")->required();
  if (key_help) cmd->add_option("--key-file,-d", a->key.key_file, key_help);
  return cmd;
}

}  // namespace

UBLKCRYPT_COMMAND("opal", 60, [](CLI::App& app) {
  auto* opal = app.add_subcommand("opal", "Manage a self-encrypting drive (TCG Opal): discover, setup, lock, ...");
  opal->require_subcommand(1);
  auto a = std::make_shared<OpalArgs>();
  const char* admin = "file with the Opal Admin1 password (- = stdin; default: ask)";

  auto* discover = action(opal, "discover", "Level 0 discovery: feature sets and locking state", a.get(), nullptr);
  discover->add_flag("--json", a->json, "machine-readable output");
  discover->callback([a] { run_discover(*a); });

  auto* setup = action(opal, "setup", "Take ownership, activate locking; with --length set up a range", a.get(),
                       "file with the new SID/Admin1 password (- = stdin; default: ask twice)");
  setup->add_option("--range", a->range, "locking range to set up")->capture_default_str();
  setup->add_option("--start", a->start, "first block of the range");
  setup->add_option("--length", a->length, "blocks in the range (0: no range)");
  setup->callback([a] { run_setup(*a); });

  for (auto [name, state] : {std::pair{"lock", opal::LockState::locked}, std::pair{"unlock", opal::LockState::read_write}}) {
    auto* cmd = action(opal, name, state == opal::LockState::locked ? "Lock a range" : "Unlock a range (read/write)",
                       a.get(), "file with the password of Admin1 or --user (- = stdin; default: ask)");
    cmd->add_option("--range", a->range, "locking range")->capture_default_str();
    cmd->add_option("--user", a->user, "sign in as UserN instead of Admin1");
    cmd->callback([a, state] { run_lock(*a, state); });
  }

  auto* status = action(opal, "status", "Locking state; every range's with --key-file (Admin1)", a.get(), admin);
  status->add_flag("--json", a->json, "machine-readable output");
  status->callback([a] { run_status(*a); });

  auto* erase = action(opal, "erase-range", "Crypto erase (GenKey) a range: its data becomes unreadable", a.get(), admin);
  erase->add_option("--range", a->range, "locking range")->capture_default_str();
  erase->add_flag("--batch-mode,-q", a->batch, "do not ask for confirmation");
  erase->callback([a] { run_erase_range(*a); });

  auto* revert = action(opal, "revert", "Factory state with the SID password (erases everything)", a.get(),
                        "file with the SID password (- = stdin; default: ask)");
  revert->add_flag("--batch-mode,-q", a->batch, "do not ask for confirmation");
  revert->callback([a] { run_revert(*a, false); });

  auto* psid = action(opal, "psid-revert", "Factory state with the PSID from the label (erases everything)", a.get(),
                      "file with the PSID (- = stdin; default: ask)");
  psid->add_flag("--batch-mode,-q", a->batch, "do not ask for confirmation");
  psid->callback([a] { run_revert(*a, true); });
});

}  // namespace ublkcrypt
