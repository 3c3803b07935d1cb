// ws 8 (the npm package, unmodified) on nova-http in every I/O model, both ways of attaching it:
// `server.on('upgrade', (req, socket, head) => wss.handleUpgrade(...))` and `new WebSocketServer({ server })`.
// 1,000 text and 1,000 binary messages echoed, ping/pong both ways, close codes both ways, a client that
// disappears; and the exact bytes of the 101 handshake with a frame pipelined after the head, compared with what
// the same ws code answers on node:http.
import * as http from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createServer } from '../dist/index.js';
import { cleanup, closeServer, deferred, ioModels, RawClient, withTimeout } from './helpers.js';

const started: { server: any; wss: WebSocketServer }[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) {
    for (const c of s.wss.clients) c.terminate();
    s.wss.close();
    await closeServer(s.server);
  }
  await cleanup();
});

type Style = 'handleUpgrade' | 'server option';

/** An echo WebSocket server on `server` (nova or node:http), attached in the given style; listening on 127.0.0.1. */
async function echoServer(server: any, style: Style): Promise<{ port: number; wss: WebSocketServer }> {
  let wss: WebSocketServer;
  const listening = deferred();
  if (style === 'handleUpgrade') {
    wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req: any, socket: any, head: Buffer) => {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    listening.resolve();
  } else {
    // Made before listen(): ws re-emits the server's 'listening' and reads address() from it.
    wss = new WebSocketServer({ server });
    wss.once('listening', () => listening.resolve());
  }
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  started.push({ server, wss });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  await withTimeout(listening.promise, 3000, "the WebSocketServer's 'listening'");
  return { port: server.address().port, wss };
}

function open(port: number, path = '/socket'): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  return withTimeout(new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  }), 3000, 'the WebSocket to open');
}

describe.each(ioModels)('ws on nova-http (%o)', (model) => {
  describe.each(['handleUpgrade', 'server option'] as Style[])('%s', (style) => {
    test('1,000 text and 1,000 binary messages echoed in order, plain HTTP still served', async () => {
      const server = createServer({ ...model } as any, (req: any, res: any) => res.end('plain'));
      const { port, wss } = await echoServer(server, style);
      if (style === 'server option') expect(wss.address()).toEqual(server.address());
      const ws = await open(port);
      const sent: (string | Buffer)[] = [];
      for (let i = 0; i < 1000; i++) {
        // Sizes cross the 7-bit, 16-bit and 64-bit frame length encodings.
        const size = i % 100 === 0 ? 70_000 : i % 10 === 0 ? 300 : 1 + (i % 120);
        sent.push(`text ${i} ${'t'.repeat(size)}`);
        sent.push(Buffer.alloc(size, i & 0xff));
      }
      const got: (string | Buffer)[] = [];
      const all = deferred();
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        got.push(isBinary ? Buffer.from(data) : data.toString());
        if (got.length === sent.length) all.resolve();
      });
      for (const m of sent) ws.send(m);
      await withTimeout(all.promise, 20000, `${sent.length} echoes (got ${got.length})`);
      expect(got.length).toBe(2000);
      for (let i = 0; i < sent.length; i++) {
        if (typeof sent[i] === 'string') expect(got[i]).toBe(sent[i]);
        else expect(Buffer.compare(got[i] as Buffer, sent[i] as Buffer)).toBe(0);
      }
      // The same port still serves plain HTTP.
      const body = await new Promise<string>((resolve, reject) => {
        http.get({ port, host: '127.0.0.1', path: '/' }, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(b));
        }).on('error', reject);
      });
      expect(body).toBe('plain');
      ws.close();
    });

    test('ping/pong both ways, close codes both ways, a client that disappears', async () => {
      const server = createServer({ ...model } as any, (req: any, res: any) => res.end());
      const { port, wss } = await echoServer(server, style);
      const serverSide: any[] = [];
      const serverCloses: [number, string][] = [];
      const serverClosed: (() => void)[] = [];
      wss.on('connection', (ws) => {
        serverSide.push(ws);
        ws.on('close', (code, reason) => {
          serverCloses.push([code, reason.toString()]);
          serverClosed.shift()?.();
        });
      });

      // Client ping -> server's automatic pong with the same payload.
      const a = await open(port);
      const pong = new Promise<string>((r) => a.once('pong', (d) => r(d.toString())));
      a.ping('are you there');
      expect(await withTimeout(pong, 3000, 'the pong')).toBe('are you there');
      // Server ping -> client's automatic pong.
      const serverPong = new Promise<string>((r) => serverSide[0].once('pong', (d: Buffer) => r(d.toString())));
      serverSide[0].ping('and you?');
      expect(await withTimeout(serverPong, 3000, "the client's pong")).toBe('and you?');

      // The client closes with a code: the server sees it, the handshake completes both ways.
      const aClosed = new Promise<[number, string]>((r) => a.once('close', (c, why) => r([c, why.toString()])));
      let done = deferred();
      serverClosed.push(() => done.resolve());
      a.close(4001, 'client bye');
      expect(await withTimeout(aClosed, 3000, "the client's close")).toEqual([4001, 'client bye']);
      await withTimeout(done.promise, 3000, "the server's close");
      expect(serverCloses[0]).toEqual([4001, 'client bye']);

      // The server closes with a code.
      const b = await open(port);
      const bClosed = new Promise<[number, string]>((r) => b.once('close', (c, why) => r([c, why.toString()])));
      done = deferred();
      serverClosed.push(() => done.resolve());
      serverSide[1].close(4002, 'server bye');
      expect(await withTimeout(bClosed, 3000, "the client's close")).toEqual([4002, 'server bye']);
      await withTimeout(done.promise, 3000, "the server's close");
      expect(serverCloses[1]).toEqual([4002, 'server bye']);

      // A client that disappears without a close frame: 1006 on the server, at once.
      const c = await open(port);
      done = deferred();
      serverClosed.push(() => done.resolve());
      const t0 = Date.now();
      c.terminate();
      await withTimeout(done.promise, 2000, "the server's close after the client vanished");
      expect(serverCloses[2][0]).toBe(1006);
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(server.stats().closes.error).toBe(0);
    });
  });

  test('100 clients at once, 100 messages each both ways, interleaved: every echo to its own client, in order', async () => {
    const server = createServer({ ...model } as any, () => {});
    const { port, wss } = await echoServer(server, 'server option');
    const clients = await Promise.all(Array.from({ length: 100 }, () => open(port)));
    expect(wss.clients.size).toBe(100);
    await withTimeout(Promise.all(clients.map((ws, k) => new Promise<void>((resolve, reject) => {
      let next = 0;
      ws.on('message', (data: Buffer) => {
        if (data.toString() !== `c${k} m${next}`) reject(new Error(`client ${k} got ${data} for m${next}`));
        if (++next === 100) resolve();
      });
      for (let i = 0; i < 100; i++) ws.send(`c${k} m${i}`);
    }))), 20000, 'every echo');
    for (const ws of clients) ws.terminate();
  });

  test('the 101 handshake and a frame pipelined after the head: the same bytes as ws on node:http', async () => {
    // RFC 6455 1.3's key and 5.7's masked "Hello" frame, sent in the same write as the handshake (ws gets it as head).
    const request = 'GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    const hello = Buffer.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    const expected = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x05Hello';
    const run = async (server: any): Promise<string> => {
      const { port } = await echoServer(server, 'handleUpgrade');
      const c = await RawClient.connect(port);
      await c.write(Buffer.concat([Buffer.from(request, 'latin1'), hello]));
      await c.until(() => c.text.length >= expected.length, 3000, 'the 101 and the echoed frame');
      c.destroy();
      return c.text;
    };
    const nodeBytes = await run(http.createServer());
    const novaBytes = await run(createServer({ ...model } as any, () => {}));
    expect(nodeBytes).toBe(expected);
    expect(novaBytes).toBe(expected);
  });

  test("a refused handshake: ws's own 400, exact bytes, then the connection closes", async () => {
    const server = createServer({ ...model } as any, () => {});
    const { port } = await echoServer(server, 'handleUpgrade');
    const c = await RawClient.connect(port);
    await c.write('GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Version: 13\r\n\r\n');
    expect(await c.waitClose(3000)).toBe(true);
    const message = 'Missing or invalid Sec-WebSocket-Key header';
    expect(c.text).toBe(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\n` +
      `Content-Length: ${message.length}\r\n\r\n${message}`);
  });
});
