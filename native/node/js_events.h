// The I/O threads' events as JS reads them: the batch layout of lib/contract.ts (uint32 records in `meta`, the
// bytes they point into in `bytes`), written by one JsWriter per I/O thread without a lock and handed over once per
// loop turn. At most one batch is announced to JS at a time; commits while JS hasn't taken it join it.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include "../io/registry.h"

namespace nova {

enum EventType : uint32_t {
  kEvRequest = 1, kEvBody = 2, kEvBodyEnd = 3, kEvClose = 4, kEvDrain = 5, kEvClientError = 6, kEvServerClosed = 7,
  kEvRaw = 8, kEvRawEnd = 9,
};

enum RequestFlag : uint32_t {
  kReqHead = 0x4, kReqHasBody = 0x8, kReqExpectContinue = 0x10,
  kReqContinueHeld = 0x20,  // no 100 Continue was sent: the body waits for JS's 100 or final head
  kReqUpgrade = 0x40,       // the record ends with [tailOff, tailLen]: the bytes received after the head
  kReqExpectOther = 0x80,   // an Expect field (HTTP/1.1) without 100-continue: JS answers 417 or its listener does
};

struct JsBatch {
  std::vector<uint32_t> meta;
  std::string bytes;
  // Connections JS hears of for the first time in this batch (their handles, for respond() and friends), and
  // the connections whose Close is in it (JS forgets them after it has seen it).
  std::vector<std::shared_ptr<ConnHandle>> handles;
  std::vector<uint32_t> closed;
  bool last = false;  // ends with ServerClosed (or the events were shut): nothing will ever come again
  bool empty() const { return meta.empty() && handles.empty() && closed.empty(); }
  void clear();
  // Appends other's events after ours (its byte offsets rebased); other is left empty.
  void append(JsBatch& other);
  void swap(JsBatch& other);
};

class JsEvents : public EventSink, public std::enable_shared_from_this<JsEvents> {
 public:
  // notify is called (outside the lock) when a batch becomes pending: it must make JS call take() soon.
  explicit JsEvents(std::function<void()> notify) : notify_(std::move(notify)) {}

  std::unique_ptr<EventWriter> writer() override;
  void server_closed() override;
  size_t pending_bytes() const override { return pending_bytes_.load(std::memory_order_relaxed); }
  void wait_for_room(size_t cap) override;
  void set_on_taken(std::function<void()> f) override { on_taken_ = std::move(f); }
  void shut() override;

  // JS thread: swaps the pending batch into `out` (whose old contents are dropped). False if there was none.
  bool take(JsBatch& out);
  // A writer's commit.
  void publish(JsBatch& b);

 private:
  std::mutex mu_;
  std::condition_variable room_;
  JsBatch pending_;
  bool announced_ = false;
  bool closed_ = false;
  std::function<void()> notify_;
  std::function<void()> on_taken_;
  std::atomic<size_t> pending_bytes_{0};
};

}  // namespace nova
