// The checks of the C++ tests (test/native/) and the fuzz targets (test/fuzz/): CHECK, CHECK_EQ and FAIL print
// what failed, where, and in which test case (g_test). A test counts the failures and ends main() with
// `return check_exit("name")`; a fuzz target defines NOVA_CHECK_ABORT before including this, so the first failure
// aborts and libFuzzer keeps the input. escape() shows bytes readably (CR, LF, tabs, non-ASCII as \xHH).
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string>

// The test case running; a test sets it so that a failure names the case. Empty: not shown.
inline const char* g_test = "";
inline int g_failures = 0;

namespace check {

// Bytes as text: \r \n \t \\ and \xHH for the rest outside printable ASCII; at most `max` characters.
// break_lines: a line break after each \n, for long inputs (fuzz reports).
inline std::string escape(const char* p, size_t n, size_t max = 600, bool break_lines = false) {
  std::string o;
  for (size_t i = 0; i < n; ++i) {
    if (o.size() >= max) {
      o += "...";
      break;
    }
    const unsigned char c = static_cast<unsigned char>(p[i]);
    if (c == '\r') o += "\\r";
    else if (c == '\n') o += break_lines ? "\\n\n" : "\\n";
    else if (c == '\t') o += "\\t";
    else if (c == '\\') o += "\\\\";
    else if (c < 0x20 || c >= 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      o += b;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o;
}
inline std::string escape(const std::string& s, size_t max = 600, bool break_lines = false) {
  return escape(s.data(), s.size(), max, break_lines);
}

// The detail of a failure: nothing, one string taken as it is, or a printf format with its arguments.
inline std::string detail() { return std::string(); }
inline std::string detail(const std::string& s) { return s; }
inline std::string detail(const char* s) { return s; }
template <class A, class... More>
std::string detail(const char* fmt, A a, More... more) {
  char buf[2048];
  std::snprintf(buf, sizeof buf, fmt, a, more...);
  return buf;
}

// Prints "FAIL [case] file:line: expr: what" (parts left out when empty) and counts it; aborts in fuzz targets.
inline void failed(const char* file, int line, const char* expr, const std::string& what) {
  std::string msg = expr ? expr : "";
  if (!what.empty()) msg += (msg.empty() ? "" : ": ") + what;
  std::fprintf(stderr, "FAIL%s%s%s %s:%d: %s\n", *g_test ? " [" : "", g_test, *g_test ? "]" : "", file, line,
               msg.c_str());
  ++g_failures;
#ifdef NOVA_CHECK_ABORT
  std::abort();
#endif
}

}  // namespace check

// main()'s result: 0 after "<name>: passed", or 1 after a line with the number of failures.
inline int check_exit(const char* name) {
  if (g_failures == 0) {
    std::printf("%s: passed\n", name);
    return 0;
  }
  std::fprintf(stderr, "%s: %d failure(s)\n", name, g_failures);
  return 1;
}

#define CHECK(cond, ...)                                                                   \
  do {                                                                                     \
    if (!(cond)) ::check::failed(__FILE__, __LINE__, #cond, ::check::detail(__VA_ARGS__)); \
  } while (0)

// got and want are compared as strings (both shown escaped on failure).
#define CHECK_EQ(got, want, ...)                                                                  \
  do {                                                                                            \
    const std::string check_got_ = (got), check_want_ = (want);                                   \
    if (check_got_ != check_want_)                                                                \
      ::check::failed(__FILE__, __LINE__, nullptr,                                                \
                      ::check::detail(__VA_ARGS__) + "\n  got:  " + ::check::escape(check_got_) + \
                          "\n  want: " + ::check::escape(check_want_));                           \
  } while (0)

// An unconditional failure (a case that must not be reached, a malformed input file).
#define FAIL(...) ::check::failed(__FILE__, __LINE__, nullptr, ::check::detail(__VA_ARGS__))
