// deps: parser keep_alive
// Runs every case of test/corpus/*.txt (format: test/corpus/README.md) through parse_request_head and BodyDecoder
// whole, split in two at every offset, one byte at a time, and against PROT_NONE pages, asserting the exact
// results; then checks that byte-by-byte feeding stays linear. Run from the repo root (ctest does).
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../../native/core/parser.h"
#include "check.h"
#include "defaults.h"

using namespace nova;

namespace {

// ---- the corpus -------------------------------------------------------------------------------------------

// One expected (or observed) result: a request with its body, a refused head, or an unfinished head.
struct Outcome {
  enum Kind { Request, Reject, Incomplete } kind = Request;
  int status = 0;  // Reject
  std::string method, target, version = "1.1";
  std::vector<std::string> headers;  // "name: value"
  int header_count = -1;             // >= 0: only the count is compared
  uint8_t connection = 0;
  bool expect_continue = false;
  bool expect_other = false;
  bool is_head = false;
  std::string framing = "none";
  std::string body;
  std::vector<std::string> trailers;
  std::string end = "done";
};

struct Case {
  std::string where;  // file:line
  std::string name;
  std::string input;
  ParserLimits limits = default_limits();
  std::vector<Outcome> outcomes;
};

// Long bodies and heads (limit cases) would drown the report: their start and end only.
std::string escape(const std::string& s) {
  const std::string o = check::escape(s, SIZE_MAX);
  if (o.size() <= 400) return o;
  return o.substr(0, 200) + "...(" + std::to_string(s.size()) + " bytes)..." + o.substr(o.size() - 100);
}

std::string print(const Outcome& o) {
  std::ostringstream s;
  if (o.kind == Outcome::Reject) return "reject " + std::to_string(o.status) + "\n";
  if (o.kind == Outcome::Incomplete) return "incomplete\n";
  s << "request " << escape(o.method) << " " << escape(o.target) << " HTTP/" << o.version
    << (o.is_head ? " (head)" : "") << "\n";
  if (o.header_count >= 0) s << "  header-count " << o.header_count << "\n";
  for (auto& h : o.headers) s << "  header " << escape(h) << "\n";
  s << "  connection " << int(o.connection) << " expect-continue " << o.expect_continue << " expect-other "
    << o.expect_other << " framing " << o.framing << "\n";
  s << "  body " << escape(o.body) << "\n";
  for (auto& t : o.trailers) s << "  trailer " << escape(t) << "\n";
  s << "  end " << o.end << "\n";
  return s.str();
}

std::string print(const std::vector<Outcome>& v) {
  std::string s;
  for (auto& o : v) s += print(o);
  return s.empty() ? "(nothing)\n" : s;
}

struct LoadError {
  std::string msg;
};

std::string unescape(const std::string& v, const std::string& where) {
  std::string o;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\') {
      o += v[i];
      continue;
    }
    if (++i == v.size()) throw LoadError{where + ": backslash at end of line"};
    switch (v[i]) {
      case 'r': o += '\r'; break;
      case 'n': o += '\n'; break;
      case 't': o += '\t'; break;
      case '0': o += '\0'; break;
      case '\\': o += '\\'; break;
      case 'x': {
        if (i + 2 >= v.size()) throw LoadError{where + ": short \\x escape"};
        std::string hex = v.substr(i + 1, 2);
        if (hex.size() != 2 || !std::isxdigit(static_cast<unsigned char>(hex[0])) ||
            !std::isxdigit(static_cast<unsigned char>(hex[1])))
          throw LoadError{where + ": bad \\x escape"};
        o += static_cast<char>(std::strtol(hex.c_str(), nullptr, 16));
        i += 2;
        break;
      }
      default: throw LoadError{where + ": unknown escape \\" + v[i]};
    }
  }
  return o;
}

uint8_t connection_bits(const std::string& v, const std::string& where) {
  std::istringstream in(v);
  std::string t;
  uint8_t bits = 0;
  while (in >> t) {
    if (t == "close") bits |= kConnClose;
    else if (t == "keep-alive") bits |= kConnKeepAlive;
    else if (t == "upgrade") bits |= kConnUpgrade;
    else throw LoadError{where + ": unknown connection token " + t};
  }
  return bits;
}

void set_limits(ParserLimits& l, const std::string& v, const std::string& where) {
  std::istringstream in(v);
  std::string kv;
  while (in >> kv) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) throw LoadError{where + ": limits want name=value"};
    std::string k = kv.substr(0, eq);
    uint32_t n = static_cast<uint32_t>(std::strtoul(kv.c_str() + eq + 1, nullptr, 10));
    if (k == "max_header_size") l.max_header_size = n;
    else if (k == "max_request_line") l.max_request_line = n;
    else if (k == "max_headers") l.max_headers = n;
    else if (k == "max_chunk_line") l.max_chunk_line = n;
    else if (k == "max_trailer_size") l.max_trailer_size = n;
    else if (k == "host_optional") l.host_optional = n != 0;
    else throw LoadError{where + ": unknown limit " + k};
  }
}

void load_file(const std::string& path, std::vector<Case>& cases) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw LoadError{"cannot read " + path};
  std::string line;
  int lineno = 0;
  Case* c = nullptr;
  Outcome* o = nullptr;
  size_t first = cases.size();
  while (std::getline(f, line)) {
    ++lineno;
    std::string where = path + ":" + std::to_string(lineno);
    if (line.empty() || line[0] == '#') continue;
    if (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')
      throw LoadError{where + ": line ends in whitespace (escape it)"};
    if (line.rfind("=== ", 0) == 0) {
      cases.emplace_back();
      c = &cases.back();
      o = nullptr;
      c->where = where;
      c->name = line.substr(4);
      for (size_t i = first; i + 1 < cases.size(); ++i)
        if (cases[i].name == c->name) throw LoadError{where + ": duplicate case name " + c->name};
      continue;
    }
    if (!c) throw LoadError{where + ": text before the first case"};
    if (line.rfind("--- ", 0) == 0) {
      std::string what = line.substr(4);
      c->outcomes.emplace_back();
      o = &c->outcomes.back();
      if (what == "request") o->kind = Outcome::Request;
      else if (what == "incomplete") o->kind = Outcome::Incomplete;
      else if (what.rfind("reject ", 0) == 0) {
        o->kind = Outcome::Reject;
        o->status = std::atoi(what.c_str() + 7);
      } else throw LoadError{where + ": unknown outcome " + what};
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string::npos) throw LoadError{where + ": expected key: value"};
    std::string key = line.substr(0, colon);
    std::string raw = line.substr(colon + 1);
    if (!raw.empty()) {
      if (raw[0] != ' ') throw LoadError{where + ": expected a space after the colon"};
      raw = raw.substr(1);
    }
    size_t repeat = 1;
    size_t star = key.find('*');
    if (star != std::string::npos) {
      repeat = std::strtoul(key.c_str() + star + 1, nullptr, 10);
      key = key.substr(0, star);
    }
    std::string value = unescape(raw, where);
    std::string rep;
    for (size_t i = 0; i < repeat; ++i) rep += value;

    if (key == "in") {
      if (o) throw LoadError{where + ": input after an outcome"};
      c->input += rep;
    } else if (key == "limits") {
      set_limits(c->limits, raw, where);
    } else if (!o || o->kind != Outcome::Request) {
      throw LoadError{where + ": " + key + " outside a --- request block"};
    } else if (key == "method") o->method = value;
    else if (key == "target") o->target = value;
    else if (key == "version") o->version = value;
    else if (key == "header") o->headers.push_back(value);
    else if (key == "header-count") o->header_count = std::atoi(value.c_str());
    else if (key == "connection") o->connection = connection_bits(value, where);
    else if (key == "expect-continue") o->expect_continue = value == "yes";
    else if (key == "expect-other") o->expect_other = value == "yes";
    else if (key == "framing") o->framing = value;
    else if (key == "body") o->body += rep;
    else if (key == "trailer") o->trailers.push_back(value);
    else if (key == "end") o->end = value;
    else throw LoadError{where + ": unknown key " + key};
  }
  for (size_t i = first; i < cases.size(); ++i) {
    Case& k = cases[i];
    if (k.outcomes.empty()) throw LoadError{k.where + ": case without an outcome"};
    if (k.input.empty()) throw LoadError{k.where + ": case without input"};
    for (auto& out : k.outcomes) {
      out.is_head = out.method == "HEAD";
      if (out.header_count >= 0 && !out.headers.empty())
        throw LoadError{k.where + ": header and header-count together"};
    }
  }
}

// ---- feeding ----------------------------------------------------------------------------------------------

// The bytes a "connection" has received so far, where the parser sees them.
class Memory {
 public:
  virtual ~Memory() = default;
  // Makes the first n bytes of input visible and returns where they start; bytes past n must be unreadable
  // (heap: ASan redzone; guard: PROT_NONE page).
  virtual const char* show(const std::string& input, size_t n) = 0;
};

// An exact-size heap block per delivery: ASan reports any read past it (or before it).
class HeapMemory : public Memory {
 public:
  const char* show(const std::string& input, size_t n) override {
    block_.reset(new char[n ? n : 1]);
    std::memcpy(block_.get(), input.data(), n);
    return block_.get();
  }

 private:
  std::unique_ptr<char[]> block_;
};

// Pages mapped between two PROT_NONE pages; the bytes sit right before the upper one (or right after the lower
// one), so an over-read (under-read) faults even without ASan.
class GuardMemory : public Memory {
 public:
  GuardMemory(size_t max, bool at_end) : at_end_(at_end) {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    data_ = (max + page_ - 1) / page_ * page_;
    if (data_ == 0) data_ = page_;
    size_ = data_ + 2 * page_;
    void* m = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      std::perror("mmap");
      std::exit(2);
    }
    base_ = static_cast<char*>(m);
    if (mprotect(base_, page_, PROT_NONE) != 0 || mprotect(base_ + page_ + data_, page_, PROT_NONE) != 0) {
      std::perror("mprotect");
      std::exit(2);
    }
  }
  ~GuardMemory() override { munmap(base_, size_); }
  const char* show(const std::string& input, size_t n) override {
    char* p = at_end_ ? base_ + page_ + data_ - n : base_ + page_;
    std::memmove(p, input.data(), n);
    return p;
  }

 private:
  bool at_end_;
  size_t page_ = 0, data_ = 0, size_ = 0;
  char* base_ = nullptr;
};

std::string version_of(const RequestHead& h) {
  return std::to_string(h.version_major) + "." + std::to_string(h.version_minor);
}

std::string str(Slice s) { return std::string(s.p, s.len); }

// "name: value", or "name:" when the value is empty: the corpus spelling of a field.
std::string field(const Header& h) { return str(h.name) + ":" + (h.value.len ? " " + str(h.value) : std::string()); }

// Plays a connection: the input arrives in deliveries ending at each offset in `cuts` (the last is its size);
// after each, every complete head and every body byte is parsed, the way the connection core will do it.
// Contract violations (a step reading outside the window, a data slice without consumed bytes) are failures.
std::vector<Outcome> drive(const Case& c, const std::vector<size_t>& cuts, Memory& mem, bool count_only,
                           std::string* violation) {
  std::vector<Outcome> got;
  std::vector<Header> headers(c.limits.max_headers ? c.limits.max_headers : 1);
  std::vector<Header> trailers(c.limits.max_headers ? c.limits.max_headers : 1);
  BodyDecoder dec;
  dec.set_trailer_storage(trailers.data());
  enum { Head, Body } state = Head;
  size_t pos = 0, scanned = 0;
  Outcome cur;
  for (size_t avail : cuts) {
    const char* w = mem.show(c.input, avail);
    for (;;) {
      if (state == Head) {
        if (pos == avail) break;
        RequestHead h;
        h.headers = headers.data();
        int64_t r = parse_request_head(w + pos, avail - pos, c.limits, &h, &scanned);
        if (r == 0) break;
        if (r < 0) {
          Outcome o;
          o.kind = Outcome::Reject;
          static const int kStatus[] = {0, 400, 408, 413, 414, 431, 500, 501, 503, 505};
          int e = static_cast<int>(-r);
          o.status = e < 10 ? kStatus[e] : -e;
          got.push_back(o);
          return got;
        }
        if (static_cast<size_t>(r) > avail - pos) {
          *violation = "head length past the bytes given";
          return got;
        }
        cur = Outcome();
        cur.method = str(h.method);
        cur.target = str(h.target);
        cur.version = version_of(h);
        cur.is_head = h.is_head;
        if (count_only) cur.header_count = static_cast<int>(h.header_count);
        else
          for (uint32_t i = 0; i < h.header_count; ++i) cur.headers.push_back(field(h.headers[i]));
        cur.connection = h.connection;
        cur.expect_continue = h.expect_continue;
        cur.expect_other = h.expect_other;
        cur.framing = h.body == BodyKind::Length    ? "length " + std::to_string(h.content_length)
                      : h.body == BodyKind::Chunked ? "chunked"
                                                    : "none";
        pos += static_cast<size_t>(r);
        scanned = 0;
        dec.reset(h.body, h.content_length, &c.limits);
        state = Body;
      }
      if (dec.done()) {
        for (uint32_t i = 0; i < dec.trailer_count(); ++i) cur.trailers.push_back(field(trailers[i]));
        got.push_back(cur);
        state = Head;
        continue;
      }
      BodyDecoder::Step s = dec.feed(w + pos, avail - pos);
      if (s.error != HttpError::None) {
        static const int kStatus[] = {0, 400, 408, 413, 414, 431, 500, 501, 503, 505};
        int e = static_cast<int>(s.error);
        cur.end = std::to_string(e < 10 ? kStatus[e] : -e);
        got.push_back(cur);
        return got;
      }
      if (s.consumed > avail - pos ||
          (s.data.len && (s.data.p < w + pos || s.data.p + s.data.len > w + pos + s.consumed))) {
        *violation = "step outside the bytes given";
        return got;
      }
      if (s.consumed == 0 && (s.data.len || s.done)) {
        *violation = "data or done without consumed bytes";
        return got;
      }
      cur.body.append(s.data.p ? s.data.p : "", s.data.len);
      pos += s.consumed;
      if (s.done) {
        if (!dec.done()) {
          *violation = "step done but decoder not done";
          return got;
        }
        continue;  // recorded at the top, with the trailers (still inside this delivery)
      }
      if (s.consumed == 0) break;
    }
  }
  if (state == Body) {
    cur.end = "incomplete";
    got.push_back(cur);
  } else if (pos < c.input.size()) {
    Outcome o;
    o.kind = Outcome::Incomplete;
    got.push_back(o);
  }
  return got;
}

struct Counts {
  size_t cases = 0, runs = 0;
};

void run_case(const Case& c, Counts& counts) {
  const size_t n = c.input.size();
  bool count_only = false;
  for (auto& o : c.outcomes) count_only |= o.header_count >= 0;
  const std::string want = print(c.outcomes);
  HeapMemory heap;
  GuardMemory guard_end(n, true), guard_start(n, false);
  std::string violation;

  auto check = [&](const char* mode, size_t k, const std::vector<size_t>& cuts, Memory& mem) {
    ++counts.runs;
    std::string got = print(drive(c, cuts, mem, count_only, &violation));
    if (got == want && violation.empty()) return true;
    std::fprintf(stderr, "FAIL %s: %s [%s", c.where.c_str(), c.name.c_str(), mode);
    if (k) std::fprintf(stderr, " %zu", k);
    std::fprintf(stderr, "]\n  input: %s\n", escape(c.input).c_str());
    if (!violation.empty()) std::fprintf(stderr, "  contract violation: %s\n", violation.c_str());
    std::fprintf(stderr, "--- want\n%s--- got\n%s", want.c_str(), got.c_str());
    ++g_failures;
    return false;
  };

  ++counts.cases;
  if (!check("whole", 0, {n}, heap)) return;  // one report per case: the rest would say the same
  if (!check("guard-end whole", 0, {n}, guard_end)) return;
  if (!check("guard-start whole", 0, {n}, guard_start)) return;
  for (size_t k = 1; k < n; ++k)
    if (!check("split at", k, {k, n}, heap)) return;
  std::vector<size_t> bytes(n);
  for (size_t k = 0; k < n; ++k) bytes[k] = k + 1;
  if (!check("byte by byte", 0, bytes, heap)) return;
  check("guard-end byte by byte", 0, bytes, guard_end);
}

// ---- linear feeding -----------------------------------------------------------------------------------------

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A 1 MiB head, a 1 MiB chunk line and a 1 MiB trailer section fed one byte at a time on one growing buffer:
// linear work takes milliseconds, quadratic work (re-scanning from the start) would take minutes.
void linear_feeding() {
  const size_t big = 1 << 20;
  ParserLimits l;
  l.max_header_size = l.max_request_line = l.max_chunk_line = l.max_trailer_size = 4 * big;
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(big, 'a') + "\r\n\r\n";
  Header hs[100];
  RequestHead h;
  h.headers = hs;
  size_t scanned = 0;
  auto t0 = std::chrono::steady_clock::now();
  int64_t r = 0;
  for (size_t k = 1; k <= head.size() && r == 0; ++k) r = parse_request_head(head.data(), k, l, &h, &scanned);
  double t = seconds_since(t0);
  if (r != static_cast<int64_t>(head.size()) || h.header_count != 2) {
    std::fprintf(stderr, "FAIL linear head: result %lld\n", static_cast<long long>(r));
    ++g_failures;
  }
  if (t > 2.0) {
    std::fprintf(stderr, "FAIL linear head: %.2f s for %zu bytes one at a time (quadratic?)\n", t, head.size());
    ++g_failures;
  }

  std::string body = "5;x=" + std::string(big, 'e') + "\r\nhello\r\n0\r\nT: " + std::string(big, 't') + "\r\n\r\n";
  BodyDecoder dec;
  dec.reset(BodyKind::Chunked, 0, &l);
  size_t pos = 0;
  std::string data;
  t0 = std::chrono::steady_clock::now();
  for (size_t k = 1; k <= body.size() && !dec.done(); ++k) {
    for (;;) {
      BodyDecoder::Step s = dec.feed(body.data() + pos, k - pos);
      if (s.error != HttpError::None) {
        std::fprintf(stderr, "FAIL linear body: error %d\n", int(s.error));
        ++g_failures;
        return;
      }
      data.append(s.data.p ? s.data.p : "", s.data.len);
      pos += s.consumed;
      if (s.consumed == 0 || s.done) break;
    }
  }
  t = seconds_since(t0);
  if (!dec.done() || data != "hello" || pos != body.size()) {
    std::fprintf(stderr, "FAIL linear body: done %d data %s pos %zu\n", dec.done(), data.c_str(), pos);
    ++g_failures;
  }
  if (t > 2.0) {
    std::fprintf(stderr, "FAIL linear body: %.2f s for %zu bytes one at a time (quadratic?)\n", t, body.size());
    ++g_failures;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "test/corpus";
  std::vector<std::string> files;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".txt") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::vector<Case> cases;
  try {
    for (auto& f : files) load_file(f, cases);
  } catch (const LoadError& e) {
    std::fprintf(stderr, "corpus: %s\n", e.msg.c_str());
    return 1;
  }
  if (cases.empty()) {
    std::fprintf(stderr, "corpus: no cases under %s\n", dir.c_str());
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  Counts counts;
  for (auto& c : cases) run_case(c, counts);
  double corpus_s = seconds_since(t0);
  linear_feeding();
  std::printf(
      "parser: %zu corpus cases in %zu files, %zu runs (whole, every split, byte by byte, guard pages) in "
      "%.2f s; %d failure(s)\n",
      counts.cases, files.size(), counts.runs, corpus_s, g_failures);
  return g_failures ? 1 : 0;
}
