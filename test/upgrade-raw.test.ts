// Upgrade and CONNECT with exact bytes, in every I/O model: the connection goes to the 'upgrade'/'connect' listener
// as a stream.Duplex, `head` holds the bytes received after the head, bytes pass through both ways verbatim with
// backpressure, the upgraded connection is under no keep-alive/headers deadline and never evicted; without a
// listener an Upgrade request is an ordinary request (node:http's rule) and a CONNECT closes the connection.
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import {
  cleanup, deferred, errorResponse, get, ioModels, normalize, RawClient, response, sleep, startServer, withTimeout,
} from './helpers.js';

afterEach(cleanup);

const upgradeReq = (path = '/chat') =>
  `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n`;
const switching = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n';

interface Upgraded {
  url: string;
  upgradeFlag: boolean;
  head: string;
  socket: any;
  reqSocketIsSocket: boolean;
}

/** An 'upgrade' listener that answers 101 and echoes every byte (head first) back, reporting what it got. */
function echoUpgrade(server: any): Promise<Upgraded> {
  const got = deferred<Upgraded>();
  server.on('upgrade', (req: any, socket: any, head: Buffer) => {
    socket.write(switching);
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
    got.resolve({
      url: req.url, upgradeFlag: req.upgrade, head: head.toString('latin1'), socket,
      reqSocketIsSocket: req.socket === socket,
    });
  });
  return got.promise;
}

describe.each(ioModels)('upgrade (%o)', (model) => {
  test('101 handshake and echo: exact bytes; the listener gets a Duplex and the bytes after the head', async () => {
    let requests = 0;
    const { port, server } = await startServer({ ...model }, () => requests++);
    const upgraded = echoUpgrade(server);
    const c = await RawClient.connect(port);
    await c.write(upgradeReq() + 'early bytes');
    const u = await withTimeout(upgraded, 3000, "'upgrade'");
    expect(u.socket).toBeInstanceOf(Duplex);
    expect(u.url).toBe('/chat');
    expect(u.upgradeFlag).toBe(true);
    expect(u.reqSocketIsSocket).toBe(true);
    expect(u.socket.remoteAddress).toBe('127.0.0.1');
    expect(u.socket.remotePort).toBe(c.socket.localPort);
    expect(u.socket.localPort).toBe(port);
    expect(u.socket.setNoDelay(true)).toBe(u.socket);
    expect(u.socket.setKeepAlive(true, 1000)).toBe(u.socket);
    await c.until(() => c.text.length >= switching.length + u.head.length, 3000, 'the 101 and the head echoed');
    await c.write(' and later ones');
    await c.until(() => c.text === switching + 'early bytes and later ones', 3000, 'every byte echoed');
    expect(requests).toBe(0);
    expect(c.serverClosed).toBe(false);
  });

  test('bytes pipelined after the head, split at several points: each byte passes once, in order', async () => {
    const { port, server } = await startServer({ ...model }, () => {});
    const heads: string[] = [];
    server.on('upgrade', (req: any, socket: any, head: Buffer) => {
      heads.push(head.toString('latin1'));
      socket.write(switching);
      socket.write(head);
      socket.pipe(socket);
    });
    const whole = upgradeReq() + 'PAYLOAD-0123456789';
    const head = upgradeReq().length;
    for (const at of [1, head - 3, head - 1, head, head + 1, head + 9, whole.length - 1]) {
      const c = await RawClient.connect(port);
      await c.send([whole.slice(0, at), whole.slice(at)], 30);
      await c.until(() => c.text === switching + 'PAYLOAD-0123456789', 3000, `the echo (split at ${at})`);
      c.destroy();
    }
    // With the whole request in one write, the head holds everything after the request head.
    expect(heads[0]).toBe('PAYLOAD-0123456789');
    expect(heads[heads.length - 1]).toBe('PAYLOAD-012345678'.slice(0, heads[heads.length - 1].length));
  });

  test('without an upgrade listener the request is an ordinary one, and keep-alive goes on', async () => {
    const { port } = await startServer({ ...model }, (req: any, res: any) => res.end(`${req.url} ${req.upgrade}`));
    const c = await RawClient.connect(port);
    await c.write(upgradeReq('/a') + get('/b'));
    const rs = await c.waitResponses(2);
    expect(rs.map((r) => normalize(r.raw))).toEqual([response({ body: '/a false' }), response({ body: '/b false' })]);
  });

  test('an Upgrade with a body, or without the upgrade token, is an ordinary request', async () => {
    let upgrades = 0;
    const { port, server } = await startServer({ ...model }, async (req: any, res: any) => {
      let body = '';
      for await (const ch of req) body += ch;
      res.end(`${req.url}:${body}`);
    });
    server.on('upgrade', () => upgrades++);
    const c = await RawClient.connect(port);
    await c.write('POST /p HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: x\r\nContent-Length: 3\r\n\r\nabc' +
      'GET /q HTTP/1.1\r\nHost: t\r\nUpgrade: x\r\n\r\n');
    const rs = await c.waitResponses(2);
    expect(rs.map((r) => normalize(r.raw))).toEqual([response({ body: '/p:abc' }), response({ body: '/q:' })]);
    expect(upgrades).toBe(0);
  });

  test('server side end(): the last bytes, then FIN; the client ending gives end and close', async () => {
    const { port, server } = await startServer({ ...model }, () => {});
    const events: string[] = [];
    const closed = deferred();
    server.on('upgrade', (req: any, socket: any) => {
      socket.on('end', () => events.push('end'));
      socket.on('close', () => {
        events.push('close');
        closed.resolve();
      });
      socket.on('data', (d: Buffer) => {
        events.push(`data ${d}`);
        if (String(d) === 'bye') socket.end('goodbye');
      });
      socket.write(switching);
    });
    const c = await RawClient.connect(port);
    await c.write(upgradeReq());
    await c.until(() => c.text === switching, 3000, 'the 101');
    await c.write('bye');
    await c.until(() => c.ended, 3000, 'the server FIN');
    expect(c.text).toBe(switching + 'goodbye');
    c.end();
    await withTimeout(closed.promise, 3000, "the socket's close");
    expect(events).toEqual(['data bye', 'end', 'close']);
    expect(server.stats().closes.error).toBe(0);
  });

  test('closeIdleConnections() leaves an upgraded connection; close() waits for it; closeAllConnections() ends it',
    async () => {
      const { port, server } = await startServer({ ...model }, () => {});
      echoUpgrade(server);
      const c = await RawClient.connect(port);
      await c.write(upgradeReq());
      await c.until(() => c.text === switching, 3000, 'the 101');
      server.closeIdleConnections();
      let closed = false;
      server.close(() => (closed = true));
      await sleep(300);
      expect(closed).toBe(false);  // as node:http: 'close' waits for every connection, upgraded ones included
      await c.write('still');
      await c.until(() => c.text === switching + 'still', 3000, 'the echo while the server closes');
      server.closeAllConnections();
      expect(await c.waitClose(3000)).toBe(true);
      await waitUntil(() => closed, 3000, "the server's close");
    });

  test('destroy() closes the connection; a client that resets gives close', async () => {
    const { port, server } = await startServer({ ...model }, () => {});
    const sockets: any[] = [];
    server.on('upgrade', (req: any, socket: any) => {
      socket.on('error', () => {});
      sockets.push(socket);
      socket.write(switching);
    });
    const a = await RawClient.connect(port);
    await a.write(upgradeReq());
    await a.until(() => a.text === switching, 3000, 'the 101');
    sockets[0].destroy();
    expect(await a.waitClose(2000)).toBe(true);

    const b = await RawClient.connect(port);
    await b.write(upgradeReq());
    await b.until(() => b.text === switching, 3000, 'the 101');
    const closed = deferred();
    sockets[1].on('close', () => closed.resolve());
    const errors: Error[] = [];
    sockets[1].on('error', (e: Error) => errors.push(e));
    b.resetNow();
    await withTimeout(closed.promise, 1000, "'close' after the client's reset");
    expect(errors).toEqual([]);  // README: a reset gives 'close' without an ECONNRESET 'error'
    expect(sockets[1].destroyed).toBe(true);
    expect(sockets[1].write('x')).toBe(false);
  });

  test('no keepAliveTimeout/headersTimeout once upgraded, and never evicted at the connection cap', async () => {
    const { port, server } = await startServer(
      { ...model, keepAliveTimeout: 150, headersTimeout: 150, requestTimeout: 150, maxConnections: 1 }, () => {});
    echoUpgrade(server);
    const c = await RawClient.connect(port);
    await c.write(upgradeReq());
    await c.until(() => c.text === switching, 3000, 'the 101');
    await sleep(500);
    // At the cap: the upgraded connection is not idle, so a new one is refused rather than evicting it.
    const d = await RawClient.connect(port);
    await d.write(get('/'));
    expect(await d.waitClose(3000)).toBe(true);
    expect(d.text).toBe(errorResponse(503));
    await c.write('still here');
    await c.until(() => c.text === switching + 'still here', 3000, 'the echo after 500 ms');
  });

  test('backpressure both ways: a paused socket stops native reading; writes wait for drain; no byte lost', async () => {
    const { port, server } = await startServer({ ...model }, () => {});
    const got = deferred<any>();
    server.on('upgrade', (req: any, socket: any) => {
      socket.write(switching);
      socket.pause();
      got.resolve(socket);
    });
    const c = await RawClient.connect(port);
    await c.write(upgradeReq());
    const socket = await withTimeout(got.promise, 3000, "'upgrade'");
    await c.until(() => c.text === switching, 3000, 'the 101');
    // Client -> server: with the server socket paused, native stops reading (JS holds little), so the client's
    // writes back up in the kernel buffers and its own; after resume() every byte arrives, in order.
    const total = 32 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = i & 0xff;
    let sent = 0;
    let clientDone = false;
    const writer = (async () => {
      while (sent < total) {
        const ok = c.socket.write(chunk);
        sent += chunk.length;
        if (!ok) await new Promise((r) => c.socket.once('drain', r));
      }
      clientDone = true;
    })();
    await sleep(500);
    expect(clientDone).toBe(false);
    // What JS holds is bounded by native's queue cap for bytes waiting for JS (8 MiB, as for request bodies) plus
    // a read burst when a pause reaches the I/O thread after bytes did; a pause() before any byte (as here) stops
    // native at once.
    expect(socket.readableLength).toBeLessThan(8.5 * 1024 * 1024);
    let received = 0;
    let intact = true;
    socket.on('data', (d: Buffer) => {
      for (let i = 0; i < d.length; i += 4099) if (d[i] !== ((received + i) & 0xff)) intact = false;
      received += d.length;
    });
    socket.resume();
    await withTimeout(writer, 20000, 'the client to write everything');
    await waitUntil(() => received === total, 20000, 'every byte at the server');
    expect(intact).toBe(true);

    // Server -> client: the client doesn't read, so write() says false and the callbacks wait; then all arrive.
    c.socket.pause();
    const start = c.bytesReceived;
    let ok = true;
    let writes = 0;
    while (ok && writes < 1000) {
      ok = socket.write(chunk);
      writes++;
    }
    expect(ok).toBe(false);
    const drained = new Promise((r) => socket.once('drain', r));
    await sleep(200);
    c.socket.resume();
    await withTimeout(drained, 5000, "the server socket's drain");
    await c.until(() => c.bytesReceived - start === writes * chunk.length, 10000, 'every byte at the client');
  });
});

describe.each(ioModels)('CONNECT (%o)', (model) => {
  test('a tunnel to an upstream: exact bytes both ways, head included; closing one side closes the other', async () => {
    const upstreamClosed = deferred();
    const upstream = net.createServer((s) => {
      s.on('data', (d) => s.write(`<${d}>`));
      s.on('end', () => s.end());
      s.on('close', () => upstreamClosed.resolve());
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const upPort = (upstream.address() as net.AddressInfo).port;
    try {
      let requests = 0;
      const { port, server } = await startServer({ ...model }, () => requests++);
      server.on('connect', (req: any, socket: any, head: Buffer) => {
        const [host, p] = req.url.split(':');
        const up = net.connect(Number(p), host, () => {
          socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          if (head.length) up.write(head);
          socket.pipe(up);
          up.pipe(socket);
        });
      });
      const c = await RawClient.connect(port);
      await c.write(`CONNECT 127.0.0.1:${upPort} HTTP/1.1\r\nHost: 127.0.0.1:${upPort}\r\n\r\nping`);
      await c.until(() => c.text === 'HTTP/1.1 200 Connection Established\r\n\r\n<ping>', 3000, 'the tunnel');
      await c.write('pong');
      await c.until(() => c.text.endsWith('<ping><pong>'), 3000, 'the second exchange');
      c.end();
      await withTimeout(upstreamClosed.promise, 3000, 'the upstream to close');
      expect(await c.waitClose(3000)).toBe(true);
      expect(requests).toBe(0);
    } finally {
      upstream.close();
    }
  });

  test('without a connect listener the connection closes (as node:http), the handler is not called', async () => {
    let requests = 0;
    const { port, server } = await startServer({ ...model }, () => requests++);
    const c = await RawClient.connect(port);
    await c.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(await c.waitClose(3000)).toBe(true);
    expect(c.text).toBe('');
    expect(requests).toBe(0);
    expect(server.stats().closes.error).toBe(0);
  });
});

async function waitUntil(pred: () => boolean, ms: number, what: string): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}
