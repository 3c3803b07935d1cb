// The interface every I/O model implements for the addon: listen, the three ways to close, and teardown.
#pragma once
#include <memory>
#include <string>
#include "registry.h"

namespace nova {

struct ListenResult {
  std::string address;  // a Unix domain socket: its path, with an empty family
  std::string family;
  int port = 0;
  std::string error;  // errno-style code when listening failed
};

// Out of descriptors (EMFILE/ENFILE): how long the accepting thread leaves the listener alone before trying again.
// The pending connections wait in the backlog meanwhile; retrying at once would spin a core until fds free up.
constexpr uint32_t kAcceptBackoffMs = 50;

class Driver {
 public:
  virtual ~Driver() = default;
  virtual bool listen(const ListenSpec& spec, ListenResult* out) = 0;
  // server.close(): stop accepting, close idle connections, let the rest finish with Connection: close;
  // ServerClosed is reported once the listener and every connection are gone.
  virtual void close() = 0;
  virtual void close_idle() { registry().table.kill_idle(CloseReason::Shutdown); }
  virtual void close_all() { registry().table.kill_all(CloseReason::Shutdown); }
  virtual size_t idle_count() { return registry().table.idle_count(); }
  // Environment teardown: everything stops now; returns when no driver thread touches the registry any more.
  virtual void stop_now() = 0;
  // JS took the ServerClosed event: joins the driver's threads, which end by themselves once the server is closed
  // (a closed server keeps no thread, poller or descriptor).
  virtual void reap() {}
  virtual Registry& registry() = 0;
  virtual void ref() {}
  virtual void unref() {}
};

std::shared_ptr<Driver> make_blocking_driver(std::shared_ptr<Registry> reg);
std::shared_ptr<Driver> make_evented_driver(std::shared_ptr<Registry> reg);

}  // namespace nova
