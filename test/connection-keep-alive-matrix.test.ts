// The keep-alive matrix on the wire: HTTP/1.0 and 1.1 x the request's Connection field (absent, close, keep-alive,
// mixed case, token lists, `closed`, repeated fields) and the handler's own Connection field. Each case asserts
// the exact response bytes and whether the socket really stays open (a second request on it is answered).
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, ioModels, keepAliveCases as cases, keepAliveRequest as request, normalize, RawClient, response,
  startServer } from './helpers.js';

afterEach(cleanup);

describe.each(ioModels)('keep-alive matrix (%o)', (model) => {
  test.each(cases)('$name', async (c) => {
    const urls: string[] = [];
    const { port } = await startServer({ ...model }, (req, res) => {
      urls.push(req.url);
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write(request(c, '/first'));
    const [first] = await client.waitResponses(1);
    const expected = response({ body: 'ok', persist: c.persist, http10: c.version === '1.0' });
    expect(normalize(first?.raw ?? client.text)).toBe(expected);

    if (c.persist) {
      expect(await client.staysOpen(100)).toBe(true);
      await client.write(request(c, '/second'));
      const rs = await client.waitResponses(2);
      expect(rs.length).toBe(2);
      expect(normalize(rs[1].raw)).toBe(expected);
      expect(urls).toEqual(['/first', '/second']);
      expect(client.serverClosed).toBe(false);
    } else {
      expect(await client.waitClose(2000)).toBe(true);
      // nothing after the closing response
      expect(normalize(client.text)).toBe(expected);
      expect(urls).toEqual(['/first']);
    }
  });

  // The handler's own Connection field takes part in the decision.
  test('1.1 response with Connection: close from the handler closes, no second Connection field', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      res.setHeader('Connection', 'close');
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.waitResponses(1);
    expect(await client.waitClose(2000)).toBe(true);
    expect(normalize(client.text)).toBe(
      'HTTP/1.1 200 OK\r\nConnection: close\r\nDate: X\r\nContent-Length: 2\r\n\r\nok',
    );
  });

  test('1.1 response with Connection: foo, Close from the handler closes', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      res.writeHead(200, { Connection: 'foo, Close' });
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.waitResponses(1);
    expect(await client.waitClose(2000)).toBe(true);
    expect(normalize(client.text)).toBe(
      'HTTP/1.1 200 OK\r\nConnection: foo, Close\r\nDate: X\r\nContent-Length: 2\r\n\r\nok',
    );
  });

  test('1.0 keep-alive request, handler sets Connection: keep-alive itself: not repeated', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      res.setHeader('Connection', 'keep-alive');
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(
      'HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nDate: X\r\nKeep-Alive: timeout=65\r\nContent-Length: 2\r\n\r\nok',
    );
    expect(await client.staysOpen(100)).toBe(true);
  });

  test('Keep-Alive: timeout=N advertises keepAliveTimeout in seconds', async () => {
    const { port } = await startServer({ ...model, keepAliveTimeout: 5000 }, (req, res) => res.end('ok'));
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(response({ body: 'ok', timeoutS: 5 }));
  });
});
