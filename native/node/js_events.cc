// Writing events in the JS batch layout and handing them over (see js_events.h; the layout is lib/contract.ts's).
#include "js_events.h"

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
    case kEvRaw:
      m[i + 2] += by;
      return i + 4;
    case kEvBody:
      m[i + 3] += by;
      return i + 5;
    case kEvBodyEnd: {
      const uint32_t n = m[i + 3];
      for (uint32_t k = 0; k < n; ++k) {
        m[i + 4 + 4 * k] += by;
        m[i + 6 + 4 * k] += by;
      }
      return i + 4 + 4 * static_cast<size_t>(n);
    }
    case kEvClose:
    case kEvClientError:
      return i + 3;
    default:  // Drain, ServerClosed, RawEnd
      return i + 2;
  }
}

class JsWriter : public EventWriter {
 public:
  explicit JsWriter(std::shared_ptr<JsEvents> to) : to_(std::move(to)) {}

  void request(ConnHandle& h, uint32_t seq, const RequestHead& head, Slice raw) override {
    announce(h);
    const uint32_t base = static_cast<uint32_t>(b_.bytes.size());
    b_.bytes.append(raw.p, raw.len);
    uint32_t flags = head.version_minor & 0x3;
    if (head.is_head) flags |= kReqHead;
    if (head.body != BodyKind::None) flags |= kReqHasBody;
    if (head.expect_continue) flags |= kReqExpectContinue;
    if (head.continue_held) flags |= kReqContinueHeld;
    if (head.expect_other) flags |= kReqExpectOther;
    if (head.upgrade) flags |= kReqUpgrade;
    const size_t at = b_.meta.size();
    b_.meta.resize(at + 9 + 4 * static_cast<size_t>(head.header_count) + (head.upgrade ? 2 : 0));
    uint32_t* m = b_.meta.data() + at;
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
      m[0] = static_cast<uint32_t>(b_.bytes.size());
      m[1] = head.tail.len;
      b_.bytes.append(head.tail.p, head.tail.len);
    }
  }

  void body(ConnHandle& h, uint32_t seq, Slice data) override {
    const uint32_t base = static_cast<uint32_t>(b_.bytes.size());
    b_.bytes.append(data.p, data.len);
    b_.meta.insert(b_.meta.end(), {kEvBody, h.id, seq, base, data.len});
  }

  void body_end(ConnHandle& h, uint32_t seq, const Header* trailers, uint32_t n) override {
    b_.meta.insert(b_.meta.end(), {kEvBodyEnd, h.id, seq, n});
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t name_off = static_cast<uint32_t>(b_.bytes.size());
      b_.bytes.append(trailers[i].name.p, trailers[i].name.len);
      const uint32_t value_off = static_cast<uint32_t>(b_.bytes.size());
      b_.bytes.append(trailers[i].value.p, trailers[i].value.len);
      b_.meta.insert(b_.meta.end(), {name_off, trailers[i].name.len, value_off, trailers[i].value.len});
    }
  }

  void client_error(ConnHandle& h, uint32_t status) override {
    announce(h);  // a 'clientError' listener may ask for the socket's address
    b_.meta.insert(b_.meta.end(), {kEvClientError, h.id, status});
  }

  void raw(ConnHandle& h, Slice data) override {
    const uint32_t base = static_cast<uint32_t>(b_.bytes.size());
    b_.bytes.append(data.p, data.len);
    b_.meta.insert(b_.meta.end(), {kEvRaw, h.id, base, data.len});
  }

  void raw_end(ConnHandle& h) override { b_.meta.insert(b_.meta.end(), {kEvRawEnd, h.id}); }

  void drain(ConnHandle& h) override { b_.meta.insert(b_.meta.end(), {kEvDrain, h.id}); }

  void close(ConnHandle& h, CloseReason r) override {
    b_.meta.insert(b_.meta.end(), {kEvClose, h.id, static_cast<uint32_t>(r)});
    if (h.announced) b_.closed.push_back(h.id);
  }

  size_t bytes() const override { return b_.bytes.size(); }

  void commit() override {
    if (!b_.empty()) to_->publish(b_);
  }

 private:
  void announce(ConnHandle& h) {
    if (h.announced) return;
    h.announced = true;
    b_.handles.push_back(h.shared_from_this());
  }

  std::shared_ptr<JsEvents> to_;
  JsBatch b_;
};

}  // namespace

void JsBatch::clear() {
  meta.clear();
  bytes.clear();
  handles.clear();
  closed.clear();
  last = false;
}

void JsBatch::swap(JsBatch& o) {
  meta.swap(o.meta);
  bytes.swap(o.bytes);
  handles.swap(o.handles);
  closed.swap(o.closed);
  std::swap(last, o.last);
}

void JsBatch::append(JsBatch& o) {
  const uint32_t by = static_cast<uint32_t>(bytes.size());
  if (by != 0)
    for (size_t i = 0; i < o.meta.size();) i = rebase_record(o.meta.data(), i, by);
  meta.insert(meta.end(), o.meta.begin(), o.meta.end());
  bytes.append(o.bytes);
  for (auto& h : o.handles) handles.push_back(std::move(h));
  closed.insert(closed.end(), o.closed.begin(), o.closed.end());
  o.clear();
}

std::unique_ptr<EventWriter> JsEvents::writer() { return std::make_unique<JsWriter>(shared_from_this()); }

void JsEvents::publish(JsBatch& b) {
  bool announce = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (closed_) {
      b.clear();
      return;
    }
    if (pending_.empty()) {
      pending_.swap(b);  // b gets the old pending's (empty) buffers and keeps their capacity
    } else {
      pending_.append(b);
    }
    pending_bytes_.store(pending_.bytes.size(), std::memory_order_relaxed);
    if (!announced_) announce = announced_ = true;
  }
  if (announce) notify_();
}

void JsEvents::server_closed() {
  bool announce = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (closed_) return;
    pending_.meta.insert(pending_.meta.end(), {kEvServerClosed, 0u});
    closed_ = true;
    if (!announced_) announce = announced_ = true;
  }
  if (announce) notify_();
}

bool JsEvents::take(JsBatch& out) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    out.clear();
    out.swap(pending_);
    out.last = closed_;
    announced_ = false;
    pending_bytes_.store(0, std::memory_order_relaxed);
  }
  room_.notify_all();
  if (on_taken_) on_taken_();
  return !out.meta.empty();
}

void JsEvents::shut() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    closed_ = true;
    pending_.clear();
  }
  room_.notify_all();
}

void JsEvents::wait_for_room(size_t cap) {
  std::unique_lock<std::mutex> lk(mu_);
  room_.wait(lk, [&] { return closed_ || pending_.bytes.size() < cap; });
}

}  // namespace nova
