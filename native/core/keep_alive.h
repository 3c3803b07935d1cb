// The persistence decision (RFC 9112 section 9.3, RFC 9110 section 7.6.1) as pure functions.
// The one owner of the keep-alive rule. test/keep-alive-mirror.ts restates it in TypeScript (a test oracle, not
// used by lib/), and both run test/vectors/keep-alive.json; lib/keep-alive.ts parses response Connection tokens.
#pragma once
#include "http_types.h"

namespace nova {

// Parses one Connection field value: a comma-separated, case-insensitive token list ("keep-alive, CLOSE").
// Whole tokens only: "closed" is not "close". Returns ConnToken bits.
uint8_t parse_connection_tokens(const char* value, size_t len);

// Does the request alone already mean the connection ends after its response? (1.1 with a close token,
// 1.0 without a keep-alive token, or any close token.) Nothing after such a request is parsed.
bool request_closes(uint8_t version_minor, uint8_t request_tokens);

struct KeepAliveInput {
  uint8_t version_minor = 1;    // 0 = HTTP/1.0, 1 = HTTP/1.1
  uint8_t request_tokens = 0;   // ConnToken bits of the request's Connection fields
  uint8_t response_tokens = 0;  // ConnToken bits of a Connection header the handler set on the response
  Framing framing = Framing::Length;
  bool body_complete = true;    // the request body was fully read (or will be drained within the bound)
  bool server_closing = false;  // shutdown, maxRequestsPerSocket reached, or a deadline passed
};

// true: the connection stays open for the next request after this response.
bool keep_alive(const KeepAliveInput& in);

}  // namespace nova
