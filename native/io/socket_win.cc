// Winsock implementation of socket.h: SOCKET handles, closesocket, SO_RCVTIMEO as a DWORD of milliseconds.
#include "socket.h"
#include <winsock2.h>
#include <ws2tcpip.h>
#include "socket_common.h"

namespace nova {

namespace {
std::string wsa_name(int e) {
  switch (e) {
    case WSAEADDRINUSE: return "EADDRINUSE";
    case WSAEACCES: return "EACCES";
    case WSAEADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case WSAEAFNOSUPPORT: return "EAFNOSUPPORT";
    case WSAEINVAL: return "EINVAL";
    case WSAEMFILE: return "EMFILE";
    default: return std::string("WSA") + std::to_string(e);
  }
}

bool set_timeout(sock_t s, int opt, uint32_t ms) {
  DWORD v = ms;  // Winsock takes milliseconds as a DWORD, not a timeval
  return setsockopt(static_cast<SOCKET>(s), SOL_SOCKET, opt, reinterpret_cast<const char*>(&v), sizeof v) == 0;
}

int64_t status_of(int e) {
  if (e == WSAETIMEDOUT || e == WSAEWOULDBLOCK) return kSockTimeout;
  if (e == WSAECONNRESET || e == WSAECONNABORTED || e == WSAENOTCONN || e == WSAESHUTDOWN) return kSockReset;
  return kSockError;
}
}  // namespace

bool sock_init() {
  WSADATA data;
  return WSAStartup(MAKEWORD(2, 2), &data) == 0;
}

sock_t sock_listen(const ListenSpec& spec, std::string* err) {
  // Windows has no SO_REUSEPORT (SO_REUSEADDR means something unsafe there), and node's `path` means a named pipe
  // on Windows, not AF_UNIX, and an fd is not a SOCKET: all refused (lib/server.ts refuses them first, by name).
  if (spec.reuse_port || !spec.path.empty() || spec.fd >= 0) {
    *err = "ENOTSUP";
    return kBadSocket;
  }
  const addrinfo hints = listen_hints();
  const std::string service = std::to_string(spec.port);
  const auto candidates = listen_hosts(spec);
  int last = WSAEADDRNOTAVAIL;
  for (const char* h : candidates) {
    if (h == nullptr) break;
    addrinfo* res = nullptr;
    if (getaddrinfo(h, service.c_str(), &hints, &res) != 0 || res == nullptr) continue;
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      SOCKET fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
      if (fd == INVALID_SOCKET) {
        last = WSAGetLastError();
        continue;
      }
      if (ai->ai_family == AF_INET6) {
        DWORD v6only = spec.ipv6_only ? 1 : 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, reinterpret_cast<const char*>(&v6only), sizeof v6only);
      }
      if (bind(fd, ai->ai_addr, static_cast<int>(ai->ai_addrlen)) == 0 && listen(fd, spec.backlog) == 0) {
        freeaddrinfo(res);
        return static_cast<sock_t>(fd);
      }
      last = WSAGetLastError();
      closesocket(fd);
    }
    freeaddrinfo(res);
  }
  *err = wsa_name(last);
  return kBadSocket;
}

bool sock_local_address(sock_t s, std::string* address, std::string* family, int* port) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (getsockname(static_cast<SOCKET>(s), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return false;
  format_address(ss, address, port);
  *family = family_name(ss);
  return true;
}

std::string peer_text(const PeerAddress& a) { return peer_format(a); }

sock_t sock_accept(sock_t listener, PeerAddress* peer, AcceptFail* fail, bool nonblocking) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  SOCKET fd = accept(static_cast<SOCKET>(listener), reinterpret_cast<sockaddr*>(&ss), &len);
  if (fd == INVALID_SOCKET) {
    const int e = WSAGetLastError();
    if (e == WSAENOTSOCK || e == WSAEINTR || e == WSAEINVAL) *fail = AcceptFail::Fatal;
    else if (e == WSAEMFILE || e == WSAENOBUFS) *fail = AcceptFail::NoFds;
    else *fail = AcceptFail::Transient;
    return kBadSocket;
  }
  if (nonblocking) sock_set_nonblocking(static_cast<sock_t>(fd));
  peer_from(ss, peer);
  *fail = AcceptFail::None;
  return static_cast<sock_t>(fd);
}

void sock_set_nodelay(sock_t s) {
  BOOL one = TRUE;
  setsockopt(static_cast<SOCKET>(s), IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&one), sizeof one);
}

bool sock_set_nonblocking(sock_t s) {
  u_long one = 1;
  return ioctlsocket(static_cast<SOCKET>(s), FIONBIO, &one) == 0;
}

bool sock_set_recv_timeout(sock_t s, uint32_t ms) { return set_timeout(s, SO_RCVTIMEO, ms); }
bool sock_set_send_timeout(sock_t s, uint32_t ms) { return set_timeout(s, SO_SNDTIMEO, ms); }

int64_t sock_recv(sock_t s, char* buf, size_t len) {
  const int n = recv(static_cast<SOCKET>(s), buf, static_cast<int>(len > 0x7fffffff ? 0x7fffffff : len), 0);
  if (n >= 0) return n;
  return status_of(WSAGetLastError());
}

int64_t sock_send(sock_t s, const char* buf, size_t len) {
  const int n = send(static_cast<SOCKET>(s), buf, static_cast<int>(len > 0x7fffffff ? 0x7fffffff : len), 0);
  if (n >= 0) return n;
  return status_of(WSAGetLastError());
}

void sock_shutdown_write(sock_t s) { shutdown(static_cast<SOCKET>(s), SD_SEND); }
void sock_shutdown_both(sock_t s) { shutdown(static_cast<SOCKET>(s), SD_BOTH); }
void sock_close(sock_t s) { closesocket(static_cast<SOCKET>(s)); }

int sock_wait(sock_t s, bool want_read, sock_t /*wake*/, int ms) {
  if (!want_read) {
    Sleep(ms < 0 ? INFINITE : static_cast<DWORD>(ms));
    return 0;
  }
  WSAPOLLFD p{};
  p.fd = static_cast<SOCKET>(s);
  p.events = POLLRDNORM;
  const int r = WSAPoll(&p, 1, ms);
  return r > 0 && p.revents != 0 ? kWaitSocket : 0;
}

// No pipe that WSAPoll can watch: callers wait in short slices instead.
bool sock_wake_pair(sock_t*, sock_t*) { return false; }
void sock_wake(sock_t) {}
void sock_wake_drain(sock_t) {}

}  // namespace nova
