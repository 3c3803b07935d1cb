// server.listen() takes what node's does or refuses it by name: options it cannot honour (a handle object) are
// ERR_INVALID_ARG_VALUE naming the option (path, fd, ipv6Only, reusePort: test/listen-options.test.ts), an AbortSignal closes the server, and bind failures look like node's own (EADDRINUSE with
// address/port/errno and node's message, ENOTFOUND for unknown host names), compared with node:http in the test.
import * as http from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { createServer } from '../dist/index.js';
import { cleanup, closeServer, ioModels, withTimeout } from './helpers';
import type { AnyServer } from './helpers';

afterEach(cleanup);

function listenError(server: AnyServer, ...args: unknown[]): Promise<Record<string, unknown>> {
  return withTimeout(new Promise((resolve) => {
    server.once('error', (e: Record<string, unknown>) => resolve({
      code: e.code, errno: e.errno, syscall: e.syscall, address: e.address, port: e.port, hostname: e.hostname,
      message: e.message,
    }));
    server.listen(...args);
  }), 10000, 'the listen error');
}

function listening(server: AnyServer, ...args: unknown[]): Promise<void> {
  return withTimeout(new Promise<void>((resolve) => server.listen(...args, () => resolve())), 5000, 'listening');
}

describe.each(ioModels)('listen() %o', (model) => {
  test('options node has but this server cannot honour are refused by name', () => {
    const s = createServer({ ...model });
    // A handle object (node's own), a negative fd; a path together with a port (TCP or a path, never a guess).
    for (const [name, value, code] of [['fd', -1, 'ERR_INVALID_ARG_VALUE'], ['handle', {}, 'ERR_INVALID_ARG_VALUE'],
      ['path', '/tmp/x.sock', 'ERR_INVALID_ARG_VALUE'], ['ipv6Only', 'yes', 'ERR_INVALID_ARG_TYPE'],
      ['reusePort', 1, 'ERR_INVALID_ARG_TYPE'], ['readableAll', 'yes', 'ERR_INVALID_ARG_TYPE']] as const) {
      let err: (Error & { code?: string }) | undefined;
      try {
        s.listen({ port: 0, [name]: value });
      } catch (e) {
        err = e as Error & { code?: string };
      }
      expect(err?.code).toBe(code);
      expect(err?.message).toContain(`"options.${name}"`);
    }
    for (const path of ['', 'a\0b']) {
      expect(() => s.listen({ path })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
    expect(s.listening).toBe(false);
    for (const port of [65536, -1, 1.5]) {
      expect(() => s.listen(port)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }));
    }
  });

  test('exclusive, ipv6Only: false and an undefined or null host are accepted; the callback runs', async () => {
    for (const args of [[{ port: 0, host: '127.0.0.1', exclusive: true, ipv6Only: false }], [0, undefined],
      [{ port: 0, host: null }]]) {
      const s = createServer({ ...model });
      await listening(s, ...args);
      expect((s.address() as { port: number }).port).toBeGreaterThan(0);
      await closeServer(s);
    }
  });

  test('an AbortSignal closes the server, at once when already aborted', async () => {
    const ac = new AbortController();
    const s = createServer({ ...model });
    await listening(s, { port: 0, host: '127.0.0.1', signal: ac.signal });
    const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    ac.abort();
    await withTimeout(closed, 5000, "'close' after abort()");
    expect(s.listening).toBe(false);
    const s2 = createServer({ ...model });
    const closed2 = new Promise<void>((resolve) => s2.once('close', () => resolve()));
    s2.listen({ port: 0, host: '127.0.0.1', signal: AbortSignal.abort() });
    await withTimeout(closed2, 5000, "'close' for an aborted signal");
    expect(() => createServer({ ...model }).listen({ port: 0, signal: 'no' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  test('EADDRINUSE and unknown host names are reported as node reports them', async () => {
    const busy = http.createServer();
    await listening(busy, 0, '127.0.0.1');
    const port = (busy.address() as { port: number }).port;
    const fromNode = await listenError(http.createServer(), port, '127.0.0.1');
    const fromNova = await listenError(createServer({ ...model }), port, '127.0.0.1');
    expect(fromNova).toEqual(fromNode);
    expect(fromNova.code).toBe('EADDRINUSE');
    await closeServer(busy);
    const host = 'no-such-host.invalid';
    const unknownNode = await listenError(http.createServer(), 0, host);
    const unknownNova = await listenError(createServer({ ...model }), 0, host);
    expect(unknownNova).toEqual(unknownNode);
  });
});
