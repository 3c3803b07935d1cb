// Windows has no inline driver: node.exe's libuv symbols are not in the import library we link against, so
// `threads: 0` runs one loop thread there (see server_inline.h).
#include "server_inline.h"

namespace nova {

std::shared_ptr<Driver> make_inline_driver(std::shared_ptr<JsEvents>*, const ServerOptions&, void*,
                                           std::function<void()>) {
  return nullptr;
}

}  // namespace nova
