// Loads the native addon and states the contract between lib/ and native/node/addon.cc: what crosses the
// thread hop (batches of events) and what JS calls back (responses, flow control). Nothing else touches the addon.
import * as path from 'node:path';

// Event records in a batch's `meta` (Uint32Array). Offsets/lengths point into the batch's `bytes` Buffer.
export const enum Ev {
  // [Request, connId, seq, flags, methodOff, methodLen, urlOff, urlLen, headerCount,
  //  (nameOff, nameLen, valueOff, valueLen) x headerCount]
  Request = 1,
  // [Body, connId, seq, off, len]: request body bytes, in order
  Body = 2,
  // [BodyEnd, connId, seq, trailerCount, (nameOff, nameLen, valueOff, valueLen) x trailerCount]
  BodyEnd = 3,
  // [Close, connId, reason]: the connection is gone; its unfinished requests/responses get 'close'
  Close = 4,
  // [Drain, connId]: the connection's unsent output fell below the low-water mark after wantDrain()
  Drain = 5,
  // [ClientError, connId, status]: native refused a request (status 400/408/413/414/431/501/503/505) and
  // already sent the ready-made response; informational ('clientError')
  ClientError = 6,
  // [ServerClosed, 0]: after close(), the listener and every connection are gone
  ServerClosed = 7,
}

// Request flags (meta[i + 3]).
export const enum ReqFlag {
  VersionMinorMask = 0x3,  // 0 = HTTP/1.0, 1 = HTTP/1.1
  Head = 0x4,              // HEAD request: the response has no body
  HasBody = 0x8,           // a body follows (Body events, then BodyEnd)
  ExpectContinue = 0x10,   // Expect: 100-continue (native already sent 100 Continue)
  Closes = 0x20,           // the request itself asks to close (Connection: close, or 1.0 without keep-alive)
}

// Why a connection closed (Close events, stats().closes keys in this order).
export const closeReasons = [
  'client', 'idleTimeout', 'headersTimeout', 'requestTimeout', 'parseError', 'evicted', 'cap', 'shutdown',
  'maxRequests', 'response', 'error',
] as const;
export type CloseReason = (typeof closeReasons)[number];

// Bits of respond()'s userFields: which framing/connection fields the handler set (native must not add them).
export const enum UserField {
  Date = 1,
  ContentLength = 2,
  TransferEncoding = 4,
  Connection = 8,
  KeepAlive = 16,
}

export interface NativeServerOptions {
  ioModel: number;  // 0 = blocking, 1 = evented
  backend: number;  // 0 = default, 1 = epoll, 2 = poll
  threads: number;
  keepAliveTimeout: number;
  headersTimeout: number;
  requestTimeout: number;
  maxRequestsPerSocket: number;
  maxHeaderSize: number;
  maxConnections: number;
}

export interface NativeStats {
  accepted: number;
  active: number;
  idle: number;
  requests: number;
  closes: Record<CloseReason, number>;
}

export interface NativeServer {
  // Binds and starts accepting. Throws an Error with .code (EADDRINUSE, EACCES, ...) on failure.
  listen(host: string, port: number, backlog: number): { address: string; family: string; port: number };
  // Head (+ optional first body bytes, + optional end) of the response to request `seq` on `connId`.
  // fields: the handler's field lines, "Name: value\r\n"..., validated by JS. contentLength: -1 when unknown.
  // Returns the connection's queued output bytes (for write()'s return value).
  respond(connId: number, seq: number, status: number, reason: string | undefined, fields: string,
          userFields: number, responseTokens: number, contentLength: number,
          body: string | Uint8Array | undefined, end: boolean): number;
  // More body bytes (and/or the end) of a response whose head was sent with respond().
  write(connId: number, seq: number, chunk: string | Uint8Array | undefined, end: boolean): number;
  // The handler failed after respond(): close the connection once the earlier responses are out.
  abort(connId: number, seq: number): void;
  // Hands every response queued since the last flush to the I/O threads (one wake-up per connection/loop).
  flush(): void;
  pauseBody(connId: number): void;
  resumeBody(connId: number): void;
  // Asks for a Drain event; returns true when the output is already below the mark (no event will come).
  wantDrain(connId: number): boolean;
  remoteAddress(connId: number): [string, number] | undefined;
  close(): void;
  closeIdle(): void;
  closeAll(): void;
  stats(): NativeStats;
  ref(): void;
  unref(): void;
  // Applies changed options to a listening server: the deadlines, maxRequestsPerSocket and maxConnections, from
  // each connection's next event (node:http code sets server.keepAliveTimeout after listen(), the usual
  // Express/ALB advice). The I/O model, threads and maxHeaderSize stay as they were at listen().
  configure?(options: NativeServerOptions): void;
}

// REQUEST (lib/dispatch.ts, lib/response.ts), what lib relies on beyond the signatures, all true of addon.cc today:
// - onBatch's `count` is the number of meta entries in use (records are walked until then);
// - `bytes` and `meta` belong to JS after the call (never reused): req.headers are sliced from them lazily and
//   body chunks are views into `bytes`;
// - respond(..., contentLength -1, body, end=true) sends Content-Length = the body's byte count (so end(string)
//   skips a Buffer.byteLength in JS); HEAD responses get the length explicitly;
// - abort(connId, seq) also works before respond() (req.destroy()/res.destroy() before any response).
export interface Binding {
  Server: new (options: NativeServerOptions,
               onBatch: (bytes: Buffer, meta: Uint32Array, count: number) => void) => NativeServer;
}

function load(): Binding {
  const root = path.join(__dirname, '..');
  // NOVA_HTTP_ADDON: an explicit .node file (sanitizer builds: scripts/test-asan.js, scripts/test-tsan.js).
  const override = process.env.NOVA_HTTP_ADDON;
  if (override) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.resolve(override)) as Binding;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('node-gyp-build')(root) as Binding;
  } catch (err) {
    const e = err as Error;
    throw new Error(
      `nova-http: could not load the native addon for ${process.platform}-${process.arch} ` +
        `(Node ${process.version}). No prebuilt binary matched and no local build was found; ` +
        `run "npm rebuild nova-http" with a C++17 compiler and Python installed. Cause: ${e.message}`,
      { cause: err },
    );
  }
}

export const binding: Binding = load();
