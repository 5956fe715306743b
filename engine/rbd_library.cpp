#include "engine/rbd_library.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace ublkcrypt {
namespace {

// The sonames the Debian packages librados2 and librbd1 install.
constexpr const char* kLibrados = "librados.so.2";
constexpr const char* kLibrbd = "librbd.so.1";

Status open_library(const char* soname, void** handle) {
  // RTLD_NODELETE: librbd's threads and atexit handlers outlive any use of ours.
  *handle = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (*handle != nullptr) return Status::Ok();
  const char* why = ::dlerror();
  return Status(Errc::not_found, std::string("rbd images need ") + soname + " (Debian: librados2 and librbd1): " +
                                     (why != nullptr ? why : "not loadable"));
}

template <typename Call>
Status resolve(void* handle, const char* soname, const char* name, Call* call) {
  void* symbol = ::dlsym(handle, name);
  if (symbol == nullptr)
    return Status(Errc::not_found, std::string(soname) + " has no " + name + " (a librbd older than Debian 12's?)");
  *call = reinterpret_cast<Call>(symbol);
  return Status::Ok();
}

Status load(RbdLibrary* lib) {
  void* rados = nullptr;
  void* rbd = nullptr;
  if (Status s = open_library(kLibrados, &rados); !s.ok()) return s;
  if (Status s = open_library(kLibrbd, &rbd); !s.ok()) return s;
  Status s = Status::Ok();
  const auto take = [&s](void* handle, const char* soname, const char* name, auto* call) {
    if (s.ok()) s = resolve(handle, soname, name, call);
  };
#define UBLKCRYPT_RBD_FROM_RADOS(call) take(rados, kLibrados, #call, &lib->call);
#define UBLKCRYPT_RBD_FROM_RBD(call) take(rbd, kLibrbd, #call, &lib->call);
  UBLKCRYPT_RBD_LIBRADOS_CALLS(UBLKCRYPT_RBD_FROM_RADOS)
  UBLKCRYPT_RBD_LIBRBD_CALLS(UBLKCRYPT_RBD_FROM_RBD)
#undef UBLKCRYPT_RBD_FROM_RADOS
#undef UBLKCRYPT_RBD_FROM_RBD
  return s;
}

}  // namespace

Status load_rbd_library(const RbdLibrary** out) {
  static RbdLibrary library;
  static Status outcome;
  static std::once_flag once;
  std::call_once(once, [] { outcome = load(&library); });
  *out = &library;
  return outcome;
}

}  // namespace ublkcrypt
