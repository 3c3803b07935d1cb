#!/usr/bin/env node
// Soak: a nova-http server in a child process (test/soak/server.mjs) under mixed traffic for SOAK_SECONDS (default
// 60): keep-alive sequences, pipelined batches, Connection: close and HTTP/1.0 requests, Content-Length and chunked
// bodies, slow handlers, malformed requests, and clients that go away (reset mid-response, mid-body, mid-head).
// Every answer is checked. The server's RSS and open fds are sampled once a second; the run fails (exit 1) on any
// wrong answer, or if either figure keeps growing: the mean of the last quarter of the samples may not exceed the
// mean of the second quarter by more than the tolerance (RSS: 10% + 8 MiB; fds: 10% + 16).
//
//   npm run soak                          60 s, default I/O model
//   SOAK_SECONDS=3600 npm run soak        an hour
//   SOAK_OPTIONS='{"ioModel":"blocking"}' npm run soak     createServer() options for the server (JSON)
//   SOAK_CLIENTS=24                       concurrent client loops (default 24)
import * as fs from 'node:fs';
import * as net from 'node:net';
import { startServer } from './server-child.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS || 60);
const CLIENTS = Number(process.env.SOAK_CLIENTS || 24);
const OPTIONS = { keepAliveTimeout: 5000, headersTimeout: 5000, ...JSON.parse(process.env.SOAK_OPTIONS || '{}') };
// V8 grows its young generation in steps (1 -> 16 MiB semi-spaces) over the first minutes of heavy allocation: RSS
// steps of ~10-25 MiB that are sizing, not leaks. The server starts with the semi-spaces at their usual maximum, so
// what the quarters compare is the steady state.
const NODE_FLAGS = (process.env.SOAK_NODE_FLAGS ?? '--min-semi-space-size=16 --max-semi-space-size=16')
  .split(/\s+/).filter(Boolean);
const RSS_TOLERANCE = { ratio: 0.10, bytes: 8 * 1024 * 1024 };
const FD_TOLERANCE = { ratio: 0.10, count: 16 };
const TIMEOUT_MS = 15000; // one exchange; far above anything a healthy server needs

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MiB = (n) => `${(n / 1048576).toFixed(1)} MiB`;

// Deterministic randomness (mulberry32), so a failing mix can be replayed with SOAK_SEED.
let seed = Number(process.env.SOAK_SEED || 12345) >>> 0;
function rand() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randInt = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

// ---------------------------------------------------------------------------------------------------------------
// The server child (test/soak/server-child.mjs starts it)

function usage(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

// ---------------------------------------------------------------------------------------------------------------
// A raw client connection: writes bytes, reads Content-Length framed responses in order.

class Conn {
  static open(port) {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.setNoDelay(true);
      s.once('connect', () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.closed = false;
    this.received = 0;
    this.waiter = null;
    socket.on('data', (d) => {
      this.received += d.length;
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  wake() {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  write(bytes) {
    if (!this.socket.destroyed) this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** The next complete response: { status, head, body }; rejects on close or timeout. */
  async next() {
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = this.buf.toString('latin1', 0, end);
        const m = /\r\ncontent-length: *(\d+)/i.exec(head);
        if (!m) throw new Error(`response without Content-Length: ${JSON.stringify(head)}`);
        const len = Number(m[1]);
        if (this.buf.length >= end + 4 + len) {
          const body = this.buf.subarray(end + 4, end + 4 + len);
          this.buf = this.buf.subarray(end + 4 + len);
          return { status: Number(head.slice(9, 12)), head, body };
        }
      }
      if (this.closed) throw new Error(`closed by the server with ${this.buf.length} bytes of a response`);
      if (Date.now() > deadline) throw new Error(`no response within ${TIMEOUT_MS} ms`);
      await new Promise((r) => {
        this.waiter = r;
        setTimeout(r, 200);
      });
    }
  }

  /** Waits for the server to close (true) or for ms to pass (false). */
  async waitClose(ms = TIMEOUT_MS) {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) {
      await new Promise((r) => {
        this.waiter = r;
        setTimeout(r, 100);
      });
    }
    return this.closed;
  }

  async waitBytes(n) {
    const deadline = Date.now() + TIMEOUT_MS;
    while (this.received < n && !this.closed && Date.now() < deadline) {
      await new Promise((r) => {
        this.waiter = r;
        setTimeout(r, 100);
      });
    }
    return this.received >= n;
  }

  end() {
    this.socket.end();
  }
  reset() {
    this.socket.resetAndDestroy();
  }
  destroy() {
    this.socket.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Traffic

const counts = {};
const errors = [];
let requests = 0;
const count = (what) => (counts[what] = (counts[what] || 0) + 1);
const fail = (what, msg) => {
  if (errors.length < 20) errors.push(`${what}: ${msg}`);
  else errors.length++;
};

const get = (target, extra = '') => `GET ${target} HTTP/1.1\r\nHost: soak\r\n${extra}\r\n`;
const byteSum = (b) => {
  let s = 0;
  for (let i = 0; i < b.length; i++) s = (s + b[i]) >>> 0;
  return s;
};
function randomBody(n) {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + n) & 0xff;
  return b;
}
function chunked(body) {
  const parts = [];
  for (let off = 0; off < body.length;) {
    const n = Math.min(body.length - off, randInt(1, 40000));
    parts.push(Buffer.from(`${n.toString(16)}\r\n`), body.subarray(off, off + n), Buffer.from('\r\n'));
    off += n;
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}
function expectBody(r, want, what) {
  if (r.status !== 200 || r.body.toString('latin1') !== want) {
    throw new Error(`${what}: expected 200 ${JSON.stringify(want)}, got ${r.status} ` +
      `${JSON.stringify(r.body.toString('latin1', 0, 80))}`);
  }
  requests++;
}

const scenarios = [
  // [name, weight, run(port)]
  ['keep-alive', 20, async (port) => {
    const c = await Conn.open(port);
    const n = randInt(1, 30);
    for (let i = 0; i < n; i++) {
      c.write(get(`/ka/${i}`));
      expectBody(await c.next(), `/ka/${i}`, 'keep-alive');
    }
    c.end();
  }],
  ['pipelined', 15, async (port) => {
    const c = await Conn.open(port);
    const n = randInt(2, 48);
    const want = [];
    const parts = [];
    for (let i = 0; i < n; i++) {
      if (rand() < 0.2) {
        const body = randomBody(randInt(0, 3000));
        parts.push(Buffer.from(`POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: ${body.length}\r\n\r\n`), body);
        want.push(`${body.length} ${byteSum(body)}`);
      } else {
        parts.push(Buffer.from(get(`/pipe/${i}`)));
        want.push(`/pipe/${i}`);
      }
    }
    c.write(Buffer.concat(parts));
    for (let i = 0; i < n; i++) expectBody(await c.next(), want[i], `pipelined ${i}/${n}`);
    c.end();
  }],
  ['connection-close', 10, async (port) => {
    const c = await Conn.open(port);
    c.write(get('/close', 'Connection: close\r\n'));
    const r = await c.next();
    expectBody(r, '/close', 'Connection: close');
    if (!/\r\nConnection: close\r\n/i.test(`${r.head}\r\n`)) throw new Error('no Connection: close in the response');
    if (!(await c.waitClose())) throw new Error('Connection: close: the server did not close');
    c.destroy();
  }],
  ['http/1.0', 5, async (port) => {
    const c = await Conn.open(port);
    c.write('GET /old HTTP/1.0\r\n\r\n');
    expectBody(await c.next(), '/old', 'HTTP/1.0');
    if (!(await c.waitClose())) throw new Error('HTTP/1.0: the server did not close');
    c.destroy();
  }],
  ['body-length', 10, async (port) => {
    const c = await Conn.open(port);
    const body = randomBody(randInt(0, 256 * 1024));
    c.write(Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: ${body.length}\r\n\r\n`),
      body]));
    expectBody(await c.next(), `${body.length} ${byteSum(body)}`, 'Content-Length body');
    c.end();
  }],
  ['body-chunked', 10, async (port) => {
    const c = await Conn.open(port);
    const body = randomBody(randInt(0, 256 * 1024));
    c.write(Buffer.concat([Buffer.from('POST /echo HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\r\n'),
      chunked(body)]));
    expectBody(await c.next(), `${body.length} ${byteSum(body)}`, 'chunked body');
    c.end();
  }],
  ['big-response', 4, async (port) => {
    const c = await Conn.open(port);
    const n = randInt(1, 4) * 1024 * 1024;
    c.write(get(`/big?n=${n}`));
    const r = await c.next();
    if (r.status !== 200 || r.body.length !== n) throw new Error(`big response: ${r.status}, ${r.body.length} bytes`);
    requests++;
    c.end();
  }],
  ['slow-handler', 5, async (port) => {
    const c = await Conn.open(port);
    c.write(get('/slow?ms=30'));
    expectBody(await c.next(), '/slow?ms=30', 'slow handler');
    c.end();
  }],
  ['malformed', 4, async (port) => {
    const c = await Conn.open(port);
    c.write(['GET / HTTP/1.1\r\nHost: soak\r\nBad Name: x\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: soak\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'GET /\r\n\r\n'][randInt(0, 2)]);
    const r = await c.next();
    if (r.status !== 400) throw new Error(`malformed request: got ${r.status}`);
    if (!(await c.waitClose())) throw new Error('malformed request: the server did not close');
    requests++;
    c.destroy();
  }],
  ['abort-response', 5, async (port) => {
    const c = await Conn.open(port);
    c.write(get(`/big?n=${16 * 1024 * 1024}`));
    await c.waitBytes(randInt(1, 512) * 1024);
    c.reset();
  }],
  ['abort-body', 5, async (port) => {
    const c = await Conn.open(port);
    c.write(Buffer.concat([Buffer.from('POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: 1000000\r\n\r\n'),
      randomBody(randInt(0, 50000))]));
    await sleep(randInt(0, 20));
    if (rand() < 0.5) c.reset();
    else c.destroy();
  }],
  ['abort-head', 4, async (port) => {
    const c = await Conn.open(port);
    c.write('GET /never HTTP/1.1\r\nHost: soak\r\nX-Partial: ');
    await sleep(randInt(0, 20));
    if (rand() < 0.5) c.reset();
    else c.destroy();
  }],
  ['abort-pipelined', 3, async (port) => {
    const c = await Conn.open(port);
    c.write(Array.from({ length: 10 }, (_, i) => get(`/slow?ms=20&i=${i}`)).join(''));
    await sleep(randInt(0, 60));
    c.reset();
  }],
];
const totalWeight = scenarios.reduce((a, s) => a + s[1], 0);
function pick() {
  let x = rand() * totalWeight;
  for (const s of scenarios) if ((x -= s[1]) < 0) return s;
  return scenarios[0];
}

async function clientLoop(port, until) {
  while (Date.now() < until) {
    const [name, , run] = pick();
    try {
      await run(port);
      count(name);
    } catch (e) {
      fail(name, e.message);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function main() {
  const { port, pid, ask } = await startServer(OPTIONS, NODE_FLAGS);
  console.log(`soak: ${SECONDS} s, ${CLIENTS} client loops, server pid ${pid} on port ${port}, options ` +
    `${JSON.stringify(OPTIONS)}`);
  const start = usage(pid);
  const samples = [];
  const t0 = Date.now();
  const until = t0 + SECONDS * 1000;
  const sampler = setInterval(() => {
    try {
      samples.push(usage(pid));
    } catch (e) {
      fail('sampler', `the server is gone: ${e.message}`);
    }
  }, 1000);
  let lastReport = t0;
  const reporter = setInterval(async () => {
    if (Date.now() - lastReport < 10000 || samples.length === 0) return;
    lastReport = Date.now();
    const s = samples[samples.length - 1];
    const m = (await ask('stats')).memory;
    console.log(`  ${Math.round((Date.now() - t0) / 1000)} s: ${requests} requests answered, RSS ${MiB(s.rss)} ` +
      `(JS heap ${MiB(m.heapUsed)} of ${MiB(m.heapTotal)}, external ${MiB(m.external)}), fds ${s.fds}, ` +
      `errors ${errors.length}`);
  }, 1000);
  await Promise.all(Array.from({ length: CLIENTS }, () => clientLoop(port, until)));
  clearInterval(sampler);
  clearInterval(reporter);
  const elapsed = (Date.now() - t0) / 1000;
  const end = samples[samples.length - 1] ?? usage(pid);

  // After the traffic: every connection closes (keepAliveTimeout 5 s at most), fds back to the start.
  let after = usage(pid);
  for (let i = 0; i < 100 && after.fds > start.fds + 2; i++) {
    await sleep(100);
    after = usage(pid);
  }
  const stats = (await ask('stats')).stats;
  await ask('close');

  const n = samples.length;
  const q2 = samples.slice(Math.floor(n / 4), Math.floor(n / 2));
  const q4 = samples.slice(Math.floor((3 * n) / 4));
  const rss2 = mean(q2.map((s) => s.rss));
  const rss4 = mean(q4.map((s) => s.rss));
  const fd2 = mean(q2.map((s) => s.fds));
  const fd4 = mean(q4.map((s) => s.fds));
  const rssLimit = rss2 * (1 + RSS_TOLERANCE.ratio) + RSS_TOLERANCE.bytes;
  const fdLimit = fd2 * (1 + FD_TOLERANCE.ratio) + FD_TOLERANCE.count;

  console.log(`soak: ${requests} requests answered in ${elapsed.toFixed(1)} s (${Math.round(requests / elapsed)}/s); ` +
    `server stats: ${stats.accepted} connections, ${stats.requests} requests, closes ${JSON.stringify(stats.closes)}`);
  console.log(`  scenarios: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const first = samples[0] ?? end;
  console.log(`  RSS: start ${MiB(start.rss)} (idle), first second of traffic ${MiB(first.rss)}, end ${MiB(end.rss)}, ` +
    `after the traffic ${MiB(after.rss)}; ` +
    `mean of the 2nd quarter ${MiB(rss2)}, of the last quarter ${MiB(rss4)} (limit ${MiB(rssLimit)})`);
  console.log(`  fds: start ${start.fds} (idle), first second of traffic ${first.fds}, end ${end.fds}, ` +
    `after the traffic ${after.fds}; ` +
    `mean of the 2nd quarter ${fd2.toFixed(1)}, of the last quarter ${fd4.toFixed(1)} (limit ${fdLimit.toFixed(1)})`);

  const problems = [];
  if (errors.length) problems.push(`${errors.length} wrong or missing answers:\n    ${errors.filter(Boolean).join('\n    ')}`);
  if (n < 8) problems.push(`only ${n} samples: run for at least 8 s`);
  if (rss4 > rssLimit) problems.push(`RSS grows: last quarter ${MiB(rss4)} > ${MiB(rssLimit)}`);
  if (fd4 > fdLimit) problems.push(`fds grow: last quarter ${fd4.toFixed(1)} > ${fdLimit.toFixed(1)}`);
  if (after.fds > start.fds + 2) problems.push(`fds not back after the traffic: ${after.fds} (start ${start.fds})`);
  if (requests === 0) problems.push('no request was answered');
  if (problems.length) {
    console.log(`soak: FAILED\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  } else {
    console.log('soak: ok');
  }
}

main().catch((e) => {
  console.error('soak: FAILED:', e);
  process.exit(1);
});
