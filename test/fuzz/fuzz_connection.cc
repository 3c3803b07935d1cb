// deps: connection parser keep_alive response http_errors
// libFuzzer target for the per-connection state machine (native/core/connection.h), driven like the evented
// driver drives it: the input is what one client sends, delivered in pieces; a fake handler answers every
// dispatched request with ResponseCmds (whole, streamed, with a known length, closing, aborted, failed; in any order,
// sometimes before the request body is in); a fake clock advances and fires deadlines; output is written out in
// random amounts; body flow control, shutdown and eviction happen now and then. Every choice comes from a PRNG
// seeded with the input's first bytes and size, so a finding replays exactly.
// Checked, besides ASan/UBSan/LeakSanitizer:
//  - requests are dispatched with seq 0, 1, 2...; nothing after a closing request or after shutdown; body events
//    only for the request whose body is arriving; the raw head is the head;
//  - the bytes written out parse as HTTP/1.1 responses, in request order (seq 0, 1, 2... with no gap), each with
//    the status, framing and body the handler gave (chunked never to HTTP/1.0, no body for HEAD/204/304), a
//    response that says Connection: close (or is close-delimited, or answers a closing request) is the last one,
//    a chunked response ends with exactly the trailer lines its end carried (none otherwise),
//    a ready-made error response only at the end and only after on_client_error with that error, or the ready-made
//    500 (its head only to HEAD) in the turn of a request the handler failed before its head, and nothing after it;
//  - idle() only when every dispatched request was answered;
//  - interim (1xx) responses only for the request whose response is due and before its head, never 101, never to
//    HTTP/1.0, one 100 Continue at most; with check_continue, a held body reaches the handler only after its 100 or
//    its final head;
//  - an upgradable request (sometimes accepted, sometimes declined) holds parsing until the decision; accepted,
//    the bytes after its head reach JS once each and in order (the tail, then Raw events, then RawEnd after EOF),
//    and what JS writes follows the responses before it verbatim, nothing after it;
//  - once the client's EOF is fed and the handler has answered everything, the connection is done().
// Build and run: npm run fuzz (scripts/fuzz.js); replay one input: build-fuzz/fuzz_connection <file>.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../../native/core/connection.h"
#include "../../native/core/http_errors.h"
#include "../native/defaults.h"
#include "fuzz_common.h"

using namespace nova;

namespace {

std::string str(Slice s) { return s.len ? std::string(s.p, s.len) : std::string(); }

struct Request {
  bool is_head = false;
  uint8_t minor = 1;
  bool closes = false;  // the core said this request ends the connection
  bool has_body = false;
  bool body_ended = false;
  // The handler's plan and what it sent so far.
  enum Mode { Whole, Stream, LengthStream, AbortBefore, AbortAfter } mode = Whole;
  uint16_t status = 200;
  bool close_field = false;  // the handler set Connection: close
  bool user_length = false;  // the handler set Content-Length itself
  std::string body;          // the whole body the handler will send
  size_t sent = 0;           // bytes of body sent
  bool planned = false;
  bool head_sent = false;
  bool done = false;  // ended or aborted
  bool aborted = false;
  bool fail = false;        // the handler throws (kFail, lib's failResponse) instead of aborting
  bool failed = false;      // kFail was sent before the head: the ready-made 500 answers it
  bool upgradable = false;  // dispatched with head.upgrade
  bool decided = false;     // kUpgrade sent
  bool upgraded = false;    // accepted: the handler writes raw bytes (raw_out) instead of a response
  std::string raw_out;
  std::string trailers;   // trailer lines sent with the end (kTrailers): after the last chunk when chunked
  bool held = false;      // its body waits for JS's 100 or final head (check_continue)
  bool released = false;  // the handler sent the 100 or its head
};

class Sink : public ConnSink {
 public:
  std::vector<Request> reqs;
  bool stop_dispatch = false;  // a closing request was dispatched, or shutdown began
  int body_seq = -1;           // request whose body is arriving
  std::vector<HttpError> errors;

  void on_request(Connection& c, uint32_t seq, const RequestHead& h, Slice raw, bool closes) override {
    CHECK(seq == reqs.size(), "seq " + std::to_string(seq) + " after " + std::to_string(reqs.size()) + " requests");
    CHECK(!stop_dispatch, "a request dispatched after a closing request or shutdown");
    // A body whose response already ended is drained without events (no body end): then the next may come.
    CHECK(body_seq < 0 || reqs[body_seq].done, "a request dispatched while the previous body is still arriving");
    CHECK(raw.p == h.method.p && raw.len >= 4, "raw head starts at the method");
    CHECK(str(Slice{raw.p + raw.len - 4, 4}) == "\r\n\r\n", "raw head ends with its empty line");
    // Touch every view: ASan reports one that points outside the connection's buffer.
    std::string all = str(h.method) + str(h.target);
    for (uint32_t i = 0; i < h.header_count; ++i) all += str(h.headers[i].name) + str(h.headers[i].value);
    CHECK(all.size() <= raw.len, "views inside the raw head");
    CHECK(raw_seq < 0, "a request dispatched on an upgraded connection");
    Request r;
    r.upgradable = h.upgrade;
    if (h.upgrade) {
      raw_in = str(h.tail);
      upgrade_head = str(raw);
    }
    r.is_head = h.is_head;
    r.minor = h.version_minor;
    r.held = h.continue_held;
    if (h.continue_held)
      CHECK(check_continue && h.expect_continue && h.body != BodyKind::None && h.version_minor == 1,
            "held without checkContinue, Expect: 100-continue, a body and HTTP/1.1");
    r.closes = closes;
    r.has_body = h.body != BodyKind::None;
    body_seq = -1;
    reqs.push_back(r);
    if (closes) stop_dispatch = true;
    if (r.has_body) body_seq = static_cast<int>(seq);
    CHECK(c.requests() == reqs.size(), "requests() counts dispatched requests");
  }
  void on_body(Connection&, uint32_t seq, Slice data) override {
    CHECK(static_cast<int>(seq) == body_seq, "body for request " + std::to_string(seq));
    CHECK(!reqs[seq].held || reqs[seq].released, "body of a held request before its 100 or final head");
    CHECK(data.len > 0, "no empty body events");
    volatile char sink = data.p[0] ^ data.p[data.len - 1];
    (void)sink;
  }
  void on_body_end(Connection&, uint32_t seq, const Header*, uint32_t) override {
    CHECK(static_cast<int>(seq) == body_seq, "body end for request " + std::to_string(seq));
    reqs[seq].body_ended = true;
    body_seq = -1;
  }
  void on_client_error(Connection&, HttpError e) override {
    CHECK(e != HttpError::None, "client error None");
    errors.push_back(e);
    body_seq = -1;  // a failed body gets no end event
  }
  void on_raw(Connection&, Slice data) override {
    CHECK(raw_seq >= 0 && !raw_ended, "passthrough bytes without an accepted upgrade, or after its end");
    CHECK(data.len > 0, "no empty raw events");
    raw_in += str(data);
  }
  void on_raw_end(Connection&) override {
    CHECK(raw_seq >= 0 && !raw_ended, "passthrough end without an accepted upgrade, or twice");
    raw_ended = true;
  }
  bool check_continue = false;
  int raw_seq = -1;          // the accepted upgrade
  bool raw_ended = false;    // on_raw_end came
  std::string raw_in;        // its tail, then every Raw byte
  std::string upgrade_head;  // the raw head of the last upgradable request
};

ConnConfig make_config(fuzz::Rng& rng) {
  ConnConfig cfg = default_config();
  cfg.allow_half_open = rng.chance(2);         // off: a FIN with responses owed drops them (a cut, see call())
  cfg.check_continue = rng.chance(2) ? 1 : 0;  // 'checkContinue' listened for: Expect: 100-continue bodies are held
  if (rng.chance(2)) return cfg;               // the defaults
  cfg.limits.max_header_size = 64 + rng.below(512);
  cfg.limits.max_request_line = 16 + rng.below(256);
  cfg.limits.max_headers = 1 + rng.below(8);
  cfg.limits.max_chunk_line = 4 + rng.below(32);
  cfg.limits.max_trailer_size = 8 + rng.below(128);
  cfg.keep_alive_timeout_ms = rng.below(4) * 50;
  cfg.headers_timeout_ms = rng.below(4) * 80;
  cfg.request_timeout_ms = rng.below(4) * 120;
  cfg.max_requests_per_socket = rng.below(5);
  cfg.drain_limit = rng.below(64);
  cfg.max_pipeline = 1 + rng.below(4);
  cfg.linger_ms = 1 + rng.below(100);
  cfg.send_timeout_ms = rng.below(4) * 100;
  return cfg;
}

class Harness {
 public:
  Harness(const uint8_t* data, size_t size)
      : data_(data),
        size_(size),
        rng_(fuzz::seed_from(data, size, 2)),
        cfg_(make_config(rng_)),
        conn_(cfg_, sink_, now_) {
    sink_.check_continue = cfg_.check_continue != 0;
  }

  void run() {
    for (int steps = 0; steps < 4000 && !conn_.done(); ++steps) step();
    finish();
    verify_output();
  }

 private:
  void step() {
    check_idle();
    switch (rng_.below(16)) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4: read(); break;
      case 5:
      case 6:
      case 7:
      case 8: respond(false); break;
      case 9:
      case 10:
      case 11: write_out(false); break;
      case 12:
      case 13: advance(false); break;
      case 14:
        if (conn_.reading_body()) {
          paused_ = !paused_;
          call([&] { conn_.set_body_paused(paused_, now_); });
        }
        break;
      case 15:
        if (rng_.chance(64)) {
          call([&] { conn_.begin_shutdown(now_); });
          sink_.stop_dispatch = true;
        } else if (rng_.chance(64) && conn_.idle()) {
          call([&] { conn_.force_close(CloseReason::Evicted); });
        } else if (!eof_ && pos_ > 0 && rng_.chance(32)) {
          eof();  // the client gives up early, maybe mid-head or mid-body
        }
        break;
    }
  }

  // Every call into the core goes through here: when one drops pending bytes, or closes the connection while a
  // response has started and not ended, output was discarded on purpose (force_close) and a cut last response is
  // expected. A graceful close (close_after_output) never happens with a response under way.
  template <class F>
  void call(F&& f) {
    const bool open = conn_.close_reason() == CloseReason::Count;
    const size_t pending = conn_.out_size();
    f();
    if (pending > 0 && conn_.out_size() == 0) cut_ = true;  // nothing here writes: the bytes were dropped
    if (!open || conn_.close_reason() == CloseReason::Count) return;
    for (const Request& r : sink_.reqs) cut_ = cut_ || (r.head_sent && !r.done);
  }

  void read() {
    if (eof_ || !conn_.wants_read()) return;
    if (pos_ == size_) {
      eof();
      return;
    }
    size_t avail = 0;
    char* space = conn_.read_space(&avail);
    CHECK(avail > 0, "read_space gives room");
    size_t n = rng_.chance(4) ? size_ - pos_ : 1 + rng_.below(rng_.chance(2) ? 8 : 200);
    n = std::min({n, size_ - pos_, avail});
    std::memcpy(space, data_ + pos_, n);
    pos_ += n;
    call([&] { conn_.on_read(n, now_); });
  }

  void eof() {
    if (eof_) return;
    eof_ = true;
    call([&] { conn_.on_eof(now_); });
  }

  // The handler takes one step on one unfinished request (any of them: async handlers answer out of order).
  void respond(bool all) {
    std::vector<uint32_t> open;
    for (uint32_t i = 0; i < sink_.reqs.size(); ++i)
      if (!sink_.reqs[i].done) open.push_back(i);
    if (open.empty()) return;
    const uint32_t seq = all ? open.front() : open[rng_.below(static_cast<uint32_t>(open.size()))];
    Request& r = sink_.reqs[seq];
    if (!r.planned) plan(r, seq);
    if (r.upgradable && !r.decided) {
      // lib/ decides at once, before anything else for this request.
      ResponseCmd up;
      up.seq = seq;
      up.kind = ResponseCmd::kUpgrade;
      up.status = rng_.chance(2) ? 1 : 0;
      r.decided = true;
      r.upgraded = up.status == 1;
      const bool accepted = r.upgraded;  // declined, parsing resumes: sink_.reqs may grow and move `r`
      if (accepted) sink_.raw_seq = static_cast<int>(seq);
      call([&] { conn_.on_response(up, now_); });
      if (accepted && conn_.close_reason() == CloseReason::Count) CHECK(conn_.upgraded(), "accepted but not upgraded");
      return;
    }
    if (r.upgraded) {
      ResponseCmd cmd;
      cmd.seq = seq;
      if (r.mode == Request::AbortBefore && rng_.chance(4)) {
        cmd.kind = ResponseCmd::kAbort;
        r.done = r.aborted = true;
      } else {
        cmd.kind = ResponseCmd::kRaw;
        cmd.data = "<" + std::to_string(seq) + ":" + std::to_string(r.raw_out.size()) + ">";
        if (all || rng_.chance(4)) {
          cmd.kind |= ResponseCmd::kEnd;
          r.done = true;
        }
        r.raw_out += cmd.data;
      }
      call([&] { conn_.on_response(cmd, now_); });
      return;
    }
    // Interim responses before the head (writeContinue, writeProcessing, writeEarlyHints), some of them invalid
    // (101, 200: dropped); a held body gets its 100 now and then.
    if (!r.head_sent && !all && (rng_.chance(8) || (r.held && !r.released && rng_.chance(2)))) {
      static const uint16_t kStatus[] = {100, 100, 102, 103, 199, 101, 200};
      ResponseCmd im;
      im.seq = seq;
      im.kind = ResponseCmd::kInterim;
      im.status = r.held && !r.released ? 100 : kStatus[rng_.below(7)];
      im.fields = "X-Interim: " + std::to_string(seq) + "\r\n";
      if (im.status == 100) r.released = true;
      call([&] { conn_.on_response(im, now_); });
      return;
    }
    // Usually wait for the request body before answering, as most handlers do; sometimes answer early.
    if (!all && r.has_body && !r.body_ended && !rng_.chance(4)) return;

    ResponseCmd cmd;
    cmd.seq = seq;
    if (r.mode == Request::AbortBefore || (r.mode == Request::AbortAfter && r.head_sent)) {
      // A failed handler after its head ends like an abort (the started response is cut); before it, the 500.
      cmd.kind = r.fail ? ResponseCmd::kFail : ResponseCmd::kAbort;
      r.done = true;
      if (r.fail && !r.head_sent) r.failed = true;
      else r.aborted = true;
      call([&] { conn_.on_response(cmd, now_); });
      return;
    }
    if (!r.head_sent) {
      cmd.kind = ResponseCmd::kHead;
      cmd.status = r.status;
      cmd.fields = "X-Seq: " + std::to_string(seq) + "\r\n";
      if (r.close_field) {
        cmd.fields += "Connection: close\r\n";
        cmd.user_fields |= kUserConnection;
        cmd.response_tokens = kConnClose;
      }
      if (r.mode == Request::LengthStream) {
        cmd.content_length = static_cast<int64_t>(r.body.size());
        if (r.user_length) {
          cmd.fields += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
          cmd.user_fields |= kUserContentLength;
        }
      }
      if (rng_.chance(8)) cmd.reason = "Fuzzy Reason";
      r.head_sent = true;
      r.released = true;
    }
    size_t n = r.body.size() - r.sent;
    if (r.mode != Request::Whole && !all && n > 0) n = rng_.below(static_cast<uint32_t>(n) + 1);
    if (n > 0) {
      cmd.kind |= ResponseCmd::kData;
      cmd.data = r.body.substr(r.sent, n);
      r.sent += n;
    }
    if (r.sent == r.body.size() && r.mode != Request::AbortAfter &&
        (all || r.mode == Request::Whole || rng_.chance(2))) {
      cmd.kind |= ResponseCmd::kEnd;
      r.done = true;
      // res.addTrailers(): lib/ sends them with an end that carries no head (endWithTrailers).
      if (!(cmd.kind & ResponseCmd::kHead) && rng_.chance(2)) {
        cmd.kind |= ResponseCmd::kTrailers;
        cmd.fields = "X-Trailer: " + std::to_string(seq) + "\r\n";
        if (rng_.chance(2)) cmd.fields += "X-More: m\r\n";
        r.trailers = cmd.fields;
      }
    }
    if (cmd.kind == 0) return;  // addon.cc sends nothing for an empty write
    call([&] { conn_.on_response(cmd, now_); });
  }

  void plan(Request& r, uint32_t seq) {
    r.planned = true;
    const uint32_t m = rng_.below(16);
    r.mode = m < 8    ? Request::Whole
             : m < 11 ? Request::Stream
             : m < 14 ? Request::LengthStream
             : m < 15 ? Request::AbortBefore
                      : Request::AbortAfter;
    static const uint16_t kStatus[] = {200, 200, 200, 201, 204, 304, 404, 500};
    r.status = kStatus[rng_.below(8)];
    r.close_field = rng_.chance(8);
    r.user_length = rng_.chance(2);
    r.fail = rng_.chance(2);
    const uint32_t len = rng_.chance(8) ? rng_.below(5000) : rng_.below(40);
    r.body.resize(len);
    for (uint32_t i = 0; i < len; ++i) r.body[i] = static_cast<char>('a' + (seq * 7 + i) % 26);
  }

  // The driver writes some (or all) of the pending output.
  void write_out(bool all) {
    const size_t n = conn_.out_size();
    if (n == 0) return;
    size_t k = all || rng_.chance(2) ? n : 1 + rng_.below(static_cast<uint32_t>(std::min<size_t>(n, 1u << 20)));
    wire_.append(conn_.out_data(), k);
    conn_.out_consumed(k, now_);
  }

  void advance(bool past_deadline) {
    const uint64_t d = conn_.deadline();
    if (past_deadline && d != UINT64_MAX) {
      now_ = std::max(now_, d);
    } else {
      now_ += rng_.chance(8) ? rng_.below(400) : rng_.below(10);
      if (rng_.chance(64)) now_ += 70000;
    }
    // Drivers also call on_timer early (the blocking one on every recv timeout): it must be a no-op then.
    if (now_ >= d || rng_.chance(4)) call([&] { conn_.on_timer(now_); });
  }

  void check_idle() {
    if (!conn_.idle()) return;
    for (const Request& r : sink_.reqs) CHECK(r.done, "idle() while a request is unanswered (eviction would drop it)");
  }

  // The client has sent everything (or gave up): answer every request, write everything, let time pass.
  void finish() {
    for (int i = 0; i < 10000 && !conn_.done(); ++i) {
      if (paused_) {
        paused_ = false;
        call([&] { conn_.set_body_paused(false, now_); });
      }
      if (!eof_ && pos_ < size_ && conn_.wants_read()) {
        read();
      } else if (!eof_) {
        eof();
      }
      respond(true);
      write_out(true);
      if (i > 100) advance(true);
    }
    CHECK(conn_.done(), "the connection never finished after EOF:\n" + dump());
    if (sink_.raw_seq >= 0) {
      // Every byte the client sent after the upgradable head reached JS once, in order (a prefix if closed early).
      const std::string sent(reinterpret_cast<const char*>(data_), pos_);
      CHECK(sent.find(sink_.upgrade_head + sink_.raw_in) != std::string::npos, "passthrough input bytes\n" + dump());
    }
    write_out(true);
    CHECK(conn_.out_size() == 0, "output left after done()");
  }

  std::string dump() {
    std::string s = "requests " + std::to_string(sink_.reqs.size()) + ", errors " +
                    std::to_string(sink_.errors.size()) + ", close reason " +
                    std::to_string(static_cast<int>(conn_.close_reason())) + "\ninput:\n" +
                    check::escape(reinterpret_cast<const char*>(data_), size_, 1500, true) + "\noutput:\n" +
                    check::escape(wire_.data(), wire_.size(), 3000, true);
    return s;
  }

  // ---- the bytes the client received ----

  struct Resp {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> fields;
    size_t head_end = 0;
    std::string field(const std::string& lname) const {
      for (auto& f : fields) {
        std::string n = f.first;
        for (char& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (n == lname) return f.second;
      }
      return std::string("\x01");  // absent
    }
  };

  // Parses a response head at wire_[i]; false if the bytes end first.
  bool parse_head(size_t i, Resp* r) {
    const size_t end = wire_.find("\r\n\r\n", i);
    if (end == std::string::npos) return false;
    const std::string head = wire_.substr(i, end + 2 - i);
    CHECK(head.compare(0, 9, "HTTP/1.1 ") == 0 && head.size() > 12,
          "status line at " + std::to_string(i) + "\n" + dump());
    r->status = std::atoi(head.c_str() + 9);
    size_t line = head.find("\r\n") + 2;
    while (line < head.size()) {
      size_t eol = head.find("\r\n", line);
      size_t colon = head.find(':', line);
      CHECK(colon != std::string::npos && colon < eol, "field line in a response head\n" + dump());
      size_t v = colon + 1;
      while (v < eol && head[v] == ' ') ++v;
      r->fields.emplace_back(head.substr(line, colon - line), head.substr(v, eol - v));
      line = eol + 2;
    }
    r->head_end = end + 4;
    return true;
  }

  void verify_output() {
    size_t i = 0;
    uint32_t next_seq = 0;
    bool must_end = false;
    // The core closed at once with output owed (force_close: eviction, a send stall, a request timeout or a body
    // error once the response had started, ...): the last response may be cut short, and only the last.
    const bool may_cut = cut_;
    while (i < wire_.size()) {
      CHECK(!must_end, "bytes after a closing response at " + std::to_string(i) + "\n" + dump());
      if (sink_.raw_seq >= 0 && next_seq == static_cast<uint32_t>(sink_.raw_seq)) {
        // The passthrough: exactly what the handler wrote (a prefix when cut), and nothing after it.
        const Request& u = sink_.reqs[next_seq];
        const std::string got = wire_.substr(i);
        CHECK(got == u.raw_out || ((may_cut || u.aborted) && u.raw_out.compare(0, got.size(), got) == 0),
              "passthrough bytes\n" + dump());
        return;
      }
      Resp r;
      if (!parse_head(i, &r)) {
        CHECK(may_cut || last_aborted(next_seq), "output ends inside a response head\n" + dump());
        return;
      }
      if (r.status >= 100 && r.status < 200) {
        // An interim response: the automatic 100 (no fields), or one the handler sent for the request whose
        // response is due, before its head, never 101, never to HTTP/1.0, one 100 per request at most.
        CHECK(r.status != 101, "101 as an interim response\n" + dump());
        const std::string xi = r.field("x-interim");
        const uint32_t for_seq = xi == "\x01" ? next_seq : static_cast<uint32_t>(std::stoul(xi));
        if (xi == "\x01") CHECK(r.status == 100 && r.fields.empty(), "an automatic interim response is a bare 100");
        CHECK(for_seq == next_seq && for_seq < sink_.reqs.size(),
              "interim response for request " + xi + " where " + std::to_string(next_seq) + " is due\n" + dump());
        CHECK(sink_.reqs[for_seq].minor == 1, "an interim response to HTTP/1.0\n" + dump());
        if (r.status == 100) {
          CHECK(last_100 != static_cast<int>(for_seq), "a second 100 Continue\n" + dump());
          last_100 = static_cast<int>(for_seq);
        }
        i = r.head_end;
        continue;
      }
      const std::string xseq = r.field("x-seq");
      if (xseq == "\x01" && next_seq < sink_.reqs.size() && sink_.reqs[next_seq].failed) {
        // The handler failed before its head: the ready-made 500 in its turn (head only to HEAD), the last bytes.
        // (Unless the request was dropped first, by a client error in its body: then that error's response.)
        const std::string_view want = sink_.reqs[next_seq].is_head ? error_response_head(HttpError::InternalError)
                                                                   : error_response(HttpError::InternalError);
        const std::string_view got = std::string_view(wire_).substr(i);
        if (got == want || (may_cut && want.substr(0, got.size()) == got)) return;
      }
      if (xseq == "\x01") {
        // A ready-made error response: exactly the bytes of the last client error, then nothing; to a refused HEAD
        // request, its head only (the HEAD rule: no body bytes after the head).
        CHECK(!sink_.errors.empty(), "an error response without on_client_error\n" + dump());
        const std::string_view want = error_response(sink_.errors.back());
        const std::string_view want_head = error_response_head(sink_.errors.back());
        const std::string_view got = std::string_view(wire_).substr(i);
        CHECK(got == want || got == want_head || (may_cut && want.substr(0, got.size()) == got),
              "error response bytes\n" + dump());
        return;
      }
      const uint32_t seq = static_cast<uint32_t>(std::stoul(xseq));
      CHECK(seq == next_seq,
            "response " + std::to_string(seq) + " where " + std::to_string(next_seq) + " was due\n" + dump());
      CHECK(seq < sink_.reqs.size(), "response to an unknown request");
      const Request& q = sink_.reqs[seq];
      ++next_seq;
      CHECK(!q.upgraded, "a response head for an upgraded request\n" + dump());
      CHECK(q.head_sent && r.status == q.status, "status of response " + xseq + "\n" + dump());
      CHECK(r.field("date") != "\x01", "Date in response " + xseq);
      const bool close = r.field("connection").find("close") != std::string::npos;
      const std::string te = r.field("transfer-encoding");
      const std::string cl = r.field("content-length");
      if (q.closes || q.close_field) CHECK(close, "response " + xseq + " to a closing request says close\n" + dump());
      if (q.minor == 0) CHECK(te == "\x01", "no Transfer-Encoding to HTTP/1.0\n" + dump());
      if (close) must_end = true;
      i = r.head_end;
      std::string body;
      bool complete = true;
      if (q.is_head || r.status == 204 || r.status == 304) {
        // no body bytes
      } else if (te != "\x01") {
        CHECK(te == "chunked", "Transfer-Encoding: chunked");
        std::string trailers;
        complete = read_chunked(&i, &body, &trailers);
        if (complete) CHECK(trailers == q.trailers, "trailers of response " + xseq + "\n" + dump());
      } else if (cl != "\x01") {
        const size_t n = std::stoul(cl);
        CHECK(n == q.body.size(), "Content-Length of response " + xseq + "\n" + dump());
        body = wire_.substr(i, n);
        complete = body.size() == n;
        i += body.size();
      } else {
        CHECK(close, "a close-delimited response says Connection: close\n" + dump());
        body = wire_.substr(i);
        i = wire_.size();
        complete = q.done && !q.aborted && !may_cut;
      }
      const std::string& want = q.body;
      if (complete && !q.aborted && !(q.is_head || r.status == 204 || r.status == 304)) {
        CHECK(body == want, "body of response " + xseq + "\n" + dump());
      } else {
        CHECK(want.compare(0, body.size(), body) == 0, "body prefix of response " + xseq + "\n" + dump());
      }
      if (!complete) {
        CHECK(q.aborted || may_cut, "response " + xseq + " cut short\n" + dump());
        CHECK(i == wire_.size(), "bytes after a cut response\n" + dump());
      }
    }
  }

  bool last_aborted(uint32_t seq) const { return seq < sink_.reqs.size() && sink_.reqs[seq].aborted; }

  // Chunked body at *i and the trailer lines after its last chunk; false if the output ends before the end.
  bool read_chunked(size_t* i, std::string* body, std::string* trailers) {
    for (;;) {
      const size_t eol = wire_.find("\r\n", *i);
      if (eol == std::string::npos) {
        *i = wire_.size();  // cut inside a chunk-size line
        return false;
      }
      const std::string line = wire_.substr(*i, eol - *i);
      CHECK(!line.empty() && line.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos,
            "chunk size line '" + line + "'\n" + dump());
      const size_t n = std::stoul(line, nullptr, 16);
      *i = eol + 2;
      if (n == 0) {
        const size_t end = wire_.find("\r\n\r\n", *i - 2);
        if (end == std::string::npos) {
          *i = wire_.size();
          return false;
        }
        *trailers = wire_.substr(*i, end + 2 - *i);
        *i = end + 4;
        return true;
      }
      CHECK(n > 0, "no empty chunk before the last");
      body->append(wire_, *i, n);
      if (wire_.size() < *i + n + 2) {
        *i = wire_.size();
        return false;
      }
      *i += n;
      CHECK(wire_.compare(*i, 2, "\r\n") == 0, "CRLF after chunk data\n" + dump());
      *i += 2;
    }
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  fuzz::Rng rng_;
  ConnConfig cfg_;
  Sink sink_;
  uint64_t now_ = 1000;
  Connection conn_;
  bool eof_ = false;
  bool cut_ = false;  // the connection closed while output was owed (see call())
  int last_100 = -1;  // the request the last 100 Continue was for
  bool paused_ = false;
  std::string wire_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Harness h(data, size);
  h.run();
  return 0;
}
