// deps: keep_alive
// Runs test/vectors/keep-alive.json against the native decision (native/core/keep_alive.cc); test/keep-alive.test.ts
// runs the same file against its TypeScript mirror (test/keep-alive-mirror.ts). The vectors file may be given as
// argv[1].
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../../native/core/keep_alive.h"
#include "check.h"

using namespace nova;

namespace {

// One vector; a JSON null is kept apart from the empty string because an absent Connection field and an empty
// one are separate cases in the matrix (both must decide the same way).
struct Field {
  bool is_null = true;
  std::string text;
};

struct Vector {
  std::string name, version, framing;
  Field request, response;
  bool body_complete = true, server_closing = false, keep_alive = false;
  unsigned seen = 0;  // one bit per required key, so a vector missing a key is an error, not a default
};

// Just enough JSON for this file's shape: an array of flat objects whose values are strings, null or booleans.
// Anything else is an error with its offset, so a malformed vectors file cannot silently run fewer cases.
class Reader {
 public:
  explicit Reader(std::string s) : s_(std::move(s)) {}

  bool parse(std::vector<Vector>* out) {
    ws();
    if (!eat('[')) return err("expected [");
    ws();
    if (eat(']')) return end();
    for (;;) {
      Vector v;
      if (!object(&v)) return false;
      out->push_back(std::move(v));
      ws();
      if (eat(']')) return end();
      if (!eat(',')) return err("expected , or ]");
    }
  }
  const std::string& error() const { return error_; }

 private:
  bool object(Vector* v) {
    ws();
    if (!eat('{')) return err("expected {");
    ws();
    if (eat('}')) return true;
    for (;;) {
      std::string key;
      ws();
      if (!string(&key)) return false;
      ws();
      if (!eat(':')) return err("expected :");
      ws();
      if (!member(key, v)) return false;
      ws();
      if (eat('}')) return true;
      if (!eat(',')) return err("expected , or }");
    }
  }

  bool member(const std::string& key, Vector* v) {
    static const char* const kKeys[] = {"name",    "version",      "request",       "response",
                                        "framing", "bodyComplete", "serverClosing", "keepAlive"};
    unsigned bit = 0;
    for (unsigned i = 0; i < 8; ++i) {
      if (key == kKeys[i]) bit = 1u << i;
    }
    if (bit == 0) return err("unknown key " + key);
    v->seen |= bit;
    if (key == "request" || key == "response") {
      Field& f = key == "request" ? v->request : v->response;
      if (literal("null")) return true;
      f.is_null = false;
      return string(&f.text);
    }
    if (key == "bodyComplete") return boolean(&v->body_complete);
    if (key == "serverClosing") return boolean(&v->server_closing);
    if (key == "keepAlive") return boolean(&v->keep_alive);
    return string(key == "name" ? &v->name : key == "version" ? &v->version : &v->framing);
  }

  bool boolean(bool* b) {
    if (literal("true")) return *b = true, true;
    if (literal("false")) return *b = false, true;
    return err("expected true or false");
  }

  bool string(std::string* out) {
    if (!eat('"')) return err("expected string");
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return err("control character in string");
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (i_ >= s_.size()) break;
      char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/': out->push_back(e); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u':
          if (!unicode(out)) return false;
          break;
        default: return err("bad escape");
      }
    }
    return err("unterminated string");
  }

  // \uXXXX in the Basic Multilingual Plane, appended as UTF-8: the bytes a client would send for that text.
  bool unicode(std::string* out) {
    if (i_ + 4 > s_.size()) return err("short \\u escape");
    unsigned cp = 0;
    for (int k = 0; k < 4; ++k) {
      char h = s_[i_++];
      unsigned d = (h >= '0' && h <= '9')   ? h - '0'
                   : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                   : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                            : 16;
      if (d == 16) return err("bad hex digit");
      cp = cp * 16 + d;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) return err("surrogates are not supported");
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    return true;
  }

  bool literal(const char* word) {
    std::string w(word);
    if (s_.compare(i_, w.size(), w) != 0) return false;
    i_ += w.size();
    return true;
  }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  bool end() {
    ws();
    return i_ == s_.size() ? true : err("trailing data");
  }
  bool err(const std::string& what) {
    if (error_.empty()) error_ = what + " at offset " + std::to_string(i_);
    return false;
  }

  std::string s_;
  size_t i_ = 0;
  std::string error_;
};

uint8_t tokens(const Field& f) { return f.is_null ? 0 : parse_connection_tokens(f.text.data(), f.text.size()); }

bool framing_of(const std::string& s, Framing* f) {
  if (s == "length") *f = Framing::Length;
  else if (s == "chunked") *f = Framing::Chunked;
  else if (s == "close") *f = Framing::CloseDelimited;
  else if (s == "none") *f = Framing::NoBody;
  else return false;
  return true;
}

void run_vector(const Vector& v) {
  Framing framing = Framing::Length;
  if (v.seen != 0xFF) return FAIL(v.name + ": a key is missing");
  if (v.version != "1.0" && v.version != "1.1") return FAIL(v.name + ": bad version " + v.version);
  if (!framing_of(v.framing, &framing)) return FAIL(v.name + ": bad framing " + v.framing);
  KeepAliveInput in;
  in.version_minor = v.version == "1.0" ? 0 : 1;
  in.request_tokens = tokens(v.request);
  in.response_tokens = tokens(v.response);
  in.framing = framing;
  in.body_complete = v.body_complete;
  in.server_closing = v.server_closing;
  if (keep_alive(in) != v.keep_alive) FAIL(v.name + ": keep_alive() disagrees with the vector");
  // Where only the request decides, request_closes must agree: it is what stops parsing pipelined requests.
  if (v.response.is_null && framing == Framing::Length && v.body_complete && !v.server_closing &&
      request_closes(in.version_minor, in.request_tokens) == v.keep_alive) {
    FAIL(v.name + ": request_closes() disagrees with the vector");
  }
}

void check_tokens(const char* value, size_t len, uint8_t want) {
  uint8_t got = parse_connection_tokens(value, len);
  if (got != want) FAIL("parse_connection_tokens(\"" + std::string(value, len) + "\") = " + std::to_string(got));
}

// Byte-level cases JSON cannot carry as plainly: an embedded NUL, a length shorter than the string, and bytes
// that folding with | 0x20 would wrongly turn into letters or '-'.
void token_edge_cases() {
  check_tokens("close", 5, kConnClose);
  check_tokens("close", 4, 0);
  check_tokens("closexyz", 5, kConnClose);
  check_tokens("clo\0se", 6, 0);
  check_tokens("keep\ralive", 10, 0);
  check_tokens(
      "KEEP\x0d"
      "ALIVE",
      10, 0);
  check_tokens("\xc3\x9flose", 6, 0);
  check_tokens(nullptr, 0, 0);
  check_tokens("  ,\t, close ,keep-alive,UPGRADE", 31, kConnClose | kConnKeepAlive | kConnUpgrade);
}

std::string vectors_path(int argc, char** argv) {
  if (argc > 1) return argv[1];
  std::string here = __FILE__;
  size_t slash = here.find_last_of("/\\");
  return (slash == std::string::npos ? std::string(".") : here.substr(0, slash)) + "/../vectors/keep-alive.json";
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = vectors_path(argc, argv);
  std::ifstream file(path, std::ios::binary);
  if (!file) file.open("test/vectors/keep-alive.json", std::ios::binary);  // run from the repository root
  if (!file) {
    std::fprintf(stderr, "FAIL: cannot open %s\n", path.c_str());
    return 1;
  }
  std::stringstream text;
  text << file.rdbuf();
  std::vector<Vector> vectors;
  Reader reader(text.str());
  if (!reader.parse(&vectors)) {
    std::fprintf(stderr, "FAIL: %s: %s\n", path.c_str(), reader.error().c_str());
    return 1;
  }
  if (vectors.size() < 60) FAIL("fewer than 60 vectors: " + std::to_string(vectors.size()));
  for (const Vector& v : vectors) run_vector(v);
  token_edge_cases();
  std::printf("keep_alive_test: %zu vectors\n", vectors.size());
  return check_exit("keep_alive_test");
}
