// Options changed on a listening server (server.keepAliveTimeout = ... after listen(), the usual advice behind a
// load balancer) take effect for the connections' next requests, without a restart.
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, get, ioModels, normalize, RawClient, response, startServer, waitFor } from './helpers.js';

afterEach(cleanup);

describe.each(ioModels)('options on a listening server (%o)', (model) => {
  test('keepAliveTimeout set after listen(): advertised and enforced', async () => {
    const { port, server } = await startServer({ ...model }, (req, res) => res.end('x'));
    server.keepAliveTimeout = 2000;
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(response({ body: 'x', timeoutS: 2 }));
    server.keepAliveTimeout = 300;
    await client.write(get('/'));
    await client.waitResponses(2);
    const answered = Date.now();
    expect(await client.waitClose(3000)).toBe(true);
    const idle = (client.endedAt || client.closedAt) - answered;  // the server's FIN
    expect(idle).toBeGreaterThanOrEqual(250);
    expect(idle).toBeLessThan(1500);
    // Counted once the server has closed its side (just after the client sees the FIN).
    await waitFor(() => server.stats().closes.idleTimeout === 1, 2000, 'the idle close to be counted');
  });

  test('maxRequestsPerSocket set after listen(): the next connection ends after that many', async () => {
    const { port, server } = await startServer({ ...model }, (req, res) => res.end('x'));
    server.maxRequestsPerSocket = 2;
    const client = await RawClient.connect(port);
    await client.write(get('/') + get('/'));
    expect(await client.waitClose(3000)).toBe(true);
    expect(normalize(client.text)).toBe(response({ body: 'x' }) + response({ body: 'x', persist: false }));
  });
});
