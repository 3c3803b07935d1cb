// A refused client cannot hold the server's door: at maxConnections with nothing idle, each new client gets its
// 503 promptly even while an earlier refused client trickles a byte every 20 ms (the blocking model refused on
// its accept thread, lingering with a per-recv timeout and no overall deadline: one trickler kept everyone out).
import * as net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, errorResponse, get, ioModels, normalize, RawClient, sleep, startServer } from './helpers.js';

afterEach(cleanup);

describe.each(ioModels)('hostile: refused clients (%o)', (model) => {
  test('maxConnections 1, a refused client trickling a byte every 20 ms: the next client is refused at once, ' +
    'and served once the slot frees', async () => {
    const { port } = await startServer({ ...model, maxConnections: 1 }, (req, res) => {
      if (req.url === '/hold') setTimeout(() => res.end('held'), 1500);
      else res.end(req.url);
    });
    const holder = await RawClient.connect(port);
    await holder.write(get('/hold'));
    await sleep(100); // dispatched: the one slot is busy, nothing idle to evict

    // Half-open: it goes on sending after the 503 and the server's FIN, as a hostile client would.
    const trickler = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    trickler.on('error', () => {});
    trickler.on('data', () => {});
    await new Promise((resolve) => trickler.once('connect', resolve));
    let trickling = true;
    const trickle = (async () => {
      for (let i = 0; trickling && i < 100 && !trickler.destroyed; i++) {
        trickler.write('x');
        await sleep(20);
      }
    })();
    await sleep(100);

    const t0 = Date.now();
    const next = await RawClient.connect(port);
    await next.write(get('/next'));
    const closed = await next.waitClose(1000);
    const ms = Date.now() - t0;
    trickling = false;
    await trickle;
    trickler.destroy();
    expect(closed, `the next client was answered and closed (after ${ms} ms)`).toBe(true);
    expect(normalize(next.text)).toBe(errorResponse(503));
    expect(ms, 'the next refusal waited for the trickling client').toBeLessThan(1000);

    const held = await holder.waitResponses(1, 3000);
    expect(held[0]?.body.toString()).toBe('held');
    holder.destroy();
    await sleep(50);
    const after = await RawClient.connect(port);
    await after.write(get('/after'));
    const rs = await after.waitResponses(1, 3000);
    expect(rs[0]?.body.toString()).toBe('/after');
  });
});
