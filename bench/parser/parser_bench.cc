// Parser micro-benchmark: nova::parse_request_head (native/core/parser.h) on a corpus of realistic request heads.
// Built and run by bench/parser/run.js (`npm run bench:parser`); links native/core/parser.cc and keep_alive.cc.
//
//   parser_bench [--seconds S] [--repeat N] [--dump] [--json]
//
// Classes (each 64 distinct heads from a fixed seed, so paths, ids and cookie values vary like real traffic):
//   curl     ~100 B   curl/wget-like GET: Host, User-Agent, Accept
//   api      ~450 B   JSON API POST head: Authorization bearer token, Content-Type, Content-Length
//   browser  ~700 B   Chrome page navigation: sec-ch-ua, Sec-Fetch-*, Accept, Accept-Encoding/-Language
//   large    ~4 KB    browser request with a ~3 KB Cookie header (session, analytics and consent cookies) and Referer
//   mixed             40 % curl, 15 % api, 35 % browser, 10 % large, interleaved
// Modes:
//   whole    each head parsed in one call from offset 0 (a head that arrived in one recv)
//   split    each head fed in two calls, first half then all of it (a head split across two recv()s: the second
//            call resumes the end-of-head scan through `scanned`)
//   pipeline all heads of the class back to back in one buffer, parsed in sequence (pipelined requests)
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "parser.h"

namespace {

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {  // splitmix64
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  std::string token(size_t n, const char* alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") {
    size_t m = strlen(alphabet);
    std::string out;
    out.reserve(n);
    for (size_t i = 0; i < n; i++) out += alphabet[below(m)];
    return out;
  }
  std::string hex(size_t n) { return token(n, "0123456789abcdef"); }
  std::string digits(size_t n) { return token(n, "0123456789"); }
};

const char* kPaths[] = {"/", "/index.html", "/api/v1/users", "/static/js/app.3f9a1c.js", "/images/logo.svg",
                        "/search", "/products/4711/reviews", "/health", "/favicon.ico", "/docs/getting-started"};

std::string curl_head(Rng& r) {
  std::string p = kPaths[r.below(10)];
  if (r.below(2)) p += "?id=" + r.digits(1 + r.below(6));
  const char* agents[] = {"curl/8.5.0", "curl/7.88.1", "Wget/1.21.3", "python-requests/2.31.0"};
  return "GET " + p + " HTTP/1.1\r\nHost: localhost:" + std::to_string(3000 + r.below(6000)) +
         "\r\nUser-Agent: " + agents[r.below(4)] + "\r\nAccept: */*\r\n\r\n";
}

std::string api_head(Rng& r) {
  std::string body_len = std::to_string(40 + r.below(2000));
  return "POST /api/v2/orders/" + r.digits(8) + "/items HTTP/1.1\r\n"
         "Host: api.example.com\r\n"
         "User-Agent: undici\r\n"
         "Accept: application/json\r\n"
         "Content-Type: application/json; charset=utf-8\r\n"
         "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + r.token(86) + "." + r.token(43) + "\r\n"
         "X-Request-Id: " + r.hex(8) + "-" + r.hex(4) + "-" + r.hex(4) + "-" + r.hex(4) + "-" + r.hex(12) + "\r\n"
         "Content-Length: " + body_len + "\r\n"
         "Connection: keep-alive\r\n\r\n";
}

std::string browser_fields(Rng& r) {
  return "Host: www.example.com\r\n"
         "Connection: keep-alive\r\n"
         "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
         "sec-ch-ua-mobile: ?0\r\n"
         "sec-ch-ua-platform: \"Windows\"\r\n"
         "Upgrade-Insecure-Requests: 1\r\n"
         "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/124.0." + std::to_string(6000 + r.below(400)) + ".91 Safari/537.36\r\n"
         "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;"
         "q=0.8,application/signed-exchange;v=b3;q=0.7\r\n"
         "Sec-Fetch-Site: none\r\n"
         "Sec-Fetch-Mode: navigate\r\n"
         "Sec-Fetch-User: ?1\r\n"
         "Sec-Fetch-Dest: document\r\n"
         "Accept-Encoding: gzip, deflate, br, zstd\r\n"
         "Accept-Language: en-US,en;q=0.9,de;q=0.8\r\n";
}

std::string browser_head(Rng& r) {
  return "GET " + std::string(kPaths[r.below(10)]) + " HTTP/1.1\r\n" + browser_fields(r) + "\r\n";
}

std::string large_head(Rng& r) {
  std::string cookie = "Cookie: _ga=GA1.1." + r.digits(10) + "." + r.digits(10) + "; _ga_" + r.token(10) + "=GS1.1." +
                       r.digits(10) + ".3.1." + r.digits(10) + ".0.0.0; session=" + r.token(344) +
                       "; csrftoken=" + r.token(64) + "; _fbp=fb.1." + r.digits(13) + "." + r.digits(10) +
                       "; OptanonConsent=isGpcEnabled=0&datestamp=Mon+May+06+2024+10%3A12%3A31+GMT%2B0200&version="
                       "202403.1.0&browserGpcFlag=0&isIABGlobal=false&hosts=&consentId=" + r.hex(8) + "-" + r.hex(4) +
                       "-" + r.hex(4) + "-" + r.hex(4) + "-" + r.hex(12) +
                       "&interactionCount=1&landingPath=NotLandingPage&groups=C0001%3A1%2CC0002%3A1%2CC0003%3A1%2C"
                       "C0004%3A1&AwaitingReconsent=false; ajs_anonymous_id=" + r.hex(32) + "; _hjSessionUser_" +
                       r.digits(7) + "=" + r.token(180) + "; cart=" + r.token(600) + "; prefs=" + r.token(400) +
                       "; __cf_bm=" + r.token(170) + "; _dd_s=rum=0&expire=" + r.digits(13) + "; ab_test=" +
                       r.token(700);
  return "GET /account/orders?page=" + r.digits(1) + "&sort=date HTTP/1.1\r\n" + browser_fields(r) +
         "Referer: https://www.example.com/account/overview?tab=" + r.token(12) + "\r\n" + cookie + "\r\n\r\n";
}

struct Corpus {
  std::string name;
  std::vector<std::string> heads;
  size_t bytes() const {
    size_t n = 0;
    for (auto& h : heads) n += h.size();
    return n;
  }
};

std::vector<Corpus> make_corpora() {
  Rng r(20241125);
  std::vector<Corpus> c = {{"curl", {}}, {"api", {}}, {"browser", {}}, {"large", {}}, {"mixed", {}}};
  for (int i = 0; i < 64; i++) {
    c[0].heads.push_back(curl_head(r));
    c[1].heads.push_back(api_head(r));
    c[2].heads.push_back(browser_head(r));
    c[3].heads.push_back(large_head(r));
  }
  for (int i = 0; i < 100; i++) {  // 40 / 15 / 35 / 10, interleaved
    size_t k = r.below(100);
    size_t cls = k < 40 ? 0 : k < 55 ? 1 : k < 90 ? 2 : 3;
    c[4].heads.push_back(c[cls].heads[r.below(64)]);
  }
  return c;
}

// maxHeaderSize at its default (lib/options.ts): the parser has no option defaults of its own.
nova::ParserLimits bench_limits() {
  nova::ParserLimits l;
  l.max_header_size = 16384;
  return l;
}
const nova::ParserLimits g_limits = bench_limits();
nova::Header g_headers[128];
volatile uint64_t g_sink;

// Parses one head in one call; returns the consumed length (or the error).
inline int64_t parse_whole(const char* p, size_t n, uint64_t& acc) {
  nova::RequestHead h;
  h.headers = g_headers;
  size_t scanned = 0;
  int64_t r = nova::parse_request_head(p, n, g_limits, &h, &scanned);
  acc += h.header_count + h.method.len;
  return r;
}

inline int64_t parse_split(const char* p, size_t n, uint64_t& acc) {
  nova::RequestHead h;
  h.headers = g_headers;
  size_t scanned = 0;
  int64_t r = nova::parse_request_head(p, n / 2, g_limits, &h, &scanned);
  if (r != 0) return r < 0 ? r : -1000;  // a half head must be incomplete
  r = nova::parse_request_head(p, n, g_limits, &h, &scanned);
  acc += h.header_count + h.method.len;
  return r;
}

using Clock = std::chrono::steady_clock;

struct Result {
  double heads_per_s;
  double mb_per_s;
  double ns_per_head;
};

// Runs `pass` (one pass over the corpus) until `seconds` elapse; returns the rate of that run.
template <class Pass>
Result time_passes(Pass pass, size_t heads, size_t bytes, double seconds) {
  uint64_t passes = 0;
  auto t0 = Clock::now();
  double el = 0;
  do {
    for (int i = 0; i < 16; i++) pass();
    passes += 16;
    el = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (el < seconds);
  double n = double(passes) * heads;
  return {n / el, double(passes) * bytes / el / 1e6, el * 1e9 / n};
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 0.3;
  int repeat = 5;
  bool dump = false, json = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
    else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--dump")) dump = true;
    else if (!strcmp(argv[i], "--json")) json = true;
    else {
      fprintf(stderr, "usage: %s [--seconds S] [--repeat N] [--dump] [--json]\n", argv[0]);
      return 2;
    }
  }
  auto corpora = make_corpora();
  if (dump) {
    for (auto& c : corpora) {
      if (c.name == "mixed") continue;
      printf("### %s (%zu B, avg %zu B)\n%s", c.name.c_str(), c.heads[0].size(), c.bytes() / c.heads.size(),
             c.heads[0].c_str());
    }
    return 0;
  }

  // Correctness first: every head must parse completely, in one call and split in two.
  int bad = 0;
  for (auto& c : corpora) {
    for (size_t i = 0; i < c.heads.size(); i++) {
      uint64_t acc = 0;
      const std::string& h = c.heads[i];
      int64_t a = parse_whole(h.data(), h.size(), acc);
      int64_t b = parse_split(h.data(), h.size(), acc);
      if (a != int64_t(h.size()) || b != int64_t(h.size())) {
        if (bad++ < 5) {
          fprintf(stderr, "corpus %s head %zu (%zu B): whole -> %lld, split -> %lld\n%s\n", c.name.c_str(), i,
                  h.size(), (long long)a, (long long)b, h.c_str());
        }
      }
    }
  }
  if (bad) {
    fprintf(stderr, "%d corpus heads did not parse as complete, valid heads\n", bad);
    return 1;
  }

  if (json) printf("[\n");
  bool first = true;
  for (auto& c : corpora) {
    std::string buf;  // pipeline mode: every head back to back
    for (auto& h : c.heads) buf += h;
    size_t bytes = c.bytes();
    size_t heads = c.heads.size();
    for (const char* mode : {"whole", "split", "pipeline"}) {
      std::vector<Result> runs;
      uint64_t acc = 0;
      for (int k = 0; k < repeat; k++) {
        Result res;
        if (!strcmp(mode, "whole")) {
          res = time_passes([&] { for (auto& h : c.heads) parse_whole(h.data(), h.size(), acc); }, heads, bytes, seconds);
        } else if (!strcmp(mode, "split")) {
          res = time_passes([&] { for (auto& h : c.heads) parse_split(h.data(), h.size(), acc); }, heads, bytes, seconds);
        } else {
          res = time_passes(
              [&] {
                size_t off = 0;
                while (off < buf.size()) {
                  int64_t r = parse_whole(buf.data() + off, buf.size() - off, acc);
                  if (r <= 0) abort();
                  off += size_t(r);
                }
              },
              heads, bytes, seconds);
        }
        runs.push_back(res);
      }
      g_sink = acc;
      std::sort(runs.begin(), runs.end(), [](const Result& a, const Result& b) { return a.heads_per_s < b.heads_per_s; });
      const Result& med = runs[runs.size() / 2];
      const Result& lo = runs.front();
      const Result& hi = runs.back();
      if (json) {
        printf("%s {\"corpus\":\"%s\",\"mode\":\"%s\",\"avgBytes\":%zu,\"heads\":%zu,\"reqPerS\":%.0f,\"reqPerSMin\":%.0f,"
               "\"reqPerSMax\":%.0f,\"mbPerS\":%.1f,\"nsPerHead\":%.1f,\"repeat\":%d,\"seconds\":%.2f}\n",
               first ? "" : ",", c.name.c_str(), mode, bytes / heads, heads, med.heads_per_s, lo.heads_per_s,
               hi.heads_per_s, med.mb_per_s, med.ns_per_head, repeat, seconds);
      } else {
        printf("%-8s %-8s avg %5zu B  %12.0f req/s (%.0f-%.0f)  %8.1f MB/s  %7.1f ns/head\n", c.name.c_str(), mode,
               bytes / heads, med.heads_per_s, lo.heads_per_s, hi.heads_per_s, med.mb_per_s, med.ns_per_head);
      }
      first = false;
    }
  }
  if (json) printf("]\n");
  return 0;
}
