// What the I/O threads report upward, and nothing of who listens: native/node turns these events into JS batches
// (native/node/js_batch.*). Each I/O thread writes its events into its own EventWriter, without a lock, during a
// loop turn (or a blocking read), and hands them over with one commit(): one lock and at most one wake-up of the
// consumer per turn, however many requests the turn parsed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include "../core/connection.h"

namespace nova {

// Bytes waiting for JS (request heads and bodies) at which the I/O threads stop reading until JS takes the batch:
// a stalled JS thread makes the server hold at most this much, plus one read per reading thread or connection.
constexpr size_t kQueuedForJsCap = 8 << 20;

struct ConnHandle;

class EventWriter {
 public:
  virtual ~EventWriter() = default;
  // raw: the head's bytes; every Slice in head points into it (valid during the call only).
  virtual void request(ConnHandle& h, uint32_t seq, const RequestHead& head, Slice raw) = 0;
  virtual void body(ConnHandle& h, uint32_t seq, Slice data) = 0;
  virtual void body_end(ConnHandle& h, uint32_t seq, const Header* trailers, uint32_t n) = 0;
  // Native refused a request and already sent the ready-made response (status 400, 408, 413, ...).
  virtual void client_error(ConnHandle& h, uint32_t status) = 0;
  // Passthrough (an accepted upgrade): bytes from the client, in order, and its FIN.
  virtual void raw(ConnHandle& h, Slice data) = 0;
  virtual void raw_end(ConnHandle& h) = 0;
  // The connection's unsent output fell below the high-water mark after the consumer asked (want_drain).
  virtual void drain(ConnHandle& h) = 0;
  // The connection is gone; nothing more is reported for it.
  virtual void close(ConnHandle& h, CloseReason r) = 0;
  // Bytes written since the last commit (they count against the body cap with the consumer's backlog).
  virtual size_t bytes() const = 0;
  // Hands every event written since the last commit to the consumer.
  virtual void commit() = 0;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // One writer per I/O thread (a loop, a blocking connection's thread).
  virtual std::unique_ptr<EventWriter> writer() = 0;
  // The last event, after every connection's close was committed: nothing is reported after it.
  virtual void server_closed() = 0;
  // Event bytes handed over and not yet taken by the consumer. A blocking reader waits in wait_for_room()
  // while this is over the cap; an evented loop stops reading bodies and is woken by on_taken (set_on_taken).
  virtual size_t pending_bytes() const = 0;
  virtual void wait_for_room(size_t cap) = 0;
  virtual void set_on_taken(std::function<void()> f) = 0;
  // Environment teardown: drop everything, refuse later events, release waiters.
  virtual void shut() = 0;
};

}  // namespace nova
