// Crypttab: the volumes `attach-all` opens and `detach-all` closes, read from a file in
// crypttab(5)'s format (default /etc/ublkcrypt/crypttab), one volume a line:
//
//   # NAME   DEVICE                                     KEYFILE            OPTIONS
//   data     UUID=0b1c...                               /etc/keys/data.key luks,discard
//   scratch  /dev/sdb                                   /etc/keys/sdb.key  plain,cipher=aes-xts-plain64,size=512,offset=2048
//   backup   /dev/sdc                                   none               luks,noauto
//
// DEVICE is a path or UUID=... (resolve_crypttab_device). KEYFILE "none", "-" or absent
// means the passphrase is asked for. OPTIONS are comma-separated; those understood here are
// crypttab's: luks, header= (a detached LUKS header), plain, cipher=, size= (key bits), hash=,
// offset=, skip=, sector-size=, tcrypt (KEYFILE then holds the passphrase), tcrypt-keyfile=
// (a TrueCrypt keyfile, repeatable), tcrypt-hidden, tcrypt-system, tcrypt-veracrypt,
// veracrypt-pim=, readonly/read-only, discard, noauto, nofail, keyfile-offset=,
// keyfile-size=, and tries= (read and ignored: a boot without a terminal asks nothing). Without `plain` a line is
// LUKS (the header says the version); cipher, size, hash, offset and skip describe plain
// volumes only, as in crypttab, where a LUKS header holds them.
//
// A line that is not understood (an unknown option, a bad number, too few fields) is kept
// with its error, so the verbs report it by file and line and do nothing for it while the
// other lines go on.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tools/serve/volume_server.h"

namespace ublkcrypt {

inline constexpr const char* kDefaultCrypttab = "/etc/ublkcrypt/crypttab";

struct CrypttabEntry {
  std::string where;  // "FILE:LINE", for messages
  // Not ok: the line is not understood ("FILE:LINE: unknown option 'x'"); nothing below
  // is meaningful.
  Status error;
  // name, device (as written: a path or UUID=...), key file ("" = ask), type, plain
  // parameters, read-only, discards: what `open` takes for this line.
  OpenOptions open;
  bool noauto = false;  // attach-all passes it by
  bool nofail = false;  // its failure does not fail attach-all or detach-all
};

// Every volume line of `text` (the contents of `file`), in order; comments (#) and blank
// lines are not entries.
std::vector<CrypttabEntry> parse_crypttab(std::string_view text, const std::string& file);

// Reads and parses `file`. not_found / permission when it cannot be read.
Status read_crypttab(const std::string& file, std::vector<CrypttabEntry>* out);

// The path DEVICE names: a path as is; UUID=U as /dev/disk/by-uuid/U under `by_uuid_dir`
// when udev made that link, else the block device whose filesystem or LUKS UUID is U, as
// libblkid finds it (a boot without udev, a VM). not_found naming the UUID when neither does.
Status resolve_crypttab_device(const std::string& device, const std::string& by_uuid_dir, std::string* out);

}  // namespace ublkcrypt
