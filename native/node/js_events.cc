// Writing events in the JS batch layout and handing them over (see js_events.h; the layout is lib/contract.ts's).
#include "js_events.h"
#include <cstdio>
#include <cstdlib>
#include <initializer_list>

namespace nova {

namespace {

// Offset of a slice inside the copy of `raw` that starts at bytes offset `base`.
inline uint32_t off(Slice s, Slice raw, uint32_t base) { return base + static_cast<uint32_t>(s.p - raw.p); }

// Where the record at meta[i] ends, and which of its words are byte offsets (rebased when batches are joined).
size_t rebase_record(uint32_t* m, size_t i, uint32_t by) {
  switch (m[i]) {
    case kEvRequest: {
      m[i + 4] += by;
      m[i + 6] += by;
      const uint32_t n = m[i + 8];
      for (uint32_t k = 0; k < n; ++k) {
        m[i + 9 + 4 * k] += by;
        m[i + 11 + 4 * k] += by;
      }
      const size_t end = i + 9 + 4 * static_cast<size_t>(n);
      if ((m[i + 3] & kReqUpgrade) == 0) return end;
      m[end] += by;  // the upgrade tail
      return end + 2;
    }
    case kEvRaw: m[i + 2] += by; return i + 4;
    case kEvBody: m[i + 3] += by; return i + 5;
    case kEvBodyEnd: {
      const uint32_t n = m[i + 3];
      for (uint32_t k = 0; k < n; ++k) {
        m[i + 4 + 4 * k] += by;
        m[i + 6 + 4 * k] += by;
      }
      return i + 4 + 4 * static_cast<size_t>(n);
    }
    case kEvClose:
    case kEvClientError: return i + 3;
    default:  // Drain, ServerClosed, RawEnd
      return i + 2;
  }
}

class JsWriter : public EventWriter {
 public:
  JsWriter(std::shared_ptr<JsEvents> to, BatchLimits limits) : to_(std::move(to)), b_(limits) {}

  void request(ConnHandle& h, uint32_t seq, const RequestHead& head, Slice raw) override {
    const size_t nwords = 9 + 4 * static_cast<size_t>(head.header_count) + (head.upgrade ? 2 : 0);
    room(size_t{raw.len} + (head.upgrade ? head.tail.len : 0), nwords);
    announce(h);
    const uint32_t base = b_.put(raw.p, raw.len);
    uint32_t flags = head.version_minor & 0x3;
    if (head.is_head) flags |= kReqHead;
    if (head.body != BodyKind::None) flags |= kReqHasBody;
    if (head.expect_continue) flags |= kReqExpectContinue;
    if (head.continue_held) flags |= kReqContinueHeld;
    if (head.expect_other) flags |= kReqExpectOther;
    if (head.upgrade) flags |= kReqUpgrade;
    uint32_t* m = b_.words(nwords);
    m[0] = kEvRequest;
    m[1] = h.id;
    m[2] = seq;
    m[3] = flags;
    m[4] = off(head.method, raw, base);
    m[5] = head.method.len;
    m[6] = off(head.target, raw, base);
    m[7] = head.target.len;
    m[8] = head.header_count;
    m += 9;
    for (uint32_t i = 0; i < head.header_count; ++i, m += 4) {
      m[0] = off(head.headers[i].name, raw, base);
      m[1] = head.headers[i].name.len;
      m[2] = off(head.headers[i].value, raw, base);
      m[3] = head.headers[i].value.len;
    }
    if (head.upgrade) {
      m[0] = b_.put(head.tail.p, head.tail.len);
      m[1] = head.tail.len;
    }
  }

  void body(ConnHandle& h, uint32_t seq, Slice data) override {
    room(data.len, 5);
    const uint32_t base = b_.put(data.p, data.len);
    record({kEvBody, h.id, seq, base, data.len});
  }

  void body_end(ConnHandle& h, uint32_t seq, const Header* trailers, uint32_t n) override {
    size_t nbytes = 0;
    for (uint32_t i = 0; i < n; ++i) nbytes += size_t{trailers[i].name.len} + trailers[i].value.len;
    room(nbytes, 4 + 4 * static_cast<size_t>(n));
    record({kEvBodyEnd, h.id, seq, n});
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t name_off = b_.put(trailers[i].name.p, trailers[i].name.len);
      const uint32_t value_off = b_.put(trailers[i].value.p, trailers[i].value.len);
      record({name_off, trailers[i].name.len, value_off, trailers[i].value.len});
    }
  }

  void client_error(ConnHandle& h, uint32_t status) override {
    room(0, 3);
    announce(h);  // a 'clientError' listener may ask for the socket's address
    record({kEvClientError, h.id, status});
  }

  void raw(ConnHandle& h, Slice data) override {
    room(data.len, 4);
    const uint32_t base = b_.put(data.p, data.len);
    record({kEvRaw, h.id, base, data.len});
  }

  void raw_end(ConnHandle& h) override {
    room(0, 2);
    record({kEvRawEnd, h.id});
  }

  void drain(ConnHandle& h) override {
    room(0, 2);
    record({kEvDrain, h.id});
  }

  void close(ConnHandle& h, CloseReason r) override {
    room(0, 3);
    record({kEvClose, h.id, static_cast<uint32_t>(r)});
    if (h.announced) b_.closed.push_back(h.id);
  }

  size_t bytes() const override { return b_.bytes().size(); }

  void commit() override {
    if (b_.empty()) return;
    to_->publish(b_);
    b_.release_above(kKeepBytes, kKeepWords);
  }

 private:
  // The next record goes into this batch only if it fits; else what we have is handed over first (the consumer
  // keeps batches in order). A record never exceeds an empty batch: heads, bodies and raw bytes are slices of a
  // connection's read buffer, bounded by the input limits far below kBatchBytesMax.
  void room(size_t nbytes, size_t nwords) {
    if (!b_.fits(nbytes, nwords)) commit();
  }

  void record(std::initializer_list<uint32_t> w) {
    uint32_t* m = b_.words(w.size());
    for (uint32_t x : w) *m++ = x;
  }

  void announce(ConnHandle& h) {
    if (h.announced) return;
    h.announced = true;
    b_.handles.push_back(h.shared_from_this());
  }

  // What a writer's buffers keep between commits: one turn's or one read's events usually fit, and a loop that
  // needs more for a burst grows them again (one loop per thread); a blocking connection keeps no more than this.
  static constexpr size_t kKeepBytes = 16 << 10;
  static constexpr size_t kKeepWords = 4 << 10;

  std::shared_ptr<JsEvents> to_;
  JsBatch b_;
};

}  // namespace

// A record past the limits is a bug of the caller, which asks fits() first: the process aborts rather than hand
// JS an offset that wrapped (or a batch its Buffer can't hold).
void JsBatch::require(size_t bytes, size_t words) const {
  if (fits(bytes, words)) return;
  std::fprintf(stderr, "nova-http: %zu bytes and %zu words past a batch's limits (%zu/%zu and %zu/%zu used)\n", bytes,
               words, bytes_.size(), limits_.bytes, meta_.size(), limits_.words);
  std::abort();
}

uint32_t JsBatch::put(const char* p, size_t n) {
  require(n, 0);
  const uint32_t at = static_cast<uint32_t>(bytes_.size());
  bytes_.append(p, n);
  return at;
}

uint32_t* JsBatch::words(size_t n) {
  require(0, n);
  const size_t at = meta_.size();
  meta_.resize(at + n);
  return meta_.data() + at;
}

void JsBatch::clear() {
  meta_.clear();
  bytes_.clear();
  handles.clear();
  closed.clear();
  last = false;
}

void JsBatch::swap(JsBatch& o) {
  std::swap(limits_, o.limits_);
  meta_.swap(o.meta_);
  bytes_.swap(o.bytes_);
  handles.swap(o.handles);
  closed.swap(o.closed);
  std::swap(last, o.last);
}

void JsBatch::release_above(size_t bytes, size_t words) {
  if (!empty() || !bytes_.empty()) return;
  if (bytes_.capacity() > bytes) std::string().swap(bytes_);
  if (meta_.capacity() > words) std::vector<uint32_t>().swap(meta_);
}

void JsBatch::append(JsBatch& o) {
  require(o.bytes_.size(), o.meta_.size());
  const uint32_t by = put(o.bytes_.data(), o.bytes_.size());
  if (by != 0)
    for (size_t i = 0; i < o.meta_.size();) i = rebase_record(o.meta_.data(), i, by);
  meta_.insert(meta_.end(), o.meta_.begin(), o.meta_.end());
  for (auto& h : o.handles) handles.push_back(std::move(h));
  closed.insert(closed.end(), o.closed.begin(), o.closed.end());
  o.clear();
}

std::unique_ptr<EventWriter> JsEvents::writer() { return std::make_unique<JsWriter>(shared_from_this(), limits_); }

JsBatch& JsEvents::tail_for(size_t bytes, size_t words) {
  if (!pending_.empty() && !pending_.fits(bytes, words)) {
    ready_.emplace_back(limits_);
    ready_.back().swap(pending_);
  }
  return pending_;
}

void JsEvents::publish(JsBatch& b) {
  bool announce = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (closed_) {
      b.clear();
      return;
    }
    queued_ += b.bytes().size();
    JsBatch& to = tail_for(b.bytes().size(), b.meta().size());
    if (to.empty()) {
      to.swap(b);  // b gets the old pending's (empty) buffers and keeps their capacity
    } else {
      to.append(b);
    }
    pending_bytes_.store(queued_, std::memory_order_relaxed);
    if (!announced_) announce = announced_ = true;
  }
  if (announce) notify_();
}

void JsEvents::server_closed() {
  bool announce = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (closed_) return;
    uint32_t* m = tail_for(0, 2).words(2);
    m[0] = kEvServerClosed;
    m[1] = 0;
    closed_ = true;
    if (!announced_) announce = announced_ = true;
  }
  if (announce) notify_();
}

bool JsEvents::take(JsBatch& out) {
  bool more = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    out.clear();
    if (!ready_.empty()) {
      out.swap(ready_.front());
      ready_.pop_front();
      more = true;  // pending_ follows (it is never empty behind a full batch)
    } else {
      out.swap(pending_);
    }
    queued_ -= out.bytes().size();
    out.last = closed_ && !more;
    if (!more) announced_ = false;
    pending_bytes_.store(queued_, std::memory_order_relaxed);
  }
  room_.notify_all();
  if (more) notify_();
  if (on_taken_) on_taken_();
  return !out.meta().empty();
}

void JsEvents::shut() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    closed_ = true;
    ready_.clear();
    pending_.clear();
    queued_ = 0;
    pending_bytes_.store(0, std::memory_order_relaxed);
  }
  room_.notify_all();
}

void JsEvents::wait_for_room(size_t cap) {
  std::unique_lock<std::mutex> lk(mu_);
  room_.wait(lk, [&] { return closed_ || queued_ < cap; });
}

}  // namespace nova
