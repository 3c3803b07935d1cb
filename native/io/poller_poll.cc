// The portable backend: poll() on POSIX, WSAPoll on Windows. Wake-ups come through a pipe (POSIX) or a
// loopback UDP socket connected to itself (Windows, where WSAPoll takes only sockets).
#include <unordered_map>
#include <vector>
#include "poller.h"
#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <cerrno>
#endif

namespace nova {

namespace {

#ifdef _WIN32
using pollfd_t = WSAPOLLFD;
inline int do_poll(pollfd_t* f, size_t n, int t) { return WSAPoll(f, static_cast<ULONG>(n), t); }
#else
using pollfd_t = pollfd;
inline int do_poll(pollfd_t* f, size_t n, int t) {
  int r;
  do {
    r = poll(f, static_cast<nfds_t>(n), t);
  } while (r < 0 && errno == EINTR);
  return r;
}
#endif

class PollPoller : public Poller {
 public:
  PollPoller() {
#ifdef _WIN32
    // Every step is checked: a wake-up socket that is not bound, connected to itself and non-blocking would leave
    // the loop deaf to JS (its sends going nowhere) or blocked draining it. On failure the poller is not ok().
    SOCKET s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    if (s != INVALID_SOCKET) {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      int len = sizeof a;
      u_long one = 1;
      if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
          getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0 &&
          connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ioctlsocket(s, FIONBIO, &one) == 0) {
        wake_read_ = wake_write_ = static_cast<sock_t>(s);
      } else {
        closesocket(s);
      }
    }
#else
    int p[2];
    if (pipe(p) == 0) {
      for (int fd : p) {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
      }
      wake_read_ = p[0];
      wake_write_ = p[1];
    }
#endif
    pollfd_t w{};
    w.fd = wake_read_;
    w.events = POLLIN;
    fds_.push_back(w);
    data_.push_back(nullptr);
  }
  ~PollPoller() override {
    if (!ok()) return;
#ifdef _WIN32
    closesocket(static_cast<SOCKET>(wake_read_));
#else
    close(wake_read_);
    close(wake_write_);
#endif
  }
  bool ok() const { return wake_read_ != kBadSocket && wake_write_ != kBadSocket; }

  bool add(sock_t fd, void* data, bool read, bool write) override {
    pollfd_t p{};
    p.fd = fd;
    p.events = static_cast<short>((read ? POLLIN : 0) | (write ? POLLOUT : 0));
    index_[fd] = fds_.size();
    fds_.push_back(p);
    data_.push_back(data);
    return true;
  }
  void modify(sock_t fd, void* data, bool read, bool write) override {
    auto it = index_.find(fd);
    if (it == index_.end()) return;
    fds_[it->second].events = static_cast<short>((read ? POLLIN : 0) | (write ? POLLOUT : 0));
    data_[it->second] = data;
  }
  void remove(sock_t fd) override {
    auto it = index_.find(fd);
    if (it == index_.end()) return;
    const size_t i = it->second;
    const size_t last = fds_.size() - 1;
    if (i != last) {
      fds_[i] = fds_[last];
      data_[i] = data_[last];
      index_[fds_[i].fd] = i;
    }
    fds_.pop_back();
    data_.pop_back();
    index_.erase(it);
  }

  int wait(PollEvent* out, int max, int timeout_ms) override {
    // Events beyond `max` from the last call are reported first, so no descriptor is starved.
    const int n = do_poll(fds_.data(), fds_.size(), timeout_ms);
    if (n <= 0) return 0;
    int k = 0;
    if (fds_[0].revents) {
      char buf[64];
#ifdef _WIN32
      while (recv(static_cast<SOCKET>(wake_read_), buf, sizeof buf, 0) > 0) {
      }
#else
      while (read(wake_read_, buf, sizeof buf) > 0) {
      }
#endif
    }
    const size_t count = fds_.size();
    for (size_t j = 0; j + 1 < count && k < max; ++j) {
      const size_t i = 1 + (start_ + j) % (count - 1);
      const short r = fds_[i].revents;
      if (r == 0) continue;
      out[k++] = PollEvent{data_[i], (r & POLLIN) != 0, (r & POLLOUT) != 0, (r & (POLLERR | POLLHUP | POLLNVAL)) != 0};
    }
    if (count > 1) start_ = (start_ + 1) % (count - 1);
    return k;
  }

  void wakeup() override {
    const char c = 1;
#ifdef _WIN32
    send(static_cast<SOCKET>(wake_write_), &c, 1, 0);
#else
    ssize_t r = write(wake_write_, &c, 1);
    (void)r;
#endif
  }

 private:
  std::vector<pollfd_t> fds_;
  std::vector<void*> data_;
  std::unordered_map<sock_t, size_t> index_;
  sock_t wake_read_ = kBadSocket;
  sock_t wake_write_ = kBadSocket;
  size_t start_ = 0;
};

}  // namespace

std::unique_ptr<Poller> make_poll_poller() {
  auto p = std::make_unique<PollPoller>();
  if (!p->ok()) return nullptr;  // no wake-up channel (out of descriptors): the caller fails listen()
  return p;
}

#ifndef __linux__
std::unique_ptr<Poller> make_epoll_poller() { return nullptr; }
#endif

}  // namespace nova
