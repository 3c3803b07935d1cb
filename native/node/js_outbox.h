// The JS thread's side of the connections: the handles of the connections JS knows (learned from the batches,
// forgotten after JS has seen their Close), and the responses JS stages into each owner's mailbox (one arena per
// mailbox, posted with one lock and one wake-up per flush). Only the JS thread touches an Outbox.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>
#include "../io/id_map.h"
#include "../io/registry.h"

namespace nova {

class Outbox {
 public:
  explicit Outbox(size_t high_water) : high_water_(high_water) {}

  // The handles a batch introduced / the ids whose Close JS has seen (their handles are dropped).
  void learn(std::vector<std::shared_ptr<ConnHandle>>& handles);
  void forget(const std::vector<uint32_t>& ids);
  // The handle of a connection JS knows, or nullptr (closed, or never announced).
  ConnHandle* find(uint32_t id) {
    if (last_ != nullptr && last_->id == id) return last_;
    std::shared_ptr<ConnHandle>* found = conns_.find(id);
    last_ = found == nullptr ? nullptr : found->get();
    return last_;
  }

  // Appends a command for h to its owner's staging arena (see CommandBuffer::begin).
  CommandHead* stage(ConnHandle& h, uint32_t reason_len, uint32_t fields_len, uint32_t data_len, char** reason,
                     char** fields, char** data) {
    Mailbox& m = *h.mailbox;
    if (m.staging.empty()) touched_.push_back(h.mailbox);
    CommandHead* c = m.staging.begin(reason_len, fields_len, data_len, reason, fields, data);
    c->conn = h.id;
    return c;
  }
  // The command's body bytes count against the connection's queue; returns its queued bytes (write()'s value).
  int64_t staged(ConnHandle& h, int64_t body_bytes) {
    h.js_bytes.fetch_add(body_bytes, std::memory_order_relaxed);
    return h.queued();
  }
  // Posts every staged arena to its mailbox (one wake-up each).
  void flush();

  void set_pause(uint32_t id, bool paused);
  // Asks for a Drain event; true when the output is already below the mark (no event will come).
  bool want_drain(uint32_t id);
  // Teardown: drop every handle and staged command.
  void clear();

 private:
  size_t high_water_;
  IdMap<std::shared_ptr<ConnHandle>> conns_;
  ConnHandle* last_ = nullptr;  // most recent lookup: responses come in runs per connection
  std::vector<std::shared_ptr<Mailbox>> touched_;
};

}  // namespace nova
