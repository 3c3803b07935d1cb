// The 'drain' hand-off between pipelined responses: only the front response (the one whose bytes can leave) asks
// native for a Drain. A response behind it that asked too used to take the front's wake-up (the pipelining flood's
// stall) and be told to go on writing, its bytes piling up behind the front without bound.
import { afterEach, describe, expect, test } from 'vitest';
import { HIGH_WATER_MARK as HIGH_WATER } from '../dist/index.js';
import { cleanup, get, ioModels, RawClient, sleep, startServer } from './helpers.js';

afterEach(cleanup);

const KiB = 1024;
const CHUNK = 16 * KiB;
const BACK_TOTAL = 1024 * KiB;

describe.each(ioModels)('drain hand-off (%o)', (model) => {
  test('a response pipelined behind an unfinished one writes at most the high-water mark until the front ends, ' +
    'then gets its drain and finishes', async () => {
    const state = { backWritten: 0, backAtFrontEnd: -1, backDrains: 0 };
    const { port } = await startServer(model, (req, res) => {
      if (req.url === '/front') {
        res.writeHead(200, { 'Content-Length': '10' });
        res.write('front-');
        setTimeout(() => {
          state.backAtFrontEnd = state.backWritten;
          res.end('done');
        }, 400);
        return;
      }
      res.writeHead(200, { 'Content-Length': String(BACK_TOTAL) });
      const chunk = Buffer.alloc(CHUNK, 0x62);
      // One chunk per timer tick (a producer like a database cursor): each write is flushed to native on its
      // own, so what write() and 'drain' say comes from native's counts, not from bytes still staged in JS.
      const pump = () => {
        if (state.backWritten >= BACK_TOTAL) return void res.end();
        state.backWritten += CHUNK;
        if (res.write(chunk)) return void setTimeout(pump, 1);
        res.once('drain', () => {
          state.backDrains++;
          pump();
        });
      };
      pump();
    });
    const c = await RawClient.connect(port);
    await c.write(get('/front') + get('/back'));
    const rs = await c.waitResponses(2, 10000);
    expect(rs.map((r) => [r.status, r.body.length])).toEqual([[200, 10], [200, BACK_TOTAL]]);
    expect(rs[0].body.toString()).toBe('front-done');
    expect(rs[1].body.equals(Buffer.alloc(BACK_TOTAL, 0x62))).toBe(true);
    // Behind the front, the back response's bytes cannot leave: write() says false once they pass the mark and no
    // 'drain' comes until the front is out of the way.
    expect(state.backAtFrontEnd, 'bytes the back response wrote while the front was unfinished')
      .toBeLessThanOrEqual(HIGH_WATER + CHUNK);
    expect(state.backDrains).toBeGreaterThan(0);
    await sleep(10);
    expect(c.serverClosed).toBe(false);
  });
});
