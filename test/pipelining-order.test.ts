// Pipelining and partial input: many requests in one write, responses in request order even when handlers finish
// in reverse, nothing processed after a closing request, and requests arriving byte by byte or split anywhere.
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, get, ioModels, normalize, RawClient, rawExchange, response, sleep, startServer } from './helpers.js';

afterEach(cleanup);

describe.each(ioModels)('pipelining (%o)', (model) => {
  test('50 requests in one write: 50 responses in order, exact bytes, connection kept', async () => {
    const urls: string[] = [];
    const { port } = await startServer({ ...model }, (req, res) => {
      urls.push(req.url);
      res.end(req.url);
    });
    const client = await RawClient.connect(port);
    await client.write(Array.from({ length: 50 }, (_, i) => get(`/p${i}`)).join(''));
    const rs = await client.waitResponses(50, 5000);
    expect(rs.length).toBe(50);
    expect(normalize(client.text)).toBe(
      Array.from({ length: 50 }, (_, i) => response({ body: `/p${i}` })).join(''),
    );
    expect(urls).toEqual(Array.from({ length: 50 }, (_, i) => `/p${i}`));
    expect(await client.staysOpen(100)).toBe(true);
    // and the connection is still usable
    await client.write(get('/after'));
    const all = await client.waitResponses(51);
    expect(normalize(all[50].raw)).toBe(response({ body: '/after' }));
  });

  test('async handlers finishing in reverse order are answered in request order', async () => {
    const n = 8;
    const finished: string[] = [];
    const { port } = await startServer({ ...model }, (req, res) => {
      const i = Number(req.url.slice(1));
      setTimeout(() => {
        finished.push(req.url);
        res.end(`body${i}`);
      }, (n - i) * 40);
    });
    const client = await RawClient.connect(port);
    await client.write(Array.from({ length: n }, (_, i) => get(`/${i}`)).join(''));
    const rs = await client.waitResponses(n, 5000);
    expect(rs.map((r) => r.body.toString())).toEqual(Array.from({ length: n }, (_, i) => `body${i}`));
    expect(normalize(client.text)).toBe(Array.from({ length: n }, (_, i) => response({ body: `body${i}` })).join(''));
    // the handlers really did finish out of order (all were dispatched before the first response was written)
    expect(finished[0]).toBe(`/${n - 1}`);
  });

  test('a streamed response holds back later finished responses until it ends', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      if (req.url === '/slow') {
        res.write('a');
        setTimeout(() => res.write('b'), 50);
        setTimeout(() => res.end('c'), 100);
      } else {
        res.end('fast');
      }
    });
    const client = await RawClient.connect(port);
    await client.write(get('/slow') + get('/fast'));
    const rs = await client.waitResponses(2, 3000);
    expect(rs.length).toBe(2);
    expect(rs[0].body.toString()).toBe('abc');
    expect(rs[0].framing).toBe('chunked');
    expect(normalize(rs[1].raw)).toBe(response({ body: 'fast' }));
  });

  test('nothing after a Connection: close request is processed, even if already pipelined', async () => {
    const urls: string[] = [];
    const { port } = await startServer({ ...model }, (req, res) => {
      urls.push(req.url);
      res.end(req.url);
    });
    const client = await RawClient.connect(port);
    await client.write(get('/1') + get('/2', ['Connection: close']) + get('/3') + get('/4'));
    expect(await client.waitClose(3000)).toBe(true);
    expect(normalize(client.text)).toBe(response({ body: '/1' }) + response({ body: '/2', persist: false }));
    await sleep(100);
    expect(urls).toEqual(['/1', '/2']);
  });

  test('nothing after an HTTP/1.0 request without keep-alive is processed', async () => {
    const urls: string[] = [];
    const { port } = await startServer({ ...model }, (req, res) => {
      urls.push(req.url);
      res.end('x');
    });
    const client = await RawClient.connect(port);
    await client.write('GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n' + get('/c'));
    expect(await client.waitClose(3000)).toBe(true);
    expect(normalize(client.text)).toBe(response({ body: 'x', persist: false }));
    await sleep(100);
    expect(urls).toEqual(['/a']);
  });

  test('garbage pipelined after a closing request is never parsed (no 400)', async () => {
    const { port } = await startServer({ ...model }, (req, res) => res.end('ok'));
    const client = await RawClient.connect(port);
    await client.write(get('/', ['Connection: close']) + 'THIS IS NOT HTTP\r\n\r\n');
    expect(await client.waitClose(3000)).toBe(true);
    expect(normalize(client.text)).toBe(response({ body: 'ok', persist: false }));
  });

  test('a malformed request after good pipelined ones: the good ones are answered, then 400', async () => {
    let calls = 0;
    const { port } = await startServer({ ...model }, (req, res) => {
      calls++;
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/1') + get('/2') + 'GET / HTTP/1.1\r\nHost : bad\r\n\r\n' + get('/4'));
    expect(await client.waitClose(3000)).toBe(true);
    expect(normalize(client.text)).toBe(
      response({ body: 'ok' }) + response({ body: 'ok' }) +
        'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request',
    );
    expect(calls).toBe(2);
  });
});

describe.each(ioModels)('partial input (%o)', (model) => {
  test('a request sent one byte at a time', async () => {
    const seen: unknown[] = [];
    const { port } = await startServer({ ...model }, (req, res) => {
      seen.push([req.method, req.url, req.headers]);
      res.end('ok');
    });
    const req = 'GET /byte/by/byte?x=1 HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n\r\n';
    const client = await RawClient.connect(port);
    await client.send(req.split(''), 3);
    const rs = await client.waitResponses(1);
    expect(normalize(rs[0].raw)).toBe(response({ body: 'ok' }));
    expect(seen).toEqual([['GET', '/byte/by/byte?x=1', { host: 't', 'x-a': '1' }]]);
  });

  test('a POST with a Content-Length body sent one byte at a time', async () => {
    const { port } = await startServer({ ...model }, async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c);
      res.end(Buffer.concat(chunks));
    });
    const req = 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789';
    const client = await RawClient.connect(port);
    await client.send(req.split(''), 2);
    const rs = await client.waitResponses(1);
    expect(normalize(rs[0].raw)).toBe(response({ body: '0123456789' }));
  });

  test('a chunked body sent one byte at a time, then a second request', async () => {
    const { port } = await startServer({ ...model }, async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c);
      res.end(Buffer.concat(chunks).toString() || 'empty');
    });
    const req =
      'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nT: v\r\n\r\n';
    const client = await RawClient.connect(port);
    await client.send(req.split(''), 2);
    await client.waitResponses(1);
    await client.write(get('/'));
    const rs = await client.waitResponses(2);
    expect(normalize(client.text)).toBe(response({ body: 'abc0123456789' }) + response({ body: 'empty' }));
    expect(rs.length).toBe(2);
  });

  test('two pipelined requests split at every byte position across two writes', async () => {
    const { port } = await startServer({ ...model }, (req, res) => res.end(req.url));
    const bytes = get('/one', ['X-Pad: abc']) + get('/two');
    const client = await RawClient.connect(port);
    // one connection, every split point: write part 1, pause, write part 2, expect both responses
    for (let cut = 1; cut < bytes.length; cut++) {
      const before = client.responses.length;
      await client.write(bytes.slice(0, cut));
      await sleep(2);
      await client.write(bytes.slice(cut));
      const rs = await client.waitResponses(before + 2);
      expect(rs.length, `split at ${cut}`).toBe(before + 2);
      expect(rs[before].body.toString(), `split at ${cut}`).toBe('/one');
      expect(rs[before + 1].body.toString(), `split at ${cut}`).toBe('/two');
    }
    expect(client.serverClosed).toBe(false);
    expect(client.split().rest).toBe('');
  });

  test('a request written in pieces with pauses (rawExchange), read until one response', async () => {
    const { port } = await startServer({ ...model }, (req, res) => res.end(req.headers['x-a']));
    const text = await rawExchange(port, ['GET / HT', 'TP/1.1\r\nHo', 'st: t\r\nX-A: v', 'alue\r', '\n\r', '\n'], {
      until: { responses: 1 },
      delayMs: 30,
    });
    expect(normalize(text)).toBe(response({ body: 'value' }));
  });

  test('pieces ending in a closing request (rawExchange), read until the server closes', async () => {
    const { port } = await startServer({ ...model }, (req, res) => res.end(req.url));
    const text = await rawExchange(port, [get('/a'), get('/b', ['Connection: close'])], { until: 'close' });
    expect(normalize(text)).toBe(response({ body: '/a' }) + response({ body: '/b', persist: false }));
  });

  test('empty lines before a request line are ignored', async () => {
    const { port } = await startServer({ ...model }, (req, res) => res.end(req.url));
    const client = await RawClient.connect(port);
    await client.write(get('/a') + '\r\n' + get('/b'));
    const rs = await client.waitResponses(2);
    expect(normalize(client.text)).toBe(response({ body: '/a' }) + response({ body: '/b' }));
    expect(rs.length).toBe(2);
  });
});
