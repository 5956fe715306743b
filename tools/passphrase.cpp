#include "tools/passphrase.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>

namespace ublkcrypt {

namespace {

constexpr size_t kKeyFileMax = 8 << 20;     // cryptsetup's default --keyfile-size limit
constexpr size_t kTerminalMax = 512;        // cryptsetup's interactive passphrase limit

Status key_file_error(const std::string& name, int err) {
  return Status(Errc::invalid_argument, fmt::format("key file {}: {}", name, std::strerror(err)));
}

// Reads up to `limit` bytes from `fd` into `out`, stopping early at `stop` (if >= 0).
Status read_bytes(int fd, const std::string& name, size_t limit, int stop, SecureBytes* out,
                  size_t* got) {
  *got = 0;
  while (*got < limit) {
    uint8_t c[1];
    uint8_t* at = out->data() + *got;
    // Byte-wise only when a line ends the input: never read past the newline, since the
    // next line may be the next passphrase.
    size_t want = stop >= 0 ? 1 : limit - *got;
    ssize_t n = ::read(fd, stop >= 0 ? c : at, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return key_file_error(name, errno);
    if (n == 0) break;
    if (stop >= 0) {
      if (c[0] == stop) break;
      *at = c[0];
      secure_wipe(c, 1);
    }
    *got += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Reads up to `limit` bytes into a locked buffer that grows as they arrive, doubling from
// one page: a key file is usually a few bytes and its default limit is 8 MiB, and locked
// memory is scarce (RLIMIT_MEMLOCK is 8 MiB on Debian): only what the key needs is locked.
// Each outgrown buffer is wiped as it is released.
Status read_growing(int fd, const std::string& name, size_t limit, SecureBytes* out, size_t* got) {
  *got = 0;
  size_t capacity = std::min<size_t>(limit, 4096);
  if (Status s = SecureBytes::allocate(capacity, out); !s.ok()) return s;
  for (;;) {
    if (*got == capacity) {
      if (capacity == limit) break;
      const size_t next = std::min(limit, capacity * 2);
      SecureBytes bigger;
      if (Status s = SecureBytes::allocate(next, &bigger); !s.ok()) return s;
      std::memcpy(bigger.data(), out->data(), *got);
      *out = std::move(bigger);
      capacity = next;
    }
    ssize_t n = ::read(fd, out->data() + *got, capacity - *got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return key_file_error(name, errno);
    if (n == 0) break;
    *got += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status skip_bytes(int fd, const std::string& name, uint64_t count) {
  if (count == 0) return Status::Ok();
  if (::lseek(fd, static_cast<off_t>(count), SEEK_CUR) >= 0) return Status::Ok();
  char sink[4096];
  while (count > 0) {
    ssize_t n = ::read(fd, sink, std::min<uint64_t>(sizeof sink, count));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return key_file_error(name, errno);
    if (n == 0) return Status(Errc::invalid_argument,
                              fmt::format("key file {}: shorter than --keyfile-offset", name));
    count -= static_cast<uint64_t>(n);
  }
  secure_wipe(sink, sizeof sink);
  return Status::Ok();
}

// Reads the key file after --keyfile-offset: `size` bytes, all of which must be there, or
// (size 0) the whole file up to the 8 MiB limit. `size_from` says in a shortness error what
// asked for that many.
Status read_key_file(const KeyFileOptions& o, uint64_t size, const std::string& size_from, SecureBytes* out) {
  const bool is_stdin = o.key_file == "-";
  const std::string name = is_stdin ? "(stdin)" : o.key_file;
  int fd = is_stdin ? STDIN_FILENO : ::open(o.key_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return key_file_error(name, errno);
  const size_t limit = size != 0 ? size : kKeyFileMax;
  size_t got = 0;
  Status s = size > kKeyFileMax
                 ? Status(Errc::invalid_argument,
                          fmt::format("{}: above the 8 MiB limit", size_from))
                 : skip_bytes(fd, name, o.keyfile_offset);
  if (s.ok()) s = read_growing(fd, name, limit, out, &got);
  if (!is_stdin) ::close(fd);
  if (s.ok() && size != 0 && got < size)
    s = Status(Errc::invalid_argument,
               fmt::format("key file {}: {} bytes, shorter than {}", name, got, size_from));
  if (s.ok() && got == 0)
    s = Status(Errc::invalid_argument, fmt::format("key file {}: empty", name));
  if (!s.ok()) {
    out->reset();
    return s;
  }
  out->truncate(got);
  return Status::Ok();
}

// One line from the terminal with echo off.
Status ask(int tty, const std::string& prompt, SecureBytes* out) {
  (void)!::write(tty, prompt.data(), prompt.size());
  termios old{};
  bool restore = ::tcgetattr(tty, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(tty, TCSAFLUSH, &quiet);
  }
  size_t got = 0;
  Status s = SecureBytes::allocate(kTerminalMax, out);
  if (s.ok()) s = read_bytes(tty, "(terminal)", kTerminalMax, '\n', out, &got);
  if (restore) ::tcsetattr(tty, TCSAFLUSH, &old);
  (void)!::write(tty, "\n", 1);
  if (!s.ok()) {
    out->reset();
    return s;
  }
  out->truncate(got);
  return Status::Ok();
}

Status ask_on_terminal(const std::string& prompt, Verify verify, SecureBytes* out) {
  Status s = ask(STDIN_FILENO, prompt, out);
  if (!s.ok() || verify == Verify::no) return s;
  SecureBytes again;
  s = ask(STDIN_FILENO, "Verify passphrase: ", &again);
  if (s.ok() && (again.size() != out->size() ||
                 std::memcmp(again.data(), out->data(), out->size()) != 0))
    s = Status(Errc::invalid_argument, "passphrases do not match");
  if (!s.ok()) out->reset();
  return s;
}

}  // namespace

void add_key_file_options(CLI::App* cmd, KeyFileOptions* o, std::vector<std::string>* key_files) {
  const char* help = "read the passphrase from this file (- = standard input), never from argv";
  if (key_files != nullptr)
    cmd->add_option("--key-file,-d", *key_files, help)->allow_extra_args(false);
  else
    cmd->add_option("--key-file,-d", o->key_file, help);
  cmd->add_option("--keyfile-size,-l", o->keyfile_size,
                  "read at most this many bytes from the key file (default: whole file)");
  cmd->add_option("--keyfile-offset", o->keyfile_offset, "skip this many bytes of the key file");
}

void add_new_key_file_options(CLI::App* cmd, KeyFileOptions* o) {
  cmd->add_option("--new-keyfile", o->key_file,
                  "read the new passphrase from this file (- = standard input)");
  cmd->add_option("--new-keyfile-size", o->keyfile_size,
                  "read at most this many bytes from the new key file");
  cmd->add_option("--new-keyfile-offset", o->keyfile_offset,
                  "skip this many bytes of the new key file");
}

Status read_passphrase(const KeyFileOptions& source, const std::string& prompt, Verify verify,
                       SecureBytes* out) {
  if (!source.key_file.empty())
    return read_key_file(source, source.keyfile_size, fmt::format("--keyfile-size {}", source.keyfile_size), out);
  if (::isatty(STDIN_FILENO)) return ask_on_terminal(prompt, verify, out);
  // Not a terminal: one line from standard input, as cryptsetup reads a piped passphrase.
  size_t got = 0;
  Status s = SecureBytes::allocate(kTerminalMax, out);
  if (s.ok()) s = read_bytes(STDIN_FILENO, "(stdin)", kTerminalMax, '\n', out, &got);
  if (s.ok() && got == 0)
    s = Status(Errc::invalid_argument,
               "no passphrase on standard input (use --key-file FILE, or a terminal)");
  if (!s.ok()) {
    out->reset();
    return s;
  }
  out->truncate(got);
  return Status::Ok();
}

Status read_raw_key(const KeyFileOptions& source, size_t bytes, const std::string& needed_by, SecureBytes* out) {
  return read_key_file(source, bytes, needed_by, out);
}

}  // namespace ublkcrypt
