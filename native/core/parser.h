// The HTTP/1.1 request parser (RFC 9112): request heads and request bodies, zero-copy, strict.
// Pure C++: bytes in, views out. No sockets, no N-API, no allocation; built alone for tests and fuzzing.
#pragma once
#include "http_types.h"

namespace nova {

// max_header_size is the maxHeaderSize option (set by the driver from JS; lib/options.ts has its default); the
// other limits are fixed here.
struct ParserLimits {
  uint32_t max_header_size = 0;           // the whole head, request line included -> 431
  uint32_t max_request_line = 8 * 1024;   // request line without CRLF -> 414
  uint32_t max_headers = 100;             // field lines in the head (also the capacity of RequestHead::headers) -> 431
  uint32_t max_chunk_line = 4 * 1024;     // chunk-size line with its extensions -> 400
  uint32_t max_trailer_size = 16 * 1024;  // the whole trailer section -> 431
  bool host_optional = false;             // requireHostHeader: false: an HTTP/1.1 request may lack Host (not repeat it)
};

struct RequestHead {
  Slice method;
  Slice target;
  uint8_t version_major = 1;
  uint8_t version_minor = 1;  // 0 or 1: any other 1.x is reported (and served) as 1.1
  uint8_t connection = 0;     // ConnToken bits, OR-ed over every Connection field line
  BodyKind body = BodyKind::None;
  bool expect_continue = false;  // Expect: 100-continue (HTTP/1.1)
  bool expect_other = false;     // an Expect field of an HTTP/1.1 request without 100-continue
  bool is_head = false;          // method is HEAD: the response carries no body
  bool is_connect = false;       // method is CONNECT: what follows the head is a tunnel, never a body
  bool has_upgrade = false;      // an Upgrade field is present (a protocol switch needs it and the token)
  // Set by the connection, not the parser: the request may switch protocols (CONNECT, or Upgrade with
  // Connection: upgrade and no body), and `tail` holds the bytes already received after its head.
  bool upgrade = false;
  Slice tail;
  // Set by the connection: Expect: 100-continue with a body, and the server holds the body for JS's decision
  // (ConnConfig::check_continue): no automatic 100, nothing of the body is read until JS sends the 100 or answers.
  bool continue_held = false;
  uint64_t content_length = 0;  // valid when body == Length
  uint32_t header_count = 0;
  Header* headers = nullptr;  // caller-provided array of ParserLimits::max_headers entries
};

// Parses the request head at the start of buf[0, len).
// The contract:
//   > 0  the head is complete and valid; that many bytes (empty lines before the request line, the head and
//        its final CRLF) belong to it; *out holds views into buf.
//   = 0  incomplete: nothing is wrong yet; call again with the same bytes and more after them.
//   < 0  -(int)HttpError: reject the request (400, 414, 431, 501, 505) and close the connection.
// `scanned` carries the search for the end of the head between calls on the same growing buffer, so feeding a
// head one byte at a time costs O(n), not O(n^2); set it to 0 before the first call for each new head.
// Its value is opaque (a position plus a flag in the top bit), not a byte count to use elsewhere.
// Never reads outside buf[0, len).
// Errors found by the scan (bare CR/LF, 414, 431 on size) come as soon as the bytes show them, even while the
// head is incomplete; the others when the head is complete. Content-Length: 0 gives body == BodyKind::None.
int64_t parse_request_head(const char* buf, size_t len, const ParserLimits& limits, RequestHead* out, size_t* scanned);

// Incremental request body decoder for Content-Length and chunked bodies. It never copies: data comes back as
// a view into the bytes it was fed, and bytes it can't use yet (half a chunk-size line) are left unconsumed for
// the caller to feed again with more after them.
class BodyDecoder {
 public:
  struct Step {
    size_t consumed = 0;  // bytes of the input that were used (the caller drops them)
    Slice data;           // body bytes found in this step (may be empty)
    bool done = false;    // the body, and trailers if chunked, are complete
    HttpError error = HttpError::None;
  };

  void reset(BodyKind kind, uint64_t content_length, const ParserLimits* limits);

  // Decodes from buf[0, len). Returns at most one data slice per call: call again while consumed > 0 and not
  // done. consumed == 0 without done or error means "need more bytes".
  Step feed(const char* buf, size_t len);

  bool done() const { return state_ == State::Done; }
  // Bytes of body still expected, when known (Content-Length); UINT64_MAX for chunked bodies.
  uint64_t remaining() const;

  // Optional: an array of limits->max_headers entries that receives the trailer fields of a chunked body.
  // The trailer section is consumed whole by the feed() call that returns done, so the views point into the
  // buffer of that call (valid until the caller drops those bytes). More fields than max_headers -> 431.
  void set_trailer_storage(Header* fields) { trailers_ = fields; }
  uint32_t trailer_count() const { return trailer_count_; }

 private:
  enum class State : uint8_t { Length, ChunkSize, ChunkData, ChunkDataCrlf, Trailers, Done, Error };
  Step fail(Step s, HttpError e);
  State state_ = State::Done;
  HttpError error_ = HttpError::None;
  uint64_t remaining_ = 0;  // bytes left of the Content-Length body or of the current chunk
  const ParserLimits* limits_ = nullptr;
  size_t scan_ = 0;  // bytes of the current (unconsumed) line or trailer section already searched: O(n) feeding
  Header* trailers_ = nullptr;
  uint32_t trailer_count_ = 0;
};

}  // namespace nova
