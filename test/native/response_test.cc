// deps: response keep_alive
// Exact response-head bytes from native/core/response.cc, driven the way the connection core drives it:
// keep_alive() decides, choose_framing() frames, write_head() serializes. Also reason phrases, Date, chunk lines.
#include <cstdio>
#include <ctime>
#include <string>

#include "../../native/core/keep_alive.h"
#include "../../native/core/response.h"
#include "check.h"

using namespace nova;

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// IMF-fixdate shape: "Www, DD Mmm YYYY HH:MM:SS GMT" (names are checked against fixed instants elsewhere).
bool date_shaped(const std::string& s) {
  static const char kShape[] = "Aaa, 00 Aaa 0000 00:00:00 GMT";
  if (s.size() != 29) return false;
  for (size_t i = 0; i < 29; ++i) {
    char k = kShape[i];
    if (k == '0'   ? !is_digit(s[i])
        : k == 'A' ? !(s[i] >= 'A' && s[i] <= 'Z')
        : k == 'a' ? !(s[i] >= 'a' && s[i] <= 'z')
                   : s[i] != k) {
      return false;
    }
  }
  return true;
}

// Replaces each generated "Date: <IMF-fixdate>" line by "Date: *" after checking its shape, so expected heads
// can be written out in full. Tests where the handler sets Date compare raw bytes instead.
std::string normalize_date(std::string s) {
  for (size_t at = s.find("\r\nDate: "); at != std::string::npos; at = s.find("\r\nDate: ", at + 2)) {
    size_t v = at + 8;
    size_t eol = s.find("\r\n", v);
    if (eol == std::string::npos || !date_shaped(s.substr(v, eol - v))) continue;  // left as is: the diff shows it
    s.replace(v, eol - v, "*");
  }
  return s;
}

Slice slice(const char* s) { return Slice{s, static_cast<uint32_t>(std::char_traits<char>::length(s))}; }

struct Exchange {
  uint8_t version_minor = 1;
  const char* request_connection = nullptr;  // the request's Connection value, if any
  bool head_request = false;
  bool body_complete = true;
  bool server_closing = false;
  uint32_t timeout_s = 65;
};

// The connection core's sequence for one response: framing, decision, head.
std::string respond(const Exchange& x, const ResponseHead& h, bool* kept) {
  KeepAliveInput in;
  in.version_minor = x.version_minor;
  if (x.request_connection) {
    in.request_tokens =
        parse_connection_tokens(x.request_connection, std::char_traits<char>::length(x.request_connection));
  }
  in.response_tokens = h.response_tokens;
  in.framing = choose_framing(h, x.head_request, x.version_minor);
  in.body_complete = x.body_complete;
  in.server_closing = x.server_closing;
  const bool ka = keep_alive(in);
  if (kept) *kept = ka;
  std::string out;
  write_head(out, h, in.framing, ka, x.version_minor, x.timeout_s);
  return out;
}

// One exchange compared in full, Date normalized; want_kept 1 or 0 also checks the decision (-1: not checked).
void head_is(const Exchange& x, const ResponseHead& h, const std::string& want, const char* what, int want_kept = -1) {
  bool kept = false;
  CHECK_EQ(normalize_date(respond(x, h, &kept)), want, what);
  if (want_kept >= 0) CHECK(kept == (want_kept == 1), "%s: keep_alive() was %d", what, kept);
}

ResponseHead with_length(uint64_t n, uint16_t status = 200) {
  ResponseHead h;
  h.status = status;
  h.length_known = true;
  h.content_length = n;
  return h;
}

ResponseHead streamed(uint16_t status = 200) {
  ResponseHead h;
  h.status = status;
  return h;
}

void test_basic_heads() {
  Exchange v11;
  Exchange v10;
  v10.version_minor = 0;
  Exchange v10ka = v10;
  v10ka.request_connection = "keep-alive";

  head_is(v11, with_length(5),
          "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\nContent-Length: 5\r\n\r\n",
          "200 with length, keep-alive 1.1", 1);

  head_is(v10ka, with_length(2),
          "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n"
          "Content-Length: 2\r\n\r\n",
          "persistent 1.0", 1);

  head_is(v10, with_length(2), "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: close\r\nContent-Length: 2\r\n\r\n",
          "1.0 without keep-alive closes", 0);

  Exchange v11close = v11;
  v11close.request_connection = "Keep-Alive, CLOSE";
  head_is(v11close, with_length(0), "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
          "closing 1.1 (close token in a list)");

  head_is(v11, streamed(),
          "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\nTransfer-Encoding: "
          "chunked\r\n\r\n",
          "chunked to 1.1");

  head_is(v10ka, streamed(), "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: close\r\n\r\n",
          "streamed to 1.0: close-delimited, no framing header", 0);

  Exchange closing = v11;
  closing.server_closing = true;
  head_is(closing, with_length(3), "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: close\r\nContent-Length: 3\r\n\r\n",
          "server closing");

  Exchange unread = v11;
  unread.body_complete = false;
  head_is(unread, streamed(), "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n",
          "unread body: chunked but closing");

  Exchange quick = v11;
  quick.timeout_s = 0;
  head_is(quick, with_length(1), "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n",
          "no Keep-Alive field for a timeout under a second");
}

void test_bodiless() {
  Exchange head;
  head.head_request = true;
  head_is(
      head, with_length(1234),
      "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\nContent-Length: 1234\r\n\r\n",
      "HEAD keeps the GET's Content-Length");
  head_is(head, streamed(), "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n",
          "HEAD with an unknown length: no framing header");

  Exchange head10 = head;
  head10.version_minor = 0;
  head10.request_connection = "keep-alive";
  head_is(head10, streamed(), "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n",
          "HEAD to 1.0 keep-alive persists without a length", 1);

  Exchange v11;
  head_is(v11, with_length(0, 204),
          "HTTP/1.1 204 No Content\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n",
          "204: no Content-Length");
  head_is(v11, streamed(304),
          "HTTP/1.1 304 Not Modified\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n",
          "304 streamed: no framing");
  head_is(v11, with_length(10, 304),
          "HTTP/1.1 304 Not Modified\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n",
          "304 with length: none");
  head_is(v11, streamed(101),
          "HTTP/1.1 101 Switching Protocols\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n",
          "1xx: no framing");
  CHECK(choose_framing(with_length(0, 204), false, 1) == Framing::NoBody, "204 is NoBody");
  CHECK(choose_framing(with_length(0, 103), false, 0) == Framing::NoBody, "103 is NoBody");
  CHECK(choose_framing(streamed(205), false, 1) == Framing::Chunked, "205 is framed like any other");
}

void test_handler_fields() {
  Exchange v11;
  Exchange v10ka;
  v10ka.version_minor = 0;
  v10ka.request_connection = "keep-alive";

  ResponseHead h = with_length(2);
  h.fields = slice("Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nX-A: 1\r\n");
  h.user_fields = kUserDate;
  CHECK_EQ(respond(v11, h, nullptr),
           "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nX-A: 1\r\nConnection: keep-alive\r\nKeep-Alive: "
           "timeout=65\r\n"
           "Content-Length: 2\r\n\r\n",
           "handler's Date is not duplicated");

  h = with_length(5);
  h.fields = slice("content-length: 5\r\n");
  h.user_fields = kUserContentLength;
  head_is(v11, h,
          "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n",
          "handler's Content-Length is not duplicated");

  h = with_length(5);
  h.fields = slice("Connection: Close\r\n");
  h.user_fields = kUserConnection;
  h.response_tokens = kConnClose;
  head_is(v11, h, "HTTP/1.1 200 OK\r\nConnection: Close\r\nDate: *\r\nContent-Length: 5\r\n\r\n",
          "handler's Connection: close is not duplicated", 0);

  h = with_length(5);
  h.fields = slice("Connection: keep-alive\r\n");
  h.user_fields = kUserConnection;
  h.response_tokens = kConnKeepAlive;
  head_is(v10ka, h,
          "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nDate: *\r\nKeep-Alive: timeout=65\r\n"
          "Content-Length: 5\r\n\r\n",
          "handler's Connection: keep-alive on 1.0 is not duplicated");

  // The handler's Connection names no keep-alive: a 1.0 client still needs to read one to keep the connection.
  h.fields = slice("Connection: x-trace\r\n");
  h.response_tokens = 0;
  head_is(v10ka, h,
          "HTTP/1.1 200 OK\r\nConnection: x-trace\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n"
          "Content-Length: 5\r\n\r\n",
          "handler's other Connection option on persistent 1.0");

  // Closing anyway (1.1 request said close): the handler's keep-alive is overruled by an added close.
  Exchange v11close;
  v11close.request_connection = "close";
  h.fields = slice("Connection: keep-alive\r\n");
  h.response_tokens = kConnKeepAlive;
  head_is(v11close, h,
          "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nDate: *\r\nConnection: close\r\nContent-Length: 5\r\n\r\n",
          "handler's keep-alive on a closing response");

  h = streamed();
  h.fields = slice("Transfer-Encoding: chunked\r\n");
  h.user_fields = kUserTransferEncoding;
  head_is(v11, h,
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: "
          "timeout=65\r\n\r\n",
          "handler's Transfer-Encoding is not duplicated");
  // HTTP/1.0 has no chunked coding: the handler's Transfer-Encoding line is left out (any case), the body ends with
  // the close, and the other fields stay in order.
  h.fields = slice("X-A: 1\r\ntransfer-ENCODING: gzip, chunked\r\nX-B: 2\r\nTransfer-Encoding: chunked\r\n");
  head_is(v10ka, h, "HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: 2\r\nDate: *\r\nConnection: close\r\n\r\n",
          "no Transfer-Encoding to an HTTP/1.0 client", 0);
  h.fields = slice("Transfer-Encoding: chunked\r\n");
  h.length_known = true;
  h.content_length = 5;
  CHECK(choose_framing(h, false, 1) == Framing::Chunked, "handler's Transfer-Encoding wins over a known length");
  CHECK(choose_framing(h, false, 0) == Framing::CloseDelimited, "no chunked to 1.0 even when the handler asks");

  h = with_length(1);
  h.fields = slice("Connection: keep-alive\r\nKeep-Alive: timeout=5, max=100\r\n");
  h.user_fields = kUserKeepAlive | kUserConnection;
  h.response_tokens = kConnKeepAlive;
  head_is(v11, h,
          "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5, max=100\r\nDate: *\r\nContent-Length: "
          "1\r\n\r\n",
          "handler's Keep-Alive is not duplicated");

  h = with_length(9, 404);
  h.reason = slice("Nowhere To Be Found");
  h.fields = slice("Content-Type: text/plain\r\nX-Multi: a\r\nX-Multi: b\r\n");
  head_is(v11, h,
          "HTTP/1.1 404 Nowhere To Be Found\r\nContent-Type: text/plain\r\nX-Multi: a\r\nX-Multi: b\r\nDate: *\r\n"
          "Connection: keep-alive\r\nKeep-Alive: timeout=65\r\nContent-Length: 9\r\n\r\n",
          "custom reason, fields in the order set");
}

void test_appends() {
  std::string out = "previous bytes";
  ResponseHead h = with_length(1);
  h.user_fields = kUserDate;
  write_head(out, h, Framing::Length, false, 1, 65);
  CHECK_EQ(out, "previous bytesHTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n",
           "write_head appends");
  out.clear();
  write_head(out, h, Framing::CloseDelimited, true, 1, 65);
  CHECK_EQ(out, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", "close-delimited is never written as persistent");
  out.clear();
  h = with_length(18446744073709551615ull, 599);
  h.user_fields = kUserDate;
  write_head(out, h, Framing::Length, true, 1, 4294967295u);
  CHECK_EQ(out,
           "HTTP/1.1 599 Unknown\r\nConnection: keep-alive\r\nKeep-Alive: timeout=4294967295\r\nContent-Length: "
           "18446744073709551615\r\n\r\n",
           "largest numbers, unknown status");
}

void test_reasons() {
  struct {
    uint16_t code;
    const char* reason;
  } cases[] = {
      {100, "Continue"},
      {200, "OK"},
      {201, "Created"},
      {204, "No Content"},
      {206, "Partial Content"},
      {301, "Moved Permanently"},
      {304, "Not Modified"},
      {308, "Permanent Redirect"},
      {400, "Bad Request"},
      {404, "Not Found"},
      {408, "Request Timeout"},
      {413, "Payload Too Large"},
      {414, "URI Too Long"},
      {418, "I'm a Teapot"},
      {421, "Misdirected Request"},
      {422, "Unprocessable Entity"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {451, "Unavailable For Legal Reasons"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {503, "Service Unavailable"},
      {505, "HTTP Version Not Supported"},
      {511, "Network Authentication Required"},
      {0, "Unknown"},
      {299, "Unknown"},
      {306, "Unknown"},
      {999, "Unknown"},
      {65535, "Unknown"},
  };
  for (const auto& c : cases) {
    CHECK_EQ(reason_phrase(c.code), c.reason, "reason phrase");
  }
  // Every registered code in 100..599 has a phrase of visible ASCII and spaces (it goes on the status line).
  for (uint32_t code = 100; code < 600; ++code) {
    std::string r = reason_phrase(static_cast<uint16_t>(code));
    bool ok = !r.empty();
    for (char c : r) ok = ok && c >= 0x20 && c < 0x7F;
    CHECK(ok, "reason phrase is visible ASCII");
  }
}

void test_dates() {
  // Expected strings from Python's email.utils.formatdate(t, usegmt=True): every weekday and month, leap days,
  // the 32-bit time_t edge and the last second the format can hold.
  struct {
    int64_t t;
    const char* date;
  } cases[] = {
      {0, "Thu, 01 Jan 1970 00:00:00 GMT"},          {784111777, "Sun, 06 Nov 1994 08:49:37 GMT"},
      {951782399, "Mon, 28 Feb 2000 23:59:59 GMT"},  {951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
      {1709251199, "Thu, 29 Feb 2024 23:59:59 GMT"}, {2147483647, "Tue, 19 Jan 2038 03:14:07 GMT"},
      {2147483648, "Tue, 19 Jan 2038 03:14:08 GMT"}, {253402300799, "Fri, 31 Dec 9999 23:59:59 GMT"},
      {1735779845, "Thu, 02 Jan 2025 01:04:05 GMT"}, {1738634890, "Tue, 04 Feb 2025 02:08:10 GMT"},
      {1741230735, "Thu, 06 Mar 2025 03:12:15 GMT"}, {1744085780, "Tue, 08 Apr 2025 04:16:20 GMT"},
      {1746854425, "Sat, 10 May 2025 05:20:25 GMT"}, {1749709470, "Thu, 12 Jun 2025 06:24:30 GMT"},
      {1752478115, "Mon, 14 Jul 2025 07:28:35 GMT"}, {1755333160, "Sat, 16 Aug 2025 08:32:40 GMT"},
      {1758188205, "Thu, 18 Sep 2025 09:36:45 GMT"}, {1760956850, "Mon, 20 Oct 2025 10:40:50 GMT"},
      {1763811895, "Sat, 22 Nov 2025 11:44:55 GMT"}, {1766580540, "Wed, 24 Dec 2025 12:49:00 GMT"},
  };
  for (const auto& c : cases) {
    char buf[30];
    buf[29] = '#';
    format_http_date(c.t, buf);
    CHECK(buf[29] == '#', "format_http_date writes exactly 29 bytes");
    CHECK_EQ(std::string(buf, 29), c.date, "format_http_date");
  }

  // append_date: now, well-formed, and the same bytes while the second lasts (the cache).
  for (int attempt = 0; attempt < 3; ++attempt) {
    const std::time_t before = std::time(nullptr);
    std::string a, b;
    append_date(a);
    append_date(b);
    const std::time_t after = std::time(nullptr);
    if (before != after) continue;  // the second ticked in between: the comparison would be meaningless
    char want[29];
    format_http_date(static_cast<int64_t>(before), want);
    CHECK_EQ(a, "Date: " + std::string(want, 29) + "\r\n", "append_date is the current second");
    CHECK_EQ(b, a, "append_date within one second");
    break;
  }
}

void test_chunk_headers() {
  struct {
    size_t n;
    const char* line;
  } cases[] = {
      {0, "0\r\n"}, {1, "1\r\n"}, {10, "a\r\n"}, {255, "ff\r\n"}, {4096, "1000\r\n"}, {0xdeadbeef, "deadbeef\r\n"},
  };
  for (const auto& c : cases) {
    std::string out = "x";
    append_chunk_header(out, c.n);
    CHECK_EQ(out, std::string("x") + c.line, "append_chunk_header");
  }
  std::string out;
  append_chunk_header(out, ~static_cast<size_t>(0));
  CHECK_EQ(out, std::string(2 * sizeof(size_t), 'f') + "\r\n", "append_chunk_header of SIZE_MAX");
}

}  // namespace

int main() {
  test_basic_heads();
  test_bodiless();
  test_handler_fields();
  test_appends();
  test_reasons();
  test_dates();
  test_chunk_headers();
  return check_exit("response_test");
}
