// The inline driver's factory (threads: 0): the evented loop on Node's own libuv loop. Where it can't run
// (Windows, or no epoll) it returns nullptr and the addon uses one loop thread instead.
#pragma once
#include <functional>
#include <memory>
#include "../io/driver.h"
#include "js_events.h"

namespace nova {

// deliver: called on the JS thread whenever a batch of events is pending; it must take and dispatch it.
// *events_out: where the driver's events go (the caller takes batches from it).
std::shared_ptr<Driver> make_inline_driver(std::shared_ptr<JsEvents>* events_out, const ServerOptions& opts,
                                           void* uv_loop, std::function<void()> deliver);

}  // namespace nova
