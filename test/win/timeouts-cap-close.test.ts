// Windows subset: the idle timeout (blocking model: SO_RCVTIMEO, a DWORD of ms on Windows; evented: WSAPoll's
// timeout and the timer wheel), the connection cap with eviction and the 503 refusal, server.close() and
// closeAllConnections(), in both Windows I/O models.
import { afterEach, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  cleanup, deferred, errorResponse, get, normalize, RawClient, response, sleep, startServer,
} from '../helpers.js';
import { label, winModels } from './models.js';

afterEach(cleanup);

for (const model of winModels) {
  describe(`idle timeout ${label(model)}`, () => {
    test('keepAliveTimeout 1000: an idle connection stays open, then closes on its own, counted as idleTimeout', async () => {
      const { port, server } = await startServer({ ...model, keepAliveTimeout: 1000 }, (req, res) => res.end('ok'));
      const client = await RawClient.connect(port);
      await client.write(get('/'));
      await client.waitResponses(1);
      const t0 = Date.now();
      assert.equal(await client.staysOpen(500), true);
      assert.equal(await client.waitClose(5000), true);
      const idleMs = Date.now() - t0;
      assert.ok(idleMs >= 900, `closed after ${idleMs} ms, before the 1000 ms timeout`);
      assert.equal(normalize(client.text), response({ body: 'ok', timeoutS: 1 }));
      assert.equal(server.stats().closes.idleTimeout, 1);
    });

    test('a request before the timeout restarts it', async () => {
      const { port } = await startServer({ ...model, keepAliveTimeout: 800 }, (req, res) => res.end(req.url));
      const client = await RawClient.connect(port);
      for (let i = 0; i < 4; i++) {
        await client.write(get(`/k${i}`));
        await client.waitResponses(i + 1);
        await sleep(400);
      }
      assert.equal(client.serverClosed, false);
      assert.equal(await client.waitClose(5000), true);
    });
  });

  describe(`connection cap ${label(model)}`, () => {
    test('maxConnections 2: a third connection evicts the least recently used idle one', async () => {
      const { port, server } = await startServer({ ...model, maxConnections: 2 }, (req, res) => res.end(req.url));
      const a = await RawClient.connect(port);
      await a.write(get('/a1'));
      await a.waitResponses(1);
      const b = await RawClient.connect(port);
      await b.write(get('/b1'));
      await b.waitResponses(1);
      await sleep(30);
      await a.write(get('/a2'));
      await a.waitResponses(2);
      await sleep(30);
      const c = await RawClient.connect(port);
      await c.write(get('/c1'));
      const rs = await c.waitResponses(1);
      assert.equal(normalize(rs[0].raw), response({ body: '/c1' }));
      assert.equal(await b.waitClose(2000), true);
      assert.equal(normalize(b.text), response({ body: '/b1' }));
      assert.equal(await a.staysOpen(50), true);
      assert.equal(server.stats().closes.evicted, 1);
    });

    test('maxConnections 1, none idle: the second connection gets 503 + close; the busy one finishes', async () => {
      const release = deferred();
      const { port } = await startServer({ ...model, maxConnections: 1 }, async (req, res) => {
        await release.promise;
        res.end(req.url);
      });
      const a = await RawClient.connect(port);
      await a.write(get('/busy'));
      await sleep(100);
      const b = await RawClient.connect(port);
      await b.write(get('/refused'));
      assert.equal(await b.waitClose(3000), true);
      assert.equal(normalize(b.text), errorResponse(503));
      release.resolve();
      const rs = await a.waitResponses(1);
      assert.equal(normalize(rs[0].raw), response({ body: '/busy' }));
    });
  });

  describe(`close ${label(model)}`, () => {
    test('server.close(): the idle connection closes, the busy one is answered with close, then the callback', async () => {
      const release = deferred();
      const { port, server } = await startServer({ ...model }, async (req, res) => {
        if (req.url === '/hold') await release.promise;
        res.end(req.url);
      });
      const idle = await RawClient.connect(port);
      await idle.write(get('/idle'));
      await idle.waitResponses(1);
      const busy = await RawClient.connect(port);
      await busy.write(get('/hold'));
      await sleep(100);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      assert.equal(await idle.waitClose(2000), true);
      release.resolve();
      const rs = await busy.waitResponses(1);
      assert.equal(rs[0].body.toString(), '/hold');
      assert.equal(await busy.waitClose(2000), true);
      await closed;
    });

    test('closeAllConnections(): idle and busy connections are closed at once', async () => {
      const { port, server } = await startServer({ ...model }, (req, res) => {
        if (req.url !== '/hold') res.end(req.url);
      });
      const idle = await RawClient.connect(port);
      await idle.write(get('/idle'));
      await idle.waitResponses(1);
      const busy = await RawClient.connect(port);
      await busy.write(get('/hold'));
      await sleep(100);
      server.closeAllConnections();
      assert.equal(await idle.waitClose(2000), true);
      assert.equal(await busy.waitClose(2000), true);
      assert.equal(busy.text, '');
    });
  });
}
