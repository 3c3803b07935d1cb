// POSIX implementation of socket.h (Linux, macOS, BSD).
#include "socket.h"
#include <arpa/inet.h>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "socket_common.h"

namespace nova {

namespace {
std::string errno_name(int e) {
  switch (e) {
    case EADDRINUSE: return "EADDRINUSE";
    case EACCES: return "EACCES";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOTDIR: return "ENOTDIR";
    case EROFS: return "EROFS";
    case ELOOP: return "ELOOP";
    case EPERM: return "EPERM";
    case ENOTSUP: return "ENOTSUP";
    default: return std::string("E") + std::to_string(e);
  }
}

bool set_timeout(sock_t s, int opt, uint32_t ms) {
  timeval tv;
  tv.tv_sec = ms / 1000;
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return setsockopt(s, SOL_SOCKET, opt, &tv, sizeof tv) == 0;
}

int64_t status_of(int e) {
  if (e == EAGAIN || e == EWOULDBLOCK) return kSockTimeout;
  if (e == ECONNRESET || e == EPIPE || e == ENOTCONN || e == ESHUTDOWN) return kSockReset;
  return kSockError;
}

// listen({ path }): a Unix domain socket. A file already at the path is EADDRINUSE, as with node (a stale socket
// file is the caller's to remove); a missing directory is EACCES, as libuv (and so node) reports it.
sock_t listen_unix(const ListenSpec& spec, std::string* err) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (spec.path.size() >= sizeof sa.sun_path) {
    *err = errno_name(ENAMETOOLONG);
    return kBadSocket;
  }
  std::memcpy(sa.sun_path, spec.path.data(), spec.path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) {
    *err = errno_name(errno);
    return kBadSocket;
  }
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0 && listen(fd, spec.backlog) == 0) return fd;
  const int e = errno;
  close(fd);
  *err = errno_name(e == ENOENT ? EACCES : e);
  return kBadSocket;
}
// listen({ fd }): a stream socket someone else opened (systemd socket activation, a parent process). It is made
// blocking, as a socket opened here is (the evented drivers make it non-blocking), and listened on (a bound socket
// starts listening; a listening one keeps its queue). Anything but a stream socket is EINVAL, as node says.
sock_t adopt_listener(const ListenSpec& spec, std::string* err) {
  const int fd = static_cast<int>(spec.fd);
  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
    *err = errno_name(EINVAL);
    return kBadSocket;
  }
  const int flags = fcntl(fd, F_GETFL, 0);
  if (flags >= 0 && (flags & O_NONBLOCK) != 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  if (listen(fd, spec.backlog) != 0) {
    *err = errno_name(errno);
    return kBadSocket;
  }
  return fd;
}
}  // namespace

bool sock_init() { return true; }

sock_t sock_listen(const ListenSpec& spec, std::string* err) {
  if (spec.fd >= 0) return adopt_listener(spec, err);
  if (!spec.path.empty()) return listen_unix(spec, err);
  const addrinfo hints = listen_hints();
  const std::string service = std::to_string(spec.port);
  const auto candidates = listen_hosts(spec);
  int last_errno = EADDRNOTAVAIL;
  for (const char* h : candidates) {
    if (h == nullptr) break;
    addrinfo* res = nullptr;
    if (getaddrinfo(h, service.c_str(), &hints, &res) != 0 || res == nullptr) {
      last_errno = EADDRNOTAVAIL;
      continue;
    }
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
      if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
      if (fd < 0) {
        last_errno = errno;
        continue;
      }
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (spec.reuse_port) {
#ifdef SO_REUSEPORT
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
          last_errno = errno;
          close(fd);
          continue;
        }
#else
        last_errno = ENOTSUP;  // asked for and not there: refused, never a listener that silently differs
        close(fd);
        continue;
#endif
      }
      if (ai->ai_family == AF_INET6) {
        const int v6only = spec.ipv6_only ? 1 : 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
      }
      if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, spec.backlog) == 0) {
        freeaddrinfo(res);
        return fd;
      }
      last_errno = errno;
      close(fd);
    }
    freeaddrinfo(res);
  }
  *err = errno_name(last_errno);
  return kBadSocket;
}

bool sock_local_address(sock_t s, std::string* address, std::string* family, int* port) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(s, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return false;
  if (ss.ss_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&ss);
    const size_t off = offsetof(sockaddr_un, sun_path);
    const size_t n = len > off ? strnlen(un->sun_path, len - off) : 0;
    address->assign(un->sun_path, n);
    family->clear();
    *port = 0;
    return true;
  }
  format_address(ss, address, port);
  *family = family_name(ss);
  return true;
}

std::string peer_text(const PeerAddress& a) { return peer_format(a); }

sock_t sock_accept(sock_t listener, PeerAddress* peer, AcceptFail* fail, bool nonblocking) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  for (;;) {
#ifdef __linux__
    int fd =
        accept4(listener, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0));
#else
    int fd = accept(listener, reinterpret_cast<sockaddr*>(&ss), &len);
    if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (fd >= 0 && nonblocking) sock_set_nonblocking(fd);
#endif
    if (fd >= 0) {
      peer_from(ss, peer);
      *fail = AcceptFail::None;
      return fd;
    }
    if (errno == EINTR) continue;
    // The listener was shut down or closed (server.close) -> fatal; running out of descriptors or memory needs
    // a pause; anything else (ECONNABORTED, EAGAIN on a non-blocking listener) is transient.
    if (errno == EINVAL || errno == EBADF || errno == ENOTSOCK) *fail = AcceptFail::Fatal;
    else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) *fail = AcceptFail::NoFds;
    else *fail = AcceptFail::Transient;
    return kBadSocket;
  }
}

void sock_set_nodelay(sock_t s) {
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool sock_set_nonblocking(sock_t s) {
  int flags = fcntl(s, F_GETFL, 0);
  return flags >= 0 && fcntl(s, F_SETFL, flags | O_NONBLOCK) == 0;
}

bool sock_set_recv_timeout(sock_t s, uint32_t ms) { return set_timeout(s, SO_RCVTIMEO, ms); }
bool sock_set_send_timeout(sock_t s, uint32_t ms) { return set_timeout(s, SO_SNDTIMEO, ms); }

int64_t sock_recv(sock_t s, char* buf, size_t len) {
  for (;;) {
    ssize_t n = recv(s, buf, len, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return status_of(errno);
  }
}

int64_t sock_send(sock_t s, const char* buf, size_t len) {
  for (;;) {
    ssize_t n = send(s, buf, len, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return status_of(errno);
  }
}

void sock_shutdown_write(sock_t s) { shutdown(s, SHUT_WR); }
void sock_shutdown_both(sock_t s) { shutdown(s, SHUT_RDWR); }
void sock_close(sock_t s) { close(s); }

int sock_wait(sock_t s, bool want_read, sock_t wake, int ms) {
  pollfd p[2];
  nfds_t n = 0;
  // fd -1 is ignored by poll(): a socket we don't want to read still reports nothing but POLLHUP/POLLERR, which
  // we don't want either (the next write tells), so leave it out.
  p[n++] = pollfd{want_read ? s : -1, POLLIN, 0};
  if (wake != kBadSocket) p[n++] = pollfd{wake, POLLIN, 0};
  for (;;) {
    const int r = poll(p, n, ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 0;
    int out = 0;
    if (p[0].revents != 0) out |= kWaitSocket;
    if (n > 1 && p[1].revents != 0) out |= kWaitWake;
    return out;
  }
}

bool sock_wake_pair(sock_t* r, sock_t* w) {
#ifdef __linux__
  // One descriptor for both ends.
  const int e = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (e >= 0) {
    *r = *w = e;
    return true;
  }
#endif
  int fds[2];
  if (pipe(fds) != 0) return false;
  for (int fd : fds) {
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
  }
  *r = fds[0];
  *w = fds[1];
  return true;
}

void sock_wake(sock_t w) {
#ifdef __linux__
  const uint64_t one = 1;                  // an eventfd takes 8 bytes; a pipe takes them too
  ssize_t n = write(w, &one, sizeof one);  // full (pipe) or saturated (eventfd): a wake-up is already pending
#else
  const char b = 1;
  ssize_t n = write(w, &b, 1);  // a full pipe is already a pending wake-up
#endif
  (void)n;
}

void sock_wake_drain(sock_t r) {
  uint64_t buf[8];  // an eventfd is read 8 bytes at a time
  while (read(r, buf, sizeof buf) > 0) {
  }
}

}  // namespace nova
