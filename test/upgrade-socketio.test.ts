// socket.io 4 (server and client from npm, unmodified) on nova-http, every I/O model: long-polling, the upgrade from
// polling to WebSocket, and WebSocket only; acknowledged events both ways and the server's view of a disconnect.
import { afterEach, describe, expect, test } from 'vitest';
import { Server as IoServer } from 'socket.io';
import { io as connect } from 'socket.io-client';
import type { Socket as ClientSocket } from 'socket.io-client';
import { createServer } from '../dist/index.js';
import { closeServer, deferred, ioModels, withTimeout } from './helpers.js';

const open: { server: any; io: IoServer; clients: ClientSocket[] }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    for (const c of o.clients) c.close();
    o.io.close();
    await closeServer(o.server);
  }
});

describe.each(ioModels)('socket.io on nova-http (%o)', (model) => {
  test.each([
    ['polling, then upgraded to websocket', undefined, 'websocket'],
    ['long-polling only', ['polling'], 'polling'],
    ['websocket only', ['websocket'], 'websocket'],
  ] as const)('%s: 200 acknowledged events each way, plain HTTP beside it, disconnect seen', async (_, transports,
    finalTransport) => {
    const server: any = createServer({ ...model } as any, (req: any, res: any) => res.end('plain'));
    const io = new IoServer(server);
    const entry = { server, io, clients: [] as ClientSocket[] };
    open.push(entry);
    const disconnected = deferred<string>();
    io.on('connection', (s) => {
      s.on('add', (a: number, b: number, ack: (n: number) => void) => ack(a + b));
      s.on('disconnect', (reason) => disconnected.resolve(reason));
      s.emit('hello', 'from the server');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = server.address().port;

    const client = connect(`http://127.0.0.1:${port}`, {
      transports: transports ? [...transports] : undefined, forceNew: true, reconnection: false,
    });
    entry.clients.push(client);
    const hello = new Promise<string>((r) => client.once('hello', r));
    expect(await withTimeout(hello, 5000, "the server's hello")).toBe('from the server');

    for (let i = 0; i < 200; i++) expect(await client.emitWithAck('add', i, 1000)).toBe(i + 1000);
    // Server -> client acknowledgements.
    const [serverSide] = await io.fetchSockets();
    client.on('double', (n: number, ack: (n: number) => void) => ack(n * 2));
    for (let i = 0; i < 200; i++) expect(await serverSide.timeout(3000).emitWithAck('double', i)).toBe(i * 2);
    if (finalTransport === 'websocket') {
      await withTimeout(new Promise<void>((r) => {
        const check = () => (client.io.engine.transport.name === 'websocket' ? r() : setTimeout(check, 10));
        check();
      }), 5000, 'the websocket transport');
    }
    expect(client.io.engine.transport.name).toBe(finalTransport);

    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.text()).toBe('plain');

    client.close();
    expect(await withTimeout(disconnected.promise, 3000, "the server's disconnect")).toBe('client namespace disconnect');
  });
});
