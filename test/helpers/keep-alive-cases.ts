// The keep-alive matrix's cases: HTTP/1.0 and 1.1 x the request's Connection field, and whether the connection
// persists. Run by test/connection-keep-alive-matrix.test.ts (vitest) and test/win/keep-alive.test.ts (Windows).
export interface KeepAliveCase {
  name: string;
  version: '1.0' | '1.1';
  fields: string[];
  persist: boolean;
}

export const keepAliveCases: KeepAliveCase[] = [
  // HTTP/1.1 persists unless a close token is present
  { name: '1.1, no Connection', version: '1.1', fields: [], persist: true },
  { name: '1.1, Connection: close', version: '1.1', fields: ['Connection: close'], persist: false },
  { name: '1.1, Connection: keep-alive', version: '1.1', fields: ['Connection: keep-alive'], persist: true },
  { name: '1.1, Connection: CLOSE', version: '1.1', fields: ['Connection: CLOSE'], persist: false },
  { name: '1.1, Connection: Close', version: '1.1', fields: ['Connection: Close'], persist: false },
  { name: '1.1, Connection: Keep-Alive', version: '1.1', fields: ['Connection: Keep-Alive'], persist: true },
  { name: '1.1, Connection:close (no OWS)', version: '1.1', fields: ['Connection:close'], persist: false },
  { name: '1.1, Connection: "  close  " (OWS)', version: '1.1', fields: ['Connection:   close  '], persist: false },
  { name: '1.1, Connection: keep-alive, close', version: '1.1', fields: ['Connection: keep-alive, close'], persist: false },
  { name: '1.1, Connection: keep-alive,CLOSE', version: '1.1', fields: ['Connection: keep-alive,CLOSE'], persist: false },
  { name: '1.1, Connection: foo , close , bar', version: '1.1', fields: ['Connection: foo , close , bar'], persist: false },
  { name: '1.1, Connection: te, keep-alive', version: '1.1', fields: ['Connection: te, keep-alive'], persist: true },
  { name: '1.1, Connection: closed', version: '1.1', fields: ['Connection: closed'], persist: true },
  { name: '1.1, Connection: xclose', version: '1.1', fields: ['Connection: xclose'], persist: true },
  { name: '1.1, Connection: close-ish, keep-alive', version: '1.1', fields: ['Connection: close-ish, keep-alive'], persist: true },
  { name: '1.1, Connection: ,, (empty list elements)', version: '1.1', fields: ['Connection: , ,'], persist: true },
  { name: '1.1, two Connection fields: keep-alive then close', version: '1.1', fields: ['Connection: keep-alive', 'Connection: close'], persist: false },
  { name: '1.1, two Connection fields: close then keep-alive', version: '1.1', fields: ['Connection: close', 'Connection: keep-alive'], persist: false },
  { name: '1.1, lower-case field name connection: close', version: '1.1', fields: ['connection: close'], persist: false },
  { name: '1.1, upper-case field name CONNECTION: close', version: '1.1', fields: ['CONNECTION: close'], persist: false },
  // HTTP/1.0 persists only with a keep-alive token (and no close token)
  { name: '1.0, no Connection', version: '1.0', fields: [], persist: false },
  { name: '1.0, Connection: close', version: '1.0', fields: ['Connection: close'], persist: false },
  { name: '1.0, Connection: keep-alive', version: '1.0', fields: ['Connection: keep-alive'], persist: true },
  { name: '1.0, Connection: Keep-Alive', version: '1.0', fields: ['Connection: Keep-Alive'], persist: true },
  { name: '1.0, Connection: KEEP-ALIVE', version: '1.0', fields: ['Connection: KEEP-ALIVE'], persist: true },
  { name: '1.0, Connection: keep-alive, close', version: '1.0', fields: ['Connection: keep-alive, close'], persist: false },
  { name: '1.0, Connection: close, keep-alive', version: '1.0', fields: ['Connection: close, keep-alive'], persist: false },
  { name: '1.0, Connection: foo, keep-alive', version: '1.0', fields: ['Connection: foo, keep-alive'], persist: true },
  { name: '1.0, Connection: closed', version: '1.0', fields: ['Connection: closed'], persist: false },
  { name: '1.0, Connection: closed, keep-alive', version: '1.0', fields: ['Connection: closed, keep-alive'], persist: true },
  { name: '1.0, Connection: keep-alived', version: '1.0', fields: ['Connection: keep-alived'], persist: false },
  { name: '1.0, two Connection fields: keep-alive then close', version: '1.0', fields: ['Connection: keep-alive', 'Connection: close'], persist: false },
];

export function keepAliveRequest(c: KeepAliveCase, target: string): string {
  return `GET ${target} HTTP/${c.version}\r\nHost: t\r\n${c.fields.map((f) => `${f}\r\n`).join('')}\r\n`;
}
