// socket.bytesRead / bytesWritten count every byte of the connection, as net.Socket's: request heads and bodies in,
// response heads and bodies out, the passthrough's bytes after an upgrade, and the final counts after 'close'.
// Exact bytes, every I/O model.
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, deferred, get, ioModels, normalize, RawClient, response, startServer, waitFor, withTimeout } from './helpers.js';

afterEach(cleanup);

describe.each(ioModels)('socket.bytesRead / bytesWritten (%o)', (model) => {
  test('count the heads and bodies both ways, and keep the last counts after close', async () => {
    const seen: [number, number][] = [];
    let socket: any;
    const { port } = await startServer({ ...model }, (req: any, res: any) => {
      socket = req.socket;
      req.resume();
      req.on('end', () => {
        seen.push([req.socket.bytesRead, req.socket.bytesWritten]);
        res.end(`body of ${req.url}`);
      });
    });
    const c = await RawClient.connect(port);
    const first = get('/one');
    await c.write(first);
    await c.waitResponses(1);
    const afterFirst = c.data.length;
    expect(normalize(c.text)).toBe(response({ body: 'body of /one' }));
    const second = 'POST /two HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello';
    await c.write(second);
    await c.waitResponses(2);
    expect(normalize(c.text)).toBe(response({ body: 'body of /one' }) + response({ body: 'body of /two' }));
    // In each handler: every byte read so far, and the bytes of the responses the client already had.
    expect(seen).toEqual([[first.length, 0], [first.length + second.length, afterFirst]]);
    const closed = deferred<void>();
    socket.once('close', () => closed.resolve());
    c.destroy();
    await withTimeout(closed.promise, 3000, "the socket's 'close'");
    expect([socket.bytesRead, socket.bytesWritten]).toEqual([first.length + second.length, c.data.length]);
  });

  test('an upgraded connection counts the handshake and the passthrough bytes', async () => {
    const { port, server } = await startServer({ ...model }, () => {});
    const up = 'GET /up HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n';
    const switching = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n';
    const got = deferred<any>();
    server.on('upgrade', (req: any, socket: any, head: Buffer) => {
      socket.write(switching);
      socket.write(head);
      socket.pipe(socket);
      got.resolve(socket);
    });
    const c = await RawClient.connect(port);
    await c.write(up + 'abc');
    const socket = await withTimeout(got.promise, 3000, "'upgrade'");
    await c.until(() => c.text === switching + 'abc', 3000, 'the 101 and the echo');
    await c.write('defg');
    await c.until(() => c.text === switching + 'abcdefg', 3000, 'the later echo');
    await waitFor(() => socket.bytesWritten === switching.length + 7, 3000, 'bytesWritten');
    expect(socket.bytesRead).toBe(up.length + 7);
    expect(socket.bytesWritten).toBe(c.data.length);
  });
});
