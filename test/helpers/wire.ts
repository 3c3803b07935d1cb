// The expected bytes of responses as docs/architecture.md specifies them ("Wire format of responses"), Date
// normalized to X, and request bytes for a GET.

/** Replaces the value of every Date field with X. */
export function normalize(text: string): string {
  return text.replace(/(^|\r\n)Date: [^\r\n]*\r\n/g, '$1Date: X\r\n');
}

export const reasons: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  304: 'Not Modified',
  400: 'Bad Request',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

/** A ready-made error response (native/core/http_errors.cc; the 500 of a failed handler too): no Date, always
 *  Connection: close. */
export function errorResponse(status: number): string {
  const reason = reasons[status];
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\n` +
    `Connection: close\r\n\r\n${reason}`;
}

export interface Expect {
  status?: number;
  reason?: string;
  /** The handler's field lines, in order, e.g. ['Content-Type: text/plain']. */
  fields?: string[];
  /** Body bytes as latin1 text (for 'chunked', the already-framed bytes). */
  body?: string;
  /** The response keeps the connection open. */
  persist?: boolean;
  /** The request was HTTP/1.0 (a persistent response says Connection: keep-alive even beside the handler's). */
  http10?: boolean;
  /** keepAliveTimeout in seconds as advertised by Keep-Alive: timeout=N. */
  timeoutS?: number;
  /** 'length' adds Content-Length of the body, 'chunked' Transfer-Encoding: chunked, 'none'/'close' nothing. */
  framing?: 'length' | 'chunked' | 'none' | 'close';
  /** Content-Length for a body that is not sent (HEAD). */
  contentLength?: number;
}

/** The exact bytes of a response as docs/architecture.md specifies them, with Date normalized to X. */
export function response(e: Expect = {}): string {
  const status = e.status ?? 200;
  const body = e.body ?? '';
  const persist = e.persist ?? true;
  const framing = e.framing ?? 'length';
  let s = `HTTP/1.1 ${status} ${e.reason ?? reasons[status]}\r\n`;
  for (const f of e.fields ?? []) s += `${f}\r\n`;
  s += 'Date: X\r\n';
  if (persist) {
    // As node:http: a persistent response says keep-alive, unless the handler set a Connection field (1.1).
    if (e.http10 || !(e.fields ?? []).some((f) => /^connection:/i.test(f))) s += 'Connection: keep-alive\r\n';
    s += `Keep-Alive: timeout=${e.timeoutS ?? 65}\r\n`;
  } else {
    s += 'Connection: close\r\n';
  }
  if (framing === 'length') s += `Content-Length: ${e.contentLength ?? Buffer.byteLength(body, 'latin1')}\r\n`;
  if (framing === 'chunked') s += 'Transfer-Encoding: chunked\r\n';
  return `${s}\r\n${body}`;
}

/** A GET request: `GET <path> HTTP/1.1\r\nHost: t\r\n<extra fields>\r\n`. */
export function get(target = '/', fields: string[] = [], version = '1.1'): string {
  return `GET ${target} HTTP/${version}\r\nHost: t\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`;
}
