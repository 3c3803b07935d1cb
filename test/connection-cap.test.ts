// maxConnections: at the cap a new connection evicts the least recently used idle connection (closed without a
// byte); with none idle, the new connection gets 503 + Connection: close and is never handed to the handler.
import { afterEach, describe, expect, test } from 'vitest';
import {
  cleanup, deferred, errorResponse, get, ioModels, normalize, RawClient, response, sleep, startServer,
} from './helpers.js';

afterEach(cleanup);

describe.each(ioModels)('maxConnections (%o)', (model) => {
  test('maxConnections 2: a third connection evicts the least recently used idle one', async () => {
    const { port } = await startServer({ ...model, maxConnections: 2 }, (req, res) => res.end(req.url));
    const a = await RawClient.connect(port);
    await a.write(get('/a1'));
    await a.waitResponses(1);
    const b = await RawClient.connect(port);
    await b.write(get('/b1'));
    await b.waitResponses(1);
    await sleep(20);
    await a.write(get('/a2')); // a is now the most recently used; b is the oldest idle
    await a.waitResponses(2);
    await sleep(20);

    const c = await RawClient.connect(port);
    await c.write(get('/c1'));
    const rs = await c.waitResponses(1);
    expect(normalize(rs[0]?.raw ?? c.text)).toBe(response({ body: '/c1' }));

    expect(await b.waitClose(2000)).toBe(true);
    // evicted without a byte after its last response
    expect(normalize(b.text)).toBe(response({ body: '/b1' }));
    // a stays open and usable
    expect(await a.staysOpen(50)).toBe(true);
    await a.write(get('/a3'));
    const ars = await a.waitResponses(3);
    expect(normalize(ars[2].raw)).toBe(response({ body: '/a3' }));
  });

  test('maxConnections 2, none idle: the third connection gets 503 + close; the busy two finish', async () => {
    const release = deferred();
    const urls: string[] = [];
    const { port } = await startServer({ ...model, maxConnections: 2 }, async (req, res) => {
      urls.push(req.url);
      await release.promise;
      res.end(req.url);
    });
    const a = await RawClient.connect(port);
    await a.write(get('/a'));
    const b = await RawClient.connect(port);
    await b.write(get('/b'));
    const deadline = Date.now() + 2000;
    while (urls.length < 2 && Date.now() < deadline) await sleep(10);
    expect(urls.sort()).toEqual(['/a', '/b']);

    const c = await RawClient.connect(port);
    await c.write(get('/c'));
    expect(await c.waitClose(3000)).toBe(true);
    expect(normalize(c.text)).toBe(errorResponse(503));

    release.resolve();
    const [ra] = await a.waitResponses(1);
    const [rb] = await b.waitResponses(1);
    expect(normalize(ra.raw)).toBe(response({ body: '/a' }));
    expect(normalize(rb.raw)).toBe(response({ body: '/b' }));
    expect(urls.sort()).toEqual(['/a', '/b']);
  });

  test('after a refused connection, a new one is served once capacity frees up', async () => {
    const release = deferred();
    const { port } = await startServer({ ...model, maxConnections: 1 }, async (req, res) => {
      if (req.url === '/hold') await release.promise;
      res.end(req.url, () => {});
    });
    const a = await RawClient.connect(port);
    await a.write(get('/hold', ['Connection: close']));
    await sleep(100);
    const b = await RawClient.connect(port);
    await b.write(get('/b'));
    expect(await b.waitClose(3000)).toBe(true);
    expect(normalize(b.text)).toBe(errorResponse(503));

    release.resolve();
    await a.waitResponses(1);
    expect(await a.waitClose(2000)).toBe(true);
    await sleep(50);
    const c = await RawClient.connect(port);
    await c.write(get('/c'));
    const [rc] = await c.waitResponses(1);
    expect(normalize(rc?.raw ?? c.text)).toBe(response({ body: '/c' }));
  });

  test('a connection with a request in flight is never evicted', async () => {
    const release = deferred();
    const { port } = await startServer({ ...model, maxConnections: 2 }, async (req, res) => {
      if (req.url === '/hold') await release.promise;
      res.end(req.url);
    });
    const busy = await RawClient.connect(port);
    await busy.write(get('/hold'));
    await sleep(50);
    const idle = await RawClient.connect(port);
    await idle.write(get('/idle'));
    await idle.waitResponses(1);
    await sleep(20);
    const fresh = await RawClient.connect(port);
    await fresh.write(get('/fresh'));
    const [rf] = await fresh.waitResponses(1);
    expect(normalize(rf?.raw ?? fresh.text)).toBe(response({ body: '/fresh' }));
    expect(await idle.waitClose(2000)).toBe(true); // the idle one went
    expect(busy.serverClosed).toBe(false); // the busy one stayed
    release.resolve();
    const [rb] = await busy.waitResponses(1);
    expect(normalize(rb.raw)).toBe(response({ body: '/hold' }));
  });
});
