// Helpers shared by the libFuzzer targets in test/fuzz/: invariant checks that abort with a readable report, a
// small deterministic PRNG seeded from the input (so a finding replays exactly), and a buffer that grows under
// ASan's eye (bytes not yet "received" are poisoned, so a read past what a call was given is reported).
#pragma once
#include <sanitizer/asan_interface.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* what, const std::string& detail) {
  std::fprintf(stderr, "\n%s:%d: invariant failed: %s\n%s\n", file, line, what, detail.c_str());
  std::abort();
}

#define FUZZ_CHECK(cond, detail) \
  do {                           \
    if (!(cond)) ::fuzz::fail(__FILE__, __LINE__, #cond, (detail)); \
  } while (0)

inline std::string escape(const char* p, size_t n, size_t max = 2000) {
  std::string o;
  for (size_t i = 0; i < n && o.size() < max; ++i) {
    unsigned char c = static_cast<unsigned char>(p[i]);
    if (c == '\r') o += "\\r";
    else if (c == '\n') o += "\\n\n";  // keep reports readable: break lines where the input does
    else if (c == '\t') o += "\\t";
    else if (c == '\\') o += "\\\\";
    else if (c < 0x20 || c >= 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      o += b;
    } else o += static_cast<char>(c);
  }
  if (o.size() >= max) o += "...";
  return o;
}
inline std::string escape(const std::string& s) { return escape(s.data(), s.size()); }

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
