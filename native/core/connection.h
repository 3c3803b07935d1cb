// The per-connection state machine shared by every I/O model: bytes read in, events for JS and bytes to write
// out, deadlines, the keep-alive decision and pipelining. No sockets and no threads: a driver (blocking thread,
// event loop) owns one Connection, feeds it and carries out what it asks for.
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include "parser.h"
#include "pending_queue.h"
#include "response.h"

namespace nova {

// The first group are options: the driver sets every one from JS (lib/options.ts has their defaults and nothing
// here repeats them). The deadlines, maxRequestsPerSocket and check_continue are LiveU32: server.configure() changes
// them on a listening server, and connections see the new values at their next event. The second group is fixed here.
struct ConnConfig {
  ParserLimits limits;
  LiveU32 keep_alive_timeout_ms;    // 0 = off
  LiveU32 headers_timeout_ms;       // 0 = off
  LiveU32 request_timeout_ms;       // 0 = off
  LiveU32 max_requests_per_socket;  // 0 = unlimited
  // A FIN while a response is owed means the client left (false: the pending work is dropped and JS hears of it at
  // once, as node:http does by default), or that it half-closed and still waits for the answer (true).
  bool allow_half_open = false;
  // JS listens for 'checkContinue' (1; changed on a listening server when the listener comes or goes): a request
  // with Expect: 100-continue and a body gets no automatic 100 Continue, and its body is neither decoded nor
  // delivered until JS sends the 100 (an interim response) or its final response head. 0: the 100 goes out at once.
  LiveU32 check_continue = 0;
  // Output queued on this connection (written or waiting behind an earlier response) at or above which nothing
  // more is read or parsed: a client that pipelines requests and reads no answers is held to this much (plus the
  // responses to requests already dispatched). JS's write() says false at the same mark (highWaterMark).
  uint32_t high_water = 0;

  uint32_t drain_limit = 64 * 1024;  // an unread request body up to this size is drained, beyond it we close
  uint32_t max_pipeline = 32;        // requests dispatched but not answered before reading stops
  uint32_t linger_ms = 2000;         // graceful close: how long to discard input after the last byte out
  uint32_t send_timeout_ms = 60000;  // a client that reads nothing for this long while we write is dropped
};

// Why a connection ended; the order is the one of lib/contract.ts closeReasons.
enum class CloseReason : uint8_t {
  Client,
  IdleTimeout,
  HeadersTimeout,
  RequestTimeout,
  ParseError,
  Evicted,
  Cap,
  Shutdown,
  MaxRequests,
  Response,
  Error,
  Count
};

class Connection;

// Where a connection's events go (the driver forwards them to JS). Slices are valid only during the call.
class ConnSink {
 public:
  virtual ~ConnSink() = default;
  // raw: the head's bytes (request line to the final CRLF); every Slice in head points into it.
  virtual void on_request(Connection& c, uint32_t seq, const RequestHead& head, Slice raw, bool closes) = 0;
  virtual void on_body(Connection& c, uint32_t seq, Slice data) = 0;
  virtual void on_body_end(Connection& c, uint32_t seq, const Header* trailers, uint32_t trailer_count) = 0;
  virtual void on_client_error(Connection& c, HttpError e) = 0;
  // Passthrough (an accepted upgrade or CONNECT): the client's bytes as they come, then its end of stream.
  virtual void on_raw(Connection& c, Slice data) = 0;
  virtual void on_raw_end(Connection& c) = 0;
};

// One response command from JS, already routed to this connection.
// kUpgrade answers a request dispatched with head.upgrade: status 1 switches the connection to passthrough, 0
// serves it as an ordinary request. kRaw (passthrough only) writes `data` verbatim; with kEnd, it is the last.
struct ResponseCmd {
  // kFail: the handler failed. Before its head went out: the ready-made 500, then close; after: as kAbort.
  // kTrailers (with kEnd, never with kHead): `fields` holds the trailer field lines ("Name: value\r\n"...,
  // validated by JS), sent after the last chunk of a chunked response and dropped for any other framing.
  // kInterim (alone): a 1xx interim response (`status` 100..199 but 101, `reason`, `fields`) before the final head
  // of request `seq`; dropped once that head has started, for an HTTP/1.0 request, or for any other status. A 100
  // releases a body held for JS (ConnConfig::check_continue).
  enum Kind : uint16_t {
    kHead = 1,
    kData = 2,
    kEnd = 4,
    kAbort = 8,
    kUpgrade = 16,
    kRaw = 32,
    kFail = 64,
    kTrailers = 128,
    kInterim = 256,
  };
  uint32_t seq = 0;
  uint16_t kind = 0;
  uint16_t status = 200;
  uint8_t user_fields = 0;
  uint8_t response_tokens = 0;
  int64_t content_length = -1;  // -1: unknown
  std::string reason;
  std::string fields;
  std::string data;
};

class Connection {
 public:
  Connection(const ConnConfig& cfg, ConnSink& sink, uint64_t now_ms);

  uint64_t id = 0;       // driver-assigned, for the sink
  void* user = nullptr;  // driver-owned

  // ---- input
  // Space to recv() into: at least `min` bytes (the buffer grows as a head or chunk line needs it).
  char* read_space(size_t* avail);
  // n bytes were written into read_space(); parses every complete request they finish.
  void on_read(size_t n, uint64_t now_ms);
  // The peer sent FIN: requests already complete still get their responses, then we close.
  void on_eof(uint64_t now_ms);
  // Apply a deadline that passed (the driver calls it when now >= deadline()).
  void on_timer(uint64_t now_ms);

  // ---- from JS
  void on_response(ResponseCmd& cmd, uint64_t now_ms);
  // JS body flow control: while paused, body bytes stay in the buffer and reading stops.
  void set_body_paused(bool paused, uint64_t now_ms);
  // Shutdown: later responses say Connection: close, and an idle connection closes now.
  void begin_shutdown(uint64_t now_ms);
  // Refuse the connection before any request (the cap with nothing idle): the error response, then linger.
  void refuse(HttpError e, CloseReason r) { reject(e, r); }
  // Close now, whatever is pending (closeAllConnections, eviction, socket error).
  void force_close(CloseReason r);

  // ---- output: the driver writes out_[out_pos_..] and reports how much went out.
  const char* out_data() const { return out_.data() + out_pos_; }
  size_t out_size() const { return out_.size() - out_pos_; }
  void out_consumed(size_t n, uint64_t now_ms);
  // Everything this connection still has to write, including responses waiting behind an earlier one:
  // what JS's backpressure (write() returning false) is measured against.
  size_t queued_bytes() const;

  // ---- what the driver should do next
  // Reading is useful now: not paused by body flow control, pipeline below the cap, output below the high-water
  // mark, no more input buffered than a head can use, not closing.
  bool wants_read() const;
  // Bytes received and not yet parsed. Between requests this is at most input_limit() plus one read: reading
  // stops at that limit (a head can't be larger) and resumes once the pipeline takes them.
  size_t buffered_input() const { return in_end_ - in_start_; }
  size_t input_limit() const;
  // All output written and nothing more will come: close (gracefully when linger() says so).
  bool done() const { return close_reason_ != CloseReason::Count && out_size() == 0 && closing_now_; }
  // Graceful close: shut the write side, discard input until EOF or linger_ms, then close.
  bool linger() const { return linger_; }
  // The close is the client's own (it asked for it) and it had sent nothing more: its last request was complete
  // and nothing was received after it. It must send nothing more (RFC 9112 section 9.6); a driver that sees no
  // more input may close without the staged close that linger() asks for.
  bool client_finished() const { return client_finished_; }
  CloseReason close_reason() const { return close_reason_; }
  // A large output buffer was freed since the last call (the driver may give the memory back to the system).
  bool take_freed_large() {
    const bool f = freed_large_;
    freed_large_ = false;
    return f;
  }
  // Gives the read buffer and field array back to the thread's pool when nothing is buffered, and frees a large
  // written-out output buffer (call when idle).
  void trim();
  // Buffer bytes this connection holds: the capacities of its read buffer, field array, output and the output
  // of responses waiting behind the front (what the per-connection bound of docs/architecture.md counts).
  size_t held_bytes() const;
  // Idle: between requests with nothing buffered and nothing owed (eligible for eviction / closeIdle).
  bool idle() const;
  // The pipeline is empty (no request waiting for JS) or the front request's body is still arriving.
  bool reading_phase() const;
  // Some dispatched request still waits for its response.
  bool awaiting_js() const { return !pipeline_.empty(); }
  // Bytes for JS are arriving: a request body (not being drained) or passthrough bytes.
  bool reading_body() const {
    return (state_ == ReadState::Body && !body_discard_) || state_ == ReadState::Passthrough;
  }
  // The connection was handed to JS (upgrade, CONNECT): bytes pass through both ways, nothing is parsed.
  bool upgraded() const { return state_ == ReadState::Passthrough; }
  // Passthrough: JS ended its side and all of it is written; the driver shuts the write side (FIN) once and calls
  // write_shut(). The connection closes when the client ends its side too (its bytes until then still reach JS).
  bool wants_write_shutdown() const;
  void write_shut() { write_shut_ = true; }
  // Earliest deadline in ms (UINT64_MAX: none).
  uint64_t deadline() const;
  uint32_t requests() const { return next_seq_; }

 private:
  struct Pending {
    uint32_t seq;
    uint8_t version_minor;
    uint8_t request_tokens;
    bool is_head;
    bool closes;           // the request asked to close
    bool last = false;     // maxRequestsPerSocket reached with this request
    bool aborted = false;  // the handler failed after its head went out
    bool head_sent = false;
    bool ended = false;
    bool keep_alive = true;
    bool body_done = true;       // its request body fully parsed
    bool upgradable = false;     // dispatched with head.upgrade: JS decides whether it switches protocols
    bool upgraded = false;       // JS accepted: this entry stands for the passthrough until JS ends or aborts it
    bool raw_ended = false;      // JS ended its side of the passthrough
    bool continue_held = false;  // its body waits for JS's 100 Continue or final head (ConnConfig::check_continue)
    bool sent_100 = false;       // a 100 Continue went out for it (automatic or JS's)
    Framing framing = Framing::Length;
    uint64_t body_left = 0;  // Length framing: body bytes the head announced and not yet given
    std::string out;         // output produced while an earlier response is unfinished
  };
  // Held: an upgradable request was dispatched; nothing after its head is parsed (or read) until JS says whether
  // it switches protocols. Passthrough: it did; every byte goes to JS as it is.
  enum class ReadState : uint8_t { Head, Body, Stopped, Held, Passthrough };

  void parse();
  void pass_through();
  void both_ends_done();
  void on_upgrade(Pending& p, bool accept);
  void respond(ResponseCmd& cmd, uint64_t now_ms);
  void on_interim(Pending& p, const ResponseCmd& cmd);
  bool parse_head();
  bool parse_body();
  void request_parsed();
  void reject(HttpError e, CloseReason r);
  void emit_pending_error();
  bool refused_is_head() const;
  Pending* find(uint32_t seq);
  std::string& sink_for(Pending& p);
  // out_, with a buffer from the thread's pool if it has none (trim() gives written-out ones back).
  std::string& out_buf();
  void finish_front();
  void close_after_output(CloseReason r, bool linger);
  void compact();
  bool output_full() const { return queued_bytes() >= cfg_.high_water; }
  uint64_t send_deadline() const;

  const ConnConfig& cfg_;
  ConnSink& sink_;
  std::vector<char> in_;
  size_t in_start_ = 0;  // first unconsumed byte
  size_t in_end_ = 0;    // end of received bytes
  size_t scanned_ = 0;
  std::vector<Header> headers_;
  BodyDecoder body_;
  uint32_t body_seq_ = 0;
  bool body_discard_ = false;   // the response ended: drop the rest of the body instead of sending it to JS
  bool continue_held_ = false;  // the arriving body (body_seq_) waits for JS: 100 Continue not sent yet
  bool resume_parse_ = false;   // a final head released a held body: parse once the command is applied
  uint64_t body_discarded_ = 0;
  ReadState state_ = ReadState::Head;
  PendingQueue<Pending> pipeline_;  // most connections have one request in flight: it lives inline
  // Some entry behind the front may hold output (sink_for gave out its buffer); false: all of theirs are empty.
  mutable bool behind_out_ = false;
  uint32_t next_seq_ = 0;
  std::string out_;
  size_t out_pos_ = 0;
  bool body_paused_ = false;
  bool shutting_down_ = false;
  bool eof_ = false;
  bool closing_now_ = false;  // set when the last byte to write has been produced
  bool linger_ = false;
  bool client_finished_ = false;
  bool stopped_clean_ = false;  // reading stopped after a closing request with nothing received after it
  CloseReason close_reason_ = CloseReason::Count;
  uint64_t now_ = 0;
  uint64_t out_progress_ms_ = 0;
  bool freed_large_ = false;                   // last time output was produced into an empty buffer or written
  uint64_t head_start_ms_;                     // start of the current head (headersTimeout)
  uint64_t request_start_ms_ = 0;              // start of the request whose body is arriving (requestTimeout)
  bool last_closes_ = false;                   // the last parsed request ends the connection
  HttpError pending_error_ = HttpError::None;  // refused request, answered once earlier responses are out
  CloseReason pending_error_reason_ = CloseReason::ParseError;
  bool pending_error_head_ = false;  // the refused request is a HEAD: its ready-made answer has no body
  uint64_t idle_since_ms_;
  bool head_started_ = true;   // the first request's clock runs from accept
  uint32_t held_seq_ = 0;      // the request that holds the connection (ReadState::Held)
  size_t held_bytes_ = 0;      // bytes after its head that JS got with it (the `head` of 'upgrade')
  bool raw_end_sent_ = false;  // passthrough: on_raw_end was reported
  bool write_shut_ = false;    // passthrough: the driver sent our FIN
};

}  // namespace nova
