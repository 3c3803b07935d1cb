# Cross toolchain for the Windows x64 addon (scripts/build-win.js). The posix thread-model compilers are needed:
# the win32 model lacks std::mutex/std::thread, which napi.h and the I/O threads use.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(NOVA_MINGW_PREFIX x86_64-w64-mingw32)

set(CMAKE_C_COMPILER ${NOVA_MINGW_PREFIX}-gcc-posix)
set(CMAKE_CXX_COMPILER ${NOVA_MINGW_PREFIX}-g++-posix)
set(CMAKE_RC_COMPILER ${NOVA_MINGW_PREFIX}-windres)
set(CMAKE_DLLTOOL ${NOVA_MINGW_PREFIX}-dlltool)

set(CMAKE_FIND_ROOT_PATH /usr/${NOVA_MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)  # host programs (node) stay reachable
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
