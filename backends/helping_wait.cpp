#include "backends/helping_wait.h"

#include <chrono>

namespace ublkcrypt {

void helping_wait(const std::function<bool()>& help, std::mutex& mutex,
                  std::condition_variable& cv, const std::function<bool()>& done) {
  std::unique_lock lock(mutex);
  while (!done()) {
    lock.unlock();
    const bool ran = help();
    lock.lock();
    if (!ran && !done()) cv.wait_for(lock, std::chrono::microseconds(200));
  }
}

}  // namespace ublkcrypt
