// A light stand-in for net.Socket: the native core owns the real socket, JS only gets this view of one
// connection (req.socket, res.socket, the second argument of 'clientError'). One per connection, made on first
// access; it emits 'close' when the connection is gone. Reading from or writing to it is not possible.
import { EventEmitter } from 'node:events';

/** What a socket needs from the dispatcher that owns its connection. */
export interface SocketOwner {
  remoteAddress(connId: number): [string, number] | undefined;
  localAddress(): { address: string; family: string; port: number } | null;
  destroyConnection(connId: number): void;
}

export class NovaSocket extends EventEmitter {
  /** Node sets this on TLS sockets only. */
  readonly encrypted: undefined = undefined;
  destroyed = false;
  /** @internal */ _owner: SocketOwner;
  /** @internal */ _connId: number;
  /** @internal */ _peer: [string, number] | undefined | null = null;  // null: not asked yet

  constructor(owner: SocketOwner, connId: number) {
    super();
    this._owner = owner;
    this._connId = connId;
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

  get readable(): boolean {
    return !this.destroyed;
  }

  get writable(): boolean {
    return !this.destroyed;
  }

  address(): { address: string; family: string; port: number } | Record<string, never> {
    return this._owner.localAddress() ?? {};
  }

  /** Closes the connection once the responses already queued on it are out. */
  destroy(_error?: Error): this {
    if (!this.destroyed) this._owner.destroyConnection(this._connId);
    return this;
  }

  /** The native core answers and closes on its own; kept so that node-style clientError handlers run. */
  end(_data?: unknown, _encoding?: unknown, cb?: () => void): this {
    if (typeof _data === 'function') cb = _data as () => void;
    else if (typeof _encoding === 'function') cb = _encoding as () => void;
    if (cb) process.nextTick(cb);
    return this;
  }

  /** Writing raw bytes is not possible through this stand-in; returns false and writes nothing. */
  write(_data?: unknown, _encoding?: unknown, cb?: (err?: Error) => void): boolean {
    if (typeof _encoding === 'function') cb = _encoding as (err?: Error) => void;
    if (cb) process.nextTick(cb);
    return false;
  }

  // Tuning calls that node code makes on sockets; the native core owns these settings.
  setTimeout(_ms?: number, _cb?: () => void): this { return this; }
  setNoDelay(_noDelay?: boolean): this { return this; }
  setKeepAlive(_enable?: boolean, _delay?: number): this { return this; }
  ref(): this { return this; }
  unref(): this { return this; }
  cork(): void {}
  uncork(): void {}

  /** @internal the connection is gone: emit 'close' once. */
  _closed(): void {
    if (this.destroyed) return;
    if (this._peer === null) this._peer = undefined;
    this.destroyed = true;
    this.emit('close', false);
  }
}
