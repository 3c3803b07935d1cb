// The server object: listen forms, address(), 'listening'/'close'/'error'/'clientError' events, close() (stops
// accepting, closes idle connections, lets in-flight responses finish with Connection: close, lets the process
// exit), closeIdleConnections(), closeAllConnections(), option validation. (worker_threads: api-worker-thread.)
import * as net from 'node:net';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { createServer } from '../dist/index.js';
import type { AddressInfo, IoModel, ServerOptions } from '../dist/index.js';
import {
  cleanup, closeServer, deferred, distPath, errorResponse, get, ioModels, normalize, RawClient, response, sleep,
  startServer, waitFor, withTimeout,
} from './helpers.js';
import { runChild as runChildProcess } from './helpers.js';

const runChild = (code: string, timeoutMs = 10000) => runChildProcess(code, timeoutMs);

afterEach(cleanup);

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

const distUrl = pathToFileURL(distPath).href;
const importNova = `const mod = await import(${JSON.stringify(distUrl)}); const { createServer } = mod.createServer ? mod : mod.default;`;

describe.each(ioModels)('server API (%o)', (model) => {
  test("listen(0, host, backlog, cb): 'listening' and cb, address() is { address, family, port }", async () => {
    const server = createServer({ ...model }, (req: unknown, res: { end(b: string): void }) => res.end('ok'));
    const events: string[] = [];
    server.on('listening', () => events.push('listening'));
    await withTimeout(new Promise<void>((r) => server.listen(0, '127.0.0.1', 511, () => r())), 3000, 'listen cb');
    try {
      const addr = server.address() as AddressInfo;
      expect(addr).toEqual({ address: '127.0.0.1', family: 'IPv4', port: expect.any(Number) });
      expect(addr.port).toBeGreaterThan(0);
      await waitFor(() => events.length === 1, 1000, "'listening'");
      const c = await RawClient.connect(addr.port);
      await c.write(get('/'));
      const rs = await c.waitResponses(1);
      expect(normalize(rs[0].raw)).toBe(response({ body: 'ok' }));
      c.destroy();
    } finally {
      await closeServer(server);
    }
  });

  test('listen(port, cb) without a host accepts connections on 127.0.0.1', async () => {
    const server = createServer({ ...model }, (req: unknown, res: { end(b: string): void }) => res.end('any'));
    await withTimeout(new Promise<void>((r) => server.listen(0, () => r())), 3000, 'listen cb');
    try {
      const c = await RawClient.connect((server.address() as AddressInfo).port);
      await c.write(get('/'));
      const rs = await c.waitResponses(1);
      expect(rs[0].body.toString()).toBe('any');
      c.destroy();
    } finally {
      await closeServer(server);
    }
  });

  test("listen on a port in use emits 'error' with code EADDRINUSE", async () => {
    const { port } = await startServer({ ...model }, (req, res) => res.end('first'));
    const second = createServer({ ...model }, (req: unknown, res: { end(b: string): void }) => res.end('second'));
    const err = await withTimeout(
      new Promise<NodeJS.ErrnoException>((resolve) => {
        second.once('error', resolve);
        try {
          second.listen(port, '127.0.0.1');
        } catch (e) {
          resolve(e as NodeJS.ErrnoException); // throwing synchronously is acceptable too
        }
      }),
      3000,
      "'error' for EADDRINUSE",
    );
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('EADDRINUSE');
    // the first server is unaffected
    const c = await RawClient.connect(port);
    await c.write(get('/'));
    const rs = await c.waitResponses(1);
    expect(rs[0].body.toString()).toBe('first');
  });

  test("clientError is emitted for a refused request", async () => {
    const { port, server } = await startServer({ ...model }, (req, res) => res.end('ok'));
    const errors: unknown[] = [];
    server.on('clientError', (e: unknown) => errors.push(e));
    const c = await RawClient.connect(port);
    await c.write('GET / HTTP/1.1\r\nHost : t\r\n\r\n');
    await c.waitClose(3000);
    expect(normalize(c.text)).toBe(errorResponse(400));
    await waitFor(() => errors.length > 0, 2000, "'clientError'");
    expect(errors[0]).toBeInstanceOf(Error);
  });

  test("close(cb): stops accepting, closes an idle keep-alive connection, cb and 'close' fire", async () => {
    const { port, server } = await startServer({ ...model }, (req, res) => res.end('ok'));
    const idle = await RawClient.connect(port);
    await idle.write(get('/'));
    await idle.waitResponses(1);
    const closedEvent = deferred();
    server.on('close', () => closedEvent.resolve());
    const cb = deferred();
    server.close(() => cb.resolve());
    expect(await idle.waitClose(3000)).toBe(true);
    expect(normalize(idle.text)).toBe(response({ body: 'ok' }));
    await withTimeout(cb.promise, 3000, 'close() callback');
    await withTimeout(closedEvent.promise, 3000, "'close' event");
    expect(await refused(port)).toBe(true);
  });

  test('close() with a request in flight: its response says Connection: close, then close completes', async () => {
    const release = deferred();
    const started = deferred();
    const { port, server } = await startServer({ ...model }, async (req, res) => {
      started.resolve();
      await release.promise;
      res.end('last');
    });
    const c = await RawClient.connect(port);
    await c.write(get('/'));
    await withTimeout(started.promise, 3000, 'the handler to start');
    let closed = false;
    server.close(() => (closed = true));
    await sleep(100);
    expect(await refused(port)).toBe(true);
    expect(closed).toBe(false);
    release.resolve();
    await c.waitResponses(1);
    expect(await c.waitClose(3000)).toBe(true);
    expect(normalize(c.text)).toBe(response({ body: 'last', persist: false }));
    await waitFor(() => closed, 3000, 'close() callback');
  });

  test('closeIdleConnections(): the idle connection closes, the busy one is answered', async () => {
    const release = deferred();
    const { port, server } = await startServer({ ...model }, async (req, res) => {
      if (req.url === '/hold') await release.promise;
      res.end(req.url);
    });
    const idle = await RawClient.connect(port);
    await idle.write(get('/idle'));
    await idle.waitResponses(1);
    const busy = await RawClient.connect(port);
    await busy.write(get('/hold'));
    await sleep(100);
    server.closeIdleConnections();
    expect(await idle.waitClose(2000)).toBe(true);
    expect(busy.serverClosed).toBe(false);
    release.resolve();
    const rs = await busy.waitResponses(1);
    expect(rs[0].status).toBe(200);
    expect(rs[0].body.toString()).toBe('/hold');
    // the server still accepts new connections
    const fresh = await RawClient.connect(port);
    await fresh.write(get('/fresh'));
    const fr = await fresh.waitResponses(1);
    expect(normalize(fr[0].raw)).toBe(response({ body: '/fresh' }));
  });

  test('closeAllConnections(): idle and busy connections are closed', async () => {
    const { port, server } = await startServer({ ...model }, (req, res) => {
      if (req.url === '/hold') return; // never answers
      res.end(req.url);
    });
    const idle = await RawClient.connect(port);
    await idle.write(get('/idle'));
    await idle.waitResponses(1);
    const busy = await RawClient.connect(port);
    await busy.write(get('/hold'));
    await sleep(100);
    server.closeAllConnections();
    expect(await idle.waitClose(2000)).toBe(true);
    expect(await busy.waitClose(2000)).toBe(true);
    expect(normalize(busy.text)).not.toContain('HTTP/1.1 200');
  });

  test('after server.close() the process exits on its own (idle keep-alive client included)', async () => {
    const code = `
      ${importNova}
      const net = await import('node:net');
      const s = createServer(${JSON.stringify(model)}, (req, res) => res.end('ok'));
      s.listen(0, '127.0.0.1', () => {
        const c = net.connect(s.address().port, '127.0.0.1', () => c.write('GET / HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n'));
        c.on('error', () => {});
        c.once('data', () => {
          s.close(() => process.stdout.write('close-cb '));
        });
        c.on('end', () => process.stdout.write('client-end '));
      });
      process.on('exit', () => process.stdout.write('exit'));
    `;
    const r = await runChild(code, 10000);
    expect(r.signal, `killed: the process did not exit; stderr: ${r.stderr}`).toBe(null);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('close-cb');
    expect(r.stdout).toContain('client-end');
    expect(r.stdout.endsWith('exit')).toBe(true);
    expect(r.ms).toBeLessThan(8000);
  });

  test('a server that was never listened on does not keep the process alive', async () => {
    const code = `
      ${importNova}
      createServer(${JSON.stringify(model)}, (req, res) => res.end('ok'));
      process.on('exit', () => process.stdout.write('exit'));
    `;
    const r = await runChild(code, 10000);
    expect(r.signal, r.stderr).toBe(null);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('exit');
  });
});

describe('option validation', () => {
  const numeric = [
    'keepAliveTimeout', 'headersTimeout', 'requestTimeout', 'maxRequestsPerSocket', 'maxHeaderSize', 'maxConnections',
  ];
  const wrongType: unknown[] = ['100', true, {}];
  const outOfRange: unknown[] = [-1, NaN, 1.5, -Infinity];

  for (const name of numeric) {
    test.each(wrongType.map((v) => [v]))(`${name}: %o -> TypeError naming ${name}`, (v) => {
      expect(() => createServer({ [name]: v })).toThrow(TypeError);
      expect(() => createServer({ [name]: v })).toThrow(new RegExp(name));
    });
    test.each(outOfRange.map((v) => [v]))(`${name}: %o -> RangeError naming ${name}`, (v) => {
      expect(() => createServer({ [name]: v })).toThrow(RangeError);
      expect(() => createServer({ [name]: v })).toThrow(new RegExp(name));
    });
  }

  test('ioModel: an unknown name -> TypeError or RangeError naming ioModel', () => {
    for (const v of ['bogus', 'Blocking', '']) {
      let err: unknown;
      try {
        createServer({ ioModel: v as IoModel });  // invalid on purpose
      } catch (e) {
        err = e;
      }
      expect(err instanceof TypeError || err instanceof RangeError, `ioModel ${JSON.stringify(v)}`).toBe(true);
      expect(String((err as Error).message)).toMatch(/ioModel/);
    }
  });

  test('ioModel: a number -> TypeError naming ioModel', () => {
    // @ts-expect-error: a number, not an IoModel, on purpose
    expect(() => createServer({ ioModel: 1 })).toThrow(TypeError);
    // @ts-expect-error: as above
    expect(() => createServer({ ioModel: 1 })).toThrow(/ioModel/);
  });

  test('valid options are accepted', () => {
    for (const opts of [
      {},
      { ioModel: 'blocking' } as ServerOptions,
      { keepAliveTimeout: 5000, headersTimeout: 1000, requestTimeout: 0 },
      { maxRequestsPerSocket: 0 },
      { maxRequestsPerSocket: 100, maxHeaderSize: 8192, maxConnections: 10 },
      ...ioModels,
    ]) {
      expect(() => createServer(opts)).not.toThrow();
    }
    expect(() => createServer()).not.toThrow();
    expect(() => createServer(() => {})).not.toThrow();
  });
});
