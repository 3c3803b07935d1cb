// Clients that go away: a reset in the middle of a request head, a body or a response never takes the server down
// (other and later connections are served, the request/response objects get 'close'); with allowHalfOpen, a client
// that half-closes after a complete request still gets its response(s), then the server closes (without it, such a
// client has left: test/connection-disconnect.test.ts).
import { afterEach, describe, expect, test } from 'vitest';
import {
  cleanup, deferred, get, ioModels, normalize, RawClient, response, sleep, startServer, waitFor,
} from './helpers.js';

afterEach(cleanup);

async function served(port: number, path = '/check'): Promise<void> {
  const c = await RawClient.connect(port);
  await c.write(get(path));
  const rs = await c.waitResponses(1);
  expect(normalize(rs[0]?.raw ?? c.text)).toBe(response({ body: path }));
  c.destroy();
}

describe.each(ioModels)('client resets (%o)', (model) => {
  test('reset in the middle of a request head: the server keeps serving', async () => {
    let calls = 0;
    const { port } = await startServer({ ...model }, (req, res) => {
      calls++;
      res.end(req.url);
    });
    const other = await RawClient.connect(port);
    for (let i = 0; i < 5; i++) {
      const c = await RawClient.connect(port);
      await c.write('GET /partial HTTP/1.1\r\nHost: t\r\nX-A: ');
      await sleep(20);
      c.resetNow();
    }
    await served(port);
    await other.write(get('/other'));
    const rs = await other.waitResponses(1);
    expect(rs[0].body.toString()).toBe('/other');
    expect(calls).toBe(2);
  });

  test('reset in the middle of a request body: req gets close, the server keeps serving', async () => {
    const closed = deferred();
    const { port } = await startServer({ ...model }, (req, res) => {
      if (req.url !== '/upload') return res.end(req.url);
      req.on('error', () => {});
      req.on('data', () => {});
      req.on('close', () => closed.resolve());
      res.on('error', () => {});
    });
    const c = await RawClient.connect(port);
    await c.write('POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(1000));
    await sleep(100);
    c.resetNow();
    await expectWithin(closed.promise, 3000, "req 'close' after the client reset");
    await served(port);
  });

  test('reset in the middle of a large response: res gets close (not finish), the server keeps serving', async () => {
    const resClosed = deferred();
    let finished = false;
    let writes = 0;
    const { port } = await startServer({ ...model }, (req, res) => {
      if (req.url !== '/big') return res.end(req.url);
      res.on('close', () => resClosed.resolve());
      res.on('finish', () => (finished = true));
      res.on('error', () => {});
      const chunk = Buffer.alloc(64 * 1024, 0x62);
      let stopped = false;
      res.on('close', () => (stopped = true));
      const pump = () => {
        while (!stopped && writes < 1600) {
          writes++;
          if (!res.write(chunk)) return res.once('drain', pump);
        }
        if (!stopped) res.end();
      };
      pump();
    });
    const c = await RawClient.connect(port);
    await c.write(get('/big'));
    await c.until(() => c.bytesReceived > 256 * 1024, 3000, 'some of the response');
    c.resetNow();
    await expectWithin(resClosed.promise, 3000, "res 'close' after the client reset");
    expect(finished).toBe(false);
    expect(writes).toBeLessThan(1600);
    await served(port);
  });

  test('reset while the handler is still working: a late res.end() is harmless', async () => {
    const ended = deferred();
    const { port } = await startServer({ ...model }, (req, res) => {
      if (req.url !== '/slow') return res.end(req.url);
      res.on('error', () => {});
      setTimeout(() => {
        res.end('too late');
        ended.resolve();
      }, 200);
    });
    const c = await RawClient.connect(port);
    await c.write(get('/slow'));
    await sleep(50);
    c.resetNow();
    await expectWithin(ended.promise, 3000, 'the late end()');
    await sleep(50);
    await served(port);
  });

  test('many resets in a row do not leak or wedge the server', async () => {
    const { port } = await startServer({ ...model }, (req, res) => res.end(req.url));
    for (let i = 0; i < 30; i++) {
      const c = await RawClient.connect(port);
      if (i % 3 === 0) await c.write(get('/x'));
      if (i % 3 === 1) await c.write('GET / HT');
      c.resetNow();
    }
    await served(port);
  });
});

describe.each(ioModels)('half-close with allowHalfOpen (%o)', (model) => {
  test('FIN after a full request: the response still arrives, then the server closes', async () => {
    const { port } = await startServer({ ...model, allowHalfOpen: true }, (req, res) => {
      setTimeout(() => res.end('answer'), 50);
    });
    const c = await RawClient.connect(port);
    await c.write(get('/'));
    c.end();
    const rs = await c.waitResponses(1, 3000);
    expect(rs.length).toBe(1);
    expect(rs[0].status).toBe(200);
    expect(rs[0].body.toString()).toBe('answer');
    expect(await c.waitClose(3000)).toBe(true);
    expect(c.split().rest).toBe('');
  });

  test('FIN after two pipelined requests: both responses arrive in order', async () => {
    const { port } = await startServer({ ...model, allowHalfOpen: true }, (req, res) => {
      setTimeout(() => res.end(req.url), req.url === '/1' ? 80 : 10);
    });
    const c = await RawClient.connect(port);
    await c.write(get('/1') + get('/2'));
    c.end();
    expect(await c.waitClose(3000)).toBe(true);
    const rs = c.responses;
    expect(rs.map((r) => `${r.status} ${r.body}`)).toEqual(['200 /1', '200 /2']);
  });

  test('FIN after a full request with a body: the response still arrives', async () => {
    const { port } = await startServer({ ...model, allowHalfOpen: true }, async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const ch of req) chunks.push(ch);
      res.end(Buffer.concat(chunks));
    });
    const c = await RawClient.connect(port);
    await c.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello');
    c.end();
    expect(await c.waitClose(3000)).toBe(true);
    expect(c.responses.map((r) => r.body.toString())).toEqual(['hello']);
  });

  test('FIN in the middle of a head: the server closes without calling the handler', async () => {
    let calls = 0;
    const { port } = await startServer({ ...model, allowHalfOpen: true }, (req, res) => {
      calls++;
      res.end(req.url);
    });
    const c = await RawClient.connect(port);
    await c.write('GET / HTTP/1.1\r\nHo');
    c.end();
    expect(await c.waitClose(3000)).toBe(true);
    await sleep(50);
    expect(calls).toBe(0);
    // nothing, or at most a 400 for the truncated request
    expect(['', 'HTTP/1.1 400']).toContain(c.text.slice(0, 12));
    await served(port);
    expect(calls).toBe(1);
  });
});

async function expectWithin(p: Promise<unknown>, ms: number, what: string): Promise<void> {
  let done = false;
  p.then(() => (done = true));
  await waitFor(() => done, ms, what);
}
