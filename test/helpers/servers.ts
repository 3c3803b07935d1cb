// Servers for the behaviour tests: createServer(options, handler) listening on 127.0.0.1:0, closed by cleanup()
// (with every RawClient) after each test; rejections of async handlers are collected instead of going unhandled.
import { createServer } from '../../dist/index.js';
import type { AddressInfo } from '../../dist/index.js';
import { withTimeout } from './async.js';
import { destroyOpenClients } from './client.js';

export type AnyServer = any;
export type Handler = (req: any, res: any) => unknown;

export interface Started {
  port: number;
  server: AnyServer;
  close(): Promise<void>;
}

const openServers = new Set<Started>();

/**
 * Rejections of async test handlers (e.g. a body read cut short by a reset the test caused). They are recorded here
 * instead of surfacing as unhandled rejections; the promise is still returned to the server unchanged.
 */
export const asyncHandlerErrors: unknown[] = [];

/** createServer(options, handler).listen(0, '127.0.0.1'), resolved once listening. */
export async function startServer(options: Record<string, unknown>, handler?: Handler): Promise<Started> {
  const wrapped: Handler | undefined = handler && function (this: unknown, req, res) {
    const r = handler.call(this, req, res) as { then?: unknown } | undefined;
    if (r && typeof r.then === 'function') (r as Promise<unknown>).then(undefined, (e) => asyncHandlerErrors.push(e));
    return r;
  };
  const server = wrapped ? createServer(options, wrapped) : createServer(options);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      server.once('error', onError);
      server.listen(0, '127.0.0.1', () => {
        server.removeListener('error', onError);
        resolve();
      });
    }),
    5000,
    'server.listen',
  );
  const addr = server.address() as AddressInfo;  // listening on a port: never null or a path here
  const started: Started = {
    port: addr.port,
    server,
    close: async () => {
      openServers.delete(started);
      await closeServer(server);
    },
  };
  openServers.add(started);
  return started;
}

/** Closes a server and every connection it has; resolves (with a warning) after 5 s if close() never calls back. */
export async function closeServer(server: AnyServer): Promise<void> {
  try {
    server.closeAllConnections?.();
  } catch {
    // closing is best effort here; the close() tests assert on it
  }
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      console.warn('nova-http test helper: server.close() did not call back within 5 s');
      resolve();
    }, 5000);
    try {
      server.close(() => {
        clearTimeout(t);
        resolve();
      });
    } catch {
      clearTimeout(t);
      resolve();
    }
  });
}

/** For afterEach: destroys every RawClient and closes every server started by this file's tests. */
export async function cleanup(): Promise<void> {
  destroyOpenClients();
  const servers = [...openServers];
  openServers.clear();
  await Promise.all(servers.map((s) => s.close()));
}

/** Reads a request body through 'data'/'end'. */
export function readBody(req: AnyServer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer | string) => chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c)));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
