// Small value types shared by the parser, the keep-alive decision, the response writer and the connection core.
// Plain C++, no sockets, no N-API: everything that includes this can be tested and fuzzed without Node.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace nova {

// Why a request was refused; each value maps to exactly one ready-made response in http_errors.h.
enum class HttpError : uint8_t {
  None = 0,
  BadRequest,           // 400: malformed syntax or framing
  RequestTimeout,       // 408: headersTimeout / requestTimeout (raised by the connection, never by the parser)
  PayloadTooLarge,      // 413: a body over a configured limit
  UriTooLong,           // 414: request line longer than ParserLimits::max_request_line
  HeaderTooLarge,       // 431: head over max_header_size, too many fields, trailers too large
  InternalError,        // 500: the handler threw or rejected before its head was sent (ResponseCmd::kFail)
  NotImplemented,       // 501: a transfer coding we do not know
  ServiceUnavailable,   // 503: the connection cap with nothing idle to evict
  VersionNotSupported,  // 505: HTTP major version other than 1
};

// A view into the connection's read buffer; valid until the connection compacts that buffer.
struct Slice {
  const char* p = nullptr;
  uint32_t len = 0;
};

struct Header {
  Slice name;
  Slice value;  // leading and trailing whitespace (SP / HTAB) removed
};

// Tokens of the Connection header that matter to the core (RFC 9110 7.6.1); others are ignored.
enum ConnToken : uint8_t {
  kConnClose = 1,
  kConnKeepAlive = 2,
  kConnUpgrade = 4,
};

enum class BodyKind : uint8_t { None, Length, Chunked };

// How the end of a response body is marked on the wire.
enum class Framing : uint8_t {
  NoBody,          // HEAD, 1xx, 204, 304: no body bytes whatever the headers say
  Length,          // Content-Length
  Chunked,         // Transfer-Encoding: chunked (HTTP/1.1 clients only)
  CloseDelimited,  // the end is the close of the connection: never persistent
};

// An option that JS may change while I/O threads read it (server.keepAliveTimeout = ... after listen()):
// a relaxed atomic that still copies and converts like the plain number it stands for.
class LiveU32 {
 public:
  LiveU32(uint32_t v = 0) : v_(v) {}  // NOLINT: implicit on purpose
  LiveU32(const LiveU32& o) : v_(o.get()) {}
  LiveU32& operator=(const LiveU32& o) {
    v_.store(o.get(), std::memory_order_relaxed);
    return *this;
  }
  LiveU32& operator=(uint32_t v) {
    v_.store(v, std::memory_order_relaxed);
    return *this;
  }
  uint32_t get() const { return v_.load(std::memory_order_relaxed); }
  operator uint32_t() const { return get(); }  // NOLINT: implicit on purpose

 private:
  std::atomic<uint32_t> v_;
};

}  // namespace nova
