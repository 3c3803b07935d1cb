// What every I/O model shares: the options, the table of live connections (by id, with the idle LRU and the
// cap), the stats, the event queue to JS, and the mailbox through which JS's responses reach a connection.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>
#include "../core/connection.h"
#include "event_queue.h"
#include "socket.h"

namespace nova {

uint64_t now_ms();

struct ServerOptions {
  ConnConfig conn;
  LiveU32 max_connections = 10000;
  int io_model = 0;  // 0 blocking, 1 evented
  int backend = 0;   // 0 default, 1 epoll, 2 poll
  int threads = 1;
  size_t high_water = 64 * 1024;  // response bytes queued for one connection before write() says false
};

// The part of a connection that other threads touch. The connection itself belongs to its I/O thread.
struct ConnHandle {
  uint32_t id = 0;
  sock_t fd = kBadSocket;
  std::string remote_address;
  int remote_port = 0;

  std::mutex mu;                    // guards inbox, pause, closed, and fd against reuse after close
  std::condition_variable cv;       // blocking model: the connection's thread waits here for JS
  std::vector<ResponseCmd> inbox;   // responses from JS, applied in order by the owning thread
  int pause = -1;                   // pending body flow-control change: -1 none, 0 resume, 1 pause
  bool closed = false;              // fd is closed: never touch it again
  std::atomic<bool> kill{false};    // close now (closeAllConnections, eviction, env teardown)
  std::atomic<uint8_t> kill_reason{0};
  std::atomic<bool> shutdown{false};  // server.close(): finish what is under way, then close

  std::atomic<int64_t> js_bytes{0};  // response bytes JS gave and the owning thread has not applied yet
  std::atomic<int64_t> unsent{0};    // bytes the connection still has to write
  // The part of unsent in the write buffer: the front response's bytes (and those before it), not the bytes of
  // responses pipelined behind it, which cannot leave before it ends. Drain is measured on this: measured on unsent,
  // a front response waiting for 'drain' and 64 KiB held behind it would wait for each other forever.
  std::atomic<int64_t> writable{0};
  std::atomic<bool> want_drain{false};

  // Idle LRU (guarded by ConnTable::mu_).
  bool idle = false;
  // Taken off the idle LRU to be closed (eviction, closeIdleConnections, shutdown): it must not start a request.
  bool reaped = false;
  std::list<ConnHandle*>::iterator lru_pos;

  void (*wake)(ConnHandle*) = nullptr;  // the driver's way to make the owning thread look at its mailbox
  sock_t wake_fd = kBadSocket;          // blocking model, passthrough: written to wake the thread from its poll (mu)
  void* driver = nullptr;

  int64_t queued() const { return js_bytes.load() + unsent.load(); }
  int64_t queued_writable() const { return js_bytes.load() + writable.load(); }
};

class ConnTable {
 public:
  std::shared_ptr<ConnHandle> add(sock_t fd, std::string address, int port);
  // True when a surge of connections is over: at least kSurge were open at once since the last true, and half of
  // them are gone (ServerCore::finished then gives the memory they freed back to the OS).
  bool remove(ConnHandle* h);
  std::shared_ptr<ConnHandle> find(uint32_t id);
  void set_idle(ConnHandle* h, bool idle);
  // The owning thread got bytes on a connection it had marked idle: takes it off the LRU before anything is parsed,
  // so that no eviction can close it once a request has gone to JS. False when an eviction (or closeIdle) took it
  // first: the bytes must be dropped and the connection closed with h->kill_reason (the kill itself may still be
  // on its way from the other thread).
  bool claim(ConnHandle* h);
  size_t size();
  size_t idle_count();
  // Closes the oldest idle connection; false if none is idle.
  bool evict_oldest(CloseReason r);
  void kill_idle(CloseReason r);
  void kill_all(CloseReason r);
  void shutdown_all();
  static void kill(ConnHandle* h, CloseReason r);

 private:
  std::mutex mu_;
  std::unordered_map<uint32_t, std::shared_ptr<ConnHandle>> by_id_;
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

class ServerCore;

// Forwards one connection's events to the event queue with its id.
class QueueSink : public ConnSink {
 public:
  QueueSink(ServerCore& core, uint32_t id) : core_(core), id_(id) {}
  void on_request(Connection& c, uint32_t seq, const RequestHead& head, Slice raw, bool closes) override;
  void on_body(Connection& c, uint32_t seq, Slice data) override;
  void on_body_end(Connection& c, uint32_t seq, const Header* trailers, uint32_t n) override;
  void on_client_error(Connection& c, HttpError e) override;
  void on_raw(Connection& c, Slice data) override;
  void on_raw_end(Connection& c) override;

 private:
  ServerCore& core_;
  uint32_t id_;
};

class ServerCore {
 public:
  ServerCore(const ServerOptions& o, std::function<void()> notify) : opts(o), events(std::move(notify)) {}
  ServerOptions opts;  // fixed after listen(), except the LiveU32 fields (configure())
  EventQueue events;
  ConnTable table;
  Stats stats;
  std::atomic<bool> closing{false};

  // Owning thread: apply JS's mailbox to the connection (responses, flow control, kill, shutdown).
  void apply_mailbox(ConnHandle& h, Connection& c);
  // Owning thread: after writing, publish the unsent count and send Drain if JS waits for it.
  void after_write(ConnHandle& h, Connection& c);
  // Owning thread: the connection is gone (socket closed): count, drop from the table, tell JS.
  void finished(ConnHandle& h, CloseReason r);

  // ---- JS thread: responses are staged here and handed over in flush().
  int64_t stage(uint32_t conn, ResponseCmd&& cmd);
  void flush();
  void set_pause(uint32_t conn, bool paused);
  bool want_drain(uint32_t conn);

 private:
  std::vector<std::pair<std::shared_ptr<ConnHandle>, ResponseCmd>> staged_;
  std::shared_ptr<ConnHandle> last_;  // most recent lookup: responses come in runs per connection
};

}  // namespace nova
