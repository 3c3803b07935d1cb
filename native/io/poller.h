// One small interface over the readiness backends: epoll (poller_epoll.cc, Linux) and poll()/WSAPoll
// (poller_poll.cc, everywhere). A loop thread owns its poller; only wakeup() may be called from other threads.
#pragma once
#include <memory>
#include "socket.h"

namespace nova {

struct PollEvent {
  void* data;
  bool readable;
  bool writable;
  bool hangup;  // error or hang-up: the next recv/send tells which
};

class Poller {
 public:
  virtual ~Poller() = default;
  virtual bool add(sock_t fd, void* data, bool read, bool write) = 0;
  virtual void modify(sock_t fd, void* data, bool read, bool write) = 0;
  virtual void remove(sock_t fd) = 0;
  // The descriptor is about to be closed: epoll forgets it by itself with the close (no system call here).
  virtual void remove_closing(sock_t fd) { remove(fd); }
  // Waits up to timeout_ms (-1: forever) and returns how many events were written to out. A wakeup() makes it
  // return early; wake-ups themselves are consumed here and never reported.
  virtual int wait(PollEvent* out, int max, int timeout_ms) = 0;
  virtual void wakeup() = 0;
  // A descriptor that is readable whenever wait() has something to report (epoll's own fd), so another event
  // loop can watch this one; -1 when the backend has none (poll).
  virtual int native_fd() const { return -1; }
};

std::unique_ptr<Poller> make_epoll_poller();  // nullptr where epoll does not exist
std::unique_ptr<Poller> make_poll_poller();

}  // namespace nova
