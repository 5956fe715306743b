// RbdLibrary: the librados and librbd calls the rbd backing makes, loaded with dlopen when the
// first image is opened. Linked in, the two libraries (and libceph-common beneath them) are
// most of every ublkcrypt process start, spent by the dynamic linker and Ceph's static
// initialisers, although most runs open no image: `ublkcrypt status`, a watchdog, a volume on
// a file. The prototypes still come from the libraries' headers, so a call through the table
// is checked as a direct call would be.
#pragma once

#include <rados/librados.h>
#include <rbd/librbd.h>

#include "base/status.h"

namespace ublkcrypt {

#define UBLKCRYPT_RBD_LIBRADOS_CALLS(X)                                                     \
  X(rados_create) X(rados_shutdown) X(rados_conf_set) X(rados_conf_read_file)               \
  X(rados_conf_parse_env) X(rados_connect) X(rados_ioctx_create) X(rados_ioctx_destroy)     \
  X(rados_ioctx_get_pool_name) X(rados_mon_command) X(rados_buffer_free)
#define UBLKCRYPT_RBD_LIBRBD_CALLS(X)                                                       \
  X(rbd_open) X(rbd_open_read_only) X(rbd_close) X(rbd_stat) X(rbd_get_size) X(rbd_read)   \
  X(rbd_encryption_load) X(rbd_aio_create_completion) X(rbd_aio_release)                    \
  X(rbd_aio_get_return_value) X(rbd_aio_read) X(rbd_aio_write) X(rbd_aio_discard)           \
  X(rbd_aio_flush)

struct RbdLibrary {
#define UBLKCRYPT_RBD_MEMBER(call) decltype(&::call) call = nullptr;
  UBLKCRYPT_RBD_LIBRADOS_CALLS(UBLKCRYPT_RBD_MEMBER)
  UBLKCRYPT_RBD_LIBRBD_CALLS(UBLKCRYPT_RBD_MEMBER)
#undef UBLKCRYPT_RBD_MEMBER
};

// Loads the libraries once per process (later calls return the first outcome); not_found,
// naming the library and dlerror's reason, when one is missing.
Status load_rbd_library(const RbdLibrary** out);

}  // namespace ublkcrypt
