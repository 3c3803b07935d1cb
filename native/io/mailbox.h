// How responses reach the I/O thread that owns a connection: the JS thread encodes them into a CommandBuffer
// (one flat byte arena, no allocation per response once warm) and posts the whole buffer to the owner's Mailbox
// with one lock and one wake-up per flush. A loop thread has one mailbox for all its connections; a blocking
// connection's thread has its own.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>
#include "../core/connection.h"

namespace nova {

// One response command as stored in a CommandBuffer, followed by its reason, fields and data bytes.
struct CommandHead {
  uint32_t conn;
  uint32_t seq;
  uint16_t kind;  // ResponseCmd::Kind bits
  uint8_t user_fields;
  uint8_t response_tokens;
  uint16_t status;
  uint16_t unused2 = 0;
  int64_t content_length;
  uint32_t reason_len;
  uint32_t fields_len;
  uint32_t data_len;
  uint32_t unused3 = 0;
  std::string* big;  // a large body kept in its own buffer (handed over, not copied twice); nullptr: inline
};

class CommandBuffer {
 public:
  // Bodies at least this large travel in their own std::string: the owning thread swaps it into the connection's
  // output instead of copying it out of the arena (and the arena does not grow to the largest body ever sent).
  static constexpr size_t kInlineDataMax = 16 * 1024;

  // Appends a command with room for its bytes; the caller fills the head's other fields and the three spans (in
  // order: reason, fields, data) before the next begin(), which may move the arena.
  CommandHead* begin(uint32_t reason_len, uint32_t fields_len, uint32_t data_len, char** reason, char** fields,
                     char** data) {
    const size_t need = sizeof(CommandHead) + span(reason_len, fields_len, data_len);
    const size_t at = bytes_.size();
    if (bytes_.capacity() < at + need) bytes_.reserve(std::max(at + need, bytes_.capacity() * 2));
    bytes_.resize(at + need);
    char* p = bytes_.data() + at;
    auto* h = new (p) CommandHead();
    h->reason_len = reason_len;
    h->fields_len = fields_len;
    h->data_len = data_len;
    h->big = nullptr;
    *reason = p + sizeof(CommandHead);
    *fields = *reason + reason_len;
    *data = *fields + fields_len;
    ++count_;
    return h;
  }
  // Walks the commands in order: f(const CommandHead&, Slice reason, Slice fields, Slice data).
  template <class F>
  void for_each(F&& f) {
    size_t at = 0;
    while (at < bytes_.size()) {
      auto* h = reinterpret_cast<CommandHead*>(bytes_.data() + at);
      const char* p = bytes_.data() + at + sizeof(CommandHead);
      f(*h, Slice{p, h->reason_len}, Slice{p + h->reason_len, h->fields_len},
        Slice{p + h->reason_len + h->fields_len, h->data_len});
      at += sizeof(CommandHead) + span(h->reason_len, h->fields_len, h->data_len);
    }
  }

  // The last command's data is shorter than the room begin() made for it (a string's UTF-8 form, known only once
  // written): the rest goes back to the arena. h must be the last command; the arena does not move.
  void trim_last(CommandHead* h, uint32_t data_len) {
    const size_t at = static_cast<size_t>(reinterpret_cast<char*>(h) - bytes_.data());
    h->data_len = data_len;
    bytes_.resize(at + sizeof(CommandHead) + span(h->reason_len, h->fields_len, data_len));
  }
  bool empty() const { return bytes_.empty(); }
  size_t count() const { return count_; }
  // Drops every command (and the large bodies nobody took). The arena keeps its capacity up to `keep` bytes (it is
  // reused at the next flush without allocating); a larger one, left by a burst, is freed.
  void clear(size_t keep = SIZE_MAX) {
    if (count_ != 0) {
      for_each([](const CommandHead& h, Slice, Slice, Slice) { delete h.big; });
    }
    bytes_.clear();
    if (bytes_.capacity() > keep) std::vector<char>().swap(bytes_);
    count_ = 0;
  }
  size_t capacity() const { return bytes_.capacity(); }
  // Appends other's commands (other is left empty).
  void append(CommandBuffer& other) {
    bytes_.insert(bytes_.end(), other.bytes_.begin(), other.bytes_.end());
    count_ += other.count_;
    other.bytes_.clear();
    other.count_ = 0;
  }
  void swap(CommandBuffer& other) {
    bytes_.swap(other.bytes_);
    std::swap(count_, other.count_);
  }
  ~CommandBuffer() { clear(); }
  CommandBuffer() = default;
  CommandBuffer(const CommandBuffer&) = delete;
  CommandBuffer& operator=(const CommandBuffer&) = delete;

 private:
  // The bytes after a head: the three spans, one spare byte (N-API writes a NUL after a string; each span's NUL
  // lands on the next span's first byte before that is written, the last one here), padded to 8.
  static size_t span(uint32_t a, uint32_t b, uint32_t c) { return (size_t{a} + b + c + 1 + 7) & ~size_t{7}; }
  std::vector<char> bytes_;  // 8-aligned: CommandHead sizes and spans are padded to 8
  size_t count_ = 0;
};

// How much arena capacity a mailbox's buffers (the producer's staging, the posted commands, the owner's last take)
// keep between flushes. An arena grows to what one flush carries (a burst of pipelined answers: up to the
// pipeline cap per connection) and used to keep that size for good, three times over: 1,000 hostile clients left
// the poll loop's arenas holding ~480 MiB, and each blocking connection's hundreds of KiB. A loop's mailbox serves
// all its connections (one per loop thread); a blocking connection's is its own.
constexpr size_t kLoopMailboxKeep = 1 << 20;
constexpr size_t kConnMailboxKeep = 4 << 10;

class Mailbox {
 public:
  // wake makes the owning thread look at the mailbox (a loop's eventfd, a blocking thread's condition variable);
  // keep: the arena capacity kept between flushes (kLoopMailboxKeep, kConnMailboxKeep).
  Mailbox(void (*wake)(void*), void* target, size_t keep) : wake_(wake), target_(target), keep_(keep) {}
  size_t keep() const { return keep_; }

  // Producer side (the JS thread): commands staged since the last post(). Only the producer touches it.
  CommandBuffer staging;

  // Hands `staging` over and wakes the owner (once per post).
  void post() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (pending_.empty()) pending_.swap(staging);
      else pending_.append(staging);
      has_pending_.store(true, std::memory_order_release);
    }
    staging.clear(keep_);
    wake_(target_);
  }
  // Owner side: takes every posted command into `out` (emptied first; when it is done with them, the owner
  // clears it with keep()).
  void take(CommandBuffer& out) {
    out.clear(keep_);
    if (!has_pending_.load(std::memory_order_acquire)) return;
    std::lock_guard<std::mutex> lk(mu_);
    out.swap(pending_);
    has_pending_.store(false, std::memory_order_relaxed);
  }
  bool has_pending() const { return has_pending_.load(std::memory_order_acquire); }
  void set_wake(void (*wake)(void*), void* target) {
    wake_ = wake;
    target_ = target;
  }

 private:
  std::mutex mu_;
  CommandBuffer pending_;
  std::atomic<bool> has_pending_{false};
  void (*wake_)(void*);
  void* target_;
  const size_t keep_;
};

}  // namespace nova
