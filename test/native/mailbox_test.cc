// deps:
// The mailbox (native/io/mailbox.h) between JS and an I/O thread: commands arrive whole and in order, and after a
// burst its three arenas (the producer's staging, the posted commands, the owner's last take) give back what the
// burst grew beyond the mailbox's keep. They used to keep the largest flush ever, each: after 1,000 hostile clients
// the poll loop's held ~480 MiB, and every blocking connection (one mailbox each) hundreds of KiB.
#include <cstdio>
#include <cstring>
#include <string>
#include "../../native/io/mailbox.h"
#include "check.h"

using namespace nova;

namespace {

int g_wakes = 0;
void count_wake(void*) { ++g_wakes; }

// Stages n commands with `size` body bytes each, seq from `first`.
void stage(Mailbox& m, uint32_t first, int n, size_t size) {
  const std::string body(size, 'x');
  for (int i = 0; i < n; ++i) {
    char* reason;
    char* fields;
    char* data;
    CommandHead* h = m.staging.begin(0, 0, static_cast<uint32_t>(size), &reason, &fields, &data);
    h->conn = 1;
    h->seq = first + static_cast<uint32_t>(i);
    std::memcpy(data, body.data(), size);
  }
}

void test_burst_then_quiet() {
  g_test = "burst then quiet";
  const size_t keep = kConnMailboxKeep;
  Mailbox m(&count_wake, nullptr, keep);
  CommandBuffer taken;
  // A burst: 32 answers of 4 KiB in one flush (what a pipelining client can have dispatched).
  stage(m, 0, 32, 4096);
  m.post();
  CHECK(g_wakes == 1, "one wake-up per post");
  CHECK(m.staging.capacity() <= keep, "staging keeps %zu after the post", m.staging.capacity());
  m.take(taken);
  CHECK(taken.count() == 32, "the whole flush arrives: %zu", taken.count());
  uint32_t next = 0;
  bool in_order = true;
  taken.for_each([&](const CommandHead& h, Slice, Slice, Slice data) {
    in_order = in_order && h.seq == next++ && data.len == 4096;
  });
  CHECK(in_order, "in order, whole");
  CHECK(taken.capacity() >= 32 * 4096, "the take holds the burst");
  taken.clear(m.keep());
  CHECK(taken.capacity() <= keep, "the owner's buffer keeps %zu after the burst", taken.capacity());
  // Quiet again: small flushes cycle through the three buffers, none of which still holds the burst's size.
  for (uint32_t round = 0; round < 4; ++round) {
    stage(m, 100 + round, 1, 64);
    m.post();
    CHECK(m.staging.capacity() <= keep, "staging keeps %zu", m.staging.capacity());
    m.take(taken);
    CHECK(taken.count() == 1, "one command");
    CHECK(taken.capacity() <= keep, "the take's buffer keeps %zu", taken.capacity());
    taken.clear(m.keep());
  }
}

void test_small_flushes_reuse() {
  g_test = "small flushes reuse";
  // Below the keep, the arenas are reused (no allocation per flush once warm): the capacity stays.
  Mailbox m(&count_wake, nullptr, kLoopMailboxKeep);
  CommandBuffer taken;
  stage(m, 0, 8, 1000);
  m.post();
  m.take(taken);
  const size_t cap = taken.capacity();
  taken.clear(m.keep());
  CHECK(taken.capacity() == cap, "a small arena is kept: %zu -> %zu", cap, taken.capacity());
}

}  // namespace

int main() {
  test_burst_then_quiet();
  test_small_flushes_reuse();
  return check_exit("mailbox_test");
}
