// deps: node/js_events
// The JS batch (native/node/js_events.cc) never holds more than its limits: its byte offsets are uint32 and JS gets
// it as one Buffer, so a batch that grew past 4 GiB would hand JS wrapped offsets and one past the Buffer limit was
// dropped. Here the limits are small: a writer cuts its batch before a record that would not fit, JsEvents cuts
// when joining writers' batches, every batch taken stays within the limits with every record intact and in order,
// each batch is announced once, and a record put past the limits by hand aborts instead of wrapping.
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>
#include "../../native/node/js_events.h"
#include "check.h"

using namespace nova;

// Numbers compared as numbers (CHECK_EQ compares strings).
#define CHECK_N(got, want, msg) CHECK_EQ(std::to_string(got), std::to_string(want), msg)

namespace {

constexpr BatchLimits kSmall{1000, 120};

// A request head with `fields` fields "F<i>: <value>", as the parser would report it (slices into raw).
struct Head {
  std::string raw;
  std::vector<Header> headers;
  RequestHead h;
};

Head make_head(uint32_t n, uint32_t fields) {
  Head x;
  x.raw = "GET /r" + std::to_string(n) + " HTTP/1.1\r\n";
  std::vector<std::pair<size_t, size_t>> at;
  for (uint32_t i = 0; i < fields; ++i) {
    at.emplace_back(x.raw.size(), ("F" + std::to_string(i)).size());
    x.raw += "F" + std::to_string(i) + ": value-" + std::to_string(n) + "\r\n";
  }
  x.raw += "\r\n";
  const char* p = x.raw.data();
  x.h.method = Slice{p, 3};
  x.h.target = Slice{p + 4, static_cast<uint32_t>(x.raw.find(' ', 4) - 4)};
  for (auto& a : at) {
    const size_t v = a.first + a.second + 2;
    const size_t e = x.raw.find('\r', v);
    x.headers.push_back(
        Header{Slice{p + a.first, static_cast<uint32_t>(a.second)}, Slice{p + v, static_cast<uint32_t>(e - v)}});
  }
  x.h.headers = x.headers.data();
  x.h.header_count = fields;
  return x;
}

std::string text(const JsBatch& b, uint32_t off, uint32_t len) {
  if (size_t{off} + len > b.bytes().size()) return "<out of the batch>";
  return b.bytes().substr(off, len);
}

// Walks a taken batch: checks its size, and every Request record against what was written (make_head).
struct Reader {
  uint32_t next_request = 0;
  size_t closes = 0;
  size_t batches = 0;

  void read(const JsBatch& b, const BatchLimits& lim, uint32_t fields) {
    ++batches;
    CHECK(b.bytes().size() <= lim.bytes, "a batch's bytes stay within the limit");
    CHECK(b.meta().size() <= lim.words, "a batch's words stay within the limit");
    const std::vector<uint32_t>& m = b.meta();
    for (size_t i = 0; i < m.size();) {
      switch (m[i]) {
        case kEvRequest: {
          CHECK_EQ(text(b, m[i + 6], m[i + 7]), "/r" + std::to_string(next_request), "request target");
          CHECK_N(m[i + 8], fields, "field count");
          for (uint32_t k = 0; k < m[i + 8]; ++k) {
            const uint32_t* q = &m[i + 9 + 4 * k];
            CHECK_EQ(text(b, q[0], q[1]), "F" + std::to_string(k), "field name");
            CHECK_EQ(text(b, q[2], q[3]), "value-" + std::to_string(next_request), "field value");
          }
          ++next_request;
          i += 9 + 4 * size_t{m[i + 8]};
          break;
        }
        case kEvClose:
          ++closes;
          i += 3;
          break;
        default: FAIL("unexpected record " + std::to_string(m[i])); return;
      }
    }
  }
};

void test_writer_cuts() {
  g_test = "writer cuts";
  int notified = 0;
  auto events = std::make_shared<JsEvents>([&] { ++notified; }, kSmall);
  auto w = events->writer();
  auto h = std::make_shared<ConnHandle>();
  h->id = 7;
  // 40 requests of ~60 bytes and 17 words, one turn, one commit: ~2,400 bytes and 680 words for batches of 1,000
  // bytes and 120 words.
  for (uint32_t n = 0; n < 40; ++n) {
    Head x = make_head(n, 2);
    w->request(*h, n, x.h, Slice{x.raw.data(), static_cast<uint32_t>(x.raw.size())});
    CHECK(w->bytes() <= kSmall.bytes, "the writer's own batch stays within the limit");
  }
  w->commit();
  Reader r;
  JsBatch b;
  int takes = 0;
  while (notified > takes) {
    ++takes;
    events->take(b);
    r.read(b, kSmall, 2);
  }
  CHECK_N(r.next_request, 40u, "every request arrived, in order");
  CHECK(r.batches >= 6, "the events were cut into several batches: " + std::to_string(r.batches));
  CHECK_N(events->pending_bytes(), size_t{0}, "nothing left queued");
  CHECK(!events->take(b), "nothing left to take");
}

// A body of 150 bytes that starts with "body-<n>".
std::string padded_body(uint32_t n) {
  std::string body = "body-" + std::to_string(n) + ";";
  body.resize(150, '.');
  return body;
}

void test_publish_cuts() {
  g_test = "publish cuts";
  int notified = 0;
  auto events = std::make_shared<JsEvents>([&] { ++notified; }, kSmall);
  auto h = std::make_shared<ConnHandle>();
  h->id = 3;
  // Many writers (threads) commit while JS takes nothing: each commit fits a batch, their sum (3,600 bytes) does not.
  std::vector<std::unique_ptr<EventWriter>> writers;
  for (int i = 0; i < 8; ++i) writers.push_back(events->writer());
  uint32_t n = 0;
  for (int round = 0; round < 3; ++round) {
    for (auto& w : writers) {
      const std::string body = padded_body(n++);
      w->body(*h, 1, Slice{body.data(), static_cast<uint32_t>(body.size())});
      w->commit();
    }
  }
  CHECK_N(notified, 1, "one announcement while JS has not taken anything");
  uint32_t next = 0;
  JsBatch b;
  int takes = 0;
  while (notified > takes) {
    ++takes;
    events->take(b);
    const std::vector<uint32_t>& m = b.meta();
    CHECK(b.bytes().size() <= kSmall.bytes && m.size() <= kSmall.words, "a batch stays within the limits");
    for (size_t i = 0; i + 5 <= m.size(); i += 5) {
      CHECK_N(m[i], uint32_t{kEvBody}, "body record");
      CHECK_EQ(text(b, m[i + 3], m[i + 4]), padded_body(next), "body bytes after the rebase");
      ++next;
    }
  }
  CHECK_N(next, 24u, "every body arrived, in order");
  CHECK(takes >= 4, "joined batches were cut: " + std::to_string(takes) + " takes");
  CHECK_N(events->pending_bytes(), size_t{0}, "nothing left queued");
}

void test_large_records() {
  g_test = "large records";
  // Records of 400 bytes into batches of 1,000: at most two per batch, never split.
  int notified = 0;
  auto events = std::make_shared<JsEvents>([&] { ++notified; }, kSmall);
  auto w = events->writer();
  auto h = std::make_shared<ConnHandle>();
  h->id = 9;
  for (int i = 0; i < 10; ++i) {
    std::string body = "body-" + std::to_string(i);
    body.resize(400, '.');
    w->body(*h, 2, Slice{body.data(), static_cast<uint32_t>(body.size())});
  }
  w->close(*h, CloseReason::Client);
  w->commit();
  size_t records = 0;
  JsBatch b;
  for (int takes = 0; notified > takes; ++takes) {
    events->take(b);
    CHECK(b.bytes().size() <= 800, "two 400-byte records at most");
    for (size_t i = 0; i < b.meta().size(); i += b.meta()[i] == kEvBody ? 5 : 3) ++records;
  }
  CHECK_N(records, size_t{11}, "ten bodies and the close");
}

void test_server_closed_after_full_batch() {
  g_test = "server closed";
  int notified = 0;
  auto events = std::make_shared<JsEvents>([&] { ++notified; }, BatchLimits{1000, 10});
  auto w = events->writer();
  auto h = std::make_shared<ConnHandle>();
  h->id = 1;
  w->close(*h, CloseReason::Client);
  w->close(*h, CloseReason::Client);
  w->close(*h, CloseReason::Client);  // 9 words of 10
  w->commit();
  events->server_closed();  // 2 more words: a batch of its own
  JsBatch b;
  CHECK(events->take(b), "first batch");
  CHECK(!b.last, "not the last batch");
  CHECK_N(b.meta().size(), size_t{9}, "the three closes");
  CHECK_N(notified, 2, "the next batch is announced");
  CHECK(events->take(b), "second batch");
  CHECK(b.last, "the last batch");
  CHECK_N(b.meta().size(), size_t{2}, "ServerClosed");
  CHECK_N(b.meta()[0], uint32_t{kEvServerClosed}, "ServerClosed");
}

// put() past the limits aborts: no caller can make an offset that wraps.
void test_put_past_limit_aborts() {
  g_test = "put past the limit";
  const pid_t pid = fork();
  if (pid == 0) {
    std::freopen("/dev/null", "w", stderr);
    JsBatch b(BatchLimits{16, 4});
    b.put("0123456789", 10);
    b.put("0123456789", 10);  // 20 > 16
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "the second put aborts");
}

void test_default_limits() {
  g_test = "default limits";
  // The smallest buffer.constants.MAX_LENGTH of any Node version is 2^30 - 1 (32-bit builds).
  CHECK(kBatchBytesMax <= (size_t{1} << 30) - 1, "a batch's bytes fit any Buffer");
  CHECK(kBatchWordsMax * 4 <= (size_t{1} << 30) - 1, "a batch's meta fits any Uint32Array");
  CHECK(kBatchBytesMax >= 4 * kQueuedForJsCap, "the cut is far above what the cap lets queue");
}

}  // namespace

int main() {
  test_writer_cuts();
  test_publish_cuts();
  test_large_records();
  test_server_closed_after_full_batch();
  test_put_past_limit_aborts();
  test_default_limits();
  return check_exit("js_events_test");
}
