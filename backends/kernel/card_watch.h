// CardWatch: tells a kernel session that its card's driver left /proc/crypto (the card was
// pulled out or its driver unbound), so the session fails over at once and, above all,
// sends the card nothing more.
//
// Why not just wait for the deadline: seen on Debian's 6.12 in the VM with virtio-crypto,
// operations in flight when the card goes never complete (the deadline covers those), but
// an operation *started* on an AF_ALG socket of a removed card oopses the kernel (NULL
// dereference in skcipher_recvmsg, run from an io-wq worker, which then dies with
// interrupts off and wedges the machine minutes later). virtio_crypto unregisters its
// algorithms before it frees the device, so a driver missing from /proc/crypto is the
// earliest sign user space can see. A session idle when the card went would otherwise
// start its next operations on the dead card.
//
// One thread per process polls /proc/crypto while any session is watched (off the
// datapath: the dispatcher only reads an atomic flag). What remains is a kernel race no
// poll can close: operations started between the driver's removal and the next poll.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace ublkcrypt {

class CardWatchHandle {
 public:
  virtual ~CardWatchHandle() = default;  // unregisters; waits for a running on_gone

 protected:
  CardWatchHandle() = default;
};

// Calls `on_gone` once, on the watch thread, when /proc/crypto (`proc_crypto`) is readable
// and no longer lists `driver`. `on_gone` must be quick and must not destroy the handle.
// An unreadable /proc/crypto counts as no news, never as a gone card.
std::unique_ptr<CardWatchHandle> watch_card(const std::string& proc_crypto,
                                            const std::string& driver,
                                            std::chrono::milliseconds interval,
                                            std::function<void()> on_gone);

}  // namespace ublkcrypt
