// The blocking I/O model (docs/design.md): an accept thread and one thread per connection, blocking
// recv with SO_RCVTIMEO set to the connection's next deadline. A connection's thread is half-duplex: it reads
// while the connection waits for the client, and waits on a condition variable while it waits for JS.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <thread>
#include "../core/http_errors.h"
#include "driver.h"

namespace nova {

namespace {

constexpr uint32_t kRejectLingerMs = 50;  // how long the accept thread waits for a refused client's bytes
// While a dispatched request's body is still arriving, JS may answer before the client sends more (a client
// that waits for the response before sending its body, or a handler that ignores the body). A blocked recv
// can't be woken portably, so such reads wait at most this long before the thread looks at its mailbox.
constexpr uint32_t kMailboxSliceMs = 10;
// While the thread waits for JS it must also see a client that leaves (a handler may await for long, and must
// hear of it at once). A first wait of this long is spent on cv (JS usually answers within it); then the thread
// looks at the socket and from then on waits in poll on the socket and a wake pipe (where there is one; else it
// keeps looking every kPeerCheckMs).
constexpr uint32_t kPeerCheckMs = 20;

// ms until deadline for poll (-1: none), at least 1.
int wait_ms(uint64_t deadline, uint64_t now) {
  if (deadline == UINT64_MAX) return -1;
  return deadline > now ? static_cast<int>(std::min<uint64_t>(deadline - now + 1, 1u << 30)) : 1;
}

// A blocking connection's handle: the condition variable its thread waits on for JS (only this model has one).
struct BlockingHandle : ConnHandle {
  std::condition_variable cv;
  sock_t wake_fd = kBadSocket;  // passthrough: written to wake the thread from its poll (mu)
};

void wake_blocking(ConnHandle* x) {
  auto* h = static_cast<BlockingHandle*>(x);
  std::lock_guard<std::mutex> lk(h->mu);
  h->cv.notify_one();
  if (h->wake_fd != kBadSocket) sock_wake(h->wake_fd);  // a passthrough thread sleeps in poll, not on cv
}

void wake_blocking_mailbox(void* h) { wake_blocking(static_cast<ConnHandle*>(h)); }

class BlockingDriver : public Driver {
 public:
  explicit BlockingDriver(std::shared_ptr<Registry> reg) : reg_(std::move(reg)) {}
  // The threads reach the driver through a plain pointer: it is destroyed only on the JS thread (ServerWrap),
  // after close() or stop_now() shut the listener and every connection down, and waits here for the threads to
  // end. (Detached threads holding the last shared_ptr made the owner's final release race the thread's exit
  // under ThreadSanitizer.)
  ~BlockingDriver() override {
    {
      std::unique_lock<std::mutex> lk(live_mu_);
      live_cv_.wait(lk, [&] { return live_threads_ == 0; });
    }
    if (accept_thread_.joinable()) accept_thread_.join();
  }

  Registry& registry() override { return *reg_; }

  bool listen(const ListenSpec& spec, ListenResult* out) override {
    listener_ = sock_listen(spec, &out->error);
    if (listener_ == kBadSocket) return false;
    sock_local_address(listener_, &out->address, &out->family, &out->port);
    accept_thread_ = std::thread([this] { accept_loop(); });
    return true;
  }

  void close() override {
    if (reg_->closing.exchange(true)) return;
    stop_accepting();
    reg_->table.shutdown_all();
    reg_->maybe_closed();
  }

  void stop_now() override {
    reg_->closing = true;
    stop_accepting();
    // Shut the queue first: it wakes threads waiting in wait_for_room() for a JS thread that is going away (they
    // used to wait out the 5 s below), and nothing pushed from now on would be read anyway.
    reg_->sink->shut();
    reg_->table.kill_all(CloseReason::Shutdown);
    std::unique_lock<std::mutex> lk(live_mu_);
    // Bounded: a thread stuck in a system call we can't interrupt must not hang the process's exit.
    live_cv_.wait_for(lk, std::chrono::seconds(5), [&] { return live_threads_ == 0; });
    lk.unlock();
    if (accept_thread_.joinable()) accept_thread_.join();
  }

  // ServerClosed is delivered: the accept thread has ended (connection threads are detached).
  void reap() override {
    if (accept_thread_.joinable()) accept_thread_.join();
  }

 private:
  void stop_accepting() {
    std::lock_guard<std::mutex> lk(listener_mu_);
    if (listener_ != kBadSocket && !listener_stopped_) {
      listener_stopped_ = true;
      sock_shutdown_both(listener_);  // wakes accept() on Linux; on Windows closing does
#ifdef _WIN32
      sock_close(listener_);
      listener_ = kBadSocket;
#endif
    }
  }

  void accept_loop() {
    for (;;) {
      PeerAddress peer;
      AcceptFail fail = AcceptFail::None;
      sock_t fd = sock_accept(listener_, &peer, &fail);
      if (fd == kBadSocket) {
        if (fail == AcceptFail::Fatal || reg_->closing) break;
        // EMFILE and friends: back off, retry (a blocking accept returns at once while the fds are out).
        if (fail == AcceptFail::NoFds) std::this_thread::sleep_for(std::chrono::milliseconds(kAcceptBackoffMs));
        continue;
      }
      if (reg_->closing) {
        sock_close(fd);
        break;
      }
      sock_set_nodelay(fd);
      if (!reg_->admit([&] { return reg_->table.evict_oldest(CloseReason::Evicted); })) {
        refuse(fd);
        continue;
      }
      auto h = std::make_shared<BlockingHandle>();
      h->fd = fd;
      h->peer = peer;
      h->wake = wake_blocking;
      h->mailbox = std::make_shared<Mailbox>(&wake_blocking_mailbox, h.get(), kConnMailboxKeep);
      reg_->table.add(h);
      {
        std::lock_guard<std::mutex> lk(live_mu_);
        ++live_threads_;
      }
      std::thread([this, h] { connection_thread(h); }).detach();
    }
    {
      std::lock_guard<std::mutex> lk(listener_mu_);
      if (listener_ != kBadSocket) sock_close(listener_);
      listener_ = kBadSocket;
    }
    reg_->accept_done();
  }

  // At the cap with nothing idle: 503 and a short graceful close, without a thread of its own. It runs on the
  // accept thread, so everything here has one overall deadline: a refused client that trickles a byte every few
  // ms (each recv returning before its timeout) kept every new client out before.
  void refuse(sock_t fd) {
    const std::string_view r = error_response(HttpError::ServiceUnavailable);
    sock_set_send_timeout(fd, kRejectLingerMs);
    sock_send(fd, r.data(), r.size());
    linger(fd, kRejectLingerMs);
    sock_close(fd);
    reg_->stats.closes[static_cast<int>(CloseReason::Cap)].fetch_add(1);
  }

  void connection_thread(std::shared_ptr<BlockingHandle> h) {
    serve(h);
    h.reset();
    // Last: the connection's objects (writer, buffers) are gone before the count that stop_now() waits on drops.
    bool last;
    {
      std::lock_guard<std::mutex> lk(live_mu_);
      last = --live_threads_ == 0;
      if (last) live_cv_.notify_all();
    }
    // The surge trim (Registry::on_close) runs while each thread still holds its writer and buffers: the last
    // thread to end gives back what the others freed after it. Touches nothing of this driver (it may be gone).
    if (last) release_free_memory();
  }

  void serve(const std::shared_ptr<BlockingHandle>& h) {
    Registry& reg = *reg_;
    std::unique_ptr<EventWriter> w = reg.sink->writer();
    HandleSink sink(reg, *h, *w);
    Connection c(reg.opts.conn, sink, now_ms());
    CommandBuffer commands;
    const sock_t fd = h->fd;
    sock_set_send_timeout(fd, reg.opts.conn.send_timeout_ms);
    uint32_t rcvtimeo = 0;
    bool shutdown_seen = false;  // server.close() reached this connection (begin_shutdown ran)
    // The pipe wake_blocking also writes to once the thread waits in poll (passthrough, long waits for JS).
    sock_t wake_r = kBadSocket;
    bool wake_tried = false;
    auto open_wake = [&] {
      wake_tried = true;
      sock_t wfd = kBadSocket;
      if (!sock_wake_pair(&wake_r, &wfd)) return;
      std::lock_guard<std::mutex> lk(h->mu);
      h->wake_fd = wfd;
    };
    // One recv's outcome, fed to the connection.
    auto take = [&](int64_t n) {
      if (n > 0) {
        h->count_read(n);
        c.on_read(static_cast<size_t>(n), now_ms());
        w->commit();
        reg.sink->wait_for_room(kQueuedForJsCap);
      } else if (n == 0) {
        c.on_eof(now_ms());
      } else if (n == kSockTimeout) {
        c.on_timer(now_ms());
      } else {
        c.force_close(n == kSockReset ? CloseReason::Client : CloseReason::Error);
      }
    };
    // The socket is readable: one recv (it returns at once).
    auto read_once = [&] {
      size_t avail = 0;
      char* space = c.read_space(&avail);
      take(sock_recv(fd, space, avail));
    };
    for (;;) {
      const bool shutdown_now = h->shutdown.load();
      h->mailbox->take(commands);
      const uint64_t applied = now_ms();
      commands.for_each([&](const CommandHead& cmd, Slice reason, Slice fields, Slice data) {
        reg.apply(*h, c, cmd, reason, fields, data, applied);
      });
      commands.clear(kConnMailboxKeep);
      reg.apply_flags(*h, c, applied);
      shutdown_seen = shutdown_now;
      while (c.out_size() > 0) {
        const int64_t n = sock_send(fd, c.out_data(), c.out_size());
        if (n <= 0) {
          // A peer that reset is the client's doing (as in the evented model); a send stall or another failure is not.
          c.force_close(h->kill           ? static_cast<CloseReason>(h->kill_reason.load())
                        : n == kSockReset ? CloseReason::Client
                                          : CloseReason::Error);
          break;
        }
        h->count_written(n);
        c.out_consumed(static_cast<size_t>(n), now_ms());
        reg.after_write(*h, c, *w);
      }
      if (c.wants_write_shutdown()) {
        sock_shutdown_write(fd);
        c.write_shut();
      }
      reg.after_write(*h, c, *w);
      w->commit();
      if (c.done()) break;
      const bool idle = c.idle();
      reg.table.set_idle(h.get(), idle);
      // server.close() sets every shutdown flag, then kills the connections on the idle list. One that joins the
      // list just after that sweep would block in recv until keepAliveTimeout: look at the flag again (set_idle
      // and the sweep take the same lock, so the flag is visible here) and let apply_flags close it now.
      if (idle && !shutdown_now && h->shutdown.load()) continue;
      if (idle) {
        c.trim();
        release_after_burst(now_ms());
      }

      const uint64_t now = now_ms();
      const uint64_t deadline = c.deadline();
      if (c.upgraded()) {
        // Passthrough: the client's bytes and JS's writes come at any time. With a wake pipe the thread sleeps in
        // poll on both; without one it looks at its mailbox every kMailboxSliceMs.
        if (!wake_tried) {
          open_wake();
          continue;  // JS may have posted before the pipe existed (its wake-up went to cv): read the mailbox first
        }
        int ms = wait_ms(deadline, now);
        if (wake_r == kBadSocket && (ms < 0 || ms > static_cast<int>(kMailboxSliceMs))) ms = kMailboxSliceMs;
        const int ready = sock_wait(fd, c.wants_read(), wake_r, ms);
        if (ready & kWaitWake) sock_wake_drain(wake_r);  // before the mailbox is read at the top of the loop
        if (h->kill) continue;
        if (ready & kWaitSocket) {
          read_once();
        } else if (ready == 0 && now_ms() >= deadline) {
          c.on_timer(now_ms());
        }
        continue;
      }
      if (c.wants_read() && c.reading_phase()) {
        uint32_t ms = deadline == UINT64_MAX ? 0 : static_cast<uint32_t>(deadline > now ? deadline - now + 1 : 1);
        if (c.awaiting_js() && (ms == 0 || ms > kMailboxSliceMs)) {
          // A slice: the connection lives on after it (JS may answer meanwhile). Wait for readability with
          // poll/WSAPoll, not with SO_RCVTIMEO: on Windows a receive that times out leaves the socket in an
          // indeterminate state (bytes may be lost), so SO_RCVTIMEO is kept for the deadlines after which the
          // connection closes anyway. Readable: the recv below returns at once.
          if (!(sock_wait(fd, true, kBadSocket, static_cast<int>(kMailboxSliceMs)) & kWaitSocket)) continue;
        }
        if (idle && burst_trim_owed()) {
          // A burst of answers just ended: once quiet for a moment, give the heap it freed back (a connection
          // that goes idle during the burst trims at most every kBurstTrimMs, so the burst's tail would stay).
          const int quiet = ms != 0 && ms < kBurstTrimMs ? static_cast<int>(ms) : static_cast<int>(kBurstTrimMs);
          if (!(sock_wait(fd, true, kBadSocket, quiet) & kWaitSocket)) {
            release_after_burst(now_ms());
            continue;
          }
        }
        if (ms != rcvtimeo) {
          sock_set_recv_timeout(fd, ms);
          rcvtimeo = ms;
        }
        size_t avail = 0;
        char* space = c.read_space(&avail);
        const int64_t n = sock_recv(fd, space, avail);
        if (h->kill || (n != kSockTimeout && idle && !reg.table.claim(h.get()))) {
          // Killed, or taken off the idle list by an eviction before this read could claim it: nothing read
          // here may start a request (its response could never be sent).
          c.force_close(static_cast<CloseReason>(h->kill_reason.load()));
        } else {
          take(n);
        }
      } else {
        // Waiting for JS. Unless reading is paused (or held), the socket is watched too (kPeerCheckMs): a client
        // that leaves is reported at once (on_eof/force_close), and pipelined bytes are read meanwhile.
        const bool watch = c.wants_read();
        if (watch && wake_r != kBadSocket) {
          const int ready = sock_wait(fd, true, wake_r, wait_ms(deadline, now));
          if (ready & kWaitWake) sock_wake_drain(wake_r);  // before the mailbox is read at the top of the loop
          if (h->kill) continue;  // the kill's shutdown makes the socket readable: its reason, not the client's
          if (ready & kWaitSocket) read_once();
          else if (ready == 0 && now_ms() >= deadline) c.on_timer(now_ms());
          continue;
        }
        const uint64_t until = watch ? std::min<uint64_t>(deadline, now + kPeerCheckMs) : deadline;
        std::unique_lock<std::mutex> lk(h->mu);
        auto ready = [&] {
          return h->mailbox->has_pending() || h->pause != -1 || h->kill || (h->shutdown && !shutdown_seen);
        };
        bool woke = true;
        if (until == UINT64_MAX) {
          h->cv.wait(lk, ready);
        } else {
          woke = h->cv.wait_until(lk, std::chrono::steady_clock::time_point(std::chrono::milliseconds(until)), ready);
        }
        lk.unlock();
        if (!woke) {
          if (now_ms() >= deadline) {
            c.on_timer(now_ms());
          } else if (watch && (sock_wait(fd, true, kBadSocket, 0) & kWaitSocket)) {
            read_once();
          } else if (watch && !wake_tried) {
            open_wake();  // a long wait: from now on in poll, woken by JS or the client
          }
        }
      }
    }
    if (wake_r != kBadSocket) {
      sock_t wfd;
      {
        std::lock_guard<std::mutex> lk(h->mu);
        wfd = h->wake_fd;
        h->wake_fd = kBadSocket;
      }
      sock_close(wfd);
      if (wake_r != wfd) sock_close(wake_r);  // an eventfd is both ends
    }
    reg.table.set_idle(h.get(), false);
    if (c.linger() && c.close_reason() != CloseReason::Count) linger(fd, reg.opts.conn.linger_ms);
    reg.finished(*h, c.close_reason() == CloseReason::Count ? CloseReason::Error : c.close_reason(), *w);
    w->commit();
    reg.maybe_closed();
  }

  // Graceful close: stop writing, then read and discard until the client closes or the linger time is up,
  // so a client that is still sending reads our last response instead of a reset. One deadline for the whole
  // wait, whatever the client sends. (SO_RCVTIMEO is fine here, Windows too: the connection closes after it.)
  static void linger(sock_t fd, uint32_t ms) {
    sock_shutdown_write(fd);
    const uint64_t end = now_ms() + ms;
    char buf[4096];
    for (;;) {
      const uint64_t now = now_ms();
      if (now >= end) break;
      sock_set_recv_timeout(fd, static_cast<uint32_t>(end - now));
      if (sock_recv(fd, buf, sizeof buf) <= 0) break;
    }
  }

  std::shared_ptr<Registry> reg_;
  std::mutex listener_mu_;
  sock_t listener_ = kBadSocket;
  bool listener_stopped_ = false;
  std::thread accept_thread_;
  std::mutex live_mu_;
  std::condition_variable live_cv_;
  int live_threads_ = 0;
};

}  // namespace

std::shared_ptr<Driver> make_blocking_driver(std::shared_ptr<Registry> reg) {
  return std::make_shared<BlockingDriver>(std::move(reg));
}

}  // namespace nova
