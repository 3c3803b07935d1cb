// deps: response keep_alive
// The Date header's formatter reaches no C library time function: glibc's gmtime_r/localtime take the time-zone
// lock and run tzset's bookkeeping, which raced (for ThreadSanitizer) with the JS thread's own localtime calls
// when a loop thread renewed its Date cache. This program interposes those functions and fails if
// format_http_date or append_date calls one, then checks the arithmetic calendar against the C library's.
// The interposition needs glibc's dynamic linking (RTLD_NEXT); the static musl build (CI) checks the values only.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include "../../native/core/response.h"
#include "check.h"

#if defined(__GLIBC__)
#include <dlfcn.h>
#define NOVA_INTERPOSE 1
#endif

namespace {
bool g_watching = false;  // while set, a call to any function below is a failure
int g_calls = 0;
const char* g_last = "";

void called(const char* name) {
  if (!g_watching) return;
  ++g_calls;
  g_last = name;
}

}  // namespace

#ifdef NOVA_INTERPOSE
namespace {
template <class F>
F real(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "date_test: no %s after this program's\n", name);
    std::abort();
  }
  return reinterpret_cast<F>(f);
}
}  // namespace

// Interposed: this program's definitions win over the C library's for every call made in it.
extern "C" {
struct tm* gmtime_r(const time_t* t, struct tm* out) {
  called("gmtime_r");
  return real<struct tm* (*)(const time_t*, struct tm*)>("gmtime_r")(t, out);
}
struct tm* gmtime(const time_t* t) {
  called("gmtime");
  return real<struct tm* (*)(const time_t*)>("gmtime")(t);
}
struct tm* localtime_r(const time_t* t, struct tm* out) {
  called("localtime_r");
  return real<struct tm* (*)(const time_t*, struct tm*)>("localtime_r")(t, out);
}
struct tm* localtime(const time_t* t) {
  called("localtime");
  return real<struct tm* (*)(const time_t*)>("localtime")(t);
}
void tzset() {
  called("tzset");
  real<void (*)()>("tzset")();
}
time_t mktime(struct tm* t) {
  called("mktime");
  return real<time_t (*)(struct tm*)>("mktime")(t);
}
size_t strftime(char* s, size_t max, const char* fmt, const struct tm* t) {
  called("strftime");
  return real<size_t (*)(char*, size_t, const char*, const struct tm*)>("strftime")(s, max, fmt, t);
}
}
#endif

namespace {

std::string format(int64_t t) {
  char buf[29];
  g_watching = true;
  nova::format_http_date(t, buf);
  g_watching = false;
  return std::string(buf, 29);
}

// The same date from the C library (outside the watch), for the comparison.
std::string reference(int64_t t) {
  static const char kDays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  if (gmtime_r(&tt, &tm) == nullptr) return "gmtime_r failed";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

void test_no_libc_time_functions() {
#ifndef NOVA_INTERPOSE
  std::printf("date_test: no interposition here (not glibc): values only\n");
#endif
  g_calls = 0;
  (void)format(1735779845);
  g_watching = true;
  std::string line;
  nova::append_date(line);
  g_watching = false;
  CHECK(g_calls == 0, std::string("format_http_date/append_date called ") + g_last);
  CHECK(line.size() == 37 && line.compare(0, 6, "Date: ") == 0, "append_date appends one Date line");
}

void test_against_libc() {
  // Every day from 1900 to 2200 at a second that moves through the day, then instants spread over 0001..9999.
  const int64_t from = -2208988800;  // 1900-01-01
  int mismatches = 0;
  for (int64_t day = 0; day < 110000 && mismatches < 5; ++day) {
    const int64_t t = from + day * 86400 + (day * 7919) % 86400;
    const std::string got = format(t);
    const std::string want = reference(t);
    if (got != want) {
      ++mismatches;
      CHECK_EQ(got, want, "format_http_date vs gmtime_r at " + std::to_string(t));
    }
  }
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 200000 && mismatches < 5; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const int64_t t = -62135596800 + static_cast<int64_t>(x % 315537897600ull);  // [0001-01-01, 9999-12-31]
    const std::string got = format(t);
    const std::string want = reference(t);
    if (got != want) {
      ++mismatches;
      CHECK_EQ(got, want, "format_http_date vs gmtime_r at " + std::to_string(t));
    }
  }
  CHECK(g_calls == 0, std::string("format_http_date called ") + g_last);
}

void test_edges() {
  CHECK_EQ(format(-62135596800), std::string("Mon, 01 Jan 0001 00:00:00 GMT"), "first instant of the format");
  CHECK_EQ(format(253402300799), std::string("Fri, 31 Dec 9999 23:59:59 GMT"), "last instant of the format");
  CHECK_EQ(format(-1), std::string("Wed, 31 Dec 1969 23:59:59 GMT"), "the second before the epoch");
  // Outside what the format can hold: the epoch, never garbage.
  CHECK_EQ(format(253402300800), std::string("Thu, 01 Jan 1970 00:00:00 GMT"), "past 9999");
  CHECK_EQ(format(-62135596801), std::string("Thu, 01 Jan 1970 00:00:00 GMT"), "before 0001");
  CHECK_EQ(format(INT64_MAX), std::string("Thu, 01 Jan 1970 00:00:00 GMT"), "INT64_MAX");
  CHECK_EQ(format(INT64_MIN), std::string("Thu, 01 Jan 1970 00:00:00 GMT"), "INT64_MIN");
}

}  // namespace

int main() {
  test_no_libc_time_functions();
  test_against_libc();
  test_edges();
  return check_exit("date_test");
}
