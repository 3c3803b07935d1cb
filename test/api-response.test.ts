// The response object on the wire: header methods, writeHead forms, statusCode/statusMessage, headersSent,
// writableEnded, 'finish'/'close', end(cb); framing (Content-Length when known, chunked when streamed to 1.1,
// close-delimited when streamed to 1.0, no body for HEAD/204/304); write() backpressure and 'drain'.
import { once } from 'node:events';
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, deferred, get, ioModels, normalize, RawClient, response, sleep, startServer, waitFor } from './helpers.js';

afterEach(cleanup);

describe.each(ioModels)('response API (%o)', (model) => {
  test('setHeader/getHeader/getHeaders/hasHeader/removeHeader, fields in the order set', async () => {
    const checks = deferred<unknown>();
    const { port } = await startServer({ ...model }, (req, res) => {
      res.setHeader('X-Removed', 'gone');
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.setHeader('X-Multi', ['a', 'b']);
      res.setHeader('X-Num', 42);
      const r = {
        get: res.getHeader('content-type'),
        getUpper: res.getHeader('CONTENT-TYPE'),
        has: res.hasHeader('x-removed'),
        missing: res.getHeader('x-nope'),
      };
      res.removeHeader('x-removed');
      checks.resolve({ ...r, hasAfter: res.hasHeader('X-Removed'), headers: { ...res.getHeaders() } });
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    await client.waitResponses(1);
    expect(await checks.promise).toEqual({
      get: 'text/plain; charset=utf-8',
      getUpper: 'text/plain; charset=utf-8',
      has: true,
      missing: undefined,
      hasAfter: false,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'x-multi': ['a', 'b'], 'x-num': 42 },
    });
    expect(normalize(client.text)).toBe(
      response({ fields: ['Content-Type: text/plain; charset=utf-8', 'X-Multi: a', 'X-Multi: b', 'X-Num: 42'], body: 'ok' }),
    );
  });

  test('writeHead(status, message, headers) after setHeader: both sets of fields, custom reason', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      res.setHeader('X-First', '1');
      res.writeHead(201, 'Made It', { 'X-Second': '2' });
      res.end('created');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(
      response({ status: 201, reason: 'Made It', fields: ['X-First: 1', 'X-Second: 2'], body: 'created' }),
    );
  });

  test('writeHead(status, headers) uses the standard reason phrase', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('nope');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(response({ status: 404, fields: ['Content-Type: text/plain'], body: 'nope' }));
  });

  test('statusCode and statusMessage properties', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      expect(res.statusCode).toBe(200);
      res.statusCode = 202;
      res.statusMessage = 'Queued';
      res.end();
    });
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(response({ status: 202, reason: 'Queued', body: '' }));
  });

  test("headersSent, writableEnded, end(cb), 'finish' then 'close'", async () => {
    const log: string[] = [];
    const done = deferred();
    const { port } = await startServer({ ...model }, (req, res) => {
      log.push(`start sent=${res.headersSent} ended=${res.writableEnded}`);
      res.on('finish', () => log.push('finish'));
      res.on('close', () => {
        log.push('close');
        done.resolve();
      });
      res.write('a');
      log.push(`after write sent=${res.headersSent} ended=${res.writableEnded}`);
      res.end('b', () => log.push('end cb'));
      log.push(`after end ended=${res.writableEnded}`);
    });
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    await client.waitResponses(1);
    await done.promise;
    expect(log.slice(0, 3)).toEqual([
      'start sent=false ended=false',
      'after write sent=true ended=false',
      'after end ended=true',
    ]);
    expect(log).toContain('finish');
    expect(log).toContain('end cb');
    expect(log.indexOf('finish')).toBeLessThan(log.indexOf('close'));
  });

  test('end(Buffer) and a UTF-8 string body: Content-Length counts bytes', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      if (req.url === '/buf') res.end(Buffer.from([0, 1, 2, 255]));
      else res.end('héllo €');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/buf') + get('/utf8'));
    const rs = await client.waitResponses(2);
    expect(normalize(rs[0].raw)).toBe(response({ body: '\x00\x01\x02\xff' }));
    expect(rs[1].header('content-length')).toBe(String(Buffer.byteLength('héllo €')));
    expect(rs[1].body.toString('utf8')).toBe('héllo €');
  });

  test('HEAD: the Content-Length of the GET, no body bytes; the next request parses cleanly', async () => {
    const { port } = await startServer({ ...model }, (req, res) => res.end('hello'));
    const client = await RawClient.connect(port);
    client.head = [0];
    await client.write('HEAD / HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.waitResponses(1);
    await sleep(50);
    expect(normalize(client.text)).toBe(response({ contentLength: 5, body: '' }));
    await client.write(get('/'));
    await client.waitResponses(2);
    expect(normalize(client.text)).toBe(response({ contentLength: 5, body: '' }) + response({ body: 'hello' }));
  });

  test('204 and 304: no body, no Content-Length, connection kept', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      if (req.url === '/204') {
        res.statusCode = 204;
        res.end();
      } else {
        res.writeHead(304, { ETag: '"v1"' });
        res.end();
      }
    });
    const client = await RawClient.connect(port);
    await client.write(get('/204') + get('/304') + get('/204'));
    await client.waitResponses(3);
    await sleep(50);
    const r204 = response({ status: 204, framing: 'none' });
    expect(normalize(client.text)).toBe(r204 + response({ status: 304, fields: ['ETag: "v1"'], framing: 'none' }) + r204);
    expect(client.serverClosed).toBe(false);
  });

  test('streamed to an HTTP/1.1 client: chunked, then the connection is reused', async () => {
    const { port } = await startServer({ ...model }, async (req, res) => {
      if (req.url === '/next') return res.end('next');
      res.setHeader('Content-Type', 'text/plain');
      res.write('a');
      await sleep(20);
      res.write('bc');
      await sleep(20);
      res.end();
    });
    const client = await RawClient.connect(port);
    await client.write(get('/stream'));
    const [r] = await client.waitResponses(1);
    expect(normalize(r.head + '\r\n\r\n')).toBe(
      response({ fields: ['Content-Type: text/plain'], framing: 'chunked' }),
    );
    expect(r.framing).toBe('chunked');
    expect(r.body.toString()).toBe('abc');
    expect(r.raw.endsWith('\r\n0\r\n\r\n')).toBe(true);
    await client.write(get('/next'));
    const rs = await client.waitResponses(2);
    expect(normalize(rs[1].raw)).toBe(response({ body: 'next' }));
  });

  test('streamed chunks are framed exactly (one chunk per write when writes are apart)', async () => {
    const { port } = await startServer({ ...model }, async (req, res) => {
      res.write('hello');
      await sleep(50);
      res.end(' world!');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(
      response({ framing: 'chunked', body: '5\r\nhello\r\n7\r\n world!\r\n0\r\n\r\n' }),
    );
  });

  test('streamed to an HTTP/1.0 keep-alive client: close-delimited with Connection: close', async () => {
    const { port } = await startServer({ ...model }, async (req, res) => {
      res.write('a');
      await sleep(20);
      res.write('bc');
      res.end();
    });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    expect(await client.waitClose(3000)).toBe(true);
    expect(normalize(client.text)).toBe(response({ persist: false, framing: 'close', body: 'abc' }));
  });

  test("the handler's Transfer-Encoding to an HTTP/1.0 client: left out, close-delimited", async () => {
    const { port } = await startServer({ ...model }, async (req, res) => {
      res.setHeader('X-A', '1');
      res.setHeader('Transfer-Encoding', 'chunked');
      res.write('a');
      await sleep(20);
      res.end('bc');
    });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    expect(await client.waitClose(3000)).toBe(true);
    expect(normalize(client.text)).toBe(
      response({ persist: false, framing: 'close', fields: ['X-A: 1'], body: 'abc' }));
  });

  test('Content-Length set by the handler with streamed writes: no chunking, kept alive', async () => {
    const { port } = await startServer({ ...model }, async (req, res) => {
      res.setHeader('Content-Length', '5');
      res.write('he');
      await sleep(20);
      res.end('llo');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/') + 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    await client.waitResponses(2);
    await sleep(50);
    expect(normalize(client.text)).toBe(
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\nhello' +
        'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\nhello',
    );
    expect(client.serverClosed).toBe(false);
  });

  test('a Date set by the handler replaces the server Date', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      res.setHeader('Date', 'Thu, 01 Jan 1970 00:00:00 GMT');
      res.end('x');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    await client.waitResponses(1);
    expect(client.text).toBe(
      'HTTP/1.1 200 OK\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n' +
        'Content-Length: 1\r\n\r\nx',
    );
  });

  test('the server Date is an IMF-fixdate close to now', async () => {
    const { port } = await startServer({ ...model }, (req, res) => res.end('x'));
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    const [r] = await client.waitResponses(1);
    const date = r.header('date') ?? '';
    expect(date).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/);
    expect(Math.abs(Date.parse(date) - Date.now())).toBeLessThan(3000);
  });

  test('write() returns false under backpressure and drain follows: 10 MB to a slow reader', async () => {
    const total = 10 * 1024 * 1024;
    const state = { sent: 0, falses: 0, drains: 0, done: false };
    const { port } = await startServer({ ...model }, async (req, res) => {
      res.setHeader('Content-Length', String(total));
      const chunk = Buffer.alloc(64 * 1024, 0x7a);
      while (state.sent < total) {
        const ok = res.write(chunk);
        state.sent += chunk.length;
        if (!ok) {
          state.falses++;
          await once(res, 'drain');
          state.drains++;
        }
      }
      res.end(() => (state.done = true));
    });
    const client = await RawClient.connect(port);
    client.socket.pause();
    await client.write(get('/'));
    await waitFor(() => state.falses > 0, 3000, 'write() to return false');
    await sleep(500);
    // the handler is held back while the client does not read: not everything was accepted
    expect(state.sent).toBeLessThan(total);
    const stalledAt = state.sent;
    await sleep(200);
    expect(state.sent - stalledAt).toBeLessThanOrEqual(64 * 1024);
    client.socket.resume();
    await client.waitResponses(1, 15000);
    const [r] = client.responses;
    expect(r.body.length).toBe(total);
    expect(r.body.every((b) => b === 0x7a)).toBe(true);
    await waitFor(() => state.done, 3000, 'end() callback');
    expect(state.drains).toBe(state.falses);
  });

  test('a streamed chunked response of 10 MB arrives intact', async () => {
    const total = 10 * 1024 * 1024;
    const { port } = await startServer({ ...model }, async (req, res) => {
      const chunk = Buffer.alloc(100 * 1000, 0x41);
      for (let sent = 0; sent < total; sent += chunk.length) {
        const n = Math.min(chunk.length, total - sent);
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) await once(res, 'drain');
      }
      res.end();
    });
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    const [r] = await client.waitResponses(1, 15000);
    expect(r.framing).toBe('chunked');
    expect(r.body.length).toBe(total);
  });
});
