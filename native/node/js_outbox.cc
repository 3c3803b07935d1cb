// The JS thread's connection handles and response staging (see js_outbox.h).
#include "js_outbox.h"

namespace nova {

void Outbox::learn(std::vector<std::shared_ptr<ConnHandle>>& handles) {
  for (auto& h : handles) {
    const uint32_t id = h->id;
    if (std::shared_ptr<ConnHandle>* old = conns_.find(id)) {
      *old = std::move(h);  // the id came round again (2^32 connections) before JS saw the old one's Close
      last_ = nullptr;
    } else {
      conns_.insert(id, std::move(h));
    }
  }
  handles.clear();
}

void Outbox::forget(const std::vector<uint32_t>& ids) {
  for (uint32_t id : ids) {
    if (last_ != nullptr && last_->id == id) last_ = nullptr;
    conns_.erase(id);
  }
}

void Outbox::flush() {
  for (auto& m : touched_) m->post();
  touched_.clear();
}

void Outbox::set_pause(uint32_t id, bool paused) {
  ConnHandle* h = find(id);
  if (h == nullptr) return;
  {
    std::lock_guard<std::mutex> lk(h->mu);
    h->pause = paused ? 1 : 0;
  }
  h->wake(h);
}

bool Outbox::want_drain(uint32_t id) {
  ConnHandle* h = find(id);
  if (h == nullptr) return true;
  h->want_drain.store(true);
  // Either we see the output below the mark here, or the owning thread sees want_drain after it writes.
  if (h->queued_writable() < static_cast<int64_t>(high_water_)) return h->want_drain.exchange(false);
  return false;
}

void Outbox::clear() {
  for (auto& m : touched_) m->staging.clear(m->keep());
  touched_.clear();
  conns_.clear();
  last_ = nullptr;
}

}  // namespace nova
