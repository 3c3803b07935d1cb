// Scale: 2,000 keep-alive connections open at once, each sending 10 requests on its own socket (one after another,
// or all 10 pipelined; all 2,000 connections at the same time), every response checked byte for byte; then
// stats(). In every I/O
// model: the blocking one runs 2,000 connection threads for it (well below the thread limits of a Linux box).
// File descriptors: 2,000 client + 2,000 server sockets in this one process, inside the usual `ulimit -n` of 4,096+
// only barely; the test checks the limit first and says so instead of failing obscurely (it cannot raise it).
import { execSync } from 'node:child_process';
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, ioModels, normalize, response, startServer, waitFor } from './helpers.js';
import { closeAll, exerciseAll, openMany } from './stress/load-client.mjs';

afterEach(cleanup);

const CONNECTIONS = 2000;
const REQUESTS = 10;
const FDS_NEEDED = 2 * CONNECTIONS + 200;  // both ends of every connection, plus vitest's own

function openFileLimit(): number {
  try {
    return Number(execSync('ulimit -n', { shell: '/bin/sh', encoding: 'utf8' }).trim());
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

describe.each(ioModels)('2,000 concurrent keep-alive connections (%o)', (model) => {
  test.each([
    ['one after another', 1],
    ['all pipelined', REQUESTS],
  ])(`${CONNECTIONS} connections x ${REQUESTS} requests each (%s), all answered exactly; stats() counts them`,
    async (_how, depth) => {
      const limit = openFileLimit();
      expect(limit, `ulimit -n is ${limit}; this test needs ${FDS_NEEDED} descriptors in one process`)
        .toBeGreaterThanOrEqual(FDS_NEEDED);
      const t0 = performance.now();
      const { port, server } = await startServer({ ...model }, (req, res) => res.end(req.url));

      // In waves of 250 connects, each accepted before the next (see openMany: a listen backlog of 511).
      const conns = await openMany(port, CONNECTIONS, {
        afterWave: (opened: number) => waitFor(() => server.stats().accepted >= opened, 10000, `${opened} accepts`),
      });
      // Every connection is open on the server side at the same time before the first request goes out.
      await waitFor(() => server.stats().active === CONNECTIONS, 10000, `${CONNECTIONS} active connections`);
      const tOpen = performance.now();

      const result = await exerciseAll(conns, REQUESTS, (i: number, j: number) => `/c${i}/r${j}`,
        (raw: string, i: number, j: number) => {
          const got = normalize(raw);
          return got === response({ body: `/c${i}/r${j}` }) ? undefined : `got ${JSON.stringify(got)}`;
        }, depth);
      const tDone = performance.now();
      expect(result.errors).toEqual([]);
      expect(result.responses).toBe(CONNECTIONS * REQUESTS);

      // All of them still open (keep-alive), each accepted once, none closed; then idle.
      let s = server.stats();
      expect(s.accepted).toBe(CONNECTIONS);
      expect(s.requests).toBe(CONNECTIONS * REQUESTS);
      expect(s.active).toBe(CONNECTIONS);
      expect(Object.values(s.closes).reduce((a: number, b) => a + (b as number), 0)).toBe(0);
      await waitFor(() => server.stats().idle === CONNECTIONS, 5000, 'every connection idle');

      await closeAll(conns);
      await waitFor(() => server.stats().active === 0, 10000, 'every connection closed on the server side');
      s = server.stats();
      expect(s.closes.client).toBe(CONNECTIONS);
      expect(s.idle).toBe(0);
      console.log(`scale ${JSON.stringify(model)} depth ${depth}: ${CONNECTIONS} connects ${Math.round(tOpen - t0)} ` +
        `ms, ${CONNECTIONS * REQUESTS} requests ${Math.round(tDone - tOpen)} ms, ` +
        `all ${Math.round(performance.now() - t0)} ms`);
    }, 30000);
});
