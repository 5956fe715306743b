#include "tools/serve/run_state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace ublkcrypt {

std::string run_dir() {
  const char* d = std::getenv("UBLKCRYPT_RUN_DIR");
  return d != nullptr && *d != '\0' ? d : "/run/ublkcrypt";
}
std::string dev_dir() {
  const char* d = std::getenv("UBLKCRYPT_DEV_DIR");
  return d != nullptr && *d != '\0' ? d : "/dev/ublkcrypt";
}
std::string state_path(const std::string& name) { return run_dir() + "/" + name + ".json"; }
std::string lock_path(const std::string& name) { return run_dir() + "/" + name + ".lock"; }
std::string socket_path(const std::string& name) { return run_dir() + "/" + name + ".sock"; }
std::string log_path(const std::string& name) { return run_dir() + "/" + name + ".log"; }
std::string link_path(const std::string& name) { return dev_dir() + "/" + name; }
std::string open_lock_path() { return run_dir() + "/.open.lock"; }

Status check_name(const std::string& name) {
  auto bad = [&](const char* why) {
    return Status(Errc::invalid_argument, "name '" + name + "': " + why);
  };
  if (name.empty()) return bad("empty");
  if (name.size() > 64) return bad("longer than 64 bytes");
  if (name[0] == '.' || name[0] == '-') return bad("must not start with '.' or '-'");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return bad("only letters, digits, '-', '_' and '.' are allowed");
  }
  return Status::Ok();
}

std::string to_json(const RunState& s) {
  nlohmann::json j = {
      {"name", s.name},           {"pid", s.pid},
      {"dev_id", s.dev_id},       {"device", s.device},
      {"backing", s.backing},     {"backing_path", s.backing_path},
      {"backing_dev", s.backing_dev}, {"backing_ino", s.backing_ino},
      {"header", s.header},       {"header_path", s.header_path},
      {"type", s.type},           {"cipher", s.cipher},
      {"key_bits", s.key_bits},   {"sector_size", s.sector_size},
      {"size_bytes", s.size_bytes}, {"data_offset", s.data_offset},
      {"iv_offset", s.iv_offset},
      {"backend", s.backend},     {"queues", s.queues},
      {"depth", s.depth},         {"read_only", s.read_only},
      {"allow_discards", s.allow_discards},
      {"recovery_timeout_s", s.recovery_timeout_s}, {"recoveries", s.recoveries},
  };
  return j.dump(2) + "\n";
}

Status from_json(const std::string& text, RunState* out) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return {Errc::corrupt, "state is not a JSON object"};
  try {
    RunState s;
    s.name = j.at("name").get<std::string>();
    s.pid = j.at("pid").get<pid_t>();
    s.dev_id = j.at("dev_id").get<uint32_t>();
    s.device = j.at("device").get<std::string>();
    s.backing = j.at("backing").get<std::string>();
    s.backing_path = j.value("backing_path", "");
    s.backing_dev = j.value("backing_dev", uint64_t{0});
    s.backing_ino = j.value("backing_ino", uint64_t{0});
    s.header = j.value("header", "");
    s.header_path = j.value("header_path", "");
    s.type = j.value("type", "");
    s.cipher = j.value("cipher", "");
    s.key_bits = j.value("key_bits", 0u);
    s.sector_size = j.value("sector_size", 512u);
    s.size_bytes = j.value("size_bytes", uint64_t{0});
    s.data_offset = j.value("data_offset", uint64_t{0});
    s.iv_offset = j.value("iv_offset", uint64_t{0});
    s.backend = j.value("backend", "");
    s.queues = j.value("queues", 0u);
    s.depth = j.value("depth", 0u);
    s.read_only = j.value("read_only", false);
    s.allow_discards = j.value("allow_discards", false);
    s.recovery_timeout_s = j.value("recovery_timeout_s", 0u);
    s.recoveries = j.value("recoveries", 0u);
    *out = std::move(s);
  } catch (const nlohmann::json::exception& e) {
    return {Errc::corrupt, std::string("state: ") + e.what()};
  }
  return Status::Ok();
}

Status require_luks_header(const RunState& state, const std::string& verb) {
  if (state.type != "plain" && state.type != "TCRYPT") return Status::Ok();
  return Status(Errc::invalid_argument, "Device " + state.name + " is a " + state.type +
                                            " volume: " + verb + " needs a LUKS header");
}

Status write_state(const RunState& state) {
  const std::string path = state_path(state.name);
  const std::string tmp = path + ".tmp";
  // Our own names: never follow a link planted there, never write into a file that exists.
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status("write " + tmp, errno);
  const std::string text = to_json(state);
  const bool written = ::write(fd, text.data(), text.size()) == ssize_t(text.size());
  const int err = errno;
  ::close(fd);
  if (!written) return errno_status("write " + tmp, err);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errno_status("rename " + tmp, errno);
  return Status::Ok();
}

Status read_state(const std::string& name, RunState* out) {
  const std::string path = state_path(name);
  std::ifstream f(path);
  if (!f) {
    if (errno == ENOENT) return {Errc::not_found, "Device " + name + " is not active"};
    return errno_status("read " + path, errno);
  }
  std::stringstream ss;
  ss << f.rdbuf();
  return from_json(ss.str(), out).in(path);
}

void remove_state(const std::string& name) {
  ::unlink(state_path(name).c_str());
  ::unlink(socket_path(name).c_str());
  // Only our own symlink: never delete something else someone put there.
  struct stat st;
  const std::string link = link_path(name);
  if (::lstat(link.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) ::unlink(link.c_str());
}

std::vector<std::string> state_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(run_dir(), ec)) {
    const auto& p = entry.path();
    if (p.extension() == ".json") names.push_back(p.stem().string());
  }
  return names;
}

NameLock::~NameLock() { release(); }
NameLock::NameLock(NameLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
NameLock& NameLock::operator=(NameLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

void NameLock::release() {
  if (fd_ >= 0) ::close(fd_);  // closing the last fd of the description drops the flock
  fd_ = -1;
}

static Status lock_impl(const std::string& path, int timeout_ms, NameLock* out, int* fd_out) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return errno_status("open " + path, errno);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err != EWOULDBLOCK && err != EINTR) {
      ::close(fd);
      return errno_status("lock " + path, err);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      return {timeout_ms == 0 ? Errc::busy : Errc::timeout, path + ": held by another process"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  out->release();
  *fd_out = fd;
  return Status::Ok();
}

Status NameLock::try_lock(const std::string& path, NameLock* out) {
  return lock_impl(path, 0, out, &out->fd_);
}

Status NameLock::lock(const std::string& path, int timeout_ms, NameLock* out) {
  return lock_impl(path, timeout_ms, out, &out->fd_);
}

bool name_is_served(const std::string& name) {
  int fd = ::open(lock_path(name).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

Status read_served_state(const std::string& name, RunState* out) {
  if (Status s = check_name(name); !s.ok()) return s;
  if (!name_is_served(name) || !read_state(name, out).ok())
    return Status(Errc::not_found, "Device " + name + " is not active");
  return Status::Ok();
}

}  // namespace ublkcrypt
