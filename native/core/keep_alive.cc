// The Connection token list parser and the persistence decision declared in keep_alive.h.
// lib/keep-alive.ts mirrors this file line for line in intent; test/vectors/keep-alive.json binds the two.
#include "keep_alive.h"

namespace nova {
namespace {

// OWS is SP / HTAB only (RFC 9110 5.6.3); CR and LF never reach here because the parser rejects them in values.
inline bool is_ows(char c) { return c == ' ' || c == '\t'; }

// ASCII-only folding: OR-ing 0x20 would also turn CR (0x0D) into '-' (0x2D), and a locale-aware tolower could
// map non-ASCII bytes onto letters. Field values are bytes, so only A-Z fold.
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

// `lit` is lower case; the token must be exactly as long (whole tokens only: "closed" is not "close").
bool token_is(const char* p, size_t n, const char* lit, size_t lit_len) {
  if (n != lit_len) return false;
  for (size_t i = 0; i < n; ++i) {
    if (lower(p[i]) != lit[i]) return false;
  }
  return true;
}

uint8_t classify(const char* p, size_t n) {
  if (token_is(p, n, "close", 5)) return kConnClose;
  if (token_is(p, n, "keep-alive", 10)) return kConnKeepAlive;
  if (token_is(p, n, "upgrade", 7)) return kConnUpgrade;
  return 0;  // other connection options name hop-by-hop fields; the core has no use for them
}

}  // namespace

uint8_t parse_connection_tokens(const char* value, size_t len) {
  // #token list (RFC 9110 5.6.1): elements split on ',', OWS around each, empty elements (",,") allowed
  // and ignored. A single pass, no allocation: this runs for every request that carries Connection.
  uint8_t bits = 0;
  size_t pos = 0;
  while (pos < len) {
    size_t end = pos;
    while (end < len && value[end] != ',') ++end;
    size_t b = pos;
    size_t e = end;
    while (b < e && is_ows(value[b])) ++b;
    while (e > b && is_ows(value[e - 1])) --e;
    if (e > b) bits |= classify(value + b, e - b);
    pos = end + 1;
  }
  return bits;
}

bool request_closes(uint8_t version_minor, uint8_t request_tokens) {
  if (request_tokens & kConnClose) return true;  // on 1.0 too: "keep-alive, close" closes
  // HTTP/1.0 is persistent only by opt-in. Any minor other than 0 is served as 1.1 (the parser maps it to 1).
  return version_minor == 0 && !(request_tokens & kConnKeepAlive);
}

bool keep_alive(const KeepAliveInput& in) {
  // Reasons that hold whatever the client asked for come first.
  if (in.server_closing) return false;
  // An unread body beyond the drain bound would be parsed as the next request: close instead.
  if (!in.body_complete) return false;
  // The client learns where the body ends only from the close itself.
  if (in.framing == Framing::CloseDelimited) return false;
  // A close token from either side ends the connection (RFC 9112 9.6).
  if ((in.request_tokens | in.response_tokens) & kConnClose) return false;
  if (in.version_minor == 0) {
    // A 1.0 client needs the keep-alive opt-in and a body whose end it can find without chunked coding,
    // which it does not understand (RFC 9112 9.3 and 7).
    if (!(in.request_tokens & kConnKeepAlive)) return false;
    return in.framing == Framing::Length || in.framing == Framing::NoBody;
  }
  return true;
}

}  // namespace nova
