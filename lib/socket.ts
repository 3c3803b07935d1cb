// NovaSocket: what JS sees of one connection (req.socket, res.socket, 'connection', 'clientError', and the socket of
// 'upgrade'/'connect'): a real stream.Duplex, one per connection, the same object for its whole life, as node's.
// It is also the dispatcher's record of the connection (the fields of lib/conn.ts: its unfinished responses, the
// request whose body is arriving): one JS object per connection, which is most of what a connection costs on the
// JS heap (see SocketBase for what it leaves out).
// While native serves HTTP on it, native owns the bytes: writes to it are dropped (native answers clients on its
// own) and it never reads. After an accepted upgrade (_upgrade) it becomes the passthrough: reads are the client's
// bytes (Raw records, RawEnd ends them) with flow control back to native (pauseBody/resumeBody), writes go out
// verbatim (rawWrite) with backpressure (a write's callback waits for the Drain record above the high-water mark).
// 'close' comes with the connection's Close record.
import { Duplex, Readable, Writable } from 'node:stream';
import type { ConnOwner } from './conn';
import type { NativeServer } from './contract';
import { HIGH_WATER_MARK } from './options';  // upgraded: write() callbacks wait past it, as for responses
import type { IncomingMessage } from './request';
import type { ServerResponse } from './response';

/** What a socket needs from the dispatcher that owns its connection (lib/dispatch.ts). */
export interface SocketOwner {
  readonly native: NativeServer;
  /** Something was handed to native: flush it (end of batch, or a microtask). */
  queued(): void;
  /** Runs cb after the next flush. */
  afterFlush(cb: () => void): void;
  /** Closes the connection once the responses before its last request are out (works before any response). */
  destroyConnection(connId: number): void;
  /** node's readStart(): a paused body (or a bodiless request someone reads) may go on. */
  resumeConnection(connId: number): void;
  /** The idle timeout set with setTimeout() expired: 'timeout' on the request, response and server. */
  socketTimeout(connId: number): boolean;
}


type Callback = (err?: Error | null) => void;
type Address = { address: string; family: string; port: number };

// allowHalfOpen as node:http's sockets: after an upgrade the client's FIN ends the readable side only; ws and
// tunnels end ours. autoDestroy from the upgrade on (_upgrade): before it nothing ever ends either side.
const STREAM_OPTIONS = { allowHalfOpen: true, emitClose: true, autoDestroy: false };

// The socket's base: Duplex's constructor without what a hello-world connection never uses, which was most of a
// connection's JS heap (~500 of ~520 bytes with its former second object): the two stream states (~360 bytes; the
// `_readableState` / `_writableState` getters below make both on first use: a stream method, `destroyed`,
// `readable`, the Close record) and EventEmitter's listener table (a dictionary-mode object, ~220 bytes; it is made
// on the first on(), as for requests: EventEmitter.prototype's _events/_eventsCount/_maxListeners read as none
// until then). allowHalfOpen is on the prototype. Where node does not export the state classes, Duplex's
// constructor runs as is.
// A state is null until made; undefined when the connection closed before anything used the stream (_closed): it is
// then made as destroy() would have left it.
type StreamStates = { _rs: object | null | undefined; _ws: object | null | undefined };
const { ReadableState } = Readable as unknown as {
  ReadableState?: new (options: object, stream: object, isDuplex: boolean) => object;
};
const { WritableState } = Writable as unknown as {
  WritableState?: new (options: object, stream: object, isDuplex: boolean) => object;
};
const lazyStates = ReadableState !== undefined && WritableState !== undefined;
function SocketBase(this: Duplex & StreamStates): void {
  if (!lazyStates) {
    Duplex.call(this, STREAM_OPTIONS);
    return;
  }
  this._rs = null;
  this._ws = null;
}
function makeStates(socket: StreamStates): void {
  const closed = socket._rs === undefined;
  if (socket._rs == null) socket._rs = new ReadableState!(STREAM_OPTIONS, socket, true);
  if (socket._ws == null) socket._ws = new WritableState!(STREAM_OPTIONS, socket, true);
  if (closed) {
    // What destroy() sets on both states once its 'close' was emitted (nobody listened: see _closed).
    for (const state of [socket._rs, socket._ws] as { destroyed: boolean; closed: boolean; closeEmitted: boolean }[]) {
      state.destroyed = true;
      state.closed = true;
      state.closeEmitted = true;
    }
  }
}
SocketBase.prototype = Duplex.prototype;
const Base = SocketBase as unknown as typeof Duplex;

export class NovaSocket extends Base {
  /** Node sets this on TLS sockets only (here never: no own property). */
  declare readonly encrypted: undefined;
  // The connection as the dispatcher sees it (lib/conn.ts keeps them).
  /** @internal the stream states (see SocketBase) */ declare _rs: object | null | undefined;
  /** @internal */ declare _ws: object | null | undefined;
  /** @internal EventEmitter's listener table: undefined until the first listener */
  declare _events: object | undefined;
  /** @internal */ _owner: ConnOwner;
  /** @internal */ _connId: number;
  /** @internal the connection is gone: native reported it closed (set for the whole batch that carries the Close
   *  record: nothing that batch triggers may write into it) */
  _gone = false;
  /** @internal the request whose Body records are arriving (bodies are sequential on the wire) */
  _bodyReq: IncomingMessage | null = null;
  /** @internal unfinished responses, oldest first (doubly linked through _prev/_next) */
  _head: ServerResponse | null = null;
  /** @internal */ _tail: ServerResponse | null = null;
  /** @internal responses waiting for 'drain' */ _drainWaiters: ServerResponse[] | null = null;
  /** @internal the connection's last request so far */ _lastSeq = 0;
  /** @internal the request whose upgrade was accepted: the connection is a passthrough ('upgrade' / 'connect'):
   *  Raw records and Drain come to this socket; -1: not upgraded */
  _upgradeSeq = -1;
  /** @internal */ _timer: NodeJS.Timeout | null = null;
  /** @internal */ _timeoutMs = 0;
  /** @internal native's byte counts when the connection closed (Close record); null while it is open */
  _bytes: [number, number] | null = null;
  /** @internal native's addresses(): [remote, remotePort, local, localPort]; null: not asked yet */
  _addrs: [string, number, string, number] | undefined | null = null;
  /** @internal upgraded: native was asked to stop reading */ _paused = false;
  /** @internal upgraded: a write's callback waiting for the Drain record */ _drainCb: Callback | null = null;

  constructor(owner: ConnOwner, connId: number) {
    super();
    this._owner = owner;
    this._connId = connId;
  }

  /**
   * As node's server, whose own 'error' listener on its sockets (until an upgrade) keeps an error on the socket
   * (destroy(err) by a framework's clientError handler, Koa's ctx.req.socket.destroy(err)) from becoming an
   * uncaught exception, while other listeners still hear it. Here without a listener (which would make the listener
   * table every connection): an 'error' nobody listens to is dropped until the upgrade.
   */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error' && this._upgradeSeq < 0 && this.listenerCount('error') === 0) return false;
    return super.emit(event, ...args);
  }

  // Asked of native once, when first read (most handlers never read them): the connection's own local end (a server
  // bound to 0.0.0.0 or :: is reached at one particular address) and its peer.
  private _addresses(): [string, number, string, number] | undefined {
    if (this._addrs === null) this._addrs = this.destroyed ? undefined : this._owner.native.addresses(this._connId);
    return this._addrs;
  }

  get remoteAddress(): string | undefined {
    return this._addresses()?.[0] || undefined;  // '' on a Unix domain socket: undefined, as node's
  }

  get remotePort(): number | undefined {
    const a = this._addresses();
    return a === undefined || a[0] === '' ? undefined : a[1];
  }

  get remoteFamily(): string | undefined {
    return familyOf(this._addresses()?.[0]);
  }

  get localAddress(): string | undefined {
    return this._addresses()?.[2] || undefined;
  }

  get localPort(): number | undefined {
    const a = this._addresses();
    return a === undefined || a[2] === '' ? undefined : a[3];
  }

  get localFamily(): string | undefined {
    return familyOf(this._addresses()?.[2]);
  }

  /** net.Socket's flag for a connection that is still being set up; never the case here. */
  get connecting(): boolean {
    return false;
  }

  get pending(): boolean {
    return false;
  }

  get readyState(): string {
    if (this.destroyed) return 'closed';
    const r = this.readable;
    const w = this.writable;
    return r && w ? 'open' : r ? 'readOnly' : w ? 'writeOnly' : 'closed';
  }

  /** Bytes received on the connection so far, as net.Socket's: request heads and bodies, and after an upgrade the
   *  passthrough's bytes (native counts them as it reads). */
  get bytesRead(): number {
    return this._byteCounts()[0];
  }

  /** Bytes sent on the connection so far: response heads and bodies, and after an upgrade what was written. Unlike
   *  net.Socket's, bytes still queued in native are not counted until they are sent. */
  get bytesWritten(): number {
    return this._byteCounts()[1];
  }

  private _byteCounts(): [number, number] {
    return this._bytes ?? this._owner.native.bytes(this._connId) ?? [0, 0];
  }

  /** The idle timeout set with setTimeout(), as net.Socket's (undefined when none). */
  get timeout(): number | undefined {
    return this._timeoutMs === 0 ? undefined : this._timeoutMs;
  }

  /** The connection's local end as net.Socket's address(): { address, family, port }, {} when unknown. */
  address(): Address | Record<string, never> {
    const address = this.localAddress;
    return address === undefined ? {} : { address, family: familyOf(address)!, port: this.localPort! };
  }

  // An explicit pause of an upgraded socket (the listener's, or pipe()'s for a slow destination) stops native reading
  // at once. Asked only when bytes arrive while paused (_push), the stop would land a native read burst later, up to
  // the cap of bytes queued for JS, all of which this socket would then hold. node's socket stops at its high-water
  // mark; this stops sooner. _read() resumes native when someone reads again.
  override pause(): this {
    if (this._upgradeSeq >= 0 && !this._paused && !this._gone) {
      this._paused = true;
      this._owner.native.pauseBody(this._connId);
    }
    return super.pause();
  }

  override _read(): void {
    // Before an upgrade the request bytes are parsed natively and reach JS as requests: nothing is read from here.
    if (this._paused) {
      this._paused = false;
      if (!this._gone) this._owner.native.resumeBody(this._connId);
    }
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, cb: Callback): void {
    // Before an upgrade raw writes cannot reach the client: native writes the responses (and the answers to bad
    // requests), so they are dropped.
    if (this._upgradeSeq < 0) cb();
    else this._send(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk, cb);
  }

  override _writev(chunks: { chunk: Buffer | string; encoding: BufferEncoding }[], cb: Callback): void {
    if (this._upgradeSeq < 0) {
      cb();
      return;
    }
    const bufs = chunks.map((c) => (typeof c.chunk === 'string' ? Buffer.from(c.chunk, c.encoding) : c.chunk));
    this._send(bufs.length === 1 ? bufs[0] : Buffer.concat(bufs), cb);
  }

  /** @internal upgraded: one rawWrite; the callback runs after the flush, or after the Drain record when native is
   *  full. */
  _send(data: Buffer, cb: Callback): void {
    if (this._gone) {
      cb();  // the client is gone: what is written now is dropped (the Close record destroys this socket)
      return;
    }
    const owner = this._owner;
    const queued = owner.native.rawWrite(this._connId, this._upgradeSeq, data, false);
    owner.queued();
    this._active();
    if (queued > HIGH_WATER_MARK && !owner.native.wantDrain(this._connId)) {
      this._drainCb = cb;
    } else {
      owner.afterFlush(cb);
    }
  }

  override _final(cb: Callback): void {
    if (this._upgradeSeq < 0) {
      // end() before an upgrade: node closes the socket after the data; here the connection closes once its
      // responses are out.
      if (!this._gone) this._owner.destroyConnection(this._connId);
      cb();
      return;
    }
    if (!this._gone) {
      this._owner.native.rawWrite(this._connId, this._upgradeSeq, undefined, true);
      this._owner.queued();
    }
    this._owner.afterFlush(cb);
  }

  override _destroy(err: Error | null, cb: Callback): void {
    this._clearTimer();
    if (this._addrs === null) this._addrs = undefined;
    if (!this._gone) this._owner.destroyConnection(this._connId);
    const pending = this._drainCb;
    this._drainCb = null;
    if (pending) pending();
    cb(err);
  }

  /** node's readStart() (IncomingMessage#_read) calls this to let a paused body flow again. */
  override resume(): this {
    super.resume();
    if (this._upgradeSeq < 0 && !this.destroyed) this._owner.resumeConnection(this._connId);
    return this;
  }

  /** An idle timeout, as net.Socket's: 'timeout' after `ms` without a request, body bytes or writes (0: none). */
  setTimeout(ms: number, cb?: () => void): this {
    if (typeof ms !== 'number' || !(ms >= 0)) {
      throw Object.assign(new RangeError(`The value of "msecs" is out of range. Received ${String(ms)}`),
        { code: 'ERR_OUT_OF_RANGE' });
    }
    if (cb !== undefined) {
      if (ms === 0) this.removeListener('timeout', cb);
      else this.once('timeout', cb);
    }
    this._timeoutMs = ms === Infinity ? 0 : ms;
    this._clearTimer();
    if (this._timeoutMs > 0 && !this.destroyed) {
      this._timer = setTimeout(onTimeout, this._timeoutMs, this);
      this._timer.unref();
    }
    return this;
  }

  /** @internal activity on the connection: restart the idle timer, if one is set. */
  _active(): void {
    if (this._timer !== null) this._timer.refresh();
  }

  /** @internal */
  _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  // Tuning calls that node code makes on sockets; the native core owns these settings.
  setNoDelay(_noDelay?: boolean): this { return this; }
  setKeepAlive(_enable?: boolean, _delay?: number): this { return this; }
  ref(): this { return this; }
  unref(): this { return this; }

  // --- called by the dispatcher ---

  /** @internal an accepted upgrade of request `seq`: from now on this socket is the connection's passthrough. */
  _upgrade(seq: number): void {
    this._upgradeSeq = seq;
    this._addresses();  // asked now: once the connection is gone native no longer knows it
    // As node's server on an upgrade: an error is now the listener's to handle (emit() no longer drops one), the
    // socket is neither paused nor flowing until the listener reads, and a stream that ended both ways closes itself.
    const rs = (this as unknown as { _readableState: { autoDestroy: boolean; flowing: boolean | null } })._readableState;
    rs.flowing = null;
    rs.autoDestroy = true;
    (this as unknown as { _writableState: { autoDestroy: boolean } })._writableState.autoDestroy = true;
  }

  /** @internal upgraded: a Raw record (chunk) or RawEnd (null). */
  _push(chunk: Buffer | null): void {
    if (this.destroyed) return;
    if (chunk !== null) this._active();
    if (!this.push(chunk) && chunk !== null && !this._paused) {
      this._paused = true;
      this._owner.native.pauseBody(this._connId);
    }
  }

  /** @internal upgraded: a Drain record: the write waiting for room may complete. */
  _drain(): void {
    const cb = this._drainCb;
    this._drainCb = null;
    if (cb) cb();
  }

  /** @internal the connection is gone (Close record): 'close' once (after 'end' if the client's FIN came first). */
  _closed(): void {
    // The last counts: native still knows the connection while JS walks the batch with its Close record.
    if (this._bytes === null) this._bytes = this._owner.native.bytes(this._connId) ?? [0, 0];
    this._gone = true;  // _destroy must not ask native to close a connection it already closed
    if (this._rs === null && this._ws === null && this._events === undefined) {
      // Nothing used the stream and nobody ever listened (a hello-world connection): destroy() would make both
      // stream states and schedule a 'close' nobody hears, ~1.4 KB per connection that a scavenge in the middle of
      // a batch of closes finds alive (and V8 then grows its young generation). The states are made later, as
      // destroy() leaves them, if anyone asks (makeStates); here only what _destroy does besides.
      this._rs = this._ws = undefined;
      this._clearTimer();
      if (this._addrs === null) this._addrs = undefined;
      return;
    }
    if (this.destroyed) return;
    if (this._addrs === null) this._addrs = undefined;
    this.destroy();
  }
}

// On the class's own prototype, before Duplex's: what node's stream code reads and (rarely) replaces.
function lazyState(name: '_readableState' | '_writableState', field: '_rs' | '_ws'): void {
  Object.defineProperty(NovaSocket.prototype, name, {
    get(this: StreamStates) {
      if (this[field] == null) makeStates(this);
      return this[field];
    },
    set(this: StreamStates, value: object) {
      this[field] = value;
    },
    configurable: true,
  });
}
if (lazyStates) {
  lazyState('_readableState', '_rs');
  lazyState('_writableState', '_ws');
  // Duplex's constructor sets it per socket; the same for every socket, so here once.
  (NovaSocket.prototype as { allowHalfOpen: boolean }).allowHalfOpen = true;
}

function familyOf(address: string | undefined): string | undefined {
  return address ? (address.includes(':') ? 'IPv6' : 'IPv4') : undefined;
}

function onTimeout(socket: NovaSocket): void {
  // socket._timer stays: activity refreshes it, which arms it again (net.Socket's behaviour).
  if (socket.destroyed) return;
  // As node's server: 'timeout' on the socket, the request, the response and the server; with no listener
  // anywhere the connection closes. After an upgrade the socket is the listener's: 'timeout' only, as net.Socket.
  const heard = socket.emit('timeout');
  if (socket._upgradeSeq >= 0) return;
  if (!socket._owner.socketTimeout(socket._connId) && !heard) socket.destroy();
}
