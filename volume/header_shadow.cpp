#include "volume/header_shadow.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <functional>
#include <nlohmann/json.hpp>

#include "engine/storage_sync.h"

namespace ublkcrypt {
namespace {

constexpr uint64_t kBlock = 4096;
constexpr uint32_t kChunk = 1u << 20;  // bytes per storage call

using Reader = std::function<Status(uint64_t offset, uint32_t length, uint8_t* buffer)>;

// An aligned buffer (a backing opened O_DIRECT needs 4096-byte alignment).
struct Buffer {
  explicit Buffer(size_t bytes)
      : data(static_cast<uint8_t*>(std::aligned_alloc(kBlock, std::max<size_t>(
                                                                  kBlock, (bytes + kBlock - 1) / kBlock * kBlock)))),
        size(bytes) {
    if (data != nullptr) std::memset(data, 0, bytes);
  }
  ~Buffer() { std::free(data); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  uint8_t* data;
  size_t size;
};

uint64_t be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}
uint32_t be32(const uint8_t* p) { return uint32_t(be64(p) >> 32); }

// Where a LUKS header's metadata lies, from its first bytes.
struct Layout {
  int version = 0;         // 0: no LUKS header
  uint64_t hdr_size = 0;   // LUKS2: one binary header + JSON area
  uint64_t area = 0;       // bytes from 0 that hold metadata (both copies and keyslots)
  std::vector<std::pair<uint64_t, uint64_t>> keyslot_areas;  // LUKS2: offset, size
};

uint64_t json_number(const nlohmann::json& j) {
  return j.is_string() ? std::stoull(j.get<std::string>()) : j.get<uint64_t>();
}

// Parses the JSON area of the copy at `base`; false if it is not valid JSON.
bool parse_json(const Reader& read, uint64_t base, uint64_t hdr_size, Layout* layout) {
  Buffer json(hdr_size - kBlock);
  if (json.data == nullptr || !read(base + kBlock, uint32_t(json.size), json.data).ok()) return false;
  const char* text = reinterpret_cast<const char*>(json.data);
  const auto doc = nlohmann::json::parse(text, text + strnlen(text, json.size), nullptr, false);
  if (doc.is_discarded()) return false;
  try {
    layout->area = 2 * hdr_size + json_number(doc.at("config").at("keyslots_size"));
    if (doc.contains("keyslots"))
      for (const auto& [id, slot] : doc.at("keyslots").items())
        if (slot.contains("area"))
          layout->keyslot_areas.emplace_back(json_number(slot["area"].at("offset")),
                                             json_number(slot["area"].at("size")));
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

Status read_layout(const Reader& read, uint64_t backing_size, Layout* layout) {
  *layout = {};
  if (backing_size < kBlock) return Status::Ok();
  Buffer first(kBlock);
  if (first.data == nullptr) return Status(Errc::no_memory, "header buffer");
  if (Status s = read(0, kBlock, first.data); !s.ok()) return s;
  static const uint8_t magic[6] = {'L', 'U', 'K', 'S', 0xba, 0xbe};
  if (std::memcmp(first.data, magic, 6) != 0) return Status::Ok();
  const unsigned version = (first.data[6] << 8) | first.data[7];
  if (version == 1) {
    layout->version = 1;
    layout->area = uint64_t(be32(first.data + 104)) * 512;  // payloadOffset
  } else if (version == 2) {
    const uint64_t hdr_size = be64(first.data + 8);
    // cryptsetup's allowed sizes: 16 KiB to 4 MiB, powers of two.
    if (hdr_size < 16384 || hdr_size > (4u << 20) || (hdr_size & (hdr_size - 1)) != 0)
      return Status::Ok();
    layout->version = 2;
    layout->hdr_size = hdr_size;
    if (!parse_json(read, 0, hdr_size, layout) && !parse_json(read, hdr_size, hdr_size, layout))
      layout->area = 2 * hdr_size;
  }
  layout->area = std::min((layout->area + kBlock - 1) / kBlock * kBlock, backing_size / kBlock * kBlock);
  return Status::Ok();
}

// Reads [0, length) in chunks.
Status read_all(const Reader& read, uint64_t length, uint8_t* out) {
  for (uint64_t done = 0; done < length;) {
    const uint32_t n = uint32_t(std::min<uint64_t>(kChunk, length - done));
    if (Status s = read(done, n, out + done); !s.ok()) return s;
    done += n;
  }
  return Status::Ok();
}

}  // namespace

HeaderShadow::HeaderShadow(Storage& storage, std::unique_ptr<StorageSync> io, int fd)
    : storage_(storage), io_(std::move(io)), fd_(fd) {}

HeaderShadow::~HeaderShadow() { ::close(fd_); }

std::string HeaderShadow::path() const { return fmt::format("/proc/self/fd/{}", fd_); }

Status HeaderShadow::load(Storage& storage, std::unique_ptr<HeaderShadow>* out) {
  const StorageInfo& info = storage.info();
  std::unique_ptr<StorageSync> io;
  if (Status s = StorageSync::open(storage, &io); !s.ok()) return s;
  const Reader from_backing = [&](uint64_t offset, uint32_t length, uint8_t* buffer) {
    return io->read(offset, length, buffer);
  };
  Layout layout;
  if (Status s = read_layout(from_backing, info.size_bytes, &layout); !s.ok()) return s;
  Buffer area(layout.area);
  if (area.data == nullptr) return Status(Errc::no_memory, "header of " + info.name);
  if (Status s = read_all(from_backing, layout.area, area.data); !s.ok()) return s;
  // memfd: mode 0600, on no filesystem, gone with the process; not sealed: libcryptsetup
  // writes to it.
  const int fd = ::memfd_create("ublkcrypt-luks-header", MFD_CLOEXEC);
  if (fd < 0) return errno_status("memfd for the header of " + info.name, errno);
  if (::ftruncate(fd, off_t(info.size_bytes)) < 0 ||
      ::pwrite(fd, area.data, layout.area, 0) != ssize_t(layout.area)) {
    const int err = errno;
    ::close(fd);
    return errno_status("copy the header of " + info.name, err);
  }
  out->reset(new HeaderShadow(storage, std::move(io), fd));
  return Status::Ok();
}

Status HeaderShadow::write_back() {
  const StorageInfo& info = storage_.info();
  const Reader from_shadow = [&](uint64_t offset, uint32_t length, uint8_t* buffer) {
    if (::pread(fd_, buffer, length, off_t(offset)) != ssize_t(length))
      return errno_status("read the header shadow of " + info.name, errno ? errno : EIO);
    return Status::Ok();
  };
  const Reader from_backing = [&](uint64_t offset, uint32_t length, uint8_t* buffer) {
    return io_->read(offset, length, buffer);
  };
  Layout now, before;
  if (Status s = read_layout(from_shadow, info.size_bytes, &now); !s.ok()) return s;
  if (Status s = read_layout(from_backing, info.size_bytes, &before); !s.ok()) return s;
  // Both extents: a header that shrank (or was erased) leaves old metadata to overwrite.
  const uint64_t extent = std::max(now.area, before.area);
  Buffer fresh(extent), old(extent);
  if (fresh.data == nullptr || old.data == nullptr)
    return Status(Errc::no_memory, "header of " + info.name);
  if (Status s = read_all(from_shadow, extent, fresh.data); !s.ok()) return s;
  if (Status s = read_all(from_backing, extent, old.data); !s.ok()) return s;

  // The step (see the header comment) each changed block belongs to.
  const auto step_of = [&](uint64_t block) {
    if (now.version != 2) return 1;
    if (block < now.hdr_size) return 3;
    if (block < 2 * now.hdr_size) return 2;
    for (auto [offset, size] : now.keyslot_areas)
      if (block >= offset && block < offset + size) return 1;
    return 4;
  };
  for (int step = 1; step <= 4; ++step) {
    bool wrote = false;
    for (uint64_t block = 0; block < extent; block += kBlock) {
      if (std::memcmp(fresh.data + block, old.data + block, kBlock) == 0 || step_of(block) != step)
        continue;
      // Runs of changed blocks of this step go out in one call each.
      uint64_t end = block + kBlock;
      while (end < extent && end - block < kChunk && step_of(end) == step &&
             std::memcmp(fresh.data + end, old.data + end, kBlock) != 0)
        end += kBlock;
      if (Status s = io_->write(block, uint32_t(end - block), fresh.data + block); !s.ok())
        return s.in("write the header back to " + info.name);
      wrote = true;
      block = end - kBlock;
    }
    if (wrote)
      if (Status s = io_->flush(); !s.ok()) return s.in("write the header back to " + info.name);
  }
  return Status::Ok();
}

}  // namespace ublkcrypt
