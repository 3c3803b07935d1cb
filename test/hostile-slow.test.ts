// Hostile clients that are slow on purpose, against a server in a child process (test/helpers/hostile.ts):
// slowloris (a head at one byte per interval, many connections at once) is cut by headersTimeout with 408 + close;
// slow body senders are cut by requestTimeout with 408; clients that never read a large response hold no more than
// the response high-water mark each. For each: a bystander client keeps getting answers, the handler never sees a
// half-sent head, and the server's connections, open fds and RSS come back to their baseline.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { cleanup, errorResponse, get, ioModels, normalize, RawClient, sleep } from './helpers.js';
import {
  backToBaseline, baseline, Bystander, ChildServer, expectServed, mb, note, probe,
} from './helpers/hostile.js';

afterEach(cleanup);

/** Writes `bytes` one byte every `everyMs` until done or the server closes. */
async function trickle(client: RawClient, bytes: string, everyMs: number): Promise<void> {
  for (let i = 0; i < bytes.length && !client.serverClosed; i++) {
    await client.write(bytes[i]);
    await sleep(everyMs);
  }
}

/**
 * Each client writes `start` at once, then `bytes` one byte every 100 ms until the server closes; every client must
 * get exactly the error response `status` and be closed between minMs and maxMs after the start.
 */
async function trickleUntilCut(
  clients: RawClient[], start: string, bytes: string, want: { status: number; minMs: number; maxMs: number },
): Promise<void> {
  const t0 = Date.now();
  const sending = clients.map(async (c) => {
    if (start) await c.write(start);
    await trickle(c, bytes, 100);
  });
  const closed = await Promise.all(clients.map((c) => c.waitClose(want.maxMs + 2000)));
  await Promise.all(sending);
  expect(closed.every(Boolean), 'every slow connection is closed').toBe(true);
  for (const c of clients) {
    expect(normalize(c.text)).toBe(errorResponse(want.status));
    expect(c.endedAt - t0).toBeGreaterThanOrEqual(want.minMs);
    expect(c.endedAt - t0).toBeLessThan(want.maxMs);
  }
}

describe.each(ioModels)('hostile: slow clients (%o)', (model) => {
  let server: ChildServer;
  beforeAll(async () => {
    server = await ChildServer.start({ ...model, headersTimeout: 1000, requestTimeout: 2000 });
  });
  afterAll(async () => {
    await server?.close();
  });

  test('slowloris: 50 heads at one byte per 100 ms -> 408 + close at headersTimeout (1 s), others unaffected',
    async () => {
      const base = await baseline(server);
      const before = await server.stats();
      const bystander = await Bystander.start(server.port);
      const head = `GET /slowloris HTTP/1.1\r\nHost: t\r\nX-Slow: ${'a'.repeat(300)}\r\n\r\n`;
      const clients = await Promise.all(Array.from({ length: 50 }, () => RawClient.connect(server.port)));
      await trickleUntilCut(clients, '', head, { status: 408, minMs: 900, maxMs: 3000 });
      const b = await bystander.stop();
      expectServed(b, 10);
      // A connection is counted by reason when its thread is done with it: after the linger that follows the 408,
      // which the client does not wait for (blocking model). Count once every connection is gone.
      await backToBaseline(server, base);
      const s = await server.stats();
      expect(s.calls - before.calls, 'the handler saw only the bystander').toBe(b.answered);
      expect(s.stats.closes.headersTimeout - before.stats.closes.headersTimeout).toBe(50);
    });

  test('slow body: 20 bodies at one byte per 100 ms -> 408 + close at requestTimeout (2 s), others unaffected',
    async () => {
      const base = await baseline(server);
      const before = await server.stats();
      const bystander = await Bystander.start(server.port);
      const clients = await Promise.all(Array.from({ length: 20 }, () => RawClient.connect(server.port)));
      const start = 'POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n';
      await trickleUntilCut(clients, start, 'x'.repeat(1000), { status: 408, minMs: 1800, maxMs: 4500 });
      const b = await bystander.stop();
      expectServed(b, 20);
      await backToBaseline(server, base);  // counted after the linger, as above
      const s = await server.stats();
      expect(s.stats.closes.requestTimeout - before.stats.closes.requestTimeout).toBe(20);
      expect(s.calls - before.calls, 'the handler saw the 20 slow requests and the bystander').toBe(20 + b.answered);
    });

  test('20 clients that never read a 256 MiB response: the server answers others, RSS stays bounded', async () => {
    const base = await baseline(server);
    const bystander = await Bystander.start(server.port);
    const clients = await Promise.all(Array.from({ length: 20 }, () => RawClient.connect(server.port)));
    for (const c of clients) {
      c.socket.pause(); // never read: the kernel buffers fill, then the server's writes stall
      await c.write(get(`/big?n=${256 * 1024 * 1024}`));
    }
    // 5 GiB asked for in all; what the server may hold is the per-response high-water mark, not the responses.
    let peak = 0;
    for (let i = 0; i < 15; i++) {
      await sleep(100);
      peak = Math.max(peak, server.usage().rss);
    }
    const answered = await probe(server.port, '/still-here');
    expect(answered).toBe('/still-here');
    const b = await bystander.stop();
    expectServed(b, 10);
    note(`${model.ioModel}/${model.backend ?? ''}/${model.threads ?? 1}: never-reading clients: RSS ${mb(base.rss)} -> ` +
      `peak ${mb(peak)}, bystander max latency ${b.maxLatencyMs} ms`);
    expect(peak - base.rss, `RSS grew from ${mb(base.rss)} to a peak of ${mb(peak)}`).toBeLessThan(64 * 1024 * 1024);
    const s = await server.stats();
    expect(s.stats.active).toBeGreaterThanOrEqual(20); // still stalled, not dropped (send deadline is 60 s)
    for (const c of clients) c.resetNow();
    const after = await backToBaseline(server, base);
    note(`  after: RSS ${mb(after.rss)}, fds ${base.fds} -> ${after.fds}`);
  });
});
