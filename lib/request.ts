// IncomingMessage: one request, a real http.IncomingMessage. Its state lives where node's own methods look for
// it (own properties, node's header symbols), so it keeps working when a framework (Express) swaps its prototype
// for one that inherits from http.IncomingMessage.prototype. The body is fed by the dispatcher (Body and BodyEnd
// records) through the functions below, never through prototype methods, with flow control back to native.
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { FieldQuad, ReqFlag } from './contract';
import type { Conn } from './conn';
import { connectionReset } from './errors';

/** Buffer has these (undocumented, stable since Node 0.x) one-call decoders; latin1 is what node:http uses. */
export type BatchBytes = Buffer & { latin1Slice(start: number, end: number): string };

export type IncomingHttpHeaders = http.IncomingHttpHeaders;

/** [name, value, name, value, ...] from `count` field quads (FieldQuad) at meta[at]. */
export function rawFields(bytes: BatchBytes, meta: Uint32Array, at: number, count: number): string[] {
  const raw = new Array<string>(count * 2);
  if (count === 0) return raw;
  // One decode of the span holding every field, then substrings: a native call per field costs ~5x more.
  let lo = meta[at + FieldQuad.NameOff];
  let hi = lo;
  for (let k = 0, j = at; k < count; k++, j += FieldQuad.Size) {
    const nameOff = meta[j + FieldQuad.NameOff];
    const valueOff = meta[j + FieldQuad.ValueOff];
    if (nameOff < lo) lo = nameOff;
    if (valueOff < lo) lo = valueOff;
    if (nameOff + meta[j + FieldQuad.NameLen] > hi) hi = nameOff + meta[j + FieldQuad.NameLen];
    if (valueOff + meta[j + FieldQuad.ValueLen] > hi) hi = valueOff + meta[j + FieldQuad.ValueLen];
  }
  return sliceFields(raw, bytes.latin1Slice(lo, hi), lo, meta, at, count);
}

/** Fills raw with the `count` fields at meta[at] as substrings of text, which holds the batch bytes from lo on. */
function sliceFields(raw: string[], text: string, lo: number, meta: Uint32Array, at: number, count: number): string[] {
  for (let k = 0; k < count; k++, at += FieldQuad.Size) {
    const n = meta[at + FieldQuad.NameOff] - lo;
    const v = meta[at + FieldQuad.ValueOff] - lo;
    raw[2 * k] = text.substring(n, n + meta[at + FieldQuad.NameLen]);
    raw[2 * k + 1] = text.substring(v, v + meta[at + FieldQuad.ValueLen]);
  }
  return raw;
}

/**
 * The request heads of one batch as latin1 text, decoded a window at a time: req.rawHeaders is built eagerly (node's
 * getters read it as an own property, also after a framework swaps the prototype), and one native decode for the
 * pipelined heads that follow each other keeps that cheap. A window reads up to HEAD_WINDOW bytes ahead (body bytes
 * included, so the bound stays small); a head outside it starts a new one.
 */
export class HeadText {
  bytes: BatchBytes | null = null;
  text = '';
  lo = 0;           // text covers bytes [lo, hi)
  hi = 0;

  reset(bytes: BatchBytes): void {
    this.bytes = bytes;
    this.text = '';
    this.lo = this.hi = 0;
  }

  /** [name, value, ...] from `count` field quads (FieldQuad) at meta[at]. */
  fields(meta: Uint32Array, at: number, count: number): string[] {
    const raw = new Array<string>(count * 2);
    if (count === 0) return raw;
    let start = meta[at + FieldQuad.NameOff];
    let end = start;
    for (let k = 0, j = at; k < count; k++, j += FieldQuad.Size) {
      const nameOff = meta[j + FieldQuad.NameOff];
      const valueEnd = meta[j + FieldQuad.ValueOff] + meta[j + FieldQuad.ValueLen];
      if (nameOff < start) start = nameOff;
      if (valueEnd > end) end = valueEnd;
    }
    if (start < this.lo || end > this.hi) {
      const hi = Math.max(end, Math.min(this.bytes!.length, start + HEAD_WINDOW));
      this.text = this.bytes!.latin1Slice(start, hi);
      this.lo = start;
      this.hi = hi;
    }
    return sliceFields(raw, this.text, this.lo, meta, at, count);
  }
}

const HEAD_WINDOW = 4096;

function is(bytes: Uint8Array, off: number, lit: string): boolean {
  for (let k = 1; k < lit.length; k++) if (bytes[off + k] !== lit.charCodeAt(k)) return false;
  return true;
}

/** The method as a string; the common ones are constants instead of a new string per request. */
export function methodString(bytes: BatchBytes, off: number, len: number): string {
  const c = bytes[off];
  switch (len) {
    case 3:
      if (c === 0x47 && is(bytes, off, 'GET')) return 'GET';
      if (c === 0x50 && is(bytes, off, 'PUT')) return 'PUT';
      break;
    case 4:
      if (c === 0x50 && is(bytes, off, 'POST')) return 'POST';
      if (c === 0x48 && is(bytes, off, 'HEAD')) return 'HEAD';
      break;
    case 5:
      if (c === 0x50 && is(bytes, off, 'PATCH')) return 'PATCH';
      break;
    case 6:
      if (c === 0x44 && is(bytes, off, 'DELETE')) return 'DELETE';
      break;
    case 7:
      if (c === 0x4f && is(bytes, off, 'OPTIONS')) return 'OPTIONS';
      break;
  }
  return bytes.latin1Slice(off, off + len);
}

/** The request-target as a string (latin1, as node:http decodes it). */
export function urlString(bytes: BatchBytes, off: number, len: number): string {
  if (len === 1 && bytes[off] === 0x2f) return '/';
  return bytes.latin1Slice(off, off + len);
}

/** node's own symbol (a module-private Symbol('description')) as found on an instance of its class. */
export function nodeSymbol(instance: object, description: string): symbol {
  const found = Object.getOwnPropertySymbols(instance).find((s) => s.description === description);
  if (found === undefined) {
    throw new Error(`nova-http: node:http ${process.version} has no ${description} symbol (unsupported Node version)`);
  }
  return found;
}

const probe = new http.IncomingMessage(undefined as unknown as Socket);
const kHeadersCount = nodeSymbol(probe, 'kHeadersCount');
const kTrailersCount = nodeSymbol(probe, 'kTrailersCount');
const NO_TRAILERS: string[] = Object.freeze([]) as unknown as string[];

// The class is typed as node's (so handlers typed with @types/node's http.IncomingMessage accept it), and its
// prototype chain goes through http.IncomingMessage.prototype, so instanceof holds and node's getters (headers,
// trailers, ...) and methods run. The constructor is not node's (which sets up state for node's own parser) nor
// Readable's: only the readable state is made. EventEmitter.init is skipped because an emitter without its
// listener table is valid (EventEmitter makes it on the first on(); emit() without it finds no listener), and
// making it costs about as much as the rest of the request (~75 ns, most requests never get a listener).
const { ReadableState } = Readable as unknown as {
  ReadableState?: new (options: undefined, stream: object, isDuplex: boolean) => object;
};
function IncomingBase(this: { _readableState: object }): void {
  if (ReadableState !== undefined) this._readableState = new ReadableState(undefined, this, false);
  else Readable.call(this as unknown as Readable);
}
IncomingBase.prototype = http.IncomingMessage.prototype;
const Base = IncomingBase as unknown as new () => http.IncomingMessage;

export class IncomingMessage extends Base {
  declare method: string;
  declare url: string;
  /** The request switched protocols: its connection went to an 'upgrade' or 'connect' listener (and req.socket
   *  is the listener's socket). Without such a listener it is served as an ordinary request, as node does. */
  declare upgrade: boolean;
  /** @internal */ declare _conn: Conn;
  /** @internal */ declare _seq: number;
  /** @internal */ declare _flags: number;
  /** @internal native was asked to stop reading this body */ declare _paused: boolean;
  /** @internal the response finished */ declare _done: boolean;

  constructor(conn: Conn, seq: number, flags: number, method: string, url: string, rawHeaders: string[]) {
    super();
    const self = this as unknown as Record<string | symbol, unknown>;
    // node's own fields, in the order its constructor sets them. (node's kHeaders/kTrailers caches and
    // kTrailersCount start undefined, which its getters read as empty.)
    this.socket = conn as unknown as Socket;
    this.httpVersionMajor = 1;
    const minor = flags & ReqFlag.VersionMinorMask;
    this.httpVersionMinor = minor;
    this.httpVersion = minor === 0 ? '1.0' : '1.1';
    this.complete = (flags & ReqFlag.HasBody) === 0;
    self[kHeadersCount] = rawHeaders.length;
    this.rawHeaders = rawHeaders;
    this.rawTrailers = NO_TRAILERS;
    this.aborted = false;
    this.upgrade = false;
    this.url = url;
    this.method = method;
    self._consuming = false;
    self._dumped = false;
    // nova-http's own.
    this._conn = conn;
    this._seq = seq;
    this._flags = flags;
    this._paused = false;
    this._done = false;
  }

  override read(size?: number): ReturnType<Readable['read']> {
    (this as unknown as { _consuming: boolean })._consuming = true;
    return super.read(size);
  }

  override _read(): void {
    if ((this._flags & ReqFlag.HasBody) === 0) {
      this.push(null);  // no body: it ends as soon as someone reads it
    } else if (this._paused) {
      resumeForDrain(this);
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // After a fully read body this is autoDestroy (or a harmless destroy()): nothing to abort, as in node:http.
    if (!this.readableEnded || !this.complete) {
      this.aborted = true;
      this.emit('aborted');
      if (!this._done) this._conn._owner.abortExchange(this._conn, this._seq);
      else if (this._paused) resumeForDrain(this);
    }
    // node:http emits the error only to existing listeners (an aborted upload must not crash the process).
    cb(err && this.listenerCount('error') > 0 ? err : null);
  }
}

// The dispatcher's side. Plain functions, not methods: a framework may have swapped the prototype.
type Req = IncomingMessage & { _consuming: boolean; _dumped: boolean };

/** a Body record: bytes of this request's body, in order. */
export function pushBody(req: IncomingMessage, chunk: Buffer): void {
  if ((req as Req)._dumped || req.destroyed) return;
  if (!req.push(chunk) && !req._paused && !req.complete) {
    req._paused = true;
    req._conn._owner.native.pauseBody(req._conn._connId);
  }
}

/** server.maxHeadersCount, as node applies it: req.headers is made of the first `pairs / 2` fields only (rawHeaders
 *  keeps them all; trailers are not limited). Called when the head has more. */
export function limitHeaders(req: IncomingMessage, pairs: number): void {
  (req as unknown as Record<symbol, unknown>)[kHeadersCount] = pairs;
}

/** a BodyEnd record. */
export function endBody(req: IncomingMessage, rawTrailers: string[] | null): void {
  req.complete = true;
  // The whole body has arrived: the connection's reader must not stay paused for the next request's body.
  if (req._paused) resumeForDrain(req);
  if (rawTrailers !== null) {
    req.rawTrailers = rawTrailers;
    (req as unknown as Record<symbol, unknown>)[kTrailersCount] = rawTrailers.length;
  }
  if ((req as Req)._dumped || req.destroyed) return;
  req.push(null);
}

/** A request without a body that someone started reading through node's _read (socket.resume()): end it. */
export function endIfBodiless(req: IncomingMessage): void {
  if ((req._flags & ReqFlag.HasBody) === 0 && (req as Req)._consuming && !req.readableEnded && !req.destroyed) {
    req.push(null);
  }
}

/** the response finished: close now unless the handler is still reading the body. */
export function exchangeDone(req: IncomingMessage): void {
  req._done = true;
  if (req.destroyed) return;
  if ((req as Req)._consuming || req.readableFlowing === true) return;  // closes after 'end' (autoDestroy)
  if (!req.complete) {
    // Nobody reads the rest: let native drain it (or close) instead of buffering it here.
    (req as Req)._dumped = true;
    if (req._paused) resumeForDrain(req);
  }
  // What Readable.destroy() would do, without its per-request nextTicks: the exchange is over.
  const state = (req as unknown as { _readableState: Record<string, boolean> })._readableState;
  const endNow = req.complete && !state.endEmitted;
  if (endNow) {
    state.ended = true;
    state.endEmitted = true;
  }
  state.destroyed = true;
  state.closed = true;
  state.closeEmitted = true;
  if (endNow) req.emit('end');
  req.emit('close');
}

/** the connection is gone while this request's exchange was not over: 'aborted', then 'close'. */
export function requestGone(req: IncomingMessage): void {
  req._done = true;
  if (!req.destroyed) req.destroy(connectionReset());
}

/** native may read this connection's body again. */
export function resumeForDrain(req: IncomingMessage): void {
  req._paused = false;
  if (!req._conn._gone) req._conn._owner.native.resumeBody(req._conn._connId);
}
