// The evented I/O model (the design's Option B): `threads` loop threads, each owning its connections through a
// Poller (epoll or poll/WSAPoll) and a TimerWheel for their deadlines. Every loop turn reads what is ready, hands
// the requests to JS in one batch, applies the responses JS posted (one wake-up per JS flush), and writes each
// connection's output with one send.
#include <thread>
#include "loop.h"

namespace nova {

namespace {
constexpr int kAcceptBurst = 64;            // accepts per readiness event, so one loop can't starve its clients
constexpr size_t kReadBurst = 256 * 1024;   // bytes read from one connection per turn (fairness)

}  // namespace

void wake_evented(ConnHandle* h) { static_cast<Loop*>(h->driver)->post(h->id); }

namespace {

class EventedDriver : public Driver, public LoopHost, public std::enable_shared_from_this<EventedDriver> {
 public:
  explicit EventedDriver(std::shared_ptr<ServerCore> core) : core_(std::move(core)) {}
  ~EventedDriver() override { join(); }

  ServerCore& core() override { return *core_; }

  bool listen(const std::string& host, int port, int backlog, ListenResult* out) override {
    const int n = core_->opts.threads < 1 ? 1 : core_->opts.threads;
    for (int i = 0; i < n; ++i) {
      std::unique_ptr<Poller> p;
      if (core_->opts.backend != 2) p = make_epoll_poller();
      if (!p && core_->opts.backend == 1) {
        out->error = "ENOSYS";  // epoll was asked for and this system has none
        return false;
      }
      if (!p) p = make_poll_poller();
      loops_.push_back(std::make_unique<Loop>(*this, *core_, std::move(p)));
    }
    listener_ = sock_listen(host, port, backlog, false, &out->error);
    if (listener_ == kBadSocket) return false;
    sock_set_nonblocking(listener_);
    sock_local_address(listener_, &out->address, &out->family, &out->port);
    listening_loops_ = n;
    // When JS takes a batch, loops that stopped reading bodies for want of room may read again.
    core_->events.set_on_taken([this] {
      if (starved_loops_.load() > 0)
        for (auto& l : loops_) l->wake();
    });
    auto self = shared_from_this();
    for (auto& l : loops_) {
      Loop* loop = l.get();
      threads_.emplace_back([self, loop] { loop->run(self->listener_); });
    }
    return true;
  }

  void close() override {
    if (core_->closing.exchange(true)) return;
    for (auto& l : loops_) l->wake();  // each loop stops watching the listener at its next turn
    core_->table.shutdown_all();
    maybe_closed();
  }

  void stop_now() override {
    core_->closing = true;
    core_->events.shut();
    for (auto& l : loops_) l->stop();
    join();
  }

  // ServerClosed was pushed when the last connection and the listener were gone; every loop then leaves its
  // run() by itself (the one that pushed it is finishing its turn): this waits at most for that turn.
  void reap() override { join(); }

  // A loop stopped watching the listener; the last one closes it.
  void listener_released() override {
    if (--listening_loops_ == 0) {
      sock_close(listener_);
      accept_done_ = true;
      maybe_closed();
    }
  }

  void maybe_closed() override {
    if (core_->closing && accept_done_ && core_->table.size() == 0) core_->events.push_server_closed();
  }


 private:
  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
  }

  std::shared_ptr<ServerCore> core_;
  sock_t listener_ = kBadSocket;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::thread> threads_;
  std::atomic<int> listening_loops_{0};
  std::atomic<bool> accept_done_{false};
};

}  // namespace

void Loop::run(sock_t listener) {
  start(listener);
  while (!stop_ && serving()) turn(-1);
  finish();
  // The thread ends: close the poller (its epoll fd and wake-up descriptors) now, not when the driver is freed.
  close_poller();
}

void Loop::close_poller() {
  std::unique_ptr<Poller> p;
  std::lock_guard<std::mutex> lk(poller_mu_);
  poller_live_ = false;
  p = std::move(poller_);
}

int64_t Loop::next_timeout() {
  const uint64_t now = now_ms();
  int64_t t = wheel_.next_timeout(now);
  if (accept_paused_until_ != 0) {
    const int64_t a = accept_paused_until_ > now ? static_cast<int64_t>(accept_paused_until_ - now) : 0;
    if (t < 0 || a < t) t = a;
  }
  return t;
}

// Out of descriptors: the listener stays readable (level-triggered) while the connection waits in the backlog,
// so leave it out of the poller for a while instead of being woken for it at every turn.
void Loop::pause_accepting(uint64_t now) {
  if (accept_paused_until_ != 0) return;
  poller_->remove(listener_);
  accept_paused_until_ = now + kAcceptBackoffMs;
}

void Loop::resume_accepting(uint64_t now) {
  if (accept_paused_until_ == 0 || now < accept_paused_until_) return;
  accept_paused_until_ = 0;
  if (listening_ && !poller_->add(listener_, &listener_token_, true, false)) accept_paused_until_ = now + kAcceptBackoffMs;
}

void Loop::start(sock_t listener) {
  listener_ = listener;
  listening_ = poller_->add(listener_, &listener_token_, true, false);
}

void Loop::turn(int timeout_ms) {
  PollEvent events[256];
  if (listening_ && core_.closing) {
    if (accept_paused_until_ == 0) poller_->remove(listener_);
    accept_paused_until_ = 0;
    listening_ = false;
    d_.listener_released();
  }
  if (!serving()) return;  // closed, and this loop owns nothing any more: its thread ends (run())
  if (accept_paused_until_ != 0) resume_accepting(now_ms());
  if (timeout_ms < 0) {
    const int64_t t = next_timeout();
    timeout_ms = t < 0 ? -1 : static_cast<int>(t > 60000 ? 60000 : t);
  }
  const int n = poller_->wait(events, 256, timeout_ms);
  const uint64_t now = now_ms();
  for (int i = 0; i < n; ++i) {
    if (events[i].data == &listener_token_) {
      if (listening_ && accept_paused_until_ == 0) accept_some(now);
      continue;
    }
    LoopConn* lc = static_cast<LoopConn*>(events[i].data);
    if (lc->lingering) {
      linger_read(lc);
      continue;
    }
    if (events[i].hangup && !lc->reading && !lc->writing) {
      // A hang-up or error on a socket registered for nothing (reading stopped: a closing request, the pipeline
      // cap, a paused body; nothing to write yet). epoll and poll report it anyway, level-triggered, so left
      // alone it comes back at every wait and the loop spins a core. Nothing can be read from or written to
      // such a socket again: close it (as a reset found by recv would), so its request's response gets 'close'.
      lc->c.force_close(lc->h->kill ? static_cast<CloseReason>(lc->h->kill_reason.load()) : CloseReason::Client);
      mark(lc);
      continue;
    }
    if (events[i].readable || events[i].hangup) read_some(lc, now);
    if (events[i].writable || events[i].hangup) mark(lc);
  }
  apply_posted();
  if (starved_ > 0 && core_.events.pending_bytes() < kQueuedBodyCap) {
    for (auto& kv : conns_)
      if (kv.second->starved) {
        kv.second->starved = false;
        mark(kv.second);
      }
    starved_ = 0;
    d_.starved_loops_.fetch_sub(1);
  }
  wheel_.advance(now, [&](TimerNode* node) {
    LoopConn* lc = static_cast<LoopConn*>(node);
    if (lc->lingering) {
      close_conn(lc);
      return;
    }
    lc->c.on_timer(now);
    mark(lc);
  });
  service_dirty(now);
}

void Loop::settle() {
  apply_posted();
  service_dirty(now_ms());
}

// JS's responses and flow control: one wake-up brought all of them.
void Loop::apply_posted() {
  wake_pending_.store(false);
  {
    std::lock_guard<std::mutex> lk(post_mu_);
    taken_.swap(posted_);
  }
  for (uint32_t id : taken_) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    LoopConn* lc = it->second;
    if (lc->lingering) continue;
    core_.apply_mailbox(*lc->h, lc->c);
    mark(lc);
  }
  taken_.clear();
}

void Loop::service_dirty(uint64_t now) {
  for (size_t i = 0; i < dirty_.size(); ++i) {
    LoopConn* lc = dirty_[i];
    if (lc == nullptr) continue;  // closed earlier in this turn
    lc->dirty = false;
    service(lc, now);
  }
  dirty_.clear();
}

void Loop::finish() {
  // Teardown: close everything this loop owns.
  for (auto& kv : conns_) {
    LoopConn* lc = kv.second;
    poller_->remove(lc->h->fd);
    core_.table.set_idle(lc->h.get(), false);
    core_.finished(*lc->h, CloseReason::Shutdown);
    delete lc;
  }
  conns_.clear();
  if (listening_) {
    poller_->remove(listener_);
    listening_ = false;
    d_.listener_released();
  }
}

void Loop::accept_some(uint64_t now) {
  for (int i = 0; i < kAcceptBurst; ++i) {
    std::string addr;
    int port = 0;
    AcceptFail fail = AcceptFail::None;
    sock_t fd = sock_accept(listener_, &addr, &port, &fail);
    if (fd == kBadSocket) {
      if (fail == AcceptFail::NoFds) pause_accepting(now);
      return;  // else EAGAIN: another loop took it, or nothing left
    }
    core_.stats.accepted.fetch_add(1, std::memory_order_relaxed);
    sock_set_nonblocking(fd);
    sock_set_nodelay(fd);
    bool refuse = false;
    if (core_.table.size() >= core_.opts.max_connections && !core_.table.evict_oldest(CloseReason::Evicted))
      refuse = true;
    auto h = core_.table.add(fd, std::move(addr), port);
    h->driver = this;
    h->wake = wake_evented;
    LoopConn* lc = new LoopConn(core_, h, now);
    conns_.emplace(h->id, lc);
    if (!poller_->add(fd, lc, true, false)) {
      lc->c.force_close(CloseReason::Error);
    } else if (refuse) {
      lc->c.refuse(HttpError::ServiceUnavailable, CloseReason::Cap);
    }
    mark(lc);
  }
}

void Loop::read_some(LoopConn* lc, uint64_t now) {
  Connection& c = lc->c;
  if (lc->idle) {
    // Off the idle list before a request can reach JS; if an eviction got it first, it closes unread.
    lc->idle = false;
    if (!core_.table.claim(lc->h.get())) {
      c.force_close(static_cast<CloseReason>(lc->h->kill_reason.load()));
      mark(lc);
      return;
    }
  }
  size_t total = 0;
  while (c.wants_read() && total < kReadBurst) {
    if (c.reading_body() && core_.events.pending_bytes() >= kQueuedBodyCap) {
      if (!lc->starved) {
        lc->starved = true;
        if (starved_++ == 0) d_.starved_loops_.fetch_add(1);
      }
      break;
    }
    size_t avail = 0;
    char* space = c.read_space(&avail);
    const int64_t n = sock_recv(lc->h->fd, space, avail);
    if (n > 0) {
      c.on_read(static_cast<size_t>(n), now);
      total += static_cast<size_t>(n);
      if (static_cast<size_t>(n) < avail) break;  // drained the socket for now
    } else if (n == 0) {
      c.on_eof(now);
      break;
    } else if (n == kSockTimeout) {
      break;  // would block
    } else {
      c.force_close(n == kSockReset ? CloseReason::Client : CloseReason::Error);
      break;
    }
  }
  mark(lc);
}

// Graceful close in progress: discard what the client still sends until it closes or the linger time ends.
void Loop::linger_read(LoopConn* lc) {
  char buf[16384];
  for (;;) {
    const int64_t n = sock_recv(lc->h->fd, buf, sizeof buf);
    if (n > 0) continue;
    if (n == kSockTimeout) return;  // would block: keep lingering
    close_conn(lc);                 // EOF or error: done
    return;
  }
}

void Loop::service(LoopConn* lc, uint64_t now) {
  if (lc->lingering) return;
  Connection& c = lc->c;
  ConnHandle& h = *lc->h;
  if (c.out_size() > 0) {
    const int64_t n = sock_send(h.fd, c.out_data(), c.out_size());
    if (n > 0) {
      c.out_consumed(static_cast<size_t>(n), now);
    } else if (n != kSockTimeout) {
      c.force_close(h.kill ? static_cast<CloseReason>(h.kill_reason.load()) : CloseReason::Client);
    }
  }
  if (c.wants_write_shutdown()) {
    sock_shutdown_write(h.fd);
    c.write_shut();
  }
  core_.after_write(h, c);
  if (c.done()) {
    if (c.linger() && !h.kill) {
      // Stop writing, keep reading (and discarding) for a while, so the client reads our last response.
      sock_shutdown_write(h.fd);
      lc->lingering = true;
      if (!lc->reading || lc->writing) poller_->modify(h.fd, lc, true, false);
      wheel_.schedule(lc, now + core_.opts.conn.linger_ms);
      if (lc->idle) {
        core_.table.set_idle(&h, false);
        lc->idle = false;
      }
      linger_read(lc);
      return;
    }
    close_conn(lc);
    return;
  }
  const bool want_read = c.wants_read() && !lc->starved;
  const bool want_write = c.out_size() > 0;
  if (want_read != lc->reading || want_write != lc->writing) {
    poller_->modify(h.fd, lc, want_read, want_write);
    lc->reading = want_read;
    lc->writing = want_write;
  }
  const bool idle = c.idle();
  if (idle != lc->idle) {
    core_.table.set_idle(&h, idle);
    lc->idle = idle;
  }
  if (idle) c.trim();  // an idle keep-alive connection holds no read buffer
  wheel_.schedule(lc, c.deadline());
}

void Loop::close_conn(LoopConn* lc) {
  poller_->remove(lc->h->fd);
  wheel_.cancel(lc);
  conns_.erase(lc->h->id);
  if (lc->idle) core_.table.set_idle(lc->h.get(), false);
  const CloseReason r = lc->c.close_reason() == CloseReason::Count ? CloseReason::Error : lc->c.close_reason();
  core_.finished(*lc->h, r);
  if (lc->dirty) {
    // Still listed for service this turn: blank its entry so the service pass skips it.
    for (auto& p : dirty_)
      if (p == lc) p = nullptr;
  }
  delete lc;
  d_.maybe_closed();
}

std::shared_ptr<Driver> make_evented_driver(std::shared_ptr<ServerCore> core) {
  return std::make_shared<EventedDriver>(std::move(core));
}

}  // namespace nova
