// An event loop over one Poller: the connections it owns, their deadlines in a TimerWheel, their idle list, the
// mailbox through which their responses arrive, and the writer its events go out through (one commit per turn).
// Loop threads (server_evented.cc) and the inline driver (native/node/server_inline_posix.cc) both drive it.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>
#include "../core/timer_wheel.h"
#include "driver.h"
#include "id_map.h"
#include "poller.h"

namespace nova {

class Loop;

// What a loop needs from the driver that owns it.
class LoopHost {
 public:
  virtual ~LoopHost() = default;
  virtual void listener_released() = 0;  // this loop stopped watching the listener
  // At the connection cap with nothing idle on `from`: ask another loop to evict its oldest idle connection.
  // False when no loop has one.
  virtual bool evict_elsewhere(Loop* from) = 0;
  std::atomic<int> starved_loops_{0};  // loops that stopped reading until JS takes a batch
};

struct LoopConn : TimerNode {
  LoopConn(Registry& reg, EventWriter& w, std::shared_ptr<ConnHandle> handle, uint64_t now)
      : h(std::move(handle)), sink(reg, *h, w), c(reg.opts.conn, sink, now) {}
  std::shared_ptr<ConnHandle> h;
  HandleSink sink;
  Connection c;
  LoopConn* idle_prev = nullptr;  // the loop's idle list, oldest first
  LoopConn* idle_next = nullptr;
  bool reading = true;         // registered for readability
  bool unwanted_read = false;  // reported readable while not reading (service() then drops the registration)
  bool writing = false;        // registered for writability
  bool idle = false;           // on the loop's idle list
  bool lingering = false;
  bool starved = false;  // reading stopped because JS is behind (kQueuedForJsCap)
  bool dirty = false;
  bool sent = false;  // something was sent (TCP_NODELAY is set before a later send: Loop::service)
  bool nodelay = false;
};

// A connection's native objects in one allocation (with the shared_ptr's control block: std::allocate_shared,
// from a per-thread free list): the handle, shared with the JS thread until it has seen the Close, and the loop's
// LoopConn with its Connection, built in place at accept and destroyed at close (buffers freed), while the handle
// lives on. Made by make_loop_conn, ended by end_loop_conn (loop.cc).
struct EventedHandle : ConnHandle {
  EventedHandle() {}  // user-provided: allocate_shared's value-initialization then doesn't zero conn first
  alignas(LoopConn) unsigned char conn[sizeof(LoopConn)];
};

class Loop {
 public:
  Loop(LoopHost& d, Registry& reg, std::unique_ptr<Poller> poller);
  ~Loop();

  // Other threads: look at the connections posted (pause/resume, kill, shutdown) and the mailbox.
  void post(uint32_t id) {
    {
      std::lock_guard<std::mutex> lk(post_mu_);
      posted_.push_back(id);
    }
    wake();
  }
  void wake() {
    if (settling_.load(std::memory_order_relaxed)) return;  // inline: settle() runs right after JS anyway
    if (!wake_pending_.exchange(true)) wakeup_poller();
  }
  void stop() {
    stop_ = true;
    wakeup_poller();
  }
  // Other threads: evict the oldest idle connection at the next turn / close every idle one.
  void request_evict() {
    evict_requests_.fetch_add(1);
    wake();
  }
  void request_close_idle() {
    close_idle_.store(true);
    wake();
  }
  size_t idle_count() const { return idle_count_.load(std::memory_order_relaxed); }
  const std::shared_ptr<Mailbox>& mailbox() const { return mailbox_; }

  // A loop thread's life: start, turns until stop() or until the server is closed and this loop owns nothing
  // any more, finish, then its poller is closed. The inline driver calls the same pieces from Node's own event
  // loop instead.
  void run(sock_t listener);
  void start(sock_t listener);
  // One turn: wait for readiness (up to timeout_ms; -1: until the next timer), read, accept, apply JS's
  // responses, fire timers, write, hand the turn's events over.
  void turn(int timeout_ms);
  // Apply what JS posted and write it out, without waiting for readiness (the inline driver, right after JS).
  void settle();
  // The inline driver: JS runs on this thread between turn() and settle(), so flushes need no wake-up.
  void set_settling(bool on) { settling_.store(on, std::memory_order_relaxed); }
  void finish();
  // After finish(): closes the poller's descriptors; later wake-ups are ignored.
  void close_poller();
  // ms from `now` until the next timer (-1: none).
  int64_t next_timeout(uint64_t now);
  // The time the last turn() or settle() ran at: the inline driver arms its timer from it (no clock read).
  uint64_t last_now() const { return last_now_; }
  // Some connection stopped reading until JS takes the pending batch (the inline driver turns again after it).
  bool starved() const { return starved_ > 0; }
  Poller& poller() { return *poller_; }

 private:
  // Other threads may still wake a loop whose thread has ended (a handle staged before the close, a batch taken):
  // the poller is closed then, so wake-ups go through here and stop once it is gone.
  void wakeup_poller() {
    std::lock_guard<std::mutex> lk(poller_mu_);
    if (poller_live_) poller_->wakeup();
  }
  bool serving() const { return listening_ || !conns_.empty() || !reg_.closing; }
  void pause_accepting(uint64_t now);
  void resume_accepting(uint64_t now);
  static void wake_mailbox(void* self) { static_cast<Loop*>(self)->wake(); }
  void release_listener_if_closing();
  void apply_posted(uint64_t now);
  void service_dirty(uint64_t now);
  void accept_some(uint64_t now);
  void read_some(LoopConn* lc, uint64_t now);
  void linger_read(LoopConn* lc);
  bool client_said_close(LoopConn* lc);
  void service(LoopConn* lc, uint64_t now);
  void close_conn(LoopConn* lc);
  LoopConn* make_loop_conn(sock_t fd, const PeerAddress& peer, uint64_t now);
  static void end_loop_conn(LoopConn* lc);
  void set_idle(LoopConn* lc, bool idle);
  bool evict_oldest(CloseReason r);
  void mark(LoopConn* lc) {
    if (!lc->dirty) {
      lc->dirty = true;
      dirty_.push_back(lc);
    }
  }

  LoopHost& d_;
  Registry& reg_;
  std::unique_ptr<Poller> poller_;
  std::unique_ptr<EventWriter> writer_;
  std::shared_ptr<Mailbox> mailbox_;
  CommandBuffer commands_;  // the mailbox's last take
  TimerWheel wheel_;
  sock_t listener_ = kBadSocket;
  bool listening_ = false;
  IdMap<LoopConn*> conns_;
  std::vector<LoopConn*> dirty_;
  LoopConn* idle_head_ = nullptr;  // oldest idle
  LoopConn* idle_tail_ = nullptr;
  std::atomic<size_t> idle_count_{0};
  std::atomic<int> evict_requests_{0};
  std::atomic<bool> close_idle_{false};
  std::mutex post_mu_;
  std::vector<uint32_t> posted_;
  std::vector<uint32_t> taken_;
  std::atomic<bool> wake_pending_{false};
  std::atomic<bool> settling_{false};
  std::atomic<bool> stop_{false};
  std::mutex poller_mu_;  // guards poller_live_ against the loop thread closing the poller
  bool poller_live_ = true;
  uint64_t accept_paused_until_ = 0;  // out of fds: the listener is out of the poller until then (0: not paused)
  size_t starved_ = 0;
  uint64_t last_now_ = 0;
  char listener_token_ = 0;  // its address tags the listener's events
};

void wake_evented(ConnHandle* h);

}  // namespace nova
