// The compat harness: the same app served by node:http and by nova-http (in the I/O model under test), the same raw
// bytes written to both, and the responses compared: status, reason, every header but Date, framing and body.
import * as http from 'node:http';
import { expect } from 'vitest';
import { createServer } from '../dist/index.js';
import { closeServer, exchange, withTimeout } from './helpers';
import type { AnyServer, ModelOptions, ParsedResponse } from './helpers';

export type Listener = (req: any, res: any) => unknown;

/** Both servers get this keep-alive timeout (node's default is 5 s, nova-http's 65 s: Keep-Alive says it). */
export const KEEP_ALIVE_MS = 5000;

export interface Pair {
  node: http.Server;
  nova: AnyServer;
  nodePort: number;
  novaPort: number;
  close(): Promise<void>;
}

function listen(server: AnyServer): Promise<number> {
  return withTimeout(new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve(server.address().port);
    });
  }), 5000, 'listen');
}

/** Two servers, each with its own instance of the app (state such as sessions is per app). */
export async function servePair(make: () => Listener, model: ModelOptions): Promise<Pair> {
  const node = http.createServer({ keepAliveTimeout: KEEP_ALIVE_MS }, make());
  const nova = createServer({ ...model, keepAliveTimeout: KEEP_ALIVE_MS }, make());
  const [nodePort, novaPort] = await Promise.all([listen(node), listen(nova)]);
  return {
    node, nova, nodePort, novaPort,
    close: async () => {
      await Promise.all([closeServer(node), closeServer(nova)]);
    },
  };
}

/** Servers made by the framework itself (Fastify's listen()), already listening. */
export function pairOf(node: AnyServer, nova: AnyServer): Pair {
  return {
    node, nova, nodePort: node.address().port, novaPort: nova.address().port,
    close: async () => {
      await Promise.all([closeServer(node), closeServer(nova)]);
    },
  };
}

/** What is compared. Headers are sorted by name (same-named fields keep their order): where native adds its
 *  fields (Date, Connection, Keep-Alive, framing) the order can differ from node's, which carries no meaning. */
export function view(r: ParsedResponse): Record<string, unknown> {
  const v: Record<string, unknown> = {
    status: r.status, reason: r.reason, headers: sortedFields(r.headers), framing: r.framing,
    body: r.body.toString('latin1'),
  };
  if (r.trailers.length > 0) v.trailers = sortedFields(r.trailers);
  return v;
}

function sortedFields(fields: Array<[string, string]>): string[] {
  return fields
    .filter(([k]) => k.toLowerCase() !== 'date')
    .map(([k, v]) => `${k.toLowerCase()}: ${v}`)
    .map((h, i) => [h.slice(0, h.indexOf(':')), i, h] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]))
    .map((e) => e[2]);
}

export interface CompareOptions {
  /** How many responses to wait for (default 1). */
  responses?: number;
  /** Indices of responses to HEAD requests. */
  head?: number[];
  /** Delay between the parts of a bytes[] (default 20 ms). */
  delayMs?: number;
}

/** Sends the same bytes to both servers (one new connection each) and expects the same responses. */
export async function compare(pair: Pair, bytes: string | Buffer | Array<string | Buffer>,
                              opts: CompareOptions = {}): Promise<ParsedResponse[]> {
  const until = { responses: opts.responses ?? 1 };
  const x = { until, head: opts.head, delayMs: opts.delayMs, timeoutMs: 5000 };
  const [fromNode, fromNova] = await Promise.all([exchange(pair.nodePort, bytes, x), exchange(pair.novaPort, bytes, x)]);
  fromNode.client.destroy();
  fromNova.client.destroy();
  expect(fromNova.responses.map(view)).toEqual(fromNode.responses.map(view));
  expect(fromNova.interim.map(view)).toEqual(fromNode.interim.map(view));
  expect(fromNova.responses.length).toBe(until.responses);
  return fromNova.responses;
}

/** A request with a body: Content-Length framing unless chunks are given. */
export function post(target: string, type: string, body: string | Buffer, extra: string[] = []): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const head = `POST ${target} HTTP/1.1\r\nHost: t\r\nContent-Type: ${type}\r\nContent-Length: ${b.length}\r\n` +
    `${extra.map((f) => `${f}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), b]);
}

export function postChunked(target: string, type: string, chunks: string[]): string {
  return `POST ${target} HTTP/1.1\r\nHost: t\r\nContent-Type: ${type}\r\nTransfer-Encoding: chunked\r\n\r\n` +
    chunks.map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`).join('') + '0\r\n\r\n';
}

/** A multipart/form-data body with text fields and one file. */
export function multipart(fields: Record<string, string>, file: { field: string; name: string; data: Buffer }):
    { type: string; body: Buffer } {
  const boundary = '----novaBoundary7MA4YWxkTrZu0gW';
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; ` +
    `filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
  parts.push(file.data, Buffer.from(`\r\n--${boundary}--\r\n`));
  return { type: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(parts) };
}
