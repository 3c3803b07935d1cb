// Ready-made responses for refused requests: one table, every entry closes the connection.
#pragma once
#include <string_view>
#include "http_types.h"

namespace nova {

// The complete bytes for an error response, e.g.
//   "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad
//   Request"
// Empty for HttpError::None.
std::string_view error_response(HttpError e);

// The same response to a HEAD request: the head only (its Content-Length still says what a GET would get).
std::string_view error_response_head(HttpError e);

// The status code for an error (400, 408, ...), 0 for None.
uint16_t error_status(HttpError e);

}  // namespace nova
