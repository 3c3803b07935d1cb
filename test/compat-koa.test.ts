// Koa 3, unmodified from npm, and a plain node:http handler: responses compared with node:http's for the same app
// and bytes, in every I/O model; a response stream is cleaned up when the client goes away.
import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RawClient, cleanup, exchange, get, ioModels, startServer, waitFor } from './helpers';
import { compare, post, postChunked, servePair } from './compat-helpers';
import type { Listener, Pair } from './compat-helpers';

const require = createRequire(import.meta.url);
const Koa = require('koa');

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function makeKoa(): Listener {
  const app = new Koa({ keys: ['k1'] });
  app.silent = true;
  app.use(async (ctx: any, next: () => Promise<void>) => {
    try {
      await next();
    } catch (err: any) {
      ctx.status = err.status ?? 500;
      ctx.body = { error: err.message };
    }
  });
  app.use(async (ctx: any) => {
    switch (ctx.path) {
      case '/':
        ctx.body = { method: ctx.method, query: ctx.query, host: ctx.host, ip: ctx.ip, fresh: ctx.fresh };
        break;
      case '/text':
        ctx.type = 'text/plain';
        ctx.body = 'plain text';
        break;
      case '/echo':
        ctx.type = ctx.get('content-type');
        ctx.body = await readAll(ctx.req);
        break;
      case '/stream':
        ctx.type = 'text/plain';
        ctx.body = Readable.from(['a', 'b', 'c'].map((s) => Buffer.from(s.repeat(1000))));
        break;
      case '/nolength':
        ctx.body = 'x'.repeat(100);
        ctx.remove('Content-Length');
        break;
      case '/cookies':
        ctx.cookies.set('k', 'v', { signed: true, httpOnly: true });
        ctx.body = { seen: ctx.cookies.get('k', { signed: true }) ?? null };
        break;
      case '/redirect':
        ctx.redirect('/text');
        break;
      case '/throw':
        ctx.throw(422, 'unprocessable');
        break;
      case '/empty':
        ctx.status = 204;
        break;
      default:
        ctx.status = 404;
    }
  });
  return app.callback();
}

function makePlain(): Listener {
  return (req: any, res: any) => {
    if (req.url === '/head') {
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('X-Method', req.method);
      res.end('node handler');
    } else if (req.url === '/writehead') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('after writeHead');
    } else if (req.url === '/chunks') {
      res.setHeader('Content-Type', 'text/plain');
      res.write('1');
      res.write(Buffer.from('2'));
      res.end('3');
    } else if (req.url === '/body') {
      let n = 0;
      req.on('data', (c: Buffer) => { n += c.length; });
      req.on('end', () => res.end(`${n} ${req.headers['content-type']} ${req.complete}`));
    } else {
      res.statusCode = 404;
      res.statusMessage = 'Nothing Here';
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.end();
    }
  };
}

describe.each(ioModels)('koa 3 %o', (model) => {
  let pair: Pair;
  beforeAll(async () => { pair = await servePair(makeKoa, model); });
  afterAll(async () => {
    await pair.close();
    await cleanup();
  });

  test('json, text, 404, 204, redirect, errors, cookies', async () => {
    await compare(pair, get('/?a=1'));
    await compare(pair, get('/text'));
    await compare(pair, get('/missing'));
    await compare(pair, get('/empty'));
    await compare(pair, get('/redirect'));
    const [t] = await compare(pair, get('/throw'));
    expect(t.status).toBe(422);
    const [c] = await compare(pair, get('/cookies'));
    const jar = c.headers.filter(([k]) => k.toLowerCase() === 'set-cookie').map(([, v]) => v.split(';')[0]);
    await compare(pair, get('/cookies', [`Cookie: ${jar.join('; ')}`]));
  });

  test('request bodies, response streams, a removed Content-Length streams as in node', async () => {
    await compare(pair, post('/echo', 'application/octet-stream', Buffer.alloc(70000, 1)));
    await compare(pair, postChunked('/echo', 'text/plain', ['a', 'bb', 'ccc']));
    const [s] = await compare(pair, get('/stream'));
    expect(s.body.length).toBe(3000);
    const [n] = await compare(pair, get('/nolength'));
    expect(n.framing).toBe('chunked');
    await compare(pair, 'HEAD /text HTTP/1.1\r\nHost: t\r\n\r\n', { head: [0] });
  });
});

describe.each(ioModels)('plain node:http handler %o', (model) => {
  let pair: Pair;
  beforeAll(async () => { pair = await servePair(makePlain, model); });
  afterAll(async () => {
    await pair.close();
    await cleanup();
  });

  test('writeHead/end, write chunks, request body, statusMessage, array headers, HTTP/1.0', async () => {
    await compare(pair, get('/head'));
    await compare(pair, get('/chunks'));
    await compare(pair, get('/chunks', [], '1.0'));
    await compare(pair, post('/body', 'text/plain', 'some body'));
    await compare(pair, get('/other'));
  });

  test('differences: a length where node has none (end(body) after writeHead(), HEAD, 1.0 keep-alive)',
    async () => {
      const both = (bytes: string) => Promise.all([pair.nodePort, pair.novaPort].map(async (port) => {
        const x = await exchange(port, bytes, { until: { responses: 1 }, head: bytes.startsWith('HEAD') ? [0] : [] });
        x.client.destroy();
        return x.responses[0];
      }));
      let [fromNode, fromNova] = await both(get('/writehead'));
      expect([fromNode.framing, fromNode.header('transfer-encoding')]).toEqual(['chunked', 'chunked']);
      expect([fromNova.framing, fromNova.header('content-length')]).toEqual(['length', '15']);
      expect(fromNova.body.toString()).toBe(fromNode.body.toString());
      [fromNode, fromNova] = await both('HEAD /head HTTP/1.1\r\nHost: t\r\n\r\n');
      expect([fromNode.header('content-length'), fromNova.header('content-length')]).toEqual([undefined, '12']);
      // HTTP/1.0 with keep-alive: node closes (no chunked coding in 1.0), nova-http keeps it with a length.
      [fromNode, fromNova] = await both(get('/head', ['Connection: keep-alive'], '1.0'));
      expect([fromNode.framing, fromNode.header('connection')]).toEqual(['close', 'close']);
      expect([fromNova.framing, fromNova.header('connection')]).toEqual(['length', 'keep-alive']);
    });
});

describe.each(ioModels)('koa 3 and a client that leaves %o', (model) => {
  afterAll(cleanup);
  test("a response stream is destroyed when the client goes away; req.socket.destroy(err) emits 'error'",
    async () => {
      const streams: Readable[] = [];
      const socketErrors: string[] = [];
      const app = new Koa();
      app.silent = true;
      app.use(async (ctx: any) => {
        if (ctx.path === '/forever') {
          let n = 0;
          const body = new Readable({
            read() {
              setTimeout(() => this.push(`chunk ${n++}\n`), 20);
            },
          });
          streams.push(body);
          ctx.type = 'text/plain';
          ctx.body = body;
        } else {
          ctx.req.socket.on('error', (e: Error) => socketErrors.push(e.message));
          ctx.req.socket.destroy(new Error('bye'));
          ctx.body = 'never sent';
        }
      });
      const { port } = await startServer({ ...model }, app.callback());
      const client = await RawClient.connect(port);
      await client.write(get('/forever'));
      await client.until(() => client.text.includes('chunk 1'), 3000, 'two chunks');
      client.destroy();
      await waitFor(() => streams[0]?.destroyed === true, 2000, 'the stream to be destroyed');
      const other = await RawClient.connect(port);
      await other.write(get('/destroy'));
      await other.until(() => other.serverClosed, 3000, 'the connection to close');
      expect(socketErrors).toEqual(['bye']);
      expect(other.text).toBe('');
    });
});
