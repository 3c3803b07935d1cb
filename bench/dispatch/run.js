#!/usr/bin/env node
'use strict';
// The JS side of a request, alone: batches of ready requests (64 by default) through the real Dispatcher,
// IncomingMessage and ServerResponse (dist/), with a fake native server and no sockets, so the JS thread's cost per
// request is its own number (the socket benchmarks mix it with the kernel's and the I/O thread's). Reports ns per
// request and JS heap bytes allocated per request for a few handlers. npm run bench:dispatch [-- options]
//   --batch=N       requests per batch (default 64)      --seconds=S   per measurement (default 1)
//   --repeat=N      measurements per case, median kept (default 5)
//   --cases=a,b     cases to run (default all)            --nova-root=DIR  another build's package root
//   --json          one JSON line instead of the table
const path = require('node:path');
const { spawnSync } = require('node:child_process');

// Allocation is read from V8's heap between explicit GCs: that needs --expose-gc and a young generation large
// enough from the start that no scavenge runs during a measured window. Re-run self with those flags.
const FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];
if (typeof global.gc !== 'function') {
  const r = spawnSync(process.execPath, [...FLAGS, __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const [k, v] = a.replace(/^--/, '').split(/=(.*)/s);
  return [k, v === undefined ? true : v];
}));
const BATCH = Number(args.batch ?? 64);
const SECONDS = Number(args.seconds ?? 1);
const REPEAT = Number(args.repeat ?? 5);
const root = path.resolve(args['nova-root'] ?? path.join(__dirname, '..', '..'));

// No addon: the loader's override (NOVA_HTTP_ADDON) points at a stub; the server below injects its own native.
process.env.NOVA_HTTP_ADDON = path.join(__dirname, 'no-addon.js');
const { Server } = require(path.join(root, 'dist', 'server.js'));
const contract = require(path.join(root, 'dist', 'contract.js'));

// The batch layout of lib/contract.ts (Ev.Request, RequestRec; its enums are erased at compile time, so the values
// are restated here and checked against the contract's recordEnd() below): [1, connId, seq, flags, methodOff,
// methodLen, urlOff, urlLen, headerCount, (nameOff, nameLen, valueOff, valueLen) x headerCount]; HTTP/1.1 = 1.
const EV_REQUEST = 1;
const V11 = 1;

// What wrk sends (its Host field only), and a browser-like head for the cases that read headers.
const HEADS = {
  wrk: 'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n',
  browser:
    'GET /api/items?page=2 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n' +
    'Accept: text/html,application/xhtml+xml\r\nAccept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, br\r\n' +
    'Cookie: a=1; b=2\r\nConnection: keep-alive\r\n\r\n',
};

// One batch as native builds it: every head's bytes back to back in `bytes`, one record per request in `meta`.
// Each request is on its own connection (as at keep-alive with many connections); seq grows per batch.
function makeBatch(head, n, seqBase) {
  const parts = [];
  const meta = [];
  let off = 0;
  for (let r = 0; r < n; r++) {
    const lines = head.split('\r\n');
    const [method, url] = lines[0].split(' ');
    meta.push(EV_REQUEST, r + 1, seqBase, V11, off, method.length, off + method.length + 1, url.length);
    const fields = lines.slice(1).filter(Boolean);
    meta.push(fields.length);
    let at = off + lines[0].length + 2;
    for (const f of fields) {
      const c = f.indexOf(':');
      const vs = f.slice(c + 1).search(/\S/) + c + 1;
      meta.push(at, c, at + vs, f.length - vs);
      at += f.length + 2;
    }
    parts.push(head);
    off += head.length;
  }
  const batch = { bytes: Buffer.from(parts.join(''), 'latin1'), meta: Uint32Array.from(meta) };
  let i = 0;
  for (let r = 0; r < n; r++) i = contract.recordEnd(batch.meta, i);
  if (i !== batch.meta.length) throw new Error('bench/dispatch: the batch layout disagrees with lib/contract.ts');
  return batch;
}

const BODY = 'Hello World';
const LEN = String(BODY.length);
const HELLO_HEADERS = { 'Content-Type': 'text/plain', 'Content-Length': LEN };

// The handlers: the bench's hello world, the same reading what a router reads, and the setHeader style.
const CASES = {
  hello: { head: 'wrk', handler: (req, res) => { res.writeHead(200, HELLO_HEADERS); res.end(BODY); } },
  'hello-end-only': { head: 'wrk', handler: (req, res) => { res.end(BODY); } },
  'read-headers': {
    head: 'browser',
    handler: (req, res) => {
      if (req.method !== 'GET' || req.url.length === 0 || req.headers.host === undefined) throw new Error('bad request');
      res.writeHead(200, HELLO_HEADERS);
      res.end(BODY);
    },
  },
  'set-header': {
    head: 'browser',
    handler: (req, res) => {
      res.statusCode = 200;
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('X-Request-Host', req.headers.host);
      res.end(BODY);
    },
  },
};

// A native server that does nothing: respond() returns 0 bytes queued, flush() is a call. Counting keeps the
// calls from being optimized away and checks every request was answered.
class FakeNative {
  constructor() { this.responds = 0; this.flushes = 0; }
  listen(host, port) { return { address: '127.0.0.1', family: 'IPv4', port: port || 40001 }; }
  respond() { this.responds++; return 0; }
  write() { return 0; }
  abort() {}
  flush() { this.flushes++; }
  pauseBody() {}
  resumeBody() {}
  wantDrain() { return true; }
  addresses(id) { return ['127.0.0.1', 40000 + id, '127.0.0.1', 40001]; }
  bytes() { return [0, 0]; }
  close() {}
  closeIdle() {}
  closeAll() {}
  stats() { return { accepted: 0, active: 0, idle: 0, requests: 0, closes: {} }; }
  ref() {}
  unref() {}
}

class BenchServer extends Server {
  _createNative(options, onBatch) {
    this.fake = new FakeNative();
    this.onBatch = onBatch;
    return this.fake;
  }
}

async function run(name) {
  const c = CASES[name];
  const server = new BenchServer(c.handler);
  server.listen(0, '127.0.0.1');
  const template = makeBatch(HEADS[c.head], BATCH, 0);
  let seq = 0;
  // A fresh bytes Buffer and meta array per batch, as the addon makes them (napi_create_buffer_copy and a new
  // Uint32Array): JS owns them after the call and slices headers from them lazily.
  const once = () => {
    const meta = template.meta.slice();
    for (let i = 2; i < meta.length; i += 9 + 4 * meta[i + 6]) meta[i] = seq;
    seq++;
    server.onBatch(Buffer.from(template.bytes), meta, meta.length);
  };
  for (let i = 0; i < 2000; i++) once();  // warm up (optimizing compilers)
  const times = [];
  const allocs = [];
  for (let r = 0; r < REPEAT; r++) {
    // Allocation: a window short enough that the young generation never fills (checked: no GC in it).
    global.gc();
    const w0 = performance.now();
    const h0 = process.memoryUsage().heapUsed;
    const k = 100;
    for (let i = 0; i < k; i++) once();
    const h1 = process.memoryUsage().heapUsed;
    const w1 = performance.now();
    await new Promise((r) => setImmediate(r));  // the observer's entries arrive asynchronously
    if (!gcs.some((e) => e.startTime >= w0 && e.startTime <= w1)) allocs.push((h1 - h0) / (k * BATCH));
    // Time: as many batches as fit in the window.
    global.gc();
    const t0 = process.hrtime.bigint();
    const end = t0 + BigInt(Math.round(SECONDS * 1e9));
    let n = 0;
    let t;
    do {
      for (let i = 0; i < 50; i++) once();
      n += 50;
      t = process.hrtime.bigint();
    } while (t < end);
    times.push(Number(t - t0) / (n * BATCH));
  }
  const answered = server.fake.responds === seq * BATCH;
  server.close();
  return { name, nsPerReq: median(times), nsMin: Math.min(...times), nsMax: Math.max(...times),
           heapBytesPerReq: allocs.length ? median(allocs) : null, answered,
           flushesPerBatch: server.fake.flushes / seq };
}

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s[s.length >> 1];
}

const gcs = [];
const { PerformanceObserver, performance } = require('node:perf_hooks');
new PerformanceObserver((list) => { gcs.push(...list.getEntries()); }).observe({ entryTypes: ['gc'] });

const names = args.cases ? String(args.cases).split(',') : Object.keys(CASES);
for (const n of names) if (!CASES[n]) throw new Error(`unknown case ${n} (known: ${Object.keys(CASES).join(', ')})`);
const results = [];
(async () => {
  for (const n of names) {
    results.push(await run(n));
    await new Promise((r) => setImmediate(r));  // let GC observer entries arrive between cases
  }
  if (args.json) {
    console.log(JSON.stringify({ batch: BATCH, node: process.version, results }));
    return;
  }
  console.log(`JS dispatch cost, ${BATCH} requests per batch, fake native, Node ${process.version} ` +
              `(median of ${REPEAT} x ${SECONDS} s)`);
  console.log('| case | ns/request (min-max) | JS heap bytes/request | flushes/batch |');
  console.log('|---|---:|---:|---:|');
  for (const r of results) {
    if (!r.answered) throw new Error(`${r.name}: not every request was answered`);
    console.log(`| ${r.name} | ${Math.round(r.nsPerReq)} (${Math.round(r.nsMin)}-${Math.round(r.nsMax)}) | ` +
                `${r.heapBytesPerReq == null ? '- (GC ran)' : Math.round(r.heapBytesPerReq)} | ${r.flushesPerBatch.toFixed(2)} |`);
  }
})();
