// NovaSocket: what JS sees of one connection (req.socket, res.socket, 'connection', 'clientError'): a real
// stream.Duplex, one per connection, the same object for every request on it. The native core owns the real
// socket and does the parsing and writing, so this Duplex carries no bytes itself: bytes written to it are dropped
// (native answers clients on its own), it never reads, and it ends ('close') when the connection is gone.
import { Duplex } from 'node:stream';

/** What a socket needs from the dispatcher that owns its connection. */
export interface SocketOwner {
  remoteAddress(connId: number): [string, number] | undefined;
  localAddress(): { address: string; family: string; port: number } | null;
  destroyConnection(connId: number): void;
  /** node's readStart(): a paused body (or a bodiless request someone reads) may go on. */
  resumeConnection(connId: number): void;
  /** The idle timeout set with setTimeout() expired: 'timeout' on the request, response and server. */
  socketTimeout(connId: number): boolean;
}

export class NovaSocket extends Duplex {
  /** Node sets this on TLS sockets only. */
  readonly encrypted: undefined = undefined;
  /** @internal */ _owner: SocketOwner;
  /** @internal */ _connId: number;
  /** @internal */ _peer: [string, number] | undefined | null = null;  // null: not asked yet
  /** @internal */ _timeoutMs = 0;
  /** @internal */ _timer: NodeJS.Timeout | null = null;
  /** @internal native reported the connection closed */ _gone = false;

  constructor(owner: SocketOwner, connId: number) {
    super({ allowHalfOpen: true, emitClose: true, autoDestroy: false });
    this._owner = owner;
    this._connId = connId;
    // As node's server does for its sockets: an error on the socket (destroy(err) by a framework's clientError
    // handler, Koa's ctx.req.socket.destroy(err)) never becomes an uncaught exception; other listeners still hear it.
    this.on('error', ignoreSocketError);
  }

  private _remote(): [string, number] | undefined {
    if (this._peer === null) this._peer = this.destroyed ? undefined : this._owner.remoteAddress(this._connId);
    return this._peer;
  }

  get remoteAddress(): string | undefined {
    return this._remote()?.[0];
  }

  get remotePort(): number | undefined {
    return this._remote()?.[1];
  }

  get remoteFamily(): string | undefined {
    const a = this._remote()?.[0];
    return a === undefined ? undefined : a.includes(':') ? 'IPv6' : 'IPv4';
  }

  get localAddress(): string | undefined {
    return this._owner.localAddress()?.address;
  }

  get localPort(): number | undefined {
    return this._owner.localAddress()?.port;
  }

  get localFamily(): string | undefined {
    return this._owner.localAddress()?.family;
  }

  /** net.Socket's flag for a connection that is still being set up; never the case here. */
  get connecting(): boolean {
    return false;
  }

  get pending(): boolean {
    return false;
  }

  get readyState(): string {
    return this.destroyed ? 'closed' : 'open';
  }

  address(): { address: string; family: string; port: number } | Record<string, never> {
    return this._owner.localAddress() ?? {};
  }

  override _read(): void {
    // The request bytes are parsed natively and reach JS as requests: nothing is ever read from here.
  }

  override _write(_chunk: unknown, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    // Raw writes cannot reach the client: native writes the responses (and the answers to bad requests).
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    // end(): node closes the socket after the data; here the connection closes once its responses are out.
    if (!this._gone) this._owner.destroyConnection(this._connId);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this._clearTimer();
    if (this._peer === null) this._peer = undefined;
    if (!this._gone) this._owner.destroyConnection(this._connId);
    cb(err);
  }

  /** node's readStart() (IncomingMessage#_read) calls this to let a paused body flow again. */
  override resume(): this {
    super.resume();
    if (!this.destroyed) this._owner.resumeConnection(this._connId);
    return this;
  }

  /** An idle timeout, as net.Socket's: 'timeout' after `ms` without a request, body bytes or response writes. */
  setTimeout(ms: number, cb?: () => void): this {
    if (typeof ms !== 'number' || !(ms >= 0)) {
      throw Object.assign(new RangeError(`The value of "msecs" is out of range. Received ${String(ms)}`),
        { code: 'ERR_OUT_OF_RANGE' });
    }
    if (cb !== undefined) {
      if (ms === 0) this.removeListener('timeout', cb);
      else this.once('timeout', cb);
    }
    this._timeoutMs = ms;
    this._clearTimer();
    if (ms > 0 && !this.destroyed) {
      this._timer = setTimeout(onTimeout, ms, this);
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

  /** @internal the connection is gone (Close record): 'close' once. */
  _closed(): void {
    if (this.destroyed) return;
    if (this._peer === null) this._peer = undefined;
    this._gone = true;  // _destroy must not ask native to close a connection it already closed
    this.destroy();
  }
}

function ignoreSocketError(): void {}

function onTimeout(socket: NovaSocket): void {
  socket._timer = null;
  if (socket.destroyed) return;
  // As node's server: 'timeout' on the socket, the request, the response and the server; with no listener
  // anywhere the connection closes.
  const heard = socket.emit('timeout');
  if (!socket._owner.socketTimeout(socket._connId) && !heard) socket.destroy();
}
