// Response head serialization (response.h): framing choice, the head in the order docs/architecture.md fixes,
// reason phrases, the per-thread Date cache and chunk-size lines. Appends to the caller's buffer and nothing else.
#include "response.h"

#include <cstring>
#include <ctime>

namespace nova {
namespace {

// Decimal digits of v appended without a temporary string: this runs for every response head.
void append_uint(std::string& out, uint64_t v) {
  char buf[20];
  size_t i = sizeof buf;
  do {
    buf[--i] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out.append(buf + i, sizeof buf - i);
}

template <size_t N>
void append_lit(std::string& out, const char (&lit)[N]) {
  out.append(lit, N - 1);
}

// The handler's field lines ("Name: value\r\n"..., validated by JS) without its Transfer-Encoding lines.
void append_fields_without_te(std::string& out, Slice fields) {
  static constexpr char kName[] = "transfer-encoding:";
  constexpr size_t kLen = sizeof kName - 1;
  const char* p = fields.p;
  const char* const end = fields.p + fields.len;
  while (p < end) {
    const char* eol = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* next = eol ? eol + 1 : end;
    bool te = static_cast<size_t>(next - p) > kLen;
    for (size_t i = 0; te && i < kLen; ++i) {
      char c = p[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
      te = c == kName[i];
    }
    if (!te) out.append(p, static_cast<size_t>(next - p));
    p = next;
  }
}

// 1xx, 204 and 304 never have content (RFC 9110 6.4.1), whatever the handler wrote or set.
bool status_has_no_body(uint16_t status) { return status < 200 || status == 204 || status == 304; }

// Two digits, zero-padded; every field of the date but the year.
char* put2(char* p, int v) {
  p[0] = static_cast<char>('0' + (v / 10) % 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}

// "Date: " + 29 bytes of IMF-fixdate + CRLF, ready to append in one copy.
constexpr size_t kDateLine = 6 + 29 + 2;

struct DateCache {
  bool valid = false;
  int64_t second = 0;
  char line[kDateLine] = {};
};

// Per thread, so I/O threads never share (or lock) it; trivially constructible, so access is a plain TLS load.
thread_local DateCache t_date;

}  // namespace

Framing choose_framing(const ResponseHead& h, bool head_request, uint8_t version_minor) {
  if (head_request || status_has_no_body(h.status)) return Framing::NoBody;
  // A handler's Transfer-Encoding wins over a length (RFC 9112 6.3: it overrides Content-Length). HTTP/1.0 has
  // no chunked coding, so its body ends with the close (and write_head leaves the handler's field out).
  const bool chunked_ok = version_minor != 0;
  if (h.user_fields & kUserTransferEncoding) return chunked_ok ? Framing::Chunked : Framing::CloseDelimited;
  if (h.length_known) return Framing::Length;
  return chunked_ok ? Framing::Chunked : Framing::CloseDelimited;
}

namespace {
// Always HTTP/1.1: the highest version we support, also to 1.0 clients (RFC 9110 6.2).
void append_status_line(std::string& out, uint16_t status, Slice reason) {
  append_lit(out, "HTTP/1.1 ");
  append_uint(out, status);
  out.push_back(' ');
  if (reason.len != 0) {
    out.append(reason.p, reason.len);
  } else {
    out.append(reason_phrase(status));
  }
  append_lit(out, "\r\n");
}
}  // namespace

void write_interim_head(std::string& out, uint16_t status, Slice reason, Slice fields) {
  append_status_line(out, status, reason);
  if (fields.len != 0) out.append(fields.p, fields.len);
  append_lit(out, "\r\n");
}

void write_head(std::string& out, const ResponseHead& h, Framing framing, bool keep_alive, uint8_t version_minor,
                uint32_t keep_alive_timeout_s) {
  // A close-delimited body can only end with the close, whatever the caller decided.
  const bool persist = keep_alive && framing != Framing::CloseDelimited;

  append_status_line(out, h.status, h.reason);

  if (h.fields.len != 0) {
    // HTTP/1.0 has no transfer codings (RFC 9112 6.1): the handler's Transfer-Encoding is not sent to it.
    if (version_minor == 0 && (h.user_fields & kUserTransferEncoding)) append_fields_without_te(out, h.fields);
    else out.append(h.fields.p, h.fields.len);
  }
  if (!(h.user_fields & kUserDate)) append_date(out);

  if (!persist) {
    // A second Connection line beside a handler's "keep-alive" is still one list ("keep-alive, close"): close wins.
    if (!(h.response_tokens & kConnClose)) append_lit(out, "Connection: close\r\n");
  } else {
    // A 1.0 client keeps the connection only when the response says keep-alive too; a 1.1 response says it as
    // node:http's does, unless the handler set a Connection field of its own (node's rule too).
    if (version_minor == 0 ? !(h.response_tokens & kConnKeepAlive) : !(h.user_fields & kUserConnection)) {
      append_lit(out, "Connection: keep-alive\r\n");
    }
    // timeout=0 would tell clients the connection is already unusable; with no whole second to state, say nothing.
    if (!(h.user_fields & kUserKeepAlive) && keep_alive_timeout_s != 0) {
      append_lit(out, "Keep-Alive: timeout=");
      append_uint(out, keep_alive_timeout_s);
      append_lit(out, "\r\n");
    }
  }

  switch (framing) {
    case Framing::NoBody:
      // HEAD: the Content-Length the GET would have had (RFC 9110 8.6), when known. 1xx and 204 must not carry
      // one; 304 may, but only the selected representation's, which the core cannot vouch for.
      if (!h.length_known || status_has_no_body(h.status)) break;
      [[fallthrough]];
    case Framing::Length:
      if (!(h.user_fields & kUserContentLength)) {
        append_lit(out, "Content-Length: ");
        append_uint(out, h.content_length);
        append_lit(out, "\r\n");
      }
      break;
    case Framing::Chunked:
      if (!(h.user_fields & kUserTransferEncoding)) append_lit(out, "Transfer-Encoding: chunked\r\n");
      break;
    case Framing::CloseDelimited: break;
  }
  append_lit(out, "\r\n");
}

const char* reason_phrase(uint16_t status) {
  // The codes of RFC 9110 section 15 and the IANA registry plus a few in common use (418, 509), spelled as
  // node:http's STATUS_CODES does (413 "Payload Too Large", not RFC 9110's "Content Too Large") so that a
  // head is byte for byte what node:http would send; clients ignore the phrase anyway (RFC 9112 4).
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";
    case 208: return "Already Reported";
    case 226: return "IM Used";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 418: return "I'm a Teapot";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Entity";
    case 423: return "Locked";
    case 424: return "Failed Dependency";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 506: return "Variant Also Negotiates";
    case 507: return "Insufficient Storage";
    case 508: return "Loop Detected";
    case 509: return "Bandwidth Limit Exceeded";
    case 510: return "Not Extended";
    case 511: return "Network Authentication Required";
    default: return "Unknown";
  }
}

namespace {

// Floor division: the day of an instant before 1970 starts at the midnight before it, not after.
int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

// The calendar by arithmetic, not gmtime_r: glibc's gmtime_r takes its time-zone lock and runs tzset's
// bookkeeping, which races (for ThreadSanitizer, whose view of glibc's own lock is blind) with the JS thread's
// localtime calls; and no C library call means no locale, no time zone and no range limit (gmtime_s ends at 3000).
void format_http_date(int64_t unix_seconds, char out[29]) {
  static const char kDays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static const int kMonthDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  // The format holds the years 0001 to 9999; any other instant is written as the epoch (a well-formed date,
  // where garbage would break the head). No clock gets there.
  constexpr int64_t kFirst = -62135596800;  // 0001-01-01T00:00:00Z
  constexpr int64_t kLast = 253402300799;   // 9999-12-31T23:59:59Z
  if (unix_seconds < kFirst || unix_seconds > kLast) unix_seconds = 0;
  int64_t days = floor_div(unix_seconds, 86400);
  const int64_t secs = unix_seconds - days * 86400;
  const int wday = static_cast<int>(((days % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
  // Whole 400-year cycles first (every one has 146,097 days, whatever year it starts in), then year by year.
  int64_t year = 1970 + 400 * floor_div(days, 146097);
  days -= floor_div(days, 146097) * 146097;
  for (;;) {
    const int64_t len = is_leap(year) ? 366 : 365;
    if (days < len) break;
    days -= len;
    ++year;
  }
  int mon = 0;
  for (;; ++mon) {
    const int len = kMonthDays[mon] + (mon == 1 && is_leap(year) ? 1 : 0);
    if (days < len) break;
    days -= len;
  }
  const int y = static_cast<int>(year);
  char* p = out;
  std::memcpy(p, kDays[wday], 3);
  p += 3;
  *p++ = ',';
  *p++ = ' ';
  p = put2(p, static_cast<int>(days) + 1);
  *p++ = ' ';
  std::memcpy(p, kMonths[mon], 3);
  p += 3;
  *p++ = ' ';
  p = put2(p, y / 100);
  p = put2(p, y % 100);
  *p++ = ' ';
  p = put2(p, static_cast<int>(secs / 3600));
  *p++ = ':';
  p = put2(p, static_cast<int>(secs / 60 % 60));
  *p++ = ':';
  p = put2(p, static_cast<int>(secs % 60));
  std::memcpy(p, " GMT", 4);
}

void append_date(std::string& out) {
  // time() is a cheap clock read (vDSO on Linux); formatting happens once a second per thread.
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  DateCache& c = t_date;
  if (!c.valid || c.second != now) {
    std::memcpy(c.line, "Date: ", 6);
    format_http_date(now, c.line + 6);
    std::memcpy(c.line + 6 + 29, "\r\n", 2);
    c.second = now;
    c.valid = true;
  }
  out.append(c.line, kDateLine);
}

void append_chunk_header(std::string& out, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  char buf[2 * sizeof(size_t) + 2];
  size_t i = sizeof buf;
  buf[--i] = '\n';
  buf[--i] = '\r';
  do {
    buf[--i] = kHex[n & 0xF];
    n >>= 4;
  } while (n != 0);
  out.append(buf + i, sizeof buf - i);
}

}  // namespace nova
