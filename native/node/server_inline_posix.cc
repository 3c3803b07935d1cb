// The inline driver (`threads: 0`): the evented Loop run from Node's own libuv loop instead of a thread of its
// own. libuv watches the loop's epoll descriptor; each time it is ready we run one turn, call JS directly with
// the batch (no thread hop), then write what JS answered at once. POSIX with epoll only: elsewhere the addon
// falls back to one loop thread.
#include <uv.h>
#include <functional>
#include <mutex>
#include <vector>
#include "../io/loop.h"
#include "server_inline.h"

namespace nova {

namespace {

// The uv handles of drivers torn down with their environment (see release_handles): closed without a callback,
// libuv may still touch them until their loop is gone, so they are never freed; parked here for the life of the
// process (a few hundred bytes per torn-down worker), reachable and counted, instead of dropped.
void park_closed_handles(void* handles) {
  static std::mutex* mu = new std::mutex;
  static std::vector<void*>* parked = new std::vector<void*>;
  std::lock_guard<std::mutex> lk(*mu);
  parked->push_back(handles);
}

class InlineDriver : public Driver, public LoopHost, public std::enable_shared_from_this<InlineDriver> {
 public:
  InlineDriver(std::shared_ptr<Registry> reg, uv_loop_t* uv, std::function<void()> deliver)
      : reg_(std::move(reg)), uv_(uv), deliver_(std::move(deliver)) {}

  ~InlineDriver() override = default;

  Registry& registry() override { return *reg_; }

  size_t idle_count() override { return loop_ ? loop_->idle_count() : 0; }

  void close_idle() override {
    if (loop_) loop_->request_close_idle();
  }

  bool listen(const ListenSpec& spec, ListenResult* out) override {
    std::unique_ptr<Poller> p = make_epoll_poller();
    if (!p) {
      out->error = "ENOSYS";
      return false;
    }
    loop_ = std::make_unique<Loop>(*this, *reg_, std::move(p));
    listener_ = sock_listen(spec, &out->error);
    if (listener_ == kBadSocket) return false;
    sock_set_nonblocking(listener_);
    sock_local_address(listener_, &out->address, &out->family, &out->port);
    loop_->start(listener_);
    handles_ = new Handles;
    handles_->self = this;
    uv_poll_init(uv_, &handles_->poll, loop_->poller().native_fd());
    uv_timer_init(uv_, &handles_->timer);
    handles_->poll.data = handles_;
    handles_->timer.data = handles_;
    uv_poll_start(&handles_->poll, UV_READABLE,
                  [](uv_poll_t* h, int, int) { static_cast<Handles*>(h->data)->self->run_once(); });
    if (unref_) unref();
    return true;
  }

  // The event queue says a batch is pending: JS is called at the end of the current turn, or soon.
  void notify() {
    pending_ = true;
    if (!in_turn_ && loop_) loop_->wake();
  }

  void close() override {
    if (reg_->closing.exchange(true)) return;
    loop_->wake();
    reg_->table.shutdown_all();
    close_idle();
    reg_->maybe_closed();
  }

  // One loop: nobody else to evict from.
  bool evict_elsewhere(Loop*) override { return false; }

  void stop_now() override {
    reg_->closing = true;
    reg_->sink->shut();
    if (loop_ && !finished_) {
      finished_ = true;
      loop_->finish();
    }
    release_handles(true);
    if (loop_) loop_->close_poller();  // after libuv stopped watching its descriptor
  }

  void listener_released() override {
    sock_close(listener_);
    reg_->accept_done();
  }

  void ref() override {
    unref_ = false;
    if (handles_) {
      uv_ref(reinterpret_cast<uv_handle_t*>(&handles_->poll));
      uv_ref(reinterpret_cast<uv_handle_t*>(&handles_->timer));
    }
  }
  void unref() override {
    unref_ = true;
    if (handles_) {
      uv_unref(reinterpret_cast<uv_handle_t*>(&handles_->poll));
      uv_unref(reinterpret_cast<uv_handle_t*>(&handles_->timer));
    }
  }

 private:
  // libuv handles outlive the driver until their close callbacks run, so they live in their own allocation.
  struct Handles {
    uv_poll_t poll;
    uv_timer_t timer;
    InlineDriver* self;
    int open = 2;
  };

  void run_once() {
    auto keep = shared_from_this();  // JS may drop the last reference while we are in it
    in_turn_ = true;
    loop_->turn(0);
    while (pending_ && !finished_) {
      pending_ = false;
      loop_->set_settling(true);  // JS's flushes land in the mailbox; settle() takes them without a wake-up
      deliver_();                 // JS handlers run here and flush into the loop's mailbox
      loop_->set_settling(false);
      loop_->settle();
    }
    // Connections that stopped reading for want of room (kQueuedForJsCap) have no readiness to wake us: the batch
    // is taken now, so turn again soon.
    if (!finished_ && loop_->starved()) loop_->wake();
    in_turn_ = false;
    if (reg_->sink->pending_bytes() == 0 && reg_->fully_closed()) {
      // ServerClosed has been delivered: nothing will happen on this server again.
      if (!finished_) {
        finished_ = true;
        loop_->finish();
      }
      release_handles();
      loop_->close_poller();  // a closed server keeps no descriptor (libuv stopped watching it above)
      return;
    }
    arm_timer();
  }

  void arm_timer() {
    if (!handles_) return;
    const int64_t t = loop_->next_timeout(loop_->last_now());
    if (t < 0) {
      uv_timer_stop(&handles_->timer);
      return;
    }
    uv_timer_start(
        &handles_->timer, [](uv_timer_t* h) { static_cast<Handles*>(h->data)->self->run_once(); },
        static_cast<uint64_t>(t), 0);
  }

  // teardown: the environment is going away (a worker terminated), and with it, maybe before libuv runs the close
  // callbacks, this addon's code: the callbacks would jump into unmapped memory (a worker.terminate() while its
  // JS was busy crashed the process). Closed without a callback then, the two handles are parked for good.
  void release_handles(bool teardown = false) {
    if (!handles_) return;
    Handles* h = handles_;
    handles_ = nullptr;
    h->self = nullptr;
    uv_poll_stop(&h->poll);
    uv_timer_stop(&h->timer);
    uv_close_cb done = nullptr;
    if (!teardown) {
      done = [](uv_handle_t* x) {
        Handles* hs = static_cast<Handles*>(x->data);
        if (--hs->open == 0) delete hs;
      };
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&h->poll), done);
    uv_close(reinterpret_cast<uv_handle_t*>(&h->timer), done);
    if (teardown) park_closed_handles(h);
  }

  std::shared_ptr<Registry> reg_;
  uv_loop_t* uv_;
  std::function<void()> deliver_;
  std::unique_ptr<Loop> loop_;
  sock_t listener_ = kBadSocket;
  Handles* handles_ = nullptr;
  bool pending_ = false;
  bool in_turn_ = false;
  bool finished_ = false;
  bool unref_ = false;
};

}  // namespace

std::shared_ptr<Driver> make_inline_driver(std::shared_ptr<JsEvents>* events_out, const ServerOptions& opts,
                                           void* uv_loop, std::function<void()> deliver) {
  if (!make_epoll_poller()) return nullptr;  // no epoll here (macOS, BSD): the caller uses a loop thread
  // The events' notify must reach the driver, which needs the registry (and so the events) first: tie them
  // through a shared slot.
  auto slot = std::make_shared<InlineDriver*>(nullptr);
  auto events = std::make_shared<JsEvents>([slot] {
    if (*slot) (*slot)->notify();
  });
  auto reg = std::make_shared<Registry>(opts, events);
  auto d = std::make_shared<InlineDriver>(reg, static_cast<uv_loop_t*>(uv_loop), std::move(deliver));
  *slot = d.get();
  *events_out = events;
  return d;
}

}  // namespace nova
