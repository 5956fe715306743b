#include "volume/existing_content.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fmt/format.h>
#include <memory>
#include <vector>

#include "volume/luks_volume.h"

namespace ublkcrypt {

namespace {

// A signature: these bytes at this offset mean this content. Offsets from each format's
// on-disk specification (superblock positions).
struct Signature {
  const char* what;
  uint64_t offset;
  std::string_view magic;
};

constexpr Signature kSignatures[] = {
    {"an ext2/3/4 filesystem", 1024 + 56, std::string_view("\x53\xef", 2)},
    {"an xfs filesystem", 0, "XFSB"},
    {"a btrfs filesystem", 65536 + 64, "_BHRfS_M"},
    {"swap space", 4096 - 10, "SWAPSPACE2"},
    {"swap space", 4096 - 10, "SWAP-SPACE"},
    {"a LUKS header", 0, std::string_view("LUKS\xba\xbe", 6)},
};

constexpr size_t kProbeBytes = 65536 + 4096;

}  // namespace

Status describe_existing_content(const std::string& device, std::string* what) {
  what->clear();
  std::unique_ptr<LuksVolume> luks;
  if (LuksVolume::load(device, &luks).ok()) {
    *what = "a " + luks->type() + " header";
    return Status::Ok();
  }
  int fd = open(device.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status(fmt::format("device {}", device), errno);
  std::vector<char> head(kProbeBytes, 0);
  ssize_t got = pread(fd, head.data(), head.size(), 0);
  int err = errno;
  close(fd);
  if (got < 0) return errno_status(fmt::format("read {}", device), err);
  for (const Signature& sig : kSignatures) {
    if (sig.offset + sig.magic.size() > static_cast<uint64_t>(got)) continue;
    if (std::memcmp(head.data() + sig.offset, sig.magic.data(), sig.magic.size()) == 0) {
      *what = sig.what;
      return Status::Ok();
    }
  }
  return Status::Ok();
}

}  // namespace ublkcrypt
