// The ready-made error responses of http_errors.h, built at compile time: one constant table, so sending an
// error never formats or allocates, and Content-Length is computed from the body rather than counted by hand.
#include "http_errors.h"

namespace nova {
namespace {

// Every response is shorter than this; a longer one fails to compile (writing past the array is not a
// constant expression).
constexpr size_t kMaxResponse = 192;

struct Ready {
  char bytes[kMaxResponse] = {};
  size_t len = 0;
};

constexpr size_t length_of(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

constexpr void put(Ready& r, const char* s) {
  while (*s != '\0') r.bytes[r.len++] = *s++;
}

constexpr void put_uint(Ready& r, size_t v) {
  char digits[20] = {};
  size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n != 0) r.bytes[r.len++] = digits[--n];
}

// The shape of docs/architecture.md: no Date (these go out when the connection is being given up, and a fixed
// byte string is worth more than a timestamp there), and always Connection: close.
constexpr Ready make(uint16_t status, const char* reason) {
  Ready r;
  put(r, "HTTP/1.1 ");
  put_uint(r, status);
  put(r, " ");
  put(r, reason);
  put(r, "\r\nContent-Type: text/plain\r\nContent-Length: ");
  put_uint(r, length_of(reason));
  put(r, "\r\nConnection: close\r\n\r\n");
  put(r, reason);
  return r;
}

struct Entry {
  HttpError error;
  uint16_t status;
  Ready ready;
};

constexpr Entry entry(HttpError e, uint16_t status, const char* reason) {
  return Entry{e, status, make(status, reason)};
}

// Indexed by HttpError; the reasons are those of reason_phrase() in response.cc (the errors test checks both).
constexpr Entry kTable[] = {
    Entry{HttpError::None, 0, Ready{}},
    entry(HttpError::BadRequest, 400, "Bad Request"),
    entry(HttpError::RequestTimeout, 408, "Request Timeout"),
    entry(HttpError::PayloadTooLarge, 413, "Payload Too Large"),
    entry(HttpError::UriTooLong, 414, "URI Too Long"),
    entry(HttpError::HeaderTooLarge, 431, "Request Header Fields Too Large"),
    entry(HttpError::InternalError, 500, "Internal Server Error"),
    entry(HttpError::NotImplemented, 501, "Not Implemented"),
    entry(HttpError::ServiceUnavailable, 503, "Service Unavailable"),
    entry(HttpError::VersionNotSupported, 505, "HTTP Version Not Supported"),
};

constexpr size_t kCount = sizeof kTable / sizeof kTable[0];

constexpr bool table_in_enum_order() {
  for (size_t i = 0; i < kCount; ++i) {
    if (static_cast<size_t>(kTable[i].error) != i) return false;
  }
  return true;
}
static_assert(table_in_enum_order(), "kTable must list every HttpError in declaration order");
static_assert(static_cast<size_t>(HttpError::VersionNotSupported) + 1 == kCount, "an HttpError has no response");

const Entry* find(HttpError e) {
  const size_t i = static_cast<size_t>(e);
  return i < kCount ? &kTable[i] : nullptr;
}

}  // namespace

std::string_view error_response(HttpError e) {
  const Entry* x = find(e);
  return x ? std::string_view(x->ready.bytes, x->ready.len) : std::string_view();
}

std::string_view error_response_head(HttpError e) {
  const std::string_view all = error_response(e);
  const size_t end = all.find("\r\n\r\n");
  return end == std::string_view::npos ? all : all.substr(0, end + 4);
}

uint16_t error_status(HttpError e) {
  const Entry* x = find(e);
  return x ? x->status : 0;
}

}  // namespace nova
