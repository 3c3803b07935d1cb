// The inline driver (`threads: 0`): the evented Loop run from Node's own libuv loop instead of a thread of its
// own. libuv watches the loop's epoll descriptor; each time it is ready we run one turn, call JS directly with
// the batch (no thread hop), then write what JS answered at once. POSIX with epoll only: elsewhere the addon
// falls back to one loop thread.
#include <uv.h>
#include <functional>
#include "../io/loop.h"
#include "server_inline.h"

namespace nova {

namespace {

class InlineDriver : public Driver, public LoopHost, public std::enable_shared_from_this<InlineDriver> {
 public:
  InlineDriver(std::shared_ptr<ServerCore> core, uv_loop_t* uv, std::function<void()> deliver)
      : core_(std::move(core)), uv_(uv), deliver_(std::move(deliver)) {}

  ~InlineDriver() override = default;

  ServerCore& core() override { return *core_; }

  bool listen(const std::string& host, int port, int backlog, ListenResult* out) override {
    std::unique_ptr<Poller> p = make_epoll_poller();
    if (!p) {
      out->error = "ENOSYS";
      return false;
    }
    loop_ = std::make_unique<Loop>(*this, *core_, std::move(p));
    listener_ = sock_listen(host, port, backlog, false, &out->error);
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
    uv_poll_start(&handles_->poll, UV_READABLE, [](uv_poll_t* h, int, int) {
      static_cast<Handles*>(h->data)->self->run_once();
    });
    if (unref_) unref();
    return true;
  }

  // The event queue says a batch is pending: JS is called at the end of the current turn, or soon.
  void notify() {
    pending_ = true;
    if (!in_turn_ && loop_) loop_->wake();
  }

  void close() override {
    if (core_->closing.exchange(true)) return;
    loop_->wake();
    core_->table.shutdown_all();
    maybe_closed();
  }

  void stop_now() override {
    core_->closing = true;
    core_->events.shut();
    if (loop_ && !finished_) {
      finished_ = true;
      loop_->finish();
    }
    release_handles();
    if (loop_) loop_->close_poller();  // after libuv stopped watching its descriptor
  }

  void listener_released() override {
    sock_close(listener_);
    accept_done_ = true;
    maybe_closed();
  }

  void maybe_closed() override {
    if (core_->closing && accept_done_ && core_->table.size() == 0) core_->events.push_server_closed();
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
      deliver_();  // JS handlers run here and flush into the loop's mailbox
      loop_->settle();
    }
    in_turn_ = false;
    if (core_->events.pending_bytes() == 0 && core_->closing && accept_done_ && core_->table.size() == 0) {
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
    const int64_t t = loop_->next_timeout();
    if (t < 0) {
      uv_timer_stop(&handles_->timer);
      return;
    }
    uv_timer_start(&handles_->timer, [](uv_timer_t* h) { static_cast<Handles*>(h->data)->self->run_once(); },
                   static_cast<uint64_t>(t), 0);
  }

  void release_handles() {
    if (!handles_) return;
    Handles* h = handles_;
    handles_ = nullptr;
    h->self = nullptr;
    uv_poll_stop(&h->poll);
    uv_timer_stop(&h->timer);
    auto done = [](uv_handle_t* x) {
      Handles* hs = static_cast<Handles*>(x->data);
      if (--hs->open == 0) delete hs;
    };
    uv_close(reinterpret_cast<uv_handle_t*>(&h->poll), done);
    uv_close(reinterpret_cast<uv_handle_t*>(&h->timer), done);
  }

  std::shared_ptr<ServerCore> core_;
  uv_loop_t* uv_;
  std::function<void()> deliver_;
  std::unique_ptr<Loop> loop_;
  sock_t listener_ = kBadSocket;
  Handles* handles_ = nullptr;
  bool pending_ = false;
  bool in_turn_ = false;
  bool accept_done_ = false;
  bool finished_ = false;
  bool unref_ = false;
};

}  // namespace

std::shared_ptr<Driver> make_inline_driver(std::shared_ptr<ServerCore>* core_out, const ServerOptions& opts,
                                           void* uv_loop, std::function<void()> deliver) {
  if (!make_epoll_poller()) return nullptr;  // no epoll here (macOS, BSD): the caller uses a loop thread
  // The core's notify must reach the driver, which needs the core first: tie them through a shared slot.
  auto slot = std::make_shared<InlineDriver*>(nullptr);
  auto core = std::make_shared<ServerCore>(opts, [slot] {
    if (*slot) (*slot)->notify();
  });
  auto d = std::make_shared<InlineDriver>(core, static_cast<uv_loop_t*>(uv_loop), std::move(deliver));
  *slot = d.get();
  *core_out = core;
  return d;
}

}  // namespace nova
