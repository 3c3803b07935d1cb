// The keep-alive decision in TypeScript: a mirror of native/core/keep_alive.cc for documentation and the
// compatibility layer. The native core is what decides on the wire; test/vectors/keep-alive.json binds the two.

/** Bits of a parsed Connection header; the same values as ConnToken in native/core/http_types.h. */
export const ConnToken = {
  Close: 1,
  KeepAlive: 2,
  Upgrade: 4,
} as const;

/** How the end of the response body is marked: the same cases as Framing in http_types.h. */
export type Framing = 'none' | 'length' | 'chunked' | 'close';

export interface KeepAliveInput {
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (any other 1.x is served as 1.1). */
  versionMinor: number;
  /** ConnToken bits of the request's Connection fields. */
  requestTokens: number;
  /** ConnToken bits of a Connection header the handler set on the response. */
  responseTokens: number;
  framing: Framing;
  /** The request body was fully read (or will be drained within the bound). */
  bodyComplete: boolean;
  /** Shutdown, maxRequestsPerSocket reached, or a deadline passed. */
  serverClosing: boolean;
}

const SP = 0x20;
const HTAB = 0x09;

// Compares one list element with a lower-case literal, folding only A-Z. String#toLowerCase is not used on
// purpose: it folds non-ASCII too (U+212A KELVIN SIGN becomes "k"), and the native side compares bytes.
function tokenIs(value: string, start: number, end: number, literal: string): boolean {
  if (end - start !== literal.length) return false;
  for (let i = 0; i < literal.length; i++) {
    let c = value.charCodeAt(start + i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== literal.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Parses one Connection field value, a comma-separated token list (RFC 9110 5.6.1, 7.6.1): OWS (SP / HTAB)
 * around elements, empty elements allowed, case-insensitive, whole tokens only ("closed" is not "close").
 * Returns ConnToken bits; tokens other than close, keep-alive and upgrade are ignored.
 */
export function parseConnectionTokens(value: string): number {
  let bits = 0;
  let pos = 0;
  const len = value.length;
  while (pos < len) {
    let end = value.indexOf(',', pos);
    if (end < 0) end = len;
    let b = pos;
    let e = end;
    while (b < e && isOws(value.charCodeAt(b))) b++;
    while (e > b && isOws(value.charCodeAt(e - 1))) e--;
    if (tokenIs(value, b, e, 'close')) bits |= ConnToken.Close;
    else if (tokenIs(value, b, e, 'keep-alive')) bits |= ConnToken.KeepAlive;
    else if (tokenIs(value, b, e, 'upgrade')) bits |= ConnToken.Upgrade;
    pos = end + 1;
  }
  return bits;
}

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

/**
 * Does the request alone end the connection after its response? Any close token does (on 1.0 too), and an
 * HTTP/1.0 request without a keep-alive token does. Nothing pipelined after such a request is processed.
 */
export function requestCloses(versionMinor: number, tokens: number): boolean {
  if (tokens & ConnToken.Close) return true;
  return versionMinor === 0 && !(tokens & ConnToken.KeepAlive);
}

/** true when the connection stays open for the next request after this response. */
export function keepAlive(input: KeepAliveInput): boolean {
  if (input.serverClosing) return false;
  // An unread body beyond the drain bound would otherwise be parsed as the next request.
  if (!input.bodyComplete) return false;
  // The client finds the end of such a body only by the close.
  if (input.framing === 'close') return false;
  if ((input.requestTokens | input.responseTokens) & ConnToken.Close) return false;
  if (input.versionMinor === 0) {
    // HTTP/1.0 persists only by opt-in, and only with a body end it can find without chunked coding.
    if (!(input.requestTokens & ConnToken.KeepAlive)) return false;
    return input.framing === 'length' || input.framing === 'none';
  }
  return true;
}

