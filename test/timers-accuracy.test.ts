// Deadlines under load: while 1,000 other connections keep the server busy (a child process sends each of them a new
// request as soon as the last one is answered), an idle connection closes within 250 ms of its keepAliveTimeout
// deadline and a connection that never finishes its head gets its 408 within 250 ms of headersTimeout.
// Times are taken in this process as the client sees them: the idle clock starts at the response's last byte (the
// server starts it at the last byte written, a moment earlier), the head clock at the connect (the first head's
// clock runs from accept). The lower bounds allow 100 ms for the client seeing the response late; a timer that
// fires early by more than that fails them.
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import {
  cleanup, errorResponse, get, ioModels, normalize, RawClient, response, startServer, waitFor, withTimeout,
} from './helpers.js';

afterEach(cleanup);

const BUSY = 1000;
const KEEP_ALIVE_MS = 1500;
const HEADERS_MS = 1000;
const PROBES = 5;
const LATE_MS = 250;
const EARLY_MS = 100;

const loadClient = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'stress/load-client.mjs');

type Msg = any;

/** The busy load: BUSY connections from a child process, each re-requesting as soon as it is answered. */
async function startLoad(port: number) {
  const child: ChildProcess = fork(loadClient, ['busy', String(port), String(BUSY)], { stdio: 'inherit' });
  const next = () => new Promise<Msg>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the load process exited (${code})`)));
  });
  const ready = await withTimeout(next(), 15000, `${BUSY} busy connections`);
  if (ready.fatal || ready.errors) throw new Error(`the load failed: ${ready.fatal ?? ready.firstError}`);
  return {
    mark: () => child.send({ cmd: 'mark' }),
    report: async () => {
      const r = next();
      child.send({ cmd: 'report' });
      return (await r) as { counts: number[]; errors: number; firstError: string };
    },
    stop: async () => {
      const gone = new Promise((r) => child.once('exit', r));
      child.send({ cmd: 'stop' });
      await withTimeout(gone, 10000, 'the load process to stop').catch(() => child.kill('SIGKILL'));
    },
  };
}

/** keepAliveTimeout probe: ms from the response's last byte to the server's close. */
async function idleProbe(port: number, i: number): Promise<number> {
  const c = await RawClient.connect(port);
  await c.write(get(`/probe/${i}`));
  await c.waitResponses(1, 5000);
  const answeredAt = performance.now();
  expect(normalize(c.text)).toBe(response({ body: `/probe/${i}`, timeoutS: Math.floor(KEEP_ALIVE_MS / 1000) }));
  await c.until(() => c.serverClosed, KEEP_ALIVE_MS + 3000, 'the idle close');
  const ms = performance.now() - answeredAt;
  expect(normalize(c.text)).toBe(response({ body: `/probe/${i}`, timeoutS: Math.floor(KEEP_ALIVE_MS / 1000) }));
  return ms;
}

/** headersTimeout probe: ms from the connect to the 408 and close, the head never finished. */
async function headProbe(port: number): Promise<number> {
  const connectedAt = performance.now();
  const c = await RawClient.connect(port);
  await c.write('GET /never-finished HTTP/1.1\r\nHost: t\r\n');
  await c.until(() => c.serverClosed, HEADERS_MS + 3000, 'the 408 and close');
  const ms = performance.now() - connectedAt;
  expect(normalize(c.text)).toBe(errorResponse(408));
  c.destroy(); // ends the server's linger after the 408
  return ms;
}

// The evented models' deadlines come from their timer wheel, whose accuracy under load is what issue 3 asks for.
// The blocking model's deadlines are SO_RCVTIMEO on one thread per connection: with 1,000 busy threads on two
// cores, when the idle thread runs again is the OS scheduler's choice (seen: 156 ms late, also 406 ms), so this
// measurement is not its contract; its deadlines are tested in test/timeouts-deadlines.test.ts like every model's.
const wheelModels = ioModels.filter((m) => m.ioModel === 'evented');

describe.each(wheelModels)('timers under load (%o)', (model) => {
  test(`with ${BUSY} busy connections: idle closes within ${LATE_MS} ms of keepAliveTimeout, ` +
    `an unfinished head gets 408 within ${LATE_MS} ms of headersTimeout`, async () => {
    const { port, server } = await startServer({
      ...model, keepAliveTimeout: KEEP_ALIVE_MS, headersTimeout: HEADERS_MS,
    }, (req, res) => res.end(req.url));
    const load = await startLoad(port);
    try {
      load.mark();
      const requestsBefore = server.stats().requests;
      const [idle, head] = await Promise.all([
        Promise.all(Array.from({ length: PROBES }, (_, i) => idleProbe(port, i))),
        Promise.all(Array.from({ length: PROBES }, () => headProbe(port))),
      ]);
      const during = await load.report();
      const served = server.stats().requests - requestsBefore;
      console.log(`timers ${JSON.stringify(model)}: keepAliveTimeout ${KEEP_ALIVE_MS} ms -> closed after ` +
        `${idle.map(Math.round).join(', ')} ms; headersTimeout ${HEADERS_MS} ms -> 408 after ` +
        `${head.map(Math.round).join(', ')} ms; ${served} requests served meanwhile, the slowest busy ` +
        `connection got ${Math.min(...during.counts)} answers`);
      // The load really ran all along: no errors, and every busy connection was answered during the probes.
      expect(during.errors).toBe(0);
      expect(Math.min(...during.counts)).toBeGreaterThan(0);
      expect(served).toBeGreaterThan(BUSY);
      for (const ms of idle) {
        expect(ms).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - EARLY_MS);
        expect(ms).toBeLessThanOrEqual(KEEP_ALIVE_MS + LATE_MS);
      }
      for (const ms of head) {
        expect(ms).toBeGreaterThanOrEqual(HEADERS_MS - EARLY_MS);
        expect(ms).toBeLessThanOrEqual(HEADERS_MS + LATE_MS);
      }
      await waitFor(() => server.stats().closes.headersTimeout === PROBES, 3000, 'closes.headersTimeout');
      expect(server.stats().closes.idleTimeout).toBe(PROBES);
    } finally {
      await load.stop();
    }
  }, 30000);
});
