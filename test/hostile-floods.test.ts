// Hostile clients that come in numbers or in bulk, against a server in a child process (test/helpers/hostile.ts):
// 10,000 connections opened and abandoned without a byte, resets in the middle of requests and responses, a
// pipelining flood in one connection, header bombs and chunk-size overflows. For each: the right status or a clean
// close, a bystander client served throughout, the server alive, and its connections, open fds and RSS back to their
// baseline afterwards.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { cleanup, errorResponse, get, ioModels, modelName, normalize, RawClient, sleep } from './helpers.js';
import {
  backToBaseline, baseline, Bystander, ChildServer, expectServed, mb, note, openIdle, probe,
} from './helpers/hostile.js';

afterEach(cleanup);

// 10,000 abandoned connections: this process holds one fd per client socket and the server child one per accepted
// socket, so each side needs 10,000 fds and a few hundred more. Node raises its soft fd limit to the hard one at
// startup (`ulimit -Hn`: 20,000 on the dev box, so 10,000 fit); with a lower limit the count is lowered to fit and a
// warning says so. HOSTILE_CONNS sets the count.
function fdLimit(): number {
  try {
    const m = /Max open files\s+(\d+|unlimited)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m === null || m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return Infinity;
  }
}
const ABANDONED = Number(process.env.HOSTILE_CONNS) || Math.min(10_000, fdLimit() - 512);
if (ABANDONED < 10_000) {
  console.warn(`hostile-floods: ${ABANDONED} abandoned connections instead of 10,000 (fd limit ${fdLimit()})`);
}


/** Sends `bytes` on `n` new connections at once; each must get exactly errorResponse(status), then a close. */
async function expectAllRefused(port: number, n: number, bytes: string | Buffer, status: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: n }, () => RawClient.connect(port)));
  await Promise.all(clients.map((c) => c.write(bytes)));
  const closed = await Promise.all(clients.map((c) => c.waitClose(5000)));
  expect(closed.every(Boolean), 'the server closes every refused connection').toBe(true);
  for (const c of clients) expect(normalize(c.text)).toBe(errorResponse(status));
}

/**
 * Reads n responses (Content-Length framed) from a paused socket in order, keeping only unparsed bytes; check()
 * returns an error text for a wrong response. Resolves with how many were read and the first error, if any.
 */
function readInOrder(
  socket: net.Socket, n: number, check: (i: number, head: string, body: Buffer) => string | undefined,
): Promise<{ count: number; error: string | undefined; closed: boolean }> {
  return new Promise((resolve) => {
    let pending: Buffer = Buffer.alloc(0);
    let count = 0;
    let timer: NodeJS.Timeout;
    const finish = (error: string | undefined, closed = false) => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      resolve({ count, error, closed });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(`no progress for 10 s after ${count} responses`), 10000);
    };
    socket.on('data', (d: Buffer) => {
      arm();
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      let off = 0;
      while (count < n) {
        const end = pending.indexOf('\r\n\r\n', off, 'latin1');
        if (end < 0) break;
        const head = pending.toString('latin1', off, end);
        const len = Number(/\r\nContent-Length: (\d+)/i.exec(head)?.[1] ?? NaN);
        if (Number.isNaN(len)) return finish(`response ${count} has no Content-Length: ${head}`);
        if (end + 4 + len > pending.length) break;
        const error = check(count, head, pending.subarray(end + 4, end + 4 + len));
        if (error) return finish(error);
        count++;
        off = end + 4 + len;
      }
      pending = pending.subarray(off);
      if (count === n) finish(undefined);
    });
    socket.on('error', () => {});
    socket.on('close', () => finish(count === n ? undefined : `closed after ${count} responses`, true));
    arm();
    socket.resume();
  });
}

describe.each(ioModels)('hostile: floods (%o)', (model) => {
  let server: ChildServer;
  beforeAll(async () => {
    server = await ChildServer.start({
      ...model, headersTimeout: 1000, requestTimeout: 10000, maxConnections: ABANDONED + 2000,
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  test(`${ABANDONED} connections opened and abandoned without a byte: served meanwhile, closed by headersTimeout`,
    async () => {
      const base = await baseline(server);
      const before = await server.stats();
      await server.set({ headersTimeout: 4000 });
      try {
        const bystander = await Bystander.start(server.port, 50, 5000);
        const t0 = Date.now();
        const idle = await openIdle(server.port, ABANDONED, 500);
        const opened = Date.now() - t0;
        const during = await server.stats();
        const usage = server.usage();
        expect(await probe(server.port, '/while-flooded', 5000)).toBe('/while-flooded');
        const closed = await Promise.all(idle.map((c) => c.waitClose(15000)));
        const allClosed = Date.now() - t0;
        const b = await bystander.stop();
        note(`${modelName(model)}: ${ABANDONED} idle connections opened in ${opened} ms, ${during.stats.active} active at ` +
          `peak, server fds ${base.fds} -> ${usage.fds}, RSS ${mb(base.rss)} -> ${mb(usage.rss)}; all closed after ` +
          `${allClosed} ms; bystander ${b.answered} answers, slowest ${b.maxLatencyMs} ms`);
        expect(closed.filter((x) => !x).length, 'abandoned connections still open').toBe(0);
        // Closed by the head deadline: nothing, or a 408, and no request ever reached the handler.
        for (const c of idle) expect(['', errorResponse(408)]).toContain(normalize(c.text));
        expectServed(b);
        const s = await server.stats();
        expect(s.stats.closes.headersTimeout - before.stats.closes.headersTimeout).toBe(ABANDONED);
        expect(s.calls - before.calls).toBe(b.answered + 1);
        for (const c of idle) c.destroy();
      } finally {
        await server.set({ headersTimeout: 1000 });
      }
      const after = await backToBaseline(server, base, { timeoutMs: 10000 });
      note(`  after: fds ${after.fds}, RSS ${mb(after.rss)}`);
    });

  test('resets mid-request (head, body, pipelined) and mid-response: others served, nothing left behind', async () => {
    const base = await baseline(server);
    const before = await server.stats();
    const bystander = await Bystander.start(server.port);
    for (let round = 0; round < 3; round++) {
      const heads = await Promise.all(Array.from({ length: 30 }, () => RawClient.connect(server.port)));
      const bodies = await Promise.all(Array.from({ length: 30 }, () => RawClient.connect(server.port)));
      const piped = await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(server.port)));
      const responses = await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(server.port)));
      await Promise.all([
        ...heads.map((c) => c.write('GET /partial HTTP/1.1\r\nHost: t\r\nX-A: ')),
        ...bodies.map((c) => c.write('POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n' +
          'x'.repeat(5000))),
        ...piped.map((c) => c.write(Array.from({ length: 20 }, (_, i) => get(`/slow?ms=50&i=${i}`)).join(''))),
        ...responses.map((c) => c.write(get(`/big?n=${64 * 1024 * 1024}`))),
      ]);
      await Promise.all(responses.map((c) => c.until(() => c.bytesReceived > 256 * 1024, 5000, 'part of /big')));
      await sleep(30);
      for (const c of [...heads, ...bodies, ...piped, ...responses]) c.resetNow();
    }
    expect(await probe(server.port, '/after-resets')).toBe('/after-resets');
    const b = await bystander.stop();
    expectServed(b);
    expect(server.alive).toBe(true);
    // A connection is counted by reason when its thread is done with it (blocking model: after the linger), so the
    // counts are read once every connection is gone.
    await backToBaseline(server, base);
    // Counted as the client's doing in every model (the blocking model once said 'error' for a reset while writing).
    const after = await server.stats();
    expect(after.stats.closes.error - before.stats.closes.error, 'closes counted as error').toBe(0);
    expect(after.stats.closes.client - before.stats.closes.client).toBeGreaterThanOrEqual(3 * 80);
  });

  test('pipelining flood: 20,000 requests in one connection (160 MiB of responses), unread for a while: memory ' +
    'bounded by the pipeline cap, all answered in order', async () => {
    const base = await baseline(server);
    const bystander = await Bystander.start(server.port);
    const N = 20_000;
    const BIG = 16 * 1024;
    const before = await server.stats();
    const socket = net.connect({ port: server.port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.pause(); // do not read: the pipeline cap and backpressure must hold the server back
    // Even requests echo their target (the order check), odd ones get 16 KiB each: 160 MiB if it were all buffered.
    const target = (i: number) => (i % 2 === 0 ? `/p/${i}` : `/big?n=${BIG}&i=${i}`);
    socket.write(Array.from({ length: N }, (_, i) => `GET ${target(i)} HTTP/1.1\r\nHost: t\r\n\r\n`).join(''));
    let peak = 0;
    for (let i = 0; i < 10; i++) {
      await sleep(100);
      peak = Math.max(peak, server.usage().rss);
    }
    const parsed = (await server.stats()).stats.requests - before.stats.requests;
    const t0 = Date.now();
    const answered = await readInOrder(socket, N, (i, head, body) => {
      if (!head.startsWith('HTTP/1.1 200 OK\r\n')) return `response ${i}: ${head}`;
      if (i % 2 === 0 ? body.toString('latin1') !== `/p/${i}` : body.length !== BIG) {
        return `response ${i}: body ${JSON.stringify(body.toString('latin1', 0, 40))} (${body.length} bytes)`;
      }
      return undefined;
    });
    const b = await bystander.stop();
    note(`${modelName(model)}: pipelining flood of ${N}: server RSS ${mb(base.rss)} -> peak ${mb(peak)} while unread ` +
      `(${parsed} requests parsed by then, the bystander's included); all answered in order ` +
      `${Date.now() - t0} ms after reading began`);
    expect(answered).toEqual({ count: N, error: undefined, closed: false });
    expect(parsed, 'the server stopped parsing while its answers were unread').toBeLessThan(N / 2);
    expect(peak - base.rss, `RSS grew from ${mb(base.rss)} to ${mb(peak)}`).toBeLessThan(48 * 1024 * 1024);
    expectServed(b);
    socket.destroy();
    // 20,000 requests went through JS in a few seconds: V8 keeps some of the old-space pages it grew for them after
    // collecting (measured +24.4 to +25 MiB in 2 of 12 poll-backend runs, otherwise less; a leak of the responses
    // would be +160 MiB).
    await backToBaseline(server, base, { rssSlackBytes: 32 * 1024 * 1024 });
  });

  test('header bombs: many small fields -> 431, one huge field -> 431, others unaffected', async () => {
    const base = await baseline(server);
    const before = await server.stats();
    const bystander = await Bystander.start(server.port);
    // 101 tiny fields (over the 100-field limit), 5,000 tiny fields (over the 16 KiB head), one 1 MiB field.
    const many = (n: number) =>
      `GET /bomb HTTP/1.1\r\nHost: t\r\n${Array.from({ length: n }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`;
    await expectAllRefused(server.port, 20, many(101), 431);
    await expectAllRefused(server.port, 20, many(5000), 431);
    await expectAllRefused(server.port, 10, `GET /bomb HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(1 << 20)}\r\n\r\n`,
      431);
    const b = await bystander.stop();
    expectServed(b);
    expect((await server.stats()).calls - before.calls, 'no bomb reached the handler').toBe(b.answered);
    await backToBaseline(server, base);
  });

  test('chunk-size overflows -> 400, others unaffected', async () => {
    const base = await baseline(server);
    const bystander = await Bystander.start(server.port);
    const chunked = (sizeLine: string) =>
      `POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${sizeLine}\r\nhello\r\n0\r\n\r\n`;
    for (const size of [
      'f'.repeat(20), // 2^80 - 1
      '10000000000000000', // 2^64: wraps to 0 in a 64-bit accumulator
      '8000000000000000', // 2^63: negative as int64
      'ffffffffffffffff', // 2^64 - 1
      '1' + '0'.repeat(5000), // longer than any chunk line allowed
      '-1',
      '0x5',
    ]) {
      await expectAllRefused(server.port, 10, chunked(size), 400);
    }
    const b = await bystander.stop();
    expectServed(b);
    await backToBaseline(server, base);
  });
});
