// The contract between lib/ and the addon (native/node/addon.cc, native/node/js_events.cc): the event records of
// a batch with their field offsets, request flags, close reasons, respond()'s field bits, and the native Server's
// methods. Types and constants only; lib/binding.ts loads the addon. The C++ side of each enum is named beside it.

// ---- Event records ----------------------------------------------------------------------------------------------
// A batch is (bytes: Buffer, meta: Uint32Array, count). `meta` holds variable-length records one after another;
// word 0 of every record is its kind (Ev); offsets/lengths in a record point into `bytes`. Offsets are uint32:
// native cuts a batch before it would pass 256 MiB of bytes or 64 Mi words (kBatchBytesMax/kBatchWordsMax in
// native/node/js_events.h), the rest comes in the next batch, so every offset fits and every Buffer can be made.

/** Record kinds (meta[i]); native: EventType in native/node/js_events.h. */
export const enum Ev {
  /** A request head (RequestRec); a body follows as Body records and one BodyEnd when ReqFlag.HasBody is set. */
  Request = 1,
  /** Request body bytes, in order (BodyRec). */
  Body = 2,
  /** The end of a request body, with its trailer fields (BodyEndRec). */
  BodyEnd = 3,
  /** The connection is gone (CloseRec); its unfinished requests/responses get 'close'. */
  Close = 4,
  /** The connection's unsent output fell below the low-water mark after wantDrain() (DrainRec). */
  Drain = 5,
  /** Native refused a request (status 400/408/413/414/431/501/503/505) and already sent the ready-made
   *  response; informational ('clientError') (ClientErrorRec). */
  ClientError = 6,
  /** After close(), the listener and every connection are gone; nothing follows (ServerClosedRec). */
  ServerClosed = 7,
  /** Bytes from the client of an upgraded connection (after upgrade(.., true)), in order (RawRec). */
  Raw = 8,
  /** The client of an upgraded connection ended its side (FIN); its Raw bytes came first (RawEndRec). */
  RawEnd = 9,
}

/** Words of a Request record; `Fields` is where FieldCount field quads (FieldQuad) start. With ReqFlag.Upgrade,
 *  two words follow the quads: the bytes received after the head (UpgradeTail). */
export const enum RequestRec {
  ConnId = 1, Seq = 2, Flags = 3, MethodOff = 4, MethodLen = 5, UrlOff = 6, UrlLen = 7, FieldCount = 8, Fields = 9,
}

/** The two words after an upgradable Request record's field quads. */
export const enum UpgradeTail { Off = 0, Len = 1, Size = 2 }

/** Words of a Raw record. */
export const enum RawRec { ConnId = 1, Off = 2, Len = 3, Size = 4 }

/** Words of a RawEnd record. */
export const enum RawEndRec { ConnId = 1, Size = 2 }

/** Words of a Body record. */
export const enum BodyRec { ConnId = 1, Seq = 2, Off = 3, Len = 4, Size = 5 }

/** Words of a BodyEnd record; `Trailers` is where TrailerCount field quads (FieldQuad) start. */
export const enum BodyEndRec { ConnId = 1, Seq = 2, TrailerCount = 3, Trailers = 4 }

/** Words of a Close record; Reason indexes closeReasons. */
export const enum CloseRec { ConnId = 1, Reason = 2, Size = 3 }

/** Words of a Drain record. */
export const enum DrainRec { ConnId = 1, Size = 2 }

/** Words of a ClientError record. */
export const enum ClientErrorRec { ConnId = 1, Status = 2, Size = 3 }

/** Words of a ServerClosed record (word 1 is always 0). */
export const enum ServerClosedRec { Size = 2 }

/** One header or trailer field inside a Request or BodyEnd record: four words. */
export const enum FieldQuad { NameOff = 0, NameLen = 1, ValueOff = 2, ValueLen = 3, Size = 4 }

/** Where the record at meta[i] ends, which is where the next one starts. */
export function recordEnd(meta: Uint32Array, i: number): number {
  switch (meta[i]) {
    case Ev.Request:
      return i + RequestRec.Fields + FieldQuad.Size * meta[i + RequestRec.FieldCount] +
        ((meta[i + RequestRec.Flags] & ReqFlag.Upgrade) !== 0 ? UpgradeTail.Size : 0);
    case Ev.Body: return i + BodyRec.Size;
    case Ev.BodyEnd: return i + BodyEndRec.Trailers + FieldQuad.Size * meta[i + BodyEndRec.TrailerCount];
    case Ev.Close: return i + CloseRec.Size;
    case Ev.Drain: return i + DrainRec.Size;
    case Ev.ClientError: return i + ClientErrorRec.Size;
    case Ev.ServerClosed: return i + ServerClosedRec.Size;
    case Ev.Raw: return i + RawRec.Size;
    case Ev.RawEnd: return i + RawEndRec.Size;
    default:
      throw new Error(`nova-http: unknown event record type ${meta[i]} at meta[${i}] (addon and lib/ disagree)`);
  }
}

/** Bits of a Request record's Flags word; native: RequestFlag in native/node/js_events.h. */
export const enum ReqFlag {
  VersionMinorMask = 0x3,  // 0 = HTTP/1.0, 1 = HTTP/1.1
  Head = 0x4,              // HEAD request: the response has no body
  HasBody = 0x8,           // a body follows (Body records, then BodyEnd)
  ExpectContinue = 0x10,   // Expect: 100-continue (HTTP/1.1); native sent 100 Continue unless ContinueHeld
  // With ExpectContinue and a body, when the server listens for 'checkContinue' (NativeServerOptions.checkContinue):
  // no 100 was sent and native reads none of the body until JS sends it (interim 100) or a final head.
  ContinueHeld = 0x20,
  // A protocol switch JS may accept: CONNECT, or an Upgrade field with the 'upgrade' Connection token and no body.
  // Native reads and parses nothing more on the connection until JS calls upgrade(connId, seq, accept); the
  // record ends with the bytes already received after the head (UpgradeTail).
  Upgrade = 0x40,
  // An Expect field without 100-continue (HTTP/1.1): 'checkExpectation' listeners answer it, else 417 (node's rule).
  ExpectOther = 0x80,
}

/** Why a connection closed: a Close record's Reason indexes this list, and stats().closes has these keys in this
 *  order. Native: CloseReason in native/core/connection.h, same order. */
export const closeReasons = [
  'client', 'idleTimeout', 'headersTimeout', 'requestTimeout', 'parseError', 'evicted', 'cap', 'shutdown',
  'maxRequests', 'response', 'error',
] as const;
export type CloseReason = (typeof closeReasons)[number];

// ---- Calls from JS ----------------------------------------------------------------------------------------------

/** Bits of respond()'s userFields: which framing/connection fields the handler set (native must not add them).
 *  Native: UserField in native/core/response.h. */
export const enum UserField {
  Date = 1,
  ContentLength = 2,
  TransferEncoding = 4,
  Connection = 8,
  KeepAlive = 16,
}

/** Bits of listen()'s flags; native: kListen* in native/node/addon.cc. */
export const enum ListenFlag {
  Ipv6Only = 1,   // IPV6_V6ONLY
  ReusePort = 2,  // SO_REUSEPORT
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
  // 1: a client's FIN while a response is owed is a half-close (the response still goes out); 0: the client left
  // (Close with reason 'client' at once, pending work dropped), as node:http's default.
  allowHalfOpen: number;
  highWaterMark: number;  // bytes queued per connection: write() false above it, native stops reading at it
  // 1: the server listens for 'checkContinue': Expect: 100-continue bodies wait for JS (ReqFlag.ContinueHeld);
  // 0: native answers 100 Continue at once. Changed on a listening server through configure().
  checkContinue: number;
  requireHostHeader: number;  // 1: an HTTP/1.1 request without Host gets 400 (node's default); 0: it is served
}

export interface NativeStats {
  accepted: number;
  active: number;
  idle: number;
  requests: number;
  closes: Record<CloseReason, number>;
}

/** The batch callback: `count` is the number of meta words in use (records are walked until then). */
export type OnBatch = (bytes: Buffer, meta: Uint32Array, count: number) => void;

export interface NativeServer {
  // Binds and starts accepting: TCP on host ('' = every interface) and port, or with a path ('' = none) a Unix
  // domain socket there (address: the path, family ''). Throws an Error with .code (EADDRINUSE, EACCES,
  // ENAMETOOLONG, ...) on failure.
  // fd >= 0: listen on that open stream socket instead (it is the server's from now on; -1: none).
  listen(host: string, port: number, backlog: number, path: string, flags: number, fd: number):
    { address: string; family: string; port: number };
  // Head (+ optional first body bytes, + optional end) of the response to request `seq` on `connId`.
  // fields: the handler's field lines, "Name: value\r\n"..., validated by JS. contentLength: -1 when unknown.
  // Returns the connection's queued output bytes (for write()'s return value).
  respond(connId: number, seq: number, status: number, reason: string | undefined, fields: string,
          userFields: number, responseTokens: number, contentLength: number,
          body: string | Uint8Array | undefined, end: boolean): number;
  // More body bytes (and/or the end) of a response whose head was sent with respond().
  write(connId: number, seq: number, chunk: string | Uint8Array | undefined, end: boolean): number;
  // The end of a response whose head was sent with respond(): the last bytes, then the last chunk followed by
  // `trailers` ("Name: value\r\n"..., validated by JS) when the response is chunked (dropped otherwise).
  endWithTrailers(connId: number, seq: number, chunk: string | Uint8Array | undefined, trailers: string): number;
  // A 1xx interim response (100..199 but 101) before the final head of `seq`, after the responses before it:
  // writeContinue/writeProcessing/writeEarlyHints. fields: "Name: value\r\n"..., validated by JS; reason: '' for the
  // standard phrase. Native drops it once the final head has started, for HTTP/1.0, and a second 100 Continue.
  interim(connId: number, seq: number, status: number, reason: string, fields: string): void;
  // Close the connection once the earlier responses are out (res.destroy(), a handler failure after respond()).
  abort(connId: number, seq: number): void;
  // The handler failed before respond(): native's ready-made 500 (HttpError::InternalError, Connection: close) in
  // its turn, then the connection closes. After respond() it acts as abort().
  fail(connId: number, seq: number): void;
  // The answer to a request with ReqFlag.Upgrade: true hands the connection to JS (Raw/RawEnd records, rawWrite),
  // false serves it as an ordinary request and parsing resumes. Comes before any respond() for that seq.
  upgrade(connId: number, seq: number, accept: boolean): void;
  // Bytes written verbatim on an upgraded connection (after the responses before it); end: the last ones (native
  // sends FIN once they are out; the connection closes when the client has ended too). Returns queued bytes.
  rawWrite(connId: number, seq: number, chunk: string | Uint8Array | undefined, end: boolean): number;
  // Hands every response queued since the last flush to the I/O threads (one wake-up per connection/loop).
  flush(): void;
  // Flow control of a request body, or of an upgraded connection's Raw bytes.
  pauseBody(connId: number): void;
  resumeBody(connId: number): void;
  // Asks for a Drain event; returns true when the output is already below the mark (no event will come).
  wantDrain(connId: number): boolean;
  // [remoteAddress, remotePort, localAddress, localPort] of an open connection (its own local end, not the bound
  // address; '' on a Unix domain socket); undefined once it is closed.
  addresses(connId: number): [string, number, string, number] | undefined;
  // [bytesRead, bytesWritten] of a connection JS knows (also while JS walks the batch with its Close record):
  // bytes received from and sent to the socket so far; undefined once JS has seen the Close.
  bytes(connId: number): [number, number] | undefined;
  close(): void;
  closeIdle(): void;
  closeAll(): void;
  stats(): NativeStats;
  ref(): void;
  unref(): void;
  // Applies changed options to a listening server: the deadlines, maxRequestsPerSocket, maxConnections and
  // checkContinue, from
  // each connection's next event (node:http code sets server.keepAliveTimeout after listen(), the usual
  // Express/ALB advice). The I/O model, threads and maxHeaderSize stay as they were at listen().
  configure?(options: NativeServerOptions): void;
}

// What lib relies on beyond the signatures (all true of addon.cc):
// - `bytes` and `meta` belong to JS after the call (never reused): req.headers are sliced from them lazily and
//   body chunks are views into `bytes`;
// - respond(..., contentLength -1, body, end=true) sends Content-Length = the body's byte count (so end(string)
//   skips a Buffer.byteLength in JS); HEAD responses get the length explicitly;
// - abort(connId, seq) also works before respond() (req.destroy()/res.destroy() before any response).
export interface Binding {
  Server: new (options: NativeServerOptions, onBatch: OnBatch) => NativeServer;
}
