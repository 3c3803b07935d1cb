// The connection cap and graceful shutdown with many connections at once:
// - maxConnections 50 holding 20 busy and 30 idle connections, then 200 clients connecting at once: the idle ones
//   are evicted (closed without a byte after their response), the busy ones are untouched, every newcomer is either
//   served, evicted or refused with exactly the ready-made 503, and stats() counts each outcome.
// - server.close() while 20 slow handlers run: idle connections close at once (closes.shutdown), new connects are
//   refused, each slow handler's response says Connection: close, 'close' fires after the last of them;
//   closeAllConnections() instead drops the busy ones at once.
import * as net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import {
  cleanup, deferred, errorResponse, get, ioModels, normalize, RawClient, response, sleep, startServer, waitFor,
  withTimeout,
} from './helpers.js';

afterEach(cleanup);

/** Resolves true when a connect to the port is refused (nothing listens), false when it connects. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

/** n clients, each connected and its request `path(i)` written. */
async function clients(port: number, n: number, path: (i: number) => string): Promise<RawClient[]> {
  const cs = await Promise.all(Array.from({ length: n }, () => RawClient.connect(port, { timeoutMs: 10000 })));
  await Promise.all(cs.map((c, i) => c.write(get(path(i)))));
  return cs;
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

describe.each(ioModels)('connection cap and shutdown under concurrency (%o)', (model) => {
  test('maxConnections 50 (20 busy, 30 idle), 200 clients connect at once: idle evicted, busy kept, ' +
    'the rest served, evicted or refused with the exact 503', async () => {
    const release = deferred();
    const held = new Set<string>();
    const { port, server } = await startServer({ ...model, maxConnections: 50 }, async (req, res) => {
      if (!req.url.startsWith('/idle')) {
        held.add(req.url);
        await release.promise;
      }
      res.end(req.url);
    });
    const busy = await clients(port, 20, (i) => `/busy/${i}`);
    await waitFor(() => held.size === 20, 5000, '20 busy requests in their handlers');
    const idle = await clients(port, 30, (i) => `/idle/${i}`);
    await Promise.all(idle.map((c) => c.waitResponses(1, 5000)));
    await waitFor(() => server.stats().idle === 30, 3000, '30 idle connections');
    expect(server.stats().active).toBe(50);

    // 200 connects in flight together, each writing its request as soon as it is connected.
    const newcomers = await clients(port, 200, (i) => `/new/${i}`);
    const heldNew = () => newcomers.filter((_, i) => held.has(`/new/${i}`));
    await waitFor(() => newcomers.every((c, i) => c.serverClosed || held.has(`/new/${i}`)), 10000,
      'every newcomer served (in its handler) or closed');

    // The idle ones were evicted: closed, with nothing after their own response.
    for (const [i, c] of idle.entries()) {
      expect(await c.waitClose(3000)).toBe(true);
      expect(normalize(c.text)).toBe(response({ body: `/idle/${i}` }));
    }
    // Each newcomer: in its handler (a slot freed by an eviction), evicted before its request was read (closed
    // without a byte), or refused with exactly the 503.
    const served = heldNew();
    const evictedNew = newcomers.filter((c, i) => !held.has(`/new/${i}`) && c.serverClosed && c.bytesReceived === 0);
    const refusedNew = newcomers.filter((c, i) => !held.has(`/new/${i}`) && c.serverClosed && c.bytesReceived > 0);
    console.log(`cap storm ${JSON.stringify(model)}: ${served.length} served, ${evictedNew.length} evicted, ` +
      `${refusedNew.length} refused with 503`);
    for (const c of refusedNew) expect(normalize(c.text)).toBe(errorResponse(503));
    for (const c of served) expect(c.serverClosed).toBe(false);
    expect(served.length + evictedNew.length + refusedNew.length).toBe(200);
    // The 30 slots of the evicted idle connections went to newcomers; nothing else frees a slot while the busy
    // ones are held, so exactly 30 newcomers are served.
    expect(served).toHaveLength(30);
    // How the other 170 split between eviction and 503 is timing: a connection counts as idle from its accept until
    // its first bytes are read, so in a storm a newcomer may evict the one accepted just before it (blocking has been
    // seen evicting all 170, evented refusing most of them).
    for (const c of busy) expect(c.serverClosed).toBe(false);

    // Refused clients close their side (ending the server's linger after the 503); the server then holds exactly
    // its 50, and every close is counted.
    for (const c of [...refusedNew, ...evictedNew]) c.destroy();
    await waitFor(() => server.stats().active === 50, 5000, '50 active connections');
    let s = server.stats();
    expect(s.accepted).toBe(250);
    expect(s.requests).toBe(20 + 30 + 30);
    expect(s.closes.evicted).toBe(30 + evictedNew.length);
    expect(s.closes.cap).toBe(refusedNew.length);

    // Release: every held request, the 20 first ones and the 30 newcomers, gets its response.
    release.resolve();
    await Promise.all(busy.map((c) => c.waitResponses(1, 5000)));
    await Promise.all(served.map((c) => c.waitResponses(1, 5000)));
    for (const [i, c] of busy.entries()) expect(normalize(c.text)).toBe(response({ body: `/busy/${i}` }));
    for (const c of served) {
      const i = newcomers.indexOf(c);
      expect(normalize(c.text)).toBe(response({ body: `/new/${i}` }));
    }
    s = server.stats();
    expect(s.active).toBe(50);
    expect(sum(s.closes)).toBe(s.closes.evicted + s.closes.cap + s.closes.client);
  });

  test('close() with 20 slow handlers in flight: idle connections close at once, new connects are refused, ' +
    "each response says Connection: close, 'close' fires after the last", async () => {
    const release = deferred();
    let running = 0;
    const { port, server } = await startServer({ ...model }, async (req, res) => {
      if (req.url.startsWith('/slow')) {
        running++;
        await release.promise;
        running--;
      }
      res.end(req.url);
    });
    const slow = await clients(port, 20, (i) => `/slow/${i}`);
    const idle = await clients(port, 10, (i) => `/idle/${i}`);
    await Promise.all(idle.map((c) => c.waitResponses(1, 5000)));
    await waitFor(() => running === 20, 5000, '20 slow handlers running');
    await waitFor(() => server.stats().idle === 10, 3000, '10 idle connections');

    let closedAt = 0;
    server.on('close', () => (closedAt = Date.now()));
    const t0 = Date.now();
    server.close();
    // The idle ones close at once, without another byte.
    for (const [i, c] of idle.entries()) {
      expect(await c.waitClose(1000)).toBe(true);
      expect(normalize(c.text)).toBe(response({ body: `/idle/${i}` }));
    }
    expect(Date.now() - t0).toBeLessThan(1000);
    // (counted just after the socket is closed, so maybe a moment after the client saw it)
    await waitFor(() => server.stats().closes.shutdown === 10, 1000, 'closes.shutdown to count the idle ones');
    expect(await refused(port)).toBe(true);
    await sleep(200);
    // The slow ones are untouched and 'close' waits for them.
    expect(closedAt).toBe(0);
    for (const c of slow) expect(c.serverClosed).toBe(false);
    expect(server.stats().active).toBe(20);

    const releasedAt = Date.now();
    release.resolve();
    for (const [i, c] of slow.entries()) {
      expect(await c.waitClose(5000)).toBe(true);
      expect(normalize(c.text)).toBe(response({ body: `/slow/${i}`, persist: false }));
    }
    await waitFor(() => closedAt > 0, 5000, "the 'close' event");
    expect(closedAt).toBeGreaterThanOrEqual(releasedAt);
    const s = server.stats();
    expect(s.active).toBe(0);
    expect(s.requests).toBe(30);
    expect(s.closes.shutdown).toBe(30);
    expect(sum(s.closes)).toBe(30);
  });

  test('close() then closeAllConnections() with 20 slow handlers: they are dropped at once, then close ' +
    'completes', async () => {
    const release = deferred();
    let running = 0;
    const { port, server } = await startServer({ ...model }, async (req, res) => {
      running++;
      await release.promise;
      res.end(req.url);
    });
    const slow = await clients(port, 20, (i) => `/slow/${i}`);
    await waitFor(() => running === 20, 5000, '20 slow handlers running');
    const closed = deferred();
    server.close(() => closed.resolve());
    await sleep(100);
    expect(slow.every((c) => !c.serverClosed)).toBe(true);
    server.closeAllConnections();
    for (const c of slow) {
      expect(await c.waitClose(2000)).toBe(true);
      expect(c.bytesReceived).toBe(0);
    }
    await withTimeout(closed.promise, 3000, 'close() callback');
    release.resolve(); // the handlers finish into connections that are gone: nothing breaks
    await sleep(50);
    const s = server.stats();
    expect(s.active).toBe(0);
    expect(s.closes.shutdown).toBe(20);
    expect(await refused(port)).toBe(true);
  });
});
