// What every I/O model shares: the options, the registry of live connections (ids, the connection cap, and for
// the blocking model the idle LRU), the stats, and the handle through which other threads reach a connection
// (its mailbox, flow control, kill, shutdown). Events go up through an EventSink (events.h); this layer knows
// nothing of JavaScript.
#pragma once
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include "../core/connection.h"
#include "events.h"
#include "id_map.h"
#include "mailbox.h"
#include "socket.h"

namespace nova {

uint64_t now_ms();

// Gives the heap's free pages back to the system (malloc_trim on glibc; nothing elsewhere): after a surge of
// connections, glibc would otherwise keep what they freed in its arenas for good.
void release_free_memory();

// Answers pass through the heap on their way out (the mailbox arena JS writes them into, the connection's
// output), so a burst of them leaves glibc holding free pages in every arena it touched (1,000 hostile clients:
// ~60 MiB in the poll loop's arena, ~115 MiB in the blocking model's). `note_answer_bytes` counts the bytes
// applied; `release_after_burst` trims once at least kBurstTrimBytes went through since the last trim, at most
// every kBurstTrimMs; a thread calls it when it goes quiet (an evented loop whose wait timed out, a blocking
// connection gone idle). `burst_trim_owed` tells a loop to wake for it.
constexpr uint64_t kBurstTrimBytes = 16u << 20;
constexpr uint64_t kBurstTrimMs = 200;
void note_answer_bytes(uint64_t n);
bool burst_trim_owed();
void release_after_burst(uint64_t now);

enum class IoModel : uint8_t { Blocking = 0, Evented = 1 };
enum class Backend : uint8_t { Default = 0, Epoll = 1, Poll = 2 };

// Every field is set from JS's options (native/node/addon.cc ReadOptions); lib/options.ts has the defaults.
struct ServerOptions {
  ConnConfig conn;
  LiveU32 max_connections;
  IoModel io_model = IoModel::Blocking;
  Backend backend = Backend::Default;
  int threads = 0;  // evented: loop threads; 0 = the inline driver on Node's own loop
};

// The part of a connection that other threads touch. The connection itself belongs to its I/O thread.
struct ConnHandle : std::enable_shared_from_this<ConnHandle> {
  uint32_t id = 0;
  sock_t fd = kBadSocket;
  PeerAddress peer;  // formatted only when JS asks (addresses())

  // Where responses for this connection are posted (its loop's, or its own in the blocking model).
  std::shared_ptr<Mailbox> mailbox;

  std::mutex mu;                  // guards pause, closed, and fd against reuse after close
  int pause = -1;                 // pending body flow-control change: -1 none, 0 resume, 1 pause
  bool closed = false;            // fd is closed: never touch it again
  std::atomic<bool> kill{false};  // close now (closeAllConnections, eviction, env teardown)
  std::atomic<uint8_t> kill_reason{0};
  std::atomic<bool> shutdown{false};  // server.close(): finish what is under way, then close

  std::atomic<int64_t> js_bytes{0};  // response bytes JS gave and the owning thread has not applied yet
  std::atomic<int64_t> unsent{0};    // bytes the connection still has to write
  // The part of unsent in the write buffer: the front response's bytes (and those before it), not the bytes of
  // responses pipelined behind it, which cannot leave before it ends. Drain is measured on this: measured on unsent,
  // a front response waiting for 'drain' and 64 KiB held behind it would wait for each other forever.
  std::atomic<int64_t> writable{0};
  std::atomic<bool> want_drain{false};

  // Bytes received from and sent to the socket (socket.bytesRead / bytesWritten). Only the owning thread writes them
  // (a relaxed load and store, no locked add); the JS thread reads them.
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<uint64_t> bytes_written{0};
  void count_read(int64_t n) {
    bytes_read.store(bytes_read.load(std::memory_order_relaxed) + static_cast<uint64_t>(n), std::memory_order_relaxed);
  }
  void count_written(int64_t n) {
    bytes_written.store(bytes_written.load(std::memory_order_relaxed) + static_cast<uint64_t>(n),
                        std::memory_order_relaxed);
  }

  // Owning thread only: the consumer of events has been given this handle (with the first event about it).
  bool announced = false;

  // Blocking model: the idle LRU (guarded by ConnTable::mu_).
  bool idle = false;
  // Taken off the idle LRU to be closed (eviction, closeIdleConnections, shutdown): it must not start a request.
  bool reaped = false;
  std::list<ConnHandle*>::iterator lru_pos;

  void (*wake)(ConnHandle*) = nullptr;  // the driver's way to make the owning thread look at pause/kill/shutdown
  void* driver = nullptr;

  int64_t queued() const { return js_bytes.load() + unsent.load(); }
  int64_t queued_writable() const { return js_bytes.load() + writable.load(); }
};

// The live connections by id. The evented model keeps its idle lists per loop (loop.h) and uses only the ids;
// the blocking model, whose connections each have a thread, uses the shared idle LRU here.
class ConnTable {
 public:
  // The driver makes the handle (its own kind: see BlockingHandle) and sets its fd, peer, wake, driver and
  // mailbox; it is published here (other threads may find and kill it) only once complete, so a close() racing
  // the accept never sees a handle it cannot wake. Gives it its id.
  void add(const std::shared_ptr<ConnHandle>& h);
  // True when a surge of connections is over: at least kSurge were open at once since the last true, and half of
  // them are gone (Registry::finished then gives the memory they freed back to the OS).
  bool remove(ConnHandle* h);
  size_t size() const { return size_.load(std::memory_order_relaxed); }
  // Blocking model: the idle LRU.
  void set_idle(ConnHandle* h, bool idle);
  // The owning thread got bytes on a connection it had marked idle: takes it off the LRU before anything is parsed,
  // so that no eviction can close it once a request has gone to JS. False when an eviction (or closeIdle) took it
  // first: the bytes must be dropped and the connection closed with h->kill_reason (the kill itself may still be
  // on its way from the other thread).
  bool claim(ConnHandle* h);
  size_t idle_count();
  // Closes the oldest idle connection; false if none is idle.
  bool evict_oldest(CloseReason r);
  void kill_idle(CloseReason r);
  void kill_all(CloseReason r);
  // Sets every connection's shutdown flag and wakes its thread.
  void shutdown_all();
  static void kill(ConnHandle* h, CloseReason r);

 private:
  std::mutex mu_;
  // Not owning: a handle leaves the table (finished()) before its owner (the loop's LoopConn, the blocking
  // thread) lets it go, so a handle found under mu_ is alive; shared_from_this() keeps it so past the lock.
  IdMap<ConnHandle*> by_id_;
  std::atomic<size_t> size_{0};
  std::list<ConnHandle*> lru_;  // idle connections, oldest first
  uint32_t next_id_ = 1;
  size_t peak_ = 0;  // most connections open at once since remove() last returned true
  static constexpr size_t kSurge = 256;
};

struct Stats {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> closes[static_cast<int>(CloseReason::Count)] = {};
};

// The shared state of one listening server: options, connections, stats, where events go.
class Registry {
 public:
  Registry(const ServerOptions& o, std::shared_ptr<EventSink> sink) : opts(o), sink(std::move(sink)) {}
  ServerOptions opts;  // fixed after listen(), except the LiveU32 fields (configure())
  std::shared_ptr<EventSink> sink;
  ConnTable table;
  Stats stats;
  std::atomic<bool> closing{false};

  // Accept admission, the same for every driver: counts the accept; true below maxConnections or when `evict`
  // (the driver's way to close its oldest idle connection: evented loops keep their own idle lists) made room;
  // false: the connection gets the ready-made 503.
  template <class Evict>
  bool admit(Evict&& evict) {
    stats.accepted.fetch_add(1, std::memory_order_relaxed);
    return table.size() < opts.max_connections || evict();
  }
  // The listener is closed: nothing more will be accepted.
  void accept_done() {
    accept_done_.store(true);
    maybe_closed();
  }
  // close() was called, the listener is closed and the last connection is gone.
  bool fully_closed() { return closing.load() && accept_done_.load() && table.size() == 0; }
  // Reports ServerClosed when fully closed (after close(), the listener's end and every connection's end).
  void maybe_closed() {
    if (fully_closed()) sink->server_closed();
  }

  // Owning thread: apply one posted response command to the connection.
  void apply(ConnHandle& h, Connection& c, const CommandHead& cmd, Slice reason, Slice fields, Slice data,
             uint64_t now);
  // Owning thread: pause/resume, shutdown and kill requested by other threads.
  void apply_flags(ConnHandle& h, Connection& c, uint64_t now);
  // Owning thread: after writing, publish the unsent count and report Drain if the consumer waits for it.
  void after_write(ConnHandle& h, Connection& c, EventWriter& w);
  // Owning thread: the connection is gone (socket closed): count, report, drop from the table.
  void finished(ConnHandle& h, CloseReason r, EventWriter& w);

 private:
  std::atomic<bool> accept_done_{false};
};

// A connection's events, forwarded to its thread's writer with its handle.
class HandleSink : public ConnSink {
 public:
  HandleSink(Registry& reg, ConnHandle& h, EventWriter& w) : reg_(reg), h_(h), w_(w) {}
  void on_request(Connection& c, uint32_t seq, const RequestHead& head, Slice raw, bool closes) override;
  void on_body(Connection& c, uint32_t seq, Slice data) override;
  void on_body_end(Connection& c, uint32_t seq, const Header* trailers, uint32_t n) override;
  void on_client_error(Connection& c, HttpError e) override;
  void on_raw(Connection& c, Slice data) override;
  void on_raw_end(Connection& c) override;

 private:
  Registry& reg_;
  ConnHandle& h_;
  EventWriter& w_;
};

}  // namespace nova
