// A nova-http server in a child process of its own, so that a test can read the server's RSS without its own
// clients' memory in it (test/backpressure.test.ts, test/stress/connections-10k.mjs). Started with fork():
//   fork('test/stress/server-child.mjs', [JSON.stringify({ options, backlog })])
// It sends { listening: port }, then answers { id, cmd, ... } messages with { id, ...result }:
//   rss         -> { rss, peak }   current RSS and the highest RSS sampled (every 10 ms) since the last 'peak-reset'
//   peak-reset  -> { rss }
//   stats       -> server.stats()
//   state       -> the counters of the /big and /upload handlers below
//   release     -> lets every /hold request answer
//   close       -> server.close() (the reply comes with 'close'), then the process exits
// Handlers, by path:
//   /big?bytes=N&chunk=C  N bytes (Content-Length set) written C at a time with write(); on false it waits for
//                         'drain'. One chunk buffer is reused, so the server's own garbage does not grow the RSS.
//   /upload?pauseEvery=B&pauseMs=M  reads the body, pausing M ms after every B bytes; answers the byte count.
//   /hold                 answers 'held' after a 'release' message
//   anything else         echoes the path
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { createServer } = require(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/index.js'));

const { options = {}, backlog = 511 } = JSON.parse(process.argv[2] ?? '{}');

const state = {
  big: { started: 0, sent: 0, falses: 0, drains: 0, ended: 0, finished: 0 },
  upload: { started: 0, received: 0, pauses: 0, ended: 0 },
};
let releaseHeld;
let held = new Promise((r) => (releaseHeld = r));

let peak = process.memoryUsage.rss();
const sampler = setInterval(() => {
  const r = process.memoryUsage.rss();
  if (r > peak) peak = r;
}, 10);

async function big(res, total, chunkSize) {
  const b = state.big;
  b.started++;
  const chunk = Buffer.alloc(chunkSize, 0x61);
  res.setHeader('Content-Length', String(total));
  res.on('finish', () => b.finished++);
  let sent = 0;
  while (sent < total) {
    const n = Math.min(chunkSize, total - sent);
    const ok = res.write(n === chunkSize ? chunk : chunk.subarray(0, n));
    sent += n;
    b.sent += n;
    if (!ok) {
      b.falses++;
      await new Promise((resolve) => res.once('drain', resolve));
      b.drains++;
    }
  }
  res.end();
  b.ended++;
}

function upload(req, res, pauseEvery, pauseMs) {
  const u = state.upload;
  u.started++;
  let received = 0;
  let sincePause = 0;
  req.on('data', (d) => {
    received += d.length;
    u.received += d.length;
    sincePause += d.length;
    if (sincePause >= pauseEvery) {
      sincePause = 0;
      u.pauses++;
      req.pause();
      setTimeout(() => req.resume(), pauseMs);
    }
  });
  req.on('end', () => {
    u.ended++;
    res.end(String(received));
  });
}

const server = createServer(options, (req, res) => {
  const url = new URL(req.url, 'http://x');
  const num = (k, d) => (url.searchParams.has(k) ? Number(url.searchParams.get(k)) : d);
  if (url.pathname === '/big') return void big(res, num('bytes', 50 << 20), num('chunk', 64 << 10));
  if (url.pathname === '/upload') return upload(req, res, num('pauseEvery', 16 << 20), num('pauseMs', 50));
  if (url.pathname === '/hold') return void held.then(() => res.end('held'));
  res.end(req.url);
});

process.on('message', (m) => {
  const reply = (r) => process.send({ id: m.id, ...r });
  switch (m.cmd) {
    case 'rss':
      return reply({ rss: process.memoryUsage.rss(), peak });
    case 'peak-reset':
      peak = process.memoryUsage.rss();
      return reply({ rss: peak });
    case 'stats':
      return reply(server.stats());
    case 'state':
      return reply(JSON.parse(JSON.stringify(state)));
    case 'release':
      releaseHeld();
      held = new Promise((r) => (releaseHeld = r));
      return reply({});
    case 'close':
      clearInterval(sampler);
      server.closeAllConnections();
      server.close(() => {
        reply({});
        process.disconnect();
      });
      return undefined;
    default:
      return reply({ error: `unknown command ${m.cmd}` });
  }
});

server.listen(0, '127.0.0.1', backlog, () => process.send({ listening: server.address().port }));
