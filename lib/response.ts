// ServerResponse: a real http.ServerResponse over the native respond()/write() calls. The head is serialized once
// ("Name: value\r\n" lines + UserField bits + Connection tokens) when it is stored (writeHead, or the first
// write/end); end(body) with nothing written before is one respond() call carrying head, body and length.
// Its state lives where node's own methods look for it (node's header store, _header, finished, destroyed...), and
// node's hooks _storeHeader/_send/_writeRaw are own properties, so when a framework (Express) swaps the prototype
// for one inheriting from http.ServerResponse.prototype, node's own writeHead/write/end still answer through native.
// 'finish' and 'close' are emitted by the dispatcher after the flush that hands the response to native.
import * as http from 'node:http';
import { STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http';
import { ReqFlag, UserField } from './contract';
import { parseConnectionTokens } from './keep-alive';
import {
  alreadyFinished, contentLengthMismatch, headersSent, invalidArgType, invalidArgValue, invalidChar,
  invalidHeaderValue, invalidStatusCode, nullValues, streamDestroyed, unknownEncoding, writeAfterEnd,
} from './errors';
import { unlink, waitDrain } from './conn';
import type { Conn, ConnOwner } from './conn';
import { HIGH_WATER_MARK } from './options';
import { exchangeDone, nodeSymbol, requestGone } from './request';
import type { IncomingMessage } from './request';

export type OutgoingHeaderValue = string | number | readonly string[];
export type OutgoingHeaders = Record<string, OutgoingHeaderValue | undefined>;
/** writeHead()'s headers: an object, a flat [name, value, ...] list, or [name, value] pairs. */
export type HeadersArgument = OutgoingHeaders | readonly (string | number)[] | readonly (readonly [string, OutgoingHeaderValue])[];

// Response states (bits of _state).
const enum S {
  HeadStored = 1,  // writeHead() ran or the head was built implicitly: headers are frozen (headersSent)
  HeadSent = 2,    // respond() was called
  Ended = 4,       // end() was called
  Finished = 8,    // 'finish' emitted
  Closed = 16,     // 'close' emitted
  Aborted = 32,    // destroy() or a handler failure after the head: the connection closes
  Failed = 64,     // the handler failed: nova-http answered 500; later write()/end() calls do nothing
  NodePath = 128,  // node's own write()/end() feed this response (through _send): node emits its 'finish'
  EndCheck = 256,  // queued for the dispatcher's check of node's `finished` before the next flush
}

// --- head serialization --------------------------------------------------------------------------------------
// Module-level accumulators: serialization is synchronous and never re-entered, so no object per response.
let fLines = '';
let fBits = 0;
let fTokens = 0;
let fLength = -1;
/** A Trailer field was set: node frames such a response chunked even when it knows the length. */
let fTrailer = false;

const digitsOnly = /^[ \t]*[0-9]+[ \t]*$/;

// What a field means to native (which UserField bit it sets).
const enum Kind { Plain, Date, Connection, KeepAlive, ContentLength, TransferEncoding, Trailer }

interface Line {
  value: unknown;  // the value it was made from (compared with ===)
  text: string;    // "Name: value\r\n"
  kind: Kind;
  num: number;     // Connection: its ConnToken bits; Content-Length: the length
  // The last head this line ended: the fields before it and the concatenation (see appendLine).
  before: string | undefined;
  joined: string;
}

// The last value seen per field name, validated and serialized. Handlers send the same name/value strings on
// every response (constants, literals), so most fields cost a Map lookup instead of two regexes and a concat.
const lineCache = new Map<string, Line>();
const LINE_CACHE_MAX = 256;

function kindOf(name: string, value: string): { kind: Kind; num: number } {
  const n = name.length;
  // Only these lengths can be special: date 4, trailer 7, connection/keep-alive 10, content-length 14,
  // transfer-encoding 17.
  if (n !== 4 && n !== 7 && n !== 10 && n !== 14 && n !== 17) return { kind: Kind.Plain, num: 0 };
  switch (name.toLowerCase()) {
    case 'date':
      return { kind: Kind.Date, num: 0 };
    case 'trailer':
      return { kind: Kind.Trailer, num: 0 };
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
  e = { value, text: `${name}: ${v}\r\n`, kind, num, before: undefined, joined: '' };
  if (lineCache.size >= LINE_CACHE_MAX) lineCache.clear();
  lineCache.set(name, e);
  return e;
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
      // To an HTTP/1.0 client native leaves the field out and ends the body with the close (write_head).
      fBits |= UserField.TransferEncoding;
      break;
    case Kind.Trailer:
      fTrailer = true;
      break;
  }
  appendLine(e);
}

/**
 * fLines += e.text, giving back the same string as the last time this line followed the same fields. A handler
 * sending the same head every time then passes native the same string object each response: V8 flattened it in
 * place the first time native read it, so it is copied as it is instead of being joined, flattened (a new
 * string) and copied per response. The comparison is by identity while the chain repeats.
 */
function appendLine(e: Line): void {
  if (e.before === fLines) {
    fLines = e.joined;
    return;
  }
  e.before = fLines;
  fLines += e.text;
  e.joined = fLines;
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
  emitDrain(res);
}

function writeAfterEndNT(res: ServerResponse, err: Error, cb: ((err?: Error | null) => void) | undefined): void {
  if (cb) cb(err);
  // node:http emits it even without a listener, which crashes the process; here only listeners hear of it.
  if (!res.destroyed && res.listenerCount('error') > 0) res.emit('error', err);
}

type Callback = (err?: Error | null) => void;

// node's own symbols: its header store, the drain flag, the cork count, the error, the high-water mark.
const probe = new http.OutgoingMessage();
const kOutHeaders = nodeSymbol(probe, 'kOutHeaders');
const kNeedDrain = nodeSymbol(probe, 'kNeedDrain');
const kCorked = nodeSymbol(probe, 'corked');
const kErrored = nodeSymbol(probe, 'errored');
/** node's queue for a response without a socket; never used here (native queues), so one shared empty array. */
const NO_OUTPUT: unknown[] = Object.freeze([]) as unknown as unknown[];

type HeaderStore = Record<string, [string, OutgoingHeaderValue]>;

/** node's ServerResponse#_implicitHeader(): this.writeHead(this.statusCode), so that hooks on writeHead fire. */
function implicitHeader(res: ServerResponse): void {
  (res as unknown as { _implicitHeader(): void })._implicitHeader();
}

/** Node's fields and nova's, as one record type for the functions below. */
type Res = Omit<ServerResponse, 'writable' | 'socket' | 'req'> & {
  writable: boolean;
  socket: unknown;
  req: IncomingMessage;
  _header: string | null;
  _headerSent: boolean;
  _hasBody: boolean;
  _contentLength: number | null;
  _removedContLen: boolean;
  _trailer: string | undefined;
  _closed: boolean;
  chunkedEncoding: boolean;
  outputData: unknown[];
  outputSize: number;
  [key: symbol]: unknown;
};

// Typed as node's class (handlers typed with @types/node accept it), with a prototype chain through
// http.ServerResponse.prototype, so instanceof holds and node's header methods and getters run on the state set
// here. The constructor is neither node's (state for its own socket handling) nor Stream's: as for requests
// (request.ts), EventEmitter's listener table is made on the first on(), not for every response.
function ResponseBase(): void {}
ResponseBase.prototype = http.ServerResponse.prototype;
const Base = ResponseBase as unknown as new () => http.ServerResponse<IncomingMessage>;

export class ServerResponse extends Base {
  /** @internal */ declare _d: ConnOwner;
  /** @internal */ declare _conn: Conn;
  /** @internal */ declare _state: number;
  /** @internal */ declare _fields: string;
  /** @internal */ declare _userFields: number;
  /** @internal */ declare _tokens: number;
  /** @internal */ declare _length: number;
  /** @internal body bytes handed to native so far, counted only when the handler set Content-Length */
  declare _bodyBytes: number;
  /** @internal */ declare _reason: string | undefined;
  // Links in the connection's list of unfinished responses.
  /** @internal */ declare _prev: ServerResponse | null;
  /** @internal */ declare _next: ServerResponse | null;

  constructor(conn: Conn, req: IncomingMessage) {
    super();
    const self = this as unknown as Res;
    // node's OutgoingMessage + ServerResponse fields that node's own methods and getters read.
    self.outputData = NO_OUTPUT;
    self.outputSize = 0;
    // (undefined reads as node's default for the rest: chunkedEncoding, kErrored, kHighWaterMark...)
    self.writable = true;
    this.destroyed = false;
    this.sendDate = true;
    self._hasBody = (req._flags & ReqFlag.Head) === 0;
    self[kNeedDrain] = false;
    this.finished = false;
    self._headerSent = false;
    self[kCorked] = 0;
    self._closed = false;
    self.socket = conn;
    self._header = null;
    self[kOutHeaders] = null;
    self.req = req;
    this.statusCode = 200;
    this.statusMessage = undefined as unknown as string;
    // node's hooks, own so that they survive a prototype swap: node's writeHead/write/end call these.
    const hooks = this as unknown as Record<string, unknown>;
    hooks._storeHeader = storeHeader;
    hooks._send = sendBody;
    hooks._writeRaw = writeRaw;
    // nova-http's own.
    this._d = conn._owner;
    this._conn = conn;
    this._state = 0;
    this._fields = '';
    this._userFields = 0;
    this._tokens = 0;
    this._length = -1;
    this._bodyBytes = 0;
    this._reason = undefined;
    this._prev = null;
    this._next = null;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override writeHead(statusCode: number, reason?: any, headers?: any): this {
    if ((this as unknown as Res)._header) throw headersSent('write');
    const status = statusCode | 0;
    if (status < 100 || status > 999) throw invalidStatusCode(statusCode);
    let direct = headers as HeadersArgument | undefined;
    if (typeof reason === 'string') this.statusMessage = reason;
    else if (reason !== undefined && reason !== null) direct = reason as HeadersArgument;
    this.statusCode = status;
    const store = (this as unknown as Res)[kOutHeaders] as HeaderStore | null;
    if (store !== null) {
      // Mixed with setHeader(): the argument's fields are set over the stored ones (node's rule).
      if (direct !== undefined && direct !== null) {
        if (Array.isArray(direct)) {
          const flat = Array.isArray(direct[0])
            ? (direct as readonly (readonly [string, OutgoingHeaderValue])[]).flat() : direct as unknown[];
          if (flat.length % 2 !== 0) throw invalidArgValue('headers', 'a list of name, value pairs', direct);
          for (let i = 0; i < flat.length; i += 2) {
            if (flat[i]) this.setHeader(flat[i] as string, flat[i + 1] as OutgoingHeaderValue);
          }
        } else {
          for (const key of Object.keys(direct)) {
            if (key) this.setHeader(key, (direct as OutgoingHeaders)[key] as OutgoingHeaderValue);
          }
        }
      }
      direct = store as unknown as HeadersArgument;
    }
    if (status === 204 || status === 304 || status < 200) (this as unknown as Res)._hasBody = false;
    storeHeader.call(this as unknown as Res, undefined, direct ?? null);
    return this;
  }

  // --- body ---
  override write(chunk: string | Uint8Array, encoding?: BufferEncoding | Callback, cb?: Callback): boolean {
    if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    const body = toBody(chunk, encoding);
    const self = this as unknown as Res;
    if (this.finished) {
      process.nextTick(writeAfterEndNT, this, writeAfterEnd(), cb);
      return false;
    }
    if (this.destroyed || this._state & S.Failed || this._conn._gone) {
      if (cb) process.nextTick(cb, streamDestroyed('write'));
      return false;
    }
    if (!self._header) implicitHeader(this);
    const state = this._state;
    const empty = typeof body === 'string' ? body.length === 0 : body.byteLength === 0;
    const noBody = !self._hasBody;
    const d = this._d;
    let queued = 0;
    if (!(state & S.HeadSent)) {
      if (!empty) countBody(this, body, false);
      this._state |= S.HeadSent;
      queued = d.native.respond(this._conn._connId, this.req._seq, this.statusCode, this._reason, this._fields,
        this._userFields, this._tokens, this._length, empty || noBody ? undefined : body, false);
      d.queued();
    } else if (!empty && !noBody) {
      countBody(this, body, false);
      queued = d.native.write(this._conn._connId, this.req._seq, body, false);
      d.queued();
    }
    if (cb) d.afterFlush(cb);
    const socket = this._conn;
    if (socket._timer !== null) socket._active();
    if (queued > HIGH_WATER_MARK) {
      needDrain(this);
      return false;
    }
    return true;
  }

  override end(chunk?: string | Uint8Array | Callback, encoding?: BufferEncoding | Callback, cb?: Callback): this {
    if (typeof chunk === 'function') {
      cb = chunk;
      chunk = undefined;
    } else if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    const self = this as unknown as Res;
    if (this.finished) {
      if (cb) {
        if (!(this._state & (S.Finished | S.Closed))) this.once('finish', cb);
        else process.nextTick(cb, this._state & S.Finished ? alreadyFinished('end') : streamDestroyed('end'));
      }
      return this;
    }
    if (this.destroyed || this._state & S.Failed || this._conn._gone) {
      // The connection is already closed: 'close' comes with its Close record, never 'finish'.
      this.finished = true;
      if (cb) process.nextTick(cb, streamDestroyed('end'));
      return this;
    }
    const body = chunk === undefined || chunk === null || chunk === '' ? undefined : toBody(chunk, encoding);
    const d = this._d;
    if (!(this._state & S.HeadSent)) {
      // The hot path: head and whole body in one native call. Length -1 with end=true: native counts the body's
      // bytes itself (no byteLength here); a HEAD response sends no body, so its length is counted here.
      if (!self._header) implicitHeader(this);
      let length = this._length;
      const noBody = !self._hasBody;
      if (noBody && length < 0 && !(this._userFields & UserField.TransferEncoding)) length = byteLength(body);
      countBody(this, body, true);
      this._state |= S.HeadSent | S.Ended;
      // Trailers need the chunked framing (a Transfer-Encoding field, or a Trailer field, which adds one): then the
      // head and body go first and the trailers with the last chunk. Otherwise they are dropped, as node's are.
      const trailers = this._userFields & UserField.TransferEncoding ? self._trailer : undefined;
      d.native.respond(this._conn._connId, this.req._seq, this.statusCode, this._reason, this._fields,
        this._userFields, this._tokens, length, noBody ? undefined : body, !trailers);
      if (trailers) d.native.endWithTrailers(this._conn._connId, this.req._seq, undefined, trailers);
    } else {
      countBody(this, body, true);
      this._state |= S.Ended;
      endNative(this, self._hasBody ? body : undefined);
    }
    this.finished = true;
    if (cb) this.once('finish', cb);
    d.ended(this);
    return this;
  }

  /** Sends the head now (with no length known, so the body is chunked, or close-delimited for HTTP/1.0). */
  override flushHeaders(): void {
    if (this._state & (S.HeadSent | S.Failed) || this.destroyed || this._conn._gone) return;
    if (!(this as unknown as Res)._header) implicitHeader(this);
    this._state |= S.HeadSent;
    const d = this._d;
    d.native.respond(this._conn._connId, this.req._seq, this.statusCode, this._reason, this._fields, this._userFields,
      this._tokens, this._length, undefined, false);
    d.queued();
  }

  /** Closes the connection (after the responses before this one are out); 'close' follows. */
  override destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    (this as unknown as Res)[kErrored] = error ?? null;
    (this as unknown as Res)[kNeedDrain] = false;
    this._d.abortExchange(this._conn, this.req._seq);
    return this;
  }

  // writeContinue(), writeProcessing() and writeEarlyHints() are node's own: they format the 1xx head and hand it to
  // the _writeRaw hook (writeRaw below), which gives it to native as an interim response.

  /** node's writeEarlyHints(), after checking the fields besides `link` as header fields (node sends them as given:
   *  a CR LF in a value would add lines to the head). */
  override writeEarlyHints(hints: Record<string, string | string[]>, cb?: () => void): void {
    if (hints !== null && typeof hints === 'object') {
      for (const key of Object.keys(hints)) {
        const v = hints[key];
        validateHeaderName(key);
        for (const one of Array.isArray(v) ? v : [v]) validateHeaderValue(key, one);
      }
    }
    super.writeEarlyHints(hints, cb);
  }

  // addTrailers() is node's own: it validates the fields and keeps them as text in `_trailer`, which end() hands
  // to native (sent after the last chunk of a chunked response, dropped otherwise, as node does).
}
// true once 'finish' was emitted (node's own getter says so as soon as end() ran with nothing buffered in JS).
Object.defineProperty(ServerResponse.prototype, 'writableFinished', {
  configurable: true,
  enumerable: false,
  get(this: ServerResponse): boolean { return (this._state & S.Finished) !== 0; },
});

// --- node's hooks (own properties of every response) -----------------------------------------------------------

/**
 * node's OutgoingMessage#_storeHeader(firstLine, headers): node's writeHead calls it with its header store or the
 * argument it was given. Serializes the head for native instead of as bytes; `_header` is set so that
 * headersSent and the frameworks reading `res._header` see a stored head.
 */
/** 'HTTP/1.1 200 OK\r\n' per status code, for res._header. */
const statusLines: string[] = [];

function storeHeader(this: Res, _firstLine: string | undefined, headers: unknown): void {
  const status = this.statusCode | 0;
  if (status < 100 || status > 999) throw invalidStatusCode(this.statusCode);
  const reason = this.statusMessage as string | undefined;
  if (reason !== undefined && (typeof reason !== 'string' || invalidReasonChar.test(reason))) {
    throw invalidChar('statusMessage');
  }
  const store = this[kOutHeaders] as HeaderStore | null;
  let fields = '';
  fTrailer = false;
  if (headers === null || headers === undefined) {
    this._fields = '';
    this._userFields = this.sendDate ? 0 : UserField.Date;
    this._tokens = 0;
    this._length = -1;
  } else {
    fLines = '';
    fBits = this.sendDate ? 0 : UserField.Date;
    fTokens = 0;
    fLength = -1;
    if (headers === store) {
      for (const key in store) {
        const entry = store[key];
        addField(entry[0], entry[1], false);
      }
    } else {
      addDirect(headers as HeadersArgument);
    }
    if ((fBits & (UserField.TransferEncoding | UserField.ContentLength)) ===
        (UserField.TransferEncoding | UserField.ContentLength)) {
      throw invalidHeaderValue('Content-Length', fLength, 'a response cannot have both Content-Length and ' +
        'Transfer-Encoding (RFC 9112 section 6.2)');
    }
    fields = fLines;
    this._fields = fLines;
    this._userFields = fBits;
    this._tokens = fTokens;
    this._length = fLength;
    fLines = '';
  }
  if (!(this._userFields & (UserField.ContentLength | UserField.TransferEncoding)) && this._hasBody) {
    if (this._removedContLen || fTrailer) {
      // node streams a response whose Content-Length was removed, or that announces trailer fields (RFC 9110
      // 6.6.2: trailers need chunked framing): so does native, with chunked framing.
      fLines = '';
      addLine('Transfer-Encoding', 'chunked', false);
      this._fields += fLines;
      this._userFields |= UserField.TransferEncoding;
      fLines = '';
    } else if (typeof this._contentLength === 'number') {
      // node's end(body) sets the length before the implicit head.
      this._length = this._contentLength;
    }
  }
  this.statusCode = status;
  this._reason = reason;
  let line: string;
  if (reason === undefined) {
    this.statusMessage = STATUS_CODES[status] ?? 'unknown';
    line = statusLines[status] ??= `HTTP/1.1 ${status} ${this.statusMessage}\r\n`;
  } else {
    line = `HTTP/1.1 ${status} ${reason}\r\n`;
  }
  // What node would have sent, less the fields native adds (Date, Connection, Keep-Alive, framing).
  this._header = line + fields + '\r\n';
  // (chunkedEncoding stays unset: node's write() must not frame the body, native does)
}

/**
 * node's OutgoingMessage#_send(data, encoding, callback): where node's write()/end()/flushHeaders() hand the body
 * (past node's own checks). node's end() always ends with a _send('') (since _headerSent stays false); the
 * dispatcher then sees `finished` before its next flush and ends the response natively.
 */
function sendBody(this: Res, data: string | Uint8Array, encoding: unknown, callback: unknown): boolean {
  // eslint-disable-next-line @typescript-eslint/no-this-alias -- a hook node calls with the response as this
  const res = this;
  if (res._state & (S.Closed | S.Aborted | S.Failed) || res._conn._gone) return false;
  const d = res._d;
  res._state |= S.NodePath;
  const body = typeof data === 'string' && data.length === 0 ? undefined : toBody(data, encoding);
  let queued = 0;
  // (node's end() reaches here too, with no way to tell: only a surplus is checked; a short end is cut natively)
  countBody(res as unknown as ServerResponse, body, false);
  if (!(res._state & S.HeadSent)) {
    res._state |= S.HeadSent;
    queued = d.native.respond(res._conn._connId, res.req._seq, res.statusCode, res._reason, res._fields,
      res._userFields, res._tokens, res._length, res._hasBody ? body : undefined, false);
    d.queued();
  } else if (body !== undefined && res._hasBody) {
    queued = d.native.write(res._conn._connId, res.req._seq, body, false);
    d.queued();
  }
  if (typeof callback === 'function') d.afterFlush(callback as () => void);
  if (res._conn._timer !== null) res._conn._active();
  if (!(res._state & S.EndCheck)) {
    res._state |= S.EndCheck;
    d.checkEnd(res as unknown as ServerResponse);
  }
  if (queued > HIGH_WATER_MARK) {
    needDrain(res as unknown as ServerResponse);
    return false;
  }
  return true;
}

/** A 1xx head as node's writeContinue/writeProcessing/writeEarlyHints format it. */
const interimHead = /^HTTP\/1\.1 (1[0-9][0-9]) ([^\r\n]*)\r\n((?:[^\r\n]*\r\n)*)\r\n$/;
const badFieldText = /[\0\r\n]/;

/**
 * node's OutgoingMessage#_writeRaw(data, encoding, callback): only node's writeContinue(), writeProcessing() and
 * writeEarlyHints() reach it (node's write()/end() go through _send), with a whole 1xx head. It goes to native as an
 * interim response, in this response's place on the connection, before its final head. Once the final head is on
 * its way, or for anything but a 1xx head, nothing is sent (node would write the bytes into the body); the
 * callback still runs. Native also drops it for an HTTP/1.0 request and drops a second 100 Continue.
 */
function writeRaw(this: Res, data: unknown, encoding: unknown, callback: unknown): boolean {
  const cb = (typeof encoding === 'function' ? encoding : callback) as (() => void) | undefined;
  // eslint-disable-next-line @typescript-eslint/no-this-alias -- a hook node calls with the response as this
  const res = this;
  const m = typeof data === 'string' ? interimHead.exec(data) : null;
  if (m === null || res._state & (S.HeadSent | S.Closed | S.Aborted | S.Failed) || res._conn._gone) {
    if (typeof cb === 'function') process.nextTick(cb);
    return false;
  }
  const status = Number(m[1]);
  const fields = m[3];
  if (badFieldText.test(m[2])) throw invalidChar('statusMessage');
  if (status === 101) throw invalidStatusCode(status);  // an upgrade's answer, never an interim one
  const d = res._d;
  d.native.interim(res._conn._connId, res.req._seq, status, m[2] === STATUS_CODES[status] ? '' : m[2], fields);
  d.queued();
  if (typeof cb === 'function') d.afterFlush(cb);
  return true;
}

/**
 * Content-Length enforcement (bounded): the body may not run past the length the handler declared, nor end short
 * of it. Either would put wrong framing on the wire (the surplus is read as the next response on a keep-alive
 * connection; a short body leaves the client waiting), so like node's strictContentLength this throws
 * ERR_HTTP_CONTENT_LENGTH_MISMATCH before the bytes reach native (which would cut them and close). Bodies that are
 * never sent (HEAD, 1xx, 204, 304) are not counted.
 */
function countBody(res: ServerResponse, body: string | Uint8Array | undefined, ending: boolean): void {
  if (res._length < 0 || !(res as unknown as Res)._hasBody) return;
  const n = res._bodyBytes + byteLength(body);
  if (n > res._length || (ending && n < res._length)) throw contentLengthMismatch(n, res._length);
  res._bodyBytes = n;
}

function needDrain(res: ServerResponse): void {
  (res as Res)[kNeedDrain] = true;
  // Drain hand-off: only the front response asks native. Native keeps one Drain request per connection, and its
  // output below the mark says nothing about a response pipelined behind the front (its bytes cannot leave before
  // the front ends): such a response asking would take the wake-up the front waits for, and be told to write on
  // while its bytes pile up. It waits in the connection's list instead; unlink() (lib/conn.ts) asks for it when it becomes
  // the front.
  if (res._conn._head === res && res._d.native.wantDrain(res._conn._connId)) process.nextTick(emitDrainNT, res);
  else waitDrain(res._conn, res);
}

// --- called by the dispatcher (functions, not methods: the prototype may have been swapped) --------------------

/** The dispatcher's check before a flush: node's end() ran on a response fed through _send: end it natively. */
export function endIfFinished(res: ServerResponse): void {
  res._state &= ~S.EndCheck;
  if (!res.finished || res._state & (S.Ended | S.Closed | S.Aborted | S.Failed) || res._conn._gone) return;
  res._state |= S.Ended;
  endNative(res, undefined);
  res._d.ended(res);
}

/** The end of a response whose head native has: the last body bytes, and the trailers node's addTrailers() kept. */
function endNative(res: ServerResponse, body: string | Uint8Array | undefined): void {
  const trailers = (res as unknown as Res)._trailer;
  if (trailers) res._d.native.endWithTrailers(res._conn._connId, res.req._seq, body, trailers);
  else res._d.native.write(res._conn._connId, res.req._seq, body, true);
}

/** the handler threw or rejected: native's ready-made 500 + close if nothing was sent yet, else close the
 *  connection. */
export function failResponse(res: ServerResponse): void {
  const state = res._state;
  if (state & (S.Closed | S.Aborted | S.Failed) || res.destroyed) return;
  const self = res as unknown as Res;
  if (!(state & S.HeadSent)) {
    res._state = state | S.HeadStored | S.HeadSent | S.Ended | S.Failed;
    res.statusCode = 500;
    res.statusMessage = STATUS_CODES[500]!;
    // The status line of what native sends (its fields are native's: HttpError::InternalError).
    self._header = `HTTP/1.1 500 ${STATUS_CODES[500]}\r\n\r\n`;
    res.finished = true;
    res._d.native.fail(res._conn._connId, res.req._seq);
    res._d.ended(res);
  } else if (!(state & S.Ended)) {
    res.destroy();
    res._state |= S.Failed;
  }
}

/** the flush that carried end() is done: 'finish' (unless node's end() emits its own), then 'close'. */
export function finishResponse(res: ServerResponse): void {
  const state = res._state;
  if (state & (S.Closed | S.Aborted)) return;
  res._state = state | S.Finished | S.Closed;
  unlink(res._conn, res);
  (res as unknown as Res).socket = null;
  if (!(state & S.NodePath)) res.emit('finish');
  (res as unknown as Res)._closed = true;
  res.emit('close');
  exchangeDone(res.req);
}

/** the connection is gone (Close record). */
export function responseGone(res: ServerResponse): void {
  if (res._state & S.Closed) return;
  res._state |= S.Closed;
  res.destroyed = true;
  (res as unknown as Res)._closed = true;
  (res as unknown as Res)[kNeedDrain] = false;
  requestGone(res.req);
  res.emit('close');
}

/** a Drain record for this response's connection. */
export function emitDrain(res: ServerResponse): void {
  if (!(res as Res)[kNeedDrain]) return;
  (res as Res)[kNeedDrain] = false;
  res.emit('drain');
}
