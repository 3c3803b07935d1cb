// Shared helpers for the behaviour tests: the I/O models every test runs in, servers on 127.0.0.1:0, raw sockets
// that write exact bytes and read exact bytes back, a response splitter (Content-Length / chunked / close framing),
// the expected wire bytes of docs/architecture.md, and Date normalization.
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from '../dist/index.js';

// ---------------------------------------------------------------------------------------------------------------
// I/O models. Every behaviour test runs once per entry, with no per-model special cases; the evented model adds
// its entries here ({ ioModel: 'evented', backend: 'epoll' }, { ioModel: 'evented', backend: 'poll' }).
export type ModelOptions = { ioModel: string; backend?: string; threads?: number };
export const ioModels: ModelOptions[] = [
  { ioModel: 'blocking' },
  { ioModel: 'evented', backend: 'epoll' },
  { ioModel: 'evented', backend: 'poll' },
  { ioModel: 'evented', backend: 'epoll', threads: 0 },
];

/** The built package, for tests that load it in another process or thread. */
export const distPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/index.js');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Polls pred until it is true; throws (with `what`) after timeoutMs. */
export async function waitFor(pred: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Rejects after ms with a message naming what did not happen. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, rej) => {
      t = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// Servers

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyServer = any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = (req: any, res: any) => unknown;

export interface Started {
  port: number;
  server: AnyServer;
  close(): Promise<void>;
}

const openServers = new Set<Started>();
const openClients = new Set<RawClient>();

/**
 * Rejections of async test handlers (e.g. a body read cut short by a reset the test caused). They are recorded here
 * instead of surfacing as unhandled rejections; the promise is still returned to the server unchanged.
 */
export const asyncHandlerErrors: unknown[] = [];

/** createServer(options, handler).listen(0, '127.0.0.1'), resolved once listening. */
export async function startServer(options: Record<string, unknown>, handler?: Handler): Promise<Started> {
  const wrapped: Handler | undefined = handler && function (this: unknown, req, res) {
    const r = handler.call(this, req, res) as { then?: unknown } | undefined;
    if (r && typeof r.then === 'function') (r as Promise<unknown>).then(undefined, (e) => asyncHandlerErrors.push(e));
    return r;
  };
  const server = wrapped ? createServer(options, wrapped) : createServer(options);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      server.once('error', onError);
      server.listen(0, '127.0.0.1', () => {
        server.removeListener('error', onError);
        resolve();
      });
    }),
    5000,
    'server.listen',
  );
  const addr = server.address();
  const started: Started = {
    port: addr.port,
    server,
    close: async () => {
      openServers.delete(started);
      await closeServer(server);
    },
  };
  openServers.add(started);
  return started;
}

/** Closes a server and every connection it has; resolves (with a warning) after 5 s if close() never calls back. */
export async function closeServer(server: AnyServer): Promise<void> {
  try {
    server.closeAllConnections?.();
  } catch {
    // closing is best effort here; the close() tests assert on it
  }
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      console.warn('nova-http test helper: server.close() did not call back within 5 s');
      resolve();
    }, 5000);
    try {
      server.close(() => {
        clearTimeout(t);
        resolve();
      });
    } catch {
      clearTimeout(t);
      resolve();
    }
  });
}

/** For afterEach: destroys every RawClient and closes every server started by this file's tests. */
export async function cleanup(): Promise<void> {
  for (const c of openClients) c.destroy();
  openClients.clear();
  const servers = [...openServers];
  openServers.clear();
  await Promise.all(servers.map((s) => s.close()));
}

/** Reads a request body through 'data'/'end'. */
export function readBody(req: AnyServer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer | string) => chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c)));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Response splitting

export interface ParsedResponse {
  /** The exact bytes of this response (latin1: one char per byte). */
  raw: string;
  /** Status line and fields, without the final CRLF CRLF. */
  head: string;
  version: string;
  status: number;
  reason: string;
  headers: Array<[string, string]>;
  /** The body with the framing removed (chunked decoded). */
  body: Buffer;
  framing: 'none' | 'length' | 'chunked' | 'close';
  trailers: Array<[string, string]>;
  /** First value of a field, case-insensitive. */
  header(name: string): string | undefined;
}

export interface SplitResult {
  /** Complete final responses (1xx interim responses are in `interim`, not here). */
  responses: ParsedResponse[];
  interim: ParsedResponse[];
  /** Bytes after the last complete response (a partial response, or garbage). */
  rest: string;
}

export interface SplitOptions {
  /** The peer closed: a response without Content-Length or chunked framing ends here. */
  closed?: boolean;
  /** Indices (among final responses) of responses to HEAD requests: they have no body. */
  head?: number[];
}

function makeResponse(
  raw: string,
  head: string,
  version: string,
  status: number,
  reason: string,
  headers: Array<[string, string]>,
  body: Buffer,
  framing: ParsedResponse['framing'],
  trailers: Array<[string, string]>,
): ParsedResponse {
  return {
    raw,
    head,
    version,
    status,
    reason,
    headers,
    body,
    framing,
    trailers,
    header(name: string) {
      const n = name.toLowerCase();
      return headers.find(([k]) => k.toLowerCase() === n)?.[1];
    },
  };
}

function parseFields(lines: string[]): Array<[string, string]> {
  return lines.map((l) => {
    const i = l.indexOf(':');
    return (i < 0 ? [l, ''] : [l.slice(0, i), l.slice(i + 1).trim()]) as [string, string];
  });
}

/** Splits the bytes a client received into complete responses, using each response's own framing. */
export function splitResponses(data: Buffer | string, opts: SplitOptions = {}): SplitResult {
  const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const responses: ParsedResponse[] = [];
  const interim: ParsedResponse[] = [];
  let off = 0;
  for (;;) {
    if (off >= buf.length) break;
    const headEnd = buf.indexOf('\r\n\r\n', off, 'latin1');
    if (headEnd < 0) break;
    const head = buf.toString('latin1', off, headEnd);
    const lines = head.split('\r\n');
    const m = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0]);
    if (!m) break;
    const status = Number(m[2]);
    const headers = parseFields(lines.slice(1));
    const get = (n: string) => headers.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
    const bodyStart = headEnd + 4;
    if (status >= 100 && status < 200 && status !== 101) {
      interim.push(
        makeResponse(buf.toString('latin1', off, bodyStart), head, m[1], status, m[3] ?? '', headers,
          Buffer.alloc(0), 'none', []),
      );
      off = bodyStart;
      continue;
    }
    const index = responses.length;
    let end = -1;
    let body = Buffer.alloc(0);
    let framing: ParsedResponse['framing'];
    const trailers: Array<[string, string]> = [];
    const te = get('transfer-encoding').join(',').toLowerCase();
    const cl = get('content-length');
    if (opts.head?.includes(index) || status === 204 || status === 304) {
      framing = 'none';
      end = bodyStart;
    } else if (te && /(^|,)\s*chunked\s*$/.test(te)) {
      framing = 'chunked';
      const parts: Buffer[] = [];
      let p = bodyStart;
      for (;;) {
        const le = buf.indexOf('\r\n', p, 'latin1');
        if (le < 0) break;
        const size = parseInt(buf.toString('latin1', p, le).split(';')[0].trim(), 16);
        if (Number.isNaN(size)) {
          end = -2; // garbage: stop splitting here
          break;
        }
        if (size === 0) {
          let q = le + 2;
          let done = false;
          for (;;) {
            const tle = buf.indexOf('\r\n', q, 'latin1');
            if (tle < 0) break;
            if (tle === q) {
              end = q + 2;
              done = true;
              break;
            }
            trailers.push(...parseFields([buf.toString('latin1', q, tle)]));
            q = tle + 2;
          }
          if (!done) end = -1;
          break;
        }
        if (le + 2 + size + 2 > buf.length) break;
        parts.push(buf.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      body = Buffer.concat(parts);
      if (end === -2) break;
    } else if (cl.length > 0) {
      framing = 'length';
      const n = Number(cl[0]);
      if (bodyStart + n <= buf.length) {
        end = bodyStart + n;
        body = buf.subarray(bodyStart, end);
      }
    } else {
      framing = 'close';
      if (opts.closed) {
        end = buf.length;
        body = buf.subarray(bodyStart, end);
      }
    }
    if (end < 0) break;
    responses.push(
      makeResponse(buf.toString('latin1', off, end), head, m[1], status, m[3] ?? '', headers, Buffer.from(body),
        framing, trailers),
    );
    off = end;
  }
  return { responses, interim, rest: buf.toString('latin1', off) };
}

// ---------------------------------------------------------------------------------------------------------------
// Raw client

export interface ConnectOptions {
  /** Connect timeout. */
  timeoutMs?: number;
}

/**
 * A TCP client that records every byte the server sends and how the connection ended:
 * `ended` (the server sent FIN), `reset` (ECONNRESET / EPIPE), `closed` (the socket is gone for any reason).
 */
export class RawClient {
  readonly socket: net.Socket;
  private chunks: Buffer[] = [];
  private total = 0;
  ended = false;
  closed = false;
  reset = false;
  error: Error | undefined;
  endedAt = 0;
  closedAt = 0;
  /** Responses to HEAD requests, by index, for the splitter. */
  head: number[] = [];
  private waiters = new Set<() => void>();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.total += d.length;
      this.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.endedAt = Date.now();
      this.notify();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      this.error = e;
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') this.reset = true;
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.closedAt = Date.now();
      if (!this.endedAt) this.endedAt = this.closedAt;
      this.notify();
    });
  }

  static connect(port: number, opts: ConnectOptions = {}): Promise<RawClient> {
    return withTimeout(
      new Promise<RawClient>((resolve, reject) => {
        const s = net.connect({ port, host: '127.0.0.1' });
        s.setNoDelay(true);
        const c = new RawClient(s);
        openClients.add(c);
        s.once('connect', () => resolve(c));
        s.once('error', reject);
      }),
      opts.timeoutMs ?? 3000,
      `connect to 127.0.0.1:${port}`,
    );
  }

  private notify() {
    for (const w of [...this.waiters]) w();
  }

  /** Every byte received so far. */
  get data(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }
  /** Every byte received so far, one char per byte. */
  get text(): string {
    return this.data.toString('latin1');
  }
  get bytesReceived(): number {
    return this.total;
  }
  /** The server closed its side (FIN or reset). */
  get serverClosed(): boolean {
    return this.ended || this.closed;
  }

  split(): SplitResult {
    return splitResponses(this.data, { closed: this.serverClosed, head: this.head });
  }
  get responses(): ParsedResponse[] {
    return this.split().responses;
  }

  /** Writes bytes (strings are latin1: one char per byte); resolves once handed to the kernel. */
  write(bytes: string | Buffer): Promise<void> {
    const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    return new Promise((resolve) => {
      if (this.socket.destroyed || this.socket.writableEnded) return resolve();
      this.socket.write(b, () => resolve());
    });
  }

  /** Writes each part, waiting delayMs between parts. */
  async send(parts: string | Buffer | Array<string | Buffer>, delayMs = 20): Promise<void> {
    const list = Array.isArray(parts) ? parts : [parts];
    for (let i = 0; i < list.length; i++) {
      if (i > 0 && delayMs > 0) await sleep(delayMs);
      await this.write(list[i]);
    }
  }

  /** Resolves when pred() holds, re-checked on every event; rejects after timeoutMs with what was received. */
  until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pred()) {
          clearTimeout(t);
          this.waiters.delete(check);
          resolve();
        }
      };
      const t = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received so far ` +
          `(${this.total} bytes, server closed: ${this.serverClosed}): ${JSON.stringify(this.text.slice(0, 2000))}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Waits for n complete responses (resolves early if the server closes first). */
  async waitResponses(n: number, timeoutMs = 3000): Promise<ParsedResponse[]> {
    await this.until(() => this.serverClosed || this.split().responses.length >= n, timeoutMs, `${n} response(s)`);
    return this.responses;
  }

  /** Waits for the server to close the connection; false if it is still open after timeoutMs. */
  async waitClose(timeoutMs = 3000): Promise<boolean> {
    try {
      await this.until(() => this.serverClosed, timeoutMs, 'the server to close');
      return true;
    } catch {
      return false;
    }
  }

  /** True when the connection is still open after ms (the server neither closed nor reset it). */
  async staysOpen(ms = 100): Promise<boolean> {
    await sleep(ms);
    return !this.serverClosed;
  }

  /** Half-close: send FIN, keep reading. */
  end(): void {
    this.socket.end();
  }
  /** Send RST (SO_LINGER 0) and drop the socket. */
  resetNow(): void {
    this.socket.resetAndDestroy();
  }
  destroy(): void {
    this.socket.destroy();
    openClients.delete(this);
  }
}

export interface ExchangeOptions {
  /** 'close': read until the server closes; { responses: n }: until n complete responses (or close). */
  until?: 'close' | { responses: number };
  timeoutMs?: number;
  /** Delay between the parts of a bytes[] (default 20 ms). */
  delayMs?: number;
  /** Indices of responses to HEAD requests. */
  head?: number[];
}

export interface Exchange {
  text: string;
  responses: ParsedResponse[];
  /** Bytes after the last complete response. */
  rest: string;
  /** The server closed the connection (by the time the exchange ended). */
  closed: boolean;
  client: RawClient;
}

/** Connects, writes the bytes, reads back until the `until` condition; keeps the client open (see .client). */
export async function exchange(
  port: number,
  bytes: string | Buffer | Array<string | Buffer>,
  opts: ExchangeOptions = {},
): Promise<Exchange> {
  const c = await RawClient.connect(port);
  c.head = opts.head ?? [];
  const timeoutMs = opts.timeoutMs ?? 3000;
  const until = opts.until ?? 'close';
  const reading =
    until === 'close'
      ? c.until(() => c.serverClosed, timeoutMs, 'the server to close')
      : c.waitResponses(until.responses, timeoutMs);
  reading.catch(() => {}); // surfaced below
  await c.send(bytes, opts.delayMs ?? 20);
  await reading;
  const s = c.split();
  return { text: c.text, responses: s.responses, rest: s.rest, closed: c.serverClosed, client: c };
}

/** exchange() that returns only the bytes received, and closes the client. */
export async function rawExchange(
  port: number,
  bytes: string | Buffer | Array<string | Buffer>,
  opts: ExchangeOptions = {},
): Promise<string> {
  const x = await exchange(port, bytes, opts);
  x.client.destroy();
  return x.text;
}

// ---------------------------------------------------------------------------------------------------------------
// Expected bytes (docs/architecture.md, "Wire format of responses")

/** Replaces the value of every Date field with X. */
export function normalize(text: string): string {
  return text.replace(/(^|\r\n)Date: [^\r\n]*\r\n/g, '$1Date: X\r\n');
}

export const reasons: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  304: 'Not Modified',
  400: 'Bad Request',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

/** A ready-made error response (native/core/http_errors.cc): no Date, always Connection: close. */
export function errorResponse(status: number): string {
  const reason = reasons[status];
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\n` +
    `Connection: close\r\n\r\n${reason}`;
}

export interface Expect {
  status?: number;
  reason?: string;
  /** The handler's field lines, in order, e.g. ['Content-Type: text/plain']. */
  fields?: string[];
  /** Body bytes as latin1 text (for 'chunked', the already-framed bytes). */
  body?: string;
  /** The response keeps the connection open. */
  persist?: boolean;
  /** The request was HTTP/1.0 (a persistent response then says Connection: keep-alive). */
  http10?: boolean;
  /** keepAliveTimeout in seconds as advertised by Keep-Alive: timeout=N. */
  timeoutS?: number;
  /** 'length' adds Content-Length of the body, 'chunked' Transfer-Encoding: chunked, 'none'/'close' nothing. */
  framing?: 'length' | 'chunked' | 'none' | 'close';
  /** Content-Length for a body that is not sent (HEAD). */
  contentLength?: number;
}

/** The exact bytes of a response as docs/architecture.md specifies them, with Date normalized to X. */
export function response(e: Expect = {}): string {
  const status = e.status ?? 200;
  const body = e.body ?? '';
  const persist = e.persist ?? true;
  const framing = e.framing ?? 'length';
  let s = `HTTP/1.1 ${status} ${e.reason ?? reasons[status]}\r\n`;
  for (const f of e.fields ?? []) s += `${f}\r\n`;
  s += 'Date: X\r\n';
  if (persist) {
    if (e.http10) s += 'Connection: keep-alive\r\n';
    s += `Keep-Alive: timeout=${e.timeoutS ?? 65}\r\n`;
  } else {
    s += 'Connection: close\r\n';
  }
  if (framing === 'length') s += `Content-Length: ${e.contentLength ?? Buffer.byteLength(body, 'latin1')}\r\n`;
  if (framing === 'chunked') s += 'Transfer-Encoding: chunked\r\n';
  return `${s}\r\n${body}`;
}

/** A GET request: `GET <path> HTTP/1.1\r\nHost: t\r\n<extra fields>\r\n`. */
export function get(target = '/', fields: string[] = [], version = '1.1'): string {
  return `GET ${target} HTTP/${version}\r\nHost: t\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes

export interface ChildResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `code` as an ES module in a new node process; killed after timeoutMs. */
export function runChild(code: string, timeoutMs = 10000): Promise<ChildResult> {
  return new Promise((resolve) => {
    const start = Date.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (exitCode, signal) => {
      clearTimeout(t);
      resolve({ code: exitCode, signal, stdout, stderr, ms: Date.now() - start });
    });
  });
}
