// An event loop over one Poller: the connections it owns, their deadlines in a TimerWheel, and the mailbox
// through which JS's responses arrive. Loop threads (server_evented.cc) and the inline driver
// (native/node/server_inline_posix.cc) both drive it.
#pragma once
#include <atomic>
#include <mutex>
#include <unordered_map>
#include <vector>
#include "../core/timer_wheel.h"
#include "driver.h"
#include "poller.h"

namespace nova {

// What a loop needs from the driver that owns it.
class LoopHost {
 public:
  virtual ~LoopHost() = default;
  virtual void listener_released() = 0;  // this loop stopped watching the listener
  virtual void maybe_closed() = 0;       // a connection closed: the server may be fully closed now
  std::atomic<int> starved_loops_{0};    // loops that stopped reading bodies until JS takes a batch
};

constexpr size_t kQueuedBodyCap = 8 << 20;  // bytes waiting for JS before loops stop reading request bodies

struct LoopConn : TimerNode {
  LoopConn(ServerCore& core, std::shared_ptr<ConnHandle> handle, uint64_t now)
      : h(std::move(handle)), sink(core, h->id), c(core.opts.conn, sink, now) {}
  std::shared_ptr<ConnHandle> h;
  QueueSink sink;
  Connection c;
  bool reading = true;   // registered for readability
  bool writing = false;  // registered for writability
  bool idle = false;     // as last told to the table
  bool lingering = false;
  bool starved = false;  // body reading stopped because JS is behind (kQueuedBodyCap)
  bool dirty = false;
};

class Loop {
 public:
  Loop(LoopHost& d, ServerCore& core, std::unique_ptr<Poller> poller)
      : d_(d), core_(core), poller_(std::move(poller)), wheel_(now_ms()) {}

  void post(uint32_t id) {
    {
      std::lock_guard<std::mutex> lk(post_mu_);
      posted_.push_back(id);
    }
    wake();
  }
  void wake() {
    if (!wake_pending_.exchange(true)) wakeup_poller();
  }
  void stop() {
    stop_ = true;
    wakeup_poller();
  }
  // A loop thread's life: start, turns until stop() or until the server is closed and this loop owns nothing
  // any more, finish, then its poller is closed. The inline driver calls the same pieces from Node's own event
  // loop instead.
  void run(sock_t listener);
  void start(sock_t listener);
  // One turn: wait for readiness (up to timeout_ms; -1: until the next timer), read, accept, apply JS's
  // responses, fire timers, write.
  void turn(int timeout_ms);
  // Apply what JS posted and write it out, without waiting for readiness (the inline driver, right after JS).
  void settle();
  void finish();
  // After finish(): closes the poller's descriptors; later wake-ups are ignored.
  void close_poller();
  int64_t next_timeout();
  Poller& poller() { return *poller_; }

 private:
  // Other threads may still wake a loop whose thread has ended (a handle staged before the close, a batch taken):
  // the poller is closed then, so wake-ups go through here and stop once it is gone.
  void wakeup_poller() {
    std::lock_guard<std::mutex> lk(poller_mu_);
    if (poller_live_) poller_->wakeup();
  }
  bool serving() const { return listening_ || !conns_.empty() || !core_.closing; }
  void pause_accepting(uint64_t now);
  void resume_accepting(uint64_t now);
  void apply_posted();
  void service_dirty(uint64_t now);
  void accept_some(uint64_t now);
  void read_some(LoopConn* lc, uint64_t now);
  void linger_read(LoopConn* lc);
  void service(LoopConn* lc, uint64_t now);
  void close_conn(LoopConn* lc);
  void mark(LoopConn* lc) {
    if (!lc->dirty) {
      lc->dirty = true;
      dirty_.push_back(lc);
    }
  }

  LoopHost& d_;
  ServerCore& core_;
  std::unique_ptr<Poller> poller_;
  TimerWheel wheel_;
  sock_t listener_ = kBadSocket;
  bool listening_ = false;
  std::unordered_map<uint32_t, LoopConn*> conns_;
  std::vector<LoopConn*> dirty_;
  std::mutex post_mu_;
  std::vector<uint32_t> posted_;
  std::vector<uint32_t> taken_;
  std::atomic<bool> wake_pending_{false};
  std::atomic<bool> stop_{false};
  std::mutex poller_mu_;     // guards poller_live_ against the loop thread closing the poller
  bool poller_live_ = true;
  uint64_t accept_paused_until_ = 0;  // out of fds: the listener is out of the poller until then (0: not paused)
  size_t starved_ = 0;
  char listener_token_ = 0;  // its address tags the listener's events
};

void wake_evented(ConnHandle* h);

}  // namespace nova
