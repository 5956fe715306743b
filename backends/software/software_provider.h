// The software provider: AES on the host CPU, by the tree's VAES kernels where the CPU has
// VAES and by OpenSSL EVP otherwise (sector_cipher.h, aes_implementation.h), with a worker
// pool sized to the cores, which the submitting threads join while they wait
// (worker_pool.h). Placement host-cpu, priority 100.
#pragma once

#include <chrono>
#include <memory>

#include "backends/provider.h"

namespace ublkcrypt {

// What a handoff to a worker and back costs a submitting thread: two wakeups, a few
// microseconds each. A run whose cipher takes longer than this never runs inline
// (ProviderSession::set_inline_run_bytes), however small.
inline constexpr std::chrono::nanoseconds kInlineCipherBudget = std::chrono::microseconds(8);

// `threads` workers; 0: one per online core. `inline_budget`: the longest a run's cipher
// may take to run on the submitting thread, measured when the inline size is set.
std::unique_ptr<Provider> make_software_provider(
    unsigned threads = 0, std::chrono::nanoseconds inline_budget = kInlineCipherBudget);

}  // namespace ublkcrypt
