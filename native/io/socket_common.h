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

inline void format_address(const sockaddr_storage& ss, std::string* address, int* port) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family != AF_INET6 && ss.ss_family != AF_INET) {
    *address = "";  // a peer of a Unix domain socket has no address (node: undefined)
    *port = 0;
    return;
  }
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    *port = ntohs(a->sin6_port);
  } else {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    *port = ntohs(a->sin_port);
  }
  *address = buf;
}

inline const char* family_name(const sockaddr_storage& ss) { return ss.ss_family == AF_INET6 ? "IPv6" : "IPv4"; }

}  // namespace nova
