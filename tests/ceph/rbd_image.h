// What the rbd tests share: a fresh image on the test cluster (CEPH_CONF names it),
// removed at the end, and its bytes read past ublkcrypt through a librbd handle of the
// test's own, as another client would see them.
#pragma once

#include <doctest/doctest.h>
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace ublkcrypt::testing {

class TestImage {
 public:
  // `size` bytes, a name unique to this process and call.
  explicit TestImage(uint64_t size, const std::string& stem = "t") {
    static std::atomic<int> counter{0};
    name_ = stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    ::signal(SIGPIPE, SIG_IGN);  // as open_rbd_storage: librados may write to a closed socket
    REQUIRE(rados_create(&cluster_, nullptr) == 0);
    rados_conf_set(cluster_, "log_to_stderr", "false");
    REQUIRE_MESSAGE(rados_conf_read_file(cluster_, nullptr) == 0, "CEPH_CONF names no cluster");
    REQUIRE(rados_connect(cluster_) == 0);
    REQUIRE(rados_ioctx_create(cluster_, "rbd", &ioctx_) == 0);
    int order = 0;  // librbd's default: 4 MiB objects
    REQUIRE(rbd_create(ioctx_, name_.c_str(), size, &order) == 0);
    REQUIRE(rbd_open(ioctx_, name_.c_str(), &image_, nullptr) == 0);
  }
  ~TestImage() {
    rbd_close(image_);
    rbd_remove(ioctx_, name_.c_str());
    rados_ioctx_destroy(ioctx_);
    rados_shutdown(cluster_);
  }
  TestImage(const TestImage&) = delete;
  TestImage& operator=(const TestImage&) = delete;

  const std::string& name() const { return name_; }
  std::string spec() const { return "rbd:rbd/" + name_; }

  // Reads through this client's own handle (its cache holds nothing of the engine's).
  std::vector<uint8_t> read(uint64_t offset, size_t length) {
    std::vector<uint8_t> out(length);
    REQUIRE(rbd_read(image_, offset, length, reinterpret_cast<char*>(out.data())) ==
            ssize_t(length));
    return out;
  }
  void write(uint64_t offset, const std::vector<uint8_t>& data) {
    REQUIRE(rbd_write(image_, offset, data.size(), reinterpret_cast<const char*>(data.data())) ==
            ssize_t(data.size()));
    REQUIRE(rbd_flush(image_) == 0);
  }

 private:
  std::string name_;
  rados_t cluster_ = nullptr;
  rados_ioctx_t ioctx_ = nullptr;
  rbd_image_t image_ = nullptr;
};

}  // namespace ublkcrypt::testing
