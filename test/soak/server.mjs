// A nova-http server in its own process, for the soak (test/soak/soak.mjs) and the hostile-client tests
// (test/helpers/hostile.ts): measuring RSS and open file descriptors is only honest when nothing else (the test
// runner, the clients' own sockets) lives in the same process.
//
// Started with child_process.fork(); options come as JSON in argv[2] (createServer() options; with
// "peer": "node:http" it serves the same routes with node:http instead, for side-by-side figures such as
// test/soak/hostile-rss.mjs). It answers on the IPC channel:
//   { type: 'listening', port, pid }                       once, after listen()
//   { id, type: 'stats' } -> { id, stats, rss, memory, fds, calls, smuggled }   server.stats(), own RSS, the rest
//                            of process.memoryUsage() and the fd count,
//                            handler calls so far, and the targets of dispatched requests whose path holds "smuggled"
//   { id, type: 'set', options } -> { id }                 server.<name> = value (deadlines on a live server)
//   { id, type: 'gc' } -> { id }                           global.gc() when started with --expose-gc
//   { id, type: 'close' } -> { id }                        server.close() after closeAllConnections(), then exit
// Routes (any method):
//   /big?n=BYTES[&chunk=BYTES]  streams n bytes with backpressure (write() false -> wait for 'drain')
//   /echo                       reads the body, answers "<length> <sum of bytes mod 2^32>"
//   /fixed?n=BYTES              answers n bytes in one end() (no backpressure: what most handlers do)
//   /slow?ms=N                  answers after N ms
//   anything else               reads the body, answers with the target
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = process.env.NOVA_ROOT || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const options = JSON.parse(process.argv[2] || '{}');
const peer = options.peer;
delete options.peer;
const { createServer } = peer === 'node:http'
  ? await import('node:http')
  : await import(path.join(root, 'dist/index.js'));
let calls = 0;
const fixedBodies = new Map();
const smuggled = [];

function countFds() {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

function drainBody(req, cb) {
  let n = 0;
  let sum = 0;
  req.on('data', (c) => {
    n += c.length;
    for (let i = 0; i < c.length; i++) sum = (sum + c[i]) >>> 0;
  });
  req.on('end', () => cb(n, sum));
  req.on('error', () => {});
}

const server = createServer(options, (req, res) => {
  calls++;
  const url = req.url;
  if (/smuggled/i.test(url) && smuggled.length < 1000) smuggled.push(`${req.method} ${url}`);
  res.on('error', () => {});
  const q = url.indexOf('?');
  const p = q < 0 ? url : url.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  if (p === '/big') {
    const total = Number(params.get('n') || 1 << 20);
    const chunk = Buffer.alloc(Number(params.get('chunk') || 64 * 1024), 0x62);
    let sent = 0;
    let stopped = false;
    res.on('close', () => (stopped = true));
    res.setHeader('Content-Length', String(total));
    const pump = () => {
      while (!stopped && sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return res.once('drain', pump);
      }
      if (!stopped) res.end();
    };
    drainBody(req, () => {});
    pump();
    return;
  }
  if (p === '/fixed') {
    const n = Number(params.get('n') || 1024);
    let body = fixedBodies.get(n);
    if (body === undefined) fixedBodies.set(n, (body = Buffer.alloc(n, 0x66)));
    drainBody(req, () => res.end(body));
    return;
  }
  if (p === '/slow') {
    drainBody(req, () => {});
    const t = setTimeout(() => res.end(url), Number(params.get('ms') || 100));
    res.on('close', () => clearTimeout(t));
    return;
  }
  if (p === '/echo') {
    drainBody(req, (n, sum) => res.end(`${n} ${sum}`));
    return;
  }
  drainBody(req, () => res.end(url));
});
server.on('clientError', () => {});
server.on('error', (e) => {
  console.error('soak server error:', e);
  process.exit(2);
});

process.on('message', (m) => {
  const reply = (extra = {}) => process.send({ id: m.id, ...extra });
  switch (m.type) {
    case 'stats':
      reply({
        stats: typeof server.stats === 'function' ? server.stats() : null,
        rss: process.memoryUsage().rss, memory: process.memoryUsage(), fds: countFds(), calls,
        smuggled: [...smuggled],
      });
      break;
    case 'set':
      for (const [k, v] of Object.entries(m.options)) server[k] = v;
      reply();
      break;
    case 'gc':
      if (typeof global.gc === 'function') global.gc();
      reply();
      break;
    case 'close':
      server.closeAllConnections();
      server.close(() => {
        reply();
        setTimeout(() => process.exit(0), 20);
      });
      break;
    default:
      reply({ error: `unknown message ${m.type}` });
  }
});
process.on('disconnect', () => process.exit(0)); // the parent went away: never outlive it

server.listen(0, '127.0.0.1', () => {
  process.send({ type: 'listening', port: server.address().port, pid: process.pid });
});
