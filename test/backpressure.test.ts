// Backpressure, measured on the server's memory: the server runs in a child process of its own
// (test/stress/server-child.mjs) so its RSS is not mixed with this process's clients.
// - A client that never reads a 50 MB response: write() returns false, the handler waits for 'drain', the server's
//   RSS stays flat; once the client reads, 'drain' fires and all 50 MB arrive.
// - A response queued behind an earlier unanswered one (pipelined) counts toward the same mark.
// - A 1 GB POST body read by a slow consumer (pauses of 50 ms every 16 MB): the server's RSS stays bounded.
// RSS figures measured on the 2-core dev box (growth over a warmed-up baseline): never-read 50 MB 0.1-0.4 MB;
// queued behind a held response 0.75 MB; the 1 GB upload plateaus at 60-95 MB above the baseline whatever the
// size (256 MB: 60-67 MB, 1 GB: 79-96 MB, 2 GB: 79-83 MB) and takes 4-5 s per model. That plateau is the body's
// way through JS (up to 8 MB queued for JS natively, the batch buffers and the request stream's buffer, ~25 MB of
// ArrayBuffers, freed by the GC when it gets to it) plus malloc's arenas; it does not grow with the body. The
// bounds below are several times the measured figures (so GC timing on a loaded machine cannot fail them) and
// far below what missing flow control costs: with lib's pauseBody() call made a no-op, the same 1 GB upload peaked
// at +980 MB (the body piles up in JS).
import * as net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { ioModels, normalize, response, sleep, waitFor, withTimeout } from './helpers.js';
import { startServerProcess } from './stress/server-process.mjs';

const MB = 1024 * 1024;
const NEVER_READ_GROWTH_MB = 8;   // "a few MB"; measured 0.1-0.75 MB
// Bounded, not small: the peak is mostly batch Buffers that JS has consumed and V8 has not collected yet (measured
// +42 to +138 MB over 14 runs, flat from 256 MB to 2 GB); without flow control it is +980 MB.
const UPLOAD_GROWTH_MB = 192;

interface ServerProcess {
  port: number;
  call(cmd: string, fields?: Record<string, unknown>): Promise<any>;
  close(): Promise<void>;
}

const servers: ServerProcess[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startChild(model: Record<string, unknown>): Promise<ServerProcess> {
  const srv = (await startServerProcess(model)) as ServerProcess;
  servers.push(srv);
  return srv;
}

const A = Buffer.alloc(MB, 0x61); // what /big sends: 'a' bytes

interface Received {
  head: string;
  length: number;   // Content-Length
  got: number;      // body bytes so far
  wrong: number;    // body chunks that were not all 'a'
  text: string;     // the first 64 body bytes
}

/**
 * A raw client that counts the responses it reads instead of keeping them (50 MB each): heads, body byte counts,
 * and whether each body is all 'a' (as /big sends) — the first 64 bytes are kept for the others.
 */
async function counting(port: number) {
  const s = net.connect({ port, host: '127.0.0.1' });
  sockets.push(s);
  await withTimeout(new Promise<void>((r, j) => s.once('connect', r).once('error', j)), 3000, 'connect');
  const responses: Received[] = [];
  let pending: Buffer = Buffer.alloc(0);
  let cur: Received | undefined;
  s.on('data', (d: Buffer) => {
    let buf = pending.length ? Buffer.concat([pending, d]) : d;
    pending = Buffer.alloc(0);
    while (buf.length > 0) {
      if (!cur) {
        const e = buf.indexOf('\r\n\r\n');
        if (e < 0) {
          pending = buf;
          return;
        }
        const head = buf.toString('latin1', 0, e + 4);
        const m = /\r\nContent-Length: (\d+)/i.exec(head);
        cur = { head, length: m ? Number(m[1]) : 0, got: 0, wrong: 0, text: '' };
        responses.push(cur);
        buf = buf.subarray(e + 4);
      }
      const n = Math.min(buf.length, cur.length - cur.got);
      const body = buf.subarray(0, n);
      if (cur.text.length < 64) cur.text += body.toString('latin1', 0, 64 - cur.text.length);
      for (let off = 0; off < n; off += MB) {
        const part = body.subarray(off, Math.min(n, off + MB));
        if (!part.equals(A.subarray(0, part.length))) cur.wrong++;
      }
      cur.got += n;
      buf = buf.subarray(n);
      if (cur.got === cur.length) cur = undefined;
    }
  });
  s.on('error', () => {});
  return { socket: s, responses };
}

const bigHead = (bytes: number) => response({ fields: [`Content-Length: ${bytes}`], framing: 'none' });

/** A first /big response read in full, so that the baseline RSS includes what any transfer allocates once. */
async function warmUp(srv: ServerProcess) {
  const c = await counting(srv.port);
  c.socket.write(`GET /big?bytes=${4 * MB} HTTP/1.1\r\nHost: t\r\n\r\n`);
  await waitFor(() => c.responses[0]?.got === 4 * MB, 10000, 'the warm-up response');
  c.socket.destroy();
  await sleep(100);
  const base = await srv.call('peak-reset');
  return { rss: base.rss as number, big: (await srv.call('state')).big };
}

/** Polls the /big counters until pred holds (or timeoutMs passes); returns the last ones read. */
async function bigWhen(srv: ServerProcess, pred: (b: Record<string, number>) => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  let b = (await srv.call('state')).big;
  while (!pred(b) && Date.now() < deadline) {
    await sleep(10);
    b = (await srv.call('state')).big;
  }
  return b;
}

const mb = (bytes: number) => Math.round((bytes / MB) * 100) / 100;

describe.each(ioModels)('backpressure (%o)', (model) => {
  test('a client that never reads a 50 MB response: write() says false, the server RSS stays flat; ' +
    "reading brings 'drain' and every byte", async () => {
    const total = 50 * MB;
    const srv = await startChild(model);
    const base = await warmUp(srv);
    const c = await counting(srv.port);
    c.socket.pause(); // never reads (until the end of the test)
    c.socket.write(`GET /big?bytes=${total} HTTP/1.1\r\nHost: t\r\n\r\n`);

    // The handler is stopped by write() returning false, and stays stopped: what it wrote is what the kernel's
    // socket buffers (a few MB on loopback) and the 64 KiB high-water mark hold.
    const st = await bigWhen(srv, (b) => b.falses > base.big.falses);
    expect(st.falses).toBeGreaterThan(base.big.falses);
    await sleep(1000);
    const stalled = (await srv.call('state')).big;
    await sleep(500);
    const later = (await srv.call('state')).big;
    const rss = await srv.call('rss');
    const written = later.sent - base.big.sent;
    console.log(`never-read ${JSON.stringify(model)}: handler wrote ${mb(written)} MB of ${mb(total)}, ` +
      `server RSS ${mb(base.rss)} -> peak ${mb(rss.peak)} MB (+${mb(rss.peak - base.rss)})`);
    expect(later.sent).toBe(stalled.sent);             // no progress while nobody reads
    // waiting for 'drain' right now (counted from the warm-up's figures: see the last test of this file)
    expect(later.drains - base.big.drains).toBe(later.falses - base.big.falses - 1);
    expect(written).toBeLessThan(16 * MB);
    expect(later.ended).toBe(base.big.ended);
    expect(rss.peak - base.rss).toBeLessThan(NEVER_READ_GROWTH_MB * MB);

    // Reading again: 'drain' fires as the socket empties, the handler finishes, every byte arrives.
    c.socket.resume();
    await waitFor(() => c.responses[0]?.got === total, 15000, 'the whole 50 MB response');
    const done = await bigWhen(srv, (b) => b.finished > base.big.finished);
    expect(done.finished).toBe(base.big.finished + 1);
    expect(done.drains - base.big.drains).toBe(done.falses - base.big.falses);
    expect(done.ended).toBe(base.big.ended + 1);
    const [r] = c.responses;
    expect(normalize(r.head)).toBe(bigHead(total));
    expect(r.wrong).toBe(0);
    expect(c.responses).toHaveLength(1);
  }, 30000);

  test('a response queued behind an unanswered earlier one counts toward backpressure', async () => {
    const total = 50 * MB;
    const srv = await startChild(model);
    const base = await warmUp(srv);
    const c = await counting(srv.port); // reads everything, at once
    // Pipelined: /hold gets no answer until 'release'; /big's bytes can only wait behind it.
    c.socket.write('GET /hold HTTP/1.1\r\nHost: t\r\n\r\n' +
      `GET /big?bytes=${total} HTTP/1.1\r\nHost: t\r\n\r\n`);
    const st = await bigWhen(srv, (b) => b.falses > base.big.falses);
    expect(st.falses).toBe(base.big.falses + 1);
    await sleep(500);
    const held = (await srv.call('state')).big;
    const rss = await srv.call('rss');
    console.log(`queued ${JSON.stringify(model)}: handler wrote ${mb(held.sent - base.big.sent)} MB behind the ` +
      `held response, server RSS ${mb(base.rss)} -> peak ${mb(rss.peak)} MB (+${mb(rss.peak - base.rss)})`);
    // Nothing can be written to the socket yet, so the queue is all there is: the mark stops the writer.
    expect(held.sent - base.big.sent).toBeLessThanOrEqual(256 * 1024);
    expect(held.falses).toBe(base.big.falses + 1);
    expect(held.drains).toBe(base.big.drains);
    expect(c.responses).toHaveLength(0);
    expect(rss.peak - base.rss).toBeLessThan(NEVER_READ_GROWTH_MB * MB);

    await srv.call('release');
    await waitFor(() => c.responses[1]?.got === total, 15000, 'both responses');
    const [first, second] = c.responses;
    expect(normalize(first.head + first.text)).toBe(response({ body: 'held' }));
    expect(normalize(second.head)).toBe(bigHead(total));
    expect(second.wrong).toBe(0);
    const done = await bigWhen(srv, (b) => b.finished > base.big.finished);
    expect(done.finished).toBe(base.big.finished + 1);
    // Counted from the warm-up's figures: the warm-up's handler may still wait for a 'drain' that never comes (its
    // client left after the last byte, before the Drain reached JS): one false without its drain in the totals.
    expect(done.drains - base.big.drains).toBe(done.falses - base.big.falses);
  }, 30000);

  test('a 1 GB POST body read by a slow consumer: the server RSS stays bounded', async () => {
    const total = 1024 * MB;
    const srv = await startChild(model);
    const base = (await srv.call('peak-reset')).rss as number;
    const c = await counting(srv.port);
    const t0 = performance.now();
    // The consumer pauses 50 ms after every 16 MB: slower than this client can send.
    c.socket.write(`POST /upload?pauseEvery=${16 * MB}&pauseMs=50 HTTP/1.1\r\nHost: t\r\n` +
      `Content-Length: ${total}\r\n\r\n`);
    const chunk = Buffer.alloc(MB, 0x62);
    let waits = 0;
    for (let sent = 0; sent < total; sent += chunk.length) {
      if (!c.socket.write(chunk)) {
        waits++;
        await new Promise((r) => c.socket.once('drain', r));
      }
    }
    await waitFor(() => c.responses.length === 1 && c.responses[0].got === c.responses[0].length, 20000,
      'the upload response');
    const ms = performance.now() - t0;
    const rss = await srv.call('rss');
    const up = (await srv.call('state')).upload;
    console.log(`upload ${JSON.stringify(model)}: 1 GB in ${Math.round(ms)} ms, ${up.pauses} consumer pauses, ` +
      `client waited for 'drain' ${waits} times, server RSS ${mb(base)} -> peak ${mb(rss.peak)} MB ` +
      `(+${mb(rss.peak - base)})`);
    expect(normalize(c.responses[0].head + c.responses[0].text)).toBe(response({ body: String(total) }));
    expect(up.received).toBe(total);
    expect(up.pauses).toBeGreaterThanOrEqual(60); // one per 16 MB read (the chunk boundaries decide the last few)
    expect(waits).toBeGreaterThan(0); // the server's flow control reached the client's socket
    expect(rss.peak - base).toBeLessThan(UPLOAD_GROWTH_MB * MB);
  }, 40000);
});
