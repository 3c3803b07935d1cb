// deps: parser keep_alive
// libFuzzer target for the request parser (native/core/parser.h): the input is a byte stream from a client,
// parsed as consecutive requests (parse_request_head, then BodyDecoder for each body) the way the connection
// core does. Beyond "no crash, no UB, no read outside the bytes given" it checks the parser's contract:
//  - the result (every head, body, trailer and the final error or incomplete state) is the same whether the
//    stream arrives whole, split in two at a point taken from the first bytes, in random pieces, or byte by byte;
//  - a call never consumes more than it was given; every view (method, target, fields, body data, trailers)
//    points inside the bytes of that call; the head's fields are consistent (version, framing, HEAD flag).
// Bytes not yet "received" are poisoned (GrowingBuffer), so a read past the given length is an ASan report.
// Each input runs with the default limits and with tiny ones (so the 414/431/chunk-line limits are reached).
// Build and run: npm run fuzz (scripts/fuzz.js); replay one input: build-fuzz/fuzz_parser <file>.
#include <cstdint>
#include <memory>
#include <string>

#include "../../native/core/parser.h"
#include "../native/defaults.h"
#include "fuzz_common.h"

using namespace nova;

namespace {

bool inside(const char* base, size_t len, Slice s) {
  if (s.len == 0) return s.p == nullptr || (s.p >= base && s.p <= base + len);
  return s.p >= base && s.p + s.len <= base + len && s.p + s.len > s.p;
}

std::string str(Slice s) { return s.len ? std::string(s.p, s.len) : std::string(); }

// Parses a stream the way native/core/connection.cc does, as bytes arrive, and writes what it finds to `log`.
class StreamParser {
 public:
  explicit StreamParser(const ParserLimits& limits)
      : lim_(limits), headers_(new Header[limits.max_headers]), trailers_(new Header[limits.max_headers]) {}

  // buf[0, len) is everything received so far (the same bytes as the last call, and maybe more after them).
  void feed(const char* buf, size_t len) {
    for (;;) {
      if (state_ == State::Stopped || off_ >= len) return;
      if (state_ == State::Head) {
        if (!head(buf, len)) return;
      } else if (!body(buf, len)) {
        return;
      }
    }
  }

  // The complete outcome once every byte was fed.
  std::string finish() {
    if (state_ == State::Head) log_ += "incomplete head, " + std::to_string(total_ - off_) + " bytes\n";
    if (state_ == State::Body)
      log_ += "incomplete body [" + body_ + "] remaining " + std::to_string(dec_.remaining()) + "\n";
    return log_;
  }
  void set_total(size_t n) { total_ = n; }

 private:
  enum class State { Head, Body, Stopped };

  bool head(const char* buf, size_t len) {
    const char* base = buf + off_;
    const size_t avail = len - off_;
    RequestHead h;
    h.headers = headers_.get();
    const int64_t r = parse_request_head(base, avail, lim_, &h, &scanned_);
    if (r == 0) return false;
    if (r < 0) {
      CHECK(-r > 0 && -r <= static_cast<int64_t>(HttpError::VersionNotSupported), std::to_string(r));
      CHECK(-r != static_cast<int64_t>(HttpError::RequestTimeout), "the parser never answers 408");
      log_ += "reject " + std::to_string(-r) + "\n";
      state_ = State::Stopped;
      return false;
    }
    const size_t n = static_cast<size_t>(r);
    CHECK(n <= avail, "head longer than its input: " + std::to_string(n) + " > " + std::to_string(avail));
    CHECK(n >= 4 && base[n - 1] == '\n' && base[n - 2] == '\r' && base[n - 3] == '\n', "head ends in CRLFCRLF");
    CHECK(inside(base, n, h.method) && h.method.len > 0, "method inside the head");
    CHECK(inside(base, n, h.target) && h.target.len > 0, "target inside the head");
    CHECK(h.version_major == 1 && h.version_minor <= 1, "version 1.0 or 1.1");
    CHECK(h.header_count <= lim_.max_headers, "header_count within max_headers");
    CHECK(n <= lim_.max_header_size + 2u * 8 /* leading empty lines */, "head within max_header_size");
    CHECK(h.is_head == (str(h.method) == "HEAD"), "is_head is exactly method HEAD");
    CHECK(h.body != BodyKind::Length || h.content_length > 0, "Content-Length: 0 is BodyKind::None");
    CHECK(h.body != BodyKind::Chunked || h.version_minor == 1, "chunked only in HTTP/1.1");
    CHECK(!h.expect_continue || h.version_minor == 1, "Expect honoured on 1.1 only");
    CHECK(h.method.p + h.method.len < h.target.p, "target after method");
    log_ += "head " + str(h.method) + " " + str(h.target) + " 1." + std::to_string(h.version_minor) +
            " conn=" + std::to_string(h.connection) + " expect=" + std::to_string(h.expect_continue) +
            " body=" + std::to_string(static_cast<int>(h.body)) + "/" + std::to_string(h.content_length) +
            " fields=" + std::to_string(h.header_count) + "\n";
    for (uint32_t i = 0; i < h.header_count; ++i) {
      const Header& f = h.headers[i];
      CHECK(inside(base, n, f.name) && f.name.len > 0, "field name inside the head");
      CHECK(inside(base, n, f.value), "field value inside the head");
      log_ += "  " + str(f.name) + ": " + str(f.value) + "\n";
    }
    off_ += n;
    if (h.body == BodyKind::None) return true;
    dec_.reset(h.body, h.content_length, &lim_);
    dec_.set_trailer_storage(trailers_.get());
    expect_length_ = h.body == BodyKind::Length ? h.content_length : UINT64_MAX;
    body_.clear();
    state_ = State::Body;
    return true;
  }

  bool body(const char* buf, size_t len) {
    const char* base = buf + off_;
    const size_t avail = len - off_;
    const BodyDecoder::Step s = dec_.feed(base, avail);
    CHECK(s.consumed <= avail, "body step consumed " + std::to_string(s.consumed) + " of " + std::to_string(avail));
    if (s.data.len) {
      CHECK(inside(base, s.consumed, s.data), "body data inside the consumed bytes");
    }
    if (s.error != HttpError::None) {
      CHECK(s.data.len == 0 && s.consumed == 0 && !s.done, "an error step carries nothing else");
      CHECK(s.error == HttpError::BadRequest || s.error == HttpError::HeaderTooLarge ||
                s.error == HttpError::PayloadTooLarge,
            "body error " + std::to_string(static_cast<int>(s.error)));
      log_ += "body [" + body_ + "] error " + std::to_string(static_cast<int>(s.error)) + "\n";
      state_ = State::Stopped;
      return false;
    }
    body_.append(s.data.p ? s.data.p : "", s.data.len);
    off_ += s.consumed;
    CHECK(expect_length_ == UINT64_MAX || body_.size() <= expect_length_, "body longer than Content-Length");
    if (!s.done) {
      CHECK(!dec_.done(), "done() agrees with the step");
      return s.consumed > 0;
    }
    CHECK(dec_.done(), "done() agrees with the step");
    CHECK(expect_length_ == UINT64_MAX || body_.size() == expect_length_, "body shorter than Content-Length");
    log_ += "body [" + body_ + "] done, trailers " + std::to_string(dec_.trailer_count()) + "\n";
    CHECK(dec_.trailer_count() <= lim_.max_headers, "trailers within max_headers");
    for (uint32_t i = 0; i < dec_.trailer_count(); ++i) {
      const Header& f = trailers_[i];
      CHECK(inside(base, s.consumed, f.name) && f.name.len > 0, "trailer name inside the consumed bytes");
      CHECK(inside(base, s.consumed, f.value), "trailer value inside the consumed bytes");
      log_ += "  " + str(f.name) + ": " + str(f.value) + "\n";
    }
    state_ = State::Head;
    scanned_ = 0;
    return true;
  }

  const ParserLimits& lim_;
  std::unique_ptr<Header[]> headers_;  // exactly max_headers entries: ASan sees a write past them
  std::unique_ptr<Header[]> trailers_;
  State state_ = State::Head;
  size_t off_ = 0;
  size_t scanned_ = 0;
  size_t total_ = 0;
  BodyDecoder dec_;
  std::string body_;
  uint64_t expect_length_ = 0;
  std::string log_;
};

// Feeds data in pieces ending at the given cumulative lengths (the last one is size) and returns the outcome.
template <class NextEnd>
std::string run(const uint8_t* data, size_t size, const ParserLimits& lim, NextEnd next_end) {
  fuzz::GrowingBuffer buf(data, size);
  StreamParser p(lim);
  p.set_total(size);
  size_t at = 0;
  while (at < size) {
    size_t end = next_end(at);
    if (end <= at) end = at + 1;
    if (end > size) end = size;
    buf.grow(end);
    p.feed(buf.data(), end);
    at = end;
  }
  return p.finish();
}

void compare(const std::string& whole, const std::string& other, const char* how, const uint8_t* data, size_t size) {
  if (whole == other) return;
  check::failed(__FILE__, __LINE__, how,
                "input:\n" + check::escape(reinterpret_cast<const char*>(data), size, 2000, true) +
                    "\n--- fed whole:\n" + check::escape(whole, 2000, true) + "\n--- " + how + ":\n" +
                    check::escape(other, 2000, true));
}

ParserLimits tiny_limits() {
  ParserLimits l;
  l.max_header_size = 160;
  l.max_request_line = 48;
  l.max_headers = 4;
  l.max_chunk_line = 12;
  l.max_trailer_size = 40;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ParserLimits kDefault = default_limits();
  static const ParserLimits kTiny = tiny_limits();
  const uint16_t split = size >= 2 ? static_cast<uint16_t>(data[0] | data[1] << 8) : 0;
  for (const ParserLimits* lim : {&kDefault, &kTiny}) {
    const std::string whole = run(data, size, *lim, [&](size_t) { return size; });
    // One split at a point taken from the first two bytes.
    const size_t at = size ? split % (size + 1) : 0;
    compare(whole, run(data, size, *lim, [&](size_t from) { return from < at ? at : size; }), "split in two", data,
            size);
    // Random pieces of 1..64 bytes, seeded from the first bytes.
    fuzz::Rng rng(fuzz::seed_from(data, size, 1));
    compare(whole, run(data, size, *lim, [&](size_t from) { return from + 1 + rng.below(rng.chance(4) ? 64 : 8); }),
            "random pieces", data, size);
    // Byte by byte: the parser keeps its scan position, so this stays linear.
    compare(whole, run(data, size, *lim, [&](size_t from) { return from + 1; }), "byte by byte", data, size);
  }
  return 0;
}
