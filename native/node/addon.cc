// The addon: module init and the native Server class that lib/server.ts drives (contract: lib/contract.ts).
// This file and its thread-safe function are the only code that touches N-API; I/O threads reach JS only
// through JsEvents' notify, which makes one non-blocking TSFN call per batch. Responses go the other way through
// the Outbox (js_outbox.h): encoded into the owner's mailbox arena, posted once per flush.
#include <napi.h>
#include <cstring>
#include <memory>
#include "../io/driver.h"
#include "js_events.h"
#include "js_outbox.h"
#include "server_inline.h"

namespace nova {
namespace {

class ServerWrap;
void call_js(Napi::Env env, Napi::Function fn, ServerWrap* self, void* data);
using Tsfn = Napi::TypedThreadSafeFunction<ServerWrap, void, call_js>;

// listen()'s flags word (lib/contract.ts ListenFlag).
constexpr uint32_t kListenIpv6Only = 1;
constexpr uint32_t kListenReusePort = 2;

// One option of the options object, which must be there: lib/options.ts validates and defaults every option and
// sends them all (toNativeOptions); native keeps no second set of defaults.
uint32_t option_u32(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 0 && d <= 4294967295.0)) {
    throw Napi::TypeError::New(o.Env(), std::string("nova-http: the native option \"") + key +
                                            "\" must be a number from 0 to 2^32-1 (lib/options.ts sends every option)");
  }
  return static_cast<uint32_t>(d);
}

// JS strings as bytes: header text as latin1 (what node:http writes, latin1_arg), bodies as UTF-8 (Body).

// A response body as JS gives it: a string (sent as UTF-8) or bytes. Measured first, copied once into the
// command arena (or, when large, into a buffer of its own) by copy_to().
struct Body {
  napi_env env = nullptr;
  napi_value str = nullptr;  // a string, or nullptr
  const char* bytes = nullptr;
  size_t len = 0;  // a string that fits the arena: room for its longest UTF-8 form (copy_to says more)

  // As few N-API calls as the type allows: this runs for every response.
  Body(const Napi::Value& v) : env(v.Env()) {
    napi_valuetype t = napi_undefined;
    napi_typeof(env, v, &t);
    if (t == napi_string) {
      str = v;
      // Its UTF-16 length costs nothing (latin1 without a buffer); at most 3 UTF-8 bytes per unit. A string that
      // surely fits the arena is written into that much room, and the room trimmed to what was written: no pass
      // over the string to measure it first.
      size_t units = 0;
      napi_get_value_string_latin1(env, v, nullptr, 0, &units);
      if (units * 3 < CommandBuffer::kInlineDataMax) len = units * 3;
      else napi_get_value_string_utf8(env, v, nullptr, 0, &len);
      return;
    }
    if (t == napi_undefined || t == napi_null) return;
    bool is = false;
    if (t == napi_object && napi_is_typedarray(env, v, &is) == napi_ok && is) {
      napi_typedarray_type type;
      size_t n = 0;
      void* data = nullptr;
      napi_get_typedarray_info(env, v, &type, &n, &data, nullptr, nullptr);
      bytes = static_cast<const char*>(data);
      len = n * element_size(type);
      return;
    }
    if (t == napi_object && napi_is_arraybuffer(env, v, &is) == napi_ok && is) {
      void* data = nullptr;
      napi_get_arraybuffer_info(env, v, &data, &len);
      bytes = static_cast<const char*>(data);
      return;
    }
    throw Napi::TypeError::New(env, "The response body must be a string, Buffer or Uint8Array");
  }
  static size_t element_size(napi_typedarray_type t) {
    switch (t) {
      case napi_int16_array:
      case napi_uint16_array: return 2;
      case napi_int32_array:
      case napi_uint32_array:
      case napi_float32_array: return 4;
      case napi_float64_array:
      case napi_bigint64_array:
      case napi_biguint64_array: return 8;
      default: return 1;
    }
  }
  // Writes the body at out (room for len bytes and one more: N-API ends a string with a NUL); returns its size.
  size_t copy_to(char* out) const {
    if (len == 0) return 0;
    if (str == nullptr) {
      std::memcpy(out, bytes, len);
      return len;
    }
    size_t n = 0;
    napi_get_value_string_utf8(env, str, out, len + 1, &n);
    return n;
  }
  bool big() const { return len >= CommandBuffer::kInlineDataMax; }
  std::string* to_string() const {
    auto* s = new std::string(len, '\0');
    copy_to(&(*s)[0]);  // the NUL lands on the string's own terminator
    return s;
  }
};

// One N-API call per argument on the response path (it fails for anything but a number).
uint32_t arg_u32(napi_env env, napi_value a, const char* name) {
  uint32_t v = 0;
  if (napi_get_value_uint32(env, a, &v) != napi_ok)
    throw Napi::TypeError::New(env, std::string("The \"") + name + "\" argument must be a number");
  return v;
}
uint32_t arg_u32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return arg_u32(info.Env(), info[i], name);
}

// A flag argument: JS passes booleans (one cheap call); anything else is coerced as JS would.
bool arg_bool(napi_env env, napi_value a) {
  bool v = false;
  if (napi_get_value_bool(env, a, &v) == napi_ok) return v;
  return Napi::Value(env, a).ToBoolean();
}

// A string argument's latin1 length; false when it is not a string (one call instead of a typeof and a length).
bool latin1_arg(napi_env env, napi_value a, size_t* len) {
  *len = 0;
  return napi_get_value_string_latin1(env, a, nullptr, 0, len) == napi_ok;
}

// What the per-response functions of a native server reach it through. They are bound to the object by their
// data (not prototype methods, which unwrap `this` per call: a private-symbol lookup that cost ~5 % of the
// server's CPU pipelined). The functions may outlive the object, so the object clears `self` when it goes.
struct WrapCell {
  ServerWrap* self = nullptr;
};

class ServerWrap : public Napi::ObjectWrap<ServerWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Server",
                       {
                           InstanceMethod<&ServerWrap::Listen>("listen"),
                           InstanceMethod<&ServerWrap::EndWithTrailers>("endWithTrailers"),
                           InstanceMethod<&ServerWrap::Interim>("interim"),
                           InstanceMethod<&ServerWrap::Abort>("abort"),
                           InstanceMethod<&ServerWrap::Upgrade>("upgrade"),
                           InstanceMethod<&ServerWrap::RawWrite>("rawWrite"),
                           InstanceMethod<&ServerWrap::Fail>("fail"),
                           InstanceMethod<&ServerWrap::Flush>("flush"),
                           InstanceMethod<&ServerWrap::PauseBody>("pauseBody"),
                           InstanceMethod<&ServerWrap::ResumeBody>("resumeBody"),
                           InstanceMethod<&ServerWrap::WantDrain>("wantDrain"),
                           InstanceMethod<&ServerWrap::Addresses>("addresses"),
                           InstanceMethod<&ServerWrap::Bytes>("bytes"),
                           InstanceMethod<&ServerWrap::Close>("close"),
                           InstanceMethod<&ServerWrap::CloseIdle>("closeIdle"),
                           InstanceMethod<&ServerWrap::CloseAll>("closeAll"),
                           InstanceMethod<&ServerWrap::Stats>("stats"),
                           InstanceMethod<&ServerWrap::Ref>("ref"),
                           InstanceMethod<&ServerWrap::Configure>("configure"),
                           InstanceMethod<&ServerWrap::Unref>("unref"),
                       });
  }

  explicit ServerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ServerWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "The \"options\" argument must be an object");
    if (!info[1].IsFunction()) throw Napi::TypeError::New(env, "The \"onBatch\" argument must be a function");
    ServerOptions opts;
    ReadOptions(info[0].As<Napi::Object>(), &opts);
    // Weak until listen() and again after ServerClosed: the callback (lib's Dispatcher.onBatch) reaches this
    // object through the dispatcher, so a strong reference would be a cycle through a GC root and a closed
    // server would never be collected. While listening it is strong: a listening server with no reference
    // left in JS keeps serving, as node:http's does.
    on_batch_ = Napi::Weak(info[1].As<Napi::Function>());
    opts_ = opts;
    cell_ = std::make_shared<WrapCell>();
    cell_->self = this;
    Napi::Object self = info.This().As<Napi::Object>();
    Bind(env, self, "respond", &Direct<&ServerWrap::Respond, 10>);
    Bind(env, self, "write", &Direct<&ServerWrap::Write, 4>);
    cleanup_ = env.AddCleanupHook(&ServerWrap::Teardown, this);
  }

  // Makes `name` an own function of `obj` that calls `cb` with this server's cell as its data.
  void Bind(Napi::Env env, Napi::Object obj, const char* name, napi_callback cb) {
    auto* data = new std::shared_ptr<WrapCell>(cell_);
    napi_value fn = nullptr;
    if (napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, data, &fn) != napi_ok ||
        napi_add_finalizer(
            env, fn, data, [](napi_env, void* d, void*) { delete static_cast<std::shared_ptr<WrapCell>*>(d); }, nullptr,
            nullptr) != napi_ok) {
      delete data;
      throw Napi::Error::New(env, std::string("Cannot create the native ") + name + " function");
    }
    obj.Set(name, Napi::Value(env, fn));
  }

  // The callback of a bound function: up to N arguments on the stack (missing ones are undefined), no unwrap.
  template <napi_value (ServerWrap::*M)(napi_env, const napi_value*), size_t N>
  static napi_value Direct(napi_env env, napi_callback_info cbi) {
    napi_value argv[N];
    size_t argc = N;
    void* data = nullptr;
    if (napi_get_cb_info(env, cbi, &argc, argv, nullptr, &data) != napi_ok) return nullptr;
    ServerWrap* self = static_cast<std::shared_ptr<WrapCell>*>(data)->get()->self;
    try {
      if (self != nullptr) return (self->*M)(env, argv);
      napi_value zero = nullptr;
      napi_create_uint32(env, 0, &zero);
      return zero;
    } catch (const Napi::Error& e) {
      e.ThrowAsJavaScriptException();
      return nullptr;
    }
  }

  static void ReadOptions(const Napi::Object& o, ServerOptions* out) {
    ServerOptions& opts = *out;
    opts.io_model = option_u32(o, "ioModel") == 1 ? IoModel::Evented : IoModel::Blocking;
    const uint32_t backend = option_u32(o, "backend");
    opts.backend = backend == 1 ? Backend::Epoll : backend == 2 ? Backend::Poll : Backend::Default;
    opts.threads = static_cast<int>(option_u32(o, "threads"));
    opts.conn.keep_alive_timeout_ms = option_u32(o, "keepAliveTimeout");
    opts.conn.headers_timeout_ms = option_u32(o, "headersTimeout");
    opts.conn.request_timeout_ms = option_u32(o, "requestTimeout");
    opts.conn.max_requests_per_socket = option_u32(o, "maxRequestsPerSocket");
    opts.conn.limits.max_header_size = option_u32(o, "maxHeaderSize");
    opts.max_connections = option_u32(o, "maxConnections");
    opts.conn.allow_half_open = option_u32(o, "allowHalfOpen") != 0;
    opts.conn.check_continue = option_u32(o, "checkContinue") != 0 ? 1 : 0;
    opts.conn.high_water = option_u32(o, "highWaterMark");
    opts.conn.limits.host_optional = option_u32(o, "requireHostHeader") == 0;
  }

  ~ServerWrap() override {
    cell_->self = nullptr;
    // Garbage-collected while still running (a listening server that lost every reference): stop it.
    if (!torn_down_) {
      cleanup_.Remove(Env());
      Stop();
    }
  }

  // Called on the JS thread by call_js with every pending event.
  void Deliver(Napi::Env env, Napi::Function fn) {
    napi_value args[3];
    if (!TakeBatch(env, args)) return;
    napi_value undefined, result;
    napi_get_undefined(env, &undefined);
    // A throw propagates as an uncaught exception (the TSFN runs us inside a callback scope); a failure while
    // the environment is going away is ignored.
    napi_call_function(env, undefined, fn, 3, args, &result);
    Delivered();
  }

  // JS has seen the batch's Close records: it won't answer those connections any more. (Anything it staged was
  // flushed at the batch's end; flushing again first costs nothing and keeps a staged command from outliving
  // the handle it names.)
  void Delivered() {
    if (!outbox_) return;
    outbox_->flush();
    outbox_->forget(batch_.closed);
    batch_.closed.clear();
  }

  // The inline driver calls this from a libuv callback: no scope is open, and nextTick/microtasks must run
  // after the handlers, so it goes through MakeCallback; a throw becomes an uncaught exception, as in node:http.
  void DeliverInline() {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    napi_value args[3];
    // Taken before TakeBatch: a ServerClosed in this batch makes the reference weak again.
    const Napi::Function fn = on_batch_.Value();
    if (fn.IsEmpty() || !TakeBatch(env, args)) return;
    if (!async_context_) async_context_ = std::make_unique<Napi::AsyncContext>(env, "nova-http");
    napi_value result;
    const napi_status st = napi_make_callback(env, *async_context_, Value(), fn, 3, args, &result);
    Delivered();
    if (st == napi_pending_exception) {
      napi_value e;
      if (napi_get_and_clear_last_exception(env, &e) == napi_ok) napi_fatal_exception(env, e);
    }
  }

 private:
  static void Teardown(ServerWrap* self) {
    self->torn_down_ = true;
    self->Stop();
  }

  // The pending events as (bytes, meta, count) for lib/server.ts; false when there are none.
  // Raw N-API with status checks: this runs from the TSFN and uv callbacks, also while a worker is being
  // terminated, when every call may fail and node-addon-api's error path would abort the process.
  bool TakeBatch(Napi::Env env, napi_value* args) {
    if (!driver_) return false;
    if (!events_->take(batch_)) return false;
    outbox_->learn(batch_.handles);
    const size_t n = batch_.meta().size();
    // After ServerClosed no I/O thread will ever call again: let the process exit, join the driver's threads
    // (they end by themselves once closed) and let this object be collected. (Asked of the events: the last meta
    // words can't tell, a Close record for connection 7 ends in [7, reason] too.)
    if (batch_.last) Closed();
    void* data = nullptr;
    napi_value ab;
    // (Both fit by construction: JsBatch never passes kBatchBytesMax/kBatchWordsMax.)
    if (napi_create_buffer_copy(env, batch_.bytes().size(), batch_.bytes().data(), &data, &args[0]) != napi_ok)
      return false;
    if (napi_create_arraybuffer(env, n * sizeof(uint32_t), &data, &ab) != napi_ok) return false;
    if (n) std::memcpy(data, batch_.meta().data(), n * sizeof(uint32_t));
    if (napi_create_typedarray(env, napi_uint32_array, n, ab, 0, &args[1]) != napi_ok) return false;
    return napi_create_double(env, static_cast<double>(n), &args[2]) == napi_ok;
  }

  void Stop() {
    if (driver_) driver_->stop_now();
    if (outbox_) outbox_->clear();
    ReleaseTsfn();
  }

  void Closed() {
    ReleaseTsfn();
    if (driver_) driver_->reap();
    if (listening_ref_) {
      listening_ref_ = false;
      on_batch_.Unref();
    }
  }

  void ReleaseTsfn() {
    if (tsfn_live_) {
      tsfn_live_ = false;
      tsfn_.Release();
    }
  }

  Napi::Value Listen(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (driver_) throw Napi::Error::New(env, "The server is already listening");
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "The \"host\" argument must be a string");
    if (on_batch_.IsEmpty()) throw Napi::Error::New(env, "The onBatch callback was collected");
    if (!info[3].IsString()) throw Napi::TypeError::New(env, "The \"path\" argument must be a string");
    ListenSpec spec;
    spec.host = info[0].As<Napi::String>().Utf8Value();
    spec.port = static_cast<int>(arg_u32(info, 1, "port"));
    spec.backlog = static_cast<int>(arg_u32(info, 2, "backlog"));
    spec.path = info[3].As<Napi::String>().Utf8Value();
    const uint32_t flags = arg_u32(info, 4, "flags");
    spec.fd = info[5].IsNumber() ? info[5].As<Napi::Number>().Int64Value() : -1;
    spec.ipv6_only = (flags & kListenIpv6Only) != 0;
    spec.reuse_port = (flags & kListenReusePort) != 0;

    std::shared_ptr<Driver> driver;
    std::shared_ptr<JsEvents> events;
    if (opts_.io_model == IoModel::Evented && opts_.threads == 0 && opts_.backend != Backend::Poll) {
      struct uv_loop_s* loop = nullptr;  // opaque here: only the inline driver includes uv.h
      napi_get_uv_event_loop(env, &loop);
      driver = make_inline_driver(&events, opts_, loop, [this] { DeliverInline(); });
    }
    if (!driver) {
      // Threaded models (and threads: 0 where the inline driver can't run): one TSFN call per batch.
      tsfn_ = Tsfn::New(env, on_batch_.Value(), "nova-http", 0, 1, this);
      tsfn_live_ = true;
      Tsfn* tsfn = &tsfn_;
      events = std::make_shared<JsEvents>([tsfn] {
        // One call per announced batch; napi_closing only happens after ServerClosed or teardown, when the
        // batch has nobody left to read it.
        const napi_status st = tsfn->NonBlockingCall();
        (void)st;
      });
      auto reg = std::make_shared<Registry>(opts_, events);
      driver = opts_.io_model == IoModel::Evented ? make_evented_driver(reg) : make_blocking_driver(reg);
    }
    if (unref_) {
      if (tsfn_live_) tsfn_.Unref(env);
      driver->unref();
    }
    ListenResult r;
    if (!driver->listen(spec, &r)) {
      ReleaseTsfn();
      const std::string where = spec.fd >= 0 ? "fd " + std::to_string(spec.fd)
                                : !spec.path.empty()
                                    ? spec.path
                                    : (spec.host.empty() ? "::" : spec.host) + ":" + std::to_string(spec.port);
      Napi::Error e = Napi::Error::New(env, "listen " + r.error + ": " + where);
      e.Set("code", Napi::String::New(env, r.error));
      e.Set("syscall", Napi::String::New(env, "listen"));
      e.Set("port", Napi::Number::New(env, spec.path.empty() ? spec.port : -1));
      throw e;
    }
    driver_ = driver;
    events_ = events;
    outbox_ = std::make_unique<Outbox>(opts_.conn.high_water);
    on_batch_.Ref();
    listening_ref_ = true;
    Napi::Object out = Napi::Object::New(env);
    out.Set("address", r.address);
    out.Set("family", r.family);
    out.Set("port", r.port);
    return out;
  }

  Registry* registry_or_null() { return driver_ ? &driver_->registry() : nullptr; }

  // A connection's queue when JS writes to one that is gone (its Close is on its way): full, so a writer stops.
  static constexpr double kGone = static_cast<double>(INT64_C(1) << 40);

  // respond(connId, seq, status, reason, fields, userFields, responseTokens, contentLength, body, end)
  napi_value Respond(napi_env env, const napi_value* a) {
    if (!outbox_) return Napi::Number::New(env, 0);
    const uint32_t conn = arg_u32(env, a[0], "connId");
    const uint32_t seq = arg_u32(env, a[1], "seq");
    const uint32_t status = arg_u32(env, a[2], "status");
    const uint32_t user_fields = arg_u32(env, a[5], "userFields");
    const uint32_t tokens = arg_u32(env, a[6], "responseTokens");
    const Body body(Napi::Value(env, a[8]));
    ConnHandle* h = outbox_->find(conn);
    if (h == nullptr) return Napi::Number::New(env, kGone);
    size_t reason_len = 0;
    size_t fields_len = 0;
    latin1_arg(env, a[3], &reason_len);  // not a string: no reason (0)
    latin1_arg(env, a[4], &fields_len);
    char* reason;
    char* fields;
    char* data;
    CommandHead* c = outbox_->stage(*h, static_cast<uint32_t>(reason_len), static_cast<uint32_t>(fields_len),
                                    body.big() ? 0 : static_cast<uint32_t>(body.len), &reason, &fields, &data);
    size_t n = 0;
    if (reason_len) napi_get_value_string_latin1(env, a[3], reason, reason_len + 1, &n);
    if (fields_len) napi_get_value_string_latin1(env, a[4], fields, fields_len + 1, &n);
    const size_t body_len = PlaceBody(*h, c, data, body);
    c->seq = seq;
    c->status = static_cast<uint16_t>(status);
    c->user_fields = static_cast<uint8_t>(user_fields);
    c->response_tokens = static_cast<uint8_t>(tokens);
    int64_t length = -1;
    if (napi_get_value_int64(env, a[7], &length) != napi_ok) length = -1;  // not a number: unknown
    c->content_length = length;
    c->kind = ResponseCmd::kHead;
    if (body_len) c->kind |= ResponseCmd::kData;
    if (arg_bool(env, a[9])) c->kind |= ResponseCmd::kEnd;
    return Napi::Number::New(env, static_cast<double>(outbox_->staged(*h, static_cast<int64_t>(body_len))));
  }

  // write(connId, seq, chunk, end)
  napi_value Write(napi_env env, const napi_value* a) {
    if (!outbox_) return Napi::Number::New(env, 0);
    return StageChunk(env, a, ResponseCmd::kData, 0);
  }

  // write()/rawWrite(connId, seq, chunk, end): a non-empty chunk is staged as `kind`; `base` is always set.
  Napi::Value StageChunk(napi_env env, const napi_value* a, uint16_t kind, uint16_t base) {
    const uint32_t conn = arg_u32(env, a[0], "connId");
    const uint32_t seq = arg_u32(env, a[1], "seq");
    const Body body(Napi::Value(env, a[2]));
    const bool end = arg_bool(env, a[3]);
    if (body.len == 0 && !end) return Napi::Number::New(env, 0);
    ConnHandle* h = outbox_->find(conn);
    if (h == nullptr) return Napi::Number::New(env, kGone);
    // (A non-empty string has a non-zero len, and writes at least one byte.)
    const size_t n =
        StageBody(*h, seq, static_cast<uint16_t>(base | (body.len ? kind : 0) | (end ? ResponseCmd::kEnd : 0)), body);
    return Napi::Number::New(env, static_cast<double>(outbox_->staged(*h, static_cast<int64_t>(n))));
  }

  // endWithTrailers(connId, seq, chunk, trailers): the last chunk of a response whose head was sent, then its
  // trailer section ("Name: value\r\n"... validated by JS; native sends it only in chunked framing).
  Napi::Value EndWithTrailers(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!outbox_) return Napi::Number::New(env, 0);
    const uint32_t conn = arg_u32(info, 0, "connId");
    const uint32_t seq = arg_u32(info, 1, "seq");
    const Body body(info[2]);
    if (!info[3].IsString()) throw Napi::TypeError::New(env, "The \"trailers\" argument must be a string");
    ConnHandle* h = outbox_->find(conn);
    if (h == nullptr) return Napi::Number::New(env, kGone);
    const uint16_t kind = ResponseCmd::kEnd | ResponseCmd::kTrailers | (body.len ? ResponseCmd::kData : 0);
    const size_t n = StageBody(*h, seq, kind, body, info[3]);
    return Napi::Number::New(env, static_cast<double>(outbox_->staged(*h, static_cast<int64_t>(n))));
  }

  // interim(connId, seq, status, reason, fields): a 1xx interim response before the final head of `seq`
  // (writeContinue, writeProcessing, writeEarlyHints); fields: "Name: value\r\n"..., validated by JS.
  void Interim(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!outbox_) return;
    const uint32_t conn = arg_u32(info, 0, "connId");
    const uint32_t seq = arg_u32(info, 1, "seq");
    const uint32_t status = arg_u32(info, 2, "status");
    size_t reason_len = 0;
    size_t fields_len = 0;
    if (!latin1_arg(env, info[3], &reason_len) || !latin1_arg(env, info[4], &fields_len))
      throw Napi::TypeError::New(env, "The \"reason\" and \"fields\" arguments must be strings");
    ConnHandle* h = outbox_->find(conn);
    if (h == nullptr) return;
    char* reason;
    char* fields;
    char* data;
    CommandHead* c = outbox_->stage(*h, static_cast<uint32_t>(reason_len), static_cast<uint32_t>(fields_len), 0,
                                    &reason, &fields, &data);
    size_t n = 0;
    if (reason_len) napi_get_value_string_latin1(env, info[3], reason, reason_len + 1, &n);
    if (fields_len) napi_get_value_string_latin1(env, info[4], fields, fields_len + 1, &n);
    PlainHead(c, seq, ResponseCmd::kInterim, static_cast<uint16_t>(status > 0xffff ? 0 : status));
  }

  void Abort(const Napi::CallbackInfo& info) { StageKind(info, ResponseCmd::kAbort); }
  void Fail(const Napi::CallbackInfo& info) { StageKind(info, ResponseCmd::kFail); }

  // abort(connId, seq) / fail(connId, seq): a command with no head or body.
  void StageKind(const Napi::CallbackInfo& info, uint16_t kind) {
    if (!outbox_) return;
    const uint32_t conn = arg_u32(info, 0, "connId");
    const uint32_t seq = arg_u32(info, 1, "seq");
    ConnHandle* h = outbox_->find(conn);
    if (h == nullptr) return;
    StageBare(*h, seq, kind);
  }

  // JS's answer to a request dispatched with the Upgrade flag: accept (passthrough) or serve it as a request.
  void Upgrade(const Napi::CallbackInfo& info) {
    if (!outbox_) return;
    const uint32_t conn = arg_u32(info, 0, "connId");
    const uint32_t seq = arg_u32(info, 1, "seq");
    ConnHandle* h = outbox_->find(conn);
    if (h == nullptr) return;
    CommandHead* c = StageBare(*h, seq, ResponseCmd::kUpgrade);
    c->status = info[2].ToBoolean() ? 1 : 0;
  }

  // Bytes written verbatim on an upgraded connection; end: nothing more will be written.
  Napi::Value RawWrite(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!outbox_) return Napi::Number::New(env, 0);
    const napi_value a[4] = {info[0], info[1], info[2], info[3]};
    return StageChunk(env, a, ResponseCmd::kRaw,
                      ResponseCmd::kRaw);  // kRaw even on a bare end: it ends the passthrough
  }

  // The head of every command but a response's: no user fields, no Connection tokens, no known length.
  static void PlainHead(CommandHead* c, uint32_t seq, uint16_t kind, uint16_t status = 0) {
    c->seq = seq;
    c->status = status;
    c->user_fields = 0;
    c->response_tokens = 0;
    c->content_length = -1;
    c->kind = kind;
  }

  // A command with no head fields and no bytes.
  CommandHead* StageBare(ConnHandle& h, uint32_t seq, uint16_t kind) {
    char* reason;
    char* fields;
    char* data;
    CommandHead* c = outbox_->stage(h, 0, 0, 0, &reason, &fields, &data);
    PlainHead(c, seq, kind);
    return c;
  }

  // Writes the body of the command just staged for h (or a buffer of its own when large); returns its bytes. A
  // string given room for its longest UTF-8 form gives the rest back to the arena.
  static size_t PlaceBody(ConnHandle& h, CommandHead* c, char* data, const Body& body) {
    if (body.big()) {
      c->big = body.to_string();
      return body.len;
    }
    const size_t n = body.copy_to(data);
    if (n != body.len) h.mailbox->staging.trim_last(c, static_cast<uint32_t>(n));
    return n;
  }

  // A command carrying body bytes (write(), rawWrite()), and trailer field lines when `trailers` is a string;
  // returns the body's bytes.
  size_t StageBody(ConnHandle& h, uint32_t seq, uint16_t kind, const Body& body, napi_value trailers = nullptr) {
    char* reason;
    char* fields;
    char* data;
    size_t fields_len = 0;
    if (trailers != nullptr) latin1_arg(body.env, trailers, &fields_len);
    CommandHead* c = outbox_->stage(h, 0, static_cast<uint32_t>(fields_len),
                                    body.big() ? 0 : static_cast<uint32_t>(body.len), &reason, &fields, &data);
    size_t n = 0;
    if (fields_len) napi_get_value_string_latin1(body.env, trailers, fields, fields_len + 1, &n);
    n = PlaceBody(h, c, data, body);
    PlainHead(c, seq, kind);
    return n;
  }

  void Flush(const Napi::CallbackInfo&) {
    if (outbox_) outbox_->flush();
  }

  void PauseBody(const Napi::CallbackInfo& info) {
    if (outbox_) outbox_->set_pause(arg_u32(info, 0, "connId"), true);
  }

  void ResumeBody(const Napi::CallbackInfo& info) {
    if (outbox_) outbox_->set_pause(arg_u32(info, 0, "connId"), false);
  }

  Napi::Value WantDrain(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), !outbox_ || outbox_->want_drain(arg_u32(info, 0, "connId")));
  }

  // [bytesRead, bytesWritten] of a connection JS knows: the owning thread's counts so far (final once it closed).
  Napi::Value Bytes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ConnHandle* h = outbox_ ? outbox_->find(arg_u32(info, 0, "connId")) : nullptr;
    if (!h) return env.Undefined();
    Napi::Array a = Napi::Array::New(env, 2);
    a.Set(0u, Napi::Number::New(env, static_cast<double>(h->bytes_read.load(std::memory_order_relaxed))));
    a.Set(1u, Napi::Number::New(env, static_cast<double>(h->bytes_written.load(std::memory_order_relaxed))));
    return a;
  }

  // [remoteAddress, remotePort, localAddress, localPort] of an open connection: the peer as accept() gave it, and
  // the connection's own end (getsockname, asked only when JS asks: a server bound to 0.0.0.0 or :: is reached at
  // one particular address). Empty addresses on a Unix domain socket. Undefined once the connection is closed.
  Napi::Value Addresses(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ConnHandle* h = outbox_ ? outbox_->find(arg_u32(info, 0, "connId")) : nullptr;
    if (!h) return env.Undefined();
    std::string local, family;
    int local_port = 0;
    {
      std::lock_guard<std::mutex> lk(h->mu);  // the fd is not closed (and so not reused) while this is held
      if (h->closed || !sock_local_address(h->fd, &local, &family, &local_port)) return env.Undefined();
    }
    if (family.empty()) local.clear();  // a Unix domain socket (getsockname names the listener's path): none, as node
    Napi::Array a = Napi::Array::New(env, 4);
    a.Set(0u, Napi::String::New(env, peer_text(h->peer)));
    a.Set(1u, Napi::Number::New(env, h->peer.port));
    a.Set(2u, Napi::String::New(env, local));
    a.Set(3u, Napi::Number::New(env, local_port));
    return a;
  }

  void Close(const Napi::CallbackInfo&) {
    if (driver_) driver_->close();
  }
  void CloseIdle(const Napi::CallbackInfo&) {
    if (driver_) driver_->close_idle();
  }
  void CloseAll(const Napi::CallbackInfo&) {
    if (driver_) driver_->close_all();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    Napi::Object closes = Napi::Object::New(env);
    static const char* kReasons[] = {"client",  "idleTimeout", "headersTimeout", "requestTimeout", "parseError",
                                     "evicted", "cap",         "shutdown",       "maxRequests",    "response",
                                     "error"};
    static_assert(sizeof kReasons / sizeof kReasons[0] == static_cast<size_t>(CloseReason::Count),
                  "one name per CloseReason");
    Registry* reg = registry_or_null();
    o.Set("accepted", reg ? static_cast<double>(reg->stats.accepted.load()) : 0.0);
    o.Set("active", reg ? static_cast<double>(reg->table.size()) : 0.0);
    o.Set("idle", reg ? static_cast<double>(driver_->idle_count()) : 0.0);
    o.Set("requests", reg ? static_cast<double>(reg->stats.requests.load()) : 0.0);
    for (int i = 0; i < static_cast<int>(CloseReason::Count); ++i)
      closes.Set(kReasons[i], reg ? static_cast<double>(reg->stats.closes[i].load()) : 0.0);
    o.Set("closes", closes);
    return o;
  }

  // Options changed on a listening server: the deadlines, maxRequestsPerSocket and maxConnections apply from
  // each connection's next event; the rest (model, threads, maxHeaderSize) stay as they were at listen().
  void Configure(const Napi::CallbackInfo& info) {
    if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "The \"options\" argument must be an object");
    ServerOptions next = opts_;
    ReadOptions(info[0].As<Napi::Object>(), &next);
    for (ServerOptions* o : {&opts_, driver_ ? &driver_->registry().opts : nullptr}) {
      if (o == nullptr) continue;
      o->conn.keep_alive_timeout_ms = next.conn.keep_alive_timeout_ms.get();
      o->conn.headers_timeout_ms = next.conn.headers_timeout_ms.get();
      o->conn.request_timeout_ms = next.conn.request_timeout_ms.get();
      o->conn.max_requests_per_socket = next.conn.max_requests_per_socket.get();
      o->max_connections = next.max_connections.get();
      o->conn.check_continue = next.conn.check_continue.get();
    }
  }

  void Ref(const Napi::CallbackInfo& info) {
    unref_ = false;
    if (tsfn_live_) tsfn_.Ref(info.Env());
    if (driver_) driver_->ref();
  }
  void Unref(const Napi::CallbackInfo& info) {
    unref_ = true;
    if (tsfn_live_) tsfn_.Unref(info.Env());
    if (driver_) driver_->unref();
  }

  ServerOptions opts_;
  std::shared_ptr<WrapCell> cell_;
  Napi::Env::CleanupHook<void (*)(ServerWrap*), ServerWrap> cleanup_;
  Napi::FunctionReference on_batch_;
  Tsfn tsfn_;
  bool tsfn_live_ = false;
  bool unref_ = false;
  bool torn_down_ = false;
  bool listening_ref_ = false;  // on_batch_ is held strongly (listening, ServerClosed not delivered yet)
  std::shared_ptr<Driver> driver_;
  std::shared_ptr<JsEvents> events_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
  JsBatch batch_;
};

void call_js(Napi::Env env, Napi::Function fn, ServerWrap* self, void*) {
  if (env == nullptr || self == nullptr) return;  // the function is being torn down: nothing to deliver to
  self->Deliver(env, fn);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  sock_init();
  exports.Set("Server", ServerWrap::Define(env));
  return exports;
}

}  // namespace

Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return Init(env, exports); }

}  // namespace nova

static Napi::Object InitNovaHttp(Napi::Env env, Napi::Object exports) { return nova::InitModule(env, exports); }
NODE_API_MODULE(nova_http, InitNovaHttp)
