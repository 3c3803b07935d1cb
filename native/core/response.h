// Serializes response heads: status line, the handler's fields, Date, the framing header and the connection
// headers that the keep-alive decision calls for. Plain C++; used by the connection core only.
#pragma once
#include <string>
#include "http_types.h"

namespace nova {

// Bits of ResponseHead::user_fields: which framing/connection fields the handler already set itself.
enum UserField : uint8_t {
  kUserDate = 1,
  kUserContentLength = 2,
  kUserTransferEncoding = 4,  // the handler set Transfer-Encoding (its value must end in chunked; JS checks); not
                              // sent to an HTTP/1.0 client (write_head drops the line)
  kUserConnection = 8,        // the handler set Connection (its tokens are in response_tokens)
  kUserKeepAlive = 16,        // the handler set a Keep-Alive field
};

struct ResponseHead {
  uint16_t status = 200;
  Slice reason;                 // empty: the standard reason phrase for status
  Slice fields;                 // the handler's field lines, serialized and validated by JS: "Name: value\r\n"...
  uint8_t user_fields = 0;      // UserField bits
  uint8_t response_tokens = 0;  // ConnToken bits of the handler's Connection field
  bool length_known = false;    // Content-Length set by the handler, or the whole body given to end()
  uint64_t content_length = 0;  // valid when length_known
};

// Framing for a response: NoBody for HEAD requests and 1xx/204/304; Length when the length is known;
// Chunked when streamed to an HTTP/1.1 client (or the handler set Transfer-Encoding); CloseDelimited when streamed
// to an HTTP/1.0 client (which never gets chunked).
Framing choose_framing(const ResponseHead& h, bool head_request, uint8_t version_minor);

// Appends the complete response head to out, in this order:
//   HTTP/1.1 <status> <reason>\r\n, the handler's fields, Date (unless set), then
//   Connection: close (closing response, unless the handler's Connection already has close), or
//   Connection: keep-alive (persistent response, as node:http sends it: 1.1 unless the handler set Connection,
//   1.0 unless the handler's Connection already has keep-alive),
//   Keep-Alive: timeout=<s> (persistent response, unless the handler set Keep-Alive or the timeout is 0),
//   Content-Length: <n> (Length framing, or NoBody with a known length and a status other than 1xx/204/304,
//   i.e. HEAD; unless set), or Transfer-Encoding: chunked (Chunked, unless set),
//   \r\n.
void write_head(std::string& out, const ResponseHead& h, Framing framing, bool keep_alive, uint8_t version_minor,
                uint32_t keep_alive_timeout_s);

// Appends a 1xx interim response head: "HTTP/1.1 <status> <reason or the standard phrase>\r\n", the field lines
// (serialized and validated by JS), "\r\n". No Date, no framing, no connection fields (RFC 9110 15.2).
void write_interim_head(std::string& out, uint16_t status, Slice reason, Slice fields);

// The standard reason phrase ("OK", "Not Found"), or "Unknown" for codes without one.
const char* reason_phrase(uint16_t status);

// Appends "Date: <IMF-fixdate>\r\n" for now; the formatted value is cached per thread and renewed once a second.
void append_date(std::string& out);

// Writes the IMF-fixdate for a Unix time ("Sun, 06 Nov 1994 08:49:37 GMT": exactly 29 bytes, no NUL) into out.
// What append_date caches; exposed so that tests can check fixed instants. Pure arithmetic (no C library time
// function, so no time-zone lock or tzset on an I/O thread); outside the years 0001-9999 it writes the epoch.
void format_http_date(int64_t unix_seconds, char out[29]);

// Appends the chunked-encoding frame header for a chunk of n bytes ("<hex>\r\n"); the caller appends the data
// and "\r\n". The last chunk is "0\r\n\r\n".
void append_chunk_header(std::string& out, size_t n);

}  // namespace nova
