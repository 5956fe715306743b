// helping_wait: how a thread that submitted crypto and has nothing else to do waits for it.
// It runs the provider's queued work itself meanwhile (ProviderSession::help): the software
// pool counts on it as one more lane, and it needs no wakeup to start.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>

namespace ublkcrypt {

// Waits until `done()` holds, calling `help()` while it returns true. `done` is checked
// with `mutex` held; completions change what it reads under `mutex` and notify `cv`. When
// there is nothing to help with it sleeps on `cv`, briefly: work can be queued with no
// notify of ours (a worker resubmitting from a completion).
void helping_wait(const std::function<bool()>& help, std::mutex& mutex,
                  std::condition_variable& cv, const std::function<bool()>& done);

}  // namespace ublkcrypt
