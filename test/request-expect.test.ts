// Expect, as node:http handles it: 'checkContinue' (Expect: 100-continue with a listener: no automatic 100, the body
// is held natively until the listener calls writeContinue() or answers; a final answer without 100 closes the
// connection) and 'checkExpectation' (any other expectation; without a listener, 417). Listeners may come and go on
// a listening server. Exact bytes in every I/O model.
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, get, ioModels, normalize, RawClient, readBody, response, sleep, startServer, waitFor } from './helpers.js';
import { compare, servePair } from './compat-helpers.js';
import type { Pair } from './compat-helpers.js';

afterEach(cleanup);

const k100 = 'HTTP/1.1 100 Continue\r\n\r\n';
const postExpect = (len: number, extra = '') =>
  `POST /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: ${len}\r\n${extra}\r\n`;

describe.each(ioModels)('Expect (%o)', (model) => {
  test('checkContinue: no automatic 100; the listener\'s writeContinue() sends it, then the body arrives',
    async () => {
      const seen: string[] = [];
      const { server, port } = await startServer({ ...model }, () => {
        seen.push('request');
      });
      let go!: () => void;
      server.on('checkContinue', async (req: any, res: any) => {
        seen.push(`checkContinue ${req.headers.expect}`);
        await new Promise<void>((r) => { go = r; });
        res.writeContinue();
        const body = await readBody(req);
        res.end(`got ${body}`);
      });
      const client = await RawClient.connect(port);
      await client.write(postExpect(5));
      await waitFor(() => seen.length === 1, 2000, 'checkContinue');
      await sleep(100);
      expect(client.text).toBe('');
      go();
      await client.until(() => client.text === k100, 2000, 'the 100');
      await client.write('hello');
      await client.waitResponses(1);
      expect(normalize(client.text)).toBe(k100 + response({ body: 'got hello' }));
      expect(seen).toEqual(['checkContinue 100-continue']);
    });

  test('checkContinue: a body sent without waiting is not delivered before writeContinue()', async () => {
    const events: string[] = [];
    const { server, port } = await startServer({ ...model });
    let resRef: any;
    server.on('checkContinue', (req: any, res: any) => {
      resRef = res;
      req.on('data', (d: Buffer) => events.push(`data ${d}`));
      req.on('end', () => {
        events.push('end');
        res.end('done');
      });
    });
    const client = await RawClient.connect(port);
    await client.write(postExpect(5) + 'hello');
    await waitFor(() => resRef !== undefined, 2000, 'checkContinue');
    await sleep(150);
    expect(events).toEqual([]);
    resRef.writeContinue();
    await client.waitResponses(1);
    expect(events).toEqual(['data hello', 'end']);
    expect(normalize(client.text)).toBe(k100 + response({ body: 'done' }));
  });

  test('checkContinue answered without a 100: the final response, Connection: close, no body read', async () => {
    const { server, port } = await startServer({ ...model });
    let dataSeen = false;
    server.on('checkContinue', (req: any, res: any) => {
      req.on('data', () => { dataSeen = true; });
      res.writeHead(401, { 'Content-Type': 'text/plain' });
      res.end('no');
    });
    const client = await RawClient.connect(port);
    await client.write(postExpect(100000));
    await client.until(() => client.serverClosed, 3000, 'the close');
    expect(normalize(client.text)).toBe(response({
      status: 401, reason: 'Unauthorized', fields: ['Content-Type: text/plain'], body: 'no', persist: false,
    }));
    expect(dataSeen).toBe(false);
  });

  test('listeners added and removed on a listening server: held while one listens, automatic 100 again after',
    async () => {
      const { server, port } = await startServer({ ...model }, async (req: any, res: any) => {
        res.end(`request ${await readBody(req)}`);
      });
      const client = await RawClient.connect(port);
      await client.write(postExpect(1));
      await client.until(() => client.text === k100, 2000, 'automatic 100');
      await client.write('a');
      await client.waitResponses(1);

      const listener = (req: any, res: any) => {
        res.writeContinue();
        readBody(req).then((b) => res.end(`checked ${b}`), () => {});
      };
      server.on('checkContinue', listener);
      const c2 = await RawClient.connect(port);
      await c2.write(postExpect(1));
      await c2.until(() => c2.text === k100, 2000, '100 from the listener');
      await c2.write('b');
      await c2.waitResponses(1);
      expect(normalize(c2.text)).toBe(k100 + response({ body: 'checked b' }));

      server.removeListener('checkContinue', listener);
      server.removeAllListeners();  // also the server's own trackers: they come back
      server.on('request', async (req: any, res: any) => res.end(`again ${await readBody(req)}`));
      const c3 = await RawClient.connect(port);
      await c3.write(postExpect(1));
      await c3.until(() => c3.text === k100, 2000, 'automatic 100 again');
      await c3.write('c');
      await c3.waitResponses(1);
      expect(normalize(c3.text)).toBe(k100 + response({ body: 'again c' }));

      server.once('checkContinue', (req: any, res: any) => res.end('once'));
      const c4 = await RawClient.connect(port);
      await c4.write(postExpect(1));
      await c4.until(() => c4.serverClosed, 3000, 'the close after a final answer without 100');
      expect(normalize(c4.text)).toBe(response({ body: 'once', persist: false }));
      const c5 = await RawClient.connect(port);
      await c5.write(postExpect(1));
      await c5.until(() => c5.text === k100, 2000, 'automatic 100 after the once listener');
      await c5.write('d');
      await c5.waitResponses(1);
      expect(normalize(c5.text)).toBe(k100 + response({ body: 'again d' }));
    });

  test('no listener: a bodiless Expect: 100-continue request gets no 100 (there is nothing to wait for)', async () => {
    const { port } = await startServer({ ...model }, (req: any, res: any) => res.end('plain'));
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n\r\n');
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(response({ body: 'plain' }));
  });

  test('checkContinue on a bodiless request: the listener runs; its writeContinue() sends the 100', async () => {
    const { server, port } = await startServer({ ...model });
    server.on('checkContinue', (req: any, res: any) => {
      res.writeContinue();
      res.end('fine');
    });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n\r\n');
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(k100 + response({ body: 'fine' }));
  });

  test('checkExpectation: a listener answers; without one, 417 and the connection goes on', async () => {
    const { server, port } = await startServer({ ...model }, (req: any, res: any) => res.end('plain'));
    const c1 = await RawClient.connect(port);
    await c1.write('POST / HTTP/1.1\r\nHost: t\r\nExpect: foo\r\nContent-Length: 2\r\n\r\nhi' + get('/next'));
    await c1.waitResponses(2);
    expect(normalize(c1.text)).toBe(response({ status: 417, reason: 'Expectation Failed' }) +
      response({ body: 'plain' }));
    // HTTP/1.0's expectations are ignored (RFC 9110 10.1.1), as node:http ignores them.
    const c0 = await RawClient.connect(port);
    await c0.write('GET / HTTP/1.0\r\nExpect: foo\r\nConnection: keep-alive\r\n\r\n');
    await c0.waitResponses(1);
    expect(normalize(c0.text)).toBe(response({ body: 'plain', http10: true }));

    const seen: string[] = [];
    server.on('checkExpectation', async (req: any, res: any) => {
      seen.push(req.headers.expect);
      res.end(`expectation ${req.headers.expect} ${await readBody(req)}`);
    });
    const c2 = await RawClient.connect(port);
    await c2.write('POST / HTTP/1.1\r\nHost: t\r\nExpect: foo\r\nContent-Length: 2\r\n\r\nhi');
    await c2.waitResponses(1);
    expect(normalize(c2.text)).toBe(response({ body: 'expectation foo hi' }));
    expect(seen).toEqual(['foo']);
  });

  test('a checkContinue listener that throws: the 500 of a failed handler', async () => {
    const { server, port } = await startServer({ ...model });
    const failures: unknown[] = [];
    server.on('handlerError', (err: unknown) => failures.push(err));
    server.on('checkContinue', () => {
      throw new Error('boom');
    });
    const client = await RawClient.connect(port);
    await client.write(postExpect(5));
    await client.until(() => client.serverClosed, 3000, 'the close');
    expect(client.text).toContain('HTTP/1.1 500 Internal Server Error\r\n');
    expect(client.text).not.toContain('100 Continue');
    expect(failures.length).toBe(1);
  });

  describe('the same app on node:http', () => {
    let pair: Pair | undefined;
    afterEach(async () => {
      await pair?.close();
      pair = undefined;
    });

    test('checkContinue with writeContinue(), then the body and the response', async () => {
      pair = await servePair(() => (req, res) => res.end('request'), model);
      for (const s of [pair.node, pair.nova]) {
        s.on('checkContinue', async (req: any, res: any) => {
          res.writeContinue();
          res.end(`checked ${await readBody(req)}`);
        });
      }
      const [r] = await compare(pair, [postExpect(5), 'hello'], { delayMs: 100 });
      expect(r.body.toString()).toBe('checked hello');
    });
  });
});
