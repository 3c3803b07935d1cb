// Appending events to the pending batch (see event_queue.h).
#include "event_queue.h"

namespace nova {

template <class F>
void EventQueue::push(F&& fill) {
  bool announce = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (closed_) return;
    fill(pending_);
    pending_bytes_.store(pending_.bytes.size(), std::memory_order_relaxed);
    if (!announced_) announce = announced_ = true;
  }
  if (announce) notify_();
}

namespace {
// Offset of a slice inside the copy of `raw` that starts at bytes offset `base`.
inline uint32_t off(Slice s, Slice raw, uint32_t base) { return base + static_cast<uint32_t>(s.p - raw.p); }
}  // namespace

void EventQueue::push_request(uint32_t conn, uint32_t seq, const RequestHead& h, Slice raw) {
  push([&](Batch& b) {
    const uint32_t base = static_cast<uint32_t>(b.bytes.size());
    b.bytes.append(raw.p, raw.len);
    uint32_t flags = h.version_minor & 0x3;
    if (h.is_head) flags |= kReqHead;
    if (h.body != BodyKind::None) flags |= kReqHasBody;
    if (h.expect_continue) flags |= kReqExpectContinue;
    if (h.upgrade) flags |= kReqUpgrade;
    const size_t at = b.meta.size();
    b.meta.resize(at + 9 + 4 * static_cast<size_t>(h.header_count) + (h.upgrade ? 2 : 0));
    uint32_t* m = b.meta.data() + at;
    m[0] = kEvRequest;
    m[1] = conn;
    m[2] = seq;
    m[3] = flags;
    m[4] = off(h.method, raw, base);
    m[5] = h.method.len;
    m[6] = off(h.target, raw, base);
    m[7] = h.target.len;
    m[8] = h.header_count;
    m += 9;
    for (uint32_t i = 0; i < h.header_count; ++i, m += 4) {
      m[0] = off(h.headers[i].name, raw, base);
      m[1] = h.headers[i].name.len;
      m[2] = off(h.headers[i].value, raw, base);
      m[3] = h.headers[i].value.len;
    }
    if (h.upgrade) {
      m[0] = static_cast<uint32_t>(b.bytes.size());
      m[1] = h.tail.len;
      b.bytes.append(h.tail.p, h.tail.len);
    }
  });
}

void EventQueue::push_body(uint32_t conn, uint32_t seq, Slice data) {
  push([&](Batch& b) {
    const uint32_t base = static_cast<uint32_t>(b.bytes.size());
    b.bytes.append(data.p, data.len);
    b.meta.insert(b.meta.end(), {kEvBody, conn, seq, base, data.len});
  });
}

void EventQueue::push_body_end(uint32_t conn, uint32_t seq, const Header* trailers, uint32_t n) {
  push([&](Batch& b) {
    b.meta.insert(b.meta.end(), {kEvBodyEnd, conn, seq, n});
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t name_off = static_cast<uint32_t>(b.bytes.size());
      b.bytes.append(trailers[i].name.p, trailers[i].name.len);
      const uint32_t value_off = static_cast<uint32_t>(b.bytes.size());
      b.bytes.append(trailers[i].value.p, trailers[i].value.len);
      b.meta.insert(b.meta.end(), {name_off, trailers[i].name.len, value_off, trailers[i].value.len});
    }
  });
}

void EventQueue::push_close(uint32_t conn, uint32_t reason) {
  push([&](Batch& b) { b.meta.insert(b.meta.end(), {kEvClose, conn, reason}); });
}

void EventQueue::push_drain(uint32_t conn) {
  push([&](Batch& b) { b.meta.insert(b.meta.end(), {kEvDrain, conn}); });
}

void EventQueue::push_client_error(uint32_t conn, uint32_t status) {
  push([&](Batch& b) { b.meta.insert(b.meta.end(), {kEvClientError, conn, status}); });
}

void EventQueue::push_raw(uint32_t conn, Slice data) {
  push([&](Batch& b) {
    const uint32_t base = static_cast<uint32_t>(b.bytes.size());
    b.bytes.append(data.p, data.len);
    b.meta.insert(b.meta.end(), {kEvRaw, conn, base, data.len});
  });
}

void EventQueue::push_raw_end(uint32_t conn) {
  push([&](Batch& b) { b.meta.insert(b.meta.end(), {kEvRawEnd, conn}); });
}

void EventQueue::push_server_closed() {
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

bool EventQueue::take(Batch& out) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    out.clear();
    std::swap(out, pending_);
    out.last = closed_;
    announced_ = false;
    pending_bytes_.store(0, std::memory_order_relaxed);
  }
  room_.notify_all();
  if (on_taken_) on_taken_();
  return !out.meta.empty();
}

void EventQueue::shut() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    closed_ = true;
    pending_.clear();
  }
  room_.notify_all();
}

void EventQueue::wait_for_room(size_t cap) {
  std::unique_lock<std::mutex> lk(mu_);
  room_.wait(lk, [&] { return closed_ || pending_.bytes.size() < cap; });
}

}  // namespace nova
