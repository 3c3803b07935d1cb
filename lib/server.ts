// Server: the node:http-shaped lifecycle (createServer, listen, close, events) around one native Server. The
// native object is made at listen() and dropped when native reports ServerClosed, so a closed Server can listen
// again. Subclasses (tests) can override _createNative() to run the whole JS layer against a fake addon.
import { EventEmitter } from 'node:events';
import { binding } from './binding';
import { ListenFlag, closeReasons, ReqFlag } from './contract';
import type { CloseReason, NativeServer, NativeServerOptions, NativeStats, OnBatch } from './contract';
import { Dispatcher } from './dispatch';
import type { DispatchHost } from './dispatch';
import { lookup } from 'node:dns';
import { chmodSync, statSync, unlinkSync } from 'node:fs';
import { isIP } from 'node:net';
import {
  badPort, handlerFailed, listenError, invalidArgType, invalidArgValue, serverAlreadyListening, serverNotRunning,
} from './errors';
import type { ErrorWithCode } from './errors';
import { checkTimeoutRelation, defaults, resolveOptions, toNativeOptions, validators } from './options';
import type { Backend, IoModel, NumericOption, ResolvedOptions, ServerOptions } from './options';
import type { IncomingMessage } from './request';
import { failResponse } from './response';
import type { ServerResponse } from './response';
import type { NovaSocket } from './socket';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => unknown;

/** listen()'s options: node's net.ListenOptions. `path` (a Unix domain socket; not on Windows), `fd` (an open
 *  socket; not on Windows), `ipv6Only`, `reusePort` (SO_REUSEPORT; not on Windows), `readableAll`/`writableAll`
 *  (with `path`), `exclusive` and `signal` work; `handle` is refused (ERR_INVALID_ARG_VALUE naming the option). */
export interface ListenOptions {
  port?: number | string;
  host?: string;
  backlog?: number;
  exclusive?: boolean;
  signal?: AbortSignal;
  path?: string;
  fd?: number;
  ipv6Only?: boolean;
  reusePort?: boolean;
  readableAll?: boolean;
  writableAll?: boolean;
}

export interface AddressInfo {
  address: string;
  family: string;
  port: number;
}

export type ServerStats = NativeStats;
export type ClientError = ErrorWithCode & { status: number };

const DEFAULT_BACKLOG = 511;

type State = 'idle' | 'listening' | 'closing';

function emitListeningNT(server: Server): void {
  server.emit('listening');
}

function emitErrorNT(server: Server, err: Error): void {
  server.emit('error', err);
}

function emitCloseNT(server: Server): void {
  server.emit('close');
}

function parsePort(port: unknown): number {
  if (port === undefined || port === null) return 0;
  if (typeof port === 'string') {
    const trimmed = port.trim();
    if (trimmed === '' || !/^[0-9]+$/.test(trimmed)) throw invalidArgValue('port', 'a TCP port number', port);
    port = Number(trimmed);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 0xffff) throw badPort(port);
  return port;
}

/** node's isPipeName(): a string that is not a number >= 0 names a Unix domain socket (listen('/tmp/s.sock')). */
function isPipeName(v: unknown): v is string {
  return typeof v === 'string' && !(Number(v) >= 0);
}

/** listen({ path }): a Unix domain socket's path, checked (node on Windows means a named pipe, which is not here). */
function checkPath(path: unknown): string {
  if (typeof path !== 'string') throw invalidArgType('options.path', 'of type string', path);
  if (path === '' || path.includes('\0')) {
    throw invalidArgValue('options.path', 'a non-empty file system path without NUL bytes', path, 'option');
  }
  if (process.platform === 'win32') {
    throw invalidArgValue('options.path', 'undefined on Windows (named pipes and AF_UNIX are not supported there)',
      path, 'option');
  }
  return path;
}

/** listen({ fd }): an open socket's descriptor (POSIX; a Windows SOCKET is no fd). */
function checkFd(fd: unknown): number {
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw invalidArgValue('options.fd', 'a file descriptor (an integer >= 0)', fd, 'option');
  }
  if (process.platform === 'win32') {
    throw invalidArgValue('options.fd', 'undefined on Windows (listening on a descriptor is POSIX only)', fd,
      'option');
  }
  return fd;
}

/** A boolean listen() option: true, or false when not given. */
function flag(o: Record<string, unknown>, name: string): boolean {
  const v = o[name];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw invalidArgType(`options.${name}`, 'of type boolean', v);
  return v;
}

/** uv_pipe_chmod's rule: add the bits to the socket file's mode. */
function chmodAll(path: string, bits: number): void {
  const mode = statSync(path).mode;
  if ((mode & bits) !== bits) chmodSync(path, mode | bits);
}

function unlinkSocketFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone (removed by someone else): nothing to clean up
  }
}

function zeroStats(): NativeStats {
  const closes = {} as Record<CloseReason, number>;
  for (const reason of closeReasons) closes[reason] = 0;
  return { accepted: 0, active: 0, idle: 0, requests: 0, closes };
}

function onNewListener(this: Server, event: string | symbol): void {
  if (event === 'checkContinue') this._setCheckContinue(true);
}

function onRemoveListener(this: Server, event: string | symbol): void {
  if (event === 'checkContinue') this._setCheckContinue(this.listenerCount('checkContinue') > 0);
}

/**
 * An HTTP/1.1 server whose sockets, parsing, keep-alive and timeouts live in native code.
 *
 * Events: 'request' (req, res), 'checkContinue' and 'checkExpectation' (req, res: as node:http's, see
 * _onExpect), 'listening', 'close', 'error' (listen failures), 'clientError' (err, socket;
 * informational: native already answered the client), and 'handlerError' (err, req, res): a request listener
 * threw or its promise rejected. node:http would crash the process there; nova-http answers 500 (or closes the
 * connection when the head was already sent), keeps serving, and reports the error to 'handlerError' listeners;
 * without those, to 'error' listeners as an Error with code ERR_NOVA_HANDLER_FAILED whose cause is the original;
 * without either, on stderr (console.error).
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Server extends EventEmitter implements DispatchHost {
  /** @internal */ _opts: ResolvedOptions;
  /** @internal */ _native: NativeServer | null = null;
  /** @internal */ _d: Dispatcher | null = null;
  /** @internal */ _addr: AddressInfo | null = null;
  /** @internal listening on a Unix domain socket: its path (address() returns it; the file goes at close) */
  _path: string | null = null;
  /** @internal */ _state: State = 'idle';
  /** @internal */ _unref = false;
  /** @internal */ _lastStats: NativeStats | null = null;
  /** @internal */ _warned = false;
  /** @internal headersTimeout was given (else it follows requestTimeout as node's default does) */
  _headersTimeoutSet = false;
  /** Socket inactivity timeout of node:http (server.setTimeout()), for new connections; 0: none. */
  timeout = 0;
  /** @internal a 'checkContinue' listener exists: native holds Expect: 100-continue bodies for JS (native option
   *  checkContinue, kept in step with the listeners, also on a listening server) */
  _checkContinue = false;
  /** As node:http's: req.headers holds at most this many fields (req.rawHeaders keeps them all, and trailers are
   *  not limited); null or 0: no limit beyond the parser's own (100 field lines). */
  maxHeadersCount: number | null = null;

  constructor(options?: ServerOptions | RequestListener | null, handler?: RequestListener) {
    super();
    if (typeof options === 'function') {
      handler = options;
      options = undefined;
    }
    this._opts = resolveOptions(options);
    this._headersTimeoutSet = (options as ServerOptions | undefined)?.headersTimeout !== undefined;
    if (handler !== undefined) {
      if (typeof handler !== 'function') throw invalidArgType('requestListener', 'of type function', handler);
      this.on('request', handler);
    }
    this._trackListeners();
  }

  /** @internal Native learns whether anyone listens for 'checkContinue' (it must then not answer 100 Continue
   *  itself): through 'newListener' (before a listener is added) and 'removeListener' (after it is gone). */
  _trackListeners(): void {
    if (!this.listeners('newListener').includes(onNewListener)) this.on('newListener', onNewListener);
    if (!this.listeners('removeListener').includes(onRemoveListener)) this.on('removeListener', onRemoveListener);
  }

  /** Also keeps native's view of the 'checkContinue' listeners (removeAllListeners() drops the trackers too). */
  override removeAllListeners(event?: string | symbol): this {
    if (event === undefined) super.removeAllListeners();
    else super.removeAllListeners(event);
    this._setCheckContinue(this.listenerCount('checkContinue') > 0);
    this._trackListeners();
    return this;
  }

  /** @internal */
  _setCheckContinue(on: boolean): void {
    if (on === this._checkContinue) return;
    this._checkContinue = on;
    this._native?.configure?.(toNativeOptions(this._opts, on));
  }

  /** Makes the native server; tests override this to inject a fake. */
  protected _createNative(options: NativeServerOptions, onBatch: OnBatch): NativeServer {
    return new binding.Server(options, onBatch);
  }

  // --- options as properties (node:http has the same names) ---
  get keepAliveTimeout(): number { return this._opts.keepAliveTimeout; }
  set keepAliveTimeout(v: number) { this._set('keepAliveTimeout', v); }
  get headersTimeout(): number { return this._opts.headersTimeout; }
  set headersTimeout(v: number) { this._set('headersTimeout', v); }
  get requestTimeout(): number { return this._opts.requestTimeout; }
  set requestTimeout(v: number) { this._set('requestTimeout', v); }
  get maxRequestsPerSocket(): number { return this._opts.maxRequestsPerSocket; }
  set maxRequestsPerSocket(v: number) { this._set('maxRequestsPerSocket', v); }
  get maxHeaderSize(): number { return this._opts.maxHeaderSize; }
  set maxHeaderSize(v: number) { this._set('maxHeaderSize', v); }
  get maxConnections(): number { return this._opts.maxConnections; }
  set maxConnections(v: number) { this._set('maxConnections', v); }
  get ioModel(): IoModel { return this._opts.ioModel; }
  get backend(): Backend | undefined { return this._opts.backend; }
  get threads(): number { return this._opts.threads; }
  get listening(): boolean { return this._state === 'listening'; }

  /** @internal Options are handed to native at listen(); a change after that applies from the next listen(). */
  _set(name: NumericOption, value: unknown): void {
    const v = validators[name](value);
    this._opts = { ...this._opts, [name]: v };
    if (name === 'headersTimeout') {
      this._headersTimeoutSet = true;
    } else if (name === 'requestTimeout' && !this._headersTimeoutSet) {
      // node's rule for a headersTimeout nobody set: min(60 s, requestTimeout) (Fastify sets requestTimeout this way).
      this._opts.headersTimeout = v > 0 ? Math.min(defaults.headersTimeout, v) : defaults.headersTimeout;
    }
    const native = this._native;
    if (native === null) return;
    if (typeof native.configure === 'function') {
      native.configure(toNativeOptions(this._opts, this._checkContinue));
    } else if (!this._warned) {
      this._warned = true;
      process.emitWarning(`nova-http: server.${name} was set after listen(); it applies from the next listen(). ` +
        'Pass it to createServer() instead.', { code: 'NOVA_HTTP_OPTION_AFTER_LISTEN' });
    }
  }

  // --- lifecycle ---

  // net.Server's overloads (so that code typed for node:http servers accepts this one), plus a port as a string.
  listen(port?: number | string, hostname?: string, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number | string, hostname?: string, listeningListener?: () => void): this;
  listen(port?: number | string, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number | string, listeningListener?: () => void): this;
  listen(path: string, backlog?: number, listeningListener?: () => void): this;
  listen(path: string, listeningListener?: () => void): this;
  listen(options: ListenOptions, listeningListener?: () => void): this;
  listen(handle: any, backlog?: number, listeningListener?: () => void): this;  // eslint-disable-line @typescript-eslint/no-explicit-any
  listen(handle: any, listeningListener?: () => void): this;  // eslint-disable-line @typescript-eslint/no-explicit-any
  listen(listeningListener?: () => void): this;
  listen(...args: unknown[]): this {
    const cb = typeof args[args.length - 1] === 'function' ? args.pop() as () => void : undefined;
    let port: unknown;
    let host: unknown;
    let backlog: unknown;
    let signal: AbortSignal | undefined;
    let path: string | undefined;
    let fd = -1;
    let flags = 0;
    let mode = 0;
    const first = args[0];
    if (first !== null && typeof first === 'object') {
      const o = first as ListenOptions & Record<string, unknown>;
      // A handle object (a net.Server's or a socket's) stays node's own: sharing it would close it twice. Refused.
      if (o.handle !== undefined || o._handle !== undefined) {
        throw invalidArgValue('options.handle', 'undefined (pass { fd } to listen on an open socket)',
          o.handle ?? o._handle, 'option');
      }
      if (o.fd !== undefined && o.fd !== null) fd = checkFd(o.fd);
      if (o.path !== undefined && o.path !== null) {
        if ((o.port !== undefined && o.port !== null) || fd >= 0) {
          throw invalidArgValue('options.path', 'undefined when options.port is given (a socket is TCP or a path)',
            o.path, 'option');
        }
        path = checkPath(o.path);
      }
      if (flag(o, 'ipv6Only')) flags |= ListenFlag.Ipv6Only;
      if (flag(o, 'reusePort')) {
        if (process.platform === 'win32') {
          throw invalidArgValue('options.reusePort', 'false or undefined on Windows (it has no SO_REUSEPORT)', true,
            'option');
        }
        flags |= ListenFlag.ReusePort;
      }
      // As node: the socket file's mode gets read (write) permission for everyone; nothing for TCP.
      if (flag(o, 'readableAll')) mode |= 0o444;
      if (flag(o, 'writableAll')) mode |= 0o222;
      // exclusive: the listener is never shared with cluster workers, which is what exclusive: true asks for.
      if (o.exclusive !== undefined && typeof o.exclusive !== 'boolean') {
        throw invalidArgType('options.exclusive', 'of type boolean', o.exclusive);
      }
      if (o.signal !== undefined) {
        const sig = o.signal as AbortSignal;
        if (sig === null || typeof sig !== 'object' || typeof sig.addEventListener !== 'function' ||
            typeof sig.aborted !== 'boolean') {
          throw invalidArgType('options.signal', 'an instance of AbortSignal', o.signal);
        }
        signal = sig;
      }
      ({ port, host, backlog } = o);
    } else if (isPipeName(first)) {
      path = checkPath(first);  // listen(path[, backlog][, cb])
      backlog = args[1];
    } else {
      port = first;
      if (typeof args[1] === 'string') {
        host = args[1];
        backlog = args[2];
      } else {
        backlog = args[1];
      }
    }
    const p = parsePort(port);
    if (host !== undefined && host !== null && typeof host !== 'string') {
      throw invalidArgType('host', 'of type string', host);
    }
    const b = typeof backlog === 'number' && Number.isInteger(backlog) && backlog >= 0 ? backlog : DEFAULT_BACKLOG;
    if (this._state !== 'idle') throw serverAlreadyListening();
    checkTimeoutRelation(this._opts.headersTimeout, this._opts.requestTimeout);
    if (cb) this.once('listening', cb);

    // '' = every interface: native tries the IPv6 wildcard (dual-stack) first, then IPv4, like node:http.
    // Host names are resolved by native (getaddrinfo, synchronously), so address() works right after listen().
    if (path !== undefined || fd >= 0) this._bind('', 0, b, path ?? '', flags, mode, fd);
    else this._bind(typeof host === 'string' ? host : '', p, b, '', flags, 0, -1);
    if (signal !== undefined && (this._state as State) === 'listening') {
      // As node: an aborted signal closes the server (at once if it is aborted already).
      if (signal.aborted) this.close();
      else signal.addEventListener('abort', () => { if (this._state === 'listening') this.close(); }, { once: true });
    }
    return this;
  }

  /** @internal binds now; a failure is emitted as 'error' on the next tick, as node does. */
  _bind(host: string, port: number, backlog: number, path: string, flags: number, mode: number, fd: number): void {
    const d = new Dispatcher(this);
    const native = this._createNative(toNativeOptions(this._opts, this._checkContinue), d.onBatch);
    d.native = native;
    if (this._unref) native.unref();
    try {
      this._addr = native.listen(host, port, backlog, path, flags, fd);
    } catch (err) {
      const e = err as ErrorWithCode;
      if (fd >= 0) {
        process.nextTick(emitErrorNT, this, typeof e.code === 'string' ? listenError(e.code, null, 0) : err);
      } else if (path !== '') {
        process.nextTick(emitErrorNT, this, typeof e.code === 'string' ? listenError(e.code, path, -1) : err);
      } else if (e.code === 'EADDRNOTAVAIL' && host !== '' && isIP(host) === 0) {
        // native's getaddrinfo found nothing, or found an address that is not here: node says which.
        lookup(host, (lookupErr) => emitErrorNT(this, lookupErr ?? listenError(e.code!, host, port)));
      } else {
        process.nextTick(emitErrorNT, this, typeof e.code === 'string' ? listenError(e.code, host, port) : err);
      }
      return;
    }
    this._native = native;
    this._d = d;
    this._path = path === '' ? null : path;
    this._state = 'listening';
    if (mode !== 0) {
      try {
        chmodAll(path, mode);
      } catch (err) {
        this.close();  // as node: the listener goes and the error is thrown
        throw err;
      }
    }
    process.nextTick(emitListeningNT, this);
  }

  /** { address, family, port } while listening, the path of a Unix domain socket, else null (as node's). */
  address(): AddressInfo | string | null {
    if (this._state !== 'listening') return null;
    // A Unix domain socket given as an fd: its path (native reports it with an empty family); not removed at close.
    return this._path ?? (this._addr!.family === '' ? this._addr!.address : this._addr);
  }

  /**
   * Stops accepting, closes idle connections, lets in-flight responses finish (with Connection: close), then
   * emits 'close'. Like node, `cb` gets ERR_SERVER_NOT_RUNNING when the server was not listening.
   */
  close(cb?: (err?: Error) => void): this {
    switch (this._state) {
      case 'listening':
        this._state = 'closing';
        if (cb) this.once('close', cb);
        this._native!.close();
        break;
      case 'closing':
        if (cb) this.once('close', cb);
        break;
      default:
        if (cb) this.once('close', () => cb(serverNotRunning()));
        process.nextTick(emitCloseNT, this);
    }
    return this;
  }

  closeIdleConnections(): void {
    this._native?.closeIdle();
  }

  closeAllConnections(): void {
    this._native?.closeAll();
  }

  /** The number of open connections, as net.Server's (asynchronous, like node's). */
  getConnections(cb: (err: Error | null, count: number) => void): this {
    process.nextTick(cb, null, this.stats().active);
    return this;
  }

  /** Deprecated in net.Server (use getConnections()): the number of open connections. */
  get connections(): number {
    return this.stats().active;
  }

  /** Counters from native: connections accepted/active/idle, requests, and why connections closed. */
  stats(): ServerStats {
    return this._native?.stats() ?? this._lastStats ?? zeroStats();
  }

  ref(): this {
    this._unref = false;
    this._native?.ref();
    return this;
  }

  unref(): this {
    this._unref = true;
    this._native?.unref();
    return this;
  }

  /** node:http's socket inactivity timeout: every new connection gets it (socket.setTimeout); 'timeout' is
   *  emitted on the request, the response and the server, and with no listener the connection closes. */
  setTimeout(ms?: number, cb?: () => void): this {
    if (typeof ms === 'number') this.timeout = ms;
    if (typeof cb === 'function') this.on('timeout', cb);
    return this;
  }

  // --- called by the dispatcher ---

  /** @internal Runs the 'request' listeners directly (not emit()) to see the promises async handlers return. */
  _onRequest(req: IncomingMessage, res: ServerResponse): void {
    // EventEmitter's own storage: one function, or an array when there are several listeners.
    const listeners = (this as unknown as { _events: Record<string, unknown> })._events.request;
    if (listeners === undefined) return;
    if (typeof listeners === 'function') {
      this._run(listeners as RequestListener, req, res);
    } else {
      for (const fn of (listeners as RequestListener[]).slice()) if (!this._run(fn, req, res)) break;
    }
  }

  /**
   * @internal A request with an Expect field, as node:http treats it (HTTP/1.1 only; native flags it):
   * 100-continue with a 'checkContinue' listener -> 'checkContinue' (the listener calls writeContinue() or answers;
   * native holds the body until then); without one -> 'request' (native sent the 100, or, if the listener left
   * after native held the body, writeContinue() now). Any other expectation -> 'checkExpectation', or without a
   * listener 417 Expectation Failed. Listeners run like 'request' ones: a throw or rejection is a handler failure.
   */
  _onExpect(req: IncomingMessage, res: ServerResponse): void {
    const flags = req._flags;
    const r = res as unknown as { _expect_continue: boolean; _sent100: boolean };
    if (flags & ReqFlag.ExpectContinue) {
      r._expect_continue = true;
      const held = (flags & ReqFlag.ContinueHeld) !== 0;
      // (with a body and not held, native answered the 100 before the listener came: the request goes on as usual)
      if ((held || !(flags & ReqFlag.HasBody)) && this.listenerCount('checkContinue') > 0) {
        this._emitHandler('checkContinue', req, res);
        return;
      }
      if (held) res.writeContinue();
      else if (flags & ReqFlag.HasBody) r._sent100 = true;
      this._onRequest(req, res);
      return;
    }
    if (this.listenerCount('checkExpectation') > 0) {
      this._emitHandler('checkExpectation', req, res);
    } else {
      res.writeHead(417);
      res.end();
    }
  }

  /** @internal Runs an event's listeners with (req, res) as 'request' ones run. */
  _emitHandler(event: string, req: IncomingMessage, res: ServerResponse): void {
    for (const fn of this.rawListeners(event) as RequestListener[]) if (!this._run(fn, req, res)) break;
  }

  /** @internal */
  _run(fn: RequestListener, req: IncomingMessage, res: ServerResponse): boolean {
    try {
      const ret = fn.call(this, req, res) as { then?: unknown } | undefined;
      if (ret != null && typeof ret.then === 'function') {
        (ret as PromiseLike<unknown>).then(undefined, (err: unknown) => {
          try {
            this._handlerFailed(err, req, res);
          } catch (e) {
            process.nextTick(() => { throw e; });
          }
        });
      }
      return true;
    } catch (err) {
      this._handlerFailed(err, req, res);
      return false;
    }
  }

  /**
   * @internal A request listener threw or rejected. 'handlerError' listeners hear of it first and may answer
   * the request themselves (a custom error page); when none of them ended the response, the client gets a 500 +
   * close (or the connection closes when the head was already sent). Without 'handlerError' listeners the error
   * goes to 'error' listeners wrapped in an Error with code ERR_NOVA_HANDLER_FAILED (cause: the original), else to
   * stderr. Never a crash.
   */
  _handlerFailed(err: unknown, req: IncomingMessage, res: ServerResponse): void {
    if (this.listenerCount('handlerError') > 0) {
      try {
        this.emit('handlerError', err, req, res);
      } finally {
        if (!res.writableEnded) failResponse(res);
      }
      return;
    }
    failResponse(res);
    if (this.listenerCount('error') > 0) {
      this.emit('error', handlerFailed(err, req.method, req.url));
    } else {
      console.error(`nova-http: the request handler for ${req.method} ${req.url} failed; the client got a 500 ` +
        '(or a closed connection if the response had started). Listen for "handlerError" on the server to ' +
        'handle this yourself.\n', err);
    }
  }

  /** @internal */
  _onClientError(err: ErrorWithCode, socket: NovaSocket): void {
    this.emit('clientError', err, socket);
  }

  /** @internal an accepted protocol switch; a listener that throws surfaces as an uncaught exception, as in node. */
  _onUpgrade(event: 'upgrade' | 'connect', req: IncomingMessage, socket: NovaSocket, head: Buffer): void {
    this.emit(event, req, socket, head);
  }

  /** @internal */
  _onServerClosed(): void {
    const native = this._native;
    if (native !== null) {
      try {
        this._lastStats = native.stats();
      } catch {
        // stats are a courtesy after close
      }
    }
    this._native = null;
    this._d = null;
    this._addr = null;
    this._state = 'idle';
    if (this._path !== null) {
      unlinkSocketFile(this._path);  // as node (libuv) does when its pipe closes
      this._path = null;
    }
    this.emit('close');
  }
}

// Typed events for TypeScript users: the overloads merge into the class, as @types/node types its emitters.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Server {
  /** `await using server = createServer(...)`: closes the server. */
  [Symbol.asyncDispose](): Promise<void>;
  on(event: 'request' | 'checkContinue' | 'checkExpectation', listener: RequestListener): this;
  on(event: 'listening' | 'close', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'clientError', listener: (err: ClientError, socket: NovaSocket) => void): this;
  on(event: 'handlerError', listener: (err: unknown, req: IncomingMessage, res: ServerResponse) => void): this;
  on(event: 'upgrade' | 'connect', listener: (req: IncomingMessage, socket: NovaSocket, head: Buffer) => void): this;
  // any[]: EventEmitter's own signature, so listeners with typed parameters are accepted.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: 'request' | 'checkContinue' | 'checkExpectation', listener: RequestListener): this;
  once(event: 'listening' | 'close', listener: () => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  once(event: 'clientError', listener: (err: ClientError, socket: NovaSocket) => void): this;
  once(event: 'handlerError', listener: (err: unknown, req: IncomingMessage, res: ServerResponse) => void): this;
  once(event: 'upgrade' | 'connect', listener: (req: IncomingMessage, socket: NovaSocket, head: Buffer) => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}

// `await using server = createServer(...)` (Node >= 20.4 defines Symbol.asyncDispose).
const asyncDispose = (Symbol as { asyncDispose?: symbol }).asyncDispose;
if (asyncDispose !== undefined) {
  Object.defineProperty(Server.prototype, asyncDispose, {
    configurable: true,
    writable: true,
    value(this: Server): Promise<void> {
      return new Promise((resolve) => {
        this.close(() => resolve());
      });
    },
  });
}

/** createServer([options][, handler]), as in node:http. */
export function createServer(options?: ServerOptions | RequestListener | null, handler?: RequestListener): Server {
  return new Server(options, handler);
}
