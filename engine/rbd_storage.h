// RbdStorage: a Ceph RBD image as the backing, through librbd's asynchronous C API.
// Named `rbd:POOL/IMAGE` wherever a backing path is accepted.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "engine/storage.h"

namespace ublkcrypt {

struct RbdStorageOptions {
  bool read_only = false;
  // A ceph.conf; empty: $CEPH_CONF, then Ceph's default places (/etc/ceph/ceph.conf...).
  // One named here or in $CEPH_CONF that cannot be read fails the open, naming it.
  std::string ceph_conf;
  // The cephx user without "client." (as `rbd --id`); empty: CEPH_ARGS' --id (or --user,
  // --name client.X), else admin. (`ublkcrypt --ceph-conf/--ceph-id` set the environment.)
  std::string ceph_id;
  // Seconds an operation on an OSD may take before it fails with ETIMEDOUT (librados's
  // rados_osd_op_timeout; the conf and CEPH_ARGS, read after, may say otherwise, 0 waiting
  // for ever as krbd does). A block device under a filesystem wants an error it can act
  // on, not a hang, but not for a routine OSD failure either: the cluster marks a dead OSD
  // down after its 20 s heartbeat grace and its placement groups peer elsewhere within
  // seconds, so 60 s outlasts that with room, and still ends before the kernel's 120 s
  // hung-task warning would be the first sign of a stuck cluster.
  unsigned osd_timeout_s = 60;
  // Ceph options set after the conf and CEPH_ARGS, so nothing overrides them: `bench rbd`
  // measures msgr2's secure mode (ms_client_mode=secure) beside crc this way.
  std::vector<std::pair<std::string, std::string>> ceph_overrides;
  // Not empty: the image is read and written through librbd's own LUKS encryption
  // (rbd_encryption_load, LUKS1 or LUKS2 as the header says), unlocked with this
  // passphrase, and its size is what that layer serves. `bench rbd`'s baseline; a volume
  // ublkcrypt serves never uses it.
  std::span<const uint8_t> librbd_luks_passphrase;
};

// True for a backing name of the form rbd:...; such a name is never a path.
bool is_rbd_name(const std::string& name);

// Parses rbd:POOL/IMAGE. Refuses (one line naming the spec) an empty pool or image and
// a name with more parts (namespaces and snapshots are not supported yet).
Status parse_rbd_name(const std::string& name, std::string* pool, std::string* image);

// Connects to the cluster and opens the image. Refuses in one line naming the image: a bad
// name (invalid_argument), no cluster answering within client_mount_timeout (15 s unless
// the conf or CEPH_ARGS say otherwise; not_found), auth refused (permission), no such pool
// or image (not_found), an image shorter than 512 bytes.
//
// All queues share the image handle (librbd's aio calls are thread-safe). Completions
// arrive on librbd's threads; each queue's callback only appends to a mutex-guarded list
// and signals an eventfd whose read is armed on the queue thread's ring, so storage_done
// runs on the queue thread in reap(), with no thread per I/O.
Status open_rbd_storage(const std::string& name, const RbdStorageOptions& options,
                        std::unique_ptr<Storage>* out);

// The image's object size in bytes (4 MiB by default): a LUKS2 data offset aligned to it
// keeps every data object free of header bytes, as librbd's own LUKS2 format does.
uint64_t rbd_object_size(const Storage& storage);

// How many copies the image's pool keeps (its `size`), asked of the monitors; 0 for a
// storage that is no rbd image or when the monitors do not say.
unsigned rbd_pool_replicas(const Storage& storage);

}  // namespace ublkcrypt
