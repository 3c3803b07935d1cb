// Fastify 5, unmodified from npm, on nova-http through serverFactory (Fastify's own listen() and close()): every
// response compared with Fastify on node:http for the same routes and bytes, in every I/O model.
import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer } from '../dist/index.js';
import { RawClient, cleanup, deferred, exchange, get, ioModels, sleep, withTimeout } from './helpers';
import { KEEP_ALIVE_MS, compare, pairOf, post, postChunked } from './compat-helpers';
import type { Pair } from './compat-helpers';

const require = createRequire(import.meta.url);
const Fastify = require('fastify');

function routes(app: any): any {
  app.addHook('onRequest', async (_req: unknown, reply: any) => {
    reply.header('X-Hook', 'on-request');
  });
  app.get('/', async (req: any) => ({ hello: 'world', query: req.query, host: req.headers.host }));
  app.get('/users/:id', {
    schema: { params: { type: 'object', properties: { id: { type: 'integer' } } } },
  }, async (req: any, reply: any) => {
    reply.code(202).header('X-Id', String(req.params.id));
    return { id: req.params.id };
  });
  app.post('/echo', {
    schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } },
  }, async (req: any) => ({ got: req.body }));
  app.get('/text', async (_req: unknown, reply: any) => {
    reply.type('text/plain');
    return 'some text';
  });
  app.get('/stream', async (_req: unknown, reply: any) => {
    reply.type('application/octet-stream');
    return reply.send(Readable.from([Buffer.alloc(1000, 1), Buffer.alloc(2000, 2)]));
  });
  app.get('/redirect', async (_req: unknown, reply: any) => reply.redirect('/text'));
  app.get('/boom', async () => {
    throw Object.assign(new Error('boom'), { statusCode: 418 });
  });
  // reply.trailer(): Fastify sets Transfer-Encoding: chunked and Trailer, writes the payload, then res.addTrailers()
  // and res.end().
  app.get('/trailer', async (_req: unknown, reply: any) => {
    reply.type('text/plain');
    reply.trailer('x-sum', async (_reply: unknown, payload: string) => `len=${payload.length}`);
    reply.trailer('server-timing', (_reply: unknown, _payload: unknown, done: (e: null, v: string) => void) =>
      done(null, 'db;dur=1'));
    return 'trailed body';
  });
  app.get('/trailer-stream', async (_req: unknown, reply: any) => {
    reply.type('application/octet-stream');
    reply.trailer('x-done', async () => 'yes');
    return reply.send(Readable.from([Buffer.alloc(100, 1), Buffer.alloc(200, 2)]));
  });
  app.setNotFoundHandler(async (_req: unknown, reply: any) => {
    reply.code(404);
    return { missing: true };
  });
  return app;
}

describe.each(ioModels)('fastify 5 %o', (model) => {
  let pair: Pair;
  let apps: any[];
  beforeAll(async () => {
    const onNode = routes(Fastify({ keepAliveTimeout: KEEP_ALIVE_MS }));
    const onNova = routes(Fastify({
      serverFactory: (handler: (req: unknown, res: unknown) => void) =>
        createServer({ ...model, keepAliveTimeout: KEEP_ALIVE_MS }, handler),
    }));
    apps = [onNode, onNova];
    await Promise.all(apps.map((a) => a.listen({ port: 0, host: '127.0.0.1' })));
    pair = pairOf(onNode.server, onNova.server);
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await cleanup();
  });

  test('routes, params with schema, hooks, status codes, not-found and error handlers', async () => {
    await compare(pair, get('/?x=1'));
    const [u] = await compare(pair, get('/users/12'));
    expect(u.status).toBe(202);
    await compare(pair, get('/users/abc'));
    await compare(pair, get('/text'));
    await compare(pair, get('/redirect'));
    await compare(pair, get('/boom'));
    await compare(pair, get('/nope'));
    await compare(pair, 'HEAD /text HTTP/1.1\r\nHost: t\r\n\r\n', { head: [0] });
  });

  test('JSON bodies (length and chunked), validation errors, bad JSON, streams', async () => {
    await compare(pair, post('/echo', 'application/json', '{"name":"nova"}'));
    await compare(pair, postChunked('/echo', 'application/json', ['{"name"', ':"chunked"}']));
    await compare(pair, post('/echo', 'application/json', '{"other":1}'));
    await compare(pair, post('/echo', 'application/json', '{"name":'));
    await compare(pair, post('/echo', 'text/plain', 'hello'));
    await compare(pair, get('/stream'));
    await compare(pair, [get('/') + get('/text') + get('/users/3')], { responses: 3 });
  });

  test('reply.trailer(): the trailers after the last chunk, for a string and a stream payload, as on node:http',
    async () => {
      const [a] = await compare(pair, get('/trailer'));
      // (in the order Fastify's trailer functions finish)
      expect(Object.fromEntries(a.trailers)).toEqual({ 'x-sum': 'len=12', 'server-timing': 'db;dur=1' });
      expect(a.header('trailer')).toBe('x-sum server-timing');
      const [b] = await compare(pair, get('/trailer-stream'));
      expect(b.trailers).toEqual([['x-done', 'yes']]);
      expect(b.body.length).toBe(300);
      // HTTP/1.0: no transfer coding (RFC 9112 6.1), so no trailers: the body ends with the close. (node:http sends
      // the handler's Transfer-Encoding: chunked and the trailers to a 1.0 client: README "Differences".)
      const old = await exchange(pair.novaPort, get('/trailer', ['Connection: keep-alive'], '1.0'), { until: 'close' });
      old.client.destroy();
      expect(old.responses.map((r) => [r.framing, r.body.toString(), r.header('transfer-encoding'), r.trailers]))
        .toEqual([['close', 'trailed body', undefined, []]]);
      // Pipelined behind an ordinary response.
      const rs = await compare(pair, get('/text') + get('/trailer'), { responses: 2 });
      expect(rs[1].trailers.length).toBe(2);
    });

  test("a malformed request: native's 400, Fastify's clientError handler runs on the socket, serving goes on",
    async () => {
      const bad = await exchange(pair.novaPort, 'GET / HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n');
      expect(bad.responses[0].status).toBe(400);
      expect(bad.closed).toBe(true);
      await compare(pair, get('/text'));
    });
});

describe.each(ioModels)("fastify 5 hooks %o", (model) => {
  test("onRequestAbort when the client leaves a slow route; onTimeout through the socket's 'timeout'", async () => {
    const seen: string[] = [];
    const aborted = deferred();
    const timedOut = deferred();
    const app = Fastify({
      serverFactory: (handler: (req: unknown, res: unknown) => void) => {
        const server = createServer({ ...model }, handler);
        server.setTimeout(300);  // what Fastify's connectionTimeout does on node:http servers
        return server;
      },
    });
    app.addHook('onRequestAbort', async (req: { url: string }) => {
      seen.push(`abort ${req.url}`);
      aborted.resolve();
    });
    app.addHook('onTimeout', async (req: { url: string }) => {
      seen.push(`timeout ${req.url}`);
      timedOut.resolve();
    });
    app.get('/slow', () => new Promise(() => {}));  // never answers
    app.get('/idle', () => new Promise(() => {}));
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = app.server.address().port;
      const leaving = await RawClient.connect(port);
      await leaving.write(get('/slow'));
      await sleep(50);
      leaving.destroy();
      await withTimeout(aborted.promise, 2000, 'onRequestAbort');
      const waiting = await RawClient.connect(port);
      await waiting.write(get('/idle'));
      await withTimeout(timedOut.promise, 3000, 'onTimeout');
      waiting.destroy();
      expect(seen).toEqual(expect.arrayContaining(['abort /slow', 'timeout /idle']));
    } finally {
      await app.close();
    }
  });
});
