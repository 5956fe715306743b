// CryptoDevice: one DPDK crypto device, configured once per process, and its datapath.
//
// The device has a queue pair per submitting thread, as far as it has queue pairs: a thread
// is given one the first time it submits, round robin. Enqueue and dequeue on one queue
// pair are not thread-safe in DPDK, so each has a lock: submitters enqueue on theirs,
// the device's poller thread dequeues from all of them.
//
// A request is a run of sectors, one operation each (its own IV), carried in mbufs from
// the device's pool: the submitter copies each sector's input into an mbuf and enqueues
// the runs in bursts that gather the sectors of several requests, so small requests share
// a doorbell; what does not fit (queue pair or pools full) waits in the queue pair's
// backlog, which the poller enqueues as operations come back. Requests submitted from a
// completion on the poller thread wait there too, for the same poll. The poller copies
// each result into the request's dst and completes the request when its last sector is
// back, on the poller thread. It busy-polls while operations are in flight, backing off to
// short sleeps when the device is slow, and sleeps until the next submit when idle.
//
// Failure: an operation the device fails completes its request with io_error at once; the
// request's other operations are dropped when they come back, so nothing is written to
// dst after its completion. So does an operation the driver refuses to enqueue while
// nothing of its queue pair is in flight (a ring full of nothing, or an operation the
// driver never takes): no completion is coming to make room for it. A device that returns nothing for `deadline` while
// operations are in flight is taken as gone or hung: every request in it completes with
// timeout, and so does every later one. Operations it still holds keep their mbufs and
// the session's keys, never the consumer's buffers.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "backends/dpdk/device_cipher.h"
#include "backends/provider.h"

struct rte_mempool;

namespace ublkcrypt {

class DeviceSession;

struct CryptoDeviceOptions {
  std::chrono::milliseconds deadline{2000};
  unsigned max_queue_pairs = 16;
  unsigned descriptors = 1024;  // per queue pair (a power of two)
  unsigned mbufs = 4096;        // sectors in flight on the device at most
};

class CryptoDevice {
 public:
  // The process's device `name` (see find_crypto_device), configured and started on first
  // use with `options`; later calls get the same device (and ignore `options`). The device
  // is never stopped: EAL cannot be started again.
  static Status get(std::string_view name, const CryptoDeviceOptions& options, CryptoDevice** out);

  CryptoDevice(const CryptoDevice&) = delete;
  CryptoDevice& operator=(const CryptoDevice&) = delete;

  const std::string& who() const { return who_; }  // "dpdk:crypto_openssl"
  uint8_t id() const { return id_; }
  unsigned queue_pairs() const;
  rte_mempool* session_pool() const;

  // Starts every request of `session` (see the top of this file); completes them through
  // `callback`. Safe for concurrent use by multiple threads.
  void submit(const std::shared_ptr<DeviceSession>& session,
              std::span<CryptoRequest* const> requests, ProviderCallback* callback);

 private:
  struct State;
  CryptoDevice(std::string who, uint8_t id, std::unique_ptr<State> state);
  std::string who_;
  uint8_t id_;
  std::unique_ptr<State> state_;
};

}  // namespace ublkcrypt
