// The DPDK environment (EAL) of this process, started on first use.
//
// EAL is process-global and starts once: ublkcrypt starts it only when a dpdk session or a
// listing of DPDK devices is first asked for, so users of the other providers never run
// it. Its arguments: UBLKCRYPT_DPDK_EAL_ARGS (split at white space) when set, e.g.
// "-a 0000:00:04.0 -m 256" for a PCI card; otherwise "--no-huge --no-pci -m 128", enough
// for the virtual devices (crypto_openssl, crypto_null) the host tests use. ublkcrypt adds
// options that keep this process to itself and quiet: no shared configuration files, no
// telemetry socket, log level critical (a later --log-level in the variable wins), and
// the first CPU the process may run on as EAL's only lcore.
//
// Devices: a virtual device driver's name (crypto_openssl, crypto_null, crypto_aesni_mb)
// is probed when first asked for, also after EAL started; a PCI card must be on the bus
// EAL scanned at start (UBLKCRYPT_DPDK_EAL_ARGS without --no-pci).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ublkcrypt {

inline constexpr const char* kDpdkEalArgsVariable = "UBLKCRYPT_DPDK_EAL_ARGS";

// Whether the user configured DPDK (UBLKCRYPT_DPDK_EAL_ARGS is set): listings and sessions
// that name no device may then start EAL.
bool dpdk_configured();

// The arguments EAL gets (without the program name), from `variable` (the value of
// UBLKCRYPT_DPDK_EAL_ARGS, "" when unset) and the CPU EAL's lcore runs on.
std::vector<std::string> eal_arguments(std::string_view variable, unsigned cpu);

// Starts EAL once; later calls return the first call's result. Safe for concurrent use.
// The calling thread keeps its CPU affinity (EAL would pin it to its lcore).
Status start_eal();

// The identifier of crypto device `name` (a cryptodev name, or its bus device name such
// as a PCI address), probing a virtual device that is not there yet. Starts EAL.
// Errors name the device: "dpdk:crypto_foo: no such crypto device (...)".
Status find_crypto_device(std::string_view name, uint8_t* id);

struct CryptoDeviceListing {
  uint8_t id = 0;
  std::string name;    // what dpdk:DEVICE takes
  std::string driver;  // the PMD: crypto_openssl, crypto_qat, crypto_virtio ...
  unsigned max_queue_pairs = 0;
};

// The crypto devices present, in identifier order. Starts EAL.
Status list_crypto_devices(std::vector<CryptoDeviceListing>* out);

}  // namespace ublkcrypt
