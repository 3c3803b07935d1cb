// Express 5 and Express 4, unmodified from npm, with the middleware real services use (body parsers, static,
// cookies, sessions behind a proxy, compression, morgan, multer, error middleware): every response nova-http
// gives is compared with what node:http gives for the same app and bytes, in every I/O model.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanup, get, ioModels } from './helpers';
import { compare, multipart, post, postChunked, servePair } from './compat-helpers';
import type { Listener, Pair } from './compat-helpers';

const require = createRequire(import.meta.url);
const frameworks = [
  { name: 'express 5', express: require('express'), v5: true },
  { name: 'express 4', express: require('express4'), v5: false },
];
const compression = require('compression');
const cookieParser = require('cookie-parser');
const session = require('express-session');
const morgan = require('morgan');
const multer = require('multer');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nova-compat-'));
const staticFile = path.join(dir, 'hello.txt');
fs.writeFileSync(staticFile, 'Hello from a static file.\n'.repeat(40));
const fixed = new Date('2026-01-02T03:04:05Z');
fs.utimesSync(staticFile, fixed, fixed);

/** One instance of the app; `log` collects morgan's lines. */
function makeApp(express: any, v5: boolean, log: string[]): Listener {
  const app = express();
  app.set('env', 'production');  // finalhandler without stack traces (they name different frames)
  app.set('trust proxy', true);
  app.use(morgan(':method :url :status :res[content-length] :req[x-sid]', {
    stream: { write: (line: string) => log.push(line.trim()) },
  }));
  app.use(cookieParser('cookie secret'));
  app.use(session({
    secret: 'session secret', resave: false, saveUninitialized: false, name: 'sid',
    genid: (req: { headers: Record<string, string> }) => req.headers['x-sid'] ?? 'none',
    cookie: { secure: true, httpOnly: true },
  }));
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 1 << 20 } });

  app.get('/', (req: any, res: any) => {
    res.json({ host: req.headers.host, ip: req.ip, protocol: req.protocol, secure: req.secure,
      xhr: req.xhr, fresh: req.fresh, accepts: req.accepts(['json', 'html']) });
  });
  app.get('/users/:id', (req: any, res: any) => {
    res.status(201).set('X-Id', req.params.id).json({ id: req.params.id, query: req.query, path: req.path });
  });
  app.post('/json', express.json({ limit: '1kb' }), (req: any, res: any) => res.json({ got: req.body }));
  app.post('/form', express.urlencoded({ extended: false }), (req: any, res: any) => res.json(req.body));
  app.post('/raw', express.raw({ type: '*/*' }), (req: any, res: any) => res.send({ bytes: req.body.length }));
  app.post('/text', express.text(), (req: any, res: any) => res.type('text').send(req.body.toUpperCase()));
  app.use('/static', express.static(dir));
  app.get('/redirect', (_req: any, res: any) => res.redirect('/users/7'));
  // Node's own writeEarlyHints()/addTrailers() on Express's swapped response prototype (through nova's hooks).
  app.get('/hints', (_req: any, res: any) => {
    res.writeEarlyHints({ link: ['</style.css>; rel=preload; as=style'] });
    res.set('Trailer', 'X-Checksum');
    res.write('part one, ');
    res.addTrailers({ 'X-Checksum': 'c0ffee' });
    res.end('part two');
  });
  app.post('/continue', express.text(), (req: any, res: any) => res.type('text').send(`checked ${req.body}`));
  app.get('/file', (_req: any, res: any) => res.sendFile(staticFile));
  app.get('/download', (_req: any, res: any) => res.download(staticFile, 'report.txt'));
  app.get('/cookies', (req: any, res: any) => {
    res.cookie('plain', 'p v', { httpOnly: true, path: '/' });
    res.cookie('signed', 'sv', { signed: true });
    res.json({ cookies: req.cookies, signed: req.signedCookies });
  });
  app.get('/session', (req: any, res: any) => {
    req.session.views = (req.session.views ?? 0) + 1;
    res.json({ views: req.session.views, id: req.sessionID });
  });
  app.get('/gzip', compression({ threshold: 0 }), (_req: any, res: any) => {
    res.type('text').send('compress me please '.repeat(500));
  });
  app.get('/gzip-stream', compression({ threshold: 0 }), (_req: any, res: any) => {
    res.type('text');
    res.write('first part;');
    setTimeout(() => res.end('second part'), 5);
  });
  app.get('/stream', (_req: any, res: any) => {
    res.setHeader('Content-Type', 'text/plain');
    res.write('one,');
    setTimeout(() => { res.write('two,'); res.end('three'); }, 5);
  });
  app.post('/upload', upload.single('file'), (req: any, res: any) => {
    res.json({ fields: req.body, name: req.file.originalname, size: req.file.size,
      sum: [...req.file.buffer].reduce((a: number, b: number) => (a + b) % 65521, 0) });
  });
  app.get('/throw', () => {
    throw Object.assign(new Error('thrown'), { status: 418 });
  });
  if (v5) {
    app.get('/async', async () => {
      await new Promise((r) => setTimeout(r, 2));
      throw Object.assign(new Error('rejected'), { status: 409 });
    });
  } else {
    app.get('/async', (_req: unknown, _res: unknown, next: (e: Error) => void) => {
      setTimeout(() => next(Object.assign(new Error('rejected'), { status: 409 })), 2);
    });
  }
  app.use('/api', (_req: any, res: any) => res.status(404).json({ error: 'no such api' }));
  app.use((err: any, _req: any, res: any, next: (e: unknown) => void) => {
    if (res.headersSent) return next(err);
    res.status(err.status ?? 500).json({ error: err.message, type: err.type });
  });
  return app;
}

const upload = multipart({ name: 'report', kind: 'csv' },
  { field: 'file', name: 'data.bin', data: Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff)) });

describe.each(frameworks)('$name', ({ express, v5 }) => {
  describe.each(ioModels)('%o', (model) => {
    let pair: Pair;
    const logs = { node: [] as string[], nova: [] as string[] };
    beforeAll(async () => {
      let n = 0;
      pair = await servePair(() => makeApp(express, v5, n++ === 0 ? logs.node : logs.nova), model);
    });
    afterAll(async () => {
      await pair.close();
      await cleanup();
    });

    test('routing, params, query, req.ip/protocol behind a proxy, res.status/set/json', async () => {
      await compare(pair, get('/'));
      await compare(pair, get('/', ['X-Forwarded-For: 203.0.113.9', 'X-Forwarded-Proto: https',
        'Accept: text/html', 'X-Requested-With: XMLHttpRequest']));
      const [r] = await compare(pair, get('/users/42?a=1&b=two&b=three'));
      expect(r.status).toBe(201);
      expect(JSON.parse(r.body.toString())).toEqual({ id: '42', query: { a: '1', b: ['two', 'three'] }, path: '/users/42' });
      await compare(pair, get('/api/missing'));
      await compare(pair, get('/nowhere'));
    });

    test('body parsers: json, urlencoded, raw, text; Content-Length and chunked; over the limit -> 413', async () => {
      const [j] = await compare(pair, post('/json', 'application/json', '{"a":[1,2,{"b":"c"}]}'));
      expect(JSON.parse(j.body.toString())).toEqual({ got: { a: [1, 2, { b: 'c' }] } });
      await compare(pair, postChunked('/json', 'application/json', ['{"chunked"', ':true}']));
      const [big] = await compare(pair, post('/json', 'application/json', JSON.stringify({ x: 'y'.repeat(2000) })));
      expect(big.status).toBe(413);
      await compare(pair, post('/json', 'application/json', '{"broken":'));
      await compare(pair, post('/form', 'application/x-www-form-urlencoded', 'a=1&b=%20two&c=3'));
      await compare(pair, post('/raw', 'application/octet-stream', Buffer.alloc(5000, 7)));
      await compare(pair, postChunked('/text', 'text/plain', ['hello ', 'chunked ', 'world']));
    });

    test('express.static: ranges, ETag/304, HEAD, 404; sendFile, download, redirect', async () => {
      const [whole] = await compare(pair, get('/static/hello.txt'));
      expect(whole.status).toBe(200);
      const etag = whole.header('etag')!;
      const [range] = await compare(pair, get('/static/hello.txt', ['Range: bytes=5-24']));
      expect(range.status).toBe(206);
      await compare(pair, get('/static/hello.txt', ['Range: bytes=99999-']));
      const [notModified] = await compare(pair, get('/static/hello.txt', [`If-None-Match: ${etag}`]));
      expect(notModified.status).toBe(304);
      await compare(pair, 'HEAD /static/hello.txt HTTP/1.1\r\nHost: t\r\n\r\n', { head: [0] });
      await compare(pair, get('/static/missing.txt'));
      await compare(pair, get('/file'));
      await compare(pair, get('/download'));
      await compare(pair, get('/redirect'));
    });

    test('interim responses and trailers on Express\'s response: 103, 100 via checkContinue, trailers', async () => {
      const [h] = await compare(pair, get('/hints'));
      expect(h.trailers).toEqual([['X-Checksum', 'c0ffee']]);
      const [, again] = await compare(pair, get('/hints') + get('/hints'), { responses: 2 });
      expect(again.trailers.length).toBe(1);
      // A checkContinue listener that hands the request to the app after writeContinue(), as node's docs show.
      const listeners: Array<[any, (req: any, res: any) => void]> = [];
      for (const s of [pair.node, pair.nova] as any[]) {
        const l = (req: any, res: any) => {
          res.writeContinue();
          s.emit('request', req, res);
        };
        s.on('checkContinue', l);
        listeners.push([s, l]);
      }
      try {
        const body = 'a body';
        const head = `POST /continue HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nExpect: 100-continue\r\n` +
          `Content-Length: ${body.length}\r\n\r\n`;
        const [c] = await compare(pair, [head, body], { delayMs: 100 });
        expect(c.body.toString()).toBe('checked a body');
      } finally {
        for (const [s, l] of listeners) s.removeListener('checkContinue', l);
      }
    });

    test('cookies (plain and signed), sessions with cookie.secure behind trust proxy', async () => {
      const [c] = await compare(pair, get('/cookies', ['Cookie: a=1; b=two']));
      const setCookies = c.headers.filter(([k]) => k.toLowerCase() === 'set-cookie').map(([, v]) => v);
      expect(setCookies.length).toBe(2);
      const signed = setCookies[1].split(';')[0];
      await compare(pair, get('/cookies', [`Cookie: ${signed}`]));
      const [first] = await compare(pair, get('/session', ['X-Sid: s1', 'X-Forwarded-Proto: https']));
      const sid = first.header('set-cookie')!.split(';')[0];
      const [again] = await compare(pair, get('/session', [`Cookie: ${sid}`, 'X-Forwarded-Proto: https']));
      expect(JSON.parse(again.body.toString()).views).toBe(2);
      // Not behind https: express-session does not send a secure cookie.
      const [plain] = await compare(pair, get('/session', ['X-Sid: s2']));
      expect(plain.header('set-cookie')).toBe(undefined);
    });

    test('compression (gzip, br, identity; whole and streamed), streaming writes', async () => {
      const [gz] = await compare(pair, get('/gzip', ['Accept-Encoding: gzip']));
      expect(gz.header('content-encoding')).toBe('gzip');
      await compare(pair, get('/gzip', ['Accept-Encoding: br']));
      await compare(pair, get('/gzip'));
      await compare(pair, get('/gzip-stream', ['Accept-Encoding: gzip']));
      await compare(pair, 'HEAD /gzip HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n', { head: [0] });
      const [s] = await compare(pair, get('/stream'));
      expect([s.framing, s.body.toString()]).toEqual(['chunked', 'one,two,three']);
      await compare(pair, get('/stream', [], '1.0'));
    });

    test('multer uploads; error middleware for thrown and async errors', async () => {
      const [u] = await compare(pair, post('/upload', upload.type, upload.body));
      expect(JSON.parse(u.body.toString())).toMatchObject({ fields: { name: 'report', kind: 'csv' }, size: 3000 });
      const [t] = await compare(pair, get('/throw'));
      expect(t.status).toBe(418);
      const [a] = await compare(pair, get('/async'));
      expect(a.status).toBe(409);
    });

    test('pipelined and keep-alive requests on one connection; morgan saw the same', async () => {
      await compare(pair, [get('/') + get('/users/1') + post('/json', 'application/json', '{"p":1}')],
        { responses: 3 });
      await compare(pair, get('/', ['Connection: close']));
      expect(logs.nova).toEqual(logs.node);
      expect(logs.nova.length).toBeGreaterThan(20);
    });
  });
});
