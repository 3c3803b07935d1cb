// UpgradeSocket: the connection handed to JS by 'upgrade' or 'connect', a real stream.Duplex over native's
// passthrough. Reads are the client's bytes (Raw records; RawEnd ends them), with flow control back to native
// (pauseBody/resumeBody); writes go out verbatim (rawWrite) with backpressure (a write's callback waits for the
// Drain record once the connection holds more than the high-water mark). 'close' comes with the Close record.
import { Duplex } from 'node:stream';
import { HIGH_WATER_MARK } from './options';  // write() callbacks wait past it, as for responses

/** What the socket needs from the dispatcher that owns its connection (lib/dispatch.ts). */
export interface UpgradeOwner {
  readonly native: {
    rawWrite(connId: number, seq: number, chunk: string | Uint8Array | undefined, end: boolean): number;
    wantDrain(connId: number): boolean;
    pauseBody(connId: number): void;
    resumeBody(connId: number): void;
  };
  /** Something was handed to native: flush it (end of batch, or a microtask). */
  queued(): void;
  /** Runs cb after the next flush. */
  afterFlush(cb: () => void): void;
  /** Closes the connection (native abort of the exchange). */
  abortUpgraded(connId: number, seq: number): void;
  remoteAddress(connId: number): [string, number] | undefined;
  localAddress(): { address: string; family: string; port: number } | null;
}

type Callback = (err?: Error | null) => void;

export class UpgradeSocket extends Duplex {
  /** Node sets this on TLS sockets only. */
  readonly encrypted: undefined = undefined;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly remoteFamily: string | undefined;
  bytesRead = 0;
  bytesWritten = 0;
  /** @internal */ _owner: UpgradeOwner;
  /** @internal */ _connId: number;
  /** @internal */ _seq: number;
  /** @internal native was asked to stop reading */ _paused = false;
  /** @internal the connection is gone (Close record) */ _gone = false;
  /** @internal a write's callback waiting for the Drain record */ _drainCb: Callback | null = null;
  /** @internal */ _timeoutMs = 0;
  /** @internal */ _timer: NodeJS.Timeout | null = null;

  constructor(owner: UpgradeOwner, connId: number, seq: number) {
    // allowHalfOpen as node:http's sockets: the client's FIN ends the readable side only; ws and tunnels end ours.
    super({ allowHalfOpen: true });
    this._owner = owner;
    this._connId = connId;
    this._seq = seq;
    // Asked now: once the connection is gone native no longer knows it.
    const peer = owner.remoteAddress(connId);
    this.remoteAddress = peer?.[0];
    this.remotePort = peer?.[1];
    this.remoteFamily = peer === undefined ? undefined : peer[0].includes(':') ? 'IPv6' : 'IPv4';
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

  address(): { address: string; family: string; port: number } | Record<string, never> {
    return this._owner.localAddress() ?? {};
  }

  /** The native core owns the socket's options; accepted so that node code calling them runs. */
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  setKeepAlive(_enable?: boolean, _delay?: number): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  /** Inactivity timeout as in net.Socket: 'timeout' after ms without bytes either way (0 turns it off). */
  setTimeout(ms: number, cb?: () => void): this {
    this._timeoutMs = Number.isFinite(ms) && ms > 0 ? ms : 0;
    if (cb) {
      if (this._timeoutMs === 0) this.removeListener('timeout', cb);
      else this.once('timeout', cb);
    }
    this._activity();
    return this;
  }

  get timeout(): number | undefined {
    return this._timeoutMs === 0 ? undefined : this._timeoutMs;
  }

  /** @internal restarts the inactivity timer. */
  _activity(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    if (this._timeoutMs > 0 && !this.destroyed) {
      this._timer = setTimeout(() => {
        this._timer = null;
        this.emit('timeout');
      }, this._timeoutMs);
      this._timer.unref();
    }
  }

  override _read(): void {
    if (this._paused) {
      this._paused = false;
      if (!this._gone) this._owner.native.resumeBody(this._connId);
    }
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, cb: Callback): void {
    this._send(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk, cb);
  }

  override _writev(chunks: { chunk: Buffer | string; encoding: BufferEncoding }[], cb: Callback): void {
    const bufs = chunks.map((c) => (typeof c.chunk === 'string' ? Buffer.from(c.chunk, c.encoding) : c.chunk));
    this._send(bufs.length === 1 ? bufs[0] : Buffer.concat(bufs), cb);
  }

  /** @internal one rawWrite; the callback runs after the flush, or after the Drain record when native is full. */
  _send(data: Buffer, cb: Callback): void {
    if (this._gone) {
      cb();  // the client is gone: what is written now is dropped (the Close record destroys this socket)
      return;
    }
    const owner = this._owner;
    const queued = owner.native.rawWrite(this._connId, this._seq, data, false);
    owner.queued();
    this.bytesWritten += data.byteLength;
    this._activity();
    if (queued > HIGH_WATER_MARK && !owner.native.wantDrain(this._connId)) {
      this._drainCb = cb;
    } else {
      owner.afterFlush(cb);
    }
  }

  override _final(cb: Callback): void {
    if (!this._gone) {
      this._owner.native.rawWrite(this._connId, this._seq, undefined, true);
      this._owner.queued();
    }
    this._owner.afterFlush(cb);
  }

  override _destroy(err: Error | null, cb: Callback): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    if (!this._gone) this._owner.abortUpgraded(this._connId, this._seq);
    const pending = this._drainCb;
    this._drainCb = null;
    if (pending) pending();
    cb(err);
  }

  // --- called by the dispatcher ---

  /** @internal a Raw record (chunk) or RawEnd (null). */
  _push(chunk: Buffer | null): void {
    if (this.destroyed) return;
    if (chunk !== null) {
      this.bytesRead += chunk.byteLength;
      this._activity();
    }
    if (!this.push(chunk) && chunk !== null && !this._paused) {
      this._paused = true;
      this._owner.native.pauseBody(this._connId);
    }
  }

  /** @internal a Drain record: the write waiting for room may complete. */
  _drain(): void {
    const cb = this._drainCb;
    this._drainCb = null;
    if (cb) cb();
  }

  /** @internal the connection is gone (Close record): 'close' (after 'end' if the client's FIN came before). */
  _closed(): void {
    this._gone = true;
    if (this.destroyed) return;
    this.destroy();
  }
}
