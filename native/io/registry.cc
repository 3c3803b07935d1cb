// The connection table, the stats and what the owning threads do with posted commands (see registry.h).
#include "registry.h"
#include <chrono>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include "../core/http_errors.h"

namespace nova {

// After a surge of connections ends, glibc keeps what they freed (read buffers, field arrays, per-thread arenas
// in the blocking model) in its arenas: it only gives back the top of a heap, so RSS would stay at the surge's
// peak for good (10,000 connections: +200 MB). malloc_trim returns every free page. Elsewhere: nothing to do.
void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

namespace {
std::atomic<uint64_t> g_answer_bytes{0};  // applied since the last burst trim
std::atomic<uint64_t> g_last_burst_trim{0};
}  // namespace

void note_answer_bytes(uint64_t n) {
  // Folded in per thread every 64 KiB: one shared counter per response would be a contended line between loops.
  thread_local uint64_t local = 0;
  local += n;
  if (local < (64u << 10)) return;
  g_answer_bytes.fetch_add(local, std::memory_order_relaxed);
  local = 0;
}

bool burst_trim_owed() { return g_answer_bytes.load(std::memory_order_relaxed) >= kBurstTrimBytes; }

void release_after_burst(uint64_t now) {
  if (!burst_trim_owed()) return;
  uint64_t prev = g_last_burst_trim.load(std::memory_order_relaxed);
  if (now - prev < kBurstTrimMs || !g_last_burst_trim.compare_exchange_strong(prev, now)) return;
  g_answer_bytes.store(0, std::memory_order_relaxed);
  release_free_memory();
}

namespace {
// The same after a large response's buffer is freed (glibc raises its mmap threshold as big blocks come and go,
// so later big buffers come from the heap and stay there), at most once a second: trimming walks every arena.
void release_after_large_free() {
  static std::atomic<uint64_t> last{0};
  const uint64_t now = now_ms();
  uint64_t prev = last.load(std::memory_order_relaxed);
  if (now - prev < 1000 || !last.compare_exchange_strong(prev, now)) return;
  release_free_memory();
}
}  // namespace

uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// ---------------------------------------------------------------- ConnTable

void ConnTable::add(const std::shared_ptr<ConnHandle>& h) {
  std::lock_guard<std::mutex> lk(mu_);
  do {
    h->id = next_id_++;
    if (next_id_ == 0) next_id_ = 1;  // ids wrap after 4 billion connections; 0 is never used
  } while (by_id_.contains(h->id));
  by_id_.insert(h->id, h.get());
  size_.store(by_id_.size(), std::memory_order_relaxed);
  if (by_id_.size() > peak_) peak_ = by_id_.size();
}

bool ConnTable::remove(ConnHandle* h) {
  std::lock_guard<std::mutex> lk(mu_);
  if (h->idle) {
    lru_.erase(h->lru_pos);
    h->idle = false;
  }
  by_id_.erase(h->id);
  size_.store(by_id_.size(), std::memory_order_relaxed);
  if (peak_ < kSurge || by_id_.size() > peak_ / 2) return false;
  peak_ = by_id_.size();
  return true;
}

void ConnTable::set_idle(ConnHandle* h, bool idle) {
  std::lock_guard<std::mutex> lk(mu_);
  if (idle == h->idle || (idle && h->reaped)) return;
  if (idle) {
    h->lru_pos = lru_.insert(lru_.end(), h);
  } else {
    lru_.erase(h->lru_pos);
  }
  h->idle = idle;
}

bool ConnTable::claim(ConnHandle* h) {
  std::lock_guard<std::mutex> lk(mu_);
  if (h->reaped) return false;
  if (h->idle) {
    lru_.erase(h->lru_pos);
    h->idle = false;
  }
  return true;
}

size_t ConnTable::idle_count() {
  std::lock_guard<std::mutex> lk(mu_);
  return lru_.size();
}

void ConnTable::kill(ConnHandle* h, CloseReason r) {
  {
    std::lock_guard<std::mutex> lk(h->mu);
    if (h->closed) return;
    h->kill_reason = static_cast<uint8_t>(r);
    h->kill = true;
    // Wakes the owning thread if it is blocked in recv/send; the fd can't have been reused: closed is false.
    sock_shutdown_both(h->fd);
  }
  if (h->wake) h->wake(h);
}

bool ConnTable::evict_oldest(CloseReason r) {
  std::shared_ptr<ConnHandle> victim;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (lru_.empty()) return false;
    ConnHandle* h = lru_.front();
    lru_.pop_front();
    h->idle = false;
    h->reaped = true;
    h->kill_reason = static_cast<uint8_t>(r);
    victim = h->shared_from_this();
  }
  kill(victim.get(), r);
  return true;
}

void ConnTable::kill_idle(CloseReason r) {
  std::vector<std::shared_ptr<ConnHandle>> victims;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (ConnHandle* h : lru_) {
      h->idle = false;
      h->reaped = true;
      h->kill_reason = static_cast<uint8_t>(r);
      victims.push_back(h->shared_from_this());
    }
    lru_.clear();
  }
  for (auto& v : victims) kill(v.get(), r);
}

void ConnTable::kill_all(CloseReason r) {
  std::vector<std::shared_ptr<ConnHandle>> all;
  {
    std::lock_guard<std::mutex> lk(mu_);
    by_id_.for_each([&](uint32_t, ConnHandle* h) { all.push_back(h->shared_from_this()); });
  }
  for (auto& v : all) kill(v.get(), r);
}

void ConnTable::shutdown_all() {
  std::vector<std::shared_ptr<ConnHandle>> all;
  {
    std::lock_guard<std::mutex> lk(mu_);
    by_id_.for_each([&](uint32_t, ConnHandle* h) { all.push_back(h->shared_from_this()); });
  }
  for (auto& v : all) {
    v->shutdown = true;
    if (v->wake) v->wake(v.get());
  }
  kill_idle(CloseReason::Shutdown);  // idle ones may be blocked in recv: they close now
}

// ---------------------------------------------------------------- HandleSink

void HandleSink::on_request(Connection&, uint32_t seq, const RequestHead& head, Slice raw, bool /*closes*/) {
  reg_.stats.requests.fetch_add(1, std::memory_order_relaxed);
  w_.request(h_, seq, head, raw);
}

void HandleSink::on_body(Connection&, uint32_t seq, Slice data) { w_.body(h_, seq, data); }

void HandleSink::on_body_end(Connection&, uint32_t seq, const Header* trailers, uint32_t n) {
  w_.body_end(h_, seq, trailers, n);
}

void HandleSink::on_client_error(Connection&, HttpError e) { w_.client_error(h_, error_status(e)); }

void HandleSink::on_raw(Connection&, Slice data) { w_.raw(h_, data); }

void HandleSink::on_raw_end(Connection&) { w_.raw_end(h_); }

// ---------------------------------------------------------------- owning thread side

void Registry::apply(ConnHandle& h, Connection& c, const CommandHead& head, Slice reason, Slice fields, Slice data,
                     uint64_t now) {
  // One command object per thread, reused: its strings keep their capacity, so applying a response allocates
  // nothing once warm. A large body arrives in its own string and is swapped in (and the empty one freed with
  // the command buffer).
  thread_local ResponseCmd cmd;
  cmd.seq = head.seq;
  cmd.kind = head.kind;
  cmd.status = head.status;
  cmd.user_fields = head.user_fields;
  cmd.response_tokens = head.response_tokens;
  cmd.content_length = head.content_length;
  cmd.reason.assign(reason.p, reason.len);
  cmd.fields.assign(fields.p, fields.len);
  int64_t size = data.len;
  if (head.big != nullptr) {
    cmd.data.swap(*head.big);
    size = static_cast<int64_t>(cmd.data.size());
  } else {
    cmd.data.assign(data.p, data.len);
  }
  h.js_bytes.fetch_sub(size, std::memory_order_relaxed);
  note_answer_bytes(static_cast<uint64_t>(size) + fields.len);
  c.on_response(cmd, now);
  if (cmd.data.capacity() > CommandBuffer::kInlineDataMax) std::string().swap(cmd.data);  // don't keep big ones
}

void Registry::apply_flags(ConnHandle& h, Connection& c, uint64_t now) {
  int pause;
  {
    std::lock_guard<std::mutex> lk(h.mu);
    pause = h.pause;
    h.pause = -1;
  }
  if (pause != -1) c.set_body_paused(pause == 1, now);
  if (h.shutdown.load()) c.begin_shutdown(now);
  if (h.kill.load()) c.force_close(static_cast<CloseReason>(h.kill_reason.load()));
}

void Registry::after_write(ConnHandle& h, Connection& c, EventWriter& w) {
  if (c.take_freed_large()) release_after_large_free();
  h.unsent.store(static_cast<int64_t>(c.queued_bytes()));
  h.writable.store(static_cast<int64_t>(c.out_size()));
  if (h.want_drain.load() && h.queued_writable() < static_cast<int64_t>(opts.conn.high_water) &&
      h.want_drain.exchange(false))
    w.drain(h);
}

void Registry::finished(ConnHandle& h, CloseReason r, EventWriter& w) {
  {
    std::lock_guard<std::mutex> lk(h.mu);
    sock_close(h.fd);
    h.closed = true;
  }
  stats.closes[static_cast<int>(r)].fetch_add(1);
  w.close(h, r);
  // While the server closes, whoever sees the table empty pushes ServerClosed: every Close must be handed over
  // before this connection leaves the table, or ServerClosed could overtake it.
  if (closing.load()) w.commit();
  const bool surge_over = table.remove(&h);
  if (surge_over) release_free_memory();
}

}  // namespace nova
