// A hashed timing wheel for connection deadlines: schedule, move and cancel cost O(1); advancing visits only
// slots whose time has come (found through a bitmap of non-empty slots). Pure C++; the evented loops own one each.
#pragma once
#include <cstddef>
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
  static constexpr uint32_t kSlots = 4096;       // power of two
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
    link(n);
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

  // Calls expire(node) for every node whose deadline <= now and whose slot's tick has come (so a node fires once
  // now reaches its deadline rounded up to kGranularityMs); the node is unlinked first. expire may schedule,
  // cancel or delete any node; one scheduled to a deadline already due fires in this pass or the next advance.
  template <class F>
  void advance(uint64_t now_ms, F&& expire) {
    const uint64_t target = now_ms / kGranularityMs;
    if (target < tick_) return;
    const uint64_t from = tick_;
    // More than a full turn behind: every slot is due once.
    const uint64_t steps = target - from >= kSlots ? kSlots : target - from + 1;
    // Before any expire(): a node scheduled from it is placed against the new tick, so one already due lands in
    // target's slot (visited again by the next advance), not in a slot this pass has left behind.
    tick_ = target;
    for (uint64_t i = 0; i < steps; ++i) {
      const uint32_t s = static_cast<uint32_t>((from + i) & (kSlots - 1));
      if (!(bits_[s >> 6] & (uint64_t(1) << (s & 63)))) continue;
      // Move the slot's nodes to a local ring and take them one by one from its front, so that whatever
      // expire() does to other nodes (even this slot's) leaves the walk valid. cancel() works on that ring too.
      TimerNode& head = slots_[s];
      TimerNode due;
      due.next = head.next;
      due.prev = head.prev;
      due.next->prev = &due;
      due.prev->next = &due;
      head.next = head.prev = &head;
      bits_[s >> 6] &= ~(uint64_t(1) << (s & 63));
      while (due.next != &due) {
        TimerNode* n = due.next;
        due.next = n->next;
        n->next->prev = &due;
        if (n->deadline <= now_ms) {
          n->prev = n->next = nullptr;
          n->deadline = UINT64_MAX;
          --count_;
          expire(n);
        } else {
          link(n);  // a later turn, or parked: placed again against the new tick
        }
      }
    }
  }

  // Milliseconds until advance() next has a slot to visit: 0 when a timer is due (or overdue: slots the loop
  // passed without advancing are searched first), never later than the earliest timer fires (at most
  // kGranularityMs after its deadline), -1 with no timer. A slot holds only nodes of its own tick (see link()),
  // so right after advance(now) this is 0 only if a timer is already due.
  int64_t next_timeout(uint64_t now_ms) const {
    if (count_ == 0) return -1;
    const uint64_t now_tick = now_ms / kGranularityMs;
    const uint64_t start = tick_ < now_tick ? tick_ : now_tick;
    for (uint32_t i = 0; i < kSlots; i += 64 - ((start + i) & 63)) {
      const uint32_t s = static_cast<uint32_t>((start + i) & (kSlots - 1));
      uint64_t word = bits_[s >> 6] >> (s & 63);
      if (word) {
        const uint32_t k = i + static_cast<uint32_t>(__builtin_ctzll(word));
        const uint64_t due = (start + k) * kGranularityMs;
        return due > now_ms ? static_cast<int64_t>(due - now_ms) : 0;
      }
    }
    return static_cast<int64_t>(kSlots) * kGranularityMs;
  }

 private:
  // Places a node in the slot of the tick at which it fires: ceil(deadline) in ticks (never early), at least the
  // current tick (already due: the next advance), and at most one turn minus a tick ahead. A farther deadline is
  // parked in that last slot and placed again when advance() reaches it, so every linked node's tick lies in
  // [tick_, tick_ + kSlots) and a slot's bit means "something to do at that slot's tick": next_timeout() can
  // trust it instead of waking (or spinning) for timers that are whole turns away.
  void link(TimerNode* n) {
    uint64_t t = n->deadline / kGranularityMs + (n->deadline % kGranularityMs != 0);
    if (t < tick_) t = tick_;
    if (t > tick_ + kSlots - 1) t = tick_ + kSlots - 1;
    n->slot = static_cast<uint32_t>(t & (kSlots - 1));
    TimerNode& head = slots_[n->slot];
    n->next = &head;
    n->prev = head.prev;
    head.prev->next = n;
    head.prev = n;
    bits_[n->slot >> 6] |= uint64_t(1) << (n->slot & 63);
  }

  TimerNode slots_[kSlots];
  uint64_t bits_[kSlots / 64] = {};
  uint64_t tick_;
  size_t count_ = 0;
};

}  // namespace nova
