// The evented I/O model: `threads` loop threads (loop.h, loop.cc), each owning its connections through a Poller
// (epoll or poll/WSAPoll), all watching one listener. This file starts, closes and stops them.
#include <thread>
#include "loop.h"

namespace nova {

namespace {

class EventedDriver : public Driver, public LoopHost, public std::enable_shared_from_this<EventedDriver> {
 public:
  explicit EventedDriver(std::shared_ptr<Registry> reg) : reg_(std::move(reg)) {}
  ~EventedDriver() override { join(); }

  Registry& registry() override { return *reg_; }

  bool listen(const ListenSpec& spec, ListenResult* out) override {
    const int n = reg_->opts.threads < 1 ? 1 : reg_->opts.threads;
    for (int i = 0; i < n; ++i) {
      std::unique_ptr<Poller> p;
      if (reg_->opts.backend != Backend::Poll) p = make_epoll_poller();
      if (!p && reg_->opts.backend == Backend::Epoll) {
        out->error = "ENOSYS";  // epoll was asked for and this system has none
        return false;
      }
      if (!p) p = make_poll_poller();
      if (!p) {
        out->error = "EMFILE";  // no descriptors left for the poller's wake-up channel
        return false;
      }
      loops_.push_back(std::make_unique<Loop>(*this, *reg_, std::move(p)));
    }
    listener_ = sock_listen(spec, &out->error);
    if (listener_ == kBadSocket) return false;
    sock_set_nonblocking(listener_);
    sock_local_address(listener_, &out->address, &out->family, &out->port);
    listening_loops_ = n;
    // When JS takes a batch, loops that stopped reading bodies for want of room may read again.
    reg_->sink->set_on_taken([this] {
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
    if (reg_->closing.exchange(true)) return;
    for (auto& l : loops_) l->wake();  // each loop stops watching the listener at its next turn
    reg_->table.shutdown_all();
    close_idle();
    reg_->maybe_closed();
  }

  void close_idle() override {
    for (auto& l : loops_) l->request_close_idle();
  }

  size_t idle_count() override {
    size_t n = 0;
    for (auto& l : loops_) n += l->idle_count();
    return n;
  }

  void stop_now() override {
    reg_->closing = true;
    reg_->sink->shut();
    for (auto& l : loops_) l->stop();
    join();
  }

  // ServerClosed was reported when the last connection and the listener were gone; every loop then leaves its
  // run() by itself (the one that reported it is finishing its turn): this waits at most for that turn.
  void reap() override { join(); }

  // A loop stopped watching the listener; the last one closes it.
  void listener_released() override {
    if (--listening_loops_ == 0) {
      sock_close(listener_);
      reg_->accept_done();
    }
  }

  bool evict_elsewhere(Loop* from) override {
    for (auto& l : loops_) {
      if (l.get() == from || l->idle_count() == 0) continue;
      l->request_evict();
      return true;
    }
    return false;
  }

 private:
  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
  }

  std::shared_ptr<Registry> reg_;
  sock_t listener_ = kBadSocket;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::thread> threads_;
  std::atomic<int> listening_loops_{0};
};

}  // namespace

std::shared_ptr<Driver> make_evented_driver(std::shared_ptr<Registry> reg) {
  return std::make_shared<EventedDriver>(std::move(reg));
}

}  // namespace nova
