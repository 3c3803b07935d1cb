// The request object: method, url, httpVersion(+Major/Minor), headers (lower-case, duplicates joined as node:http
// joins them), rawHeaders (as sent), socket.remoteAddress/remotePort, the 'request' event, req 'close'.
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, deferred, get, ioModels, normalize, RawClient, response, startServer, waitFor } from './helpers.js';

afterEach(cleanup);

describe.each(ioModels)('request API (%o)', (model) => {
  test('fields of an HTTP/1.1 request, headers joined like node:http, rawHeaders as sent', async () => {
    const got = deferred<Record<string, unknown>>();
    const { port } = await startServer({ ...model }, (req, res) => {
      got.resolve({
        method: req.method,
        url: req.url,
        httpVersion: req.httpVersion,
        httpVersionMajor: req.httpVersionMajor,
        httpVersionMinor: req.httpVersionMinor,
        headers: { ...req.headers },
        rawHeaders: [...req.rawHeaders],
        remoteAddress: req.socket.remoteAddress,
        remotePort: req.socket.remotePort,
      });
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write(
      'DELETE /path/to?q=1&r=%20x HTTP/1.1\r\n' +
        'Host: example.test:8080\r\n' +
        'X-Dup: a\r\n' +
        'x-dup: b\r\n' +
        'Cookie: c=1\r\n' +
        'Cookie: d=2\r\n' +
        'User-Agent: u1\r\n' +
        'User-Agent: u2\r\n' +
        'Set-Cookie: s1\r\n' +
        'Set-Cookie: s2\r\n' +
        'Accept: x\r\n' +
        'ACCEPT: y\r\n' +
        'Content-Type: t1\r\n' +
        'Content-Type: t2\r\n' +
        'X-Empty:\r\n' +
        'X-Spaces: \t  padded value \t \r\n' +
        '\r\n',
    );
    await client.waitResponses(1);
    expect(await got.promise).toEqual({
      method: 'DELETE',
      url: '/path/to?q=1&r=%20x',
      httpVersion: '1.1',
      httpVersionMajor: 1,
      httpVersionMinor: 1,
      headers: {
        host: 'example.test:8080',
        'x-dup': 'a, b',
        cookie: 'c=1; d=2',
        'user-agent': 'u1',
        'set-cookie': ['s1', 's2'],
        accept: 'x, y',
        'content-type': 't1',
        'x-empty': '',
        'x-spaces': 'padded value',
      },
      rawHeaders: [
        'Host', 'example.test:8080', 'X-Dup', 'a', 'x-dup', 'b', 'Cookie', 'c=1', 'Cookie', 'd=2',
        'User-Agent', 'u1', 'User-Agent', 'u2', 'Set-Cookie', 's1', 'Set-Cookie', 's2', 'Accept', 'x',
        'ACCEPT', 'y', 'Content-Type', 't1', 'Content-Type', 't2', 'X-Empty', '', 'X-Spaces', 'padded value',
      ],
      remoteAddress: '127.0.0.1',
      remotePort: client.socket.localPort,
    });
  });

  test('fields of an HTTP/1.0 request', async () => {
    const got = deferred<unknown[]>();
    const { port } = await startServer({ ...model }, (req, res) => {
      got.resolve([req.method, req.url, req.httpVersion, req.httpVersionMajor, req.httpVersionMinor, req.headers]);
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write('POST /form HTTP/1.0\r\nContent-Length: 0\r\n\r\n');
    await client.waitResponses(1);
    expect(await got.promise).toEqual(['POST', '/form', '1.0', 1, 0, { 'content-length': '0' }]);
  });

  test('each request on a kept-alive connection has its own fields, same socket address', async () => {
    const seen: string[] = [];
    const { port } = await startServer({ ...model }, (req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers['x-n']} ${req.socket.remotePort}`);
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/a', ['X-N: 1']) + 'HEAD /b HTTP/1.1\r\nHost: t\r\nX-N: 2\r\n\r\n' + get('/c', ['X-N: 3']));
    client.head = [1];
    await client.waitResponses(3);
    const p = client.socket.localPort;
    expect(seen).toEqual([`GET /a 1 ${p}`, `HEAD /b 2 ${p}`, `GET /c 3 ${p}`]);
  });

  test("the 'request' event when createServer() got no handler", async () => {
    const { port, server } = await startServer({ ...model });
    server.on('request', (req: { url: string }, res: { end(b: string): void }) => res.end(`event ${req.url}`));
    const client = await RawClient.connect(port);
    await client.write(get('/ev'));
    const rs = await client.waitResponses(1);
    expect(normalize(rs[0].raw)).toBe(response({ body: 'event /ev' }));
  });

  test('header values keep obs-text bytes (latin1) and the handler can read them', async () => {
    const got = deferred<string>();
    const { port } = await startServer({ ...model }, (req, res) => {
      got.resolve(req.headers['x-latin']);
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/', ['X-Latin: caf\xe9']));
    await client.waitResponses(1);
    const v = await got.promise;
    // node:http decodes field values as latin1
    expect(v).toBe('caf\xe9');
  });

  test("req emits 'close' after its response has been sent", async () => {
    const events: string[] = [];
    const { port } = await startServer({ ...model }, (req, res) => {
      req.on('close', () => events.push('req close'));
      res.on('finish', () => events.push('res finish'));
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    await client.waitResponses(1);
    await waitFor(() => events.includes('req close'), 2000, "req 'close'");
    expect(events).toContain('res finish');
  });
});
