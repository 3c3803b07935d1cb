// Raw keep-alive HTTP/1.1 clients for the scale, timer and stress tests: plain net sockets that send exact request
// bytes (one at a time or pipelined) and split the Content-Length-framed responses that come back, cheaply enough
// that thousands of them fit in one process. Imported by test/scale-concurrent.test.ts and
// test/stress/connections-10k.mjs; run as a child process (`fork`) it is the busy load of
// test/timers-accuracy.test.ts (see runBusyChild at the end).
import * as net from 'node:net';

const CRLF2 = Buffer.from('\r\n\r\n');

/** `GET <target> HTTP/1.1` with a Host field (and optional extra field lines). */
export function getRequest(target, fields = []) {
  return `GET ${target} HTTP/1.1\r\nHost: t\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`;
}

/**
 * One client connection. `request()` resolves with the raw bytes (latin1 string) of the next complete response;
 * requests may be pipelined (the responses resolve in order). Only Content-Length framing (or none for 204/304)
 * is understood: what these tests' servers send. Connection trouble rejects every waiting request.
 */
export class Conn {
  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.waiters = [];
    this.ended = false;    // the server sent FIN
    this.closed = false;   // the socket is gone
    this.error = undefined;
    this.closedAt = 0;
    this.bytes = 0;
    this.responses = 0;
    socket.on('data', (d) => this.onData(d));
    socket.on('end', () => {
      this.ended = true;
      this.fail(new Error('the server closed the connection'));
    });
    socket.on('error', (e) => {
      this.error = e;
      this.fail(e);
    });
    socket.on('close', () => {
      this.closed = true;
      this.closedAt = performance.now();
      this.fail(new Error('the connection closed'));
      if (this.onClose) this.onClose();
    });
  }

  /** Connects to 127.0.0.1:port; rejects after timeoutMs (a connect storm can wait for SYN retransmits). */
  static connect(port, timeoutMs = 15000) {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.setNoDelay(true);
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect to 127.0.0.1:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        s.removeListener('error', onError);
        resolve(new Conn(s));
      });
      const onError = (e) => {
        clearTimeout(t);
        reject(e);
      };
      s.once('error', onError);
    });
  }

  /** Writes the bytes; resolves with the raw bytes of the next response not yet claimed. */
  request(bytes) {
    const p = new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.error || this.ended || this.closed) this.fail(this.error ?? new Error('the connection is closed'));
    else this.socket.write(bytes);
    return p;
  }

  onData(d) {
    this.bytes += d.length;
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    for (;;) {
      const headEnd = this.buf.indexOf(CRLF2);
      if (headEnd < 0) return;
      const head = this.buf.toString('latin1', 0, headEnd);
      const status = Number(head.slice(9, 12));
      const m = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (!m && status !== 204 && status !== 304) {
        this.fail(new Error(`a response without Content-Length: ${JSON.stringify(head)}`));
        this.socket.destroy();
        return;
      }
      const end = headEnd + 4 + (m ? Number(m[1]) : 0);
      if (this.buf.length < end) return;
      const raw = this.buf.toString('latin1', 0, end);
      this.buf = this.buf.subarray(end);
      this.responses++;
      const w = this.waiters.shift();
      if (w) w.resolve(raw);
      else {
        this.fail(new Error(`an unexpected response: ${JSON.stringify(raw.slice(0, 200))}`));
        this.socket.destroy();
        return;
      }
    }
  }

  fail(e) {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.reject(e);
  }

  /** The bytes received and not yet claimed by a request (e.g. a 503 that arrived before any request). */
  get rest() {
    return this.buf.toString('latin1');
  }

  destroy() {
    this.socket.destroy();
  }
}

/**
 * Opens n connections, `wave` connects in flight at a time, and resolves when every one is connected (they all
 * stay open); `afterWave(opened)` (optional, async) runs between waves. A burst larger than the listen backlog
 * (511, node's default) overflows the accept queue when the server does not accept during it (the inline model
 * shares the client's thread: a client-side connect completes without the server running), and the kernel then
 * drops handshakes that wait for retransmits (1 s, 3 s, 7 s, ...): waves, each accepted before the next
 * (afterWave), avoid that. Rejects with the first failure after all have settled (nothing is left half open).
 * @param {number} port
 * @param {number} n
 * @param {{ timeoutMs?: number, wave?: number, afterWave?: (opened: number) => Promise<unknown> }} [options]
 */
export async function openMany(port, n, { timeoutMs = 15000, wave = 250, afterWave } = {}) {
  const settled = [];
  for (let i = 0; i < n; i += wave) {
    const k = Math.min(wave, n - i);
    settled.push(...await Promise.allSettled(Array.from({ length: k }, () => Conn.connect(port, timeoutMs))));
    if (afterWave) await afterWave(settled.length);
  }
  const conns = settled.filter((s) => s.status === 'fulfilled').map((s) => s.value);
  const failed = settled.filter((s) => s.status === 'rejected');
  if (failed.length > 0) {
    for (const c of conns) c.destroy();
    const e = new Error(`${failed.length} of ${n} connects failed; first: ${failed[0].reason?.message}`);
    e.cause = failed[0].reason;
    throw e;
  }
  return conns;
}

/** Resolves once every connection is closed (each destroyed first). */
export async function closeAll(conns) {
  await Promise.all(conns.map((c) => new Promise((resolve) => {
    if (c.closed) return resolve();
    c.socket.once('close', resolve);
    c.destroy();
  })));
}

/**
 * Sends `requests` requests on every connection (sequentially on each, all connections at once, or `pipeline` at a
 * time per connection), `target(i, j)` naming request j of connection i. `check(raw, i, j)` returns an error
 * message or undefined. Resolves with { responses, errors: [{ conn, request, message }] } (errors capped at 20).
 */
export async function exerciseAll(conns, requests, target, check, pipeline = 1) {
  let responses = 0;
  let errorCount = 0;
  const errors = [];
  const note = (conn, request, message) => {
    errorCount++;
    if (errors.length < 20) errors.push({ conn, request, message });
  };
  await Promise.all(conns.map(async (c, i) => {
    for (let j = 0; j < requests; j += pipeline) {
      const batch = [];
      for (let k = j; k < Math.min(requests, j + pipeline); k++) batch.push(c.request(getRequest(target(i, k))));
      for (let k = 0; k < batch.length; k++) {
        try {
          const raw = await batch[k];
          const bad = check(raw, i, j + k);
          if (bad) note(i, j + k, bad);
          else responses++;
        } catch (e) {
          note(i, j + k, e.message);
          for (let r = k + 1; r < batch.length; r++) batch[r].catch(() => {});
          return;  // this connection is broken: its remaining requests are not sent
        }
      }
    }
  }));
  return { responses, errorCount, errors };
}

// ---------------------------------------------------------------------------------------------------------------
// Child-process mode: the busy load of test/timers-accuracy.test.ts. argv: <port> <connections>. Each connection
// sends GET /busy/<i> again as soon as the previous response arrived, until the parent says 'stop'. Messages:
// parent -> { cmd: 'mark' } (reset the per-connection counters) | { cmd: 'report' } | { cmd: 'stop' };
// child -> { ready: true } once every connection is open and has one answer | { counts, errors } for 'report'.
async function runBusyChild(port, n) {
  const conns = await openMany(port, n, { afterWave: () => new Promise((r) => setTimeout(r, 20)) });
  let counts = new Array(n).fill(0);
  let errors = 0;
  let stopping = false;
  let firstError = '';
  const loops = conns.map(async (c, i) => {
    const req = getRequest(`/busy/${i}`);
    while (!stopping) {
      try {
        await c.request(req);
        counts[i]++;
      } catch (e) {
        if (!stopping) {
          errors++;
          firstError ||= e.message;
        }
        return;
      }
    }
  });
  while (counts.some((x) => x === 0) && errors === 0) await new Promise((r) => setTimeout(r, 10));
  process.send({ ready: true, errors, firstError });
  process.on('message', async (m) => {
    if (m.cmd === 'mark') counts = new Array(n).fill(0);
    else if (m.cmd === 'report') process.send({ counts, errors, firstError });
    else if (m.cmd === 'stop') {
      stopping = true;
      await closeAll(conns);
      await Promise.allSettled(loops);
      process.exit(0);
    }
  });
}

if (process.send && process.argv[2] === 'busy') {
  runBusyChild(Number(process.argv[3]), Number(process.argv[4])).catch((e) => {
    process.send({ fatal: e.message });
    process.exit(1);
  });
}
