// A client that goes away while its response is owed is reported at once, in every I/O model: req gets 'aborted'
// and 'close' (req.aborted), res gets 'close' (res.destroyed, not writableFinished), later writes are dropped, and a
// handler that awaits something can stop its work. With allowHalfOpen a client that only half-closes still gets
// its answer.
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, deferred, get, ioModels, normalize, RawClient, response, sleep, startServer, withTimeout } from './helpers.js';

afterEach(cleanup);

interface Seen {
  at: number;
  url: string;
  aborted: boolean;
  destroyed: boolean;
  writableFinished: boolean;
  writeAfter: boolean;
  events: string[];
}

/** A handler that "works" for 2 s (a timer), stops when res closes, and reports what it saw. */
function slowHandler(seen: Seen[], started: () => void, onClose: () => void, work: { done: number }) {
  return (req: any, res: any) => {
    const events: string[] = [];
    req.on('aborted', () => events.push('req aborted'));
    req.on('close', () => events.push('req close'));
    const timer = setTimeout(() => {
      work.done++;
      res.end('too late');
    }, 2000);
    res.on('close', () => {
      clearTimeout(timer);
      seen.push({
        at: Date.now(), url: req.url, aborted: req.aborted, destroyed: res.destroyed,
        writableFinished: res.writableFinished, writeAfter: res.write('dropped'), events,
      });
      onClose();
    });
    started();
  };
}

describe.each(ioModels)('a client that leaves while the handler awaits (%o)', (model) => {
  // After 0 ms and after 150 ms of waiting (the blocking model watches the socket differently once a wait is long).
  for (const [how, after] of [['close', 0], ['reset', 0], ['half-close', 0], ['close', 150], ['half-close', 150]] as const) {
    test(`${how} after ${after} ms: 'close' within 100 ms, aborted, later writes dropped, the work stops`, async () => {
      const seen: Seen[] = [];
      const started = deferred();
      const closed = deferred();
      const work = { done: 0 };
      const { port, server } = await startServer({ ...model },
        slowHandler(seen, () => started.resolve(), () => closed.resolve(), work));
      const c = await RawClient.connect(port);
      await c.write(get('/slow'));
      await withTimeout(started.promise, 3000, 'the handler to start');
      if (after > 0) await sleep(after);
      const t0 = Date.now();
      if (how === 'close') c.socket.destroy();
      else if (how === 'reset') c.resetNow();
      else c.end();
      await withTimeout(closed.promise, 1500, "res 'close'");
      expect(seen[0].at - t0).toBeLessThan(100);
      await sleep(10);  // req's 'close' follows on the next tick, as in node:http
      expect(seen[0]).toMatchObject({
        url: '/slow', aborted: true, destroyed: true, writableFinished: false, writeAfter: false,
        events: ['req aborted', 'req close'],
      });
      if (how === 'half-close') {
        // The half-closed client reads on: it gets nothing, and the connection is closed.
        expect(await c.waitClose(1000)).toBe(true);
        expect(c.text).toBe('');
      }
      expect(server.stats().closes.client).toBe(1);
      expect(server.stats().closes.error).toBe(0);
      await sleep(50);
      expect(work.done).toBe(0);
    });
  }

  test('pipelined requests go with it: every unfinished exchange gets close, nothing is written', async () => {
    const seen: Seen[] = [];
    const both = deferred();
    const closed = deferred();
    let n = 0;
    const work = { done: 0 };
    const { port } = await startServer({ ...model }, slowHandler(seen, () => {
      if (++n === 2) both.resolve();
    }, () => {
      if (seen.length === 2) closed.resolve();
    }, work));
    const c = await RawClient.connect(port);
    await c.write(get('/1') + get('/2'));
    await withTimeout(both.promise, 3000, 'both handlers to start');
    c.end();
    await withTimeout(closed.promise, 1500, "both 'close' events");
    expect(seen.map((s) => [s.url, s.aborted, s.destroyed])).toEqual([['/1', true, true], ['/2', true, true]]);
    expect(await c.waitClose(1000)).toBe(true);
    expect(c.text).toBe('');
  });

  test('a client that leaves does not disturb the next one', async () => {
    const seen: Seen[] = [];
    const started = deferred();
    const closed = deferred();
    const work = { done: 0 };
    const { port } = await startServer({ ...model }, (req: any, res: any) => {
      if (req.url === '/fast') return res.end('fast');
      return slowHandler(seen, () => started.resolve(), () => closed.resolve(), work)(req, res);
    });
    const c = await RawClient.connect(port);
    await c.write(get('/slow'));
    await started.promise;
    c.socket.destroy();
    await withTimeout(closed.promise, 1500, "res 'close'");
    const d = await RawClient.connect(port);
    await d.write(get('/fast'));
    const rs = await d.waitResponses(1);
    expect(normalize(rs[0].raw)).toBe(response({ body: 'fast' }));
  });
});

describe.each(ioModels)('allowHalfOpen: true (%o)', (model) => {
  test('a half-closed client still gets its answer after the handler awaited', async () => {
    let aborted = false;
    const { port } = await startServer({ ...model, allowHalfOpen: true }, (req: any, res: any) => {
      req.on('aborted', () => (aborted = true));
      setTimeout(() => res.end('answer'), 300);
    });
    const c = await RawClient.connect(port);
    await c.write(get('/'));
    c.end();
    expect(await c.waitClose(3000)).toBe(true);
    expect(normalize(c.text)).toBe(response({ body: 'answer' }));
    expect(aborted).toBe(false);
  });

  test('a full close is still reported at once when the server writes', async () => {
    // A FIN and a close look the same until the server writes: the reset that answers the write ends it.
    const closed = deferred<number>();
    const { port } = await startServer({ ...model, allowHalfOpen: true }, (req: any, res: any) => {
      res.on('close', () => closed.resolve(Date.now()));
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      const tick = setInterval(() => {
        if (!res.write('x'.repeat(1000))) clearInterval(tick);
      }, 20);
      res.on('close', () => clearInterval(tick));
    });
    const c = await RawClient.connect(port);
    await c.write(get('/'));
    await c.until(() => c.bytesReceived > 0, 3000, 'the first bytes');
    c.socket.destroy();
    await withTimeout(closed.promise, 2000, "res 'close' after the client closed");
  });
});
