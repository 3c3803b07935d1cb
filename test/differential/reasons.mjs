// Why nova-http and node:http (llhttp) differ on an input: the rules run.mjs tries in order; the first whose `kinds`
// include the difference's kind and whose test matches explains it. Rules for nova-http being laxer or parsing
// differently are narrow on purpose (they name llhttp's error and the exact construct), so that they never excuse a
// real bug; rules for nova-http being stricter only say which of its documented refusals applies.
// A difference d is { id, input (latin1 string), kind, at, fields, nova, node }, where nova/node are outcomes:
// { requests: [{ method, target, version, headers, body, complete, trailers }], error, closed, code }.
import * as http from 'node:http';

// ---------------------------------------------------------------------------------------------------------------
// Reading the input (latin1, one char per byte)

/**
 * The request heads of the input, each the text from a request line to its last CRLF (an unfinished one as it is),
 * skipping a body framed by Content-Length (chunked bodies are not skipped: enough for these rules).
 */
function heads(s) {
  const out = [];
  let i = 0;
  while (i < s.length) {
    while (s.startsWith('\r\n', i)) i += 2;
    const end = s.indexOf('\r\n\r\n', i);
    if (end < 0) {
      if (i < s.length) out.push(s.slice(i));
      break;
    }
    const head = s.slice(i, end + 2);
    out.push(head);
    i = end + 4;
    const cl = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n/i.exec(head);
    if (cl && !/\r\ntransfer-encoding:/i.test(head)) i += Math.min(Number(cl[1]), s.length);
  }
  return out;
}

/** [name, raw value (everything after the colon)] of every field line in every head. */
function fieldLines(s) {
  const out = [];
  for (const h of heads(s)) {
    const lines = h.split('\r\n').slice(1);
    for (const l of lines) {
      const c = l.indexOf(':');
      if (c > 0) out.push([l.slice(0, c), l.slice(c + 1)]);
    }
  }
  return out;
}
const named = (s, name) => fieldLines(s).filter(([n]) => n.toLowerCase() === name);
const requestLines = (s) => heads(s).map((h) => h.split('\r\n')[0]);
const trim = (v) => v.replace(/^[ \t]+|[ \t]+$/g, '');
const hasOuterWs = (v) => /^\t|[ \t]$/.test(v) || /^ {2}/.test(v);
/** The trailer section of a chunked body: what follows a last-chunk line "0\r\n" (rough, enough for these rules). */
const trailers = (s) => {
  const m = /\r\n\r\n(?:[\s\S]*?\r\n)?0+(?:;[^\r\n]*)?\r\n([\s\S]*)$/.exec(s);
  return m ? m[1] : '';
};
const llhttpMethods = new Set(http.METHODS);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TOK = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const TE_ELEMENT = `${TOK}(?:[ \\t]*;[ \\t]*${TOK}[ \\t]*=[ \\t]*(?:${TOK}|"(?:[^"\\\\]|\\\\.)*"))*`;
/** transfer-coding list (RFC 9112 7, RFC 9110 5.6.6 parameters), no empty elements. */
const TE_LIST = new RegExp(`^${TE_ELEMENT}(?:[ \\t]*,[ \\t]*${TE_ELEMENT})*$`);
const AUTHORITY = /^[A-Za-z0-9\-._~%!$&'()*+,;=:[\]]*$/;
const nodeCode = (d, ...codes) => codes.includes(d.node.code);

// ---------------------------------------------------------------------------------------------------------------
// The rules

export const reasons = [
  // ---- nova-http refuses what llhttp lets through (RFC 9112 MUSTs, and nova-http's documented choices)
  {
    key: 'host-count', kinds: ['nova-stricter', 'node-waits'],
    title: 'More than one Host field: 400',
    why: 'RFC 9112 3.2: a server MUST respond with 400 to a request with more than one Host field line (and to an ' +
      'HTTP/1.1 request without one). node:http takes the first Host and goes on.',
    test: (d) => heads(d.input).some((h) => (h.match(/\r\nhost:/gi) ?? []).length >= 2),
  },
  {
    key: 'host-missing', kinds: ['nova-stricter'],
    title: 'HTTP/1.1 request without Host: 400, and nothing after it is processed',
    why: 'RFC 9112 3.2: a server MUST respond with 400 to an HTTP/1.1 request without Host. Both answer 400, but ' +
      'node:http (its requireHostHeader check runs after parsing) keeps the connection and dispatches the requests ' +
      'pipelined after it; nova-http refuses the request as malformed and closes.',
    test: (d) => {
      const first = heads(d.input)[d.nova.requests.length];
      return first !== undefined && /HTTP\/1\.1\r\n/.test(first) && !/\r\nhost:/i.test(first);
    },
  },
  {
    key: 'host-value', kinds: ['nova-stricter', 'node-waits'],
    title: 'Host value that is not an authority: 400',
    why: 'RFC 9112 3.2: a server MUST respond with 400 to a Host field with an invalid value; nova-http allows the ' +
      'RFC 3986 authority characters only (no SP, "/", "@", "#", obs-text, ...). llhttp does not look at Host.',
    test: (d) => named(d.input, 'host').some(([, v]) => !AUTHORITY.test(trim(v))),
  },
  {
    key: 'version-major', kinds: ['nova-stricter', 'status', 'node-waits'],
    title: 'HTTP major version other than 1: 505',
    why: 'nova-http answers 505 (RFC 9110 15.6.6) to HTTP/0.9, HTTP/2.0, HTTP/3.1 in an HTTP/1 request line: it ' +
      'cannot serve them as HTTP/1.1. llhttp accepts HTTP/0.9 and HTTP/2.0 request lines (node:http then serves the ' +
      'request and closes) and answers 400 to other versions.',
    test: (d) => requestLines(d.input).some((l) => /HTTP\/(?!1\.)\d\.\d$/.test(l)),
  },
  {
    key: 'http09-simple-request', kinds: ['nova-stricter'],
    title: 'Request line without a version (HTTP/0.9 simple request): 400',
    why: 'RFC 9112 3: request-line = method SP request-target SP HTTP-version; HTTP/0.9 simple requests are not ' +
      'supported. llhttp accepts "GET /" as HTTP/0.9 and node:http serves it.',
    test: (d) => requestLines(d.input).some((l) => /^[^ ]+ [^ ]+$/.test(l)),
  },
  {
    key: 'request-line-whitespace', kinds: ['nova-stricter'],
    title: 'Request line with more than one SP between its parts: 400',
    why: 'RFC 9112 3: the parts of the request line are separated by exactly one SP. (The RFC lets a recipient ' +
      'split on any whitespace instead; nova-http does not, since a front end that splits differently would see ' +
      'another target.) llhttp skips repeated spaces.',
    test: (d) => requestLines(d.input).some((l) => l.includes('  ')),
  },
  {
    key: 'target-form', kinds: ['nova-stricter'],
    title: 'Request-target form that does not fit the method: 400',
    why: 'RFC 9112 3.2: "*" (asterisk-form) is for OPTIONS only, and CONNECT takes the authority-form host:port ' +
      '(3.2.3: no userinfo, a port of digits); other methods take origin-form or absolute-form. llhttp checks the ' +
      'characters of the target, not its form.',
    test: (d) => requestLines(d.input).some((l) => {
      const [m, t] = l.split(' ');
      if (t === undefined) return false;
      if (m === 'CONNECT') return !/^[A-Za-z0-9\-._~%!$&'()*+,;=[\]]+:\d+$/.test(t);
      if (t.startsWith('*')) return !(t === '*' && m === 'OPTIONS');
      return false;
    }),
  },
  {
    key: 'leading-empty-lines', kinds: ['nova-stricter'],
    title: 'Bare LF, bare CR or more than 8 empty lines before the request line: 400',
    why: 'RFC 9112 2.2 asks a server to ignore at least one empty line (CRLF) before a request line; nova-http ' +
      'skips up to 8 and only as CRLF (bare LF is 400 everywhere, see the corpus README). llhttp skips any number ' +
      'of CR and LF bytes.',
    test: (d) => /^(?:\r\n){9}/.test(d.input) || /^(?:\r\n)*(?:\n|\r(?!\n))/.test(d.input),
  },
  {
    key: 'bare-cr', kinds: ['nova-stricter', 'node-waits'],
    title: 'Bare CR: 400',
    why: 'RFC 9112 2.2: a recipient of a bare CR MUST consider the element invalid (or replace it with SP); ' +
      'nova-http refuses it at once, llhttp sometimes waits for the next bytes.',
    test: (d) => /\r(?!\n)/.test(d.input.replace(/\r$/, '')), // a CR at the very end may still get its LF
  },
  {
    key: 'bare-lf', kinds: ['nova-stricter', 'node-waits'],
    title: 'Bare LF as a line end: 400',
    why: 'RFC 9112 2.2 lets a recipient accept a bare LF as a line terminator; nova-http never does (a front end ' +
      'that does not would see other lines: a smuggling vector). llhttp accepts bare LF in some places.',
    test: (d) => /(^|[^\r])\n/.test(d.input),
  },
  {
    key: 'content-length-range', kinds: ['nova-stricter'],
    title: 'Content-Length of 2^63 or more: 400',
    why: 'nova-http takes lengths up to 2^63-1 (they fit an int64 and a JS BigInt); llhttp up to 2^64-1. No real ' +
      'body comes near either.',
    test: (d) => named(d.input, 'content-length').some(([, v]) => /\d{19,}/.test(v)),
  },
  {
    key: 'transfer-coding-not-understood', kinds: ['nova-stricter', 'status'],
    title: 'A transfer coding other than chunked before chunked: 501',
    why: 'RFC 9112 6.1: a server that receives a transfer coding it does not understand SHOULD answer 501. ' +
      'nova-http decodes chunked only; node:http accepts "gzip, chunked" and hands the still gzip-coded body to ' +
      'the handler.',
    test: (d) => d.nova.error === 501,
  },
  {
    key: 'transfer-encoding-invalid', kinds: ['nova-stricter', 'node-waits'],
    title: 'Transfer-Encoding that is not a valid list ending in one chunked: 400',
    why: 'RFC 9112 6.3 rule 4: when the last coding is not chunked the framing is unknown and the server MUST ' +
      'answer 400 and close; nova-http also refuses chunked twice, chunked with parameters, quoted or empty ' +
      'elements, and an empty value (a front end reading the list another way would frame the body differently). ' +
      '(RFC 9110 5.6.1.2 asks recipients to ignore empty list elements; for the framing field nova-http refuses ' +
      'them, a deliberate choice of the corpus README.) llhttp accepts some of these.',
    test: (d) => {
      const lines = named(d.input, 'transfer-encoding');
      if (lines.length === 0) return false;
      // Several lines are one list (RFC 9110 5.3).
      const list = lines.map(([, v]) => trim(v)).join(', ');
      if (!TE_LIST.test(list)) return true;
      const names = list.split(',').map((x) => trim(x.split(';')[0]).toLowerCase());
      return names[names.length - 1] !== 'chunked' || names.filter((x) => x === 'chunked').length !== 1 ||
        /chunked[ \t]*;/i.test(list);
    },
  },
  {
    key: 'transfer-encoding-http10', kinds: ['nova-stricter'],
    title: 'Transfer-Encoding in an HTTP/1.0 request: 400',
    why: 'RFC 9112 6.1: a server that receives an HTTP/1.0 message with Transfer-Encoding MUST treat its framing ' +
      'as faulty.',
    test: (d) => named(d.input, 'transfer-encoding').length > 0 && requestLines(d.input).some((l) => /HTTP\/1\.0$/.test(l)),
  },
  {
    key: 'too-many-fields', kinds: ['nova-stricter'],
    title: 'More than 100 field lines: 431',
    why: 'nova-http refuses a head of more than 100 field lines (ParserLimits::max_headers); node:http accepts ' +
      'them (its maxHeadersCount of 2000 only drops the extra ones from req.headers).',
    test: (d) => d.nova.error === 431 && heads(d.input).some((h) => h.split('\r\n').length - 2 > 100),
  },
  {
    key: 'chunk-size-range', kinds: ['nova-stricter', 'parse'],
    title: 'Chunk size of 2^63 or more: 400',
    why: 'nova-http takes chunk sizes up to 2^63-1 (as for Content-Length); llhttp up to 2^64-1.',
    test: (d) => /\r\n0*[89a-fA-F][0-9a-fA-F]{15}(?:[;\r])/.test(d.input) || /\r\n0*[1-9a-fA-F][0-9a-fA-F]{16,}/.test(d.input),
  },
  {
    key: 'chunk-extension-syntax', kinds: ['nova-stricter', 'parse'],
    title: 'Chunk extension that does not follow the grammar: 400',
    why: 'RFC 9112 7.1.1: chunk-ext-name [ BWS "=" BWS chunk-ext-val ], the value a token or a quoted-string. ' +
      'nova-http refuses "a=" with no value; llhttp accepts it.',
    test: (d) => /\r\n[0-9a-fA-F]+[ \t]*;[^\r\n]*=[ \t]*\r\n/.test(d.input),
  },
  {
    key: 'nothing-after-close', kinds: ['nova-stricter', 'nova-laxer'],
    title: 'Bytes after a request that closes the connection are ignored',
    why: 'RFC 9112 9.6: a server that receives "close" MUST NOT process any further requests on that connection ' +
      '(an HTTP/1.0 request without keep-alive closes too). nova-http answers the closing request, then closes and ' +
      'ignores what follows; node:http parses on, and refuses the next bytes (HPE_CLOSED_CONNECTION) or even ' +
      'dispatches the next requests to the handler.',
    test: (d) => {
      const n = d.nova.requests.length;
      const last = d.nova.requests[n - 1];
      if (!last || !d.nova.closed || d.nova.error !== null) return false;
      // node:http dispatched at least as much; when it refused, it was for the bytes after the closing request.
      if (d.node.requests.length < n) return false;
      if (d.kind === 'nova-laxer' && !nodeCode(d, 'HPE_CLOSED_CONNECTION')) return false;
      const tokens = [];
      for (let i = 0; i < last.headers.length; i += 2) {
        if (/^connection$/i.test(last.headers[i])) tokens.push(...last.headers[i + 1].toLowerCase().split(',').map(trim));
      }
      return tokens.includes('close') || (last.version === '1.0' && !tokens.includes('keep-alive'));
    },
  },
  {
    key: 'specific-status', kinds: ['status'],
    title: 'A more specific status than 400',
    why: 'nova-http answers 414 (request line too long), 431 (head too large), 501 (transfer coding not ' +
      'understood) and 505 (HTTP version) where node:http answers 400 to every parse error but a header overflow.',
    test: (d) => [414, 431, 501, 505].includes(d.nova.error) && d.node.error === 400,
  },

  // ---- nova-http accepts what llhttp refuses: each one is RFC-conformant, and named precisely
  {
    key: 'extension-method', kinds: ['nova-laxer'],
    title: 'Methods llhttp does not know: accepted',
    why: 'RFC 9110 9.1: method = token, and new methods are registered over time; nova-http accepts any token ' +
      '(the handler answers 501 to a method it does not implement, RFC 9110 9.1). llhttp refuses methods outside ' +
      'its built-in list (HPE_INVALID_METHOD), lower-case "get" included.',
    test: (d) => nodeCode(d, 'HPE_INVALID_METHOD') &&
      d.nova.requests.slice(d.node.requests.length).some((r) => TOKEN.test(r.method) && !llhttpMethods.has(r.method)),
  },
  {
    key: 'minor-version', kinds: ['nova-laxer'],
    title: 'HTTP/1.2 to HTTP/1.9: served as HTTP/1.1',
    why: 'RFC 9110 2.5: a recipient of a higher minor version than it implements SHOULD process the message as if ' +
      'it were the highest minor version it conforms to. llhttp refuses them (HPE_INVALID_VERSION).',
    test: (d) => nodeCode(d, 'HPE_INVALID_VERSION') && requestLines(d.input).some((l) => /HTTP\/1\.[2-9]$/.test(l)),
  },
  {
    key: 'content-length-ows', kinds: ['nova-laxer'],
    title: 'Content-Length with OWS (tabs, trailing spaces) around the value: accepted',
    why: 'RFC 9110 5.5: leading and trailing OWS (SP / HTAB) is not part of a field value. llhttp refuses a tab ' +
      'before, or any whitespace after, the digits (HPE_INVALID_CONTENT_LENGTH).',
    test: (d) => nodeCode(d, 'HPE_INVALID_CONTENT_LENGTH') &&
      named(d.input, 'content-length').some(([, v]) => hasOuterWs(v) && /^\d+(?:[ \t]*,[ \t]*\d+)*$/.test(trim(v))),
  },
  {
    key: 'content-length-equal-values', kinds: ['nova-laxer'],
    title: 'Repeated Content-Length with equal values: accepted',
    why: 'RFC 9112 6.3 rule 5 and RFC 9110 8.6: a Content-Length that is a list (or repeated lines) of the same ' +
      'value MAY be taken as that value; nova-http does so when every value is numerically equal. llhttp refuses ' +
      'any repetition (HPE_UNEXPECTED_CONTENT_LENGTH) and any list (HPE_INVALID_CONTENT_LENGTH). No framing ' +
      'ambiguity: every reading gives the same length.',
    test: (d) => nodeCode(d, 'HPE_UNEXPECTED_CONTENT_LENGTH', 'HPE_INVALID_CONTENT_LENGTH') && (() => {
      const values = named(d.input, 'content-length').flatMap(([, v]) => v.split(',').map(trim));
      return values.length > 1 && values.every((v) => /^\d+$/.test(v) && BigInt(v) === BigInt(values[0]));
    })(),
  },
  {
    key: 'transfer-encoding-ows', kinds: ['nova-laxer', 'parse'],
    title: 'Transfer-Encoding with OWS (tabs, trailing spaces) around the value: accepted',
    why: 'RFC 9110 5.5: leading and trailing OWS is not part of a field value. llhttp does not match "chunked" ' +
      'followed by whitespace, or after a tab, and refuses the request (HPE_INVALID_TRANSFER_ENCODING) after ' +
      'node:http has dispatched it.',
    test: (d) => nodeCode(d, 'HPE_INVALID_TRANSFER_ENCODING') &&
      named(d.input, 'transfer-encoding').some(([, v]) => hasOuterWs(v) && trim(v).toLowerCase() === 'chunked'),
  },
  {
    key: 'connection-ows', kinds: ['nova-laxer'],
    title: 'Connection: keep-alive with trailing OWS in an HTTP/1.0 request: kept alive',
    why: 'RFC 9110 5.5: trailing OWS is not part of the value. llhttp does not see the keep-alive token when ' +
      'whitespace follows it, takes the HTTP/1.0 request as closing, and refuses the next one ' +
      '(HPE_CLOSED_CONNECTION).',
    test: (d) => nodeCode(d, 'HPE_CLOSED_CONNECTION') &&
      named(d.input, 'connection').some(([, v]) => /[ \t]$/.test(v) && /keep-alive/i.test(v)),
  },
  {
    key: 'chunk-extension-bws', kinds: ['nova-laxer', 'parse'],
    title: 'Whitespace around ";" and "=" of a chunk extension: accepted',
    why: 'RFC 9112 7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ): BWS is ' +
      'allowed there (and only there: "5 \\r\\n" is 400 in nova-http). llhttp refuses it (HPE_INVALID_CHUNK_SIZE).',
    test: (d) => nodeCode(d, 'HPE_INVALID_CHUNK_SIZE', 'HPE_STRICT') &&
      /\r\n[0-9a-fA-F]+(?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*=[ \t]*[^\r\n;]+)?)+\r\n/.test(d.input) &&
      /\r\n[0-9a-fA-F]+[^\r\n]*[ \t][^\r\n]*\r\n/.test(d.input),
  },
  {
    key: 'framing-field-in-trailers', kinds: ['nova-laxer', 'parse'],
    title: 'Content-Length or Transfer-Encoding in the trailer section: a plain trailer',
    why: 'RFC 9110 6.5.1: framing fields cannot be processed as trailers; nova-http reports them in ' +
      'req.rawTrailers like any other and never uses them for framing (the body has ended by then). llhttp ' +
      'refuses the request (HPE_INVALID_CONTENT_LENGTH / _TRANSFER_ENCODING) after node:http has dispatched it.',
    test: (d) => /(?:^|\r\n)(?:content-length|transfer-encoding)[ \t]*:/i.test(trailers(d.input)),
  },
  {
    key: 'absolute-form-any-scheme', kinds: ['nova-laxer'],
    title: 'A target that parses as absolute-form with an unusual scheme: accepted',
    why: 'RFC 9112 3.2.2: absolute-form = absolute-URI, and "example.com:80" is one (scheme "example.com", path ' +
      '"80", RFC 3986 3.1); nova-http checks the syntax, not the scheme. llhttp refuses it (HPE_INVALID_URL). The ' +
      'handler sees the target as sent.',
    test: (d) => nodeCode(d, 'HPE_INVALID_URL') &&
      requestLines(d.input).some((l) => /^[^ ]+ [A-Za-z][A-Za-z0-9+.-]*:[^ ]* HTTP\/1\.\d$/.test(l)),
  },

  // ---- timing: the same refusal, decided later
  {
    key: 'judged-when-complete', kinds: ['nova-waits'],
    title: 'An unfinished head is judged when it is complete',
    why: 'nova-http checks the request line and most field rules once the head is complete (only bare CR/LF and ' +
      'the size limits are judged byte by byte, parser.h); llhttp refuses a bad byte at once. Either way the ' +
      'request is refused: nova-http when the head ends, or with 408 at headersTimeout if it never does.',
    test: (d) => !d.nova.refused && !d.nova.closed && !/\r\n\r\n$/.test(d.input) &&
      (d.input.lastIndexOf('\r\n\r\n') < 0 || !d.input.slice(d.input.lastIndexOf('\r\n\r\n') + 4).includes('\r\n\r\n')) &&
      (d.nova.requests.length === d.node.requests.length || !d.nova.requests[d.nova.requests.length - 1].complete),
  },
  {
    key: 'chunk-line-judged-when-complete', kinds: ['nova-waits'],
    title: 'An unfinished chunk-size line is judged when its CRLF comes',
    why: 'nova-http reads a chunk-size line to its CRLF (at most max_chunk_line, 4 KiB) before judging it; llhttp ' +
      'refuses a bad byte at once. The request body is refused either way (or cut by requestTimeout).',
    test: (d) => !d.nova.refused && !d.nova.closed && nodeCode(d, 'HPE_INVALID_CHUNK_SIZE', 'HPE_STRICT') &&
      !d.nova.requests[d.nova.requests.length - 1]?.complete && !/\r\n$/.test(d.input),
  },
];

/** The key of the first rule that explains the difference d, else 'unexplained'. */
export function explain(d) {
  for (const r of reasons) {
    if (r.kinds.includes(d.kind) && r.test(d)) return r.key;
  }
  return 'unexplained';
}
