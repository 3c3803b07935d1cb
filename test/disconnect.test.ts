// A client that goes away while its response is owed is reported at once, as node:http does: req gets 'aborted'
// and 'close' (req.aborted), res gets 'close' (res.destroyed, writableFinished false), later writes are dropped,
// also while the handler is awaiting something; and a handler can use that to stop its work. Every I/O model.
import { afterEach, describe, expect, test } from 'vitest';
import { RawClient, cleanup, deferred, get, ioModels, sleep, startServer, withTimeout } from './helpers';

afterEach(cleanup);

interface Seen {
  events: string[];
  closedAfterMs: number;
  aborted: boolean;
  destroyed: boolean;
  writableFinished: boolean;
  writeReturned: boolean;
  writeError: string | undefined;
  workStopped: boolean;
}

describe.each(ioModels)('disconnect %o', (model) => {
  for (const how of ['close', 'reset'] as const) {
    test(`a handler awaiting 2 s hears of a client ${how} within 100 ms, stops its work, writes are dropped`,
      async () => {
        const started = deferred();
        const seen = deferred<Seen>();
        let goneAt = 0;
        const { port } = await startServer({ ...model }, async (req, res) => {
          const events: string[] = [];
          const work = new AbortController();
          req.on('aborted', () => events.push('req aborted'));
          req.on('close', () => events.push('req close'));
          res.on('close', () => {
            events.push('res close');
            work.abort();
          });
          started.resolve();
          let workStopped = false;
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 2000);
            work.signal.addEventListener('abort', () => {
              clearTimeout(t);
              workStopped = true;
              resolve();
            });
          });
          const closedAfterMs = Date.now() - goneAt;
          await sleep(10);  // 'aborted'/'close' of req follow on the next ticks
          const written = deferred<string | undefined>();
          const writeReturned = res.write('too late', (err?: NodeJS.ErrnoException | null) => written.resolve(err?.code));
          seen.resolve({
            events, closedAfterMs, aborted: req.aborted, destroyed: res.destroyed,
            writableFinished: res.writableFinished, writeReturned, writeError: await written.promise, workStopped,
          });
        });
        const client = await RawClient.connect(port);
        await client.write(get('/slow'));
        await withTimeout(started.promise, 3000, 'the handler to start');
        await sleep(20);
        goneAt = Date.now();
        if (how === 'close') client.destroy();
        else client.resetNow();
        const s = await withTimeout(seen.promise, 3000, 'the handler to finish');
        expect(s.workStopped).toBe(true);
        expect(s.closedAfterMs).toBeLessThan(100);
        expect(s.events).toEqual(expect.arrayContaining(['req aborted', 'req close', 'res close']));
        expect([s.aborted, s.destroyed, s.writableFinished]).toEqual([true, true, false]);
        expect([s.writeReturned, s.writeError]).toEqual([false, 'ERR_STREAM_DESTROYED']);
      });
  }
});
