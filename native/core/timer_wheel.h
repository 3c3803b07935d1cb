// A hashed timing wheel for connection deadlines: schedule, move and cancel cost O(1); advancing visits only
// slots whose time has come (found through a bitmap of non-empty slots). Pure C++; the evented loops own one each.
#pragma once
#include <cstdint>

namespace nova {

struct TimerNode {
  TimerNode* prev = nullptr;
  TimerNode* next = nullptr;
  uint64_t deadline = UINT64_MAX;  // ms; UINT64_MAX: not scheduled
  uint32_t slot = 0;
  bool linked() const { return prev != nullptr; }
};

class TimerWheel {
 public:
  static constexpr uint32_t kSlots = 4096;  // power of two
  static constexpr uint32_t kGranularityMs = 4;  // deadlines fire at most this late (plus the loop's own delay)

  explicit TimerWheel(uint64_t now_ms) : tick_(now_ms / kGranularityMs) {
    for (auto& s : slots_) s.prev = s.next = &s;
  }

  size_t size() const { return count_; }

  // (Re)schedules n for `deadline`; UINT64_MAX cancels.
  void schedule(TimerNode* n, uint64_t deadline) {
    if (n->linked()) {
      if (n->deadline == deadline) return;
      cancel(n);
    }
    if (deadline == UINT64_MAX) return;
    n->deadline = deadline;
    uint64_t t = (deadline + kGranularityMs - 1) / kGranularityMs;  // never fire early
    if (t < tick_) t = tick_;
    n->slot = static_cast<uint32_t>(t & (kSlots - 1));
    TimerNode& head = slots_[n->slot];
    n->next = &head;
    n->prev = head.prev;
    head.prev->next = n;
    head.prev = n;
    bits_[n->slot >> 6] |= uint64_t(1) << (n->slot & 63);
    ++count_;
  }

  void cancel(TimerNode* n) {
    if (!n->linked()) return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    TimerNode& head = slots_[n->slot];
    if (head.next == &head) bits_[n->slot >> 6] &= ~(uint64_t(1) << (n->slot & 63));
    n->prev = n->next = nullptr;
    n->deadline = UINT64_MAX;
    --count_;
  }

  // Calls expire(node) for every node whose deadline <= now (the node is unlinked first; expire may reschedule).
  template <class F>
  void advance(uint64_t now_ms, F&& expire) {
    const uint64_t target = now_ms / kGranularityMs;
    if (target < tick_) return;
    // More than a full turn behind: every slot is due once.
    const uint64_t steps = target - tick_ >= kSlots ? kSlots : target - tick_ + 1;
    for (uint64_t i = 0; i < steps; ++i) {
      const uint32_t s = static_cast<uint32_t>((tick_ + i) & (kSlots - 1));
      if (!(bits_[s >> 6] & (uint64_t(1) << (s & 63)))) continue;
      TimerNode& head = slots_[s];
      // Detach the due nodes first: expire() may reschedule into this very slot.
      TimerNode* n = head.next;
      while (n != &head) {
        TimerNode* next = n->next;
        if (n->deadline <= now_ms) {
          cancel(n);
          expire(n);
        }
        n = next;
      }
    }
    tick_ = target;
  }

  // Milliseconds until the next slot with a timer comes due (a lower bound on the next deadline), or -1.
  int64_t next_timeout(uint64_t now_ms) const {
    if (count_ == 0) return -1;
    const uint64_t now_tick = now_ms / kGranularityMs;
    for (uint32_t i = 0; i < kSlots; i += 64 - ((now_tick + i) & 63)) {
      const uint32_t s = static_cast<uint32_t>((now_tick + i) & (kSlots - 1));
      uint64_t word = bits_[s >> 6] >> (s & 63);
      if (word) {
        const uint32_t k = i + static_cast<uint32_t>(__builtin_ctzll(word));
        const uint64_t due = (now_tick + k) * kGranularityMs;
        return due > now_ms ? static_cast<int64_t>(due - now_ms) : 0;
      }
    }
    return static_cast<int64_t>(kSlots) * kGranularityMs;
  }

 private:
  TimerNode slots_[kSlots];
  uint64_t bits_[kSlots / 64] = {};
  uint64_t tick_;
  size_t count_ = 0;
};

}  // namespace nova
