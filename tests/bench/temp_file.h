// A temporary file of a given size, filled with a byte, removed at the end of the test.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace ublkcrypt {

class TempFile {
 public:
  explicit TempFile(uint64_t size, int fill = 0) {
    // /var/tmp: a disk filesystem with O_DIRECT, like a real backing.
    char name[] = "/var/tmp/ublkcrypt-bench-XXXXXX";
    int fd = ::mkstemp(name);
    path_ = name;
    std::vector<char> chunk(1 << 20, char(fill));
    for (uint64_t done = 0; done < size; done += chunk.size())
      if (::write(fd, chunk.data(), std::min<uint64_t>(chunk.size(), size - done)) < 0) break;
    ::close(fd);
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

  void write_at(uint64_t offset, const void* data, size_t n) const {
    int fd = ::open(path_.c_str(), O_WRONLY);
    (void)::pwrite(fd, data, n, off_t(offset));
    ::close(fd);
  }
  std::vector<char> read_at(uint64_t offset, size_t n) const {
    std::vector<char> out(n);
    int fd = ::open(path_.c_str(), O_RDONLY);
    (void)::pread(fd, out.data(), n, off_t(offset));
    ::close(fd);
    return out;
  }

 private:
  std::string path_;
};

}  // namespace ublkcrypt
