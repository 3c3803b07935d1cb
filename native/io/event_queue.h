// The batch of events waiting for JS: I/O threads append (under one mutex), JS takes the whole batch at once.
// Its layout is the contract in lib/contract.ts (Ev, RequestRec, ...): uint32 records in `meta`, bytes they point into in `bytes`.
// At most one batch is announced at a time; events pushed while JS hasn't taken it join the same batch.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>
#include "../core/connection.h"

namespace nova {

enum EventType : uint32_t {
  kEvRequest = 1, kEvBody = 2, kEvBodyEnd = 3, kEvClose = 4, kEvDrain = 5, kEvClientError = 6, kEvServerClosed = 7,
  kEvRaw = 8, kEvRawEnd = 9,
};

enum RequestFlag : uint32_t {
  kReqHead = 0x4, kReqHasBody = 0x8, kReqExpectContinue = 0x10,
  kReqUpgrade = 0x40,  // the record ends with [tailOff, tailLen]: the bytes received after the head
};

struct Batch {
  std::vector<uint32_t> meta;
  std::string bytes;
  bool last = false;  // ends with ServerClosed (or the queue was shut): nothing will ever be pushed again
  void clear() {
    meta.clear();
    bytes.clear();
    last = false;
  }
};

class EventQueue {
 public:
  // notify is called (outside the lock) when a batch becomes pending: it must make JS call take() soon.
  explicit EventQueue(std::function<void()> notify) : notify_(std::move(notify)) {}

  void push_request(uint32_t conn, uint32_t seq, const RequestHead& head, Slice raw);
  void push_body(uint32_t conn, uint32_t seq, Slice data);
  void push_body_end(uint32_t conn, uint32_t seq, const Header* trailers, uint32_t n);
  void push_close(uint32_t conn, uint32_t reason);
  void push_drain(uint32_t conn);
  void push_client_error(uint32_t conn, uint32_t status);
  void push_raw(uint32_t conn, Slice data);
  void push_raw_end(uint32_t conn);
  // The last event: after it nothing is pushed (later pushes are dropped) and notify is never called again.
  void push_server_closed();

  // JS side: swaps the pending batch into `out` (whose old contents are discarded). Returns false if empty.
  bool take(Batch& out);
  // Drop everything and refuse later pushes (environment teardown).
  void shut();

  // Bytes waiting for JS; a blocking driver waits in wait_for_room() while this is over the cap, an evented one
  // stops reading request bodies and resumes when on_taken (called on the JS thread after take()) says so.
  void wait_for_room(size_t cap);
  size_t pending_bytes() const { return pending_bytes_.load(std::memory_order_relaxed); }
  void set_on_taken(std::function<void()> f) { on_taken_ = std::move(f); }

 private:
  template <class F>
  void push(F&& fill);

  std::mutex mu_;
  std::condition_variable room_;
  Batch pending_;
  bool announced_ = false;
  bool closed_ = false;
  std::function<void()> notify_;
  std::function<void()> on_taken_;
  std::atomic<size_t> pending_bytes_{0};
};

}  // namespace nova
