// RawClient: a TCP client that writes exact bytes and records every byte back and how the connection ended; and
// exchange()/rawExchange(), which connect, write, and read until the server closes or n responses are complete.
import * as net from 'node:net';
import { sleep, withTimeout } from './async.js';
import { splitResponses } from './split.js';
import type { ParsedResponse, SplitResult } from './split.js';

const openClients = new Set<RawClient>();

/** Destroys every RawClient still open (servers.ts cleanup() calls this after each test). */
export function destroyOpenClients(): void {
  for (const c of openClients) c.destroy();
  openClients.clear();
}

export interface ConnectOptions {
  /** Connect timeout. */
  timeoutMs?: number;
  /** The server's address (default 127.0.0.1). */
  host?: string;
  /** A Unix domain socket to connect to instead of host:port. */
  path?: string;
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
    const host = opts.host ?? '127.0.0.1';
    return withTimeout(
      new Promise<RawClient>((resolve, reject) => {
        const s = opts.path !== undefined ? net.connect({ path: opts.path }) : net.connect({ port, host });
        if (opts.path === undefined) s.setNoDelay(true);
        const c = new RawClient(s);
        openClients.add(c);
        s.once('connect', () => resolve(c));
        s.once('error', reject);
      }),
      opts.timeoutMs ?? 3000,
      `connect to ${opts.path ?? `${host}:${port}`}`,
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
  /** 1xx interim responses, in order. */
  interim: ParsedResponse[];
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
  return { text: c.text, responses: s.responses, interim: s.interim, rest: s.rest, closed: c.serverClosed, client: c };
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
