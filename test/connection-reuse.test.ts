// Reuse of one connection: many sequential requests on one socket, and maxRequestsPerSocket ending it.
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, get, ioModels, normalize, RawClient, response, startServer } from './helpers.js';

afterEach(cleanup);

describe.each(ioModels)('connection reuse (%o)', (model) => {
  test('200 sequential requests on one socket, each answered exactly, one remote port', async () => {
    const ports = new Set<number>();
    let calls = 0;
    const { port } = await startServer({ ...model }, (req, res) => {
      calls++;
      ports.add(req.socket.remotePort);
      res.end(req.url);
    });
    const client = await RawClient.connect(port);
    for (let i = 0; i < 200; i++) {
      await client.write(get(`/r${i}`));
      const rs = await client.waitResponses(i + 1);
      expect(rs.length).toBe(i + 1);
      expect(normalize(rs[i].raw)).toBe(response({ body: `/r${i}` }));
    }
    expect(client.serverClosed).toBe(false);
    expect(client.split().rest).toBe('');
    expect(calls).toBe(200);
    expect([...ports]).toEqual([client.socket.localPort]);
  });

  test('200 sequential HTTP/1.0 keep-alive requests on one socket', async () => {
    const { port } = await startServer({ ...model }, (req, res) => res.end('x'));
    const client = await RawClient.connect(port);
    for (let i = 0; i < 200; i++) {
      await client.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      const rs = await client.waitResponses(i + 1);
      expect(normalize(rs[i].raw)).toBe(response({ body: 'x', http10: true }));
    }
    expect(client.serverClosed).toBe(false);
  });

  test('maxRequestsPerSocket: 3 -> the third response says Connection: close and the socket closes', async () => {
    let calls = 0;
    const { port } = await startServer({ ...model, maxRequestsPerSocket: 3 }, (req, res) => {
      calls++;
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    for (let i = 0; i < 2; i++) {
      await client.write(get(`/${i}`));
      const rs = await client.waitResponses(i + 1);
      expect(normalize(rs[i].raw)).toBe(response({ body: 'ok' }));
    }
    expect(client.serverClosed).toBe(false);
    await client.write(get('/2'));
    const rs = await client.waitResponses(3);
    expect(normalize(rs[2].raw)).toBe(response({ body: 'ok', persist: false }));
    expect(await client.waitClose(2000)).toBe(true);
    expect(client.split().rest).toBe('');
    expect(calls).toBe(3);
  });

  test('maxRequestsPerSocket: 3 with 5 pipelined requests -> 3 responses, the last closing; 2 never handled', async () => {
    let calls = 0;
    const { port } = await startServer({ ...model, maxRequestsPerSocket: 3 }, (req, res) => {
      calls++;
      res.end(req.url);
    });
    const client = await RawClient.connect(port);
    await client.write([0, 1, 2, 3, 4].map((i) => get(`/${i}`)).join(''));
    expect(await client.waitClose(3000)).toBe(true);
    expect(normalize(client.text)).toBe(
      response({ body: '/0' }) + response({ body: '/1' }) + response({ body: '/2', persist: false }),
    );
    expect(calls).toBe(3);
  });

  test('maxRequestsPerSocket: 1 -> every connection serves one request, a new connection works', async () => {
    const { port } = await startServer({ ...model, maxRequestsPerSocket: 1 }, (req, res) => res.end('ok'));
    for (let i = 0; i < 3; i++) {
      const client = await RawClient.connect(port);
      await client.write(get('/'));
      expect(await client.waitClose(2000)).toBe(true);
      expect(normalize(client.text)).toBe(response({ body: 'ok', persist: false }));
    }
  });

  test('maxRequestsPerSocket: 0 is unlimited', async () => {
    const { port } = await startServer({ ...model, maxRequestsPerSocket: 0 }, (req, res) => res.end('ok'));
    const client = await RawClient.connect(port);
    await client.write(Array.from({ length: 20 }, () => get('/')).join(''));
    const rs = await client.waitResponses(20);
    expect(rs.length).toBe(20);
    for (const r of rs) expect(normalize(r.raw)).toBe(response({ body: 'ok' }));
    expect(await client.staysOpen(100)).toBe(true);
  });
});
