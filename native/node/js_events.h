// The I/O threads' events as JS reads them: the batch layout of lib/contract.ts (uint32 records in `meta`, the
// bytes they point into in `bytes`), written by one JsWriter per I/O thread without a lock and handed over once per
// loop turn. At most one batch is announced to JS at a time; commits while JS hasn't taken it join it.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include "../io/registry.h"

namespace nova {

enum EventType : uint32_t {
  kEvRequest = 1,
  kEvBody = 2,
  kEvBodyEnd = 3,
  kEvClose = 4,
  kEvDrain = 5,
  kEvClientError = 6,
  kEvServerClosed = 7,
  kEvRaw = 8,
  kEvRawEnd = 9,
};

enum RequestFlag : uint32_t {
  kReqHead = 0x4,
  kReqHasBody = 0x8,
  kReqExpectContinue = 0x10,
  kReqContinueHeld = 0x20,  // no 100 Continue was sent: the body waits for JS's 100 or final head
  kReqUpgrade = 0x40,       // the record ends with [tailOff, tailLen]: the bytes received after the head
  kReqExpectOther = 0x80,   // an Expect field (HTTP/1.1) without 100-continue: JS answers 417 or its listener does
};

// The most one batch holds. Its byte offsets are uint32 words, and JS gets it as one Buffer and one Uint32Array:
// the smallest Buffer limit of any Node version (buffer.constants.MAX_LENGTH, 2^30 - 1 on 32-bit builds) is far
// above both. Events past a limit go into the next batch. kQueuedForJsCap keeps real batches at a few MiB, so a
// cut is for what that cap does not bound by construction (one read per thread on top of it, many threads).
constexpr size_t kBatchBytesMax = size_t{256} << 20;
constexpr size_t kBatchWordsMax = size_t{64} << 20;  // 256 MiB of meta
static_assert(kBatchBytesMax <= UINT32_MAX && kBatchWordsMax <= UINT32_MAX, "batch offsets are uint32");

struct BatchLimits {
  size_t bytes = kBatchBytesMax;
  size_t words = kBatchWordsMax;
};

// One batch in the layout of lib/contract.ts. Bytes and meta words are added only through put() and words(),
// which never let the batch pass its limits (an offset is only ever made by put(), so every offset fits its
// uint32); whoever fills a batch asks fits() before a record and starts another batch when it would not fit.
class JsBatch {
 public:
  explicit JsBatch(BatchLimits limits = BatchLimits{}) : limits_(limits) {}

  // Whether a record of `bytes` bytes and `words` meta words still fits.
  bool fits(size_t bytes, size_t words) const {
    return bytes <= limits_.bytes - bytes_.size() && words <= limits_.words - meta_.size();
  }
  // Appends n bytes and returns their offset. Past the limit is the caller's bug (it must ask fits() first): the
  // process aborts rather than hand JS a wrapped offset.
  uint32_t put(const char* p, size_t n);
  // Appends n meta words (zeroed) and returns them, valid until the next words().
  uint32_t* words(size_t n);
  const std::string& bytes() const { return bytes_; }
  const std::vector<uint32_t>& meta() const { return meta_; }
  const BatchLimits& limits() const { return limits_; }

  // Connections JS hears of for the first time in this batch (their handles, for respond() and friends), and
  // the connections whose Close is in it (JS forgets them after it has seen it).
  std::vector<std::shared_ptr<ConnHandle>> handles;
  std::vector<uint32_t> closed;
  bool last = false;  // ends with ServerClosed (or the events were shut): nothing will ever come again
  bool empty() const { return meta_.empty() && handles.empty() && closed.empty(); }
  void clear();
  // Appends other's events after ours (its byte offsets rebased); other is left empty. The caller checked that
  // they fit (fits(other.bytes().size(), other.meta().size())).
  void append(JsBatch& other);
  void swap(JsBatch& other);
  // Frees the buffers (when empty) if their capacity is above these: buffers move between the writers, the pending
  // batch and JS's last one by swapping, so without this every writer (one per blocking connection) could keep the
  // size of some whole earlier batch.
  void release_above(size_t bytes, size_t words);

 private:
  void require(size_t bytes, size_t words) const;
  BatchLimits limits_;
  std::vector<uint32_t> meta_;
  std::string bytes_;
};

class JsEvents : public EventSink, public std::enable_shared_from_this<JsEvents> {
 public:
  // notify is called (outside the lock) when a batch becomes pending: it must make JS call take() soon (once per
  // call). limits: the size of one batch (tests make it small to see the cut).
  explicit JsEvents(std::function<void()> notify, BatchLimits limits = BatchLimits{})
      : limits_(limits), pending_(limits), notify_(std::move(notify)) {}

  std::unique_ptr<EventWriter> writer() override;
  void server_closed() override;
  size_t pending_bytes() const override { return pending_bytes_.load(std::memory_order_relaxed); }
  void wait_for_room(size_t cap) override;
  void set_on_taken(std::function<void()> f) override { on_taken_ = std::move(f); }
  void shut() override;

  // JS thread: moves the oldest pending batch into `out` (whose old contents are dropped); false if it has no
  // record. When more batches wait behind it, notify is called again: one take per notify.
  bool take(JsBatch& out);
  // A writer's commit.
  void publish(JsBatch& b);

 private:
  // The batch new events join; a full one moves to ready_ first.
  JsBatch& tail_for(size_t bytes, size_t words);

  const BatchLimits limits_;
  std::mutex mu_;
  std::condition_variable room_;
  std::deque<JsBatch> ready_;  // full batches, oldest first, before pending_
  JsBatch pending_;
  size_t queued_ = 0;  // bytes in ready_ and pending_
  bool announced_ = false;
  bool closed_ = false;
  std::function<void()> notify_;
  std::function<void()> on_taken_;
  std::atomic<size_t> pending_bytes_{0};
};

}  // namespace nova
