// Thin, portable socket calls for the drivers: one signature on POSIX and Winsock, errors as small codes.
// socket_posix.cc and socket_win.cc each implement all of it; nothing above this file includes a system header.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace nova {

#ifdef _WIN32
using sock_t = uintptr_t;  // SOCKET
constexpr sock_t kBadSocket = ~static_cast<uintptr_t>(0);
#else
using sock_t = int;
constexpr sock_t kBadSocket = -1;
#endif

// Results of sock_recv / sock_send below zero.
enum SockStatus : int64_t {
  kSockTimeout = -1,  // SO_RCVTIMEO / SO_SNDTIMEO expired (blocking) or would block (non-blocking)
  kSockReset = -2,    // the peer reset or the connection was shut down under us
  kSockError = -3,    // anything else
};

bool sock_init();  // WSAStartup on Windows; no-op elsewhere

// What to listen on: server.listen()'s options as native takes them.
struct ListenSpec {
  std::string host;  // "" means every interface (IPv6 dual-stack when available, else IPv4)
  int port = 0;
  int backlog = 511;
  std::string path;         // not empty: a Unix domain socket at this path instead of TCP (POSIX only)
  bool ipv6_only = false;   // IPV6_V6ONLY: an IPv6 listener takes no IPv4 clients ("" then means "::" only)
  bool reuse_port = false;  // SO_REUSEPORT: other sockets (processes) may listen on the same port (not Windows)
  int64_t fd = -1;          // >= 0: listen on this open stream socket instead (POSIX); it is the server's from now on
};

// Binds and listens. On failure returns kBadSocket and sets *err to an errno-style code name ("EADDRINUSE",
// "EACCES", ...); a path too long for sockaddr_un is ENAMETOOLONG (never a silently shortened path); an fd that is
// no stream socket is EINVAL, as node reports it.
sock_t sock_listen(const ListenSpec& spec, std::string* err);
// The local address of a socket (a listener's bound address, or a connection's own end). For a Unix domain socket:
// the path as address (Linux gives a connection accepted on it the listener's path), an empty family and port 0.
bool sock_local_address(sock_t s, std::string* address, std::string* family, int* port);
// Why sock_accept returned kBadSocket.
enum class AcceptFail : uint8_t {
  None,
  Transient,  // nothing to accept (non-blocking), or the peer gave up before we took it: try again at once
  NoFds,      // out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): the listener stays readable,
              // so a caller must back off instead of retrying at once (that spins a core until fds free up)
  Fatal,      // the listener was shut down or closed (server.close())
};
// A peer's address as accept() gave it, kept raw (20 bytes, no heap): formatted by peer_text only when JS asks,
// not at every accept (inet_ntop formats with snprintf).
struct PeerAddress {
  uint8_t family = 0;  // 0: none (the peer of a Unix domain socket), 4: IPv4, 6: IPv6
  uint16_t port = 0;
  uint8_t bytes[16] = {};  // network order: 4 bytes for IPv4, 16 for IPv6
};
// The address as node gives it ("127.0.0.1", "::ffff:127.0.0.1", "::1"); "" for family 0.
std::string peer_text(const PeerAddress& a);
// Blocks until a connection arrives (or the listener is shut down: returns kBadSocket, *fail = Fatal).
// nonblocking: the new socket is non-blocking (on Linux set by accept4 itself: no extra system calls).
sock_t sock_accept(sock_t listener, PeerAddress* peer, AcceptFail* fail, bool nonblocking = false);
void sock_set_nodelay(sock_t s);
bool sock_set_nonblocking(sock_t s);
// SO_RCVTIMEO: a DWORD of milliseconds on Windows, a timeval on POSIX. 0 = no timeout.
bool sock_set_recv_timeout(sock_t s, uint32_t ms);
bool sock_set_send_timeout(sock_t s, uint32_t ms);
// > 0 bytes, 0 orderly shutdown by the peer, < 0 a SockStatus.
int64_t sock_recv(sock_t s, char* buf, size_t len);
int64_t sock_send(sock_t s, const char* buf, size_t len);
void sock_shutdown_write(sock_t s);
void sock_shutdown_both(sock_t s);  // wakes a thread blocked in recv/send/accept on s
void sock_close(sock_t s);

// Waits up to ms (-1: no limit) until s is readable or hung up (only when want_read) or `wake` (kBadSocket: none)
// is readable. Returns kWaitSocket | kWaitWake for what is ready; 0 when the time ran out.
enum WaitResult : int { kWaitSocket = 1, kWaitWake = 2 };
int sock_wait(sock_t s, bool want_read, sock_t wake, int ms);
// A wake-up channel for a thread that waits in sock_wait: *r turns readable after sock_wake(w). An eventfd on Linux
// (*r == *w: close it once), a pipe elsewhere on POSIX; false where there is none (Windows: such a thread looks at
// its mailbox between short waits instead).
bool sock_wake_pair(sock_t* r, sock_t* w);
void sock_wake(sock_t w);
void sock_wake_drain(sock_t r);

}  // namespace nova
