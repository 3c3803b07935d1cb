// The strict HTTP/1.1 request parser declared in parser.h: request heads (RFC 9112 sections 2-6) and request
// bodies (Content-Length, chunked with extensions and trailers, RFC 9112 section 7). No allocation, no copies.
//
// A head is parsed in two passes. The scan finds the end of the head (the first empty line) and resumes where
// the previous call stopped (`scanned`); it also rejects what can be judged from one byte and its neighbour
// (bare CR, bare LF) and the size limits, so an endless line is refused as soon as it is too long. Once the end
// is known, the full parse walks the complete head knowing every line ends in CRLF, so it needs no bounds
// checks beyond "stop at CR".
//
// Choices where the RFC leaves room (docs in test/corpus/README.md list them with their cases):
//  - Transfer-Encoding: a list whose last coding is not exactly `chunked` is 400 (RFC 9112 6.3 rule 4, a MUST),
//    whatever else it holds; `chunked` twice is 400; `chunked` with parameters is 400; a list ending in chunked
//    with any other coding before it is 501 (we decode no compression codings, known or not).
//    Transfer-Encoding in an HTTP/1.0 request is 400 (RFC 9112 6.1: its framing is faulty).
//  - Content-Length: "5, 5" and repeated lines are accepted when every value is numerically equal ("05" == "5");
//    empty list elements, signs, spaces inside and values above 2^63-1 are 400.
//  - The request-target may hold any VCHAR (browsers send `{`, `|`, `^` raw in queries) but no CTL, SP, DEL or
//    byte >= 0x80. `*` only with OPTIONS; CONNECT only with authority-form host:port; other methods need
//    origin-form (/...) or absolute-form (scheme:...).
//  - Host: at most one in any version, exactly one in 1.1 (none allowed with ParserLimits::host_optional, node's
//    requireHostHeader: false); its value may only hold RFC 3986 authority characters (no SP, '/', '@', ...);
//    it may be empty.
//  - Expect: 100-continue is honoured on 1.1 only (RFC 9110 10.1.1: a 1.0 request's expectation is ignored); any
//    other expectation of a 1.1 request is reported (expect_other) for the server to refuse (417) or accept.
//  - Chunk lines: BWS is allowed only where RFC 9112 7.1.1 puts it (around ';' and '=' of an extension), so
//    "5 \r\n" is 400; sizes above 2^63-1 are 400.
#include "parser.h"

#include <cstring>

#include "keep_alive.h"

namespace nova {
namespace {

constexpr size_t kLineDone = ~(SIZE_MAX >> 1);          // top bit of *scanned: the request line's CRLF was seen
constexpr int kMaxLeadingEmptyLines = 8;                // RFC 9112 2.2 says to ignore "at least one"
constexpr uint64_t kMaxLength = 0x7fffffffffffffffULL;  // Content-Length and chunk sizes: fits int64 and JS BigInt

// Byte classes, one table so each class test is a load and a mask.
enum : uint8_t {
  kToken = 1,       // tchar (RFC 9110 5.6.2)
  kFieldValue = 2,  // field-content bytes: HTAB, SP, VCHAR, obs-text (RFC 9110 5.5)
  kTarget = 4,      // request-target bytes we accept: VCHAR
  kHost = 8,        // RFC 3986 authority bytes: unreserved, pct-encoded, sub-delims, ':', '[', ']'
  kHex = 16,
  kQdText = 32,  // qdtext (RFC 9110 5.6.4): HTAB, SP, 0x21, 0x23-0x5B, 0x5D-0x7E, obs-text
};

struct ByteTable {
  uint8_t v[256];
  constexpr ByteTable() : v() {
    for (int c = 0; c < 256; ++c) {
      uint8_t f = 0;
      bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      bool digit = c >= '0' && c <= '9';
      bool vchar = c >= 0x21 && c <= 0x7e;
      if (alpha || digit) f |= kToken | kHost;
      for (const char* s = "!#$%&'*+-.^_`|~"; *s; ++s)
        if (c == *s) f |= kToken;
      for (const char* s = "-._~%!$&'()*+,;=:[]"; *s; ++s)
        if (c == *s) f |= kHost;
      if (c == '\t' || c == ' ' || vchar || c >= 0x80) f |= kFieldValue;
      if (vchar) f |= kTarget;
      if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) f |= kHex;
      if (c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80)
        f |= kQdText;
      v[c] = f;
    }
  }
};
constexpr ByteTable kBytes;

inline bool is(char c, uint8_t cls) { return (kBytes.v[static_cast<uint8_t>(c)] & cls) != 0; }
inline bool is_ows(char c) { return c == ' ' || c == '\t'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline int64_t fail(HttpError e) { return -static_cast<int64_t>(e); }

// ASCII-only case folding: field names and codings are ASCII tokens; bytes >= 0x80 must never match a letter.
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

// `lit` is lower case.
bool equals_ci(const char* p, size_t n, const char* lit) {
  size_t i = 0;
  for (; i < n; ++i) {
    if (lit[i] == '\0' || lower(p[i]) != lit[i]) return false;
  }
  return lit[i] == '\0';
}

bool equals(Slice s, const char* lit) {
  size_t n = std::strlen(lit);
  return s.len == n && std::memcmp(s.p, lit, n) == 0;
}

size_t skip_ows(const char* p, size_t i, size_t end) {
  while (i < end && is_ows(p[i])) ++i;
  return i;
}

size_t skip_token(const char* p, size_t i, size_t end) {
  while (i < end && is(p[i], kToken)) ++i;
  return i;
}

// quoted-string (RFC 9110 5.6.4) starting at p[i] == '"'; returns the index after the closing quote, 0 if malformed.
size_t skip_quoted(const char* p, size_t i, size_t end) {
  for (++i; i < end; ++i) {
    char c = p[i];
    if (c == '"') return i + 1;
    if (c == '\\') {
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ): the same bytes as a field value
      if (++i == end || !is(p[i], kFieldValue)) return 0;
    } else if (!is(c, kQdText)) {
      return 0;
    }
  }
  return 0;
}

// One field line "name:OWS value OWS" starting at p[i], ending at the first CR (the caller guarantees CRLF ends
// every line and no other CR occurs). Returns the index after its CRLF, 0 if malformed.
size_t parse_field_line(const char* p, size_t i, Header* h) {
  // A line starting with SP/HTAB is obs-fold (RFC 9112 5.2), or whitespace before the first field
  // (RFC 9112 2.2): both rejected; the token test below sees to it.
  size_t name = i;
  i = skip_token(p, i, SIZE_MAX);
  if (i == name || p[i] != ':') return 0;  // empty name, non-token byte, or whitespace before the colon
  h->name = Slice{p + name, static_cast<uint32_t>(i - name)};
  ++i;
  while (is_ows(p[i])) ++i;
  size_t value = i, value_end = i;
  for (; p[i] != '\r'; ++i) {
    char c = p[i];
    if (!is(c, kFieldValue)) return 0;  // NUL and other CTLs
    if (!is_ows(c)) value_end = i + 1;
  }
  h->value = Slice{p + value, static_cast<uint32_t>(value_end - value)};
  return i + 2;
}

// Request-line target forms (RFC 9112 3.2) beyond the byte check.
bool authority_form(Slice t) {
  // uri-host ":" port, port at least one digit; the host part non-empty with authority bytes only.
  size_t colon = t.len;
  while (colon > 0 && t.p[colon - 1] != ':') --colon;
  if (colon < 2 || colon == t.len) return false;
  for (size_t i = colon; i < t.len; ++i)
    if (!is_digit(t.p[i])) return false;
  for (size_t i = 0; i + 1 < colon; ++i)
    if (!is(t.p[i], kHost)) return false;
  return true;
}

bool absolute_form(Slice t) {
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" ...
  char c0 = t.p[0];
  if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z'))) return false;
  for (size_t i = 1; i < t.len; ++i) {
    char c = t.p[i];
    if (c == ':') return true;
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c);
    if (!alnum && c != '+' && c != '-' && c != '.') return false;
  }
  return false;
}

bool target_ok(Slice method, Slice target) {
  bool star = target.len == 1 && target.p[0] == '*';
  if (equals(method, "CONNECT")) return authority_form(target);
  if (star) return equals(method, "OPTIONS");
  return target.p[0] == '/' || absolute_form(target);
}

// State gathered over the field lines of one head.
struct FieldState {
  bool has_length = false;
  uint64_t length = 0;
  bool has_te = false;
  uint32_t chunked = 0;       // how many times `chunked` was listed
  bool last_chunked = false;  // the last coding listed so far is `chunked`
  bool other_coding = false;  // any coding other than chunked
  uint32_t hosts = 0;
};

// Content-Length = 1*DIGIT, possibly as a list of identical values (RFC 9110 8.6).
bool add_content_length(Slice v, FieldState* f) {
  size_t i = 0;
  for (;;) {
    i = skip_ows(v.p, i, v.len);
    size_t start = i;
    uint64_t n = 0;
    for (; i < v.len && is_digit(v.p[i]); ++i) {
      uint64_t d = static_cast<uint64_t>(v.p[i] - '0');
      if (n > (kMaxLength - d) / 10) return false;  // overflow
      n = n * 10 + d;
    }
    if (i == start) return false;  // empty element, sign, "0x", ...
    if (f->has_length && f->length != n) return false;
    f->has_length = true;
    f->length = n;
    i = skip_ows(v.p, i, v.len);
    if (i == v.len) return true;
    if (v.p[i] != ',') return false;  // "5 5", "5.0", ...
    ++i;
  }
}

// Transfer-Encoding = #transfer-coding; transfer-coding = token *( OWS ";" OWS token BWS "=" BWS
// ( token / quoted-string ) ). Empty elements are refused: a smuggling vector, never sent by honest clients.
// Returns 0 or the error to answer.
HttpError add_transfer_encoding(Slice v, FieldState* f) {
  f->has_te = true;
  size_t i = 0;
  for (;;) {
    i = skip_ows(v.p, i, v.len);
    size_t name = i;
    i = skip_token(v.p, i, v.len);
    if (i == name) return HttpError::BadRequest;
    bool chunked = equals_ci(v.p + name, i - name, "chunked");
    bool params = false;
    for (;;) {
      size_t j = skip_ows(v.p, i, v.len);
      if (j == v.len || v.p[j] != ';') break;
      params = true;
      j = skip_ows(v.p, j + 1, v.len);
      size_t pn = j;
      j = skip_token(v.p, j, v.len);
      if (j == pn) return HttpError::BadRequest;
      j = skip_ows(v.p, j, v.len);
      if (j == v.len || v.p[j] != '=') return HttpError::BadRequest;
      j = skip_ows(v.p, j + 1, v.len);
      if (j < v.len && v.p[j] == '"') {
        j = skip_quoted(v.p, j, v.len);
        if (j == 0) return HttpError::BadRequest;
      } else {
        size_t pv = j;
        j = skip_token(v.p, j, v.len);
        if (j == pv) return HttpError::BadRequest;
      }
      i = j;
    }
    if (chunked && params) return HttpError::BadRequest;  // chunked takes no parameters
    if (chunked) ++f->chunked;
    else f->other_coding = true;
    f->last_chunked = chunked;
    i = skip_ows(v.p, i, v.len);
    if (i == v.len) return HttpError::None;
    if (v.p[i] != ',') return HttpError::BadRequest;
    ++i;
  }
}

// Expect = #expectation; only 100-continue means anything to us.
bool expects_continue(Slice v) {
  size_t i = 0;
  while (i < v.len) {
    size_t end = i;
    while (end < v.len && v.p[end] != ',') ++end;
    size_t b = skip_ows(v.p, i, end), e = end;
    while (e > b && is_ows(v.p[e - 1])) --e;
    if (equals_ci(v.p + b, e - b, "100-continue")) return true;
    i = end + 1;
  }
  return false;
}

bool host_ok(Slice v) {
  for (size_t i = 0; i < v.len; ++i)
    if (!is(v.p[i], kHost)) return false;
  return true;
}

// The second pass over a complete head [start, end): every line ends in CRLF, the last line is empty.
int64_t parse_complete_head(const char* p, size_t start, size_t end, const ParserLimits& limits, RequestHead* out) {
  Header* storage = out->headers;
  *out = RequestHead{};
  out->headers = storage;

  // request-line = method SP request-target SP HTTP-version CRLF, single SPs (RFC 9112 3).
  size_t i = skip_token(p, start, SIZE_MAX);
  if (i == start || p[i] != ' ') return fail(HttpError::BadRequest);
  out->method = Slice{p + start, static_cast<uint32_t>(i - start)};
  size_t t = ++i;
  while (is(p[i], kTarget)) ++i;
  if (i == t || p[i] != ' ') return fail(HttpError::BadRequest);  // also HTTP/0.9: no version at all
  out->target = Slice{p + t, static_cast<uint32_t>(i - t)};
  const char* v = p + i + 1;
  // Compared byte by byte, so a short line fails at its CR and nothing past the line is read.
  if (v[0] != 'H' || v[1] != 'T' || v[2] != 'T' || v[3] != 'P' || v[4] != '/' || !is_digit(v[5]) || v[6] != '.' ||
      !is_digit(v[7]) || v[8] != '\r')
    return fail(HttpError::BadRequest);
  if (v[5] != '1') return fail(HttpError::VersionNotSupported);
  out->version_major = 1;
  out->version_minor = v[7] == '0' ? 0 : 1;
  if (!target_ok(out->method, out->target)) return fail(HttpError::BadRequest);
  out->is_head = equals(out->method, "HEAD");
  out->is_connect = equals(out->method, "CONNECT");
  i = static_cast<size_t>(v + 10 - p);

  FieldState f;
  Header field;
  while (i < end - 2) {
    size_t next = parse_field_line(p, i, &field);
    if (next == 0) return fail(HttpError::BadRequest);
    i = next;
    if (out->header_count >= limits.max_headers) return fail(HttpError::HeaderTooLarge);
    if (storage) storage[out->header_count] = field;
    ++out->header_count;

    const char* n = field.name.p;
    switch (field.name.len) {
      case 4:
        if (equals_ci(n, 4, "host")) {
          if (++f.hosts > 1 || !host_ok(field.value)) return fail(HttpError::BadRequest);
        }
        break;
      case 6:
        if (equals_ci(n, 6, "expect") && out->version_minor == 1) {
          if (expects_continue(field.value)) out->expect_continue = true;
          else out->expect_other = true;
        }
        break;
      case 7:
        if (equals_ci(n, 7, "upgrade")) out->has_upgrade = true;
        break;
      case 10:
        if (equals_ci(n, 10, "connection")) out->connection |= parse_connection_tokens(field.value.p, field.value.len);
        break;
      case 14:
        if (equals_ci(n, 14, "content-length") && !add_content_length(field.value, &f))
          return fail(HttpError::BadRequest);
        break;
      case 17:
        if (equals_ci(n, 17, "transfer-encoding")) {
          HttpError e = add_transfer_encoding(field.value, &f);
          if (e != HttpError::None) return fail(e);
        }
        break;
      default: break;
    }
  }

  if (out->expect_continue) out->expect_other = false;  // 100-continue anywhere in the Expect fields wins (node's rule)
  if (out->version_minor == 1 && f.hosts == 0 && !limits.host_optional) return fail(HttpError::BadRequest);
  if (f.has_te) {
    // Framing errors (400) before capability (501): the former make the message boundary unknowable.
    if (f.has_length || out->version_minor == 0) return fail(HttpError::BadRequest);
    if (f.chunked != 1 || !f.last_chunked) return fail(HttpError::BadRequest);
    if (f.other_coding) return fail(HttpError::NotImplemented);
    out->body = BodyKind::Chunked;
  } else if (f.has_length && f.length > 0) {
    out->body = BodyKind::Length;
    out->content_length = f.length;
  }
  return static_cast<int64_t>(end);
}

}  // namespace

int64_t parse_request_head(const char* buf, size_t len, const ParserLimits& limits, RequestHead* out, size_t* scanned) {
  // Empty lines before the request line (RFC 9112 2.2); recounted on every call, which costs at most a few bytes.
  size_t start = 0;
  int empty = 0;
  while (start + 1 < len && buf[start] == '\r' && buf[start + 1] == '\n') {
    if (++empty > kMaxLeadingEmptyLines) return fail(HttpError::BadRequest);
    start += 2;
  }

  bool line_done = (*scanned & kLineDone) != 0;
  size_t i = *scanned & ~kLineDone;
  if (i < start) i = start;
  if (i > len) i = len;  // a caller that shrank the buffer: stay inside it

  for (; i < len; ++i) {
    if (i - start >= limits.max_header_size) {
      // This byte would make the head longer than allowed; but a too-long request line is the better answer.
      if (!line_done && buf[i] != '\r' && buf[i] != '\n' && i - start + 1 > limits.max_request_line)
        return fail(HttpError::UriTooLong);
      return fail(HttpError::HeaderTooLarge);
    }
    char c = buf[i];
    if (c == '\r') {
      if (i + 1 == len) break;                                     // judge this CR when the next byte comes
      if (buf[i + 1] != '\n') return fail(HttpError::BadRequest);  // bare CR
    } else if (c == '\n') {
      if (i == start || buf[i - 1] != '\r') return fail(HttpError::BadRequest);  // bare LF: strict, no tolerance
      if (!line_done) {
        line_done = true;
      } else if (i >= start + 2 && buf[i - 2] == '\n') {
        *scanned = 0;
        return parse_complete_head(buf, start, i + 1, limits, out);
      }
    } else if (!line_done && i - start + 1 > limits.max_request_line) {
      return fail(HttpError::UriTooLong);
    }
  }
  *scanned = i | (line_done ? kLineDone : 0);
  return 0;
}

// ---- BodyDecoder ---------------------------------------------------------------------------------------------

namespace {

const ParserLimits kDefaultLimits;

// chunk-size [ chunk-ext ] of one line without its CRLF (RFC 9112 7.1, 7.1.1).
bool parse_chunk_line(const char* p, size_t n, uint64_t* size) {
  size_t i = 0;
  uint64_t v = 0;
  for (; i < n && is(p[i], kHex); ++i) {
    if (v > (kMaxLength >> 4)) return false;
    char c = p[i];
    uint64_t d = is_digit(c) ? static_cast<uint64_t>(c - '0') : static_cast<uint64_t>(lower(c) - 'a' + 10);
    v = v * 16 + d;
  }
  if (i == 0) return false;
  // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ): BWS only before ';' and around '='.
  while (i < n) {
    i = skip_ows(p, i, n);
    if (i == n || p[i] != ';') return false;  // trailing whitespace, or junk after the size ("0x5", "5 5")
    i = skip_ows(p, i + 1, n);
    size_t name = i;
    i = skip_token(p, i, n);
    if (i == name) return false;
    size_t j = skip_ows(p, i, n);
    if (j < n && p[j] == '=') {
      j = skip_ows(p, j + 1, n);
      if (j < n && p[j] == '"') {
        j = skip_quoted(p, j, n);
        if (j == 0) return false;
      } else {
        size_t val = j;
        j = skip_token(p, j, n);
        if (j == val) return false;
      }
      i = j;
    }
  }
  *size = v;
  return true;
}

}  // namespace

void BodyDecoder::reset(BodyKind kind, uint64_t content_length, const ParserLimits* limits) {
  limits_ = limits ? limits : &kDefaultLimits;
  error_ = HttpError::None;
  remaining_ = 0;
  scan_ = 0;
  trailer_count_ = 0;
  switch (kind) {
    case BodyKind::Length:
      remaining_ = content_length;
      state_ = content_length ? State::Length : State::Done;
      break;
    case BodyKind::Chunked: state_ = State::ChunkSize; break;
    case BodyKind::None: state_ = State::Done; break;
  }
}

uint64_t BodyDecoder::remaining() const {
  switch (state_) {
    case State::Length: return remaining_;
    case State::Done:
    case State::Error: return 0;
    default: return UINT64_MAX;
  }
}

// An error found after this call produced data is reported by the next call, so that a step never carries both.
BodyDecoder::Step BodyDecoder::fail(Step s, HttpError e) {
  state_ = State::Error;
  error_ = e;
  if (s.data.len == 0) {
    s.consumed = 0;
    s.error = e;
  }
  return s;
}

BodyDecoder::Step BodyDecoder::feed(const char* buf, size_t len) {
  Step s;
  size_t off = 0;  // == s.consumed: everything before it is used
  for (;;) {
    const char* p = buf + off;
    size_t n = len - off;
    switch (state_) {
      case State::Done: s.done = true; return s;

      case State::Error:
        if (s.data.len == 0) s.error = error_;
        return s;

      case State::Length:
      case State::ChunkData: {
        if (s.data.len != 0 || n == 0) return s;  // one data slice per call
        size_t take = n < remaining_ ? n : static_cast<size_t>(remaining_);
        s.data = Slice{p, static_cast<uint32_t>(take > UINT32_MAX ? UINT32_MAX : take)};
        take = s.data.len;
        remaining_ -= take;
        off += take;
        s.consumed = off;
        if (remaining_ == 0) state_ = state_ == State::Length ? State::Done : State::ChunkDataCrlf;
        if (state_ == State::Done) s.done = true;
        if (state_ != State::ChunkDataCrlf) return s;
        break;
      }

      case State::ChunkDataCrlf:
        if (n >= 1 && p[0] != '\r') return fail(s, HttpError::BadRequest);
        if (n >= 2 && p[1] != '\n') return fail(s, HttpError::BadRequest);
        if (n < 2) return s;
        off += 2;
        s.consumed = off;
        state_ = State::ChunkSize;
        break;

      case State::ChunkSize: {
        // The line is searched only up to the longest one allowed (its content plus CRLF).
        size_t cap = static_cast<size_t>(limits_->max_chunk_line) + 2;
        size_t end = n < cap ? n : cap;
        size_t i = scan_ < end ? scan_ : end;
        size_t lf = SIZE_MAX;
        for (; i < end; ++i) {
          if (p[i] == '\r') {
            if (i + 1 == n) break;
            if (p[i + 1] != '\n') return fail(s, HttpError::BadRequest);  // bare CR
          } else if (p[i] == '\n') {
            lf = i;
            break;
          }
        }
        if (lf == SIZE_MAX) {
          if (i >= cap) return fail(s, HttpError::BadRequest);  // longer than max_chunk_line
          scan_ = i;
          return s;
        }
        scan_ = 0;
        uint64_t size = 0;
        if (lf == 0 || p[lf - 1] != '\r' || !parse_chunk_line(p, lf - 1, &size)) return fail(s, HttpError::BadRequest);
        off += lf + 1;
        s.consumed = off;
        remaining_ = size;
        state_ = size ? State::ChunkData : State::Trailers;
        break;
      }

      case State::Trailers: {
        // trailer-section = *( field-line CRLF ) CRLF, taken whole once its empty line is here, so that the
        // trailer views stay inside the buffer of the call that reports done.
        size_t cap = limits_->max_trailer_size;
        size_t i = scan_ < n ? scan_ : n;
        size_t end = 0;
        for (; i < n; ++i) {
          if (i >= cap) return fail(s, HttpError::HeaderTooLarge);
          char c = p[i];
          if (c == '\r') {
            if (i + 1 == n) break;
            if (p[i + 1] != '\n') return fail(s, HttpError::BadRequest);
          } else if (c == '\n') {
            if (i == 0 || p[i - 1] != '\r') return fail(s, HttpError::BadRequest);
            if (i == 1 || p[i - 2] == '\n') {
              end = i + 1;
              break;
            }
          }
        }
        if (end == 0) {
          scan_ = i;
          return s;
        }
        scan_ = 0;
        Header field;
        size_t j = 0;
        while (j < end - 2) {
          j = parse_field_line(p, j, &field);
          if (j == 0) return fail(s, HttpError::BadRequest);
          if (trailer_count_ >= limits_->max_headers) return fail(s, HttpError::HeaderTooLarge);
          if (trailers_) trailers_[trailer_count_] = field;
          ++trailer_count_;
        }
        off += end;
        s.consumed = off;
        state_ = State::Done;
        break;
      }
    }
  }
}

}  // namespace nova
