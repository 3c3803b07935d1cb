// Request bodies: Content-Length and chunked (extensions, trailers), read through 'data'/'end' and async iteration;
// unread bodies (drained when small, connection closed when large); Expect: 100-continue.
import { afterEach, describe, expect, test } from 'vitest';
import {
  cleanup, deferred, get, ioModels, normalize, RawClient, readBody, response, sleep, startServer, waitFor,
} from './helpers.js';

afterEach(cleanup);

describe.each(ioModels)('request bodies (%o)', (model) => {
  test('Content-Length body via data/end', async () => {
    const { port } = await startServer({ ...model }, async (req, res) => {
      const body = await readBody(req);
      res.end(`got ${body.length}: ${body.toString('latin1')}`);
    });
    const client = await RawClient.connect(port);
    await client.write('POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world');
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(response({ body: 'got 11: hello world' }));
  });

  test('Content-Length body via async iteration, arriving in pieces', async () => {
    const pieces: number[] = [];
    const { port } = await startServer({ ...model }, async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) {
        pieces.push(c.length);
        chunks.push(c);
      }
      res.end(Buffer.concat(chunks));
    });
    const client = await RawClient.connect(port);
    await client.send(['POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 12\r\n\r\nabcd', 'efgh', 'ijkl'], 50);
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(response({ body: 'abcdefghijkl' }));
    expect(pieces.reduce((a, b) => a + b, 0)).toBe(12);
  });

  test('binary body bytes arrive unchanged (all 256 byte values)', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    let got: Buffer | undefined;
    const { port } = await startServer({ ...model }, async (req, res) => {
      got = await readBody(req);
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write(Buffer.concat([Buffer.from('PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 256\r\n\r\n'), bytes]));
    await client.waitResponses(1);
    expect(got?.equals(bytes)).toBe(true);
  });

  test('Content-Length: 0 and a GET without body both end with no data', async () => {
    const results: string[] = [];
    const { port } = await startServer({ ...model }, async (req, res) => {
      const b = await readBody(req);
      results.push(`${req.method}:${b.length}`);
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n' + get('/'));
    await client.waitResponses(2);
    expect(results).toEqual(['POST:0', 'GET:0']);
    expect(normalize(client.text)).toBe(response({ body: 'ok' }) + response({ body: 'ok' }));
  });

  test('chunked body with extensions and trailers, then a second request on the same socket', async () => {
    const { port } = await startServer({ ...model }, async (req, res) => {
      const body = await readBody(req);
      res.end(`[${body.toString('latin1')}]`);
    });
    const client = await RawClient.connect(port);
    await client.write(
      'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '5;name=value\r\nhello\r\n' +
        '1;a;b="quoted;string"\r\n \r\n' +
        '5;ext\r\nworld\r\n' +
        '0;last=1\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n' +
        get('/next'),
    );
    const rs = await client.waitResponses(2);
    expect(rs.length).toBe(2);
    expect(normalize(client.text)).toBe(response({ body: '[hello world]' }) + response({ body: '[]' }));
  });

  test('chunk extension after bad whitespace (RFC 9112 BWS: "5 ; ext") is accepted', async () => {
    const { port } = await startServer({ ...model }, async (req, res) => {
      res.end((await readBody(req)).toString());
    });
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5 ; ext = 1\r\nhello\r\n0\r\n\r\n');
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(response({ body: 'hello' }));
  });

  test('chunked body: hex sizes in both cases, async iteration', async () => {
    const { port } = await startServer({ ...model }, async (req, res) => {
      let total = 0;
      for await (const c of req) total += c.length;
      res.end(String(total));
    });
    const a = 'a'.repeat(0x1a);
    const b = 'b'.repeat(0x2b);
    const client = await RawClient.connect(port);
    await client.write(
      `POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1A\r\n${a}\r\n2b\r\n${b}\r\n0\r\n\r\n`,
    );
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(response({ body: String(0x1a + 0x2b) }));
  });

  test('chunked body split at awkward points across writes', async () => {
    const { port } = await startServer({ ...model }, async (req, res) => {
      res.end((await readBody(req)).toString());
    });
    const client = await RawClient.connect(port);
    await client.send(
      ['POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1', '0\r', '\n0123456789abcdef\r', '\n0', '\r\n', '\r\n'],
      30,
    );
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(response({ body: '0123456789abcdef' }));
  });

  test('trailers are available to the handler after the body (req.trailers)', async () => {
    const got = deferred<unknown>();
    const { port } = await startServer({ ...model }, async (req, res) => {
      await readBody(req);
      got.resolve(req.trailers);
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nX-Sum: abc\r\n\r\n');
    await client.waitResponses(1);
    expect(await got.promise).toEqual({ 'x-sum': 'abc' });
  });

  test('a small unread body is drained: the connection stays usable', async () => {
    const calls: string[] = [];
    const { port } = await startServer({ ...model }, (req, res) => {
      calls.push(`${req.method} ${req.url}`);
      res.end('ok'); // never reads the body
    });
    const client = await RawClient.connect(port);
    await client.write('POST /unread HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789');
    await client.waitResponses(1);
    await client.write(get('/second'));
    const rs = await client.waitResponses(2);
    expect(rs.length).toBe(2);
    expect(normalize(client.text)).toBe(response({ body: 'ok' }) + response({ body: 'ok' }));
    expect(calls).toEqual(['POST /unread', 'GET /second']);
  });

  test('an unread body that arrives after the response is drained, the next pipelined request is served', async () => {
    const calls: string[] = [];
    const { port } = await startServer({ ...model }, (req, res) => {
      calls.push(req.url);
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write('POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 20000\r\n\r\n');
    await client.waitResponses(1);
    await client.write('x'.repeat(20000) + get('/b'));
    const rs = await client.waitResponses(2);
    expect(rs.length).toBe(2);
    expect(normalize(client.text)).toBe(response({ body: 'ok' }) + response({ body: 'ok' }));
    expect(calls).toEqual(['/a', '/b']);
  });

  test('a small unread chunked body is drained: the connection stays usable', async () => {
    const { port } = await startServer({ ...model }, (req, res) => res.end(req.url));
    const client = await RawClient.connect(port);
    await client.write(
      'POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' + get('/d'),
    );
    const rs = await client.waitResponses(2);
    expect(normalize(client.text)).toBe(response({ body: '/c' }) + response({ body: '/d' }));
    expect(rs.length).toBe(2);
  });

  test('an unread huge body (1 MB declared) -> the response says Connection: close and the socket closes', async () => {
    const calls: string[] = [];
    const { port } = await startServer({ ...model }, (req, res) => {
      calls.push(req.url);
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write('POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n' + 'x'.repeat(16384));
    await client.waitResponses(1);
    expect(await client.waitClose(4000)).toBe(true);
    expect(normalize(client.text)).toBe(response({ body: 'ok', persist: false }));
    expect(calls).toEqual(['/big']);
  });

  test('a huge body is streamed to the handler with flow control (8 MB, read slowly)', async () => {
    const total = 8 * 1024 * 1024;
    const { port } = await startServer({ ...model }, async (req, res) => {
      let n = 0;
      for await (const c of req) {
        n += c.length;
        if (n < 1024 * 1024) await sleep(1); // a slow consumer at first
      }
      res.end(String(n));
    });
    const client = await RawClient.connect(port);
    await client.write(`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${total}\r\n\r\n`);
    const block = Buffer.alloc(64 * 1024, 0x61);
    for (let sent = 0; sent < total; sent += block.length) await client.write(block);
    await client.waitResponses(1, 15000);
    expect(normalize(client.text)).toBe(response({ body: String(total) }));
  });

  test('Expect: 100-continue gets 100 Continue before the final response', async () => {
    const { port } = await startServer({ ...model }, async (req, res) => {
      res.end((await readBody(req)).toString());
    });
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
    await client.until(() => client.text.includes('\r\n\r\n'), 2000, '100 Continue');
    expect(client.text).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    await client.write('body');
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe('HTTP/1.1 100 Continue\r\n\r\n' + response({ body: 'body' }));
  });

  test('req emits end then close; a body read after a delay is still complete', async () => {
    const events: string[] = [];
    const { port } = await startServer({ ...model }, (req, res) => {
      setTimeout(() => {
        let s = '';
        req.on('data', (c: Buffer) => (s += c.toString()));
        req.on('end', () => {
          events.push(`end:${s}`);
          res.end(s);
        });
        req.on('close', () => events.push('close'));
      }, 100);
    });
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc');
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(response({ body: 'abc' }));
    await waitFor(() => events.includes('close'), 2000, "req 'close'");
    expect(events).toEqual(['end:abc', 'close']);
  });
  test('a body over the stream high-water mark, then another body on the same connection: both arrive', async () => {
    // The first body pauses native reading (push() returns false past 16 KiB); its end must not leave the
    // connection paused for the next request's body.
    const { port } = await startServer({ ...model }, async (req, res) => {
      const body = await readBody(req);
      res.end(`${req.method} ${body.length}`);
    });
    const client = await RawClient.connect(port);
    await client.write('POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(100000));
    await client.waitResponses(1);
    await client.write('PUT /b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    await client.waitResponses(2);
    expect(normalize(client.text)).toBe(response({ body: 'POST 100000' }) + response({ body: 'PUT 5' }));
  });
});
