// The per-connection state machine (see connection.h): parsing, pipelining, response ordering, the keep-alive
// decision at the moment a response head is written, deadlines and the choice of how to close.
#include "connection.h"
#include <cstring>
#include "http_errors.h"
#include "keep_alive.h"

namespace nova {

namespace {
constexpr size_t kInitialBuffer = 16 * 1024;
constexpr size_t kMinReadSpace = 4 * 1024;
constexpr size_t kTrimAbove = 1024 * 1024;     // a freed output buffer this large asks the driver to trim malloc
constexpr size_t kIdleOutputKeep = 16 * 1024;  // output capacity a connection keeps once written out (trim())
constexpr uint64_t kNever = UINT64_MAX;
}  // namespace

// The read buffer and the field array are taken by the first read_space(), not here, and given back by trim()
// whenever the connection is idle: a connection that never sends a byte (10,000 abandoned sockets) or sits idle
// between requests (keep-alive) holds a few hundred bytes instead of ~19 KiB.
Connection::Connection(const ConnConfig& cfg, ConnSink& sink, uint64_t now_ms)
    : cfg_(cfg), sink_(sink), head_start_ms_(now_ms), idle_since_ms_(now_ms) {}

namespace {
// Idle connections' buffers, per thread (a loop thread's connections share its pool), so that a connection going
// idle and busy again between every request (keep-alive under load) costs no allocation.
// Written-out output buffers too (a hello world's is ~200 bytes: kept by every idle connection before), up to
// kOutKeepBytes of capacity in all: more connections can be answered in one turn than kKeep.
struct BufferPool {
  static constexpr size_t kKeep = 64;
  static constexpr size_t kOutKeepBytes = 256 * 1024;
  std::vector<std::vector<char>> in;
  std::vector<std::vector<Header>> fields;
  std::vector<std::string> out;
  size_t out_bytes = 0;
};
thread_local BufferPool t_pool;
constexpr size_t kSsoCapacity = sizeof(std::string) - 1;  // at most this: no heap block (nothing to pool)
}  // namespace

std::string& Connection::out_buf() {
  if (out_.empty() && out_.capacity() <= kSsoCapacity && !t_pool.out.empty()) {
    t_pool.out_bytes -= t_pool.out.back().capacity();
    out_.swap(t_pool.out.back());  // out_ is empty: the pool gets an empty string back, dropped below
    t_pool.out.pop_back();
  }
  return out_;
}

void Connection::trim() {
  // An empty output buffer goes back to the thread's pool (a large one is freed: it keeps up to the high-water
  // mark of capacity while answers are being written, which 1,000 connections held on to, ~38 KiB each, long after
  // a burst of answers was gone), so a connection with nothing to write holds none.
  if (out_.empty() && out_.capacity() > kSsoCapacity) {
    const size_t cap = out_.capacity();
    if (cap <= kIdleOutputKeep && t_pool.out_bytes + cap <= BufferPool::kOutKeepBytes) {
      t_pool.out_bytes += cap;
      t_pool.out.push_back(std::move(out_));
    }
    std::string().swap(out_);
    out_pos_ = 0;
  }
  if (in_.empty() || in_start_ != in_end_ || state_ == ReadState::Body) return;
  if (in_.size() == kInitialBuffer && t_pool.in.size() < BufferPool::kKeep) t_pool.in.push_back(std::move(in_));
  if (t_pool.fields.size() < BufferPool::kKeep) t_pool.fields.push_back(std::move(headers_));
  std::vector<char>().swap(in_);
  std::vector<Header>().swap(headers_);
  in_start_ = in_end_ = 0;
  scanned_ = 0;
}

char* Connection::read_space(size_t* avail) {
  if (in_.empty()) {
    if (!t_pool.in.empty()) {
      in_ = std::move(t_pool.in.back());
      t_pool.in.pop_back();
    } else {
      in_.resize(kInitialBuffer);
    }
    const size_t nfields = cfg_.limits.max_headers ? cfg_.limits.max_headers : 1;
    if (!t_pool.fields.empty() && t_pool.fields.back().size() == nfields) {
      headers_ = std::move(t_pool.fields.back());
      t_pool.fields.pop_back();
    } else {
      headers_.resize(nfields);
    }
    // Trailers reuse the head's field array: by the time a body ends, its head has been handed to the sink.
    body_.set_trailer_storage(headers_.data());
  }
  compact();
  if (in_.size() - in_end_ < kMinReadSpace) in_.resize(in_.size() * 2);
  *avail = in_.size() - in_end_;
  return in_.data() + in_end_;
}

// Moves unconsumed input to the front of the buffer. Only called between parses, when no Slice is alive.
void Connection::compact() {
  if (in_start_ == 0) return;
  if (in_start_ == in_end_) {
    in_start_ = in_end_ = 0;
    return;
  }
  if (in_.size() - in_end_ >= kMinReadSpace) return;  // room enough: don't move bytes for nothing
  std::memmove(in_.data(), in_.data() + in_start_, in_end_ - in_start_);
  in_end_ -= in_start_;
  in_start_ = 0;
}

void Connection::on_read(size_t n, uint64_t now_ms) {
  in_end_ += n;
  if (state_ == ReadState::Stopped || closing_now_) {
    in_start_ = in_end_;  // after a closing request or an error nothing more is processed
    return;
  }
  if (n > 0 && state_ == ReadState::Head && !head_started_ && in_end_ > in_start_) {
    head_started_ = true;
    head_start_ms_ = now_ms;
  }
  now_ = now_ms;
  parse();
}

// Also called again by finish_front() once the pipeline drained and what was buffered behind it is parsed.
void Connection::on_eof(uint64_t now_ms) {
  now_ = now_ms;
  eof_ = true;
  if (closing_now_) return;
  if (state_ == ReadState::Passthrough) {
    pass_through();  // the end of stream goes to JS after the bytes before it
    return;
  }
  if (!cfg_.allow_half_open && !pipeline_.empty()) {
    // The client left while responses are owed (a FIN and a full close look the same until we write): nobody will
    // read them. Drop them and what is pipelined behind them; the driver's close tells JS at once.
    force_close(CloseReason::Client);
    return;
  }
  if (state_ == ReadState::Body && !body_discard_) {
    // The body can never complete. Its request (the last one parsed) is dropped unless its response is
    // complete already; the requests before it still get their responses. A response half written can't end.
    Pending* b = find(body_seq_);
    if (b != nullptr && b->head_sent && !b->ended) {
      force_close(CloseReason::Client);
      return;
    }
    if (b != nullptr && !b->head_sent && b == &pipeline_.back()) pipeline_.pop_back();
    state_ = ReadState::Stopped;
    in_start_ = in_end_;
  }
  if (pipeline_.empty()) close_after_output(CloseReason::Client, false);
  // else: the requests already complete get their responses, then finish_front() closes.
}

void Connection::parse() {
  for (;;) {
    if (closing_now_) return;
    if (state_ == ReadState::Head) {
      // Requests wait in the buffer while the pipeline is full, or while the answers already queued are not
      // being read (a client that sends requests and reads nothing gets no more of them parsed).
      if (pipeline_.size() >= cfg_.max_pipeline || output_full()) return;
      if (!parse_head()) return;
    } else if (state_ == ReadState::Body) {
      if (!parse_body()) return;
    } else if (state_ == ReadState::Passthrough) {
      pass_through();
      return;
    } else if (state_ == ReadState::Held) {
      return;  // the bytes wait for JS's decision
    } else {
      in_start_ = in_end_;
      return;
    }
  }
}

// Passthrough: every buffered byte goes to JS unless JS paused it; after them, the client's end of stream.
void Connection::pass_through() {
  if (body_paused_) return;
  const size_t avail = in_end_ - in_start_;
  if (avail > 0) {
    const Slice data{in_.data() + in_start_, static_cast<uint32_t>(avail)};
    in_start_ = in_end_;
    sink_.on_raw(*this, data);
  }
  if (eof_ && !raw_end_sent_) {
    raw_end_sent_ = true;
    sink_.on_raw_end(*this);
    both_ends_done();
  }
}

// Passthrough: once the client's end reached JS and JS ended its side too, the connection closes (after output).
void Connection::both_ends_done() {
  if (closing_now_ || !raw_end_sent_) return;
  Pending* p = find(held_seq_);
  if (p == nullptr || !p->raw_ended || p->ended) return;
  p->ended = true;
  if (p == &pipeline_.front()) finish_front();
}

bool Connection::wants_write_shutdown() const {
  if (write_shut_ || closing_now_ || state_ != ReadState::Passthrough || out_size() > 0) return false;
  return pipeline_.size() == 1 && pipeline_.front().raw_ended;
}

bool Connection::parse_head() {
  const size_t avail = in_end_ - in_start_;
  if (avail == 0) return false;
  const char* base = in_.data() + in_start_;
  RequestHead h;
  h.headers = headers_.data();
  const int64_t r = parse_request_head(base, avail, cfg_.limits, &h, &scanned_);
  if (r == 0) return false;
  if (r < 0) {
    reject(static_cast<HttpError>(-r), CloseReason::ParseError);
    return false;
  }
  scanned_ = 0;
  const uint32_t seq = next_seq_++;
  const bool last = cfg_.max_requests_per_socket != 0 && next_seq_ >= cfg_.max_requests_per_socket;
  const bool closes = request_closes(h.version_minor, h.connection);
  last_closes_ = closes || last;
  if (h.body == BodyKind::Length && h.content_length == 0) h.body = BodyKind::None;
  // A protocol switch JS may accept (RFC 9110 7.8: Upgrade with the upgrade token; RFC 9110 9.3.6: CONNECT, whose
  // request content has no meaning: what follows its head belongs to the tunnel). An upgrade with a body is served
  // as an ordinary request, as is one that arrives while the connection is closing.
  const bool upgrade = !shutting_down_ && !last &&
                       (h.is_connect || (h.has_upgrade && (h.connection & kConnUpgrade) && h.body == BodyKind::None));
  if (upgrade) {
    h.upgrade = true;
    h.body = BodyKind::None;
    h.tail = Slice{base + r, static_cast<uint32_t>(avail - static_cast<size_t>(r))};
  }

  Pending p;
  p.seq = seq;
  p.version_minor = h.version_minor;
  p.request_tokens = h.connection;
  p.is_head = h.is_head;
  p.closes = closes;
  p.last = last;
  p.body_done = h.body == BodyKind::None;
  p.upgradable = upgrade;
  const bool expects_100 = h.expect_continue && h.version_minor >= 1 && h.body != BodyKind::None;
  if (expects_100) {
    // With a 'checkContinue' listener JS decides (its 100 or its final head releases the body); else 100 at once.
    if (cfg_.check_continue) h.continue_held = p.continue_held = true;
    else p.sent_100 = true;
  }
  pipeline_.push_back(std::move(p));
  if (expects_100 && !h.continue_held) sink_for(pipeline_.back()).append("HTTP/1.1 100 Continue\r\n\r\n");

  const Slice raw{h.method.p, static_cast<uint32_t>(base + r - h.method.p)};
  sink_.on_request(*this, seq, h, raw, closes || last || shutting_down_);
  in_start_ += static_cast<size_t>(r);
  request_start_ms_ = head_start_ms_;

  if (upgrade) {
    state_ = ReadState::Held;
    held_seq_ = seq;
    held_bytes_ = in_end_ - in_start_;
    return false;
  }
  if (h.body != BodyKind::None) {
    body_.reset(h.body, h.content_length, &cfg_.limits);
    body_paused_ = false;  // a new body, a new stream in JS: a pause meant for the previous one doesn't carry over
    continue_held_ = h.continue_held;
    body_seq_ = seq;
    body_discard_ = false;
    body_discarded_ = 0;
    state_ = ReadState::Body;
  } else {
    request_parsed();
  }
  return true;
}

// The request (head and body) is fully parsed: decide whether anything after it may be parsed.
void Connection::request_parsed() {
  bool stop = shutting_down_ || last_closes_;
  if (stop) {
    state_ = ReadState::Stopped;  // nothing after a closing request is processed, even if already received
    stopped_clean_ = in_start_ == in_end_;
    in_start_ = in_end_;
    // Shutdown while an answered request's unread body was being drained: no response is owed any more, so
    // nothing else would ever close the connection (Stopped has no deadline and is never idle).
    if (pipeline_.empty()) close_after_output(CloseReason::Shutdown, true);
    return;
  }
  state_ = ReadState::Head;
  head_started_ = in_end_ > in_start_;
  head_start_ms_ = now_;
}

bool Connection::parse_body() {
  const size_t avail = in_end_ - in_start_;
  if (avail == 0 || continue_held_) return false;    // held: what a client sends without waiting stays buffered
  if (body_paused_ && !body_discard_) return false;  // JS is behind: leave the bytes where they are
  const char* base = in_.data() + in_start_;
  BodyDecoder::Step st = body_.feed(base, avail);
  if (st.error != HttpError::None) {
    reject(st.error, CloseReason::ParseError);
    return false;
  }
  in_start_ += st.consumed;
  if (st.data.len > 0) {
    if (body_discard_) {
      // The response is out: keep the connection only if the rest of the body is small. The bytes still go to
      // JS (its stream may be reading it), but JS's pause no longer holds the connection back.
      body_discarded_ += st.data.len;
      if (body_discarded_ > cfg_.drain_limit) {
        force_close(CloseReason::Response);
        return false;
      }
    }
    sink_.on_body(*this, body_seq_, st.data);
  }
  if (st.done) {
    sink_.on_body_end(*this, body_seq_, headers_.data(), body_.trailer_count());
    if (Pending* p = find(body_seq_)) p->body_done = true;
    body_discard_ = false;
    request_parsed();
    return true;
  }
  return st.consumed > 0 || st.data.len > 0;
}

// A refused request: its ready-made response goes out after every earlier response, then a graceful close.
void Connection::reject(HttpError e, CloseReason r) {
  sink_.on_client_error(*this, e);
  // The HEAD rule holds for ready-made answers too: no body bytes after the head of a response to HEAD.
  pending_error_head_ = refused_is_head();
  if (state_ == ReadState::Body) {
    // The request whose body failed was already dispatched: drop its response unless one is under way.
    if (!pipeline_.empty() && pipeline_.back().seq == body_seq_) {
      Pending& b = pipeline_.back();
      if (!b.head_sent) {
        pipeline_.pop_back();
      } else {
        force_close(r);  // a response is half written: the error can't be said on the wire any more
        return;
      }
    }
  }
  state_ = ReadState::Stopped;
  in_start_ = in_end_;
  pending_error_ = e;
  pending_error_reason_ = r;
  if (pipeline_.empty()) emit_pending_error();
}

// Whether the request being refused is a HEAD: the one whose body is arriving, or the head being parsed (its
// method, after the empty lines the parser skips, is already in the buffer when the head is refused).
bool Connection::refused_is_head() const {
  if (state_ == ReadState::Body) {
    for (const Pending& p : pipeline_)
      if (p.seq == body_seq_) return p.is_head;
    return false;
  }
  size_t i = in_start_;
  while (i + 1 < in_end_ && in_[i] == '\r' && in_[i + 1] == '\n') i += 2;
  return in_end_ - i >= 5 && std::memcmp(in_.data() + i, "HEAD ", 5) == 0;
}

void Connection::emit_pending_error() {
  if (out_size() == 0) out_progress_ms_ = now_;
  const std::string_view bytes =
      pending_error_head_ ? error_response_head(pending_error_) : error_response(pending_error_);
  out_buf().append(bytes.data(), bytes.size());
  close_after_output(pending_error_reason_, true);
}

Connection::Pending* Connection::find(uint32_t seq) {
  for (Pending& p : pipeline_)
    if (p.seq == seq) return &p;
  return nullptr;
}

std::string& Connection::sink_for(Pending& p) {
  if (&p == &pipeline_.front()) return out_buf();
  behind_out_ = true;  // queued_bytes() counts the buffers behind the front again
  return p.out;
}

void Connection::on_response(ResponseCmd& cmd, uint64_t now_ms) {
  respond(cmd, now_ms);
  if (resume_parse_) {
    // A final head released a held body: what the client sent meanwhile is parsed now, after the command is done
    // with its Pending (parsing may refuse the body and drop it).
    resume_parse_ = false;
    parse();
  }
}

void Connection::respond(ResponseCmd& cmd, uint64_t now_ms) {
  now_ = now_ms;
  if (out_size() == 0) out_progress_ms_ = now_ms;
  if (closing_now_) return;
  Pending* p = find(cmd.seq);
  if (p == nullptr || p->ended) return;  // the request was dropped (error, shutdown) or already answered
  if ((cmd.kind & ResponseCmd::kFail) && !p->head_sent) {
    // The ready-made 500 (no body bytes to a HEAD request), and the connection closes after it.
    std::string_view r = error_response(HttpError::InternalError);
    if (p->is_head) r = r.substr(0, r.find("\r\n\r\n") + 4);
    sink_for(*p).append(r.data(), r.size());
    p->head_sent = true;
    p->ended = true;
    p->keep_alive = false;
    if (p == &pipeline_.front()) finish_front();
    return;
  }
  if (cmd.kind & (ResponseCmd::kAbort | ResponseCmd::kFail)) {
    p->ended = true;
    p->aborted = true;
    if (p == &pipeline_.front()) finish_front();
    return;
  }
  if (cmd.kind & ResponseCmd::kInterim) {
    on_interim(*p, cmd);
    return;
  }
  if (cmd.kind & ResponseCmd::kUpgrade) {
    if (p->upgradable && !p->upgraded && !p->head_sent && state_ == ReadState::Held && held_seq_ == p->seq)
      on_upgrade(*p, cmd.status != 0);
    return;
  }
  if (cmd.kind & ResponseCmd::kRaw) {
    if (!p->upgraded || p->raw_ended) return;  // nothing after JS's end (it may have been written already)
    std::string& out = sink_for(*p);
    if (out.empty()) out.swap(cmd.data);
    else out.append(cmd.data);
    if (cmd.kind & ResponseCmd::kEnd) {
      p->raw_ended = true;
      both_ends_done();
    }
    return;
  }
  std::string& out = sink_for(*p);
  if ((cmd.kind & ResponseCmd::kHead) && !p->head_sent) {
    ResponseHead h;
    h.status = cmd.status;
    h.reason = Slice{cmd.reason.data(), static_cast<uint32_t>(cmd.reason.size())};
    h.fields = Slice{cmd.fields.data(), static_cast<uint32_t>(cmd.fields.size())};
    h.user_fields = cmd.user_fields;
    h.response_tokens = cmd.response_tokens;
    if (cmd.content_length >= 0) {
      h.length_known = true;
      h.content_length = static_cast<uint64_t>(cmd.content_length);
    } else if (cmd.kind & ResponseCmd::kEnd) {
      h.length_known = true;  // the whole body is in this command
      h.content_length = cmd.data.size();
    }
    p->framing = choose_framing(h, p->is_head, p->version_minor);
    p->body_left = h.content_length;
    KeepAliveInput ki;
    ki.version_minor = p->version_minor;
    ki.request_tokens = p->request_tokens;
    ki.response_tokens = cmd.response_tokens;
    ki.framing = p->framing;
    // An unread Content-Length body we can drain within the bound still allows reuse; chunked ones don't.
    ki.body_complete =
        p->body_done || (state_ == ReadState::Body && body_seq_ == p->seq && body_.remaining() <= cfg_.drain_limit);
    // Only the last request we will answer may say close: a close on an earlier pipelined response makes the
    // client drop (and maybe retry) the requests after it, which are answered anyway. Neither a refused request
    // still waiting behind this one (its error follows) nor the client's FIN (we close after the last response
    // either way) makes this response the last one; the response bytes must not depend on when they arrived.
    // A final status while the client still waits for 100 Continue: it may send the body anyway, or not, so the
    // end of this request on the wire is unknown and the connection closes after the response (node's rule).
    ki.server_closing = p->last || (shutting_down_ && p == &pipeline_.back()) || p->continue_held;
    p->keep_alive = keep_alive(ki);
    if (p->continue_held) {
      p->continue_held = false;
      continue_held_ = false;
      resume_parse_ = true;
    }
    write_head(out, h, p->framing, p->keep_alive, p->version_minor, cfg_.keep_alive_timeout_ms / 1000);
    p->head_sent = true;
  }
  if (!p->head_sent) return;  // data before a head: JS never does this; ignore rather than corrupt the stream
  // The announced Content-Length is what goes out, never more (the surplus would be read as the next response)
  // and never less at the end (the client would wait for the rest): lib/response.ts throws before either
  // (ERR_HTTP_CONTENT_LENGTH_MISMATCH); should a mismatch get here anyway, the response is cut at its length,
  // or ended short, and the connection closes after it, as for a handler that failed after its head.
  bool mismatch = false;
  if (p->framing == Framing::Length) {
    if (cmd.data.size() > p->body_left) {
      cmd.data.resize(p->body_left);
      mismatch = true;
    }
    p->body_left -= cmd.data.size();
    if ((cmd.kind & ResponseCmd::kEnd) && p->body_left > 0) mismatch = true;
  }
  if (!cmd.data.empty() && p->framing != Framing::NoBody) {
    if (p->framing == Framing::Chunked) {
      append_chunk_header(out, cmd.data.size());
      out.append(cmd.data);
      out.append("\r\n", 2);
    } else if (out.empty()) {
      out.swap(cmd.data);  // large bodies: hand the buffer over instead of copying it
    } else {
      out.append(cmd.data);
    }
  }
  if (mismatch) {
    p->ended = true;
    p->aborted = true;
    if (p == &pipeline_.front()) finish_front();
    return;
  }
  if (cmd.kind & ResponseCmd::kEnd) {
    if (p->framing == Framing::Chunked) {
      // The last chunk, the trailer section (RFC 9112 7.1.2), the empty line. Trailers exist only in chunked
      // framing: for a length-framed, close-delimited (HTTP/1.0) or bodiless response they are dropped.
      out.append("0\r\n", 3);
      if ((cmd.kind & (ResponseCmd::kTrailers | ResponseCmd::kHead)) == ResponseCmd::kTrailers) out.append(cmd.fields);
      out.append("\r\n", 2);
    }
    p->ended = true;
    if (p == &pipeline_.front()) finish_front();
  }
}

// A 1xx interim response (RFC 9110 15.2) for p's request: in p's place in the pipeline (after every earlier
// response), never once its final head has started, never to HTTP/1.0 (15.2: a server MUST NOT send one to a 1.0
// client), never 101 (that is an upgrade's own answer), and one 100 Continue at most. A 100 releases a held body.
void Connection::on_interim(Pending& p, const ResponseCmd& cmd) {
  if (p.head_sent || p.version_minor == 0 || cmd.status < 100 || cmd.status > 199 || cmd.status == 101) return;
  if (cmd.status == 100) {
    if (p.sent_100) return;
    p.sent_100 = true;
  }
  write_interim_head(sink_for(p), cmd.status, Slice{cmd.reason.data(), static_cast<uint32_t>(cmd.reason.size())},
                     Slice{cmd.fields.data(), static_cast<uint32_t>(cmd.fields.size())});
  if (cmd.status == 100 && p.continue_held) {
    p.continue_held = false;
    if (continue_held_ && state_ == ReadState::Body && body_seq_ == p.seq) {
      continue_held_ = false;
      parse();  // bytes the client sent without waiting (the last use of p: parsing may drop it)
    }
  }
}

// JS's answer to an upgradable request. Accepted: the bytes JS got with the request are dropped here, the rest
// (none yet: reading stopped while held) passes through. Declined: an ordinary request; parsing resumes.
void Connection::on_upgrade(Pending& p, bool accept) {
  if (accept) {
    p.upgraded = true;
    p.head_sent = true;  // JS writes the 101 (or whatever it answers) itself, as raw bytes
    p.keep_alive = false;
    p.framing = Framing::CloseDelimited;
    in_start_ += held_bytes_;
    held_bytes_ = 0;
    state_ = ReadState::Passthrough;
    if (eof_) pass_through();
    return;
  }
  held_bytes_ = 0;
  request_parsed();
  parse();
  if (eof_) on_eof(now_);
}

// Retires finished responses at the front of the pipeline, moving the next one's buffered output into out_,
// and decides what the connection does once the pipeline is empty.
void Connection::finish_front() {
  while (!pipeline_.empty() && pipeline_.front().ended) {
    Pending& f = pipeline_.front();
    if (f.aborted || !f.keep_alive) {
      CloseReason r = CloseReason::Response;
      // JS ended or destroyed a passthrough, or refused a CONNECT: the server's side closed it, not a failure.
      if (f.upgraded || (f.upgradable && f.aborted)) r = CloseReason::Response;
      else if (f.aborted) r = CloseReason::Error;
      else if (shutting_down_) r = CloseReason::Shutdown;
      else if (f.closes) r = CloseReason::Client;
      else if (f.last) r = CloseReason::MaxRequests;
      close_after_output(r, !f.aborted && !f.upgraded);  // a passthrough ends when both sides have
      return;
    }
    if (!f.body_done && state_ == ReadState::Body && body_seq_ == f.seq) body_discard_ = true;
    pipeline_.pop_front();
    if (!pipeline_.empty()) {
      Pending& n = pipeline_.front();
      if (!n.out.empty()) out_buf().append(n.out);
      std::string().swap(n.out);
    }
  }
  if (!pipeline_.empty()) {
    // The pipeline has room again: the requests buffered behind the cap are parsed now, not only once it is
    // empty (reading resumed meanwhile, and what it brought in would pile up unparsed).
    if (state_ == ReadState::Head) parse();
    return;
  }
  if (state_ == ReadState::Held) {
    // The held request was answered without a decision (never done by lib/): it was an ordinary request.
    held_bytes_ = 0;
    request_parsed();
  }
  if (pending_error_ != HttpError::None) {
    emit_pending_error();
    return;
  }
  if (shutting_down_ && state_ != ReadState::Body) {
    close_after_output(CloseReason::Shutdown, true);
    return;
  }
  idle_since_ms_ = now_;
  if (state_ == ReadState::Head && in_end_ > in_start_) {
    head_started_ = true;
    head_start_ms_ = now_;  // a pipelined head's clock runs from when we are ready for it
  }
  // After a FIN, requests still buffered behind the pipeline cap are parsed and answered too (the blocking
  // driver reads the FIN only after them anyway); then on_eof() closes once nothing complete is left.
  parse();
  if (eof_) on_eof(now_);
}

void Connection::close_after_output(CloseReason r, bool linger) {
  if (closing_now_) return;
  close_reason_ = r;
  closing_now_ = true;
  linger_ = linger;
  client_finished_ = r == CloseReason::Client && state_ == ReadState::Stopped && stopped_clean_;
  state_ = ReadState::Stopped;
  in_start_ = in_end_;
}

void Connection::force_close(CloseReason r) {
  if (!closing_now_) close_reason_ = r;
  closing_now_ = true;
  linger_ = false;
  out_.clear();
  out_pos_ = 0;
  pipeline_.clear();
  state_ = ReadState::Stopped;
  in_start_ = in_end_;
}

void Connection::begin_shutdown(uint64_t now_ms) {
  now_ = now_ms;
  shutting_down_ = true;
  if (closing_now_) return;
  if (idle()) {
    close_after_output(CloseReason::Shutdown, false);
    return;
  }
  if (state_ == ReadState::Head) {
    // Requests under way finish (their responses say Connection: close); nothing new is parsed.
    state_ = ReadState::Stopped;
    in_start_ = in_end_;
    if (pipeline_.empty()) close_after_output(CloseReason::Shutdown, false);
  }
}

void Connection::set_body_paused(bool paused, uint64_t now_ms) {
  const bool resumed = body_paused_ && !paused;
  body_paused_ = paused;
  if (resumed && !closing_now_) {
    now_ = now_ms;
    parse();  // body bytes may be waiting in the buffer
  }
}

size_t Connection::held_bytes() const {
  size_t n = in_.capacity() + headers_.capacity() * sizeof(Header) + out_.capacity();
  for (const Pending& p : pipeline_) n += p.out.capacity();
  return n;
}

// Called for every request parsed and every write: the pipeline is walked only while some response behind the
// front has output of its own (rare: responses mostly end in order, straight into out_).
size_t Connection::queued_bytes() const {
  const size_t n = out_size();
  if (!behind_out_) return n;
  size_t behind = 0;
  for (const Pending& p : pipeline_) behind += p.out.size();
  if (behind == 0) behind_out_ = false;
  return n + behind;
}

void Connection::out_consumed(size_t n, uint64_t now_ms) {
  out_pos_ += n;
  if (n > 0) out_progress_ms_ = now_ms;
  if (out_pos_ >= out_.size()) {
    if (pipeline_.empty()) idle_since_ms_ = now_ms;  // keepAliveTimeout runs from the last byte written
    out_pos_ = 0;
    // A written-out buffer keeps its capacity only up to the high-water mark: kept whatever its size, pipelined
    // answers left each of 1,000 hostile connections holding ~450 KiB after their bytes were gone.
    if (out_.capacity() > cfg_.high_water) {
      if (out_.capacity() > kTrimAbove) freed_large_ = true;
      std::string().swap(out_);
    } else {
      out_.clear();
    }
  }
  // Output fell below the mark: requests buffered meanwhile may be parsed (and reading resumes, wants_read()).
  if (n > 0 && state_ == ReadState::Head && !closing_now_ && in_end_ > in_start_ && !output_full() &&
      queued_bytes() + n >= cfg_.high_water) {
    now_ = now_ms;
    if (pipeline_.empty()) {
      head_started_ = true;
      head_start_ms_ = now_ms;  // the buffered head's clock runs from when we are ready for it again
    }
    parse();
  }
}

size_t Connection::input_limit() const {
  const size_t head = cfg_.limits.max_header_size;
  // A head of max_header_size after the empty lines the parser skips; a pipelining client gets no more room.
  return (head > kInitialBuffer ? head : kInitialBuffer) + kMinReadSpace;
}

bool Connection::wants_read() const {
  if (closing_now_ || eof_ || state_ == ReadState::Stopped || state_ == ReadState::Held) return false;
  if (state_ == ReadState::Head) {
    return pipeline_.size() < cfg_.max_pipeline && !output_full() && in_end_ - in_start_ < input_limit();
  }
  if (state_ == ReadState::Passthrough) return !body_paused_;
  // A held body: read (so that a client that leaves is seen) until a head's worth is buffered.
  if (continue_held_) return in_end_ - in_start_ < input_limit();
  return !body_paused_ || body_discard_;
}

bool Connection::idle() const {
  return !closing_now_ && pipeline_.empty() && state_ == ReadState::Head && in_end_ == in_start_ && out_size() == 0;
}

bool Connection::reading_phase() const {
  return pipeline_.empty() || state_ == ReadState::Body || state_ == ReadState::Passthrough;
}

uint64_t Connection::send_deadline() const {
  return out_size() > 0 && cfg_.send_timeout_ms ? out_progress_ms_ + cfg_.send_timeout_ms : kNever;
}

uint64_t Connection::deadline() const {
  // A client that stops reading while we owe it bytes is dropped, closing or not.
  const uint64_t send = send_deadline();
  if (closing_now_) return send;
  uint64_t d = kNever;
  if (state_ == ReadState::Head && pipeline_.empty()) {
    if (output_full()) {
      // The next head waits because the client is not reading our answers, not because it is slow to send: no
      // head clock while we hold it back (the send deadline runs instead; out_consumed() restarts the clock).
    } else if (head_started_) {
      if (cfg_.headers_timeout_ms) d = head_start_ms_ + cfg_.headers_timeout_ms;
    } else if (cfg_.keep_alive_timeout_ms && out_size() == 0) {
      d = idle_since_ms_ + cfg_.keep_alive_timeout_ms;
    }
  } else if (state_ == ReadState::Body && cfg_.request_timeout_ms) {
    d = request_start_ms_ + cfg_.request_timeout_ms;
  }
  return d < send ? d : send;
}

void Connection::on_timer(uint64_t now_ms) {
  now_ = now_ms;
  if (now_ms >= send_deadline()) {
    force_close(CloseReason::Client);  // the client stopped reading what we owe it
    return;
  }
  const uint64_t d = deadline();
  if (d == kNever || now_ms < d || closing_now_) return;
  if (state_ == ReadState::Body) {
    // requestTimeout: the body stopped arriving. Answer 408 if the handler hasn't started a response.
    // Refused like a request whose body broke: earlier responses (answered or not, written or not) go out
    // first, then the 408.
    Pending* p = find(body_seq_);
    if (p != nullptr && !p->head_sent) {
      reject(HttpError::RequestTimeout, CloseReason::RequestTimeout);
    } else {
      force_close(CloseReason::RequestTimeout);
    }
    return;
  }
  if (head_started_) {
    if (in_end_ > in_start_) {
      reject(HttpError::RequestTimeout, CloseReason::HeadersTimeout);
    } else {
      close_after_output(CloseReason::HeadersTimeout, false);  // never sent a byte: nobody to answer
    }
    return;
  }
  close_after_output(CloseReason::IdleTimeout, false);
}

}  // namespace nova
