// A map from connection id (a nonzero uint32) to a small value (a pointer, a shared_ptr), stored flat: open
// addressing with linear probing in one array, no node per entry. The connection maps (the table's, each loop's,
// the JS thread's) take an insert and an erase per connection: with std::unordered_map that was a malloc and a
// free each, and a node plus a bucket (~40-56 bytes) per connection.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace nova {

template <class V>
class IdMap {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // The value stored for id, or nullptr.
  V* find(uint32_t id) {
    if (size_ == 0) return nullptr;
    for (size_t i = home(id);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.id == id) return &s.value;
      if (s.id == 0) return nullptr;
    }
  }
  bool contains(uint32_t id) { return find(id) != nullptr; }

  // Adds id (not present yet; 0 is never an id).
  void insert(uint32_t id, V value) {
    if ((size_ + 1) * 4 > slots_.size() * 3) resize(slots_.empty() ? kMinSlots : slots_.size() * 2);
    place(id, std::move(value));
    ++size_;
  }

  // Removes id; false if absent. The entries after it in its run move back (no tombstones), and a large array
  // shrinks once it is mostly empty, so a surge of connections leaves no large array behind.
  bool erase(uint32_t id) {
    if (size_ == 0) return false;
    size_t i = home(id);
    while (slots_[i].id != id) {
      if (slots_[i].id == 0) return false;
      i = (i + 1) & mask_;
    }
    for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      Slot& s = slots_[j];
      if (s.id == 0) break;
      // s may fill the hole at i only if its home is not in (i, j] (cyclically): else a lookup would miss it.
      const size_t h = home(s.id);
      const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (stays) continue;
      slots_[i] = std::move(s);
      i = j;
    }
    slots_[i] = Slot();
    --size_;
    if (slots_.size() > kShrinkAbove && size_ * 8 < slots_.size()) resize(slots_.size() / 2);
    return true;
  }

  void clear() {
    std::vector<Slot>().swap(slots_);
    size_ = 0;
    mask_ = 0;
    shift_ = 32;
  }

  // f(id, value&) for every entry; the map must not change meanwhile.
  template <class F>
  void for_each(F&& f) {
    for (Slot& s : slots_)
      if (s.id != 0) f(s.id, s.value);
  }

 private:
  struct Slot {
    uint32_t id = 0;  // 0: empty
    V value{};
  };
  static constexpr size_t kMinSlots = 16;
  // Below this many slots the array keeps its size: connections coming and going by the hundred (a map emptied
  // at every JS batch) would otherwise resize it up and down all the time. Above, it halves once 1/8 full.
  static constexpr size_t kShrinkAbove = 1024;

  // Fibonacci hashing: consecutive ids (as they are handed out) spread over the array.
  size_t home(uint32_t id) const { return static_cast<size_t>((id * 2654435769u) >> shift_) & mask_; }

  void place(uint32_t id, V&& value) {
    size_t i = home(id);
    while (slots_[i].id != 0) i = (i + 1) & mask_;
    slots_[i].id = id;
    slots_[i].value = std::move(value);
  }

  void resize(size_t n) {  // n: a power of two, > size_
    std::vector<Slot> old(n);
    old.swap(slots_);
    mask_ = n - 1;
    shift_ = 32;
    for (size_t k = n; k > 1; k >>= 1) --shift_;
    for (Slot& s : old)
      if (s.id != 0) place(s.id, std::move(s.value));
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t mask_ = 0;
  uint32_t shift_ = 32;
};

}  // namespace nova
