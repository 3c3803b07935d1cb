// A socket address as text, the same on every platform (socket_posix.cc and socket_win.cc): the address, the port
// and the family as node names it.
#pragma once
#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif
#include <string>

namespace nova {

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
