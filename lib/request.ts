// IncomingMessage: one request as node:http presents it. The body is a Readable fed by the dispatcher (Body and
// BodyEnd records) with flow control back to native (pauseBody/resumeBody); headers and rawHeaders are made from
// the batch buffer only when first read, so a handler that never looks at them never pays for them.
import { Readable } from 'node:stream';
import { FieldQuad, ReqFlag } from './contract';
import type { Conn, ConnRequest } from './conn';
import { connectionReset } from './errors';
import type { NovaSocket } from './socket';
import type { UpgradeSocket } from './upgrade-socket';

/** Buffer has these (undocumented, stable since Node 0.x) one-call decoders; latin1 is what node:http uses. */
export type BatchBytes = Buffer & { latin1Slice(start: number, end: number): string };

export type IncomingHttpHeaders = Record<string, string | string[] | undefined> & {
  'set-cookie'?: string[];
};

// How duplicates of a field are joined in req.headers (node:http's matchKnownFields): the singletons keep the
// first value, set-cookie becomes an array, cookie joins with "; ", every other field joins with ", ".
const enum Join { Comma = 0, First = 1, Array = 2, Semicolon = 3 }
const joinRule = new Map<string, Join>([
  ['age', Join.First], ['authorization', Join.First], ['content-length', Join.First],
  ['content-type', Join.First], ['etag', Join.First], ['expires', Join.First], ['from', Join.First],
  ['host', Join.First], ['if-modified-since', Join.First], ['if-unmodified-since', Join.First],
  ['last-modified', Join.First], ['location', Join.First], ['max-forwards', Join.First],
  ['proxy-authorization', Join.First], ['referer', Join.First], ['retry-after', Join.First],
  ['server', Join.First], ['user-agent', Join.First],
  ['set-cookie', Join.Array], ['cookie', Join.Semicolon],
]);

/** req.headers from rawHeaders: lower-case names, duplicates joined as node:http joins them. */
export function joinHeaders(raw: readonly string[]): IncomingHttpHeaders {
  // A plain object like node's (code calls req.headers.hasOwnProperty), so the typeof checks below matter.
  const dest: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = raw[i + 1];
    const rule = joinRule.get(name);
    const prev = dest[name];
    if (rule === undefined || rule === Join.Comma) {
      dest[name] = typeof prev === 'string' ? `${prev}, ${value}` : value;
    } else if (rule === Join.First) {
      if (prev === undefined) dest[name] = value;
    } else if (rule === Join.Array) {
      if (Array.isArray(prev)) prev.push(value);
      else dest[name] = [value];
    } else {
      dest[name] = typeof prev === 'string' ? `${prev}; ${value}` : value;
    }
  }
  return dest as IncomingHttpHeaders;
}

/** req.headersDistinct: every value of every field, in order, under the lower-case name. */
export function distinctHeaders(raw: readonly string[]): Record<string, string[]> {
  const dest: Record<string, string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const prev = dest[name];
    if (Array.isArray(prev)) prev.push(raw[i + 1]);
    else dest[name] = [raw[i + 1]];
  }
  return dest;
}

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
  const text = bytes.latin1Slice(lo, hi);
  for (let k = 0; k < count; k++, at += FieldQuad.Size) {
    const n = meta[at + FieldQuad.NameOff] - lo;
    const v = meta[at + FieldQuad.ValueOff] - lo;
    raw[2 * k] = text.substring(n, n + meta[at + FieldQuad.NameLen]);
    raw[2 * k + 1] = text.substring(v, v + meta[at + FieldQuad.ValueLen]);
  }
  return raw;
}

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

export class IncomingMessage extends Readable implements ConnRequest {
  method: string;
  url: string;
  httpVersion: string;
  httpVersionMajor = 1;
  httpVersionMinor: number;
  /** The whole body has arrived (true at once for a request without a body). */
  complete: boolean;
  /** The connection went away (or the request was destroyed) before the exchange finished. */
  aborted = false;
  /** The request switched protocols: its connection went to an 'upgrade' or 'connect' listener. */
  upgrade = false;
  statusCode = null;
  statusMessage = null;

  /** @internal */ _conn: Conn;
  /** @internal */ _seq: number;
  /** @internal */ _flags: number;
  // Where the head's fields are in the batch; dropped once rawHeaders exists.
  /** @internal */ _bytes: BatchBytes | null;
  /** @internal */ _meta: Uint32Array | null;
  /** @internal */ _fieldsAt: number;
  /** @internal */ _fieldCount: number;
  /** @internal */ _raw: string[] | null = null;
  /** @internal */ _headers: IncomingHttpHeaders | null = null;
  /** @internal */ _rawTrailers: string[] | null = null;
  /** @internal */ _trailers: Record<string, string | string[] | undefined> | null = null;
  /** @internal */ _paused = false;     // native was asked to stop reading this body
  /** @internal */ _consuming = false;  // read() was called (node's heuristic for "the handler reads the body")
  /** @internal */ _dumped = false;     // the exchange finished while nobody read the body: drop what comes
  /** @internal */ _done = false;       // the response finished
  /** @internal */ _socket: UpgradeSocket | null = null;  // an upgrade request's socket (the listener's `socket`)

  constructor(conn: Conn, seq: number, flags: number, method: string, url: string, bytes: BatchBytes,
              meta: Uint32Array, fieldsAt: number, fieldCount: number) {
    super();
    this._conn = conn;
    this._seq = seq;
    this._flags = flags;
    this.method = method;
    this.url = url;
    const minor = flags & ReqFlag.VersionMinorMask;
    this.httpVersionMinor = minor;
    this.httpVersion = minor === 0 ? '1.0' : '1.1';
    this.complete = (flags & ReqFlag.HasBody) === 0;
    this._bytes = bytes;
    this._meta = meta;
    this._fieldsAt = fieldsAt;
    this._fieldCount = fieldCount;
  }

  get rawHeaders(): string[] {
    let raw = this._raw;
    if (raw === null) {
      raw = this._raw = this._bytes === null ? []
        : rawFields(this._bytes, this._meta!, this._fieldsAt, this._fieldCount);
      this._bytes = null;
      this._meta = null;
    }
    return raw;
  }

  set rawHeaders(value: string[]) {
    this._raw = value;
    this._bytes = null;
    this._meta = null;
  }

  get headers(): IncomingHttpHeaders {
    return (this._headers ??= joinHeaders(this.rawHeaders));
  }

  set headers(value: IncomingHttpHeaders) {
    this._headers = value;
  }

  get headersDistinct(): Record<string, string[]> {
    return distinctHeaders(this.rawHeaders);
  }

  get rawTrailers(): string[] {
    return (this._rawTrailers ??= []);
  }

  get trailers(): Record<string, string | string[] | undefined> {
    return (this._trailers ??= joinHeaders(this.rawTrailers));
  }

  set trailers(value: Record<string, string | string[] | undefined>) {
    this._trailers = value;
  }

  get trailersDistinct(): Record<string, string[]> {
    return distinctHeaders(this.rawTrailers);
  }

  get socket(): NovaSocket {
    // An upgrade request's socket is the one its listener got, as in node:http.
    return this._socket !== null ? this._socket as unknown as NovaSocket : this._conn.getSocket();
  }

  /** Deprecated alias of socket, as in node:http. */
  get connection(): NovaSocket {
    return this.socket;
  }

  /** Deadlines are native (headersTimeout, requestTimeout); kept so that node code calling it runs. */
  setTimeout(_ms: number, _cb?: () => void): this {
    return this;
  }

  override read(size?: number): any {
    this._consuming = true;
    return super.read(size);
  }

  override _read(): void {
    if ((this._flags & ReqFlag.HasBody) === 0) {
      this.push(null);  // no body: it ends as soon as someone reads it
    } else if (this._paused) {
      this._resumeForDrain();
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // After a fully read body this is autoDestroy (or a harmless destroy()): nothing to abort, as in node:http.
    if (!this.readableEnded || !this.complete) {
      this.aborted = true;
      this.emit('aborted');
      if (!this._done) this._conn.d.abortExchange(this._conn, this._seq);
      else if (this._paused) this._resumeForDrain();
    }
    // node:http emits the error only to existing listeners (an aborted upload must not crash the process).
    cb(err && this.listenerCount('error') > 0 ? err : null);
  }

  /** @internal a Body record: bytes of this request's body, in order. */
  _push(chunk: Buffer): void {
    if (this._dumped || this.destroyed) return;
    if (!this.push(chunk) && !this._paused && !this.complete) {
      this._paused = true;
      this._conn.d.native.pauseBody(this._conn.id);
    }
  }

  /** @internal a BodyEnd record. */
  _end(rawTrailers: string[] | null): void {
    this.complete = true;
    // The whole body has arrived: the connection's reader must not stay paused for the next request's body.
    if (this._paused) this._resumeForDrain();
    if (rawTrailers !== null) this._rawTrailers = rawTrailers;
    if (this._dumped || this.destroyed) return;
    this.push(null);
  }

  /** @internal the response finished: close now unless the handler is still reading the body. */
  _exchangeDone(): void {
    this._done = true;
    if (this.destroyed) return;
    if (this._consuming || this.readableFlowing === true) return;  // closes after 'end' (autoDestroy)
    if (!this.complete) {
      // Nobody reads the rest: let native drain it (or close) instead of buffering it here.
      this._dumped = true;
      if (this._paused) this._resumeForDrain();
    }
    // What Readable.destroy() would do, without its per-request nextTicks: the exchange is over.
    const state = (this as unknown as { _readableState: Record<string, boolean> })._readableState;
    const endNow = this.complete && !state.endEmitted;
    if (endNow) {
      state.ended = true;
      state.endEmitted = true;
    }
    state.destroyed = true;
    state.closed = true;
    state.closeEmitted = true;
    if (endNow) this.emit('end');
    this.emit('close');
  }

  /** @internal the connection is gone. */
  _connectionGone(): void {
    this._done = true;
    if (!this.destroyed) this.destroy(connectionReset());
  }

  /** @internal native may read this connection's body again. */
  _resumeForDrain(): void {
    this._paused = false;
    if (!this._conn.gone) this._conn.d.native.resumeBody(this._conn.id);
  }
}
