// FlushTracker: write ordering for one queue. A flush may not reach the backing before
// every write the queue accepted ahead of it has finished; writes accepted after a flush
// are not held back by it (a flush orders nothing but itself, as in the block layer).
//
// Writes get increasing sequence numbers on acceptance. A waiting flush counts the
// earlier writes still running; each finishing write counts down the flushes it precedes.
// Flushes are few, so the waiting list is walked rather than indexed.
#pragma once

#include <cstdint>

#include "engine/request_state.h"

namespace ublkcrypt {

class FlushTracker {
 public:
  using Item = BlockRequest::Internal;

  // A write (or discard, or write_zeroes) was accepted.
  void write_accepted(Item* write) {
    write->write_sequence = next_sequence_++;
    ++writes_running_;
  }

  // Returns true if the flush may go now; otherwise it waits and comes back from
  // write_finished().
  bool flush_accepted(Item* flush) {
    flush->write_sequence = next_sequence_;
    flush->earlier_writes = writes_running_;
    if (writes_running_ == 0) return true;
    flush->stage = Item::Stage::waiting_writes;
    flush->next = nullptr;
    *waiting_tail_ = flush;
    waiting_tail_ = &flush->next;
    return false;
  }

  // A write finished (either way). Calls ready(flush) for each flush it was the last one
  // ahead of, in acceptance order.
  template <typename Ready>
  void write_finished(const Item* write, Ready&& ready) {
    --writes_running_;
    Item** link = &waiting_;
    while (*link != nullptr) {
      Item* flush = *link;
      if (write->write_sequence < flush->write_sequence && --flush->earlier_writes == 0) {
        *link = flush->next;
        if (waiting_tail_ == &flush->next) waiting_tail_ = link;
        ready(flush);
      } else {
        link = &flush->next;
      }
    }
  }

 private:
  uint64_t next_sequence_ = 0;
  uint32_t writes_running_ = 0;
  Item* waiting_ = nullptr;
  Item** waiting_tail_ = &waiting_;
};

}  // namespace ublkcrypt
