// deps: http_errors response
// Checks every ready-made error response of native/core/http_errors.cc: the documented shape, a Content-Length
// equal to the body, Connection: close, and a reason that agrees with reason_phrase() (hence response.cc).
#include <cstdio>
#include <string>

#include "../../native/core/http_errors.h"
#include "../../native/core/response.h"
#include "check.h"

using namespace nova;

namespace {

// Splits the response the way a client would and checks each part; `name` labels the failures.
void check_well_formed(HttpError e, uint16_t want_status) {
  const std::string name = "error " + std::to_string(want_status);
  const std::string_view sv = error_response(e);
  const std::string r(sv.data(), sv.size());
  CHECK(error_status(e) == want_status, name + ": error_status");

  const size_t head_end = r.find("\r\n\r\n");
  CHECK(head_end != std::string::npos, name + ": head ends with an empty line");
  if (head_end == std::string::npos) return;
  const std::string head = r.substr(0, head_end + 2);
  const std::string body = r.substr(head_end + 4);

  const std::string reason = reason_phrase(want_status);
  const std::string want_head = "HTTP/1.1 " + std::to_string(want_status) + " " + reason +
                                "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
                                "\r\nConnection: close\r\n";
  CHECK(head == want_head, name + ": head is\n" + head);
  CHECK(body == reason, name + ": body is the reason phrase, got '" + body + "'");
  CHECK(!body.empty() && r.size() >= body.size() && r.compare(r.size() - body.size(), body.size(), body) == 0,
        name + ": ends with the body");
  CHECK(head.find("Date:") == std::string::npos, name + ": no Date");
  // No bare CR or LF anywhere in the head: every line ends in CRLF.
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\r') CHECK(i + 1 < head.size() && head[i + 1] == '\n', name + ": bare CR");
    if (head[i] == '\n') CHECK(i > 0 && head[i - 1] == '\r', name + ": bare LF");
  }
}

}  // namespace

int main() {
  const struct {
    HttpError e;
    uint16_t status;
  } cases[] = {
      {HttpError::BadRequest, 400},     {HttpError::RequestTimeout, 408},     {HttpError::PayloadTooLarge, 413},
      {HttpError::UriTooLong, 414},     {HttpError::HeaderTooLarge, 431},     {HttpError::InternalError, 500},
      {HttpError::NotImplemented, 501}, {HttpError::ServiceUnavailable, 503}, {HttpError::VersionNotSupported, 505},
  };
  for (const auto& c : cases) check_well_formed(c.e, c.status);

  // The example in http_errors.h, byte for byte.
  CHECK(error_response(HttpError::BadRequest) ==
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\n"
            "Bad Request",
        "400 matches the documented bytes");
  CHECK(error_response(HttpError::HeaderTooLarge) ==
            "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain\r\nContent-Length: 31\r\n"
            "Connection: close\r\n\r\nRequest Header Fields Too Large",
        "431 matches, two-digit length");

  CHECK(error_response(HttpError::None).empty(), "None has no response");
  CHECK(error_status(HttpError::None) == 0, "None has no status");
  CHECK(error_response(static_cast<HttpError>(200)).empty(), "an out-of-range value has no response");
  CHECK(error_status(static_cast<HttpError>(200)) == 0, "an out-of-range value has no status");

  return check_exit("http_errors_test");
}
