// CompletionInbox: how a crypto completion on a provider thread reaches the queue thread.
//
// A lock-free stack (many pushers, one taker). Only the push that finds the inbox empty
// writes the eventfd: the taker empties it all at once, so one wakeup carries a whole
// burst of completions instead of one system call each.
#pragma once

#include <sys/eventfd.h>

#include <atomic>

#include "engine/request_state.h"

namespace ublkcrypt {

class CompletionInbox {
 public:
  using Item = BlockRequest::Internal;

  explicit CompletionInbox(int event_fd) : event_fd_(event_fd) {}

  // Any thread. The item's fields written before push are visible to the taker.
  void push(Item* item) {
    Item* head = head_.load(std::memory_order_relaxed);
    do item->next = head;
    while (!head_.compare_exchange_weak(head, item, std::memory_order_release,
                                        std::memory_order_relaxed));
    if (head == nullptr) eventfd_write(event_fd_, 1);
  }

  // Queue thread: everything pushed so far, oldest first. The caller must have drained the
  // eventfd before calling, or a push racing with this take could leave its wakeup unread.
  Item* take_all() {
    Item* newest_first = head_.exchange(nullptr, std::memory_order_acquire);
    Item* oldest_first = nullptr;
    while (newest_first != nullptr) {
      Item* next = newest_first->next;
      newest_first->next = oldest_first;
      oldest_first = newest_first;
      newest_first = next;
    }
    return oldest_first;
  }

  bool empty() const { return head_.load(std::memory_order_relaxed) == nullptr; }

 private:
  int event_fd_;
  std::atomic<Item*> head_{nullptr};
};

}  // namespace ublkcrypt
