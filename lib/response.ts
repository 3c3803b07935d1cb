// ServerResponse: the node:http response API over the native respond()/write() calls. The head is serialized
// once ("Name: value\r\n" lines + UserField bits + Connection tokens) when it is stored (writeHead, or the first
// write/end); end(body) with nothing written before is one respond() call carrying head, body and length.
// 'finish' and 'close' are emitted by the dispatcher after the flush that hands the response to native.
import { Stream } from 'node:stream';
import { STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http';
import { ReqFlag, UserField } from './contract';
import { ConnToken, parseConnectionTokens } from './keep-alive';
import {
  alreadyFinished, headersSent, invalidArgType, invalidArgValue, invalidChar, invalidHeaderValue,
  invalidStatusCode, nullValues, streamDestroyed, unknownEncoding, writeAfterEnd,
} from './errors';
import type { Conn, ConnOwner, ConnResponse } from './conn';
import type { IncomingMessage } from './request';
import type { NovaSocket } from './socket';

export type OutgoingHeaderValue = string | number | readonly string[];
export type OutgoingHeaders = Record<string, OutgoingHeaderValue | undefined>;
/** writeHead()'s headers: an object, a flat [name, value, ...] list, or [name, value] pairs. */
export type HeadersArgument = OutgoingHeaders | readonly (string | number)[] | readonly (readonly [string, OutgoingHeaderValue])[];

/** write() returns false once the connection has more than this many bytes queued. */
export const HIGH_WATER_MARK = 64 * 1024;

// Response states (bits of _state).
const enum S {
  HeadStored = 1,  // writeHead() ran or the head was built implicitly: headers are frozen (headersSent)
  HeadSent = 2,    // respond() was called
  Ended = 4,       // end() was called
  Finished = 8,    // 'finish' emitted
  Closed = 16,     // 'close' emitted
  Aborted = 32,    // destroy() or a handler failure after the head: the connection closes
  Failed = 64,     // the handler failed: nova-http answered 500; later write()/end() calls do nothing
}

// The same bytes as native's ready-made error responses (native/core/http_errors.cc): no Date, Connection: close.
const INTERNAL_ERROR_BODY = 'Internal Server Error';
const INTERNAL_ERROR_FIELDS =
  `Content-Type: text/plain\r\nContent-Length: ${INTERNAL_ERROR_BODY.length}\r\nConnection: close\r\n`;
const INTERNAL_ERROR_USER_FIELDS = UserField.ContentLength | UserField.Connection | UserField.Date;

// --- head serialization --------------------------------------------------------------------------------------
// Module-level accumulators: serialization is synchronous and never re-entered, so no object per response.
let fLines = '';
let fBits = 0;
let fTokens = 0;
let fLength = -1;
let fHttp10 = false;  // the request is HTTP/1.0: a Transfer-Encoding field is not forwarded (native closes instead)

const digitsOnly = /^[ \t]*[0-9]+[ \t]*$/;

// What a field means to native (which UserField bit it sets).
const enum Kind { Plain, Date, Connection, KeepAlive, ContentLength, TransferEncoding }

interface Line {
  value: unknown;  // the value it was made from (compared with ===)
  text: string;    // "Name: value\r\n"
  kind: Kind;
  num: number;     // Connection: its ConnToken bits; Content-Length: the length
}

// The last value seen per field name, validated and serialized. Handlers send the same name/value strings on
// every response (constants, literals), so most fields cost a Map lookup instead of two regexes and a concat.
const lineCache = new Map<string, Line>();
const LINE_CACHE_MAX = 256;

function kindOf(name: string, value: string): { kind: Kind; num: number } {
  const n = name.length;
  // Only these lengths can be special: date 4, connection/keep-alive 10, content-length 14, transfer-encoding 17.
  if (n !== 4 && n !== 10 && n !== 14 && n !== 17) return { kind: Kind.Plain, num: 0 };
  switch (name.toLowerCase()) {
    case 'date':
      return { kind: Kind.Date, num: 0 };
    case 'connection':
      return { kind: Kind.Connection, num: parseConnectionTokens(value) };
    case 'keep-alive':
      return { kind: Kind.KeepAlive, num: 0 };
    case 'content-length': {
      const len = digitsOnly.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(len)) throw invalidHeaderValue(name, value, 'it must be a non-negative integer');
      return { kind: Kind.ContentLength, num: len };
    }
    case 'transfer-encoding': {
      const last = value.slice(value.lastIndexOf(',') + 1).trim().toLowerCase();
      if (last !== 'chunked') {
        throw invalidHeaderValue(name, value,
          'its last coding must be chunked (nova-http frames the body; other codings are the handler\'s to apply)');
      }
      return { kind: Kind.TransferEncoding, num: 0 };
    }
  }
  return { kind: Kind.Plain, num: 0 };
}

/** The serialized line for name: value, validating first when asked (and when not already known valid). */
function lineFor(name: string, value: string | number, validate: boolean): Line {
  let e = lineCache.get(name);
  if (e !== undefined && e.value === value) return e;
  if (validate) {
    validateHeaderName(name);
    validateHeaderValue(name, value as string);
  }
  const v = typeof value === 'string' ? value : String(value);
  const { kind, num } = kindOf(name, v);
  e = { value, text: `${name}: ${v}\r\n`, kind, num };
  if (lineCache.size >= LINE_CACHE_MAX) lineCache.clear();
  lineCache.set(name, e);
  return e;
}

/** setHeader()'s check: a name/value pair serialized before is known valid. */
function validateField(name: string, value: unknown): void {
  const e = lineCache.get(name);
  if (e !== undefined && e.value === value) return;
  validateHeaderName(name);
  validateHeaderValue(name, value as string);
}

function addLine(name: string, value: string | number, validate: boolean): void {
  const e = lineFor(name, value, validate);
  switch (e.kind) {
    case Kind.Plain:
      break;
    case Kind.Date:
      fBits |= UserField.Date;
      break;
    case Kind.Connection:
      fBits |= UserField.Connection;
      fTokens |= e.num;
      break;
    case Kind.KeepAlive:
      fBits |= UserField.KeepAlive;
      break;
    case Kind.ContentLength:
      if (fBits & UserField.ContentLength && e.num !== fLength) {
        throw invalidHeaderValue(name, value, `it conflicts with the Content-Length ${fLength} set before`);
      }
      fBits |= UserField.ContentLength;
      fLength = e.num;
      break;
    case Kind.TransferEncoding:
      fBits |= UserField.TransferEncoding;
      // HTTP/1.0 has no chunked coding: native ends that body with the close, and the field must not go out.
      if (fHttp10) return;
      break;
  }
  fLines += e.text;
}

function addField(name: string, value: OutgoingHeaderValue, validate: boolean): void {
  if (Array.isArray(value)) {
    if (validate) validateHeaderName(name);
    for (let i = 0; i < value.length; i++) addLine(name, value[i], validate);
  } else {
    if (validate && value === undefined) validateHeaderValue(name, value);
    addLine(name, value as string | number, validate);
  }
}

function addValidated(name: unknown, value: unknown): void {
  if (typeof name !== 'string') validateHeaderName(name as string);
  addField(name as string, value as OutgoingHeaderValue, true);
}

/** writeHead(status, headers) without setHeader() before: serialize the argument as given, like node. */
function addDirect(headers: HeadersArgument): void {
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const pair of headers as readonly (readonly [string, OutgoingHeaderValue])[]) {
        addValidated(pair[0], pair[1]);
      }
    } else {
      if (headers.length % 2 !== 0) throw invalidArgValue('headers', 'a list of name, value pairs', headers);
      for (let i = 0; i < headers.length; i += 2) addValidated(headers[i], headers[i + 1]);
    }
    return;
  }
  for (const key in headers) {
    if (Object.hasOwn(headers, key)) addValidated(key, (headers as OutgoingHeaders)[key]);
  }
}

const invalidReasonChar = /[^\t\x20-\x7e\x80-\xff]/;

// --- bodies --------------------------------------------------------------------------------------------------

/** A chunk as native takes it: strings go as they are (native encodes UTF-8), other encodings become bytes. */
function toBody(chunk: unknown, encoding: unknown): string | Uint8Array {
  if (typeof chunk === 'string') {
    if (encoding === undefined || encoding === null || encoding === 'utf8' || encoding === 'utf-8') return chunk;
    if (typeof encoding !== 'string' || !Buffer.isEncoding(encoding)) throw unknownEncoding(encoding);
    const e = encoding.toLowerCase();
    return e === 'utf8' || e === 'utf-8' ? chunk : Buffer.from(chunk, encoding);
  }
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk === null) throw nullValues();
  throw invalidArgType('chunk', 'of type string or an instance of Buffer or Uint8Array', chunk);
}

function byteLength(body: string | Uint8Array | undefined): number {
  if (body === undefined) return 0;
  return typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
}

function emitDrainNT(res: ServerResponse): void {
  if (!res._needDrain) return;
  res._needDrain = false;
  res.emit('drain');
}

function writeAfterEndNT(res: ServerResponse, err: Error, cb: ((err?: Error | null) => void) | undefined): void {
  if (cb) cb(err);
  // node:http emits it even without a listener, which crashes the process; here only listeners hear of it.
  if (!res.destroyed && res.listenerCount('error') > 0) res.emit('error', err);
}

type Callback = (err?: Error | null) => void;

export class ServerResponse extends Stream implements ConnResponse {
  statusCode = 200;
  /** undefined until the head is stored; then the reason phrase sent (node's STATUS_CODES when not set). */
  statusMessage: string | undefined = undefined;
  /** false: no Date header (native is told the handler took care of it). */
  sendDate = true;
  readonly req: IncomingMessage;

  /** @internal */ _d: ConnOwner;
  /** @internal */ _conn: Conn;
  /** @internal */ _state = 0;
  /** @internal [lower-case name, name as given, value] triples in the order set (a scan beats a map here) */
  _headers: unknown[] | null = null;
  /** @internal */ _fields = '';
  /** @internal */ _userFields = 0;
  /** @internal */ _tokens = 0;
  /** @internal */ _length = -1;
  /** @internal */ _reason: string | undefined = undefined;
  /** @internal */ _needDrain = false;
  // Links in the connection's list of unfinished responses.
  /** @internal */ _prev: ConnResponse | null = null;
  /** @internal */ _next: ConnResponse | null = null;

  constructor(conn: Conn, req: IncomingMessage) {
    super();
    this._d = conn.d;
    this._conn = conn;
    this.req = req;
  }

  // --- state, as node:http names it ---
  get headersSent(): boolean { return (this._state & S.HeadStored) !== 0; }
  get writableEnded(): boolean { return (this._state & S.Ended) !== 0; }
  get writableFinished(): boolean { return (this._state & S.Finished) !== 0; }
  /** Deprecated in node:http: true once end() was called. */
  get finished(): boolean { return (this._state & S.Ended) !== 0; }
  get destroyed(): boolean { return (this._state & (S.Closed | S.Aborted)) !== 0 || this._conn.gone; }
  get writable(): boolean { return (this._state & (S.Ended | S.Closed | S.Aborted | S.Failed)) === 0; }
  get writableNeedDrain(): boolean { return this._needDrain; }
  get writableHighWaterMark(): number { return HIGH_WATER_MARK; }
  get writableLength(): number { return 0; }
  get writableCorked(): number { return 0; }
  get writableObjectMode(): boolean { return false; }
  get socket(): NovaSocket { return this._conn.getSocket(); }
  get connection(): NovaSocket { return this._conn.getSocket(); }

  // --- headers ---
  /** @internal index of the triple for a lower-case name, or -1 */
  _find(lower: string): number {
    const h = this._headers;
    if (h !== null) for (let i = 0; i < h.length; i += 3) if (h[i] === lower) return i;
    return -1;
  }

  setHeader(name: string, value: OutgoingHeaderValue): this {
    if (this._state & S.HeadStored) throw headersSent('set');
    validateField(name, value);
    const lower = name.toLowerCase();
    const i = this._find(lower);
    if (i >= 0) {
      this._headers![i + 1] = name;
      this._headers![i + 2] = value;
    } else if (this._headers === null) {
      this._headers = [lower, name, value];
    } else {
      this._headers.push(lower, name, value);
    }
    return this;
  }

  appendHeader(name: string, value: OutgoingHeaderValue): this {
    if (this._state & S.HeadStored) throw headersSent('append');
    validateHeaderName(name);
    validateHeaderValue(name, value as string);
    const i = this._find(name.toLowerCase());
    if (i < 0) return this.setHeader(name, value);
    const prev = this._headers![i + 2] as OutgoingHeaderValue;
    const values = Array.isArray(prev) ? [...prev] : [String(prev)];
    if (Array.isArray(value)) values.push(...value);
    else values.push(String(value));
    this._headers![i + 2] = values;
    return this;
  }

  getHeader(name: string): OutgoingHeaderValue | undefined {
    if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name);
    const i = this._find(name.toLowerCase());
    return i < 0 ? undefined : this._headers![i + 2] as OutgoingHeaderValue;
  }

  getHeaders(): OutgoingHeaders {
    const out = Object.create(null) as OutgoingHeaders;
    const h = this._headers;
    if (h !== null) for (let i = 0; i < h.length; i += 3) out[h[i] as string] = h[i + 2] as OutgoingHeaderValue;
    return out;
  }

  getHeaderNames(): string[] {
    const h = this._headers;
    const out: string[] = [];
    if (h !== null) for (let i = 0; i < h.length; i += 3) out.push(h[i] as string);
    return out;
  }

  getRawHeaderNames(): string[] {
    const h = this._headers;
    const out: string[] = [];
    if (h !== null) for (let i = 0; i < h.length; i += 3) out.push(h[i + 1] as string);
    return out;
  }

  hasHeader(name: string): boolean {
    if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name);
    return this._find(name.toLowerCase()) >= 0;
  }

  removeHeader(name: string): void {
    if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name);
    if (this._state & S.HeadStored) throw headersSent('remove');
    const i = this._find(name.toLowerCase());
    if (i >= 0) this._headers!.splice(i, 3);
  }

  writeHead(statusCode: number, reason?: string | HeadersArgument, headers?: HeadersArgument): this {
    if (this._state & S.HeadStored) throw headersSent('write');
    const status = statusCode | 0;
    if (status < 100 || status > 999) throw invalidStatusCode(statusCode);
    let direct: HeadersArgument | undefined = headers;
    if (typeof reason === 'string') this.statusMessage = reason;
    else if (reason !== undefined && reason !== null) direct = reason;
    this.statusCode = status;
    if (direct !== undefined && direct !== null && this._headers !== null) {
      // Mixed with setHeader(): the argument overrides same-named fields (node's rule), keeping its duplicates.
      if (Array.isArray(direct)) {
        const flat = Array.isArray(direct[0])
          ? (direct as readonly (readonly [string, OutgoingHeaderValue])[]).flat() : direct as unknown[];
        if (flat.length % 2 !== 0) throw invalidArgValue('headers', 'a list of name, value pairs', direct);
        for (let i = 0; i < flat.length; i += 2) this.removeHeader(flat[i] as string);
        for (let i = 0; i < flat.length; i += 2) {
          if (flat[i]) this.appendHeader(flat[i] as string, flat[i + 1] as OutgoingHeaderValue);
        }
      } else {
        for (const key of Object.keys(direct)) {
          const value = (direct as OutgoingHeaders)[key];
          if (key) this.setHeader(key, value as OutgoingHeaderValue);
        }
      }
      direct = undefined;
    }
    this._storeHead(direct ?? undefined);
    return this;
  }

  /** @internal freezes the head: status, reason, field lines, UserField bits, Connection tokens, length. */
  _storeHead(direct: HeadersArgument | undefined): void {
    const status = this.statusCode | 0;
    if (status < 100 || status > 999) throw invalidStatusCode(this.statusCode);
    const reason = this.statusMessage;
    if (reason !== undefined && (typeof reason !== 'string' || invalidReasonChar.test(reason))) {
      throw invalidChar('statusMessage');
    }
    const h = this._headers;
    if (h === null && direct === undefined) {
      this._fields = '';
      this._userFields = this.sendDate ? 0 : UserField.Date;
    } else {
      fLines = '';
      fBits = this.sendDate ? 0 : UserField.Date;
      fTokens = 0;
      fLength = -1;
      fHttp10 = this.req.httpVersionMinor === 0;
      if (h !== null) {
        for (let i = 0; i < h.length; i += 3) addField(h[i + 1] as string, h[i + 2] as OutgoingHeaderValue, false);
      } else {
        addDirect(direct!);
      }
      if ((fBits & (UserField.TransferEncoding | UserField.ContentLength)) ===
          (UserField.TransferEncoding | UserField.ContentLength)) {
        throw invalidHeaderValue('Content-Length', fLength, 'a response cannot have both Content-Length and ' +
          'Transfer-Encoding (RFC 9112 section 6.2)');
      }
      this._fields = fLines;
      this._userFields = fBits;
      this._tokens = fTokens;
      this._length = fLength;
      fLines = '';
    }
    this.statusCode = status;
    this._reason = reason;
    if (reason === undefined) this.statusMessage = STATUS_CODES[status] ?? 'unknown';
    this._state |= S.HeadStored;
  }

  // --- body ---
  write(chunk: string | Uint8Array, encoding?: BufferEncoding | Callback, cb?: Callback): boolean {
    if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    const body = toBody(chunk, encoding);
    const state = this._state;
    if (state & (S.Closed | S.Aborted | S.Failed) || this._conn.gone) {
      if (cb) process.nextTick(cb, streamDestroyed('write'));
      return false;
    }
    if (state & S.Ended) {
      process.nextTick(writeAfterEndNT, this, writeAfterEnd(), cb);
      return false;
    }
    const empty = typeof body === 'string' ? body.length === 0 : body.byteLength === 0;
    const req = this.req;
    const noBody = (req._flags & ReqFlag.Head) !== 0;
    const d = this._d;
    let queued = 0;
    if (!(state & S.HeadSent)) {
      if (!(state & S.HeadStored)) this._storeHead(undefined);
      this._state |= S.HeadSent;
      queued = d.native.respond(this._conn.id, req._seq, this.statusCode, this._reason, this._fields,
        this._userFields, this._tokens, this._length, empty || noBody ? undefined : body, false);
      d.queued();
    } else if (!empty && !noBody) {
      queued = d.native.write(this._conn.id, req._seq, body, false);
      d.queued();
    }
    if (cb) d.afterFlush(cb);
    if (queued > HIGH_WATER_MARK) {
      this._needDrain = true;
      // Drain hand-off (bounded): only the front response asks native. Native keeps one Drain request per
      // connection, and its output below the mark says nothing about a response pipelined behind the front (its
      // bytes cannot leave before the front ends): such a response asking would take the wake-up the front waits
      // for, and be told to write on while its bytes pile up. It waits in the connection's list instead;
      // Conn.unlink() asks for it when it becomes the front.
      if (this._conn.head === this && d.native.wantDrain(this._conn.id)) process.nextTick(emitDrainNT, this);
      else this._conn.waitDrain(this);
      return false;
    }
    return true;
  }

  end(chunk?: string | Uint8Array | Callback, encoding?: BufferEncoding | Callback, cb?: Callback): this {
    if (typeof chunk === 'function') {
      cb = chunk;
      chunk = undefined;
    } else if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    let state = this._state;
    if (this._conn.gone && !(state & S.Ended)) {
      // The connection is already closed: 'close' comes with its Close record, never 'finish'.
      state = this._state = state | S.Ended | S.Aborted;
    }
    if (state & (S.Ended | S.Closed | S.Aborted | S.Failed)) {
      if (cb) {
        if ((state & (S.Ended | S.Finished | S.Closed | S.Aborted)) === S.Ended) this.once('finish', cb);
        else process.nextTick(cb, state & S.Finished ? alreadyFinished('end') : streamDestroyed('end'));
      }
      return this;
    }
    const body = chunk === undefined || chunk === null || chunk === '' ? undefined : toBody(chunk, encoding);
    const req = this.req;
    const d = this._d;
    if (!(state & S.HeadSent)) {
      // The hot path: head and whole body in one native call. Length -1 with end=true: native counts the body's
      // bytes itself (no byteLength here); a HEAD response sends no body, so its length is counted here.
      if (!(state & S.HeadStored)) this._storeHead(undefined);
      let length = this._length;
      const noBody = (req._flags & ReqFlag.Head) !== 0;
      if (noBody && length < 0 && !(this._userFields & UserField.TransferEncoding)) length = byteLength(body);
      this._state |= S.HeadSent | S.Ended;
      d.native.respond(this._conn.id, req._seq, this.statusCode, this._reason, this._fields, this._userFields,
        this._tokens, length, noBody ? undefined : body, true);
    } else {
      this._state = state | S.Ended;
      d.native.write(this._conn.id, req._seq, (req._flags & ReqFlag.Head) !== 0 ? undefined : body, true);
    }
    if (cb) this.once('finish', cb);
    d.ended(this);
    return this;
  }

  /** Sends the head now (with no length known, so the body is chunked, or close-delimited for HTTP/1.0). */
  flushHeaders(): void {
    const state = this._state;
    if (state & (S.HeadSent | S.Closed | S.Aborted | S.Failed) || this._conn.gone) return;
    if (!(state & S.HeadStored)) this._storeHead(undefined);
    this._state |= S.HeadSent;
    const d = this._d;
    d.native.respond(this._conn.id, this.req._seq, this.statusCode, this._reason, this._fields, this._userFields,
      this._tokens, this._length, undefined, false);
    d.queued();
  }

  /** Closes the connection (after the responses before this one are out); 'close' follows. */
  destroy(_error?: Error): this {
    if (this._state & (S.Closed | S.Aborted)) return this;
    this._state |= S.Aborted;
    this._needDrain = false;
    this._d.abortExchange(this._conn, this.req._seq);
    return this;
  }

  // Accepted for node:http compatibility; native owns corking (one write per batch) and deadlines.
  cork(): void {}
  uncork(): void {}
  setTimeout(_ms: number, _cb?: () => void): this { return this; }
  /** native already answered Expect: 100-continue before the request reached JS. */
  writeContinue(): void {}

  addTrailers(_headers: OutgoingHeaders | readonly [string, string][]): void {
    throw Object.assign(new Error('nova-http does not send response trailers yet'),
      { code: 'ERR_METHOD_NOT_IMPLEMENTED' });
  }

  // --- called by the dispatcher ---

  /** @internal the handler threw or rejected: 500 + close if nothing was sent yet, else close the connection. */
  _fail(): void {
    const state = this._state;
    if (state & (S.Closed | S.Aborted | S.Failed)) return;
    if (!(state & S.HeadSent)) {
      this._state = state | S.HeadStored | S.HeadSent | S.Ended | S.Failed;
      this.statusCode = 500;
      this.statusMessage = STATUS_CODES[500];
      this._d.native.respond(this._conn.id, this.req._seq, 500, undefined, INTERNAL_ERROR_FIELDS,
        INTERNAL_ERROR_USER_FIELDS, ConnToken.Close, INTERNAL_ERROR_BODY.length, INTERNAL_ERROR_BODY, true);
      this._d.ended(this);
    } else if (!(state & S.Ended)) {
      this.destroy();
      this._state |= S.Failed;
    }
  }

  /** @internal the flush that carried end() is done: 'finish', then 'close', then the request closes. */
  _finish(): void {
    const state = this._state;
    if (state & (S.Closed | S.Aborted)) return;
    this._state = state | S.Finished | S.Closed;
    this._conn.unlink(this);
    this.emit('finish');
    this.emit('close');
    this.req._exchangeDone();
  }

  /** @internal the connection is gone (Close record). */
  _connectionGone(): void {
    if (this._state & S.Closed) return;
    this._state |= S.Closed;
    this._needDrain = false;
    this.req._connectionGone();
    this.emit('close');
  }

  /** @internal a Drain record for this response's connection. */
  _drain(): void {
    emitDrainNT(this);
  }
}
