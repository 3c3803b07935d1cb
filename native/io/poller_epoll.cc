// The epoll backend (Linux): level-triggered, an eventfd for wake-ups.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cerrno>
#include "poller.h"

namespace nova {

namespace {

class EpollPoller : public Poller {
 public:
  EpollPoller() {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &wake_fd_;
    epoll_ctl(ep_, EPOLL_CTL_ADD, wake_fd_, &ev);
  }
  ~EpollPoller() override {
    close(wake_fd_);
    close(ep_);
  }
  bool ok() const { return ep_ >= 0 && wake_fd_ >= 0; }
  int native_fd() const override { return ep_; }

  bool add(sock_t fd, void* data, bool read, bool write) override {
    epoll_event ev = make(data, read, write);
    return epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) == 0;
  }
  void modify(sock_t fd, void* data, bool read, bool write) override {
    epoll_event ev = make(data, read, write);
    epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev);
  }
  void remove(sock_t fd) override { epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr); }
  // A connection's socket is ours alone (never duplicated): closing it removes it from the epoll set.
  void remove_closing(sock_t) override {}

  int wait(PollEvent* out, int max, int timeout_ms) override {
    if (max > kMax) max = kMax;
    int n;
    do {
      n = epoll_wait(ep_, events_, max, timeout_ms);
    } while (n < 0 && errno == EINTR);
    int k = 0;
    for (int i = 0; i < n; ++i) {
      if (events_[i].data.ptr == &wake_fd_) {
        uint64_t v;
        while (read(wake_fd_, &v, sizeof v) > 0) {
        }
        continue;
      }
      const uint32_t e = events_[i].events;
      out[k++] =
          PollEvent{events_[i].data.ptr, (e & EPOLLIN) != 0, (e & EPOLLOUT) != 0, (e & (EPOLLERR | EPOLLHUP)) != 0};
    }
    return k;
  }

  void wakeup() override {
    const uint64_t one = 1;
    ssize_t r = write(wake_fd_, &one, sizeof one);
    (void)r;  // EAGAIN means the counter is already non-zero: a wake-up is pending anyway
  }

 private:
  static epoll_event make(void* data, bool read, bool write) {
    epoll_event ev{};
    ev.events = (read ? uint32_t(EPOLLIN | EPOLLRDHUP) : 0u) | (write ? uint32_t(EPOLLOUT) : 0u);
    ev.data.ptr = data;
    return ev;
  }
  static constexpr int kMax = 512;
  int ep_ = -1;
  int wake_fd_ = -1;
  epoll_event events_[kMax];
};

}  // namespace

std::unique_ptr<Poller> make_epoll_poller() {
  auto p = std::make_unique<EpollPoller>();
  if (!p->ok()) return nullptr;
  return p;
}

}  // namespace nova
