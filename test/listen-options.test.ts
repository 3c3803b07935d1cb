// listen()'s socket options in every I/O model, each compared with node:http in the same test where node has the
// behaviour: `path` (a Unix domain socket: address() is the path, the file goes at close, EADDRINUSE and EACCES as
// node reports them, readableAll/writableAll), `fd` (an open socket handed over, as by systemd), `ipv6Only`,
// `reusePort` (two servers on one port, both serving), and
// the connection's own local address in req.socket (a server bound to a wildcard reached at one address).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { createServer } from '../dist/index.js';
import { cleanup, closeServer, distPath, get, ioModels, normalize, RawClient, response, withTimeout } from './helpers.js';
import type { AnyServer } from './helpers.js';

afterEach(cleanup);

const dir = mkdtempSync(join(tmpdir(), 'nova-listen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let serial = 0;
const sockPath = () => join(dir, `s${++serial}.sock`);

/** What a handler sees of its socket, as JSON: the same handler runs on node:http and on nova-http. */
const describeSocket = (req: any, res: any) => {
  const s = req.socket;
  res.end(JSON.stringify({
    remoteAddress: s.remoteAddress, remotePort: s.remotePort, remoteFamily: s.remoteFamily,
    localAddress: s.localAddress, localPort: s.localPort, localFamily: s.localFamily, address: s.address(),
  }));
};

function listen(server: AnyServer, ...args: unknown[]): Promise<void> {
  return withTimeout(new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(...args, () => {
      server.removeListener('error', reject);
      resolve();
    });
  }), 5000, 'listening');
}

function listenError(server: AnyServer, ...args: unknown[]): Promise<Record<string, unknown>> {
  return withTimeout(new Promise((resolve) => {
    server.once('error', (e: Record<string, unknown>) => resolve({
      message: e.message, code: e.code, errno: e.errno, syscall: e.syscall, address: e.address, port: e.port,
    }));
    server.listen(...args);
  }), 5000, 'the listen error');
}

/** One request on a new connection; the response's body, after checking every byte of the response. */
async function ask(port: number, opts: { host?: string; path?: string } = {}): Promise<{ body: any; client: RawClient }> {
  const c = await RawClient.connect(port, opts);
  await c.write(get('/'));
  const [r] = await c.waitResponses(1);
  const body = r.body.toString();
  return { body: JSON.parse(body), client: c };
}

describe.each(ioModels)('listen({ path }) (%o)', (model) => {
  test('a Unix domain socket: address() is the path, exact bytes, socket addresses as node has them', async () => {
    const path = sockPath();
    const s = createServer({ ...model }, describeSocket);
    await listen(s, { path });
    try {
      expect(s.address()).toBe(path);
      expect(statSync(path).isSocket()).toBe(true);
      const c = await RawClient.connect(0, { path });
      await c.write(get('/'));
      const [r] = await c.waitResponses(1);
      expect(normalize(c.text)).toBe(response({ body: r.body.toString() }));
      // node:http on a Unix domain socket: no addresses at all.
      const n = http.createServer(describeSocket);
      const nodePath = sockPath();
      await listen(n, nodePath);
      const fromNode = await ask(0, { path: nodePath });
      await closeServer(n);
      expect(JSON.parse(r.body.toString())).toEqual(fromNode.body);
      expect(fromNode.body).toEqual({ address: {} });
    } finally {
      await closeServer(s);
    }
    // As node's: the socket file goes with the server.
    expect(existsSync(path)).toBe(false);
  });

  test('listen(path, cb) as a string, keep-alive on it, and the file removed at close', async () => {
    const path = sockPath();
    const s = createServer({ ...model }, (req: any, res: any) => res.end(req.url));
    await listen(s, path);
    const c = await RawClient.connect(0, { path });
    await c.write(get('/a') + get('/b'));
    await c.waitResponses(2);
    expect(normalize(c.text)).toBe(response({ body: '/a' }) + response({ body: '/b' }));
    c.destroy();
    await closeServer(s);
    expect(existsSync(path)).toBe(false);
    // And it can listen there again.
    await listen(s, { path });
    expect(s.address()).toBe(path);
    await closeServer(s);
  });

  test('EADDRINUSE (a live server or a stale file) and a missing directory are reported as node reports them', async () => {
    const path = sockPath();
    const busy = createServer({ ...model });
    await listen(busy, path);
    const fromNova = await listenError(createServer({ ...model }), path);
    const fromNode = await listenError(http.createServer(), path);
    expect(fromNova).toEqual(fromNode);
    expect(fromNova).toMatchObject({ code: 'EADDRINUSE', syscall: 'listen', address: path, port: -1,
      message: `listen EADDRINUSE: address already in use ${path}` });
    await closeServer(busy);
    // The file of a server that failed to listen is left alone (it was not ours).
    const stale = sockPath();
    writeFileSync(stale, '');
    expect(await listenError(createServer({ ...model }), { path: stale }))
      .toEqual(await listenError(http.createServer(), { path: stale }));
    expect(existsSync(stale)).toBe(true);
    const missing = join(dir, 'no-such-dir', 'x.sock');
    const noDir = await listenError(createServer({ ...model }), missing);
    expect(noDir).toEqual(await listenError(http.createServer(), missing));
    expect(noDir.code).toBe('EACCES');
  });

  test('a path longer than a socket address holds is refused (ENAMETOOLONG), never shortened', async () => {
    const path = join(dir, 'x'.repeat(120) + '.sock');
    expect(await listenError(createServer({ ...model }), path)).toMatchObject({
      code: 'ENAMETOOLONG', syscall: 'listen', address: path, port: -1,
      message: `listen ENAMETOOLONG: name too long ${path}`,
    });
    expect(existsSync(path)).toBe(false);
  });

  test('readableAll and writableAll add permissions to the socket file as node does', async () => {
    for (const opts of [{ readableAll: true }, { writableAll: true }, { readableAll: true, writableAll: true }]) {
      const a = sockPath();
      const b = sockPath();
      const s = createServer({ ...model });
      const n = http.createServer();
      await listen(s, { path: a, ...opts });
      await listen(n, { path: b, ...opts });
      expect((statSync(a).mode & 0o777).toString(8)).toBe((statSync(b).mode & 0o777).toString(8));
      await closeServer(s);
      await closeServer(n);
    }
  });
});

describe.each(ioModels)('listen({ fd }) (%o)', (model) => {
  test('an open listening socket handed to a child as fd 3: the child serves on it, exact bytes', async () => {
    // The parent makes the socket (as systemd or a supervisor would) and gives it to a child; the parent's own copy
    // is closed before anyone connects, so every connection is the child's.
    const holder = net.createServer();
    await listen(holder, 0, '127.0.0.1');
    const port = (holder.address() as net.AddressInfo).port;
    const fd = (holder as unknown as { _handle: { fd: number } })._handle.fd;
    const child = spawn(process.execPath, ['-e', `
      const { createServer } = require(${JSON.stringify(distPath.replace(/index\.js$/, 'index.js'))});
      const s = createServer(${JSON.stringify(model)}, (req, res) => res.end('from fd ' + req.url));
      s.listen({ fd: 3 }, () => console.log(JSON.stringify(s.address())));
      process.stdin.on('data', () => s.close(() => process.exit(0)));
    `], { stdio: ['pipe', 'pipe', 'inherit', fd] });
    await new Promise<void>((resolve) => holder.close(() => resolve()));
    try {
      const line = await withTimeout(new Promise<string>((resolve) => child.stdout!.once('data', (d) => resolve(String(d)))),
        10000, "the child's address()");
      expect(JSON.parse(line)).toEqual({ address: '127.0.0.1', family: 'IPv4', port });
      const c = await RawClient.connect(port);
      await c.write(get('/a') + get('/b'));
      await c.waitResponses(2);
      expect(normalize(c.text)).toBe(response({ body: 'from fd /a' }) + response({ body: 'from fd /b' }));
      c.destroy();
    } finally {
      child.stdin!.end('stop');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    // The child closed the listener with its server: nobody listens on the port any more.
    await expect(RawClient.connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('an fd that is no socket is EINVAL, as node reports it', async () => {
    const file = join(dir, `plain-${++serial}.txt`);
    writeFileSync(file, 'x');
    const fd = openSync(file, 'r');
    try {
      const fromNova = await listenError(createServer({ ...model }), { fd });
      expect(fromNova).toEqual(await listenError(http.createServer(), { fd }));
      expect(fromNova).toMatchObject({ code: 'EINVAL', syscall: 'listen', message: 'listen EINVAL: invalid argument' });
    } finally {
      closeSync(fd);
    }
  });
});

describe.each(ioModels)('ipv6Only, reusePort, local addresses (%o)', (model) => {
  test("ipv6Only: '::' takes IPv6 clients only; without it IPv4 clients reach it too", async () => {
    const only = createServer({ ...model }, describeSocket);
    await listen(only, { port: 0, host: '::', ipv6Only: true });
    const port = (only.address() as net.AddressInfo).port;
    const { client } = await ask(port, { host: '::1' });
    expect(normalize(client.text)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    await expect(RawClient.connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // Nothing on 127.0.0.1:port, so a plain IPv4 server can have that port while the IPv6-only one keeps it.
    const v4 = createServer({ ...model }, describeSocket);
    await listen(v4, port, '127.0.0.1');
    expect((await ask(port)).body.localAddress).toBe('127.0.0.1');
    await closeServer(v4);
    await closeServer(only);
    const dual = createServer({ ...model }, describeSocket);
    await listen(dual, { port: 0, host: '::' });
    const dualPort = (dual.address() as net.AddressInfo).port;
    expect((await ask(dualPort)).body.localAddress).toBe('::ffff:127.0.0.1');
    await closeServer(dual);
  });

  test('reusePort: two servers share one port and both serve; without it the second gets EADDRINUSE', async () => {
    const served = [0, 0];
    const a = createServer({ ...model }, (req: any, res: any) => { served[0]++; res.end('a'); });
    const b = createServer({ ...model }, (req: any, res: any) => { served[1]++; res.end('b'); });
    await listen(a, { port: 0, host: '127.0.0.1', reusePort: true });
    const port = (a.address() as net.AddressInfo).port;
    expect(await listenError(createServer({ ...model }), { port, host: '127.0.0.1' }))
      .toMatchObject({ code: 'EADDRINUSE', port, address: '127.0.0.1' });
    await listen(b, { port, host: '127.0.0.1', reusePort: true });
    // The kernel spreads new connections over both listeners by their address hash: 40 connections all going to
    // one of two listeners would be a 1 in 2^39 chance.
    for (let i = 0; i < 40 && (served[0] === 0 || served[1] === 0); i++) {
      const c = await RawClient.connect(port);
      await c.write(get('/'));
      const [r] = await c.waitResponses(1);
      expect(normalize(c.text)).toBe(response({ body: r.body.toString() }));
      c.destroy();
    }
    expect(served[0]).toBeGreaterThan(0);
    expect(served[1]).toBeGreaterThan(0);
    await closeServer(a);
    await closeServer(b);
  });

  test('socket.localAddress/localPort are the connection\'s own end, not the bound wildcard, as node\'s', async () => {
    for (const [bind, reach] of [['0.0.0.0', '127.0.0.1'], ['0.0.0.0', '127.0.0.2'], ['::', '127.0.0.1'],
      ['::', '::1']] as const) {
      const s = createServer({ ...model }, describeSocket);
      const n = http.createServer(describeSocket);
      await listen(s, 0, bind);
      await listen(n, 0, bind);
      const novaPort = (s.address() as net.AddressInfo).port;
      const nodePort = (n.address() as net.AddressInfo).port;
      const fromNova = await ask(novaPort, { host: reach });
      const fromNode = await ask(nodePort, { host: reach });
      expect(normalize(fromNova.client.text)).toBe(response({ body: JSON.stringify(fromNova.body) }));
      expect(fromNova.body.remotePort).toBe(fromNova.client.socket.localPort);
      expect(fromNova.body.localPort).toBe(novaPort);
      expect(fromNova.body.address).toEqual(
        { address: fromNova.body.localAddress, family: fromNova.body.localFamily, port: novaPort });
      // The same as node's, but for the ports.
      const strip = (b: any) => ({ ...b, remotePort: 0, localPort: 0, address: { ...b.address, port: 0 } });
      expect(strip(fromNova.body)).toEqual(strip(fromNode.body));
      expect(fromNova.body.localAddress).toBe(reach === '::1' ? '::1' : bind === '::' ? `::ffff:${reach}` : reach);
      await closeServer(s);
      await closeServer(n);
    }
  });
});
