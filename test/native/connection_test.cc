// deps: connection parser keep_alive response http_errors
// The per-connection state machine (native/core/connection.cc) without Node or sockets: a recording ConnSink and a
// fake driver that feeds client bytes (whole, split at every point, one byte at a time), reads only while the
// connection wants to (as the evented driver does, or also only in the reading phase, as the blocking one does),
// applies responses, collects the bytes written and moves a fake clock. Response bytes are compared in full with
// the Date value replaced by "*".
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../../native/core/connection.h"
#include "../../native/core/http_errors.h"
#include "check.h"
#include "defaults.h"

using namespace nova;

namespace {

using check::escape;

const char* reason_name(CloseReason r) {
  static const char* names[] = {"Client", "IdleTimeout", "HeadersTimeout", "RequestTimeout", "ParseError", "Evicted",
                                "Cap",    "Shutdown",    "MaxRequests",    "Response",       "Error",      "(open)"};
  return names[static_cast<int>(r)];
}

// ---- the recording sink ------------------------------------------------------------------------------------

struct Ev {
  enum Kind { Request, Body, BodyEnd, Error, Raw, RawEnd } kind = Request;
  uint32_t seq = 0;
  std::string method, target, raw, headers;  // headers: "name: value\n" each
  int minor = 1;
  bool closes = false;
  BodyKind body = BodyKind::None;
  bool expect = false;
  bool held = false;     // dispatched with its body held for JS's 100 Continue (check_continue)
  bool upgrade = false;  // dispatched as upgradable; data holds its tail
  std::string data;
  HttpError err = HttpError::None;
};

std::string str(Slice s) { return std::string(s.p, s.len); }

class RecSink : public ConnSink {
 public:
  std::vector<Ev> evs;
  std::function<void(Connection&, const Ev&)> hook;  // optional reaction inside the callback (flow control)

  void on_request(Connection& c, uint32_t seq, const RequestHead& h, Slice raw, bool closes) override {
    Ev e;
    e.kind = Ev::Request;
    e.seq = seq;
    e.method = str(h.method);
    e.target = str(h.target);
    e.raw = str(raw);
    for (uint32_t i = 0; i < h.header_count; ++i)
      e.headers += str(h.headers[i].name) + ": " + str(h.headers[i].value) + "\n";
    e.minor = h.version_minor;
    e.closes = closes;
    e.body = h.body;
    e.expect = h.expect_continue;
    e.held = h.continue_held;
    e.upgrade = h.upgrade;
    if (h.upgrade) e.data = str(h.tail);
    else CHECK(h.tail.len == 0, "a tail without upgrade");
    add(c, e);
  }
  void on_body(Connection& c, uint32_t seq, Slice data) override {
    CHECK(data.len > 0, "empty on_body for seq %u", seq);
    Ev e;
    e.kind = Ev::Body;
    e.seq = seq;
    e.data = str(data);
    add(c, e);
  }
  void on_body_end(Connection& c, uint32_t seq, const Header*, uint32_t) override {
    Ev e;
    e.kind = Ev::BodyEnd;
    e.seq = seq;
    add(c, e);
  }
  void on_client_error(Connection& c, HttpError err) override {
    Ev e;
    e.kind = Ev::Error;
    e.err = err;
    add(c, e);
  }
  void on_raw(Connection& c, Slice data) override {
    CHECK(data.len > 0, "empty on_raw");
    Ev e;
    e.kind = Ev::Raw;
    e.data = str(data);
    add(c, e);
  }
  void on_raw_end(Connection& c) override {
    CHECK(count(Ev::RawEnd) == 0, "on_raw_end twice");
    Ev e;
    e.kind = Ev::RawEnd;
    add(c, e);
  }
  // Every passthrough byte JS got: the upgradable request's tail, then the Raw events.
  std::string raw() const {
    std::string s;
    for (const Ev& e : evs)
      if ((e.kind == Ev::Request && e.upgrade) || e.kind == Ev::Raw) s += e.data;
    return s;
  }

  // "GET /a; GET /b" for the requests seen.
  std::string requests() const {
    std::string s;
    for (const Ev& e : evs) {
      if (e.kind != Ev::Request) continue;
      if (!s.empty()) s += "; ";
      s += e.method + " " + e.target;
    }
    return s;
  }
  size_t count(Ev::Kind k) const {
    return static_cast<size_t>(std::count_if(evs.begin(), evs.end(), [&](const Ev& e) { return e.kind == k; }));
  }
  const Ev* request(uint32_t seq) const {
    for (const Ev& e : evs)
      if (e.kind == Ev::Request && e.seq == seq) return &e;
    return nullptr;
  }
  std::string body(uint32_t seq) const {
    std::string s;
    for (const Ev& e : evs)
      if (e.kind == Ev::Body && e.seq == seq) s += e.data;
    return s;
  }
  bool ended(uint32_t seq) const {
    for (const Ev& e : evs)
      if (e.kind == Ev::BodyEnd && e.seq == seq) return true;
    return false;
  }
  // The whole event sequence in one line, for comparing runs fed differently (body data concatenated per run).
  std::string trace() const {
    std::string s;
    const Ev* prev = nullptr;
    for (const Ev& e : evs) {
      if (e.kind == Ev::Body && prev && prev->kind == Ev::Body && prev->seq == e.seq) {
        s += e.data;
        continue;
      }
      switch (e.kind) {
        case Ev::Request:
          s += "|req " + std::to_string(e.seq) + " " + e.method + " " + e.target + " 1." + std::to_string(e.minor) +
               (e.closes ? " closes" : "") + (e.held ? " held" : "") + " {" + e.headers + "} raw=" + e.raw;
          break;
        case Ev::Body: s += "|body " + std::to_string(e.seq) + " " + e.data; break;
        case Ev::BodyEnd: s += "|end " + std::to_string(e.seq); break;
        case Ev::Error: s += "|error " + std::to_string(static_cast<int>(e.err)); break;
        case Ev::Raw: s += "|raw " + e.data; break;
        case Ev::RawEnd: s += "|rawend"; break;
      }
      prev = &e;
    }
    return s;
  }

 private:
  void add(Connection& c, const Ev& e) {
    evs.push_back(e);
    if (hook) hook(c, evs.back());
  }
};

// ---- the fake driver ---------------------------------------------------------------------------------------

// Replaces each "Date: <29 bytes>" line's value by "*".
std::string normalize(std::string s) {
  for (size_t at = s.find("\r\nDate: "); at != std::string::npos; at = s.find("\r\nDate: ", at + 2)) {
    const size_t v = at + 8;
    const size_t eol = s.find("\r\n", v);
    if (eol != std::string::npos && eol - v == 29 && s.compare(eol - 4, 4, " GMT") == 0) s.replace(v, 29, "*");
  }
  return s;
}

ConnConfig config() { return default_config(); }

struct Drive {
  ConnConfig cfg;
  RecSink sink;
  uint64_t now = 1000000;
  std::unique_ptr<Connection> c;
  std::string wire;       // bytes the connection wrote, not yet taken by the test
  std::string socket_in;  // bytes the client sent that the connection has not read (it stopped reading)
  bool fin_sent = false, fin_read = false;
  size_t max_read = SIZE_MAX;  // bytes per recv
  bool blocking = false;       // read only in the reading phase, as the blocking driver does
  bool auto_write = true;      // write out whatever the connection produces at once

  explicit Drive(const ConnConfig& conf = config(), bool blocking_model = false) : cfg(conf), blocking(blocking_model) {
    c = std::make_unique<Connection>(cfg, sink, now);
  }

  bool may_read() const { return c->wants_read() && (!blocking || c->reading_phase()); }

  // What a driver does between events: write everything, then read while the connection wants input.
  void pump() {
    for (int guard = 0; guard < 10000000; ++guard) {
      write_out();
      if (c->done() || !may_read()) return;
      if (!socket_in.empty()) {
        size_t avail = 0;
        char* p = c->read_space(&avail);
        CHECK(avail >= 1, "read_space gave no room");
        const size_t n = std::min({avail, socket_in.size(), max_read});
        std::memcpy(p, socket_in.data(), n);
        socket_in.erase(0, n);
        c->on_read(n, now);
        continue;
      }
      if (fin_sent && !fin_read) {
        fin_read = true;
        c->on_eof(now);
        continue;
      }
      return;
    }
    CHECK(false, "pump: no progress");
  }
  void write_out() {
    if (!auto_write) return;
    while (c->out_size() > 0) {
      wire.append(c->out_data(), c->out_size());
      c->out_consumed(c->out_size(), now);
    }
    if (c->wants_write_shutdown()) {
      wire += "<FIN>";
      c->write_shut();
    }
  }
  void send(const std::string& bytes) {
    socket_in += bytes;
    pump();
  }
  void fin() {
    fin_sent = true;
    pump();
  }
  void apply(ResponseCmd cmd) {
    c->on_response(cmd, now);
    pump();
  }
  // A whole response in one command (res.end(body)).
  void end(uint32_t seq, const std::string& body, uint16_t status = 200) {
    ResponseCmd r;
    r.seq = seq;
    r.kind = ResponseCmd::kHead | ResponseCmd::kEnd;
    r.status = status;
    r.data = body;
    apply(r);
  }
  void head(uint32_t seq, int64_t content_length = -1, uint16_t status = 200) {
    ResponseCmd r;
    r.seq = seq;
    r.kind = ResponseCmd::kHead;
    r.status = status;
    r.content_length = content_length;
    apply(r);
  }
  void data(uint32_t seq, const std::string& bytes, bool last = false) {
    ResponseCmd r;
    r.seq = seq;
    r.kind = static_cast<uint8_t>(ResponseCmd::kData | (last ? ResponseCmd::kEnd : 0));
    r.data = bytes;
    apply(r);
  }
  void finish(uint32_t seq) {
    ResponseCmd r;
    r.seq = seq;
    r.kind = ResponseCmd::kEnd;
    apply(r);
  }
  // writeContinue/writeProcessing/writeEarlyHints: a 1xx before the final head.
  void interim(uint32_t seq, uint16_t status, const std::string& fields = "", const std::string& reason = "") {
    ResponseCmd r;
    r.seq = seq;
    r.kind = ResponseCmd::kInterim;
    r.status = status;
    r.reason = reason;
    r.fields = fields;
    apply(r);
  }
  // res.addTrailers() then end(data): the last chunk carries the trailer field lines.
  void end_trailers(uint32_t seq, const std::string& bytes, const std::string& trailers) {
    ResponseCmd r;
    r.seq = seq;
    r.kind = ResponseCmd::kEnd | ResponseCmd::kTrailers | (bytes.empty() ? 0 : ResponseCmd::kData);
    r.data = bytes;
    r.fields = trailers;
    apply(r);
  }
  void abort(uint32_t seq) {
    ResponseCmd r;
    r.seq = seq;
    r.kind = ResponseCmd::kAbort;
    apply(r);
  }
  void fail(uint32_t seq) {
    ResponseCmd r;
    r.seq = seq;
    r.kind = ResponseCmd::kFail;
    apply(r);
  }
  void pause(bool p) {
    c->set_body_paused(p, now);
    pump();
  }
  // JS's answer to an upgradable request.
  void upgrade(uint32_t seq, bool accept) {
    ResponseCmd r;
    r.seq = seq;
    r.kind = ResponseCmd::kUpgrade;
    r.status = accept ? 1 : 0;
    apply(r);
  }
  // Bytes JS writes on an upgraded connection.
  void raw(uint32_t seq, const std::string& bytes, bool last = false) {
    ResponseCmd r;
    r.seq = seq;
    r.kind = static_cast<uint8_t>(ResponseCmd::kRaw | (last ? ResponseCmd::kEnd : 0));
    r.data = bytes;
    apply(r);
  }
  // The clock moves ms by ms; the driver calls on_timer whenever the deadline has passed.
  void run_to(uint64_t t) {
    while (now < t) {
      ++now;
      if (c->deadline() <= now) {
        c->on_timer(now);
        pump();
      }
    }
  }
  void wait(uint64_t ms) { run_to(now + ms); }
  std::string take() {
    std::string s = normalize(wire);
    wire.clear();
    return s;
  }
  CloseReason reason() const { return c->close_reason(); }
};

// ---- requests and expected responses -----------------------------------------------------------------------

std::string get(const std::string& path, const std::string& fields = "", int minor = 1) {
  return "GET " + path + " HTTP/1." + std::to_string(minor) + "\r\nHost: t\r\n" + fields + "\r\n";
}

std::string post(const std::string& path, const std::string& body, const std::string& fields = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + fields +
         "\r\n" + body;
}

std::string post_head(const std::string& path, uint64_t length, const std::string& fields = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(length) + "\r\n" + fields +
         "\r\n";
}

const std::string kChunkedHead = "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";

enum Persist { Keep, Close, Keep10 };

std::string conn_lines(Persist p, int timeout_s) {
  const std::string ka = "Connection: keep-alive\r\nKeep-Alive: timeout=" + std::to_string(timeout_s) + "\r\n";
  switch (p) {
    case Keep: return ka;
    case Keep10: return ka;
    case Close: return "Connection: close\r\n";
  }
  return "";
}

// A 200 response with Content-Length as write_head() makes it.
std::string resp(const std::string& body, Persist p = Keep, int timeout_s = 65) {
  return "HTTP/1.1 200 OK\r\nDate: *\r\n" + conn_lines(p, timeout_s) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string err(HttpError e) { return std::string(error_response(e)); }

const std::string k400 =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad "
    "Request";
const std::string k408 =
    "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nContent-Length: 15\r\nConnection: close\r\n\r\n"
    "Request Timeout";
const std::string k100 = "HTTP/1.1 100 Continue\r\n\r\n";

// A whole response whose handler set Connection: close.
ResponseCmd handler_close(uint32_t seq, const std::string& body) {
  ResponseCmd r;
  r.seq = seq;
  r.kind = ResponseCmd::kHead | ResponseCmd::kEnd;
  r.fields = "Connection: close\r\n";
  r.user_fields = kUserConnection;
  r.response_tokens = kConnClose;
  r.data = body;
  return r;
}

void expect_open(Drive& d, const char* what) {
  CHECK(!d.c->done() && d.reason() == CloseReason::Count, "%s: closed (%s)", what, reason_name(d.reason()));
}

void expect_closed(Drive& d, CloseReason r, bool linger, const char* what) {
  CHECK(d.c->done(), "%s: not done", what);
  CHECK(d.reason() == r, "%s: close reason %s, want %s", what, reason_name(d.reason()), reason_name(r));
  CHECK(d.c->linger() == linger, "%s: linger %d, want %d", what, d.c->linger(), linger);
  CHECK(!d.c->wants_read() && !d.c->idle() && d.c->deadline() == UINT64_MAX,
        "%s: a closed connection still reads, "
        "is idle or has a deadline",
        what);
}

// ---- keep-alive --------------------------------------------------------------------------------------------

void test_keep_alive_11() {
  g_test = "keep-alive 1.1";
  for (bool blocking : {false, true}) {
    Drive d(config(), blocking);
    CHECK(d.c->idle(), "a fresh connection is idle");
    CHECK(d.c->deadline() == d.now + 60000, "a fresh connection's clock is headersTimeout from accept");
    d.send(get("/a"));
    CHECK_EQ(d.sink.requests(), "GET /a", "dispatched");
    CHECK(!d.sink.request(0)->closes, "1.1 without Connection does not close");
    CHECK(!d.c->idle() && d.c->deadline() == UINT64_MAX, "waiting for JS: not idle, no deadline");
    d.wait(5);
    d.end(0, "hi");
    CHECK_EQ(d.take(), resp("hi"), "response");
    CHECK(d.c->idle() && d.c->wants_read(), "idle after the response");
    CHECK(d.c->deadline() == d.now + 65000, "keepAliveTimeout from the response's end");
    d.send(get("/b"));
    d.end(1, "again");
    CHECK_EQ(d.take(), resp("again"), "second response");
    CHECK(d.c->requests() == 2, "requests %u", d.c->requests());
    // Whole tokens: "closed" is not close; a token list with close closes.
    d.send(get("/c", "Connection: closed\r\n"));
    d.end(2, "x");
    CHECK_EQ(d.take(), resp("x"), "Connection: closed keeps the connection");
    d.send(get("/d", "Connection: keep-alive, CLOSE\r\n") + get("/never"));
    CHECK(d.sink.request(3) && d.sink.request(3)->closes, "keep-alive, CLOSE closes");
    d.end(3, "y");
    CHECK_EQ(d.take(), resp("y", Close), "closing response");
    expect_closed(d, CloseReason::Client, true, "after keep-alive, CLOSE");
    CHECK_EQ(d.sink.requests(), "GET /a; GET /b; GET /c; GET /d", "nothing after the closing request");
  }
}

void test_keep_alive_10() {
  g_test = "keep-alive 1.0";
  {
    Drive d;
    d.send(get("/a", "", 0) + get("/b", "", 0));
    CHECK(d.sink.request(0) && d.sink.request(0)->closes && d.sink.request(0)->minor == 0,
          "1.0 without keep-alive closes");
    d.end(0, "hi");
    CHECK_EQ(d.take(), resp("hi", Close), "1.0 response");
    expect_closed(d, CloseReason::Client, true, "1.0 without keep-alive");
    CHECK_EQ(d.sink.requests(), "GET /a", "nothing after it");
  }
  {
    Drive d;
    d.send(get("/a", "Connection: Keep-Alive\r\n", 0));
    CHECK(!d.sink.request(0)->closes, "1.0 keep-alive persists");
    d.end(0, "hi");
    CHECK_EQ(d.take(), resp("hi", Keep10), "persistent 1.0 response says Connection: keep-alive");
    expect_open(d, "1.0 keep-alive");
    d.send(get("/b", "Connection: keep-alive, close\r\n", 0));
    CHECK(d.sink.request(1)->closes, "keep-alive, close on 1.0 closes");
    d.end(1, "bye");
    CHECK_EQ(d.take(), resp("bye", Close), "closing 1.0 response");
    expect_closed(d, CloseReason::Client, true, "1.0 keep-alive, close");
  }
}

// client_finished(): the client's own close with nothing sent after its request (a driver may skip the linger).
void test_client_finished() {
  g_test = "client_finished";
  for (bool blocking : {false, true}) {
    {
      Drive d(config(), blocking);
      d.send(get("/a", "Connection: close\r\n"));
      d.end(0, "hi");
      CHECK_EQ(d.take(), resp("hi", Close), "closing response");
      CHECK(d.c->linger() && d.c->client_finished(), "nothing after the closing request: finished");
    }
    {
      Drive d(config(), blocking);
      d.send(get("/a", "", 0));
      d.end(0, "hi");
      CHECK_EQ(d.take(), resp("hi", Close), "1.0 response");
      CHECK(d.c->client_finished(), "1.0 without keep-alive, nothing after it: finished");
    }
    {
      Drive d(config(), blocking);
      d.send(get("/a", "Connection: close\r\n") + get("/b"));
      d.end(0, "hi");
      CHECK(d.c->done() && !d.c->client_finished(), "bytes after the closing request: not finished");
    }
    {
      Drive d(config(), blocking);
      d.send(post_head("/a", 10, "Connection: close\r\n") + "12345");
      d.end(0, "early");
      d.take();
      CHECK(d.c->done() && d.c->linger() && !d.c->client_finished(), "body still arriving: not finished");
    }
    {
      Drive d(config(), blocking);
      d.send(get("/a"));
      d.apply(handler_close(0, "bye"));
      d.take();
      CHECK(d.c->done() && d.c->linger() && !d.c->client_finished(), "the handler's close: not finished");
    }
  }
}

void test_connection_close_pipelined() {
  g_test = "Connection: close with more pipelined";
  for (bool blocking : {false, true}) {
    Drive d(config(), blocking);
    d.send(get("/1") + get("/2", "Connection: close\r\n") + get("/3") + "GARBAGE\r\n\r\n");
    CHECK_EQ(d.sink.requests(), blocking ? "GET /1; GET /2" : "GET /1; GET /2", "dispatched");
    CHECK(d.sink.request(1)->closes && !d.sink.request(0)->closes, "the close flag");
    CHECK(d.sink.count(Ev::Error) == 0, "the garbage after it is never parsed");
    CHECK(!d.c->wants_read(), "no reading after a closing request");
    d.end(1, "two");
    CHECK_EQ(d.take(), "", "second response waits for the first");
    d.end(0, "one");
    CHECK_EQ(d.take(), resp("one") + resp("two", Close), "both, in order");
    expect_closed(d, CloseReason::Client, true, "Connection: close");
    d.send(get("/4"));
    CHECK_EQ(d.sink.requests(), "GET /1; GET /2", "still nothing after it");
  }
}

// ---- pipelining --------------------------------------------------------------------------------------------

void test_pipelining_reverse() {
  g_test = "pipelining 50, answered in reverse";
  for (bool blocking : {false, true}) {
    ConnConfig cfg = config();
    cfg.max_pipeline = 64;
    Drive d(cfg, blocking);
    std::string all, want;
    for (int i = 0; i < 50; ++i) {
      all += get("/" + std::to_string(i));
      want += resp("/" + std::to_string(i));
    }
    d.send(all);
    CHECK(d.sink.count(Ev::Request) == 50, "dispatched %zu", d.sink.count(Ev::Request));
    for (int i = 0; i < 50; ++i)
      CHECK(d.sink.request(i) && d.sink.request(i)->target == "/" + std::to_string(i), "seq %d", i);
    for (int i = 49; i >= 1; --i) d.end(i, "/" + std::to_string(i));
    CHECK_EQ(d.take(), "", "nothing before the first response");
    d.end(0, "/0");
    CHECK_EQ(d.take(), want, "all 50 in request order");
    CHECK(d.c->idle(), "idle afterwards");
    d.send(get("/after"));
    d.end(50, "/after");
    CHECK_EQ(d.take(), resp("/after"), "the connection is reused");
  }
}

void test_pipeline_cap() {
  g_test = "pipeline cap";
  for (bool blocking : {false, true}) {
    ConnConfig cfg = config();
    cfg.max_pipeline = 8;
    Drive d(cfg, blocking);
    std::string all, want;
    for (int i = 0; i < 20; ++i) {
      all += get("/" + std::to_string(i));
      want += resp(std::to_string(i));
    }
    d.max_read = 100;  // several reads: the connection must stop asking for more at the cap
    d.send(all);
    if (!blocking) {  // (the blocking model stops reading as soon as a request waits for JS)
      CHECK(d.sink.count(Ev::Request) == 8, "dispatched %zu at the cap", d.sink.count(Ev::Request));
      CHECK(!d.c->wants_read(), "reading stops at the cap");
      d.end(1, "1");
      CHECK(d.sink.count(Ev::Request) == 8, "an answer behind an unanswered one frees nothing: %zu",
            d.sink.count(Ev::Request));
      d.end(0, "0");
      CHECK(d.sink.count(Ev::Request) == 10, "two answered, two more dispatched: %zu", d.sink.count(Ev::Request));
    } else {
      d.end(0, "0");
      d.end(1, "1");
    }
    for (uint32_t next = 2; next < 20; ++next) d.end(next, std::to_string(next));
    CHECK(d.sink.count(Ev::Request) == 20, "all dispatched in the end: %zu", d.sink.count(Ev::Request));
    CHECK_EQ(d.take(), want, "in order");
    CHECK(d.c->idle(), "idle");
  }
}

// Every way of cutting a byte stream in two, and one byte at a time: the events are those of the whole stream.
void every_split(const std::string& stream, const std::function<void(Drive&)>& finish, const char* what,
                 const ConnConfig& cfg = config()) {
  Drive whole(cfg);
  whole.send(stream);
  finish(whole);
  const std::string want_trace = whole.sink.trace();
  const std::string want_wire = whole.take();
  for (size_t i = 0; i <= stream.size(); ++i) {
    Drive d(cfg);
    d.send(stream.substr(0, i));
    d.send(stream.substr(i));
    finish(d);
    if (d.sink.trace() != want_trace || d.take() != want_wire) {
      CHECK_EQ(d.sink.trace(), want_trace, what);
      std::fprintf(stderr, "  (split at %zu)\n", i);
      return;
    }
  }
  for (bool blocking : {false, true}) {
    Drive d(cfg, blocking);
    d.max_read = 1;
    for (char ch : stream) d.send(std::string(1, ch));
    finish(d);
    CHECK_EQ(d.sink.trace(), want_trace, what);
    CHECK_EQ(d.take(), want_wire, what);
  }
}

void test_partial_heads() {
  g_test = "partial heads";
  const std::string a = get("/a?x=1", "X-A: 1\r\nX-Long: " + std::string(300, 'v') + "\r\n");
  const std::string stream = "\r\n" + a + get("/b") + get("/c", "Connection: close\r\n");
  auto finish = [](Drive& d) {
    d.end(0, "a");
    d.end(1, "b");
    d.end(2, "c");
  };
  Drive whole;
  whole.send(stream);
  CHECK_EQ(whole.sink.requests(), "GET /a?x=1; GET /b; GET /c", "whole");
  CHECK_EQ(whole.sink.request(0)->raw, a, "raw head (without the empty line before it)");
  CHECK_EQ(whole.sink.request(0)->headers, "Host: t\nX-A: 1\nX-Long: " + std::string(300, 'v') + "\n", "fields");
  finish(whole);
  CHECK_EQ(whole.take(), resp("a") + resp("b") + resp("c", Close), "responses");
  every_split(stream, finish, "partial heads at every split point");
}

// ---- bodies ------------------------------------------------------------------------------------------------

std::string pattern(size_t n) {
  std::string s(n, ' ');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
  return s;
}

void test_bodies_every_split() {
  g_test = "bodies at every split point";
  const std::string cl_body = pattern(300);
  const std::string cl = post("/p", cl_body) + get("/n");
  auto finish2 = [](Drive& d) {
    d.end(0, "p");
    d.end(1, "n");
  };
  {
    Drive d;
    d.send(cl);
    CHECK_EQ(d.sink.body(0), cl_body, "Content-Length body");
    CHECK(d.sink.ended(0) && d.sink.requests() == "POST /p; GET /n", "then the next request");
    finish2(d);
    CHECK_EQ(d.take(), resp("p") + resp("n"), "responses");
  }
  every_split(cl, finish2, "Content-Length body");

  const std::string chunks =
      "5;name=value\r\nhello\r\n1a\r\n" + pattern(26) + "\r\n1\r\n!\r\n0\r\nX-Trailer: t\r\n\r\n";
  const std::string ch = kChunkedHead + chunks + get("/n");
  {
    Drive d;
    d.send(ch);
    CHECK_EQ(d.sink.body(0), "hello" + pattern(26) + "!", "chunked body");
    CHECK(d.sink.ended(0) && d.sink.requests() == "POST /c; GET /n", "then the next request");
    // Ordering: the body end comes before the next request.
    size_t end_at = 0, next_at = 0;
    for (size_t i = 0; i < d.sink.evs.size(); ++i) {
      if (d.sink.evs[i].kind == Ev::BodyEnd) end_at = i;
      if (d.sink.evs[i].kind == Ev::Request && d.sink.evs[i].seq == 1) next_at = i;
    }
    CHECK(end_at < next_at, "body end %zu before the next request %zu", end_at, next_at);
    finish2(d);
    CHECK_EQ(d.take(), resp("p") + resp("n"), "responses");
  }
  every_split(ch, finish2, "chunked body");
}

void test_body_flow_control() {
  g_test = "body flow control";
  for (bool blocking : {false, true}) {
    Drive d(config(), blocking);
    d.send(post_head("/p", 10) + "abc");
    CHECK_EQ(d.sink.body(0), "abc", "first bytes");
    d.pause(true);
    CHECK(!d.c->wants_read(), "paused: no reading");
    d.send("defg");
    CHECK_EQ(d.sink.body(0), "abc", "nothing while paused");
    d.pause(false);
    CHECK_EQ(d.sink.body(0), "abcdefg", "resumed");
    d.send("hij" + get("/n"));
    CHECK(d.sink.ended(0) && d.sink.body(0) == "abcdefghij", "complete");
    d.end(0, "ok");
    d.end(1, "n");
    CHECK_EQ(d.take(), resp("ok") + resp("n"), "responses");
  }
  {
    // Bytes already in the buffer stay there while paused: the sink pauses inside on_body.
    Drive d;
    bool paused_once = false;
    d.sink.hook = [&](Connection& c, const Ev& e) {
      if (e.kind == Ev::Body && !paused_once) {
        paused_once = true;
        c.set_body_paused(true, d.now);
      }
    };
    d.send(kChunkedHead + "3\r\none\r\n3\r\ntwo\r\n5\r\nthree\r\n0\r\n\r\n" + get("/n"));
    CHECK_EQ(d.sink.body(0), "one", "one chunk, then paused");
    CHECK(!d.sink.ended(0) && d.sink.count(Ev::Request) == 1, "nothing past the pause");
    CHECK(!d.c->wants_read() && !d.c->idle(), "paused");
    d.pause(false);
    CHECK_EQ(d.sink.body(0), "onetwothree", "the rest from the buffer");
    CHECK(d.sink.ended(0) && d.sink.requests() == "POST /c; GET /n", "and the next request");
  }
}

void test_unread_small_body() {
  g_test = "unread small body";
  for (bool blocking : {false, true}) {
    Drive d(config(), blocking);
    d.send(post_head("/p", 100) + pattern(10));
    d.pause(true);  // JS stopped reading, then answered: the rest is drained anyway
    d.end(0, "early");
    CHECK_EQ(d.take(), resp("early"), "a body within the drain bound keeps the connection");
    CHECK(d.c->wants_read() && !d.c->idle(), "draining");
    d.send(pattern(100).substr(10, 50));
    d.send(pattern(100).substr(60) + get("/next"));
    // The rest still reaches JS, whose stream may be reading it after the response, ignoring its pause.
    CHECK_EQ(d.sink.body(0), pattern(100), "the rest of the body is delivered in full");
    CHECK(d.sink.ended(0), "and ends, so a handler reading after res.end() sees 'end'");
    CHECK_EQ(d.sink.requests(), "POST /p; GET /next", "the next request is parsed after the drained body");
    d.pause(false);
    d.end(1, "n");
    CHECK_EQ(d.take(), resp("n"), "next response");
    expect_open(d, "after draining");
  }
  {
    // Exactly the drain bound unread: still kept.
    ConnConfig cfg = config();
    Drive d(cfg);
    d.send(post_head("/p", cfg.drain_limit));
    d.end(0, "x");
    CHECK_EQ(d.take(), resp("x"), "drain_limit bytes unread: kept");
    d.send(std::string(cfg.drain_limit, 'z') + get("/n"));
    CHECK_EQ(d.sink.requests(), "POST /p; GET /n", "drained");
  }
}

void test_unread_large_body() {
  g_test = "unread large body";
  {
    ConnConfig cfg = config();
    Drive d(cfg);
    d.send(post_head("/p", cfg.drain_limit + 4) + "abc");  // one byte more than the bound left unread
    d.end(0, "no");
    CHECK_EQ(d.take(), resp("no", Close), "beyond the drain bound: Connection: close");
    expect_closed(d, CloseReason::Response, true, "large unread body");
    d.send(std::string(1000, 'z') + get("/n"));
    CHECK_EQ(d.sink.requests(), "POST /p", "nothing after it");
  }
  {
    // A chunked body's length is unknown: unread, it closes.
    Drive d;
    d.send(kChunkedHead + "3\r\nabc\r\n");
    d.end(0, "no");
    CHECK_EQ(d.take(), resp("no", Close), "unread chunked body: close");
    expect_closed(d, CloseReason::Response, true, "unread chunked body");
  }
  {
    // Read in part by JS, then answered: what is left decides.
    ConnConfig cfg = config();
    Drive d(cfg);
    d.send(post_head("/p", cfg.drain_limit + 10) + std::string(20, 'r'));
    d.end(0, "ok");
    CHECK_EQ(d.take(), resp("ok"), "remaining within the bound after reading 20 bytes: kept");
  }
}

void test_expect_continue() {
  g_test = "Expect: 100-continue";
  {
    Drive d;
    d.send(post_head("/e", 5, "Expect: 100-continue\r\n"));
    CHECK(d.sink.request(0)->expect, "flag");
    CHECK_EQ(d.take(), k100, "100 Continue at once");
    d.send("hello");
    CHECK_EQ(d.sink.body(0), "hello", "body");
    d.end(0, "got it");
    CHECK_EQ(d.take(), resp("got it"), "final response");
  }
  {
    // Answered before the body came: no second 100, the final response follows it.
    Drive d;
    d.send(post_head("/e", 5, "Expect: 100-continue\r\n"));
    d.end(0, "no thanks");
    CHECK_EQ(d.take(), k100 + resp("no thanks"), "100 then the response");
  }
  {
    // Behind an unanswered request: the 100 waits its turn.
    Drive d;
    d.send(get("/first") + post_head("/e", 2, "Expect: 100-continue\r\n"));
    CHECK_EQ(d.take(), "", "nothing before the first response");
    d.end(0, "1");
    CHECK_EQ(d.take(), resp("1") + k100, "the first response, then the 100");
    d.send("hi");
    d.end(1, "2");
    CHECK_EQ(d.take(), resp("2"), "then the second response");
  }
  {
    // HTTP/1.0 and bodiless requests get no 100.
    Drive d;
    d.send("POST /e HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    CHECK_EQ(d.take(), "", "no 100 for 1.0");
    d.send("hi");
    d.end(0, "a");
    CHECK_EQ(d.take(), resp("a", Keep10), "1.0 response");
    d.send(post_head("/e", 0, "Expect: 100-continue\r\n"));
    CHECK(d.sink.ended(1) == false && d.sink.count(Ev::Request) == 2, "bodiless request dispatched");
    CHECK_EQ(d.take(), "", "no 100 without a body");
  }
}

void test_no_body_statuses() {
  g_test = "HEAD, 204, 304";
  Drive d;
  d.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n");
  d.end(0, "hello");
  CHECK_EQ(
      d.take(),
      "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\nContent-Length: 5\r\n\r\n",
      "HEAD: the GET's length, no body");
  d.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n");
  d.head(1);
  d.data(1, "ignored");
  d.finish(1);
  CHECK_EQ(d.take(), "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n",
           "streamed HEAD: nothing framed");
  d.send(get("/204"));
  d.end(2, "dropped", 204);
  CHECK_EQ(d.take(), "HTTP/1.1 204 No Content\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n",
           "204");
  d.send(get("/304"));
  d.end(3, "dropped", 304);
  CHECK_EQ(d.take(), "HTTP/1.1 304 Not Modified\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n",
           "304");
  d.send(get("/after"));
  d.end(4, "ok");
  CHECK_EQ(d.take(), resp("ok"), "framing intact afterwards");
}

void test_streamed_responses() {
  g_test = "streamed responses";
  {
    Drive d;
    d.send(get("/s"));
    d.head(0);
    d.data(0, "ab");
    CHECK_EQ(d.take(),
             "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\nTransfer-Encoding: "
             "chunked\r\n\r\n2\r\nab\r\n",
             "1.1: chunked, written as it comes");
    d.data(0, "cdefghijklmnopq");
    d.data(0, "");
    d.finish(0);
    CHECK_EQ(d.take(), "f\r\ncdefghijklmnopq\r\n0\r\n\r\n", "chunks and the last chunk");
    expect_open(d, "chunked response");
    d.send(get("/n"));
    d.head(1);
    d.data(1, "x", true);
    CHECK_EQ(d.take(),
             "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\nTransfer-Encoding: "
             "chunked\r\n\r\n"
             "1\r\nx\r\n0\r\n\r\n",
             "data with end in one command");
    d.send(get("/len"));
    d.head(2, 4);
    d.data(2, "ab");
    d.data(2, "cd", true);
    CHECK_EQ(d.take(), resp("abcd"), "length set by the handler: streamed with Content-Length");
  }
  {
    Drive d;
    d.send(get("/s", "Connection: keep-alive\r\n", 0));
    d.head(0);
    d.data(0, "ab");
    d.data(0, "cd");
    d.finish(0);
    CHECK_EQ(d.take(), "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: close\r\n\r\nabcd", "1.0: close-delimited");
    expect_closed(d, CloseReason::Response, true, "close-delimited");
  }
  {
    // A later request's response streams while an earlier one is unanswered: held back, then in order.
    Drive d;
    d.send(get("/1") + get("/2"));
    d.head(1);
    d.data(1, "early");
    CHECK_EQ(d.take(), "", "held back");
    d.head(0, 3);
    d.data(0, "on");
    CHECK_EQ(
        d.take(),
        "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\nContent-Length: 3\r\n\r\non",
        "the first response streams");
    d.data(0, "e", true);
    CHECK_EQ(d.take(),
             "e" + std::string("HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n5\r\nearly\r\n"),
             "then the second's buffered part");
    d.data(1, "late");
    d.finish(1);
    CHECK_EQ(d.take(), "4\r\nlate\r\n0\r\n\r\n", "and the rest of it directly");
    expect_open(d, "two streamed responses");
  }
  {
    // A handler's own Connection: close.
    Drive d;
    d.send(get("/x"));
    d.apply(handler_close(0, "bye"));
    CHECK_EQ(d.take(), "HTTP/1.1 200 OK\r\nConnection: close\r\nDate: *\r\nContent-Length: 3\r\n\r\nbye",
             "the handler's Connection: close, not repeated");
    expect_closed(d, CloseReason::Response, true, "handler closes");
  }
}

void test_max_requests() {
  g_test = "maxRequestsPerSocket";
  ConnConfig cfg = config();
  cfg.max_requests_per_socket = 2;
  Drive d(cfg);
  d.send(get("/1") + get("/2") + get("/3"));
  CHECK_EQ(d.sink.requests(), "GET /1; GET /2", "the third is never dispatched");
  CHECK(!d.sink.request(0)->closes && d.sink.request(1)->closes, "the last one is flagged");
  d.end(1, "2");
  d.end(0, "1");
  CHECK_EQ(d.take(), resp("1") + resp("2", Close), "the last response closes");
  expect_closed(d, CloseReason::MaxRequests, true, "max requests");

  cfg.max_requests_per_socket = 1;
  Drive one(cfg);
  one.send(get("/1"));
  CHECK(one.sink.request(0)->closes, "max 1: the first closes");
  one.end(0, "1");
  CHECK_EQ(one.take(), resp("1", Close), "max 1 response");
  expect_closed(one, CloseReason::MaxRequests, true, "max 1");
}

// ---- errors ------------------------------------------------------------------------------------------------

void test_parse_errors() {
  g_test = "parse errors";
  {
    Drive d;
    d.send("BAD REQUEST LINE\r\n\r\n");
    CHECK_EQ(d.take(), k400, "alone: 400 at once");
    CHECK(d.sink.count(Ev::Request) == 0 && d.sink.count(Ev::Error) == 1, "no request, one error");
    expect_closed(d, CloseReason::ParseError, true, "400");
    CHECK_EQ(err(HttpError::BadRequest), k400, "the table's 400");
  }
  const std::string bad = "GET / HTTP/1.1\r\nHost : bad\r\n\r\n";
  const std::string want = resp("1") + resp("2") + k400;
  for (bool blocking : {false, true}) {
    // Pipelined behind good requests: they are answered first (persistent, as they would be without the error),
    // then the error.
    Drive d(config(), blocking);
    d.send(get("/1") + get("/2") + bad + get("/4"));
    CHECK_EQ(d.sink.requests(), "GET /1; GET /2", "the good ones");
    CHECK(d.sink.count(Ev::Error) == 1 && d.sink.evs.back().err == HttpError::BadRequest, "one error");
    CHECK_EQ(d.take(), "", "the error waits for the earlier responses");
    expect_open(d, "error pending");
    d.end(1, "2");
    d.end(0, "1");
    CHECK_EQ(d.take(), want, "earlier responses, then the error");
    expect_closed(d, CloseReason::ParseError, true, "after the pipelined error");
  }
  {
    // The same bytes whether JS answered before or after the bad request arrived.
    Drive d;
    d.send(get("/1"));
    d.end(0, "1");
    d.send(get("/2"));
    d.end(1, "2");
    d.send(bad);
    CHECK_EQ(d.take(), want, "answered before the error arrived");
    expect_closed(d, CloseReason::ParseError, true, "sequential");
  }
  {
    // Other errors from the head.
    struct {
      std::string bytes;
      HttpError e;
    } cases[] = {
        {"GET / HTTP/2.0\r\nHost: t\r\n\r\n", HttpError::VersionNotSupported},
        {"GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n", HttpError::UriTooLong},
        {"GET / HTTP/1.1\r\nHost: t\r\nX: " + std::string(17000, 'a'), HttpError::HeaderTooLarge},
        {"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", HttpError::BadRequest},
        {"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", HttpError::NotImplemented},
    };
    for (auto& k : cases) {
      Drive d;
      d.max_read = 1000;
      d.send(k.bytes);
      CHECK_EQ(d.take(), err(k.e), "error response");
      expect_closed(d, CloseReason::ParseError, true, "head error");
    }
  }
  {
    // A broken chunked body: the request was dispatched; its response is dropped for the error.
    Drive d;
    d.send(get("/0") + kChunkedHead + "3\r\nabc\r\nzz\r\n");
    CHECK_EQ(d.sink.requests(), "GET /0; POST /c", "dispatched before the body broke");
    CHECK(d.sink.count(Ev::Error) == 1, "error reported");
    d.end(1, "late");  // ignored: the request was refused
    d.end(0, "0");
    CHECK_EQ(d.take(), resp("0") + k400, "the good response, then 400");
    expect_closed(d, CloseReason::ParseError, true, "bad chunk");
  }
  {
    // The body breaks while its response is under way: nothing more can be said on the wire. (The response
    // closes anyway: an unread chunked body has no known end.)
    Drive d;
    d.send(kChunkedHead + "3\r\nabc\r\n");
    d.head(0);
    d.data(0, "partial");
    d.send("zz\r\n");
    CHECK_EQ(d.take(),
             "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
             "7\r\npartial\r\n",
             "what went out before");
    expect_closed(d, CloseReason::ParseError, false, "error mid-response");
  }
  {
    Drive d;
    d.c->refuse(HttpError::ServiceUnavailable, CloseReason::Cap);
    d.pump();
    CHECK_EQ(d.take(), err(HttpError::ServiceUnavailable), "refused: 503");
    expect_closed(d, CloseReason::Cap, true, "refuse");
  }
}

// ---- deadlines ---------------------------------------------------------------------------------------------

ConnConfig short_timeouts() {
  ConnConfig cfg = config();
  cfg.keep_alive_timeout_ms = 5000;
  cfg.headers_timeout_ms = 3000;
  cfg.request_timeout_ms = 10000;
  return cfg;
}

void test_keep_alive_timeout() {
  g_test = "keepAliveTimeout";
  Drive d(short_timeouts());
  d.send(get("/a"));
  d.wait(100);
  d.end(0, "a");
  const uint64_t t = d.now;
  CHECK_EQ(
      d.take(),
      "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 1\r\n\r\na",
      "advertised");
  CHECK(d.c->deadline() == t + 5000, "deadline %llu, want %llu", (unsigned long long)d.c->deadline(),
        (unsigned long long)(t + 5000));
  d.c->on_timer(t + 4999);  // early: nothing
  expect_open(d, "before the deadline");
  d.run_to(t + 4999);
  expect_open(d, "just before");
  d.run_to(t + 5000);
  CHECK_EQ(d.take(), "", "idle close is silent");
  expect_closed(d, CloseReason::IdleTimeout, false, "idle");
}

void test_headers_timeout() {
  g_test = "headersTimeout";
  {
    // A connection that never sends a byte: clock from accept, silent close.
    Drive d(short_timeouts());
    const uint64_t accepted = d.now;
    d.run_to(accepted + 2999);
    expect_open(d, "before");
    d.run_to(accepted + 3000);
    CHECK_EQ(d.take(), "", "no bytes, no answer");
    expect_closed(d, CloseReason::HeadersTimeout, false, "fresh connection");
  }
  {
    // Slowloris on a fresh connection: one byte every 100 ms still ends at accept + headersTimeout.
    Drive d(short_timeouts());
    const uint64_t accepted = d.now;
    d.wait(500);
    const std::string head = "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: " + std::string(1000, 'a');
    size_t i = 0;
    while (!d.c->done() && i < head.size()) {
      d.send(std::string(1, head[i++]));
      CHECK(d.c->deadline() == accepted + 3000 || d.c->done(), "the deadline never moves: %llu",
            (unsigned long long)d.c->deadline());
      d.wait(100);
    }
    CHECK(d.now == accepted + 3000, "closed at %llu, want %llu", (unsigned long long)d.now,
          (unsigned long long)(accepted + 3000));
    CHECK_EQ(d.take(), k408, "408 for a started head");
    expect_closed(d, CloseReason::HeadersTimeout, true, "slowloris");
    CHECK(d.sink.count(Ev::Request) == 0 && d.sink.count(Ev::Error) == 1 &&
              d.sink.evs.back().err == HttpError::RequestTimeout,
          "an error event, no request");
  }
  {
    // On a kept-alive connection the clock starts with the next head's first byte.
    Drive d(short_timeouts());
    d.send(get("/a"));
    d.end(0, "a");
    d.take();
    d.wait(4000);  // idle, within keepAliveTimeout
    const uint64_t first = d.now;
    d.send("G");
    CHECK(d.c->deadline() == first + 3000, "head deadline from its first byte");
    for (int k = 0; k < 100 && !d.c->done(); ++k) {
      d.wait(50);
      if (!d.c->done()) d.send("E");
    }
    CHECK(d.now == first + 3000, "closed at +%llu", (unsigned long long)(d.now - first));
    CHECK_EQ(d.take(), k408, "408");
    expect_closed(d, CloseReason::HeadersTimeout, true, "slowloris after keep-alive");
  }
  {
    // A head pipelined behind a slow response: its clock runs from when that response is done.
    Drive d(short_timeouts());
    d.send(get("/a") + "GET /b HT");
    d.wait(20000);  // the handler takes long: no deadline while JS owes a response
    expect_open(d, "waiting for JS");
    d.end(0, "a");
    const uint64_t ready = d.now;
    CHECK(d.c->deadline() == ready + 3000, "pipelined head deadline %lld from the response",
          (long long)(d.c->deadline() - ready));
    d.run_to(ready + 3000);
    CHECK_EQ(d.take(), resp("a", Keep, 5) + k408, "response then 408");
    expect_closed(d, CloseReason::HeadersTimeout, true, "pipelined partial head");
  }
}

void test_request_timeout() {
  g_test = "requestTimeout";
  {
    Drive d(short_timeouts());
    d.send("POST /p HT");
    const uint64_t start = d.now;
    d.wait(1000);
    d.send("TP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
    CHECK(d.c->deadline() == start + 10000 - 1000 + 1000, "request deadline from the head's start");
    d.run_to(start + 9999);
    expect_open(d, "before");
    d.run_to(start + 10000);
    CHECK_EQ(d.take(), k408, "408");
    CHECK(d.sink.evs.back().kind == Ev::Error && d.sink.evs.back().err == HttpError::RequestTimeout, "error event");
    expect_closed(d, CloseReason::RequestTimeout, true, "request timeout");
  }
  {
    // The clock of a fresh connection's first request runs from accept (as its headersTimeout does).
    Drive d(short_timeouts());
    const uint64_t accepted = d.now;
    d.wait(2000);
    d.send(post_head("/p", 10) + "abc");
    CHECK(d.c->deadline() == accepted + 10000, "first request: from accept");
  }
  {
    // The handler already answers (streaming): nothing can be said any more, the connection just closes.
    Drive d(short_timeouts());
    d.send(post_head("/p", 10) + "abc");
    d.head(0);
    d.data(0, "streaming");
    d.take();
    d.wait(10000);
    CHECK_EQ(d.take(), "", "silent");
    expect_closed(d, CloseReason::RequestTimeout, false, "mid-response");
  }
  {
    // The previous response's bytes are still being written (a slow reader) when the next body stalls: they
    // are kept, and the 408 follows them.
    Drive d(short_timeouts());
    d.auto_write = false;
    d.send(get("/big"));
    d.end(0, std::string(1000, 'B'));
    d.send(post_head("/p", 10) + "abc");
    const uint64_t start = d.now;
    d.run_to(start + 10000);
    d.auto_write = true;
    d.write_out();
    CHECK_EQ(d.take(), resp(std::string(1000, 'B'), Keep, 5) + k408, "the unsent response, then 408");
    expect_closed(d, CloseReason::RequestTimeout, true, "408 after unsent output");
  }
  {
    // A body behind an unanswered request: the earlier response still goes out, then 408.
    Drive d(short_timeouts());
    d.send(get("/a") + post_head("/p", 10) + "abc");
    CHECK_EQ(d.sink.requests(), "GET /a; POST /p", "both dispatched");
    const uint64_t start = d.now;
    d.run_to(start + 10000);
    expect_open(d, "the 408 waits for the earlier response");
    d.end(1, "ignored");
    d.end(0, "a");
    CHECK_EQ(d.take(), resp("a", Keep, 5) + k408, "earlier response, then 408");
    expect_closed(d, CloseReason::RequestTimeout, true, "408 behind a response");
  }
  {
    // Every deadline off.
    ConnConfig cfg = config();
    cfg.keep_alive_timeout_ms = cfg.headers_timeout_ms = cfg.request_timeout_ms = 0;
    Drive d(cfg);
    CHECK(d.c->deadline() == UINT64_MAX, "fresh, no headersTimeout");
    d.send("GET");
    CHECK(d.c->deadline() == UINT64_MAX, "partial head");
    d.send(" / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nab");
    CHECK(d.c->deadline() == UINT64_MAX, "body");
    d.send("cde");
    d.end(0, "x");
    CHECK(d.c->deadline() == UINT64_MAX, "idle");
  }
}

// ---- end of input, shutdown, forced close --------------------------------------------------------------------

// With allowHalfOpen: a FIN is a half-close, and the requests already received are still answered.
ConnConfig half_open() {
  ConnConfig c = config();
  c.allow_half_open = true;
  return c;
}

void test_eof() {
  g_test = "on_eof (allowHalfOpen)";
  for (bool blocking : {false, true}) {
    {
      Drive d(half_open(), blocking);
      d.send(get("/a"));
      d.fin();
      expect_open(d, "a complete request still gets its answer");
      d.end(0, "a");
      // The response can't depend on when the FIN was read (the blocking model reads it only afterwards).
      CHECK_EQ(d.take(), resp("a"), "answered, then closed");
      expect_closed(d, CloseReason::Client, false, "half-close after a request");
    }
    {
      Drive d(half_open(), blocking);
      d.send(get("/1") + get("/2"));
      d.fin();
      d.end(1, "2");
      d.end(0, "1");
      CHECK_EQ(d.take(), resp("1") + resp("2"), "both pipelined requests answered, in order");
      expect_closed(d, CloseReason::Client, false, "half-close after two requests");
    }
    {
      // More pipelined requests than the cap, then FIN: the evented model reads the FIN while requests are still
      // buffered behind the cap; they are answered too, as in the blocking model.
      ConnConfig cfg = half_open();
      cfg.max_pipeline = 4;
      Drive d(cfg, blocking);
      std::string all, want;
      for (int i = 0; i < 10; ++i) {
        all += get("/" + std::to_string(i));
        want += resp(std::to_string(i));
      }
      d.send(all);
      d.fin();
      for (uint32_t i = 0; i < 10 && !d.c->done(); ++i) d.end(i, std::to_string(i));
      CHECK_EQ(d.take(), want, "all ten answered");
      expect_closed(d, CloseReason::Client, false, "FIN behind the pipeline cap");
    }
    {
      // The same with a request whose body the FIN cut short behind the cap: the complete ones are answered.
      ConnConfig cfg = half_open();
      cfg.max_pipeline = 2;
      Drive d(cfg, blocking);
      d.send(get("/0") + get("/1") + get("/2") + post_head("/p", 10) + "abc");
      d.fin();
      d.end(0, "0");
      d.end(1, "1");
      d.end(2, "2");
      CHECK_EQ(d.take(), resp("0") + resp("1") + resp("2"), "the complete requests");
      CHECK(d.c->done() && d.reason() == CloseReason::Client, "closed: %s", reason_name(d.reason()));
    }
    {
      // FIN cuts a body short behind an unanswered request: that one is still answered.
      Drive d(half_open(), blocking);
      d.send(get("/0") + post_head("/p", 10) + "abc");
      d.fin();
      expect_open(d, "the first request is owed");
      d.end(1, "dropped");
      d.end(0, "0");
      CHECK_EQ(d.take(), resp("0"), "the complete request's response only");
      expect_closed(d, CloseReason::Client, false, "FIN mid-body behind a request");
    }
    {
      // ... and a response already complete for the cut request (it didn't need the body) goes out too.
      Drive d(half_open(), blocking);
      d.send(get("/0") + post_head("/p", 10) + "abc");
      d.end(1, "p");
      d.fin();
      d.end(0, "0");
      CHECK_EQ(d.take(), resp("0") + resp("p"), "both responses");
      expect_closed(d, CloseReason::Client, false, "FIN mid-body, response ready");
    }
    {
      Drive d(half_open(), blocking);
      d.send(post_head("/p", 10) + "abc");
      d.fin();
      CHECK_EQ(d.take(), "", "nothing to say");
      expect_closed(d, CloseReason::Client, false, "FIN mid-body");
      d.end(0, "late");
      CHECK_EQ(d.take(), "", "a late response goes nowhere");
    }
    {
      Drive d(half_open(), blocking);
      d.send("GET / HTTP/1.1\r\nHo");
      d.fin();
      CHECK(d.sink.count(Ev::Request) == 0, "no request");
      expect_closed(d, CloseReason::Client, false, "FIN mid-head");
    }
    {
      Drive d(half_open(), blocking);
      d.send(get("/a"));
      d.end(0, "a");
      d.take();
      d.fin();
      expect_closed(d, CloseReason::Client, false, "FIN when idle");
    }
  }
}

void test_shutdown() {
  g_test = "begin_shutdown";
  {
    Drive d;
    d.c->begin_shutdown(d.now);
    CHECK_EQ(d.take(), "", "idle: nothing to say");
    expect_closed(d, CloseReason::Shutdown, false, "idle connection");
  }
  {
    Drive d;
    d.send(get("/a"));
    d.c->begin_shutdown(d.now);
    d.c->begin_shutdown(d.now);  // the blocking driver repeats it: harmless
    expect_open(d, "in flight");
    CHECK(!d.c->wants_read(), "no new requests");
    d.end(0, "a");
    CHECK_EQ(d.take(), resp("a", Close), "in-flight response says close");
    expect_closed(d, CloseReason::Shutdown, true, "in flight");
  }
  {
    // Two pipelined requests in flight: both are answered, the last one says close.
    Drive d;
    d.send(get("/1") + get("/2") + "GET /3 HT");
    d.c->begin_shutdown(d.now);
    d.end(0, "1");
    d.end(1, "2");
    CHECK_EQ(d.take(), resp("1") + resp("2", Close), "in-flight requests finish");
    expect_closed(d, CloseReason::Shutdown, true, "pipelined in flight");
    CHECK_EQ(d.sink.requests(), "GET /1; GET /2", "nothing new parsed");
  }
  {
    // A response that went out before the shutdown (persistent), its unread body still being drained.
    Drive d;
    d.send(post_head("/p", 100) + "abc");
    d.end(0, "a");
    CHECK_EQ(d.take(), resp("a"), "persistent response");
    d.c->begin_shutdown(d.now);
    d.send(std::string(97, 'x') + get("/n"));
    CHECK_EQ(d.sink.requests(), "POST /p", "no new request during shutdown");
    expect_closed(d, CloseReason::Shutdown, true, "drained body during shutdown");
  }
  {
    // A partial head: nobody to answer yet.
    Drive d;
    d.send("GET / HT");
    CHECK(!d.c->idle(), "a partial head is not idle");
    d.c->begin_shutdown(d.now);
    expect_closed(d, CloseReason::Shutdown, false, "partial head");
  }
  {
    // A body arriving for JS: the response says close.
    Drive d;
    d.send(post_head("/p", 10) + "abc");
    d.c->begin_shutdown(d.now);
    expect_open(d, "body in flight");
    d.send("defghij");
    CHECK(d.sink.ended(0), "the body still arrives");
    d.end(0, "ok");
    CHECK_EQ(d.take(), resp("ok", Close), "closing response");
    expect_closed(d, CloseReason::Shutdown, true, "body in flight");
  }
}

void test_force_close_and_abort() {
  g_test = "force_close, abort";
  {
    Drive d;
    d.auto_write = false;
    d.send(get("/a") + get("/b"));
    d.end(0, std::string(100, 'x'));
    CHECK(d.c->out_size() > 0, "output pending");
    d.c->force_close(CloseReason::Evicted);
    CHECK(d.c->out_size() == 0, "output dropped");
    expect_closed(d, CloseReason::Evicted, false, "forced");
    d.end(1, "late");
    d.send(get("/c"));
    CHECK(d.c->out_size() == 0 && d.sink.count(Ev::Request) == 2, "nothing afterwards");
    d.c->force_close(CloseReason::Error);
    CHECK(d.reason() == CloseReason::Evicted, "the first reason stays");
  }
  {
    // The handler failed after its head went out: what was written goes, then the connection closes.
    Drive d;
    d.send(get("/a") + get("/b"));
    d.head(1);
    d.data(1, "part");
    d.abort(1);
    expect_open(d, "abort behind an unanswered request");
    d.end(0, "a");
    CHECK_EQ(d.take(),
             resp("a") +
                 "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n4\r\npart\r\n",
             "the first response, the aborted one's start");
    expect_closed(d, CloseReason::Error, false, "abort");
  }
}

void test_handler_failure() {
  g_test = "handler failure (kFail)";
  const std::string e500 = std::string(error_response(HttpError::InternalError));
  {
    // Before its head: the ready-made 500 in its turn, then the connection closes (nothing after it is served).
    Drive d;
    d.send(get("/a") + get("/b") + get("/c"));
    d.fail(1);
    expect_open(d, "the 500 waits for the first response");
    d.end(0, "a");
    CHECK_EQ(d.take(), resp("a") + e500, "the first response, then the ready-made 500");
    expect_closed(d, CloseReason::Response, true, "after the 500");
  }
  {
    // HEAD: the 500's head only.
    Drive d;
    d.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n");
    d.fail(0);
    CHECK_EQ(d.take(), e500.substr(0, e500.find("\r\n\r\n") + 4), "no body bytes to HEAD");
    expect_closed(d, CloseReason::Response, true, "after the HEAD 500");
  }
  {
    // After its head: as abort, what was written goes and the connection closes.
    Drive d;
    d.send(get("/a"));
    d.head(0);
    d.data(0, "part");
    d.fail(0);
    CHECK_EQ(d.take(),
             "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n"
             "Transfer-Encoding: chunked\r\n\r\n4\r\npart\r\n",
             "the started response, cut");
    expect_closed(d, CloseReason::Error, false, "fail after the head");
  }
}

void test_idle_transitions() {
  g_test = "idle()";
  Drive d;
  CHECK(d.c->idle(), "fresh");
  d.send("GE");
  CHECK(!d.c->idle(), "partial head");
  d.send("T / HTTP/1.1\r\nHost: t\r\n\r\n");
  CHECK(!d.c->idle(), "request in flight");
  d.auto_write = false;
  d.end(0, "a");
  CHECK(!d.c->idle(), "response not written yet");
  d.auto_write = true;
  d.write_out();
  CHECK(d.c->idle(), "answered and written");
  d.send(post_head("/p", 3));
  CHECK(!d.c->idle(), "body awaited");
  d.send("abc");
  d.end(1, "b");
  CHECK(d.c->idle(), "idle again");
  CHECK(d.c->reading_phase(), "reading phase when idle");
  d.take();
}

}  // namespace

// ---- the client leaves (allowHalfOpen off, the default) ----------------------------------------------------

void test_client_gone() {
  g_test = "client gone";
  for (bool blocking : {false, true}) {
    {
      // A FIN while a response is owed: closed at once, nothing written, a late response goes nowhere.
      Drive d(config(), blocking);
      d.send(get("/a"));
      d.c->on_eof(d.now);  // the blocking driver reads it in its peer check while JS works
      d.pump();
      expect_closed(d, CloseReason::Client, false, "FIN while a response is owed");
      d.end(0, "late");
      CHECK_EQ(d.take(), "", "nothing written");
    }
    {
      // Pipelined requests not yet dispatched (behind the cap) are dropped with it.
      ConnConfig cfg = config();
      cfg.max_pipeline = 2;
      Drive d(cfg, blocking);
      std::string all;
      for (int i = 0; i < 5; ++i) all += get("/" + std::to_string(i));
      d.send(all);
      d.c->on_eof(d.now);
      d.pump();
      CHECK(d.sink.count(Ev::Request) == 2u, "dispatched before the FIN: %zu", d.sink.count(Ev::Request));
      expect_closed(d, CloseReason::Client, false, "FIN with requests pipelined behind the cap");
      d.end(0, "0");
      d.end(1, "1");
      CHECK(d.sink.count(Ev::Request) == 2u, "nothing dispatched after the FIN");
      CHECK_EQ(d.take(), "", "nothing written");
    }
    {
      // A response half written: cut, closed at once.
      Drive d(config(), blocking);
      d.send(get("/a"));
      d.head(0);
      d.data(0, "part");
      d.take();
      d.c->on_eof(d.now);
      d.pump();
      expect_closed(d, CloseReason::Client, false, "FIN during a streamed response");
    }
    {
      // Nothing owed: a FIN when idle still closes the quiet way.
      Drive d(config(), blocking);
      d.send(get("/a"));
      d.end(0, "a");
      CHECK_EQ(d.take(), resp("a"), "answered");
      d.fin();
      expect_closed(d, CloseReason::Client, false, "FIN when idle");
    }
    {
      // The response was complete (only being written) when the FIN came: it still goes out.
      Drive d(config(), blocking);
      d.auto_write = false;
      d.send(get("/a"));
      d.end(0, "a");
      d.c->on_eof(d.now);
      d.auto_write = true;
      d.pump();
      CHECK_EQ(d.take(), resp("a"), "the finished response");
      expect_closed(d, CloseReason::Client, false, "FIN with the response written");
    }
  }
}

// ---- upgrade and CONNECT: the passthrough state ------------------------------------------------------------

const std::string kUpgradeReq =
    "GET /chat HTTP/1.1\r\nHost: t\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n";
const std::string k101 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";

void test_upgrade_every_split() {
  g_test = "upgrade at every split point";
  const std::string tail = "hello";
  const std::string input = kUpgradeReq + tail;
  for (bool blocking : {false, true}) {
    for (size_t max_read : {SIZE_MAX, size_t{1}, size_t{7}}) {
      for (size_t k = 0; k <= input.size(); ++k) {
        Drive d(config(), blocking);
        d.max_read = max_read;
        d.send(input.substr(0, k));
        d.send(input.substr(k));
        const Ev* r = d.sink.request(0);
        CHECK(r != nullptr && r->upgrade && r->method == "GET" && r->target == "/chat",
              "split %zu: upgradable "
              "request dispatched",
              k);
        CHECK(d.sink.count(Ev::Request) == 1 && d.sink.count(Ev::Raw) == 0, "split %zu: held until JS decides", k);
        CHECK(!d.c->wants_read() && !d.c->idle(), "split %zu: held: no reading, not idle", k);
        d.upgrade(0, true);
        CHECK(d.c->upgraded(), "split %zu: passthrough", k);
        CHECK_EQ(d.sink.raw(), tail, "the bytes after the head, each once (head + Raw)");
        d.raw(0, k101);
        CHECK_EQ(d.take(), k101, "the 101 goes out as JS wrote it");
        d.send("world");
        CHECK_EQ(d.sink.raw(), tail + "world", "later bytes pass through");
        d.raw(0, "echo");
        CHECK_EQ(d.take(), "echo", "raw bytes out");
        CHECK(d.sink.count(Ev::Request) == 1, "nothing parsed in passthrough");
        expect_open(d, "passthrough");
        d.fin();
        CHECK(d.sink.count(Ev::RawEnd) == 1, "split %zu: the client's FIN reaches JS", k);
        expect_open(d, "after the client's FIN, JS still writes");
        d.raw(0, "bye", true);
        CHECK_EQ(d.take(), "bye", "last bytes");
        expect_closed(d, CloseReason::Response, false, "JS ended the passthrough after the client");
      }
    }
  }
}

void test_passthrough_half_close() {
  g_test = "passthrough: JS ends first";
  for (bool blocking : {false, true}) {
    Drive d(config(), blocking);
    d.send(kUpgradeReq);
    d.upgrade(0, true);
    d.auto_write = false;
    d.raw(0, "last", true);
    CHECK(!d.c->wants_write_shutdown(), "not before the bytes are out");
    d.auto_write = true;
    d.pump();
    CHECK_EQ(d.take(), "last<FIN>", "the bytes, then our FIN");
    expect_open(d, "the client's side is still open");
    d.send("more");
    CHECK_EQ(d.sink.raw(), "more", "its bytes still reach JS");
    d.raw(0, "after the end");
    CHECK_EQ(d.take(), "", "nothing after our FIN");
    d.fin();
    CHECK(d.sink.count(Ev::RawEnd) == 1, "its end too");
    expect_closed(d, CloseReason::Response, false, "both sides ended");
  }
}

void test_upgrade_declined() {
  g_test = "upgrade declined";
  for (bool blocking : {false, true}) {
    // No 'upgrade' listener: an ordinary request; what was held behind it is parsed after all.
    Drive d(config(), blocking);
    d.send(kUpgradeReq + get("/next"));
    CHECK(d.sink.count(Ev::Request) == 1 && d.sink.request(0)->upgrade, "held");
    CHECK_EQ(d.sink.request(0)->data, get("/next"), "the tail is what follows the head");
    d.upgrade(0, false);
    CHECK_EQ(d.sink.requests(), "GET /chat; GET /next", "parsing resumed");
    d.end(0, "plain");
    d.end(1, "next");
    CHECK_EQ(d.take(), resp("plain") + resp("next"), "both answered");
    expect_open(d, "keep-alive goes on");
    CHECK(d.sink.count(Ev::Raw) == 0, "no passthrough");
  }
  {
    // Answered without a decision (lib/ always decides; the core must not stay held): an ordinary request.
    Drive d(config());
    d.send(kUpgradeReq + get("/next"));
    d.end(0, "plain");
    CHECK_EQ(d.sink.requests(), "GET /chat; GET /next", "parsing resumed after the response");
    d.end(1, "next");
    CHECK_EQ(d.take(), resp("plain") + resp("next"), "both answered");
  }
  {
    // Refused (CONNECT without a 'connect' listener: node destroys the socket): closed, not counted as an error.
    Drive d(config());
    d.send("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n");
    d.abort(0);
    CHECK_EQ(d.take(), "", "nothing written");
    expect_closed(d, CloseReason::Response, false, "CONNECT refused");
  }
}

void test_upgrade_candidates() {
  g_test = "which requests may switch protocols";
  struct Case {
    std::string req;
    bool upgrade;
    const char* what;
  };
  const Case cases[] = {
      {kUpgradeReq, true, "Upgrade + Connection: upgrade"},
      {"GET / HTTP/1.1\r\nHost: t\r\nconnection: UPGRADE\r\nupgrade: h2c\r\n\r\n", true, "any case"},
      {"GET / HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n", true, "HTTP/1.0"},
      {"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", true, "CONNECT"},
      {"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 3\r\n\r\n", true,
       "CONNECT with a length: the bytes after the head are the tunnel's"},
      {"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n\r\n", false, "Upgrade without the token"},
      {"GET / HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\n\r\n", false, "the token without Upgrade"},
      {"GET / HTTP/1.1\r\nHost: t\r\nConnection: upgraded\r\nUpgrade: x\r\n\r\n", false, "not the token"},
      {"POST / HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: x\r\nContent-Length: 3\r\n\r\nabc", false,
       "with a body"},
  };
  for (const Case& c : cases) {
    Drive d(config());
    d.send(c.req + "xyz");
    const Ev* r = d.sink.request(0);
    CHECK(r != nullptr && r->upgrade == c.upgrade, "%s: upgrade %d", c.what, r ? r->upgrade : -1);
    if (r != nullptr && r->upgrade) {
      CHECK_EQ(r->data, "xyz", c.what);
      CHECK(r->body == BodyKind::None, "%s: no body", c.what);
    }
  }
  {
    // While the server shuts down, an upgrade is an ordinary request (which closes).
    Drive d(config());
    d.send(get("/a"));
    d.c->begin_shutdown(d.now);
    d.send(kUpgradeReq);
    CHECK(d.sink.count(Ev::Request) == 1, "nothing new parsed during shutdown");
  }
}

void test_passthrough_behind_a_response() {
  g_test = "upgrade pipelined behind an unanswered request";
  for (bool blocking : {false, true}) {
    Drive d(config(), blocking);
    d.send(get("/a") + kUpgradeReq + "tail");
    CHECK_EQ(d.sink.requests(), "GET /a; GET /chat", "both dispatched");
    d.upgrade(1, true);
    d.raw(1, k101);
    CHECK_EQ(d.take(), "", "the 101 waits for the response before it");
    d.end(0, "a");
    CHECK_EQ(d.take(), resp("a") + k101, "in order");
    d.raw(1, "x");
    CHECK_EQ(d.take(), "x", "then raw bytes directly");
    CHECK_EQ(d.sink.raw(), "tail", "the tail once");
  }
}

void test_passthrough_flow_and_deadlines() {
  g_test = "passthrough flow control and deadlines";
  ConnConfig cfg = config();
  cfg.keep_alive_timeout_ms = 100;
  cfg.headers_timeout_ms = 100;
  cfg.request_timeout_ms = 100;
  for (bool blocking : {false, true}) {
    Drive d(cfg, blocking);
    d.send(kUpgradeReq);
    d.upgrade(0, true);
    CHECK(d.c->deadline() == UINT64_MAX, "no keep-alive/headers/request deadline once upgraded");
    d.wait(10000);
    expect_open(d, "quiet for 10 s");
    CHECK(!d.c->idle(), "never idle (no eviction, no closeIdleConnections)");
    d.c->begin_shutdown(d.now);
    d.pump();
    expect_open(d, "server.close() lets it run");
    d.pause(true);
    CHECK(!d.c->wants_read(), "paused: no reading");
    d.send("abc");
    CHECK(d.sink.count(Ev::Raw) == 0, "nothing while paused");
    d.pause(false);
    CHECK_EQ(d.sink.raw(), "abc", "after resume");
    // A client that stops reading what we owe it is still dropped (send stall).
    d.auto_write = false;
    d.raw(0, std::string(1000, 'x'));
    CHECK(d.c->deadline() != UINT64_MAX, "a send deadline while output is owed");
    d.wait(cfg.send_timeout_ms + 10);
    expect_closed(d, CloseReason::Client, false, "send stall");
  }
  {
    // JS destroys the socket: closed once written, reason Response (not an error).
    Drive d(config());
    d.send(kUpgradeReq);
    d.upgrade(0, true);
    d.raw(0, "last");
    d.abort(0);
    CHECK_EQ(d.take(), "last", "written before the close");
    expect_closed(d, CloseReason::Response, false, "destroy()");
  }
  {
    // The client resets: the driver's force_close; nothing more reaches JS.
    Drive d(config());
    d.send(kUpgradeReq + "x");
    d.upgrade(0, true);
    d.c->force_close(CloseReason::Client);
    CHECK(d.c->done() && d.reason() == CloseReason::Client, "reset");
  }
}

// A client that pipelines requests faster than they are answered holds at most input_limit() (plus one read) of
// unparsed input: the requests behind the pipeline cap are parsed as the front ones are answered, not only once
// the pipeline is empty (reading resumed meanwhile and piled up unparsed input: 7 MB in 350 ms on one connection).
void test_input_bounded() {
  g_test = "input bounded";
  for (bool blocking : {false, true}) {
    Drive d(config(), blocking);
    const int n = 2500;  // ~77 KB of requests: the old code buffered all of them
    std::string all;
    for (int i = 0; i < n; ++i) all += get("/" + std::to_string(i));
    d.send(all);
    size_t most = d.c->buffered_input();
    std::string want;
    for (uint32_t seq = 0; seq < static_cast<uint32_t>(n); ++seq) {
      CHECK(seq < d.sink.count(Ev::Request), "request %u dispatched", seq);
      if (seq >= d.sink.count(Ev::Request)) break;
      d.end(seq, "k");
      most = std::max(most, d.c->buffered_input());
    }
    CHECK(d.sink.count(Ev::Request) == static_cast<size_t>(n), "all dispatched: %zu", d.sink.count(Ev::Request));
    // One read lands on top of what is buffered below the limit; the buffer grows by doubling.
    CHECK(most <= 2 * d.c->input_limit(), "most input buffered: %zu (limit %zu, %zu bytes sent)", most,
          d.c->input_limit(), all.size());
    CHECK(d.c->idle(), "idle at the end");
  }
}

// A client that pipelines requests and reads no answers: nothing more is parsed or read once the queued output
// reaches the high-water mark, so the server holds at most high_water plus the responses of the requests already
// dispatched (it held every answer before: 39 MB until the send deadline). Reading resumes as the output drains.
void test_output_bounded() {
  g_test = "output bounded";
  for (bool blocking : {false, true}) {
    Drive d(config(), blocking);
    d.auto_write = false;
    const uint32_t n = 400;  // 6.4 MB of answers if all were made (the old code made them all)
    const std::string body(16 * 1024, 'b');
    std::string all;
    for (uint32_t i = 0; i < n; ++i) all += get("/" + std::to_string(i));
    d.send(all);
    uint32_t answered = 0;
    size_t most = 0;
    auto answer_all = [&] {
      while (answered < d.sink.count(Ev::Request)) {
        d.end(answered++, body);
        most = std::max(most, d.c->queued_bytes());
      }
    };
    answer_all();
    const size_t bound = d.cfg.high_water + d.cfg.max_pipeline * (body.size() + 200);
    CHECK(answered < n, "stopped dispatching while nothing is read: %u of %u", answered, n);
    CHECK(most <= bound, "output held while unread: %zu (bound %zu)", most, bound);
    // The client reads: everything is answered in order.
    for (int guard = 0; guard < 100000 && (answered < n || d.c->out_size() > 0); ++guard) {
      d.auto_write = true;
      d.write_out();
      d.auto_write = false;
      d.pump();
      answer_all();
    }
    d.auto_write = true;
    d.write_out();
    CHECK(answered == n, "all answered: %u", answered);
    CHECK(most <= bound, "output held at most %zu (bound %zu)", most, bound);
    const std::string w = d.take();
    size_t at = 0;
    for (size_t pos = w.find("HTTP/1.1 200 OK"); pos != std::string::npos; pos = w.find("HTTP/1.1 200 OK", pos + 1)) {
      ++at;
    }
    CHECK(at == n, "%zu responses on the wire", at);
    CHECK(d.c->idle(), "idle at the end");
  }
}

// Once idle (and trimmed, as the drivers do when a connection goes idle), a connection gives back what a burst of
// answers grew: its output buffer kept up to the high-water mark of capacity (and 1,000 connections ~38 MiB).
void test_idle_holds_little() {
  g_test = "idle holds little";
  for (bool blocking : {false, true}) {
    Drive d(config(), blocking);
    d.auto_write = false;
    std::string all;
    for (int i = 0; i < 7; ++i) all += get("/" + std::to_string(i));
    d.send(all);
    const std::string body(4 * 1024, 'b');
    for (uint32_t i = 0; i < 7; ++i) d.end(i, body);  // ~29 KiB of answers, below the mark: the buffer is kept
    CHECK(d.c->held_bytes() >= 7 * body.size(), "the answers are held: %zu", d.c->held_bytes());
    d.auto_write = true;
    d.write_out();
    CHECK(d.c->idle(), "idle once written");
    d.c->trim();
    CHECK(d.c->held_bytes() <= 16 * 1024, "an idle connection holds %zu bytes", d.c->held_bytes());
  }
}

// A declared Content-Length is what goes out: a surplus is cut and an early end cut short, and either closes the
// connection after what was written (lib/response.ts throws first; this is the wire's last line of defence).
void test_content_length_enforced() {
  g_test = "content-length enforced";
  {
    Drive d;
    d.send(get("/a") + get("/b"));
    d.head(0, 5);
    d.data(0, "hello, world", true);
    CHECK_EQ(d.take(), "HTTP/1.1 200 OK\r\nDate: *\r\n" + conn_lines(Keep, 65) + "Content-Length: 5\r\n\r\nhello",
             "cut at the declared length");
    expect_closed(d, CloseReason::Error, false, "surplus");
  }
  {
    Drive d;
    d.send(get("/a") + get("/b"));
    d.head(0, 10);
    d.data(0, "12345");
    d.finish(0);
    CHECK_EQ(d.take(), "HTTP/1.1 200 OK\r\nDate: *\r\n" + conn_lines(Keep, 65) + "Content-Length: 10\r\n\r\n12345",
             "ended short");
    expect_closed(d, CloseReason::Error, false, "short");
  }
  {
    Drive d;  // exact: kept
    d.send(get("/a"));
    d.head(0, 5);
    d.data(0, "hel");
    d.data(0, "lo", true);
    CHECK(d.c->idle(), "an exact body keeps the connection");
  }
}

// The HEAD rule holds for ready-made answers: a refused HEAD request gets the error's head without its body.
void test_error_head_rule() {
  g_test = "error responses to HEAD";
  {
    Drive d;
    d.send("\r\nHEAD / HTTP/1.1\r\nHost: t\r\nBad Field\r\n\r\n");
    CHECK_EQ(d.take(), std::string(error_response_head(HttpError::BadRequest)), "400 head only");
    CHECK(std::string(error_response_head(HttpError::BadRequest)).size() + 11 == k400.size(), "the body is cut");
    expect_closed(d, CloseReason::ParseError, true, "HEAD 400");
  }
  {
    Drive d;  // a HEAD with a broken chunked body: dispatched, then refused
    d.send("HEAD / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    CHECK_EQ(d.take(), std::string(error_response_head(HttpError::BadRequest)), "body error on a HEAD: head only");
  }
  {
    Drive d;  // GET: the whole ready-made response
    d.send("GET / HTTP/1.1\r\nHost: t\r\nBad Field\r\n\r\n");
    CHECK_EQ(d.take(), k400, "GET 400 with its body");
  }
}

// A head held back because the client is not reading our answers has no head clock meanwhile: the client is slow
// to read, not to send (the pipelining flood got a 408 in the middle of its answers).
void test_held_head_no_timeout() {
  g_test = "held head: no headers timeout";
  for (bool blocking : {false, true}) {
    ConnConfig cfg = config();
    cfg.headers_timeout_ms = 1000;
    cfg.max_pipeline = 1;  // /b waits in the buffer behind /a, then behind /a's unread answer
    Drive d(cfg, blocking);
    d.auto_write = false;
    d.send(get("/a") + get("/b"));
    d.end(0, std::string(200 * 1024, 'a'));
    CHECK(d.sink.count(Ev::Request) == 1, "the second head waits while the output is full");
    d.wait(5000);
    expect_open(d, "no 408 while the client does not read");
    d.auto_write = true;
    d.write_out();
    d.pump();
    CHECK(d.sink.count(Ev::Request) == 2, "parsed once the output drained: %zu", d.sink.count(Ev::Request));
    d.end(1, "b");
    CHECK(d.take().find("408") == std::string::npos, "no 408 on the wire");
  }
}

// ---- response trailers (res.addTrailers) -------------------------------------------------------------------

void test_trailers() {
  g_test = "response trailers";
  const std::string chunked_head =
      "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\nTransfer-Encoding: "
      "chunked\r\n\r\n";
  const std::string t = "X-Sum: abc\r\nX-Two: 2\r\n";
  {
    Drive d;
    d.send(get("/t"));
    d.head(0);
    d.data(0, "ab");
    d.end_trailers(0, "", t);
    CHECK_EQ(d.take(), chunked_head + "2\r\nab\r\n0\r\n" + t + "\r\n", "after the last chunk, then the empty line");
    expect_open(d, "trailers keep the connection");
    d.send(get("/t2"));
    d.head(1);
    d.end_trailers(1, "last", "X-One: 1\r\n");
    CHECK_EQ(d.take(), chunked_head + "4\r\nlast\r\n0\r\nX-One: 1\r\n\r\n", "data, the last chunk and trailers in one");
    d.send(get("/t3"));
    d.head(2);
    d.end_trailers(2, "", "");
    CHECK_EQ(d.take(), chunked_head + "0\r\n\r\n", "no trailer fields: the plain last chunk");
    d.send(get("/after"));
    d.end(3, "ok");
    CHECK_EQ(d.take(), resp("ok"), "framing intact afterwards");
  }
  {
    // Not chunked: a length, HTTP/1.0 (close-delimited), HEAD, 204: the trailers are dropped, as node:http does.
    Drive d;
    d.send(get("/len"));
    d.head(0, 2);
    d.end_trailers(0, "ab", t);
    CHECK_EQ(d.take(), resp("ab"), "Content-Length framing: no trailers");
    d.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n");
    d.head(1);
    d.end_trailers(1, "ignored", t);
    CHECK_EQ(d.take(), "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n",
             "HEAD: nothing after the head");
    d.send(get("/204"));
    d.head(2, -1, 204);
    d.end_trailers(2, "", t);
    CHECK_EQ(d.take(), "HTTP/1.1 204 No Content\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n",
             "204: nothing after the head");
    expect_open(d, "after dropped trailers");
    d.send(get("/old", "Connection: keep-alive\r\n", 0));
    d.head(3);
    d.data(3, "ab");
    d.end_trailers(3, "cd", t);
    CHECK_EQ(d.take(), "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: close\r\n\r\nabcd",
             "1.0: close-delimited, no trailers");
    expect_closed(d, CloseReason::Response, true, "1.0 streamed");
  }
  {
    // With the head in the same command the fields are the head's, never trailers.
    Drive d;
    d.send(get("/x"));
    ResponseCmd r;
    r.seq = 0;
    r.kind = ResponseCmd::kHead | ResponseCmd::kEnd | ResponseCmd::kTrailers;
    r.fields = "Transfer-Encoding: chunked\r\n";
    r.user_fields = kUserTransferEncoding;
    r.data = "hi";
    d.apply(r);
    CHECK_EQ(d.take(),
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nDate: *\r\nConnection: keep-alive\r\n"
             "Keep-Alive: timeout=65\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
             "head fields are not trailers");
  }
  {
    // Pipelined: the second response (with trailers) ends before the first; its bytes wait their turn whole.
    Drive d;
    d.send(get("/1") + get("/2"));
    d.head(1);
    d.end_trailers(1, "b", "X-B: 2\r\n");
    CHECK_EQ(d.take(), "", "held behind the first");
    d.head(0);
    d.end_trailers(0, "a", "X-A: 1\r\n");
    CHECK_EQ(d.take(), chunked_head + "1\r\na\r\n0\r\nX-A: 1\r\n\r\n" + chunked_head + "1\r\nb\r\n0\r\nX-B: 2\r\n\r\n",
             "in request order, each with its own trailers");
  }
  // A chunked request (with its own trailers) and a pipelined one, cut at every point; both answered with trailers.
  const std::string stream = kChunkedHead + "3\r\nabc\r\n0\r\nX-In: 1\r\n\r\n" + get("/n");
  every_split(
      stream,
      [](Drive& d) {
        d.head(0);
        d.data(0, "x");
        d.end_trailers(0, "", "X-Out: 0\r\n");
        d.head(1);
        d.end_trailers(1, "y", "X-Out: 1\r\n");
      },
      "trailers after a chunked request, every split");
}

// ---- 1xx interim responses (writeContinue, writeProcessing, writeEarlyHints) and the checkContinue hold --------

const std::string k102 = "HTTP/1.1 102 Processing\r\n\r\n";
const std::string k103 = "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload; as=style\r\n\r\n";
const std::string kLink = "Link: </s.css>; rel=preload; as=style\r\n";

void test_interim() {
  g_test = "interim responses";
  {
    Drive d;
    d.send(get("/a"));
    d.interim(0, 103, kLink);
    CHECK_EQ(d.take(), k103, "103 at once, for the front request");
    d.interim(0, 102);
    d.interim(0, 103, "X-A: 1\r\n", "Hints");
    CHECK_EQ(d.take(), k102 + "HTTP/1.1 103 Hints\r\nX-A: 1\r\n\r\n", "several, a reason of JS's own");
    d.end(0, "ok");
    CHECK_EQ(d.take(), resp("ok"), "then the final response");
    expect_open(d, "interim responses don't end anything");
  }
  {
    // Never after the final head started, never for a status that is not 1xx or is 101, never to HTTP/1.0.
    Drive d;
    d.send(get("/a"));
    for (uint16_t st : {99, 101, 200, 204, 0}) d.interim(0, st);
    CHECK_EQ(d.take(), "", "not an interim status: dropped");
    d.head(0);
    d.interim(0, 103, kLink);
    d.data(0, "x", true);
    CHECK_EQ(d.take(),
             "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n"
             "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
             "after the head: dropped");
    d.interim(0, 103, kLink);
    CHECK_EQ(d.take(), "", "after the end: dropped");
    d.send(get("/old", "Connection: keep-alive\r\n", 0));
    d.interim(1, 103, kLink);
    d.interim(1, 100);
    d.end(1, "a");
    CHECK_EQ(d.take(), resp("a", Keep10), "HTTP/1.0: no 1xx");
    d.interim(7, 103, kLink);
    CHECK_EQ(d.take(), "", "an unknown request: dropped");
  }
  {
    // Pipelined: an interim response waits behind the responses before its request, like its final response.
    Drive d;
    d.send(get("/1") + get("/2"));
    d.interim(1, 103, kLink);
    CHECK_EQ(d.take(), "", "behind the unanswered first request");
    d.interim(0, 102);
    CHECK_EQ(d.take(), k102, "the front's own goes out at once");
    d.end(0, "1");
    CHECK_EQ(d.take(), resp("1") + k103, "then the second's 103");
    d.end(1, "2");
    CHECK_EQ(d.take(), resp("2"), "and its response");
  }
  {
    // One 100 Continue at most: after the automatic one, JS's writeContinue() adds nothing.
    Drive d;
    d.send(post_head("/e", 2, "Expect: 100-continue\r\n"));
    CHECK(!d.sink.request(0)->held, "no listener: not held");
    d.interim(0, 100);
    CHECK_EQ(d.take(), k100, "one 100");
    d.send("hi");
    d.interim(0, 100);
    d.end(0, "ok");
    CHECK_EQ(d.take(), resp("ok"), "no second 100");
    // A 100 JS asks for on a request without Expect is sent (node's writeContinue() writes it too), once.
    d.send(get("/g"));
    d.interim(1, 100);
    d.interim(1, 100);
    d.end(1, "g");
    CHECK_EQ(d.take(), k100 + resp("g"), "JS's 100 for a plain request");
  }
}

ConnConfig continue_config() {
  ConnConfig c = config();
  c.check_continue = 1;
  return c;
}

void test_continue_held() {
  g_test = "checkContinue: the body waits for JS";
  for (bool blocking : {false, true}) {
    // The client sends the body without waiting: nothing of it is decoded or delivered before JS's 100.
    Drive d(continue_config(), blocking);
    d.send(post_head("/e", 5, "Expect: 100-continue\r\n") + "hello");
    CHECK(d.sink.request(0) && d.sink.request(0)->held && d.sink.request(0)->expect, "dispatched, held");
    CHECK_EQ(d.take(), "", "no automatic 100");
    CHECK(d.sink.count(Ev::Body) == 0 && !d.sink.ended(0), "no body events while held");
    expect_open(d, "held");
    d.interim(0, 100);
    CHECK_EQ(d.take(), k100, "JS's 100");
    CHECK(d.sink.body(0) == "hello" && d.sink.ended(0), "the body after it");
    d.end(0, "got it");
    CHECK_EQ(d.take(), resp("got it"), "kept alive after a 100");
    // The next request on the connection is held too; the client waits for the 100 this time.
    d.send(post_head("/e", 2, "Expect: 100-continue\r\n"));
    CHECK(d.sink.request(1)->held, "held again");
    d.interim(1, 100);
    CHECK_EQ(d.take(), k100, "100");
    d.send("ok");
    CHECK(d.sink.body(1) == "ok" && d.sink.ended(1), "body");
    d.end(1, "2");
    CHECK_EQ(d.take(), resp("2"), "second response");
  }
  {
    // A final status instead of the 100 (e.g. 417, 401): no 100, Connection: close, the body never reaches JS.
    Drive d(continue_config());
    d.send(post_head("/big", 1000000, "Expect: 100-continue\r\n"));
    d.end(0, "", 417);
    CHECK_EQ(d.take(), "HTTP/1.1 417 Expectation Failed\r\nDate: *\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
             "closes: the client may or may not send the body");
    expect_closed(d, CloseReason::Response, true, "after a final status without 100");
    CHECK(d.sink.count(Ev::Body) == 0, "no body");
    d.interim(0, 100);
    CHECK_EQ(d.take(), "", "no 100 after the final response");
  }
  {
    // A streamed final head releases the body (the client may send it anyway after its own wait): delivered.
    Drive d(continue_config());
    d.send(post_head("/s", 3, "Expect: 100-continue\r\n") + "ab");
    d.head(0);
    CHECK_EQ(d.sink.body(0), "ab", "released by the final head");
    d.send("c");
    CHECK(d.sink.body(0) == "abc" && d.sink.ended(0), "the rest");
    d.interim(0, 100);
    d.data(0, "done", true);
    CHECK_EQ(d.take(),
             "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
             "4\r\ndone\r\n0\r\n\r\n",
             "no 100 after the head; Connection: close");
    expect_closed(d, CloseReason::Response, true, "streamed answer without 100");
  }
  {
    // Held, the client leaves: reported at once (the connection reads while held, up to a head's worth).
    Drive d(continue_config());
    d.send(post_head("/e", 5, "Expect: 100-continue\r\n"));
    CHECK(d.c->wants_read(), "reads while held");
    d.fin();
    expect_closed(d, CloseReason::Client, false, "FIN while held");
  }
  {
    // A client that sends a large body without waiting fills at most input_limit() plus one read.
    Drive d(continue_config());
    d.send(post_head("/e", 1 << 20, "Expect: 100-continue\r\n") + std::string(1 << 20, 'x'));
    CHECK(!d.c->wants_read(), "reading stopped");
    CHECK(d.c->buffered_input() <= 2 * d.c->input_limit(), "buffered %zu", d.c->buffered_input());
    CHECK(d.sink.count(Ev::Body) == 0, "nothing delivered");
    d.interim(0, 100);
    CHECK(d.sink.body(0).size() == (1u << 20) && d.sink.ended(0), "all of it after the 100: %zu",
          d.sink.body(0).size());
    d.end(0, "ok");
    CHECK_EQ(d.take(), k100 + resp("ok"), "response");
  }
  {
    // Behind an unanswered request: JS's 100 waits for the first response; the body is released at once.
    Drive d(continue_config());
    d.send(get("/first") + post_head("/e", 2, "Expect: 100-continue\r\n"));
    d.interim(1, 100);
    CHECK_EQ(d.take(), "", "the 100 waits its turn");
    d.send("hi");
    CHECK(d.sink.body(1) == "hi", "released");
    d.end(0, "1");
    CHECK_EQ(d.take(), resp("1") + k100, "first response, then the 100");
    d.end(1, "2");
    CHECK_EQ(d.take(), resp("2"), "second response");
  }
  {
    // The setting is live: a listener added on a listening server holds the next request, removing it un-holds.
    Drive d;
    d.send(post_head("/a", 1, "Expect: 100-continue\r\n"));
    CHECK_EQ(d.take(), k100, "automatic");
    d.send("a");
    d.end(0, "a");
    d.take();
    d.cfg.check_continue = 1;
    d.send(post_head("/b", 1, "Expect: 100-continue\r\n"));
    CHECK(d.sink.request(1)->held, "held after the change");
    CHECK_EQ(d.take(), "", "no automatic 100");
    d.interim(1, 100);
    d.send("b");
    d.end(1, "b");
    CHECK_EQ(d.take(), k100 + resp("b"), "JS's 100");
    d.cfg.check_continue = 0;
    d.send(post_head("/c", 1, "Expect: 100-continue\r\n"));
    CHECK(!d.sink.request(2)->held, "not held after the change back");
    CHECK_EQ(d.take(), k100, "automatic again");
  }
  // Cut at every point: the held body, JS's 100, then the pipelined request behind it.
  const std::string stream = post_head("/e", 5, "Expect: 100-continue\r\n") + "hello" + get("/n");
  every_split(
      stream,
      [](Drive& d) {
        d.interim(0, 100);
        d.end(0, "e");
        d.end(1, "n");
      },
      "held body at every split point", continue_config());
  const std::string chunked =
      "POST /c HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n" +
      get("/n");
  every_split(
      chunked,
      [](Drive& d) {
        d.interim(0, 103, kLink);
        d.interim(0, 100);
        d.end(0, "c");
        d.end(1, "n");
      },
      "held chunked body at every split point", continue_config());
  every_split(
      chunked, [](Drive& d) { d.end(0, "no", 417); }, "refused without 100 at every split point", continue_config());
}

int main() {
  test_keep_alive_11();
  test_keep_alive_10();
  test_connection_close_pipelined();
  test_pipelining_reverse();
  test_pipeline_cap();
  test_partial_heads();
  test_bodies_every_split();
  test_body_flow_control();
  test_unread_small_body();
  test_unread_large_body();
  test_expect_continue();
  test_no_body_statuses();
  test_streamed_responses();
  test_max_requests();
  test_parse_errors();
  test_keep_alive_timeout();
  test_headers_timeout();
  test_request_timeout();
  test_eof();
  test_client_finished();
  test_shutdown();
  test_force_close_and_abort();
  test_handler_failure();
  test_idle_transitions();
  test_client_gone();
  test_upgrade_every_split();
  test_passthrough_half_close();
  test_upgrade_declined();
  test_upgrade_candidates();
  test_passthrough_behind_a_response();
  test_passthrough_flow_and_deadlines();
  test_input_bounded();
  test_output_bounded();
  test_idle_holds_little();
  test_content_length_enforced();
  test_held_head_no_timeout();
  test_error_head_rule();
  test_trailers();
  test_interim();
  test_continue_held();
  return check_exit("connection_test");
}
