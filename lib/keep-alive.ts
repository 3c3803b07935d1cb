// The Connection header's token list in TypeScript, for the fields a handler sets on a response (respond() takes
// their ConnToken bits). native/core/keep_alive.cc parses the request's with the same rule; both run the token
// cases of test/keep-alive.test.ts and test/native/keep_alive_test.cc.

/** Bits of a parsed Connection header; the same values as ConnToken in native/core/http_types.h. */
export const ConnToken = {
  Close: 1,
  KeepAlive: 2,
  Upgrade: 4,
} as const;

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
