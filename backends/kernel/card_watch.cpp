#include "backends/kernel/card_watch.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "backends/kernel/proc_crypto.h"

namespace ublkcrypt {
namespace {

struct Entry {
  uint64_t id;
  std::string proc_crypto;
  std::string driver;
  std::chrono::milliseconds interval;
  std::function<void()> on_gone;
  bool fired = false;
};

class Watcher {
 public:
  static Watcher& get() {
    // Never destroyed: its thread may still wait on the condition variable at exit.
    static Watcher* watcher = new Watcher;
    return *watcher;
  }

  uint64_t add(Entry entry) {
    std::lock_guard lock(mutex_);
    entry.id = ++last_id_;
    entries_.push_back(std::move(entry));
    if (!started_) {
      started_ = true;
      std::thread([this] { run(); }).detach();
    }
    cv_.notify_all();
    return last_id_;
  }

  // Holding the mutex: a callback running now (under the mutex) finishes first.
  void remove(uint64_t id) {
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [id](const Entry& e) { return e.id == id; });
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return !entries_.empty(); });
      auto interval = std::chrono::milliseconds::max();
      for (const Entry& e : entries_) interval = std::min(interval, e.interval);
      cv_.wait_for(lock, interval);
      // Read each /proc/crypto once per round, without the lock (sessions come and go).
      std::vector<std::string> paths;
      for (const Entry& e : entries_)
        if (!e.fired && std::find(paths.begin(), paths.end(), e.proc_crypto) == paths.end())
          paths.push_back(e.proc_crypto);
      lock.unlock();
      std::vector<std::pair<std::string, std::vector<KernelAlgorithm>>> listings;
      for (const std::string& path : paths) {
        std::vector<KernelAlgorithm> algorithms;
        if (read_proc_crypto(path, &algorithms).ok())
          listings.emplace_back(path, std::move(algorithms));
      }
      lock.lock();
      for (Entry& e : entries_) {
        if (e.fired) continue;
        auto listing = std::find_if(listings.begin(), listings.end(),
                                    [&](const auto& l) { return l.first == e.proc_crypto; });
        if (listing == listings.end()) continue;  // unreadable: no news
        const auto& algorithms = listing->second;
        bool present = std::any_of(algorithms.begin(), algorithms.end(),
                                   [&](const KernelAlgorithm& a) { return a.driver == e.driver; });
        if (present) continue;
        e.fired = true;
        e.on_gone();
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Entry> entries_;
  uint64_t last_id_ = 0;
  bool started_ = false;
};

class Handle final : public CardWatchHandle {
 public:
  explicit Handle(uint64_t id) : id_(id) {}
  ~Handle() override { Watcher::get().remove(id_); }

 private:
  uint64_t id_;
};

}  // namespace

std::unique_ptr<CardWatchHandle> watch_card(const std::string& proc_crypto,
                                            const std::string& driver,
                                            std::chrono::milliseconds interval,
                                            std::function<void()> on_gone) {
  uint64_t id = Watcher::get().add(
      Entry{0, proc_crypto, driver, interval, std::move(on_gone), false});
  return std::make_unique<Handle>(id);
}

}  // namespace ublkcrypt
