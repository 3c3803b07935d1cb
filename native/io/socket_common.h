// What the two socket implementations (socket_posix.cc, socket_win.cc) share: the addresses listen() tries and a
// socket address as text (the address, the port and the family as node names it).
#pragma once
#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif
#include <array>
#include <cstring>
#include <string>
#include "socket.h"

namespace nova {

// The hosts listen() tries, in order, up to the first nullptr: the one given, or for every interface the IPv6
// wildcard first (dual-stack, like node:http), then IPv4 where that fails (not with ipv6Only).
inline std::array<const char*, 2> listen_hosts(const ListenSpec& spec) {
  if (!spec.host.empty()) return {spec.host.c_str(), nullptr};
  return {"::", spec.ipv6_only ? nullptr : "0.0.0.0"};
}

// getaddrinfo() hints for listen(): a TCP socket to bind, the port given as a number.
inline addrinfo listen_hints() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  return hints;
}

// accept()'s address, kept raw (PeerAddress); nothing is formatted here.
inline void peer_from(const sockaddr_storage& ss, PeerAddress* peer) {
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    peer->family = 6;
    peer->port = ntohs(a->sin6_port);
    std::memcpy(peer->bytes, &a->sin6_addr, 16);
  } else if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    peer->family = 4;
    peer->port = ntohs(a->sin_port);
    std::memcpy(peer->bytes, &a->sin_addr, 4);
  } else {
    *peer = PeerAddress{};  // a peer of a Unix domain socket has no address (node: undefined)
  }
}

inline std::string peer_format(const PeerAddress& peer) {
  if (peer.family == 0) return std::string();
  char buf[INET6_ADDRSTRLEN] = {0};
  inet_ntop(peer.family == 6 ? AF_INET6 : AF_INET, peer.bytes, buf, sizeof buf);
  return buf;
}

// A socket address as text and port (getsockname's; a Unix domain socket's: "" and 0).
inline void format_address(const sockaddr_storage& ss, std::string* address, int* port) {
  PeerAddress p;
  peer_from(ss, &p);
  *address = peer_format(p);
  *port = p.port;
}

inline const char* family_name(const sockaddr_storage& ss) { return ss.ss_family == AF_INET6 ? "IPv6" : "IPv4"; }

}  // namespace nova
