// Helpers shared by the libFuzzer targets in test/fuzz/: the checks of test/native/check.h made to abort (so
// libFuzzer keeps the input), a small deterministic PRNG seeded from the input (so a finding replays exactly), and
// a buffer that grows under ASan's eye (bytes not yet "received" are poisoned, so a read past what a call was given
// is reported).
#pragma once
#include <sanitizer/asan_interface.h>

#ifndef NOVA_CHECK_ABORT
#define NOVA_CHECK_ABORT 1
#endif
#include "../native/check.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace fuzz {

// splitmix64: tiny, good enough to pick split points and actions; seeded from the input's first bytes so that
// libFuzzer's minimizer, which mostly trims and edits later bytes, keeps the same schedule.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return n ? static_cast<uint32_t>(next() % n) : 0; }  // [0, n)
  bool chance(uint32_t one_in) { return below(one_in) == 0; }

 private:
  uint64_t s_;
};

inline uint64_t seed_from(const uint8_t* data, size_t size, uint64_t salt) {
  uint64_t h = 1469598103934665603ULL ^ salt;  // FNV-1a over the first 8 bytes and the size
  for (size_t i = 0; i < size && i < 8; ++i) h = (h ^ data[i]) * 1099511628211ULL;
  return h ^ (static_cast<uint64_t>(size) << 32);
}

// A copy of the input of which only a prefix is "received": the rest is poisoned until grow() reaches it.
class GrowingBuffer {
 public:
  GrowingBuffer(const uint8_t* data, size_t size) : size_(size), buf_(new char[size ? size : 1]) {
    if (size) std::memcpy(buf_.get(), data, size);
    ASAN_POISON_MEMORY_REGION(buf_.get(), size_);
  }
  ~GrowingBuffer() { ASAN_UNPOISON_MEMORY_REGION(buf_.get(), size_); }
  GrowingBuffer(const GrowingBuffer&) = delete;
  GrowingBuffer& operator=(const GrowingBuffer&) = delete;

  void grow(size_t to) {
    if (to > size_) to = size_;
    if (to > avail_) ASAN_UNPOISON_MEMORY_REGION(buf_.get() + avail_, to - avail_);
    if (to > avail_) avail_ = to;
  }
  const char* data() const { return buf_.get(); }
  size_t avail() const { return avail_; }
  size_t size() const { return size_; }

 private:
  size_t size_;
  size_t avail_ = 0;
  std::unique_ptr<char[]> buf_;
};

}  // namespace fuzz
