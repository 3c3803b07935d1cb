// The event loop (see loop.h): readiness in, requests out to the loop's EventWriter (one commit per turn), posted
// responses in from its Mailbox (one take per wake-up), each connection's output written with one send.
#include "loop.h"
#include <new>

namespace nova {

namespace {
constexpr int kAcceptBurst = 64;           // accepts per readiness event, so one loop can't starve its clients
constexpr size_t kReadBurst = 256 * 1024;  // bytes read from one connection per turn (fairness)
constexpr size_t kOneSegment = 1200;       // bytes surely sent as one TCP segment (below any usual MSS)
}  // namespace

void wake_evented(ConnHandle* h) { static_cast<Loop*>(h->driver)->post(h->id); }

namespace {
// The blocks of EventedHandle (with their control block), recycled per thread: a connection costs no malloc once
// warm. A block is freed on the thread that lets go of it last (the JS thread, with loop threads): its list then
// fills up to kKeep and the rest goes back to the heap. One block size is pooled (the first asked for).
class BlockPool {
 public:
  static constexpr size_t kKeep = 256;
  ~BlockPool() {
    for (void* b : free_) ::operator delete(b);
  }
  void* get(size_t n) {
    if (n == size_ && !free_.empty()) {
      void* b = free_.back();
      free_.pop_back();
      return b;
    }
    return ::operator new(n);
  }
  void put(void* b, size_t n) {
    if (size_ == 0) size_ = n;
    if (n == size_ && free_.size() < kKeep) {
      free_.push_back(b);
    } else {
      ::operator delete(b);
    }
  }

 private:
  std::vector<void*> free_;
  size_t size_ = 0;
};
thread_local BlockPool t_blocks;

template <class T>
struct BlockAlloc {
  using value_type = T;
  BlockAlloc() = default;
  template <class U>
  BlockAlloc(const BlockAlloc<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(t_blocks.get(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { t_blocks.put(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const BlockAlloc<U>&) const {
    return true;
  }
  template <class U>
  bool operator!=(const BlockAlloc<U>&) const {
    return false;
  }
};
}  // namespace

// The LoopConn holds the loop's reference to its block until end_loop_conn.
LoopConn* Loop::make_loop_conn(sock_t fd, const PeerAddress& peer, uint64_t now) {
  std::shared_ptr<EventedHandle> h = std::allocate_shared<EventedHandle>(BlockAlloc<EventedHandle>());
  h->fd = fd;
  h->peer = peer;
  h->driver = this;
  h->wake = wake_evented;
  h->mailbox = mailbox_;
  reg_.table.add(h);
  unsigned char* at = h->conn;
  return new (at) LoopConn(reg_, *writer_, std::move(h), now);
}

// The LoopConn (its Connection and buffers) ends here; the block once the JS thread lets go of the handle too.
void Loop::end_loop_conn(LoopConn* lc) {
  std::shared_ptr<ConnHandle> keep = std::move(lc->h);
  lc->~LoopConn();
}

Loop::Loop(LoopHost& d, Registry& reg, std::unique_ptr<Poller> poller)
    : d_(d),
      reg_(reg),
      poller_(std::move(poller)),
      writer_(reg.sink->writer()),
      mailbox_(std::make_shared<Mailbox>(&Loop::wake_mailbox, this, kLoopMailboxKeep)),
      wheel_(now_ms()) {}

Loop::~Loop() {
  // Staged commands may still name this mailbox (the JS thread holds it): make their wake-ups harmless.
  mailbox_->set_wake([](void*) {}, nullptr);
}

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

int64_t Loop::next_timeout(uint64_t now) {
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
  if (listening_ && !poller_->add(listener_, &listener_token_, true, false))
    accept_paused_until_ = now + kAcceptBackoffMs;
}

void Loop::start(sock_t listener) {
  listener_ = listener;
  listening_ = poller_->add(listener_, &listener_token_, true, false);
}

// server.close(): this loop stops watching the listener (the last loop to do so closes it).
void Loop::release_listener_if_closing() {
  if (listening_ && reg_.closing) {
    if (accept_paused_until_ == 0) poller_->remove(listener_);
    accept_paused_until_ = 0;
    listening_ = false;
    d_.listener_released();
  }
}

void Loop::turn(int timeout_ms) {
  PollEvent events[256];
  release_listener_if_closing();
  if (!serving()) return;  // closed, and this loop owns nothing any more: its thread ends (run())
  if (accept_paused_until_ != 0) resume_accepting(now_ms());
  if (timeout_ms < 0) {
    const int64_t t = next_timeout(now_ms());
    timeout_ms = t < 0 ? -1 : static_cast<int>(t > 60000 ? 60000 : t);
  }
  // After a burst of answers, wake once the loop is quiet to give the freed heap back (release_after_burst).
  const bool trim_owed = burst_trim_owed();
  if (trim_owed && (timeout_ms < 0 || timeout_ms > static_cast<int>(kBurstTrimMs)))
    timeout_ms = static_cast<int>(kBurstTrimMs);
  const int n = poller_->wait(events, 256, timeout_ms);
  const uint64_t now = now_ms();
  last_now_ = now;
  if (n == 0 && trim_owed) release_after_burst(now);
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
    if (events[i].readable || events[i].hangup) {
      if (!lc->c.wants_read() || lc->starved) lc->unwanted_read = true;  // service() drops the registration
      read_some(lc, now);
    }
    if (events[i].writable || events[i].hangup) mark(lc);
  }
  apply_posted(now);
  if (starved_ > 0 && reg_.sink->pending_bytes() + writer_->bytes() < kQueuedForJsCap) {
    conns_.for_each([&](uint32_t, LoopConn* lc) {
      if (lc->starved) {
        lc->starved = false;
        mark(lc);
      }
    });
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
  writer_->commit();
}

void Loop::settle() {
  release_listener_if_closing();  // close() called from a handler: no wake-up reached the loop
  const uint64_t now = now_ms();
  last_now_ = now;
  apply_posted(now);
  service_dirty(now);
  writer_->commit();
}

// JS's responses (one take brought all of them), then the rarer requests of other threads.
void Loop::apply_posted(uint64_t now) {
  wake_pending_.store(false);
  mailbox_->take(commands_);
  if (!commands_.empty()) {
    // Responses come in runs per connection: look each connection up once per run.
    uint32_t last_id = 0;
    LoopConn* lc = nullptr;
    commands_.for_each([&](const CommandHead& cmd, Slice reason, Slice fields, Slice data) {
      if (cmd.conn != last_id || lc == nullptr) {
        last_id = cmd.conn;
        LoopConn** found = conns_.find(cmd.conn);
        lc = found == nullptr ? nullptr : *found;
      }
      if (lc == nullptr || lc->lingering) return;  // closed since: its Close is on its way to JS
      reg_.apply(*lc->h, lc->c, cmd, reason, fields, data, now);
      mark(lc);
    });
    commands_.clear(kLoopMailboxKeep);
  }
  {
    std::lock_guard<std::mutex> lk(post_mu_);
    taken_.swap(posted_);
  }
  for (uint32_t id : taken_) {
    LoopConn** found = conns_.find(id);
    if (found == nullptr) continue;
    LoopConn* lc = *found;
    if (lc->lingering) continue;
    reg_.apply_flags(*lc->h, lc->c, now);
    mark(lc);
  }
  taken_.clear();
  if (close_idle_.exchange(false)) {
    while (evict_oldest(CloseReason::Shutdown)) {
    }
  }
  for (int k = evict_requests_.exchange(0); k > 0; --k) evict_oldest(CloseReason::Evicted);
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
  conns_.for_each([&](uint32_t, LoopConn* lc) {
    poller_->remove(lc->h->fd);
    reg_.finished(*lc->h, CloseReason::Shutdown, *writer_);
    end_loop_conn(lc);
  });
  conns_.clear();
  idle_head_ = idle_tail_ = nullptr;
  idle_count_.store(0);
  writer_->commit();
  if (listening_) {
    poller_->remove(listener_);
    listening_ = false;
    d_.listener_released();
  }
}

void Loop::set_idle(LoopConn* lc, bool idle) {
  if (idle == lc->idle) return;
  lc->idle = idle;
  if (idle) {
    lc->idle_prev = idle_tail_;
    lc->idle_next = nullptr;
    if (idle_tail_) idle_tail_->idle_next = lc;
    else idle_head_ = lc;
    idle_tail_ = lc;
    idle_count_.fetch_add(1, std::memory_order_relaxed);
  } else {
    if (lc->idle_prev) lc->idle_prev->idle_next = lc->idle_next;
    else idle_head_ = lc->idle_next;
    if (lc->idle_next) lc->idle_next->idle_prev = lc->idle_prev;
    else idle_tail_ = lc->idle_prev;
    lc->idle_prev = lc->idle_next = nullptr;
    idle_count_.fetch_sub(1, std::memory_order_relaxed);
  }
}

// Closes the oldest idle connection of this loop (eviction at the cap, closeIdleConnections, shutdown).
bool Loop::evict_oldest(CloseReason r) {
  LoopConn* lc = idle_head_;
  if (lc == nullptr) return false;
  set_idle(lc, false);
  lc->c.force_close(r);
  mark(lc);
  return true;
}

void Loop::accept_some(uint64_t now) {
  for (int i = 0; i < kAcceptBurst; ++i) {
    PeerAddress peer;
    AcceptFail fail = AcceptFail::None;
    sock_t fd = sock_accept(listener_, &peer, &fail, true);
    if (fd == kBadSocket) {
      if (fail == AcceptFail::NoFds) pause_accepting(now);
      return;  // else EAGAIN: another loop took it, or nothing left
    }
    // At the cap the oldest idle connection makes room: this loop's own, else another loop's.
    const bool refuse = !reg_.admit([&] { return evict_oldest(CloseReason::Evicted) || d_.evict_elsewhere(this); });
    LoopConn* lc = make_loop_conn(fd, peer, now);
    conns_.insert(lc->h->id, lc);
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
  set_idle(lc, false);  // off the idle list before a request can reach JS (evictions happen on this thread)
  size_t total = 0;
  while (c.wants_read() && total < kReadBurst) {
    // JS is behind: heads and bodies alike wait in the kernel until it takes the batch (pipelined heads from
    // many connections would otherwise pile up for a stalled JS thread without bound).
    if (reg_.sink->pending_bytes() + writer_->bytes() >= kQueuedForJsCap) {
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
      lc->h->count_read(n);
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
  // Every complete request went to JS: a connection with no partial request left gives its read buffer back to
  // the loop's pool at once (not only when idle), so only connections in the middle of a request hold one.
  c.trim();
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

// The close was the client's own (Connection: close, or HTTP/1.0 without keep-alive) and it sent nothing after that
// request (Connection::client_finished): closing now sends our FIN after the response, not a reset, and the staged
// close (shut the write side, wait a turn for the client's FIN) would only cost a turn and three system calls per
// connection. One recv tells whether something arrived since after all: then we linger as usual.
bool Loop::client_said_close(LoopConn* lc) {
  if (!lc->c.client_finished()) return false;
  char b;
  return sock_recv(lc->h->fd, &b, 1) <= 0;  // nothing waiting (would block), its FIN, or an error
}

void Loop::service(LoopConn* lc, uint64_t now) {
  if (lc->lingering) return;
  Connection& c = lc->c;
  ConnHandle& h = *lc->h;
  if (c.out_size() > 0) {
    // TCP_NODELAY only once Nagle's algorithm could delay something: it holds back a small segment while earlier
    // bytes are unacknowledged, which the first send can't meet unless it is more than one segment. A connection
    // that sends one small response and closes (Connection: close) never needs the call (nginx also sets it late).
    if (!lc->nodelay && (lc->sent || c.out_size() > kOneSegment)) {
      sock_set_nodelay(h.fd);
      lc->nodelay = true;
    }
    lc->sent = true;
    const int64_t n = sock_send(h.fd, c.out_data(), c.out_size());
    if (n > 0) {
      h.count_written(n);
      c.out_consumed(static_cast<size_t>(n), now);
    } else if (n != kSockTimeout) {
      c.force_close(h.kill ? static_cast<CloseReason>(h.kill_reason.load()) : CloseReason::Client);
    }
  }
  if (c.wants_write_shutdown()) {
    sock_shutdown_write(h.fd);
    c.write_shut();
  }
  reg_.after_write(h, c, *writer_);
  if (c.done()) {
    if (c.linger() && !h.kill && !client_said_close(lc)) {
      // Stop writing, keep reading (and discarding) for a while, so the client reads our last response.
      sock_shutdown_write(h.fd);
      lc->lingering = true;
      if (!lc->reading || lc->writing) poller_->modify(h.fd, lc, true, false);
      wheel_.schedule(lc, now + reg_.opts.conn.linger_ms);
      set_idle(lc, false);
      linger_read(lc);
      return;
    }
    close_conn(lc);
    return;
  }
  // Reading stopped (a closing request, the pipeline cap, a paused body, JS behind): the registration for reading
  // stays until the socket is reported readable while unwanted (level-triggered, it would then come back at every
  // wait). Most such connections answer and close, or want to read again, before that: no epoll_ctl either way.
  const bool want_read = c.wants_read() && !lc->starved;
  const bool read_reg = want_read || (lc->reading && !lc->unwanted_read);
  lc->unwanted_read = false;
  const bool want_write = c.out_size() > 0;
  if (read_reg != lc->reading || want_write != lc->writing) {
    poller_->modify(h.fd, lc, read_reg, want_write);
    lc->reading = read_reg;
    lc->writing = want_write;
  }
  const bool idle = c.idle();
  set_idle(lc, idle);
  if (idle) c.trim();  // an idle keep-alive connection holds no read buffer
  wheel_.schedule(lc, c.deadline());
}

void Loop::close_conn(LoopConn* lc) {
  poller_->remove_closing(lc->h->fd);  // Registry::finished closes it below
  wheel_.cancel(lc);
  conns_.erase(lc->h->id);
  set_idle(lc, false);
  const CloseReason r = lc->c.close_reason() == CloseReason::Count ? CloseReason::Error : lc->c.close_reason();
  reg_.finished(*lc->h, r, *writer_);
  if (lc->dirty) {
    // Still listed for service this turn: blank its entry so the service pass skips it.
    for (auto& p : dirty_)
      if (p == lc) p = nullptr;
  }
  end_loop_conn(lc);
  reg_.maybe_closed();
}

}  // namespace nova
