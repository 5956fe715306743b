// The crypto provider interface, shaped like OpenBSD crypto(9).
//
// A Provider is one place that can run a cipher (host CPU, a card behind the kernel crypto
// API, the drive itself). A consumer never picks one directly: it asks the Registry
// (registry.h) for a Session by cipher, and the Session binds to the best provider and
// moves to the next one when a provider fails. Providers produce bit-identical output
// (dm-crypt's), so that move is invisible to the block device.
//
// Work is a CryptoRequest: one contiguous run of sectors. Requests are submitted in batches
// and complete asynchronously through a callback that may run on any thread.
//
// The contract that makes failover safe: a request either completes whole, or its input is
// exactly as it was, so the retry on the next provider transforms every sector once.
//   - Runs are out of place: a provider reads src and writes dst, and never writes src.
//     What a failed request left in dst is undefined; the retry rewrites all of it, and
//     the consumer reads dst only after success. The engine keeps it with per-request
//     bounce buffers (engine/bounce_buffers.h).
//   - In place (src == dst) is kept for the identity cipher (cipher_null: a run applied to
//     k of its n sectors, twice, or once is the same) and for runs whose session does not
//     fail over (a benchmark of one provider). A Session never retries a failed in-place
//     run of any other cipher: it may be partly transformed, so it fails for real.
// A provider may complete sectors in any order and copy each into dst as it finishes:
// nothing about a partial dst is promised.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/cipher_spec.h"
#include "base/status.h"

namespace ublkcrypt {

enum class Placement {
  host_cpu,        // cipher runs on the host's cores (data stays in host memory)
  lookaside_card,  // data crosses the bus to a card and back
  inline_device,   // the storage device encrypts as data passes (self-encrypting drive)
};
const char* placement_name(Placement p);

enum class Direction { encrypt, decrypt };

// One contiguous run of sectors. src and dst must not overlap at all, or be the same buffer
// (in place: see the contract above). Length is sector_count * session sector size.
struct SectorRun {
  Direction direction = Direction::encrypt;
  const uint8_t* src = nullptr;
  uint8_t* dst = nullptr;
  uint64_t first_sector = 0;  // in sector_size units from the start of the decrypted device
  uint32_t sector_count = 0;
};

class CryptoRequest;

// Called exactly once per request, from any thread, when the request is done.
class CryptoCompletion {
 public:
  virtual void crypto_done(CryptoRequest* request, Status status) = 0;

 protected:
  ~CryptoCompletion() = default;
};

// A request owned by the consumer (typically in a per-queue array indexed by tag: nothing
// is allocated per request). The consumer fills `run` and `completion`; the rest belongs
// to the framework while the request is in flight.
class CryptoRequest {
 public:
  SectorRun run;
  CryptoCompletion* completion = nullptr;

  // Framework-private bookkeeping: which session generation it was sent to, tries so far.
  uint64_t generation = 0;
  uint32_t attempts = 0;
};

// Bytes a provider moved, for the bench (the OCF paper's accounting). Monotonic counters,
// updated by the provider, read by anyone.
struct ProviderCounters {
  std::atomic<uint64_t> requests{0};       // CryptoRequests completed
  std::atomic<uint64_t> payload_bytes{0};  // user data encrypted or decrypted
  std::atomic<uint64_t> bytes_to_device{0};    // sent over the bus to a card/drive
  std::atomic<uint64_t> bytes_from_device{0};  // received back from it
  std::atomic<uint64_t> copy_bytes{0};     // extra host memory copies made
  std::atomic<uint64_t> errors{0};         // requests that failed here
};

struct ProviderInfo {
  std::string name;          // "software", "kernel", "opal"
  std::string description;   // one line: "OpenSSL EVP (AES-NI/VAES), 2 worker threads"
  Placement placement = Placement::host_cpu;
  bool asynchronous = true;  // completes on another thread / device
  int priority = 0;          // higher is preferred when the consumer names no provider
};

// Where the provider completes requests. Providers call it; the framework (Session)
// implements it to intercept failures before the consumer sees them.
class ProviderCallback {
 public:
  virtual void provider_done(CryptoRequest* request, Status status) = 0;

 protected:
  ~ProviderCallback() = default;
};

// A cipher + key bound to one provider.
class ProviderSession {
 public:
  virtual ~ProviderSession() = default;
  ProviderSession(const ProviderSession&) = delete;
  ProviderSession& operator=(const ProviderSession&) = delete;

  // Starts every request; each completes later through `callback` (possibly before submit
  // returns, possibly on another thread). A provider that fails (error, device gone, missed
  // deadline) completes the request with a non-ok Status and never blocks the caller on a
  // dead device. Safe for concurrent use by multiple threads.
  virtual void submit(std::span<CryptoRequest* const> requests, ProviderCallback* callback) = 0;

  // Runs some of the provider's queued work on the calling thread, for a thread that would
  // otherwise sleep until its requests complete; false at once if there is none it may
  // run. Completions it runs call back on this thread. A provider whose work runs on a
  // device has none: the default. Safe for concurrent use by multiple threads.
  virtual bool help() { return false; }

  // Lets runs of at most `bytes` complete on the submitting thread, inside submit(): for a
  // submitter whose time a handoff (a wakeup there, a wakeup back) costs more than a small
  // run's cipher, such as a queue thread with storage I/O of its own to send. 0, the
  // default: every run goes where the provider runs its work. Called before the first
  // submit; a provider whose work runs elsewhere (a device, a dispatcher) ignores it, and
  // one may keep a smaller bound (runs whose cipher would cost more than the handoff).
  virtual void set_inline_run_bytes(uint32_t bytes) { (void)bytes; }

 protected:
  ProviderSession() = default;
};

class Provider {
 public:
  virtual ~Provider() = default;
  Provider(const Provider&) = delete;
  Provider& operator=(const Provider&) = delete;

  virtual const ProviderInfo& info() const = 0;

  // ok if this provider can run `spec` (with `variant`, e.g. a kernel driver name);
  // otherwise a one-line reason naming the provider and what it lacks.
  virtual Status supports(const CipherSpec& spec, std::string_view variant) const = 0;

  // Binds key + spec. The provider copies the key into its own locked memory (or the
  // device); the caller keeps and wipes its copy.
  virtual Status open_session(const CipherSpec& spec, std::span<const uint8_t> key,
                              std::string_view variant,
                              std::unique_ptr<ProviderSession>* out) = 0;

  ProviderCounters& counters() { return counters_; }
  const ProviderCounters& counters() const { return counters_; }

 protected:
  Provider() = default;

 private:
  ProviderCounters counters_;
};

}  // namespace ublkcrypt
