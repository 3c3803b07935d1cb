// The option values that lib/options.ts gives by default, for the C++ tests and the fuzz targets. Native keeps no
// defaults of its own (the addon receives every option from JS), and the expected bytes of these tests assume
// these values (Keep-Alive: timeout=65, 431 past 16 KiB, reading stops at 64 KiB queued). Test data, not a second
// owner: lib/options.ts decides.
#pragma once
#include "../../native/core/connection.h"

inline nova::ParserLimits default_limits() {
  nova::ParserLimits l;
  l.max_header_size = 16384;  // maxHeaderSize
  l.host_optional = false;    // requireHostHeader: true
  return l;
}

inline nova::ConnConfig default_config() {
  nova::ConnConfig c;
  c.limits = default_limits();
  c.keep_alive_timeout_ms = 65000;  // keepAliveTimeout
  c.headers_timeout_ms = 60000;     // headersTimeout
  c.request_timeout_ms = 300000;    // requestTimeout
  c.max_requests_per_socket = 0;    // maxRequestsPerSocket
  c.high_water = 64 * 1024;         // highWaterMark (HIGH_WATER_MARK)
  c.check_continue = 0;             // no 'checkContinue' listener (lib/server.ts follows the listeners)
  return c;
}
