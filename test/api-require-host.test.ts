// requireHostHeader, as node:http's option: true (the default) refuses an HTTP/1.1 request without Host with 400;
// false serves it (node:http then answers it too, checked in the same test). A repeated Host is refused either
// way, and HTTP/1.0 needs none. Exact bytes, every I/O model.
import * as http from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { createServer } from '../dist/index.js';
import { cleanup, errorResponse, ioModels, normalize, RawClient, response, startServer } from './helpers.js';

afterEach(cleanup);

const noHost = 'GET /x HTTP/1.1\r\n\r\n';
const twoHosts = 'GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n';
const handler = (req: any, res: any) => res.end(`${req.url} host=${req.headers.host}`);

async function exchange(port: number, bytes: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.write(bytes);
  await c.waitResponses(1);
  return c;
}

describe.each(ioModels)('requireHostHeader (%o)', (model) => {
  test('default (true): an HTTP/1.1 request without Host gets 400 and the connection closes', async () => {
    let calls = 0;
    const { port } = await startServer({ ...model }, () => calls++);
    const c = await exchange(port, noHost);
    await c.until(() => c.serverClosed, 3000, 'the close');
    expect(normalize(c.text)).toBe(errorResponse(400));
    expect(calls).toBe(0);
  });

  test('false: the request is served (as node:http serves it); two Host fields are still refused', async () => {
    const { port } = await startServer({ ...model, requireHostHeader: false }, handler);
    const c = await exchange(port, noHost);
    expect(normalize(c.text)).toBe(response({ body: '/x host=undefined' }));
    const n = http.createServer({ requireHostHeader: false }, handler);
    await new Promise<void>((resolve) => n.listen(0, '127.0.0.1', resolve));
    try {
      const fromNode = await exchange((n.address() as { port: number }).port, noHost);
      expect(fromNode.split().responses[0].body.toString()).toBe('/x host=undefined');
    } finally {
      n.closeAllConnections();
      n.close();
    }
    const two = await exchange(port, twoHosts);
    expect(normalize(two.text)).toBe(errorResponse(400));
    // Keep-alive goes on after a request without Host.
    await c.write('GET /y HTTP/1.1\r\n\r\n');
    await c.waitResponses(2);
    expect(normalize(c.text)).toBe(response({ body: '/x host=undefined' }) + response({ body: '/y host=undefined' }));
  });

  test('HTTP/1.0 needs no Host either way', async () => {
    const { port } = await startServer({ ...model }, handler);
    const c = await exchange(port, 'GET /z HTTP/1.0\r\n\r\n');
    await c.until(() => c.serverClosed, 3000, 'the close after a 1.0 response');
    expect(normalize(c.text)).toBe(response({ body: '/z host=undefined', persist: false }));
  });

  test('a value other than a boolean is refused, naming the option', () => {
    expect(() => createServer({ ...model, requireHostHeader: 'no' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('requireHostHeader') }));
  });
});
