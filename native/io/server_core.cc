// The connection table, the stats and the JS mailbox shared by every I/O model (see server_core.h).
#include "server_core.h"
#include <chrono>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include "../core/http_errors.h"

namespace nova {

namespace {
// After a surge of connections ends, glibc keeps what they freed (read buffers, field arrays, per-thread arenas
// in the blocking model) in its arenas: it only gives back the top of a heap, so RSS would stay at the surge's
// peak for good (10,000 connections: +200 MB). malloc_trim returns every free page. Elsewhere: nothing to do.
void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

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
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// ---------------------------------------------------------------- ConnTable

std::shared_ptr<ConnHandle> ConnTable::add(sock_t fd, std::string address, int port) {
  auto h = std::make_shared<ConnHandle>();
  h->fd = fd;
  h->remote_address = std::move(address);
  h->remote_port = port;
  std::lock_guard<std::mutex> lk(mu_);
  do {
    h->id = next_id_++;
    if (next_id_ == 0) next_id_ = 1;  // ids wrap after 4 billion connections; 0 is never used
  } while (by_id_.count(h->id) != 0);
  by_id_.emplace(h->id, h);
  if (by_id_.size() > peak_) peak_ = by_id_.size();
  return h;
}

bool ConnTable::remove(ConnHandle* h) {
  std::lock_guard<std::mutex> lk(mu_);
  if (h->idle) {
    lru_.erase(h->lru_pos);
    h->idle = false;
  }
  by_id_.erase(h->id);
  if (peak_ < kSurge || by_id_.size() > peak_ / 2) return false;
  peak_ = by_id_.size();
  return true;
}

std::shared_ptr<ConnHandle> ConnTable::find(uint32_t id) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
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

size_t ConnTable::size() {
  std::lock_guard<std::mutex> lk(mu_);
  return by_id_.size();
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
    victim = by_id_[h->id];
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
      victims.push_back(by_id_[h->id]);
    }
    lru_.clear();
  }
  for (auto& v : victims) kill(v.get(), r);
}

void ConnTable::kill_all(CloseReason r) {
  std::vector<std::shared_ptr<ConnHandle>> all;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& kv : by_id_) all.push_back(kv.second);
  }
  for (auto& v : all) kill(v.get(), r);
}

void ConnTable::shutdown_all() {
  std::vector<std::shared_ptr<ConnHandle>> all;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& kv : by_id_) all.push_back(kv.second);
  }
  for (auto& v : all) {
    v->shutdown = true;
    if (v->wake) v->wake(v.get());
  }
  kill_idle(CloseReason::Shutdown);  // idle ones may be blocked in recv: they close now
}

// ---------------------------------------------------------------- QueueSink

void QueueSink::on_request(Connection&, uint32_t seq, const RequestHead& head, Slice raw, bool /*closes*/) {
  core_.stats.requests.fetch_add(1, std::memory_order_relaxed);
  core_.events.push_request(id_, seq, head, raw);
}

void QueueSink::on_body(Connection&, uint32_t seq, Slice data) { core_.events.push_body(id_, seq, data); }

void QueueSink::on_body_end(Connection&, uint32_t seq, const Header* trailers, uint32_t n) {
  core_.events.push_body_end(id_, seq, trailers, n);
}

void QueueSink::on_client_error(Connection&, HttpError e) { core_.events.push_client_error(id_, error_status(e)); }

void QueueSink::on_raw(Connection&, Slice data) { core_.events.push_raw(id_, data); }

void QueueSink::on_raw_end(Connection&) { core_.events.push_raw_end(id_); }

// ---------------------------------------------------------------- owning thread side

void ServerCore::apply_mailbox(ConnHandle& h, Connection& c) {
  thread_local std::vector<ResponseCmd> cmds;
  int pause;
  {
    std::lock_guard<std::mutex> lk(h.mu);
    cmds.swap(h.inbox);
    pause = h.pause;
    h.pause = -1;
  }
  const uint64_t now = now_ms();
  if (pause != -1) c.set_body_paused(pause == 1, now);
  for (ResponseCmd& cmd : cmds) {
    h.js_bytes.fetch_sub(static_cast<int64_t>(cmd.data.size()));
    c.on_response(cmd, now);
  }
  cmds.clear();
  if (h.shutdown.load()) c.begin_shutdown(now);
  if (h.kill.load()) c.force_close(static_cast<CloseReason>(h.kill_reason.load()));
}

void ServerCore::after_write(ConnHandle& h, Connection& c) {
  if (c.take_freed_large()) release_after_large_free();
  h.unsent.store(static_cast<int64_t>(c.queued_bytes()));
  h.writable.store(static_cast<int64_t>(c.out_size()));
  if (h.want_drain.load() && h.queued_writable() < static_cast<int64_t>(opts.high_water) &&
      h.want_drain.exchange(false))
    events.push_drain(h.id);
}

void ServerCore::finished(ConnHandle& h, CloseReason r) {
  {
    std::lock_guard<std::mutex> lk(h.mu);
    sock_close(h.fd);
    h.closed = true;
  }
  stats.closes[static_cast<int>(r)].fetch_add(1);
  const bool surge_over = table.remove(&h);
  events.push_close(h.id, static_cast<uint32_t>(r));
  if (surge_over) release_free_memory();
}

// ---------------------------------------------------------------- JS thread side

int64_t ServerCore::stage(uint32_t conn, ResponseCmd&& cmd) {
  if (!last_ || last_->id != conn) last_ = table.find(conn);
  // The connection is gone (its Close event is on its way to JS): report it as full, so a writer stops.
  if (!last_) return INT64_C(1) << 40;
  last_->js_bytes.fetch_add(static_cast<int64_t>(cmd.data.size()));
  const int64_t q = last_->queued();
  staged_.emplace_back(last_, std::move(cmd));
  return q;
}

void ServerCore::flush() {
  if (staged_.empty()) return;
  thread_local std::vector<ConnHandle*> touched;
  touched.clear();
  size_t i = 0;
  while (i < staged_.size()) {
    ConnHandle* h = staged_[i].first.get();
    {
      std::lock_guard<std::mutex> lk(h->mu);
      for (; i < staged_.size() && staged_[i].first.get() == h; ++i) h->inbox.push_back(std::move(staged_[i].second));
    }
    if (touched.empty() || touched.back() != h) touched.push_back(h);
  }
  for (ConnHandle* h : touched) h->wake(h);  // handles stay alive: staged_ still holds them
  staged_.clear();
  last_.reset();
}

void ServerCore::set_pause(uint32_t conn, bool paused) {
  std::shared_ptr<ConnHandle> h = table.find(conn);
  if (!h) return;
  {
    std::lock_guard<std::mutex> lk(h->mu);
    h->pause = paused ? 1 : 0;
  }
  h->wake(h.get());
}

bool ServerCore::want_drain(uint32_t conn) {
  std::shared_ptr<ConnHandle> h = table.find(conn);
  if (!h) return true;
  h->want_drain.store(true);
  // Either we see the output below the mark here, or the owning thread sees want_drain after it writes.
  if (h->queued_writable() < static_cast<int64_t>(opts.high_water)) return h->want_drain.exchange(false);
  return false;
}

}  // namespace nova
