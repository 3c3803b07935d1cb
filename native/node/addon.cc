// The addon: module init and the native Server class that lib/server.ts drives (contract: lib/contract.ts).
// This file and its thread-safe function are the only code that touches N-API; I/O threads reach JS only
// through EventQueue's notify, which makes one non-blocking TSFN call per batch.
#include <napi.h>
#include <cstring>
#include <memory>
#include "../io/driver.h"
#include "server_inline.h"

namespace nova {
namespace {

class ServerWrap;
void call_js(Napi::Env env, Napi::Function fn, ServerWrap* self, void* data);
using Tsfn = Napi::TypedThreadSafeFunction<ServerWrap, void, call_js>;

uint32_t get_u32(const Napi::Object& o, const char* key, uint32_t def) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) return def;
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0)) return def;
  return d > 4294967295.0 ? 4294967295u : static_cast<uint32_t>(d);
}

// JS strings as bytes: header text as latin1 (what node:http writes), bodies as UTF-8.
void latin1(napi_env env, napi_value v, std::string* out) {
  size_t len = 0;
  napi_get_value_string_latin1(env, v, nullptr, 0, &len);
  out->resize(len);
  if (len) napi_get_value_string_latin1(env, v, &(*out)[0], len + 1, &len);
}

void body_bytes(const Napi::Value& v, std::string* out) {
  if (v.IsString()) {
    size_t len = 0;
    napi_get_value_string_utf8(v.Env(), v, nullptr, 0, &len);
    out->resize(len);
    if (len) napi_get_value_string_utf8(v.Env(), v, &(*out)[0], len + 1, &len);
  } else if (v.IsTypedArray()) {
    auto a = v.As<Napi::Uint8Array>();
    out->assign(reinterpret_cast<const char*>(a.Data()), a.ByteLength());
  } else if (v.IsArrayBuffer()) {
    auto a = v.As<Napi::ArrayBuffer>();
    out->assign(static_cast<const char*>(a.Data()), a.ByteLength());
  } else if (!v.IsUndefined() && !v.IsNull()) {
    throw Napi::TypeError::New(v.Env(), "The response body must be a string, Buffer or Uint8Array");
  }
}

uint32_t arg_u32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string("The \"") + name + "\" argument must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

class ServerWrap : public Napi::ObjectWrap<ServerWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Server",
                       {
                           InstanceMethod<&ServerWrap::Listen>("listen"),
                           InstanceMethod<&ServerWrap::Respond>("respond"),
                           InstanceMethod<&ServerWrap::Write>("write"),
                           InstanceMethod<&ServerWrap::Abort>("abort"),
                           InstanceMethod<&ServerWrap::Upgrade>("upgrade"),
                           InstanceMethod<&ServerWrap::RawWrite>("rawWrite"),
                           InstanceMethod<&ServerWrap::Flush>("flush"),
                           InstanceMethod<&ServerWrap::PauseBody>("pauseBody"),
                           InstanceMethod<&ServerWrap::ResumeBody>("resumeBody"),
                           InstanceMethod<&ServerWrap::WantDrain>("wantDrain"),
                           InstanceMethod<&ServerWrap::RemoteAddress>("remoteAddress"),
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
    cleanup_ = env.AddCleanupHook(&ServerWrap::Teardown, this);
  }

  static void ReadOptions(const Napi::Object& o, ServerOptions* out) {
    ServerOptions& opts = *out;
    opts.io_model = static_cast<int>(get_u32(o, "ioModel", 0));
    opts.backend = static_cast<int>(get_u32(o, "backend", 0));
    opts.threads = static_cast<int>(get_u32(o, "threads", 1));
    opts.conn.keep_alive_timeout_ms = get_u32(o, "keepAliveTimeout", 65000);
    opts.conn.headers_timeout_ms = get_u32(o, "headersTimeout", 60000);
    opts.conn.request_timeout_ms = get_u32(o, "requestTimeout", 300000);
    opts.conn.max_requests_per_socket = get_u32(o, "maxRequestsPerSocket", 0);
    opts.conn.limits.max_header_size = get_u32(o, "maxHeaderSize", 16384);
    opts.max_connections = get_u32(o, "maxConnections", 10000);
    opts.conn.allow_half_open = get_u32(o, "allowHalfOpen", 0) != 0;
    if (opts.max_connections == 0) opts.max_connections = 1;
  }

  ~ServerWrap() override {
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
    if (!driver_->core().events.take(batch_)) return false;
    const size_t n = batch_.meta.size();
    // After ServerClosed no I/O thread will ever call again: let the process exit, join the driver's threads
    // (they end by themselves once closed) and let this object be collected. (Asked of the queue: the last meta
    // words can't tell, a Close record for connection 7 ends in [7, reason] too.)
    if (batch_.last) Closed();
    void* data = nullptr;
    napi_value ab;
    if (napi_create_buffer_copy(env, batch_.bytes.size(), batch_.bytes.data(), &data, &args[0]) != napi_ok)
      return false;
    if (napi_create_arraybuffer(env, n * sizeof(uint32_t), &data, &ab) != napi_ok) return false;
    if (n) std::memcpy(data, batch_.meta.data(), n * sizeof(uint32_t));
    if (napi_create_typedarray(env, napi_uint32_array, n, ab, 0, &args[1]) != napi_ok) return false;
    return napi_create_double(env, static_cast<double>(n), &args[2]) == napi_ok;
  }

  void Stop() {
    if (driver_) driver_->stop_now();
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
    const std::string host = info[0].As<Napi::String>().Utf8Value();
    const int port = static_cast<int>(arg_u32(info, 1, "port"));
    const int backlog = static_cast<int>(arg_u32(info, 2, "backlog"));

    std::shared_ptr<Driver> driver;
    if (opts_.io_model == 1 && opts_.threads == 0 && opts_.backend != 2) {
      struct uv_loop_s* loop = nullptr;  // opaque here: only the inline driver includes uv.h
      napi_get_uv_event_loop(env, &loop);
      std::shared_ptr<ServerCore> core;
      driver = make_inline_driver(&core, opts_, loop, [this] { DeliverInline(); });
    }
    if (!driver) {
      // Threaded models (and threads: 0 where the inline driver can't run): one TSFN call per batch.
      tsfn_ = Tsfn::New(env, on_batch_.Value(), "nova-http", 0, 1, this);
      tsfn_live_ = true;
      Tsfn* tsfn = &tsfn_;
      auto core = std::make_shared<ServerCore>(opts_, [tsfn] {
        // One call per announced batch; napi_closing only happens after ServerClosed or teardown, when the
        // batch has nobody left to read it.
        const napi_status st = tsfn->NonBlockingCall();
        (void)st;
      });
      driver = opts_.io_model == 1 ? make_evented_driver(core) : make_blocking_driver(core);
    }
    if (unref_) {
      if (tsfn_live_) tsfn_.Unref(env);
      driver->unref();
    }
    ListenResult r;
    if (!driver->listen(host, port, backlog, &r)) {
      ReleaseTsfn();
      Napi::Error e = Napi::Error::New(env, "listen " + r.error + ": " + (host.empty() ? "::" : host) + ":" +
                                                std::to_string(port));
      e.Set("code", Napi::String::New(env, r.error));
      e.Set("syscall", Napi::String::New(env, "listen"));
      e.Set("port", Napi::Number::New(env, port));
      throw e;
    }
    driver_ = driver;
    on_batch_.Ref();
    listening_ref_ = true;
    Napi::Object out = Napi::Object::New(env);
    out.Set("address", r.address);
    out.Set("family", r.family);
    out.Set("port", r.port);
    return out;
  }

  ServerCore* core_or_null() { return driver_ ? &driver_->core() : nullptr; }

  Napi::Value Respond(const Napi::CallbackInfo& info) {
    ServerCore* core = core_or_null();
    if (!core) return Napi::Number::New(info.Env(), 0);
    ResponseCmd cmd;
    const uint32_t conn = arg_u32(info, 0, "connId");
    cmd.seq = arg_u32(info, 1, "seq");
    cmd.status = static_cast<uint16_t>(arg_u32(info, 2, "status"));
    if (info[3].IsString()) latin1(info.Env(), info[3], &cmd.reason);
    if (info[4].IsString()) latin1(info.Env(), info[4], &cmd.fields);
    cmd.user_fields = static_cast<uint8_t>(arg_u32(info, 5, "userFields"));
    cmd.response_tokens = static_cast<uint8_t>(arg_u32(info, 6, "responseTokens"));
    cmd.content_length = info[7].IsNumber() ? info[7].As<Napi::Number>().Int64Value() : -1;
    body_bytes(info[8], &cmd.data);
    cmd.kind = ResponseCmd::kHead;
    if (!cmd.data.empty()) cmd.kind |= ResponseCmd::kData;
    if (info[9].ToBoolean()) cmd.kind |= ResponseCmd::kEnd;
    return Napi::Number::New(info.Env(), static_cast<double>(core->stage(conn, std::move(cmd))));
  }

  Napi::Value Write(const Napi::CallbackInfo& info) {
    ServerCore* core = core_or_null();
    if (!core) return Napi::Number::New(info.Env(), 0);
    ResponseCmd cmd;
    const uint32_t conn = arg_u32(info, 0, "connId");
    cmd.seq = arg_u32(info, 1, "seq");
    body_bytes(info[2], &cmd.data);
    cmd.kind = cmd.data.empty() ? 0 : ResponseCmd::kData;
    if (info[3].ToBoolean()) cmd.kind |= ResponseCmd::kEnd;
    if (cmd.kind == 0) return Napi::Number::New(info.Env(), 0);
    return Napi::Number::New(info.Env(), static_cast<double>(core->stage(conn, std::move(cmd))));
  }

  void Abort(const Napi::CallbackInfo& info) {
    ServerCore* core = core_or_null();
    if (!core) return;
    ResponseCmd cmd;
    const uint32_t conn = arg_u32(info, 0, "connId");
    cmd.seq = arg_u32(info, 1, "seq");
    cmd.kind = ResponseCmd::kAbort;
    core->stage(conn, std::move(cmd));
  }

  // JS's answer to a request dispatched with the Upgrade flag: accept (passthrough) or serve it as a request.
  void Upgrade(const Napi::CallbackInfo& info) {
    ServerCore* core = core_or_null();
    if (!core) return;
    ResponseCmd cmd;
    const uint32_t conn = arg_u32(info, 0, "connId");
    cmd.seq = arg_u32(info, 1, "seq");
    cmd.kind = ResponseCmd::kUpgrade;
    cmd.status = info[2].ToBoolean() ? 1 : 0;
    core->stage(conn, std::move(cmd));
  }

  // Bytes written verbatim on an upgraded connection; end: nothing more will be written.
  Napi::Value RawWrite(const Napi::CallbackInfo& info) {
    ServerCore* core = core_or_null();
    if (!core) return Napi::Number::New(info.Env(), 0);
    ResponseCmd cmd;
    const uint32_t conn = arg_u32(info, 0, "connId");
    cmd.seq = arg_u32(info, 1, "seq");
    body_bytes(info[2], &cmd.data);
    const bool end = info[3].ToBoolean();
    if (cmd.data.empty() && !end) return Napi::Number::New(info.Env(), 0);
    cmd.kind = ResponseCmd::kRaw | (end ? ResponseCmd::kEnd : 0);
    return Napi::Number::New(info.Env(), static_cast<double>(core->stage(conn, std::move(cmd))));
  }

  void Flush(const Napi::CallbackInfo&) {
    if (ServerCore* core = core_or_null()) core->flush();
  }

  void PauseBody(const Napi::CallbackInfo& info) {
    if (ServerCore* core = core_or_null()) core->set_pause(arg_u32(info, 0, "connId"), true);
  }

  void ResumeBody(const Napi::CallbackInfo& info) {
    if (ServerCore* core = core_or_null()) core->set_pause(arg_u32(info, 0, "connId"), false);
  }

  Napi::Value WantDrain(const Napi::CallbackInfo& info) {
    ServerCore* core = core_or_null();
    return Napi::Boolean::New(info.Env(), core == nullptr || core->want_drain(arg_u32(info, 0, "connId")));
  }

  Napi::Value RemoteAddress(const Napi::CallbackInfo& info) {
    ServerCore* core = core_or_null();
    if (!core) return info.Env().Undefined();
    std::shared_ptr<ConnHandle> h = core->table.find(arg_u32(info, 0, "connId"));
    if (!h) return info.Env().Undefined();
    Napi::Array a = Napi::Array::New(info.Env(), 2);
    a.Set(0u, Napi::String::New(info.Env(), h->remote_address));
    a.Set(1u, Napi::Number::New(info.Env(), h->remote_port));
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
    static const char* kReasons[] = {"client",   "idleTimeout", "headersTimeout", "requestTimeout",
                                     "parseError", "evicted",   "cap",            "shutdown",
                                     "maxRequests", "response", "error"};
    static_assert(sizeof kReasons / sizeof kReasons[0] == static_cast<size_t>(CloseReason::Count),
                  "one name per CloseReason");
    ServerCore* core = core_or_null();
    o.Set("accepted", core ? static_cast<double>(core->stats.accepted.load()) : 0.0);
    o.Set("active", core ? static_cast<double>(core->table.size()) : 0.0);
    o.Set("idle", core ? static_cast<double>(core->table.idle_count()) : 0.0);
    o.Set("requests", core ? static_cast<double>(core->stats.requests.load()) : 0.0);
    for (int i = 0; i < static_cast<int>(CloseReason::Count); ++i)
      closes.Set(kReasons[i], core ? static_cast<double>(core->stats.closes[i].load()) : 0.0);
    o.Set("closes", closes);
    return o;
  }

  // Options changed on a listening server: the deadlines, maxRequestsPerSocket and maxConnections apply from
  // each connection's next event; the rest (model, threads, maxHeaderSize) stay as they were at listen().
  void Configure(const Napi::CallbackInfo& info) {
    if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "The \"options\" argument must be an object");
    ServerOptions next = opts_;
    ReadOptions(info[0].As<Napi::Object>(), &next);
    for (ServerOptions* o : {&opts_, driver_ ? &driver_->core().opts : nullptr}) {
      if (o == nullptr) continue;
      o->conn.keep_alive_timeout_ms = next.conn.keep_alive_timeout_ms.get();
      o->conn.headers_timeout_ms = next.conn.headers_timeout_ms.get();
      o->conn.request_timeout_ms = next.conn.request_timeout_ms.get();
      o->conn.max_requests_per_socket = next.conn.max_requests_per_socket.get();
      o->max_connections = next.max_connections.get();
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
  Napi::Env::CleanupHook<void (*)(ServerWrap*), ServerWrap> cleanup_;
  Napi::FunctionReference on_batch_;
  Tsfn tsfn_;
  bool tsfn_live_ = false;
  bool unref_ = false;
  bool torn_down_ = false;
  bool listening_ref_ = false;  // on_batch_ is held strongly (listening, ServerClosed not delivered yet)
  std::shared_ptr<Driver> driver_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
  Batch batch_;
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
