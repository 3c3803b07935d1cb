// One socket object per connection, as in node:http: the 'connection' socket, every request's req.socket and
// res.socket, and the socket an 'upgrade'/'connect' listener gets are the same stream.Duplex, which becomes the
// passthrough on the upgrade. Exact bytes, every I/O model.
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import { NovaSocket, UpgradeSocket } from '../dist/index.js';
import {
  cleanup, deferred, get, ioModels, normalize, RawClient, response, sleep, startServer, waitFor, withTimeout,
} from './helpers.js';

afterEach(cleanup);

const upgradeReq = 'GET /up HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n';
const switching = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n';

describe.each(ioModels)('one socket per connection (%o)', (model) => {
  test("'connection', req.socket, res.socket and the upgrade socket are one object", async () => {
    const seen: { conn?: unknown; req: unknown[]; res: unknown[]; up?: unknown; upReq?: unknown } = { req: [], res: [] };
    const { port, server } = await startServer({ ...model }, (req: any, res: any) => {
      seen.req.push(req.socket);
      seen.res.push(res.socket);
      res.end(req.url);
    });
    server.on('connection', (s: unknown) => { seen.conn = s; });
    const upgraded = deferred<void>();
    server.on('upgrade', (req: any, socket: any, head: Buffer) => {
      seen.up = socket;
      seen.upReq = req.socket;
      socket.write(switching);
      socket.write(head);
      socket.pipe(socket);
      upgraded.resolve();
    });
    const c = await RawClient.connect(port);
    // Two ordinary requests, then the upgrade with bytes after its head, all in one write.
    await c.write(get('/a') + get('/b') + upgradeReq + 'tail');
    await withTimeout(upgraded.promise, 3000, "'upgrade'");
    const expected = normalize(response({ body: '/a' })) + normalize(response({ body: '/b' })) + switching + 'tail';
    await c.until(() => normalize(c.text) === expected, 3000, 'two responses, the 101 and the echoed tail');
    await c.write('!');
    await c.until(() => normalize(c.text) === expected + '!', 3000, 'the echo of a later byte');
    expect(seen.conn).toBeInstanceOf(NovaSocket);
    expect(seen.conn).toBeInstanceOf(UpgradeSocket);
    expect(seen.conn).toBeInstanceOf(Duplex);
    expect(seen.req).toEqual([seen.conn, seen.conn]);
    expect(seen.res[0]).toBe(seen.conn);
    expect(seen.up).toBe(seen.conn);
    expect(seen.upReq).toBe(seen.conn);
  });

  test('after an upgrade the socket is the listener\'s: a timeout only emits, an error needs its listener', async () => {
    const { port, server } = await startServer({ ...model }, () => {});
    const got = deferred<any>();
    server.on('upgrade', (req: any, socket: any) => {
      socket.write(switching);
      got.resolve(socket);
    });
    const c = await RawClient.connect(port);
    await c.write(upgradeReq);
    const socket = await withTimeout(got.promise, 3000, "'upgrade'");
    let timeouts = 0;
    socket.setTimeout(50, () => timeouts++);
    await sleep(200);
    expect(timeouts).toBe(1);
    expect(socket.destroyed).toBe(false);
    expect(socket.timeout).toBe(50);
    expect(socket.listenerCount('error')).toBe(0);
    const closed = deferred<void>();
    socket.on('close', () => closed.resolve());
    socket.end('bye');
    await withTimeout(closed.promise, 3000, "'close' after end()");
    await c.until(() => c.serverClosed, 3000, 'FIN');
    expect(c.text).toBe(switching + 'bye');
  });
  test('a socket nobody used, kept past its close, reads as destroy() leaves one; no late \'close\'', async () => {
    const kept: any[] = [];
    const later = deferred<Record<string, unknown>>();
    const { port, server } = await startServer({ ...model }, (req: any, res: any) => {
      if (req.url === '/a') {
        kept.push(req.socket);  // nothing touches it until the second connection's request
      } else {
        const a = kept[0];
        let lateClose = 0;
        a.on('close', () => lateClose++);
        setTimeout(() => later.resolve({
          destroyed: a.destroyed, readyState: a.readyState, readable: a.readable, writable: a.writable,
          closed: a.closed, bytesWritten: a.bytesWritten, remoteAddress: a.remoteAddress, lateClose,
        }), 50);
      }
      res.end(req.url);
    });
    const a = await RawClient.connect(port);
    await a.write(get('/a'));
    await a.until(() => normalize(a.text) === normalize(response({ body: '/a' })), 3000, 'the response to /a');
    const sent = a.text.length;
    a.socket.destroy();
    await waitFor(() => server.stats().closes.client === 1, 3000, 'the close counted');
    await sleep(50);
    const b = await RawClient.connect(port);
    await b.write(get('/b'));
    expect(await withTimeout(later.promise, 3000, "the second connection's handler")).toEqual({
      destroyed: true, readyState: 'closed', readable: false, writable: false, closed: true, bytesWritten: sent,
      remoteAddress: undefined, lateClose: 0,
    });
  });

  test("socket.destroy(err) with no 'error' listener is no uncaught error; the server serves on", async () => {
    const { port } = await startServer({ ...model }, (req: any, res: any) => {
      if (req.url === '/die') req.socket.destroy(new Error('the handler ends this connection'));
      else res.end(req.url);
    });
    const c = await RawClient.connect(port);
    await c.write(get('/die'));
    expect(await c.waitClose(3000)).toBe(true);
    expect(c.text).toBe('');
    const d = await RawClient.connect(port);
    await d.write(get('/next'));
    await d.until(() => normalize(d.text) === normalize(response({ body: '/next' })), 3000, 'the next response');
  });
});
